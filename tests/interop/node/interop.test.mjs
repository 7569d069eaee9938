// Live interoperability tests: sealbox <-> AWS Encryption SDK for JavaScript
// on Node (@aws-crypto/client-node), run with `node --test`.
//
// Every case runs in both directions:
//   sealbox->node  the sealbox example binary ($SEALBOX_ESDK_TOOL, built from
//                  core/examples/esdk_tool.rs) encrypts, the Node SDK decrypts;
//   node->sealbox  the Node SDK encrypts, the sealbox binary decrypts;
// and asserts the exact plaintext, the suite in the message header and the
// encryption context (the caller's pairs, plus the aws-crypto-public-key pair
// that the signing suite 0x0578 adds). Raw AES and raw RSA keys only: no AWS
// calls. Run through tests/interop/run.sh.

import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { AlgorithmSuiteIdentifier, CommitmentPolicy, buildClient } from '@aws-crypto/client-node'

import { multiKeyring, rawAesKeyring, rawRsaKeyring } from './keyrings.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const NAMESPACE = 'sealbox-interop-node'
const AES_NAME = 'aes-256-wrapping-key'
const RSA_NAME = 'rsa-2048-wrapping-key'
const PUBLIC_KEY_FIELD = 'aws-crypto-public-key'
const MIB = 1024 * 1024

const SUITE_COMMIT = 0x0478
const SUITE_COMMIT_SIG = 0x0578
const SUITES = [SUITE_COMMIT, SUITE_COMMIT_SIG]
// Signing suites -> length of the compressed public key in the context.
const SIGNING_SUITES = { 0x0578: 49, 0x0378: 49, 0x0346: 49, 0x0214: 33 }
const hex = (s) => '0x' + s.toString(16).padStart(4, '0')

const TOOL = process.env.SEALBOX_ESDK_TOOL
if (!TOOL || !fs.existsSync(TOOL)) {
  throw new Error('SEALBOX_ESDK_TOOL must name the built esdk_tool example (run tests/interop/run.sh)')
}

const strict = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
const legacy = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT)

const CONTEXT_SIMPLE = { purpose: 'interop', tenant: 'acme' }
const CONTEXT_UNICODE = {
  // Orders differently in UTF-8 bytes, in UTF-16 code units (U+FF21 vs a
  // supplementary-plane character) and in locale order (case).
  '\uff21-fullwidth': '\uff41',
  '\u{1f510}-lock': '\u{1d11e} clef',
  Zebra: 'upper case first in bytes',
  apple: 'lower case',
  '\u00fcn\u00efc\u00f6d\u00e9': '\u503c',
  '\u65e5\u672c\u8a9e': '\u30c6\u30b9\u30c8',
  'e\u0301': 'combining acute (not normalised)',
  '\u00e9': 'precomposed',
  'spaces and = signs': 'a = b; c',
}
const CONTEXT_MANY = Object.fromEntries(
  Array.from({ length: 100 }, (_, i) => [
    `key-${String(i).padStart(3, '0')}-${'x'.repeat(i % 7)}`,
    `value-${i}-${'y'.repeat(i % 11)}`,
  ]),
)
const CONTEXTS = { empty: {}, simple: CONTEXT_SIMPLE, unicode: CONTEXT_UNICODE, many100: CONTEXT_MANY }

// ---------------------------------------------------------------------------
// Keys and scratch space

let work
let keys
let caseNo = 0

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sealbox-interop-node-'))
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  keys = {
    aes: crypto.randomBytes(32),
    publicPem: publicKey,
    privatePem: privateKey,
    aesFile: path.join(work, 'aes.key'),
    publicFile: path.join(work, 'rsa_public.pem'),
    privateFile: path.join(work, 'rsa_private.pem'),
  }
  fs.writeFileSync(keys.aesFile, keys.aes)
  fs.writeFileSync(keys.publicFile, publicKey)
  fs.writeFileSync(keys.privateFile, privateKey)
})

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

