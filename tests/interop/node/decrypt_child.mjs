// Helper for interop.test.mjs, not a test: decrypts one message whose data
// key is wrapped with RSA PKCS#1 v1.5. Node 20 allows that private-key
// operation only in a process started with --security-revert=CVE-2023-46809,
// so the test runs this file in such a child process.
//
// stdin: JSON {ct, out, meta, kind: "rsa"|"multi", namespace, aesName, rsaName,
//              aesKeyFile, privateKeyFile}
// Writes the plaintext to `out` and {suiteId, context} as JSON to `meta`
// (not stdout: Node prints its security-revert warning there).

import fs from 'node:fs'

import { CommitmentPolicy, buildClient } from '@aws-crypto/client-node'

import { multiKeyring, rawAesKeyring, rawRsaKeyring } from './keyrings.mjs'

const job = JSON.parse(fs.readFileSync(0, 'utf8'))
const privateKey = { privateKey: fs.readFileSync(job.privateKeyFile, 'utf8') }
const rsa = rawRsaKeyring(job.namespace, job.rsaName, privateKey, 'PKCS1')
let keyring = rsa
if (job.kind === 'multi') {
  const aes = rawAesKeyring(job.namespace, job.aesName, fs.readFileSync(job.aesKeyFile))
  keyring = multiKeyring(aes, rsa)
}

const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
try {
  const { plaintext, messageHeader } = await decrypt(keyring, fs.readFileSync(job.ct))
  fs.writeFileSync(job.out, plaintext)
  fs.writeFileSync(job.meta, JSON.stringify({ suiteId: messageHeader.suiteId, context: messageHeader.encryptionContext }))
} catch (err) {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
}
