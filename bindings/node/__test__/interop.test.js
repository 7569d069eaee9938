'use strict'
// sealbox and the AWS Encryption SDK for JavaScript (@aws-crypto/client-node
// 5.0.2) in the same process, both directions: one-shot and streaming, raw
// AES and raw RSA keyrings, with and without the signing suite.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Readable } = require('node:stream')
const { pipeline } = require('node:stream/promises')

const { RawRsaKeyringNode } = require('@aws-crypto/client-node')

const { AWS_SUITES: SUITES, aws, awsAesKeyring } = require('./aws')
const { sealbox, sink } = require('./helpers')

const NAMESPACE = 'sealbox-node-interop'
const AES_NAME = 'aes-256'
const RSA_NAME = 'rsa-2048'
const wrappingKey = crypto.randomBytes(32)
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
})
// Orders differently in UTF-8 bytes and in UTF-16 / locale order.
const EC = { tenant: 'acme', '\uff21-fullwidth': '\uff41', '\u{1f510}-lock': 'clef', Zebra: 'Z', apple: 'a' }
const PUBLIC_KEY_FIELD = 'aws-crypto-public-key'

const awsAes = () => awsAesKeyring(NAMESPACE, AES_NAME, wrappingKey)
const sbAes = () => new sealbox.RawAesKeyring(NAMESPACE, AES_NAME, wrappingKey)
const awsRsa = () =>
  new RawRsaKeyringNode({
    keyNamespace: NAMESPACE,
    keyName: RSA_NAME,
    rsaKey: { publicKey, privateKey },
    padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: 'sha256',
  })
const sbRsa = () => new sealbox.RawRsaKeyring(NAMESPACE, RSA_NAME, { publicKeyPem: publicKey, privateKeyPem: privateKey })

function stripPublicKey(ec) {
  const { [PUBLIC_KEY_FIELD]: _, ...rest } = ec
  return rest
}

describe('interop with @aws-crypto/client-node', () => {
  for (const [name, awsKr, sbKr] of [
    ['raw AES', awsAes, sbAes],
    ['raw RSA (OAEP SHA-256)', awsRsa, sbRsa],
  ]) {
    // 10 KiB runs on the calling thread; 300 KiB on the pool (written
    // straight into the result Buffer for the unsigned suite).
    for (const [suite, size] of [[0x0478, 10 * 1024 + 3], [0x0578, 10 * 1024 + 3], [0x0478, 300 * 1024 + 1], [0x0578, 300 * 1024 + 1]]) {
      const label = `${name}, suite 0x0${suite.toString(16)}, ${size} bytes`
      const pt = crypto.randomBytes(size)

      it(`sealbox -> AWS SDK: ${label}`, async () => {
        const ct = await sealbox.encrypt(pt, { keyring: sbKr(), encryptionContext: EC, algorithmSuite: suite })
        const { plaintext, messageHeader } = await aws.decrypt(awsKr(), ct)
        assert.deepEqual(Buffer.from(plaintext), pt)
        assert.equal(messageHeader.suiteId, SUITES[suite])
        assert.deepEqual(stripPublicKey(messageHeader.encryptionContext), EC)
        assert.equal(PUBLIC_KEY_FIELD in messageHeader.encryptionContext, suite === 0x0578)
      })

      it(`AWS SDK -> sealbox: ${label}`, async () => {
        const { result } = await aws.encrypt(awsKr(), pt, { encryptionContext: EC, suiteId: SUITES[suite] })
        for (const res of [
          await sealbox.decrypt(result, { keyring: sbKr(), encryptionContext: EC }),
          sealbox.decryptSync(result, { keyring: sbKr() }),
        ]) {
          assert.deepEqual(res.plaintext, pt)
          assert.equal(res.algorithmSuite, suite)
          assert.deepEqual(stripPublicKey(res.encryptionContext), EC)
        }
        const bad = Buffer.from(result)
        bad[bad.length - 5] ^= 1
        await assert.rejects(sealbox.decrypt(bad, { keyring: sbKr() }), { code: 'ERR_SEALBOX_DECRYPTION_FAILED' })
      })
    }
  }

  it('streams both ways: sealbox stream -> AWS decryptStream, AWS encryptStream -> sealbox stream', async () => {
    const data = crypto.randomBytes(1024 * 1024 + 123)
    const sealed = sink()
    await pipeline(Readable.from([data.subarray(0, 300000), data.subarray(300000)]), sealbox.createEncryptStream({ keyring: sbAes(), encryptionContext: EC }), sealed)
    const awsOut = sink()
    await pipeline(Readable.from([sealed.data()]), aws.decryptUnsignedMessageStream(awsAes()), awsOut)
    assert.deepEqual(awsOut.data(), data)

    const awsSealed = sink()
    await pipeline(
      Readable.from([data]),
      aws.encryptStream(awsAes(), { encryptionContext: EC, suiteId: SUITES[0x0578] }),
      awsSealed,
    )
    const dec = sealbox.createDecryptStream({ keyring: sbAes(), encryptionContext: EC })
    const back = sink()
    await pipeline(Readable.from([awsSealed.data()]), dec, back)
    assert.deepEqual(back.data(), data)
    assert.ok(PUBLIC_KEY_FIELD in dec.encryptionContext)
  })

  it('a wrong context is refused on both sides', async () => {
    const ct = await sealbox.encrypt(Buffer.from('x'), { keyring: sbAes(), encryptionContext: EC })
    const tampered = Buffer.from(ct)
    // The AWS SDK cannot be told an expected context, so the context in the
    // header is changed instead: "acme" -> "acmf".
    const at = tampered.indexOf(Buffer.from('acme'))
    tampered[at + 3] ^= 0x03
    await assert.rejects(aws.decrypt(awsAes(), tampered))
    await assert.rejects(sealbox.decrypt(tampered, { keyring: sbAes() }), { code: 'ERR_SEALBOX_DECRYPTION_FAILED' })
  })
})