function caseDir() {
  const d = path.join(work, `case-${++caseNo}`)
  fs.mkdirSync(d)
  return d
}

// ---------------------------------------------------------------------------
// The Node side

function aesKeyring(aesKey = keys.aes) {
  return rawAesKeyring(NAMESPACE, AES_NAME, aesKey)
}

function rsaKeyring(padding, encrypt) {
  const rsaKey = encrypt ? { publicKey: keys.publicPem } : { privateKey: keys.privatePem }
  return rawRsaKeyring(NAMESPACE, RSA_NAME, rsaKey, padding)
}

function keyring(kind, padding, encrypt) {
  if (kind === 'aes') return aesKeyring()
  if (kind === 'rsa') return rsaKeyring(padding, encrypt)
  if (kind === 'multi') return multiKeyring(aesKeyring(), rsaKeyring(padding, encrypt))
  throw new Error(`unknown keyring ${kind}`)
}

async function nodeEncrypt(pt, kind, padding, context, suite, frameLength, client = strict) {
  const { result } = await client.encrypt(keyring(kind, padding, true), pt, {
    encryptionContext: context,
    suiteId: suite,
    frameLength,
  })
  return result
}

// Node 20 refuses RSA PKCS#1 v1.5 private decryption (CVE-2023-46809, the
// Marvin attack) unless the process runs with --security-revert; so a PKCS1
// message is decrypted in a child process started with that flag.
function decryptInChild(ct, kind, padding) {
  const dir = caseDir()
  const ctFile = path.join(dir, 'ct')
  fs.writeFileSync(ctFile, ct)
  const r = spawnSync(
    process.execPath,
    ['--security-revert=CVE-2023-46809', path.join(HERE, 'decrypt_child.mjs')],
    {
      input: JSON.stringify({
        ct: ctFile,
        out: path.join(dir, 'pt'),
        meta: path.join(dir, 'meta.json'),
        kind,
        namespace: NAMESPACE,
        aesName: AES_NAME,
        rsaName: RSA_NAME,
        aesKeyFile: keys.aesFile,
        privateKeyFile: keys.privateFile,
      }),
      encoding: 'utf8',
    },
  )
  if (r.status !== 0) throw new Error(`child decrypt failed (${r.status}): ${r.stderr}`)
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'))
  return { plaintext: fs.readFileSync(path.join(dir, 'pt')), context: meta.context, suiteId: meta.suiteId }
}

async function nodeDecrypt(ct, kind, padding) {
  if (padding === 'PKCS1' && kind !== 'aes') return decryptInChild(ct, kind, padding)
  const { plaintext, messageHeader } = await strict.decrypt(keyring(kind, padding, false), ct)
  return { plaintext, context: { ...messageHeader.encryptionContext }, suiteId: messageHeader.suiteId }
}

// ---------------------------------------------------------------------------
// The sealbox side

function keyringArgs(kind, padding, encrypt, aesFile = keys.aesFile) {
  const args = ['--keyring', kind, '--namespace', NAMESPACE, '--aes-name', AES_NAME, '--rsa-name', RSA_NAME]
  if (kind === 'aes' || kind === 'multi') args.push('--aes-key', aesFile)
  if (kind === 'rsa' || kind === 'multi') {
    args.push('--rsa-padding', padding)
    if (encrypt) args.push('--rsa-public', keys.publicFile)
    else args.push('--rsa-private', keys.privateFile)
  }
  return args
}

function runTool(args) {
  return spawnSync(TOOL, args, { encoding: 'utf8', timeout: 300_000 })
}

