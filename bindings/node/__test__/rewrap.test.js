'use strict'
// rewrap / rewrapSync: new encrypted data keys without re-encrypting the
// body; the result decrypts with the AWS Encryption SDK for JavaScript, a
// message from that SDK can be rewrapped, and refusals are clear.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')

const { aws, awsAesKeyring } = require('./aws')
const { sealbox } = require('./helpers')

const NS = 'sealbox-node-rewrap'
const OLD = crypto.randomBytes(32)
const NEW = crypto.randomBytes(32)
const EC = { tenant: 'acme' }
const oldKr = () => new sealbox.RawAesKeyring(NS, 'old', OLD)
const newKr = () => new sealbox.RawAesKeyring(NS, 'new', NEW)

describe('rewrap', () => {
  for (const suite of [0x0478, 0x0578]) {
    for (const size of [0, 1000, 300 * 1024 + 1]) {
      it(`suite 0x0${suite.toString(16)}, ${size} bytes: the AWS SDK opens the result with the new key only`, async () => {
        const pt = crypto.randomBytes(size)
        const ct = await sealbox.encrypt(pt, { keyring: oldKr(), encryptionContext: EC, algorithmSuite: suite })
        const re = await sealbox.rewrap(ct, { decryptWith: oldKr(), encryptWith: newKr(), encryptionContext: EC })
        assert.ok(Buffer.isBuffer(re))
        const { plaintext } = await aws.decrypt(awsAesKeyring(NS, 'new', NEW), re)
        assert.deepEqual(Buffer.from(plaintext), pt)
        await assert.rejects(aws.decrypt(awsAesKeyring(NS, 'old', OLD), re))
        await assert.rejects(sealbox.decrypt(re, { keyring: oldKr() }), { code: 'ERR_SEALBOX_DECRYPTION_FAILED' })
        assert.deepEqual(sealbox.rewrapSync(re, { decryptWith: newKr(), encryptWith: oldKr() }).length > 0, true)
      })
    }
  }

  it('a message from the AWS SDK, rewrapped', async () => {
    const pt = crypto.randomBytes(50_000)
    const { result } = await aws.encrypt(awsAesKeyring(NS, 'old', OLD), pt, { encryptionContext: EC })
    const re = sealbox.rewrapSync(result, { decryptWith: oldKr(), encryptWith: newKr() })
    const { plaintext } = await aws.decrypt(awsAesKeyring(NS, 'new', NEW), re)
    assert.deepEqual(Buffer.from(plaintext), pt)
  })

  it('drops a recipient; the body is unchanged', () => {
    const both = new sealbox.MultiKeyring(oldKr(), [newKr()])
    const pt = crypto.randomBytes(20_000)
    const ct = sealbox.encryptSync(pt, { keyring: both })
    const re = sealbox.rewrapSync(ct, { decryptWith: oldKr(), encryptWith: oldKr() })
    assert.throws(() => sealbox.decryptSync(re, { keyring: newKr() }), { code: 'ERR_SEALBOX_DECRYPTION_FAILED' })
    assert.deepEqual(sealbox.decryptSync(re, { keyring: oldKr() }).plaintext, pt)
    // The last 20,000 + frame bytes are the same body.
    assert.deepEqual(re.subarray(re.length - 20_000), ct.subarray(ct.length - 20_000))
  })

  it('refusals', async () => {
    const ct = sealbox.encryptSync(Buffer.alloc(5000, 1), { keyring: oldKr(), encryptionContext: EC, frameLength: 512 })
    const fails = (m, o, code) =>
      assert.throws(() => sealbox.rewrapSync(m, { decryptWith: oldKr(), encryptWith: newKr(), ...o }), { code })
    fails(ct, { decryptWith: newKr() }, 'ERR_SEALBOX_DECRYPTION_FAILED')
    fails(ct, { encryptionContext: { tenant: 'other' } }, 'ERR_SEALBOX_DECRYPTION_FAILED')
    fails(ct.subarray(0, ct.length - 1), {}, 'ERR_SEALBOX_DECRYPTION_FAILED')
    fails(Buffer.concat([ct, Buffer.alloc(1)]), {}, 'ERR_SEALBOX_DECRYPTION_FAILED')
    fails(ct, { encryptWith: 'new' }, 'ERR_SEALBOX_INVALID_ARGUMENT')
    fails(ct, { encryptWith: new sealbox.MultiKeyring(null, [oldKr(), newKr()]), maxEncryptedDataKeys: 1 }, 'ERR_SEALBOX_TOO_MANY_ENCRYPTED_DATA_KEYS')
    await assert.rejects(sealbox.rewrap(ct, { decryptWith: newKr(), encryptWith: newKr() }), { code: 'ERR_SEALBOX_DECRYPTION_FAILED' })
  })
})
