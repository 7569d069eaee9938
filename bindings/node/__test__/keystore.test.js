'use strict'
// The key store from Node: every operation in its Promise form and its
// …Sync form, on the soft backend and on a SoftHSM2 token (PKCS#11), bad
// arguments, audit events and the audit log.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const { sealbox, openSoft, openPkcs11, rejects, throws, tempDir } = require('./helpers')

const { KeyStore } = sealbox

// Every method of a KeyStore (the package's class and the native class it
// extends), to check that the suites call each one (Promise and Sync
// forms) at least once.
const METHODS = (() => {
  const names = new Set()
  for (let p = KeyStore.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, n)
      if (n !== 'constructor' && typeof d.value === 'function') names.add(n)
    }
  }
  assert.ok(names.size > 50, `only ${names.size} KeyStore methods found`)
  // secrets.test.js calls these (and its own others): a suite of its own.
  for (const n of ['getResourcePolicy', 'putResourcePolicy', 'deleteResourcePolicy', 'tagSecret', 'untagSecret', 'updateSecret']) {
    names.delete(n)
    names.delete(`${n}Sync`)
  }
  return [...names]
})()
const called = new Set()

/** Records the methods called through it. */
function tracked(ks) {
  return new Proxy(ks, {
    get(target, name) {
      const v = target[name]
      if (typeof v !== 'function') return v
      called.add(name)
      return v.bind(target)
    },
  })
}

/** Calls the Promise form and the Sync form; `check` gets each result. */
async function both(ks, name, makeArgs, check) {
  const a = await ks[name](...makeArgs())
  await check(a, `${name} (Promise)`)
  const b = ks[`${name}Sync`](...makeArgs())
  assert.ok(!(b instanceof Promise), `${name}Sync must not return a Promise`)
  await check(b, `${name}Sync`)
}

/** Waits until `cond()` holds (audit events arrive through the event loop). */
async function until(cond, what) {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2))
  assert.ok(cond(), `timed out waiting for ${what}`)
}

const EC = { tenant: 'acme', purpose: 'tests' }
const msg = Buffer.from('a message to sign')