function sealboxEncrypt(pt, kind, padding, context, suite, frameLength) {
  const dir = caseDir()
  const [ptFile, ctxFile, ctFile] = ['pt', 'ctx.json', 'ct'].map((f) => path.join(dir, f))
  fs.writeFileSync(ptFile, pt)
  fs.writeFileSync(ctxFile, JSON.stringify(context))
  const r = runTool([
    'encrypt',
    ...keyringArgs(kind, padding, true),
    '--suite', hex(suite),
    '--frame-length', String(frameLength),
    '--context-json', ctxFile,
    '--in', ptFile,
    '--out', ctFile,
  ])
  assert.equal(r.status, 0, `sealbox encrypt failed (${r.status}): ${r.stderr}`)
  return fs.readFileSync(ctFile)
}

function sealboxDecrypt(ct, kind, padding, expectedContext, { extra = [], aesFile } = {}) {
  const dir = caseDir()
  const [ctFile, expectFile, ptFile, ctxOut] = ['ct', 'expect.json', 'pt', 'ctx.json'].map((f) => path.join(dir, f))
  fs.writeFileSync(ctFile, ct)
  fs.writeFileSync(expectFile, JSON.stringify(expectedContext))
  const r = runTool([
    'decrypt',
    ...keyringArgs(kind, padding, false, aesFile),
    ...extra,
    '--context-json', expectFile,
    '--context-out', ctxOut,
    '--in', ctFile,
    '--out', ptFile,
  ])
  return {
    status: r.status,
    stderr: r.stderr,
    plaintext: fs.existsSync(ptFile) ? fs.readFileSync(ptFile) : null,
    context: fs.existsSync(ctxOut) ? JSON.parse(fs.readFileSync(ctxOut, 'utf8')) : null,
  }
}

// ---------------------------------------------------------------------------
// Assertions

function headerSuite(ct) {
  if (ct[0] === 0x02) return ct.readUInt16BE(1)
  assert.ok(ct[0] === 0x01 && ct[1] === 0x80, `not an ESDK message (starts ${ct.subarray(0, 4).toString('hex')})`)
  return ct.readUInt16BE(2)
}

function assertContext(actual, expected, suite) {
  const rest = { ...actual }
  if (suite in SIGNING_SUITES) {
    assert.ok(PUBLIC_KEY_FIELD in rest, 'signing suite without aws-crypto-public-key in the context')
    const pub = Buffer.from(rest[PUBLIC_KEY_FIELD], 'base64')
    assert.equal(pub.length, SIGNING_SUITES[suite])
    assert.ok(pub[0] === 2 || pub[0] === 3, 'not a compressed EC point')
    delete rest[PUBLIC_KEY_FIELD]
  } else {
    assert.ok(!(PUBLIC_KEY_FIELD in rest))
  }
  assert.deepStrictEqual(rest, expected)
}

function assertSameBytes(actual, expected) {
  assert.equal(actual.length, expected.length, 'plaintext length differs')
  assert.ok(Buffer.compare(actual, expected) === 0, 'plaintext differs')
}

function flip(ct, pos) {
  const b = Buffer.from(ct)
  b[pos] ^= 0x01
  return b
}

// Byte offsets of interesting fields of a version 2 framed message.
function flipPositions(ct) {
  assert.equal(ct[0], 0x02)
  let pos = 1 + 2 + 32 // version, suite, message id
  const aadLen = ct.readUInt16BE(pos)
  const context = pos + 2 + aadLen - 1 // last byte of the serialized context
  pos += 2 + aadLen
  pos += 2 // EDK count
  pos += 2 + ct.readUInt16BE(pos) // provider id
  pos += 2 + ct.readUInt16BE(pos) // provider info
  const edk = pos + 2 + ct.readUInt16BE(pos) - 1 // last byte of the first EDK's ciphertext
  pos += 2 + ct.readUInt16BE(pos)
  assert.ok(ct[pos] === 0x02 && ct.readUInt32BE(pos + 1) === 4096, 'header parse went astray')
  pos += 1 + 4 // content type (framed), frame length
  const body = pos + 32 + 16
  assert.equal(ct.readUInt32BE(body), 1, 'first frame must have sequence number 1')
  return {
    'message-id': 5,
    context,
    edk,
    commitment: pos + 31, // last byte of the key commitment
    'header-tag': pos + 32 + 15, // last byte of the header authentication tag
    'frame-seq': body + 3,
    middle: ct.length >> 1,
    last: ct.length - 1, // footer signature (0x0578) or final frame tag (0x0478)
  }
}

