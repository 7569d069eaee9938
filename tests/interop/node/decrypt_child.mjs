// Helper for interop.test.mjs, not a test: decrypts one message whose data
// key is wrapped with RSA PKCS#1 v1.5. Node 20 allows that private-key
// operation only in a process started with --security-revert=CVE-2023-46809,
// so the test runs this file in such a child process.
//
// stdin: JSON {ct, out, meta, kind: "rsa"|"multi", namespace, aesName, rsaName,
//              aesKeyFile, privateKeyFile}
// Writes the plaintext to `out` and {suiteId, context} as JSON to `meta`
// (not stdout: Node prints its security-revert warning there).

import crypto from 'node:crypto'
import fs from 'node:fs'

import {
  CommitmentPolicy,
  MultiKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  RawRsaKeyringNode,
  buildClient,
} from '@aws-crypto/client-node'

const job = JSON.parse(fs.readFileSync(0, 'utf8'))
const rsa = new RawRsaKeyringNode({
  keyNamespace: job.namespace,
  keyName: job.rsaName,
  rsaKey: { privateKey: fs.readFileSync(job.privateKeyFile, 'utf8') },
  padding: crypto.constants.RSA_PKCS1_PADDING,
})
let keyring = rsa
if (job.kind === 'multi') {
  const aes = new RawAesKeyringNode({
    keyNamespace: job.namespace,
    keyName: job.aesName,
    unencryptedMasterKey: new Uint8Array(fs.readFileSync(job.aesKeyFile)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    utf8Sorting: true,
  })
  keyring = new MultiKeyringNode({ generator: aes, children: [rsa] })
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