function suite(backend, open) {
  describe(`KeyStore on the ${backend} backend`, () => {
    let ks
    let handle
    before(async () => {
      handle = await open()
      ks = tracked(handle.ks)
    })

    it('reports its backend', () => {
      assert.equal(ks.backendKind, backend)
      assert.ok(ks.auditLogPath.endsWith('keys.db.audit.jsonl'))
      assert.equal(ks.auditLogLocation, ks.auditLogPath)
      // A SQLite store reads metadata every time (no propagation delay).
      assert.equal(ks.metadataCacheTtlMs(), 0)
    })

    it('creates, describes and lists keys', async () => {
      await both(
        ks,
        'createKey',
        () => [{ description: 'orders', tags: { team: 'payments' } }],
        (m) => {
          assert.match(m.keyId, /^[0-9a-f-]{36}$/)
          assert.equal(m.keySpec, 'AES_256')
          assert.equal(m.keyUsage, 'ENCRYPT_DECRYPT')
          assert.equal(m.keyState, 'Enabled')
          assert.equal(m.origin, 'SEALBOX')
          assert.equal(m.backend, backend)
          assert.equal(m.description, 'orders')
          assert.deepEqual(m.tags, { team: 'payments' })
          assert.ok(m.createdAt instanceof Date)
          assert.equal(m.versions.length, 1)
          assert.equal(m.primaryVersion, 1)
        },
      )
      const k = await ks.createKey({ alias: 'alias/list-me' })
      await both(ks, 'describeKey', () => ['alias/list-me'], (m) => {
        assert.equal(m.keyId, k.keyId)
        assert.deepEqual(m.aliases, ['alias/list-me'])
      })
      await both(ks, 'listKeys', () => [], (page) => {
        assert.ok(page.keys.length >= 3)
        assert.ok(page.keys.some((m) => m.keyId === k.keyId))
        assert.equal(page.nextMarker, undefined)
      })
      const first = await ks.listKeys({ limit: 1 })
      assert.equal(first.keys.length, 1)
      assert.equal(typeof first.nextMarker, 'string')
      const second = ks.listKeysSync({ limit: 1, marker: first.nextMarker })
      assert.notEqual(second.keys[0].keyId, first.keys[0].keyId)
      await rejects(ks.describeKey('alias/none'), 'ERR_SEALBOX_KEY_NOT_FOUND')
      throws(() => ks.describeKeySync('no-such-key'), 'ERR_SEALBOX_KEY_NOT_FOUND')
      await rejects(ks.createKey({ alias: 'alias/list-me' }), 'ERR_SEALBOX_ALREADY_EXISTS')
    })

    it('manages aliases, tags and descriptions', async () => {
      const a = await ks.createKey()
      const b = await ks.createKey()
      await both(ks, 'createAlias', () => [`alias/a-${Math.random().toString(36).slice(2)}`, a.keyId], (r) =>
        assert.equal(r, undefined),
      )
      await ks.createAlias('alias/moving', a.keyId)
      await both(ks, 'updateAlias', () => ['alias/moving', b.keyId], async () => {
        assert.equal((await ks.describeKey('alias/moving')).keyId, b.keyId)
      })
      await both(ks, 'listAliases', () => [], (list) => {
        assert.ok(list.some((e) => e.aliasName === 'alias/moving' && e.keyId === b.keyId))
      })
      await ks.deleteAlias('alias/moving')
      await rejects(ks.describeKey('alias/moving'), 'ERR_SEALBOX_KEY_NOT_FOUND')
      ks.createAliasSync('alias/moving2', a.keyId)
      ks.deleteAliasSync('alias/moving2')
      await rejects(ks.deleteAlias('alias/moving2'), 'ERR_SEALBOX_KEY_NOT_FOUND')
      await rejects(ks.createAlias('not-an-alias', a.keyId), 'ERR_SEALBOX_INVALID_ARGUMENT')

      await both(ks, 'tagKey', () => [a.keyId, { env: 'prod', owner: 'x' }], async () => {
        assert.deepEqual((await ks.describeKey(a.keyId)).tags, { env: 'prod', owner: 'x' })
      })
      await both(ks, 'untagKey', () => [a.keyId, ['owner']], async () => {
        assert.deepEqual((await ks.describeKey(a.keyId)).tags, { env: 'prod' })
      })
      await both(ks, 'updateKeyDescription', () => [a.keyId, 'new words'], async () => {
        assert.equal((await ks.describeKey(a.keyId)).description, 'new words')
      })
    })

    it('disables, enables, schedules and cancels deletion', async () => {
      const k = await ks.createKey()
      const blob = await ks.encrypt(k.keyId, Buffer.from('x'))
      await both(ks, 'disableKey', () => [k.keyId], (m) => assert.equal(m.keyState, 'Disabled'))
      await rejects(ks.encrypt(k.keyId, Buffer.from('x')), 'ERR_SEALBOX_KEY_DISABLED')
      await rejects(ks.decrypt(blob), 'ERR_SEALBOX_KEY_DISABLED')
      await both(ks, 'enableKey', () => [k.keyId], (m) => assert.equal(m.keyState, 'Enabled'))
      const inSevenDays = (m) => {
        assert.equal(m.keyState, 'PendingDeletion')
        const days = (m.deletionDate - Date.now()) / 86400000
        assert.ok(days > 6.9 && days < 7.1, `deletion in ${days} days`)
      }
      inSevenDays(await ks.scheduleKeyDeletion(k.keyId, 7))
      await rejects(ks.enableKey(k.keyId), 'ERR_SEALBOX_INVALID_KEY_STATE')
      await rejects(ks.encrypt(k.keyId, Buffer.from('x')), 'ERR_SEALBOX_KEY_DISABLED')
      assert.equal((await ks.cancelKeyDeletion(k.keyId)).keyState, 'Disabled')
      inSevenDays(ks.scheduleKeyDeletionSync(k.keyId, 7))
      assert.equal(ks.cancelKeyDeletionSync(k.keyId).keyState, 'Disabled')
      await rejects(ks.cancelKeyDeletion(k.keyId), 'ERR_SEALBOX_INVALID_KEY_STATE')
      await rejects(ks.scheduleKeyDeletion(k.keyId, 6), 'ERR_SEALBOX_INVALID_ARGUMENT')
      await rejects(ks.scheduleKeyDeletion(k.keyId, 31), 'ERR_SEALBOX_INVALID_ARGUMENT')
      const m = await ks.scheduleKeyDeletion(k.keyId)
      const days = (m.deletionDate - Date.now()) / 86400000
      assert.ok(days > 29.9 && days < 30.1, 'the default window is 30 days')
      await both(ks, 'purgeExpiredKeys', () => [], (ids) => assert.deepEqual(ids, []))
      assert.equal((await ks.describeKey(k.keyId)).keyState, 'PendingDeletion')
    })

    it('rotates keys; old ciphertext keeps decrypting', async () => {
      const k = await ks.createKey()
      const old = await ks.encrypt(k.keyId, Buffer.from('before rotation'), { encryptionContext: EC })
      let version = 1
      await both(ks, 'rotateKey', () => [k.keyId], (v) => {
        version += 1
        assert.equal(v, version)
      })
      const m = await ks.describeKey(k.keyId)
      assert.equal(m.primaryVersion, 3)
      assert.deepEqual(m.versions.map((v) => v.version), [1, 2, 3])
      assert.equal((await ks.decrypt(old, { encryptionContext: EC })).toString(), 'before rotation')
      await both(ks, 'enableKeyRotation', () => [k.keyId, 90], (m2) => {
        assert.equal(m2.rotationPeriodDays, 90)
        assert.ok(m2.nextRotationAt instanceof Date)
      })
      await both(ks, 'applyDueRotations', () => [], (n) => assert.equal(n, 0))
      await both(ks, 'disableKeyRotation', () => [k.keyId], (m2) => {
        assert.equal(m2.rotationPeriodDays, undefined)
      })
      const ec = await ks.createKey({ keySpec: 'ECC_NIST_P256' })
      await rejects(ks.rotateKey(ec.keyId), 'ERR_SEALBOX_UNSUPPORTED')
    })

    it('encrypts, decrypts and re-encrypts under an encryption context', async () => {
      const k = await ks.createKey({ alias: `alias/enc-${backend}` })
      const k2 = await ks.createKey()
      const pt = Buffer.from('4111 1111 1111 1111')
      await both(ks, 'encrypt', () => [`alias/enc-${backend}`, pt, { encryptionContext: EC }], async (blob) => {
        assert.ok(Buffer.isBuffer(blob))
        assert.deepEqual(await ks.decrypt(blob, { encryptionContext: EC }), pt)
      })
      const blob = ks.encryptSync(k.keyId, new Uint8Array(pt), { encryptionContext: EC })
      await both(ks, 'decrypt', () => [blob, { encryptionContext: EC }], (out) => assert.deepEqual(out, pt))
      // One opaque error for a wrong context, a flipped bit, a truncation.
      await rejects(ks.decrypt(blob, { encryptionContext: { tenant: 'other' } }), 'ERR_SEALBOX_DECRYPTION_FAILED')
      await rejects(ks.decrypt(blob), 'ERR_SEALBOX_DECRYPTION_FAILED')
      const flipped = Buffer.from(blob)
      flipped[flipped.length - 1] ^= 1
      await rejects(ks.decrypt(flipped, { encryptionContext: EC }), 'ERR_SEALBOX_DECRYPTION_FAILED')
      throws(() => ks.decryptSync(blob.subarray(0, 30), { encryptionContext: EC }), 'ERR_SEALBOX_DECRYPTION_FAILED')
      await rejects(ks.encrypt(k.keyId, Buffer.alloc(4097)), 'ERR_SEALBOX_INVALID_ARGUMENT')

      await both(
        ks,
        'reEncrypt',
        () => [blob, k2.keyId, { sourceEncryptionContext: EC, destinationEncryptionContext: { moved: 'yes' } }],
        async (moved) => {
          assert.deepEqual(await ks.decrypt(moved, { encryptionContext: { moved: 'yes' } }), pt)
          await rejects(ks.decrypt(moved, { encryptionContext: EC }), 'ERR_SEALBOX_DECRYPTION_FAILED')
        },
      )
      await rejects(ks.reEncrypt(blob, k2.keyId), 'ERR_SEALBOX_DECRYPTION_FAILED')

      // The key-store keyring: envelope encryption under this key.
      const keyring = ks.keyring(`alias/enc-${backend}`)
      assert.ok(keyring instanceof sealbox.KeyStoreKeyring)
      const message = await sealbox.encrypt(pt, { keyring, encryptionContext: EC })
      const res = await sealbox.decrypt(message, { keyring: new sealbox.KeyStoreKeyring(handle.ks, k.keyId) })
      assert.deepEqual(res.plaintext, pt)
      assert.deepEqual(res.encryptionContext, EC)
      await rejects(sealbox.decrypt(message, { keyring: ks.keyring(k2.keyId) }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    })

    it('generates data keys the caller can wipe', async () => {
      const k = await ks.createKey()
      await both(ks, 'generateDataKey', () => [k.keyId, { encryptionContext: EC }], async (dk) => {
        assert.ok(Buffer.isBuffer(dk.plaintext) && Buffer.isBuffer(dk.ciphertext))
        assert.equal(dk.plaintext.length, 32)
        assert.equal(dk.keyId, k.keyId)
        assert.equal(dk.keyVersion, 1)
        assert.deepEqual(await ks.decrypt(dk.ciphertext, { encryptionContext: EC }), dk.plaintext)
        dk.plaintext.fill(0)
        assert.ok(dk.plaintext.every((b) => b === 0))
      })
      const dk16 = await ks.generateDataKey(k.keyId, { numberOfBytes: 16 })
      assert.equal(dk16.plaintext.length, 16)
      await both(ks, 'generateDataKeyWithoutPlaintext', () => [k.keyId, { encryptionContext: EC, numberOfBytes: 64 }], async (ct) => {
        assert.ok(Buffer.isBuffer(ct))
        assert.equal((await ks.decrypt(ct, { encryptionContext: EC })).length, 64)
      })
      for (const bad of [0, 1025, 1.5, -1, Number.NaN]) {
        await rejects(ks.generateDataKey(k.keyId, { numberOfBytes: bad }), 'ERR_SEALBOX_INVALID_ARGUMENT')
      }
      const sig = await ks.createKey({ keySpec: 'ECC_NIST_P256' })
      await rejects(ks.generateDataKey(sig.keyId), 'ERR_SEALBOX_INVALID_KEY_USAGE')
    })

    it('ECC_NIST_P521 keys sign with ECDSA_SHA_512, checked by node:crypto', async () => {
      const k = await ks.createKey({ keySpec: 'ECC_NIST_P521' })
      const pub = crypto.createPublicKey({ key: await ks.getPublicKey(k.keyId), format: 'der', type: 'spki' })
      assert.equal(pub.asymmetricKeyDetails.namedCurve, 'secp521r1')
      await both(ks, 'sign', () => [k.keyId, msg, 'ECDSA_SHA_512'], (sig) => {
        assert.ok(crypto.verify('sha512', msg, pub, sig), 'node:crypto verifies the signature')
      })
      await rejects(ks.sign(k.keyId, msg, 'ECDSA_SHA_384'), 'ERR_SEALBOX_INVALID_KEY_USAGE')
      const theirs = crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' })
      const pkcs8 = theirs.privateKey.export({ format: 'der', type: 'pkcs8' })
      const imported = await ks.importKey(pkcs8, { keySpec: 'ECC_NIST_P521', keyUsage: 'SIGN_VERIFY' })
      assert.equal(await ks.verify(imported.keyId, msg, crypto.sign('sha512', msg, theirs.privateKey), 'ECDSA_SHA_512'), true)
    })

    it('ECC_SECG_P256K1 keys sign with ECDSA_SHA_256, checked by node:crypto', async () => {
      const k1 = await ks.createKey({ keySpec: 'ECC_SECG_P256K1' })
      assert.equal(k1.keyUsage, 'SIGN_VERIFY')
      const pub = crypto.createPublicKey({ key: await ks.getPublicKey(k1.keyId), format: 'der', type: 'spki' })
      assert.equal(pub.asymmetricKeyDetails.namedCurve, 'secp256k1')
      await both(ks, 'sign', () => [k1.keyId, msg, 'ECDSA_SHA_256'], (sig) => {
        assert.ok(crypto.verify('sha256', msg, pub, sig), 'node:crypto verifies the signature')
      })
      await rejects(ks.sign(k1.keyId, msg, 'ECDSA_SHA_384'), 'ERR_SEALBOX_INVALID_KEY_USAGE')
      const theirs = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
      const pkcs8 = theirs.privateKey.export({ format: 'der', type: 'pkcs8' })
      const imported = await ks.importKey(pkcs8, { keySpec: 'ECC_SECG_P256K1', keyUsage: 'SIGN_VERIFY' })
      for (let i = 0; i < 8; i++) {
        const nodeSig = crypto.sign('sha256', msg, theirs.privateKey)
        assert.equal(await ks.verify(imported.keyId, msg, nodeSig, 'ECDSA_SHA_256'), true)
      }
    })

    it('decryptForRecipient and generateDataKeyForRecipient: OpenSSL opens the CMS with the recipient key', async () => {
      const recipient = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
      const spki = recipient.publicKey.export({ format: 'der', type: 'spki' })
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealbox-recipient-'))
      const keyFile = path.join(dir, 'r.pem')
      fs.writeFileSync(keyFile, recipient.privateKey.export({ format: 'pem', type: 'pkcs8' }))
      const open = (cms) => {
        fs.writeFileSync(path.join(dir, 'c.der'), cms)
        return execFileSync('openssl', ['cms', '-decrypt', '-inform', 'DER', '-in', path.join(dir, 'c.der'), '-inkey', keyFile])
      }
      const k = await ks.createKey()
      const blob = await ks.encrypt(k.keyId, Buffer.from('for the enclave'), { encryptionContext: EC })
      const cms = await ks.decryptForRecipient(blob, spki, { encryptionContext: EC })
      assert.deepEqual(open(cms), Buffer.from('for the enclave'))
      assert.deepEqual(open(ks.decryptForRecipientSync(blob, spki, { encryptionContext: EC })), Buffer.from('for the enclave'))
      await both(ks, 'generateDataKeyForRecipient', () => [k.keyId, spki, { numberOfBytes: 32 }], async (dk) => {
        assert.deepEqual(open(dk.ciphertextForRecipient), await ks.decrypt(dk.ciphertext))
        assert.equal(dk.keyId, k.keyId)
      })
      await rejects(ks.decryptForRecipient(blob, spki), 'ERR_SEALBOX_DECRYPTION_FAILED')
      const ecSpki = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' })
      await rejects(ks.decryptForRecipient(blob, ecSpki, { encryptionContext: EC }), 'ERR_SEALBOX_INVALID_KEY')
      fs.rmSync(dir, { recursive: true })
    })

    it('imported material expires (validTo), is purged, deleted, and only the same material comes back', async () => {
      const material = crypto.randomBytes(32)
      await rejects(ks.importKey(material, { validTo: new Date(Date.now() - 5000) }), 'ERR_SEALBOX_INVALID_ARGUMENT')
      await rejects(ks.createKey({ validTo: new Date(Date.now() + 86400000) }), 'ERR_SEALBOX_INVALID_ARGUMENT')
      assert.throws(() => ks.importKeySync(material, { validTo: Date.now() + 86400000 }), /Date/)
      const validTo = new Date((Math.floor(Date.now() / 1000) + 2) * 1000)
      const md = await ks.importKey(material, { validTo })
      assert.equal(md.validTo.getTime(), validTo.getTime())
      assert.equal(md.versions[0].materialPresent, true)
      const blob = await ks.encrypt(md.keyId, Buffer.from('pan'))
      while (Date.now() < validTo.getTime() + 50) await new Promise((r) => setTimeout(r, 100))
      await rejects(ks.decrypt(blob), 'ERR_SEALBOX_KEY_DISABLED')
      assert.equal((await ks.describeKey(md.keyId)).keyState, 'PendingImport')
      assert.equal(ks.purgeExpiredMaterialSync(), 1)
      assert.equal(await ks.purgeExpiredMaterial(), 0)
      assert.equal(ks.describeKeySync(md.keyId).versions[0].materialPresent, false)
      await rejects(ks.importKeyMaterial(md.keyId, crypto.randomBytes(32)), 'ERR_SEALBOX_INVALID_KEY')
      const back = await ks.importKeyMaterial(md.keyId, material)
      assert.equal(back.keyState, 'Enabled')
      assert.equal(back.validTo, undefined)
      assert.deepEqual(await ks.decrypt(blob), Buffer.from('pan'))
      const rotated = ks.importKeyMaterialSync(md.keyId, crypto.randomBytes(32), { validTo: new Date(Date.now() + 86400000) })
      assert.equal(rotated.primaryVersion, 2)
      const gone = await ks.deleteImportedKeyMaterial(md.keyId)
      assert.equal(gone.keyState, 'PendingImport')
      assert.ok(gone.versions.every((v) => !v.materialPresent))
      await rejects(ks.encrypt(md.keyId, Buffer.from('x')), 'ERR_SEALBOX_KEY_DISABLED')
      const generated = await ks.createKey()
      await rejects(ks.deleteImportedKeyMaterial(generated.keyId), 'ERR_SEALBOX_UNSUPPORTED')
      ks.importKeyMaterialSync(md.keyId, material)
      assert.equal(ks.deleteImportedKeyMaterialSync(md.keyId).keyState, 'PendingImport')
    })

    it('ECC_NIST_EDWARDS25519 keys sign the message with ED25519_SHA_512, checked by node:crypto', async () => {
      const ed = await ks.createKey({ keySpec: 'ECC_NIST_EDWARDS25519' })
      assert.equal(ed.keyUsage, 'SIGN_VERIFY')
      const pub = crypto.createPublicKey({ key: await ks.getPublicKey(ed.keyId), format: 'der', type: 'spki' })
      assert.equal(pub.asymmetricKeyType, 'ed25519')
      await both(ks, 'sign', () => [ed.keyId, msg, 'ED25519_SHA_512'], (sig) => {
        assert.equal(sig.length, 64)
        assert.ok(crypto.verify(null, msg, pub, sig), 'node:crypto verifies the signature')
      })
      const sig = ks.signSync(ed.keyId, msg, 'ED25519_SHA_512')
      assert.equal(await ks.verify(ed.keyId, msg, sig, 'ED25519_SHA_512'), true)
      assert.equal(await ks.verify(ed.keyId, Buffer.from('other'), sig, 'ED25519_SHA_512'), false)
      const digest = crypto.createHash('sha512').update(msg).digest()
      await rejects(ks.sign(ed.keyId, digest, 'ED25519_SHA_512', 'DIGEST'), 'ERR_SEALBOX_INVALID_ARGUMENT')
      await rejects(ks.sign(ed.keyId, msg, 'ECDSA_SHA_512'), 'ERR_SEALBOX_INVALID_KEY_USAGE')
      // node's key, imported, signs exactly as node does (Ed25519 is deterministic).
      const theirs = crypto.generateKeyPairSync('ed25519')
      const pkcs8 = theirs.privateKey.export({ format: 'der', type: 'pkcs8' })
      const imported = await ks.importKey(pkcs8, { keySpec: 'ECC_NIST_EDWARDS25519' })
      assert.deepEqual(await ks.getPublicKey(imported.keyId), theirs.publicKey.export({ format: 'der', type: 'spki' }))
      assert.deepEqual(await ks.sign(imported.keyId, msg, 'ED25519_SHA_512'), crypto.sign(null, msg, theirs.privateKey))
      await rejects(ks.importKey(pkcs8, { keySpec: 'ECC_NIST_P256' }), 'ERR_SEALBOX_INVALID_KEY')
    })

    for (const [spec, publicLen, sigLen] of [['ML_DSA_44', 1312, 2420], ['ML_DSA_65', 1952, 3309], ['ML_DSA_87', 2592, 4627]]) {
      it(`${spec} keys sign with ML_DSA_SHAKE_256: RAW, and EXTERNAL_MU from a μ node:crypto computes`, async () => {
        if (backend === 'pkcs11') {
          // SoftHSM2 2.6 has no ML-DSA: a clear refusal naming the mechanism.
          await assert.rejects(ks.createKey({ keySpec: spec }), (e) =>
            e.code === 'ERR_SEALBOX_UNSUPPORTED_BY_HSM' && /CKM_ML_DSA_KEY_PAIR_GEN/.test(e.message))
          return
        }
        const k = await ks.createKey({ keySpec: spec })
        assert.equal(k.keyUsage, 'SIGN_VERIFY')
        const spki = await ks.getPublicKey(k.keyId)
        const pk = spki.subarray(spki.length - publicLen)
        await both(ks, 'sign', () => [k.keyId, msg, 'ML_DSA_SHAKE_256'], (sig) => assert.equal(sig.length, sigLen))
        const sig = ks.signSync(k.keyId, msg, 'ML_DSA_SHAKE_256')
        assert.equal(await ks.verify(k.keyId, msg, sig, 'ML_DSA_SHAKE_256'), true)
        assert.equal(await ks.verify(k.keyId, Buffer.from('other'), sig, 'ML_DSA_SHAKE_256'), false)
        // μ = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64) (FIPS 204, empty
        // context), computed here for a message larger than RAW allows.
        const big = crypto.randomBytes(100000)
        const tr = crypto.createHash('shake256', { outputLength: 64 }).update(pk).digest()
        const mu = crypto.createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0, 0])).update(big).digest()
        const byMu = await ks.sign(k.keyId, mu, 'ML_DSA_SHAKE_256', 'EXTERNAL_MU')
        assert.equal(ks.verifySync(k.keyId, mu, byMu, 'ML_DSA_SHAKE_256', 'EXTERNAL_MU'), true)
        // The signature of μ is the signature of the message itself.
        const trSmall = crypto.createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0, 0])).update(msg).digest()
        assert.equal(await ks.verify(k.keyId, trSmall, sig, 'ML_DSA_SHAKE_256', 'EXTERNAL_MU'), true)
        await rejects(ks.sign(k.keyId, big, 'ML_DSA_SHAKE_256'), 'ERR_SEALBOX_INVALID_ARGUMENT')
        await rejects(ks.sign(k.keyId, mu.subarray(1), 'ML_DSA_SHAKE_256', 'EXTERNAL_MU'), 'ERR_SEALBOX_INVALID_ARGUMENT')
        await rejects(ks.sign(k.keyId, mu, 'ML_DSA_SHAKE_256', 'DIGEST'), 'ERR_SEALBOX_INVALID_ARGUMENT')
        await rejects(ks.sign(k.keyId, msg, 'ECDSA_SHA_256'), 'ERR_SEALBOX_INVALID_KEY_USAGE')
      })
    }

    for (const [spec, curve] of [['ECC_NIST_P256', 'prime256v1'], ['ECC_NIST_P384', 'secp384r1'], ['ECC_NIST_P521', 'secp521r1']]) {
      it(`deriveSharedSecret on ${spec} agrees with node:crypto's ECDH`, async () => {
        const k = await ks.createKey({ keySpec: spec, keyUsage: 'KEY_AGREEMENT' })
        assert.equal(k.keyUsage, 'KEY_AGREEMENT')
        const ours = crypto.createPublicKey({ key: await ks.getPublicKey(k.keyId), format: 'der', type: 'spki' })
        const peer = crypto.generateKeyPairSync('ec', { namedCurve: curve })
        const peerSpki = peer.publicKey.export({ format: 'der', type: 'spki' })
        const expected = crypto.diffieHellman({ privateKey: peer.privateKey, publicKey: ours })
        await both(ks, 'deriveSharedSecret', () => [k.keyId, peerSpki], (secret) => {
          assert.deepEqual(secret, expected)
        })
        assert.deepEqual(await ks.deriveSharedSecret(k.keyId, peerSpki, 'ECDH'), expected)
        const other = crypto.generateKeyPairSync('ec', { namedCurve: curve === 'secp384r1' ? 'prime256v1' : 'secp384r1' })
        const otherSpki = other.publicKey.export({ format: 'der', type: 'spki' })
        await rejects(ks.deriveSharedSecret(k.keyId, otherSpki), 'ERR_SEALBOX_INVALID_ARGUMENT')
        await rejects(ks.deriveSharedSecret(k.keyId, Buffer.from('junk')), 'ERR_SEALBOX_INVALID_ARGUMENT')
        await rejects(ks.deriveSharedSecret(k.keyId, peerSpki, 'DH'), 'ERR_SEALBOX_INVALID_ARGUMENT')
        const signer = await ks.createKey({ keySpec: spec })
        await rejects(ks.deriveSharedSecret(signer.keyId, peerSpki), 'ERR_SEALBOX_INVALID_KEY_USAGE')
      })
    }

    it('ECC_NIST_P384 keys sign with ECDSA_SHA_384, checked by node:crypto', async () => {
      const ec = await ks.createKey({ keySpec: 'ECC_NIST_P384' })
      assert.equal(ec.keyUsage, 'SIGN_VERIFY')
      const pub = crypto.createPublicKey({ key: await ks.getPublicKey(ec.keyId), format: 'der', type: 'spki' })
      assert.equal(pub.asymmetricKeyDetails.namedCurve, 'secp384r1')
      await both(ks, 'sign', () => [ec.keyId, msg, 'ECDSA_SHA_384'], (sig) => {
        assert.ok(crypto.verify('sha384', msg, pub, sig), 'node:crypto verifies the signature')
      })
      const digest = crypto.createHash('sha384').update(msg).digest()
      const dsig = await ks.sign(ec.keyId, digest, 'ECDSA_SHA_384', 'DIGEST')
      assert.ok(crypto.verify('sha384', msg, pub, dsig))
      assert.equal(await ks.verify(ec.keyId, msg, dsig, 'ECDSA_SHA_384'), true)
      await rejects(ks.sign(ec.keyId, msg, 'ECDSA_SHA_256'), 'ERR_SEALBOX_INVALID_KEY_USAGE')
      // A key node makes, imported: node's signatures verify in sealbox.
      const theirs = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' })
      const pkcs8 = theirs.privateKey.export({ format: 'der', type: 'pkcs8' })
      const imported = await ks.importKey(pkcs8, { keySpec: 'ECC_NIST_P384', keyUsage: 'SIGN_VERIFY' })
      const nodeSig = crypto.sign('sha384', msg, theirs.privateKey)
      assert.equal(await ks.verify(imported.keyId, msg, nodeSig, 'ECDSA_SHA_384'), true)
      await rejects(ks.importKey(pkcs8, { keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' }), 'ERR_SEALBOX_INVALID_KEY')
    })

    it('signs and verifies (ECDSA P-256, RSA), checked by node:crypto', async () => {
      const ec = await ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' })
      const der = await ks.getPublicKey(ec.keyId)
      const pub = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' })
      await both(ks, 'getPublicKey', () => [ec.keyId], (d) => assert.deepEqual(d, der))
      await both(ks, 'getPublicKeyPem', () => [ec.keyId], (pem) => {
        assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/)
        assert.deepEqual(crypto.createPublicKey(pem).export({ format: 'der', type: 'spki' }), der)
      })
      await both(ks, 'sign', () => [ec.keyId, msg, 'ECDSA_SHA_256'], (sig) => {
        assert.ok(crypto.verify('sha256', msg, pub, sig), 'node:crypto verifies the signature')
      })
      const sig = await ks.sign(ec.keyId, msg, 'ECDSA_SHA_256')
      await both(ks, 'verify', () => [ec.keyId, msg, sig, 'ECDSA_SHA_256'], (ok) => assert.equal(ok, true))
      // A failed verify is `false`, not an exception.
      assert.equal(await ks.verify(ec.keyId, Buffer.from('another message'), sig, 'ECDSA_SHA_256'), false)
      assert.equal(ks.verifySync(ec.keyId, msg, Buffer.from('garbage'), 'ECDSA_SHA_256'), false)
      const digest = crypto.createHash('sha256').update(msg).digest()
      const dsig = await ks.sign(ec.keyId, digest, 'ECDSA_SHA_256', 'DIGEST')
      assert.ok(crypto.verify('sha256', msg, pub, dsig))
      assert.equal(await ks.verify(ec.keyId, digest, dsig, 'ECDSA_SHA_256', 'DIGEST'), true)
      await rejects(ks.sign(ec.keyId, Buffer.alloc(31), 'ECDSA_SHA_256', 'DIGEST'), 'ERR_SEALBOX_INVALID_ARGUMENT')
      await rejects(ks.sign(ec.keyId, msg, 'RSASSA_PSS_SHA_256'), 'ERR_SEALBOX_INVALID_KEY_USAGE')
      await rejects(ks.sign(ec.keyId, msg, 'ECDSA_SHA_999'), 'ERR_SEALBOX_INVALID_ARGUMENT')
      await rejects(ks.sign(ec.keyId, msg, 'ECDSA_SHA_256', 'HASHED'), 'ERR_SEALBOX_INVALID_ARGUMENT')

      const rsa = await ks.createKey({ keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' })
      const rsaPub = crypto.createPublicKey(await ks.getPublicKeyPem(rsa.keyId))
      const pss = await ks.sign(rsa.keyId, msg, 'RSASSA_PSS_SHA_256')
      assert.ok(
        crypto.verify('sha256', msg, { key: rsaPub, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, pss),
      )
      const v15 = ks.signSync(rsa.keyId, msg, 'RSASSA_PKCS1_V1_5_SHA_256')
      assert.ok(crypto.verify('sha256', msg, rsaPub, v15))
      assert.equal(await ks.verify(rsa.keyId, msg, v15, 'RSASSA_PKCS1_V1_5_SHA_256'), true)
      assert.equal(await ks.verify(rsa.keyId, msg, v15, 'RSASSA_PSS_SHA_256'), false)
    })

    it('encrypts and decrypts with RSA-OAEP', async () => {
      const rsa = await ks.createKey({ keySpec: 'RSA_2048' })
      const pub = crypto.createPublicKey(await ks.getPublicKeyPem(rsa.keyId))
      const secret = Buffer.from('wrapped by RSA')
      const sha1 = crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, secret)
      assert.deepEqual(await ks.decrypt(sha1, { keyId: rsa.keyId, algorithm: 'RSAES_OAEP_SHA_1' }), secret)
      const own = await ks.encrypt(rsa.keyId, secret, { algorithm: 'RSAES_OAEP_SHA_1' })
      assert.deepEqual(ks.decryptSync(own, { keyId: rsa.keyId, algorithm: 'RSAES_OAEP_SHA_1' }), secret)
      const sha256 = crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, secret)
      if (backend === 'pkcs11') {
        // SoftHSM2 2.6 does OAEP with SHA-1 only: a clear error, no fallback.
        await rejects(
          ks.decrypt(sha256, { keyId: rsa.keyId, algorithm: 'RSAES_OAEP_SHA_256' }),
          'ERR_SEALBOX_UNSUPPORTED_BY_HSM',
          /OAEP/,
        )
      } else {
        assert.deepEqual(await ks.decrypt(sha256, { keyId: rsa.keyId, algorithm: 'RSAES_OAEP_SHA_256' }), secret)
      }
      await rejects(ks.decrypt(sha1, { keyId: rsa.keyId }), 'ERR_SEALBOX_INVALID_ARGUMENT')
      await rejects(
        ks.decrypt(sha1, { keyId: rsa.keyId, algorithm: 'RSAES_OAEP_SHA_1', encryptionContext: EC }),
        'ERR_SEALBOX_INVALID_ARGUMENT',
      )
      const flipped = Buffer.from(sha1)
      flipped[10] ^= 1
      await rejects(ks.decrypt(flipped, { keyId: rsa.keyId, algorithm: 'RSAES_OAEP_SHA_1' }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    })

    it('generates and verifies MACs; random bytes', async () => {
      const h = await ks.createKey({ keySpec: 'HMAC_256' })
      let mac
      await both(ks, 'generateMac', () => [h.keyId, msg, 'HMAC_SHA_256'], (m) => {
        assert.equal(m.length, 32)
        if (mac) assert.deepEqual(m, mac)
        mac = m
      })
      await both(ks, 'verifyMac', () => [h.keyId, msg, mac, 'HMAC_SHA_256'], (ok) => assert.equal(ok, true))
      const bad = Buffer.from(mac)
      bad[0] ^= 1
      assert.equal(await ks.verifyMac(h.keyId, msg, bad, 'HMAC_SHA_256'), false)
      await rejects(ks.generateMac(h.keyId, msg, 'HMAC_SHA_512'), 'ERR_SEALBOX_INVALID_KEY_USAGE')
      await rejects(ks.generateMac(h.keyId, Buffer.alloc(4097), 'HMAC_SHA_256'), 'ERR_SEALBOX_INVALID_ARGUMENT')

      await both(ks, 'generateRandom', () => [48], (r) => assert.equal(r.length, 48))
      const a = await ks.generateRandom(32)
      const b = await ks.generateRandom(32)
      assert.notDeepEqual(a, b)
      for (const n of [0, 1025, 2.5, -3]) {
        await rejects(ks.generateRandom(n), 'ERR_SEALBOX_INVALID_ARGUMENT')
        throws(() => ks.generateRandomSync(n), 'ERR_SEALBOX_INVALID_ARGUMENT')
      }
    })

    it('imports key material (BYOK)', async () => {
      const material = crypto.randomBytes(32)
      await both(ks, 'importKey', () => [material, { description: 'imported' }], async (m) => {
        assert.equal(m.origin, 'EXTERNAL')
        const blob = await ks.encrypt(m.keyId, Buffer.from('byok'))
        assert.equal((await ks.decrypt(blob)).toString(), 'byok')
      })
      // The same material in the HMAC store computes the same MAC as node.
      const hm = await ks.importKey(material, { keySpec: 'HMAC_256' })
      const mac = await ks.generateMac(hm.keyId, msg, 'HMAC_SHA_256')
      assert.deepEqual(mac, crypto.createHmac('sha256', material).update(msg).digest())
      await rejects(ks.importKey(Buffer.alloc(31)), 'ERR_SEALBOX_INVALID_KEY')
    })

    for (const [spec, alg, len, hash] of [
      ['HMAC_224', 'HMAC_SHA_224', 28, 'sha224'],
      ['HMAC_384', 'HMAC_SHA_384', 48, 'sha384'],
    ]) {
      it(`${spec} keys compute ${alg} as node does`, async () => {
        const material = crypto.randomBytes(len)
        const k = await ks.importKey(material, { keySpec: spec })
        assert.equal(k.keySpec, spec)
        assert.equal(k.keyUsage, 'GENERATE_VERIFY_MAC')
        await both(ks, 'generateMac', () => [k.keyId, msg, alg], (m) => {
          assert.deepEqual(m, crypto.createHmac(hash, material).update(msg).digest())
        })
        const mac = ks.generateMacSync(k.keyId, msg, alg)
        assert.equal(await ks.verifyMac(k.keyId, msg, mac, alg), true)
        assert.equal(await ks.verifyMac(k.keyId, Buffer.from('other'), mac, alg), false)
        await rejects(ks.generateMac(k.keyId, msg, 'HMAC_SHA_512'), 'ERR_SEALBOX_INVALID_KEY_USAGE')
        await rejects(ks.importKey(Buffer.alloc(len - 1), { keySpec: spec }), 'ERR_SEALBOX_INVALID_KEY')
        const created = await ks.createKey({ keySpec: spec })
        assert.equal((await ks.generateMac(created.keyId, msg, alg)).length, len)
      })
    }

    it('applies key policies and grants (both forms; the scenarios are in access.test.js)', async () => {
      assert.equal(ks.principal, 'node-tests')
      const policy = (who) => ({
        Version: '2012-10-17',
        Statement: [{ Sid: 'Owner', Effect: 'Allow', Principal: { Sealbox: [who] }, Action: 'kms:*', Resource: '*' }],
      })
      const k = (await ks.createKey({ policy: policy('node-tests') })).keyId
      const reader = ks.asPrincipal('reader')
      assert.equal(reader.principal, 'reader')
      const blob = await ks.encrypt(k, Buffer.from('p'), { encryptionContext: EC })
      await rejects(reader.decrypt(blob, { encryptionContext: EC }), 'ERR_SEALBOX_ACCESS_DENIED')
      await both(ks, 'putKeyPolicy', () => [k, JSON.stringify(policy('node-tests'))], (r) => assert.equal(r, undefined))
      await both(ks, 'getKeyPolicy', () => [k], (p) => assert.deepEqual([].concat(p.Statement[0].Principal.Sealbox), ['node-tests']))
      const ids = []
      await both(ks, 'createGrant', () => [k, { granteePrincipal: 'reader', operations: ['Decrypt', 'RetireGrant'] }], (id) => ids.push(id))
      assert.equal(new Set(ids).size, 2)
      assert.equal((await reader.decrypt(blob, { encryptionContext: EC })).toString(), 'p')
      await both(ks, 'listGrants', () => [k], (gs) => assert.deepEqual(gs.map((g) => g.grantId).sort(), [...ids].sort()))
      let n = 0
      await both(ks, 'revokeGrant', () => [k, ids[n++]], (r) => assert.equal(r, undefined))
      await rejects(reader.decrypt(blob, { encryptionContext: EC }), 'ERR_SEALBOX_ACCESS_DENIED')
      const again = [await ks.createGrant(k, { granteePrincipal: 'reader', operations: ['RetireGrant'] }), ks.createGrantSync(k, { granteePrincipal: 'reader', operations: ['RetireGrant'] })]
      n = 0
      await both(ks, 'retireGrant', () => [k, again[n++]], (r) => assert.equal(r, undefined))
      assert.deepEqual(await ks.listGrants(k), [])
    })

    it('keeps secrets (both forms; the scenarios are in secrets.test.js)', async () => {
      const made = []
      let n = 0
      await both(ks, 'createSecret', () => [`cov/${n++}`, 'v1', { description: 'd' }], (r) => made.push(r))
      assert.deepEqual(made.map((r) => r.versionStages), [['CURRENT'], ['CURRENT']])
      await both(ks, 'getSecretValue', () => ['cov/0'], (r) => assert.equal(r.value, 'v1'))
      const put = []
      await both(ks, 'putSecretValue', () => ['cov/0', Buffer.from([1, 2]), { versionStages: ['PENDING'] }], (r) => put.push(r.versionId))
      // PENDING is on the second put's version: to the first, then back.
      const moves = [[put[0], put[1]], [put[1], put[0]]]
      n = 0
      await both(ks, 'updateSecretVersionStage', () => {
        const [to, from] = moves[n++]
        return ['cov/0', 'PENDING', { moveToVersionId: to, removeFromVersionId: from }]
      }, (vs) => assert.deepEqual(vs.find((v) => v.versionStages.includes('PENDING')).versionId, moves[n - 1][0]))
      assert.deepEqual((await ks.getSecretValue('cov/0', { versionStage: 'PENDING' })).value, Buffer.from([1, 2]))
      await both(ks, 'listSecrets', () => [], (l) => assert.ok(l.secrets.some((s) => s.name === 'cov/1')))
      await both(ks, 'listSecretVersionIds', () => ['cov/0', { includeDeprecated: true }], (vs) => assert.equal(vs.length, 3))
      await both(ks, 'describeSecret', () => ['cov/1'], (m) => assert.equal(m.description, 'd'))
      n = 0
      await both(ks, 'deleteSecret', () => [`cov/${n++}`, { recoveryWindowDays: 7 }], (d) => assert.ok(d instanceof Date))
      n = 0
      await both(ks, 'restoreSecret', () => [`cov/${n++}`], (m) => assert.equal(m.deletionDate, undefined))
      await both(ks, 'getRandomPassword', () => [{ passwordLength: 20 }], (p) => assert.equal(p.length, 20))
      const r = ks.rotateSecretSync('cov/1', { createSecret: () => 'v2', setSecret() {}, testSecret() {} })
      assert.equal(r.previousVersionId, made[1].versionId)
      assert.equal((await ks.getSecretValue('cov/1')).value, 'v2')
    })

    it('audits every operation: callback, log file, counts', async () => {
      const events = []
      ks.onAudit((e) => events.push(e))
      const k = await ks.createKey()
      await rejects(ks.describeKey('alias/missing-for-audit'), 'ERR_SEALBOX_KEY_NOT_FOUND')
      ks.encryptSync(k.keyId, Buffer.from('x'), { encryptionContext: EC })
      await until(() => events.length >= 3, 'three audit events')
      assert.deepEqual(
        events.slice(0, 3).map((e) => [e.operation, e.outcome]),
        [
          ['CreateKey', 'allowed'],
          ['DescribeKey', 'failed'],
          ['Encrypt', 'allowed'],
        ],
      )
      assert.equal(events[0].keyId, k.keyId)
      assert.equal(events[0].principal, 'node-tests')
      assert.match(events[1].error, /key not found/)
      assert.deepEqual(events[2].encryptionContext, EC)
      assert.equal(events[2].keyVersion, 1)
      assert.match(events[2].requestId, /^[0-9a-f-]{36}$/)
      assert.ok(ks.operationCount('CreateKey') >= 1)
      assert.equal(ks.operationCount('NoSuchOperation'), 0)

      await both(ks, 'verifyAuditLog', () => [], (r) => {
        assert.equal(r.ok, true)
        assert.ok(r.records > 10)
        assert.equal(r.firstError, undefined)
      })
      // The log's records: consecutive sequence numbers, chained lines.
      const all = await ks.auditRecords()
      assert.ok(all.length > 10)
      all.forEach((r, i) => {
        assert.equal(r.seq, all[0].seq + i)
        assert.equal(typeof JSON.parse(r.line).mac, 'string')
      })
      await both(ks, 'auditRecords', () => [all[2].seq, 3], (page) => {
        assert.deepEqual(page, all.slice(3, 6))
      })
      assert.deepEqual(ks.auditRecordsSync(undefined, 1), all.slice(0, 1))
      for (const [after, limit] of [[-1, 5], [1.5, 5], [0, 0], [0, -2], [0, NaN], [0, Infinity]]) {
        await rejects(ks.auditRecords(after, limit), 'ERR_SEALBOX_INVALID_ARGUMENT')
        throws(() => ks.auditRecordsSync(after, limit), 'ERR_SEALBOX_INVALID_ARGUMENT')
      }
    })

    it('rejects bad arguments with ERR_SEALBOX_INVALID_ARGUMENT, in both forms', async () => {
      const k = await ks.createKey()
      const cases = [
        ['encrypt', [k.keyId, 'not bytes']],
        ['encrypt', [k.keyId, 42]],
        ['encrypt', [42, Buffer.from('x')]],
        ['encrypt', [k.keyId, Buffer.from('x'), { encryptionContext: { a: 1 } }]],
        ['decrypt', [[1, 2, 3]]],
        ['createKey', [{ keySpec: 'AES_257' }]],
        ['createKey', [{ keyUsage: 'SIGN_VERIFY' }]],
        ['createKey', [{ alias: 'orders' }]],
        ['listKeys', [{ limit: 0 }]],
        ['listKeys', [{ limit: 1001 }]],
        ['sign', [k.keyId, msg]],
        ['tagKey', [k.keyId, 'tags']],
        ['tagKey', [k.keyId, ['a']]],
        ['decrypt', [Buffer.alloc(100), { encryptionContext: 'tenant=acme' }]],
        ['enableKeyRotation', [k.keyId, 0]],
        ['generateRandom', ['32']],
      ]
      for (const [name, args] of cases) {
        const what = `${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`
        let code = 'ERR_SEALBOX_INVALID_ARGUMENT'
        if (name === 'createKey' && args[0].keyUsage) code = 'ERR_SEALBOX_INVALID_KEY_USAGE'
        // The Promise form rejects (it does not throw) ...
        const p = ks[name](...args)
        assert.ok(p instanceof Promise, `${what} returns a Promise`)
        await rejects(p, code)
        // ... and the Sync form throws.
        throws(() => ks[`${name}Sync`](...args), code)
      }
      // Nothing was created by the rejected calls.
      const before = (await ks.listKeys()).keys.length
      await rejects(ks.createKey({ keySpec: 'AES_256', alias: 'alias/aws/reserved' }), 'ERR_SEALBOX_INVALID_ARGUMENT')
      assert.equal((await ks.listKeys()).keys.length, before)
    })

    it('detects an edited audit log', async () => {
      const file = ks.auditLogPath
      const lines = fs.readFileSync(file, 'utf8').split('\n')
      assert.ok(lines.length > 5)
      lines[2] = lines[2].replace('"node-tests"', '"mallory"')
      fs.writeFileSync(file, lines.join('\n'))
      const r = await ks.verifyAuditLog()
      assert.equal(r.ok, false)
      assert.equal(r.firstError.line, 3)
      assert.equal(typeof r.firstError.reason, 'string')
    })
  })
}

suite('soft', async () => openSoft())
suite('pkcs11', async () => openPkcs11())

describe('opening a key store', () => {
  it('opens in both forms and reopens with the same root key only', async () => {
    const { dir, rootPath, ks } = openSoft()
    const k = ks.createKeySync({ alias: 'alias/persist' })
    const blob = ks.encryptSync(k.keyId, Buffer.from('kept'))
    const db = path.join(dir, 'keys.db')
    const again = await KeyStore.open(db, { rootKey: sealbox.RootKey.fromFile(rootPath) })
    assert.equal((await again.decrypt(blob)).toString(), 'kept')
    await rejects(KeyStore.open(db, { rootKey: sealbox.RootKey.generate() }), 'ERR_SEALBOX_WRONG_ROOT_KEY')
    throws(() => KeyStore.openSync(db, { rootKey: sealbox.RootKey.generate() }), 'ERR_SEALBOX_WRONG_ROOT_KEY')
    const raw = crypto.randomBytes(32)
    const other = KeyStore.openSync(path.join(dir, 'other.db'), {
      rootKey: sealbox.RootKey.fromBytes(raw),
      auditLog: path.join(dir, 'custom-audit.jsonl'),
    })
    assert.equal(other.auditLogPath, path.join(dir, 'custom-audit.jsonl'))
    const bounded = KeyStore.openSync(path.join(dir, 'bounded.db'), {
      rootKey: sealbox.RootKey.generate(),
      metadataCacheTtlMs: 250,
    })
    assert.equal(bounded.metadataCacheTtlMs(), 250)
    process.env.SEALBOX_NODE_TEST_ROOT = raw.toString('hex')
    const viaEnv = KeyStore.openSync(path.join(dir, 'other.db'), {
      rootKey: sealbox.RootKey.fromEnv('SEALBOX_NODE_TEST_ROOT'),
      auditLog: path.join(dir, 'custom-audit.jsonl'),
    })
    assert.equal(viaEnv.backendKind, 'soft')
  })

  it('refuses bad options', async () => {
    const dir = tempDir('open')
    const db = path.join(dir, 'keys.db')
    await rejects(KeyStore.open(db, {}), 'ERR_SEALBOX_INVALID_ARGUMENT', /exactly one/)
    await rejects(KeyStore.open(db, { rootKey: 'secret' }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    await rejects(KeyStore.open(db, { rootKey: new sealbox.RawAesKeyring('n', 'k', Buffer.alloc(32)) }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => KeyStore.openSync(db), 'ERR_SEALBOX_INVALID_ARGUMENT')
    for (const ttl of [-1, -0.5, NaN, Infinity, -Infinity]) {
      await rejects(
        KeyStore.open(db, { rootKey: sealbox.RootKey.generate(), metadataCacheTtlMs: ttl }),
        'ERR_SEALBOX_INVALID_ARGUMENT',
        /metadataCacheTtlMs/,
      )
    }
    throws(() => sealbox.RootKey.fromBytes(Buffer.alloc(31)), 'ERR_SEALBOX_INVALID_KEY')
    const loose = path.join(dir, 'loose.key')
    fs.writeFileSync(loose, crypto.randomBytes(32).toString('hex'), { mode: 0o644 })
    throws(() => sealbox.RootKey.fromFile(loose), 'ERR_SEALBOX_INVALID_KEY', /chmod 600/)
    throws(() => sealbox.RootKey.fromEnv('SEALBOX_NODE_TEST_UNSET'), 'ERR_SEALBOX_INVALID_KEY')
    assert.throws(() => new KeyStore(), sealbox.SealboxError)
    assert.equal(fs.existsSync(db), false, 'nothing was created')
    await rejects(
      KeyStore.open(db, { pkcs11: { module: '/nonexistent/module.so', tokenLabel: 't', pin: '1234' } }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
      /does not exist/,
    )
  })

  it('opens a PKCS#11 store in both forms; a wrong PIN is refused', async () => {
    const { pkcs11Options } = require('./helpers')
    const dir = tempDir('hsm-open')
    const ks = KeyStore.openSync(path.join(dir, 'keys.db'), { pkcs11: { ...pkcs11Options(), pin: Buffer.from(pkcs11Options().pin) } })
    assert.equal(ks.backendKind, 'pkcs11')
    await rejects(
      KeyStore.open(path.join(dir, 'other.db'), { pkcs11: { ...pkcs11Options(), pin: '0000' } }),
      'ERR_SEALBOX_PKCS11_ERROR',
      /PIN/,
    )
    await rejects(
      KeyStore.open(path.join(dir, 'x.db'), { pkcs11: { ...pkcs11Options(), tokenLabel: undefined } }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
  })
})

describe('coverage', () => {
  it('called every KeyStore method (Promise and Sync forms)', () => {
    const missing = METHODS.filter((m) => !called.has(m))
    assert.deepEqual(missing, [], `KeyStore methods no test called: ${missing.join(', ')}`)
  })
})