// ---------------------------------------------------------------------------
// Round trips

async function sealboxToNode(pt, encKind, decKind, padding, context, suite, frameLength = 4096) {
  const ct = sealboxEncrypt(pt, encKind, padding, context, suite, frameLength)
  assert.equal(headerSuite(ct), suite)
  const got = await nodeDecrypt(ct, decKind, padding)
  assert.equal(got.suiteId, suite)
  assertSameBytes(got.plaintext, pt)
  assertContext(got.context, context, suite)
  return ct
}

async function nodeToSealbox(pt, encKind, decKind, padding, context, suite, frameLength = 4096) {
  const ct = await nodeEncrypt(pt, encKind, padding, context, suite, frameLength)
  assert.equal(headerSuite(ct), suite)
  const r = sealboxDecrypt(ct, decKind, padding, context)
  assert.equal(r.status, 0, `sealbox decrypt failed (${r.status}): ${r.stderr}`)
  assertSameBytes(r.plaintext, pt)
  assertContext(r.context, context, suite)
  return ct
}

const DIRECTIONS = { 'sealbox->node': sealboxToNode, 'node->sealbox': nodeToSealbox }

// name -> [encrypting keyring, decrypting keyring, RSA padding]
const KEYRING_CASES = {
  aes: ['aes', 'aes', 'OAEP_SHA256_MGF1'],
  'rsa-oaep-sha256': ['rsa', 'rsa', 'OAEP_SHA256_MGF1'],
  'rsa-oaep-sha1': ['rsa', 'rsa', 'OAEP_SHA1_MGF1'],
  'rsa-pkcs1': ['rsa', 'rsa', 'PKCS1'],
  'multi->multi': ['multi', 'multi', 'OAEP_SHA256_MGF1'],
  'multi->aes-only': ['multi', 'aes', 'OAEP_SHA256_MGF1'],
  'multi->rsa-only': ['multi', 'rsa', 'OAEP_SHA256_MGF1'],
  'multi(pkcs1)->rsa-only': ['multi', 'rsa', 'PKCS1'],
}

describe('keyrings', () => {
  for (const [name, [encKind, decKind, padding]] of Object.entries(KEYRING_CASES)) {
    for (const suite of SUITES) {
      for (const [dir, roundTrip] of Object.entries(DIRECTIONS)) {
        it(`${name} ${hex(suite)} ${dir}`, async () => {
          await roundTrip(crypto.randomBytes(10_000), encKind, decKind, padding, CONTEXT_SIMPLE, suite)
        })
      }
    }
  }
})

describe('encryption contexts', () => {
  for (const [ctxName, context] of Object.entries(CONTEXTS)) {
    for (const kr of ['aes', 'multi->rsa-only']) {
      const [encKind, decKind, padding] = KEYRING_CASES[kr]
      for (const suite of SUITES) {
        for (const [dir, roundTrip] of Object.entries(DIRECTIONS)) {
          it(`${ctxName} ${kr} ${hex(suite)} ${dir}`, async () => {
            await roundTrip(crypto.randomBytes(5000), encKind, decKind, padding, context, suite)
          })
        }
      }
    }
  }
})

// name -> [payload size, frame length]
const SIZE_CASES = {
  '0B': [0, 4096],
  '1B': [1, 4096],
  '4095B': [4095, 4096],
  '4096B-one-frame': [4096, 4096],
  '4097B-one-over': [4097, 4096],
  '8192B-two-frames': [8192, 4096],
  '5MiB': [5 * MIB, 4096],
  '5MiB-frame-1MiB': [5 * MIB, MIB],
  '4097B-frame-1': [4097, 1],
  '0B-frame-1': [0, 1],
  '1000B-frame-100': [1000, 100],
}

describe('payload sizes and frame lengths', () => {
  const big = crypto.randomBytes(5 * MIB)
  for (const [name, [size, frameLength]] of Object.entries(SIZE_CASES)) {
    for (const suite of SUITES) {
      for (const [dir, roundTrip] of Object.entries(DIRECTIONS)) {
        it(`${name} ${hex(suite)} ${dir}`, async () => {
          const pt = size === big.length ? big : crypto.randomBytes(size)
          await roundTrip(pt, 'aes', 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE, suite, frameLength)
        })
      }
    }
  }
})

const FLIP_WHERE = ['message-id', 'context', 'edk', 'commitment', 'header-tag', 'frame-seq', 'middle', 'last']

describe('tampering', () => {
  for (const suite of SUITES) {
    for (const where of FLIP_WHERE) {
      it(`sealbox message with a flipped byte (${where}) ${hex(suite)} is rejected by Node`, async () => {
        const ct = await sealboxToNode(crypto.randomBytes(10_000), 'aes', 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE, suite)
        const bad = flip(ct, flipPositions(ct)[where])
        await assert.rejects(strict.decrypt(aesKeyring(), bad), (err) => err instanceof Error && !(err instanceof assert.AssertionError))
      })
      it(`Node message with a flipped byte (${where}) ${hex(suite)} is rejected by sealbox`, async () => {
        const ct = await nodeToSealbox(crypto.randomBytes(10_000), 'aes', 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE, suite)
        const r = sealboxDecrypt(flip(ct, flipPositions(ct)[where]), 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE)
        assert.equal(r.status, 1, `sealbox accepted a tampered message (status ${r.status})`)
        assert.ok(r.stderr.trim().length > 0, 'no message on stderr')
        assert.equal(r.plaintext, null, 'sealbox left plaintext of a rejected message behind')
      })
    }
  }
})

describe('sealbox refusals', () => {
  for (const suite of SUITES) {
    it(`wrong expected context ${hex(suite)}`, async () => {
      const ct = await nodeEncrypt(crypto.randomBytes(100), 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE, suite, 4096)
      const r = sealboxDecrypt(ct, 'aes', 'OAEP_SHA256_MGF1', { ...CONTEXT_SIMPLE, tenant: 'someone-else' })
      assert.equal(r.status, 1)
      assert.equal(r.plaintext, null)
    })
  }
  it('wrong AES key', async () => {
    const ct = await nodeEncrypt(crypto.randomBytes(100), 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE, SUITE_COMMIT, 4096)
    const other = path.join(caseDir(), 'other.key')
    fs.writeFileSync(other, crypto.randomBytes(32))
    const r = sealboxDecrypt(ct, 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE, { aesFile: other })
    assert.equal(r.status, 1)
    assert.equal(r.plaintext, null)
  })
})

// Version 1 (non-committing) messages: sealbox reads them for old data when
// the policy allows it, and refuses them under the default policy.
describe('version 1 messages', () => {
  for (const suite of [
    AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256,
    AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384,
  ]) {
    it(`sealbox reads ${hex(suite)} only when the policy allows`, async () => {
      const pt = crypto.randomBytes(9000)
      const ct = await nodeEncrypt(pt, 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE, suite, 4096, legacy)
      assert.equal(headerSuite(ct), suite)
      const refused = sealboxDecrypt(ct, 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE)
      assert.equal(refused.status, 1, 'the default policy must refuse non-committing suites')
      assert.equal(refused.plaintext, null)
      const r = sealboxDecrypt(ct, 'aes', 'OAEP_SHA256_MGF1', CONTEXT_SIMPLE, {
        extra: ['--commitment-policy', 'REQUIRE_ENCRYPT_ALLOW_DECRYPT'],
      })
      assert.equal(r.status, 0, r.stderr)
      assertSameBytes(r.plaintext, pt)
      assertContext(r.context, CONTEXT_SIMPLE, suite)
    })
  }
})
