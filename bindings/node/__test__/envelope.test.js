'use strict'
// Envelope encryption from Node: keyrings, the caching materials manager,
// encrypt/decrypt in both forms, errors, bad arguments, many concurrent
// Promises, and the panic boundary.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')

const { sealbox, openSoft, rejects, throws } = require('./helpers')

const fs = require('node:fs')
const path = require('node:path')

const {
  RawAesKeyring,
  RawRsaKeyring,
  RawEcdhKeyring,
  PqKeyring,
  MultiKeyring,
  CachingMaterialsManager,
  encrypt,
  encryptSync,
  decrypt,
  decryptSync,
} = sealbox

const wrappingKey = crypto.randomBytes(32)
const aes = () => new RawAesKeyring('node-tests', 'aes-key', wrappingKey)
const EC = { tenant: 'acme', 'order-id': '1234' }
const { publicKey: rsaPublicPem, privateKey: rsaPrivatePem } = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
})

describe('encrypt / decrypt', () => {
  it('round-trips in both forms, with the context and the suite in the result', async () => {
    const pt = crypto.randomBytes(10000)
    for (const algorithmSuite of [0x0478, 0x0578]) {
      const ct = await encrypt(pt, { keyring: aes(), encryptionContext: EC, algorithmSuite })
      assert.ok(Buffer.isBuffer(ct))
      for (const res of [await decrypt(ct, { keyring: aes() }), decryptSync(ct, { keyring: aes(), encryptionContext: EC })]) {
        assert.deepEqual(res.plaintext, pt)
        assert.equal(res.algorithmSuite, algorithmSuite)
        assert.equal(res.encryptionContext.tenant, 'acme')
        assert.equal('aws-crypto-public-key' in res.encryptionContext, algorithmSuite === 0x0578)
      }
      const ct2 = encryptSync(new Uint8Array(pt), { keyring: aes(), encryptionContext: EC, algorithmSuite, frameLength: 512 })
      assert.deepEqual((await decrypt(ct2, { keyring: aes() })).plaintext, pt)
    }
    const empty = encryptSync(Buffer.alloc(0), { keyring: aes() })
    assert.equal(decryptSync(empty, { keyring: aes() }).plaintext.length, 0)
  })

  it('fails decryption with one opaque error', async () => {
    const ct = await encrypt(Buffer.from('secret'), { keyring: aes(), encryptionContext: EC })
    const wrong = new RawAesKeyring('node-tests', 'aes-key', crypto.randomBytes(32))
    await rejects(decrypt(ct, { keyring: wrong }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    await rejects(decrypt(ct, { keyring: new RawAesKeyring('other-ns', 'aes-key', wrappingKey) }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    await rejects(decrypt(ct, { keyring: aes(), encryptionContext: { tenant: 'evil' } }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    for (const at of [10, ct.length >> 1, ct.length - 1]) {
      const bad = Buffer.from(ct)
      bad[at] ^= 0x40
      await rejects(decrypt(bad, { keyring: aes() }), 'ERR_SEALBOX_DECRYPTION_FAILED')
      throws(() => decryptSync(bad, { keyring: aes() }), 'ERR_SEALBOX_DECRYPTION_FAILED', /^decryption failed$/)
    }
    await rejects(decrypt(ct.subarray(0, ct.length - 1), { keyring: aes() }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    await rejects(decrypt(Buffer.concat([ct, Buffer.from([0])]), { keyring: aes() }), 'ERR_SEALBOX_DECRYPTION_FAILED')
  })

  it('authenticates required context keys without storing them', async () => {
    const ct = await encrypt(Buffer.from('x'), {
      keyring: aes(),
      encryptionContext: { tenant: 'acme', secretish: 'not stored' },
      requiredEncryptionContextKeys: ['secretish'],
    })
    assert.equal(ct.includes(Buffer.from('not stored')), false)
    await rejects(decrypt(ct, { keyring: aes() }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    const res = await decrypt(ct, { keyring: aes(), encryptionContext: { secretish: 'not stored' } })
    assert.equal(res.plaintext.toString(), 'x')
  })

  it('applies commitment policy and limits', async () => {
    await rejects(encrypt(Buffer.from('x'), { keyring: aes(), algorithmSuite: 0x0178 }), 'ERR_SEALBOX_COMMITMENT_POLICY_VIOLATION')
    const legacy = encryptSync(Buffer.from('old'), {
      keyring: aes(),
      algorithmSuite: 0x0178,
      commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT',
    })
    await assert.rejects(decrypt(legacy, { keyring: aes() }), sealbox.SealboxError)
    const ok = await decrypt(legacy, { keyring: aes(), commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
    assert.equal(ok.plaintext.toString(), 'old')
    assert.equal(ok.algorithmSuite, 0x0178)

    const three = new MultiKeyring(aes(), [aes(), aes()])
    await rejects(encrypt(Buffer.from('x'), { keyring: three, maxEncryptedDataKeys: 2 }), 'ERR_SEALBOX_TOO_MANY_ENCRYPTED_DATA_KEYS')
    const ct3 = await encrypt(Buffer.from('x'), { keyring: three })
    await rejects(decrypt(ct3, { keyring: aes(), maxEncryptedDataKeys: 2 }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    const big = await encrypt(Buffer.alloc(5000), { keyring: aes() })
    await rejects(decrypt(big, { keyring: aes(), maxBodySize: 4096 }), 'ERR_SEALBOX_MESSAGE_TOO_LARGE')
    assert.equal((await decrypt(big, { keyring: aes(), maxBodySize: 5000 })).plaintext.length, 5000)
  })
})

describe('keyrings', () => {
  it('raw RSA: encrypt with the public key, decrypt with the private key', async () => {
    for (const padding of ['OAEP_SHA256_MGF1', 'OAEP_SHA1_MGF1', 'PKCS1']) {
      const enc = new RawRsaKeyring('node-tests', 'rsa-key', { publicKeyPem: rsaPublicPem, padding })
      const dec = new RawRsaKeyring('node-tests', 'rsa-key', { privateKeyPem: rsaPrivatePem, padding })
      const ct = await encrypt(Buffer.from(padding), { keyring: enc })
      assert.equal((await decrypt(ct, { keyring: dec })).plaintext.toString(), padding)
      await rejects(decrypt(ct, { keyring: enc }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    }
    throws(() => new RawRsaKeyring('n', 'k', {}), 'ERR_SEALBOX_INVALID_KEY')
    throws(() => new RawRsaKeyring('n', 'k', { publicKeyPem: 'not pem' }), 'ERR_SEALBOX_INVALID_KEY')
    throws(() => new RawRsaKeyring('n', 'k', { publicKeyPem: rsaPublicPem, padding: 'OAEP_MD5' }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    throws(
      () =>
        new RawRsaKeyring('n', 'k', {
          publicKeyPem: other.publicKey.export({ type: 'spki', format: 'pem' }),
          privateKeyPem: rsaPrivatePem,
        }),
      'ERR_SEALBOX_INVALID_KEY',
    )
  })

  it('multi-keyring: any member decrypts; without a generator it only decrypts', async () => {
    const rsaEnc = new RawRsaKeyring('node-tests', 'rsa-key', { publicKeyPem: rsaPublicPem })
    const rsaDec = new RawRsaKeyring('node-tests', 'rsa-key', { privateKeyPem: rsaPrivatePem })
    const { ks } = openSoft()
    const key = ks.createKeySync({ alias: 'alias/multi' })
    const multi = new MultiKeyring(ks.keyring(key.keyId), [aes(), rsaEnc])
    const ct = await encrypt(Buffer.from('recoverable'), { keyring: multi, encryptionContext: EC })
    for (const kr of [aes(), rsaDec, ks.keyring('alias/multi'), new MultiKeyring(null, [rsaDec])]) {
      assert.equal((await decrypt(ct, { keyring: kr })).plaintext.toString(), 'recoverable')
    }
    await rejects(encrypt(Buffer.from('x'), { keyring: new MultiKeyring(null, [aes()]) }), 'ERR_SEALBOX_ENCRYPT_FAILED')
    throws(() => new MultiKeyring(null, []), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => new MultiKeyring(aes(), [aes(), {}]), 'ERR_SEALBOX_INVALID_ARGUMENT', /expected a keyring/)
    throws(() => new MultiKeyring('aes'), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })

  it('raw ECDH: every scheme on every curve, PEM or DER keys', async () => {
    for (const [curve, named] of [
      ['ECC_NIST_P256', 'prime256v1'],
      ['ECC_NIST_P384', 'secp384r1'],
      ['ECC_NIST_P521', 'secp521r1'],
    ]) {
      const pair = () => crypto.generateKeyPairSync('ec', { namedCurve: named })
      const alice = pair()
      const bob = pair()
      const pem = (k) => k.privateKey.export({ type: 'pkcs8', format: 'pem' })
      const der = (k) => k.publicKey.export({ type: 'spki', format: 'der' })
      const aliceToBob = new RawEcdhKeyring({
        scheme: 'RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY',
        curve,
        privateKey: pem(alice),
        publicKey: der(bob),
      })
      const bobToAlice = new RawEcdhKeyring({
        scheme: 'RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY',
        curve,
        privateKey: bob.privateKey.export({ type: 'pkcs8', format: 'der' }),
        publicKey: alice.publicKey.export({ type: 'spki', format: 'pem' }),
      })
      const ephemeral = new RawEcdhKeyring({ scheme: 'EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY', curve, publicKey: der(bob) })
      const bobDiscovery = new RawEcdhKeyring({ scheme: 'PUBLIC_KEY_DISCOVERY', curve, privateKey: pem(bob) })
      const aliceDiscovery = new RawEcdhKeyring({ scheme: 'PUBLIC_KEY_DISCOVERY', curve, privateKey: pem(alice) })
      assert.equal(bobDiscovery.kind, 'RawEcdhKeyring')
      const fromStatic = await encrypt(Buffer.from(curve), { keyring: aliceToBob, encryptionContext: EC })
      for (const kr of [bobDiscovery, bobToAlice, aliceToBob]) {
        assert.equal((await decrypt(fromStatic, { keyring: kr })).plaintext.toString(), curve)
      }
      await rejects(decrypt(fromStatic, { keyring: aliceDiscovery }), 'ERR_SEALBOX_DECRYPTION_FAILED')
      const fromEphemeral = encryptSync(Buffer.from(curve), { keyring: ephemeral })
      assert.equal(decryptSync(fromEphemeral, { keyring: bobDiscovery }).plaintext.toString(), curve)
      await rejects(decrypt(fromEphemeral, { keyring: ephemeral }), 'ERR_SEALBOX_DECRYPTION_FAILED')
      await rejects(encrypt(Buffer.from('x'), { keyring: bobDiscovery }), 'ERR_SEALBOX_ENCRYPT_FAILED')
      // In a multi-keyring beside raw AES, either opens the message.
      const both = await encrypt(Buffer.from('both'), { keyring: new MultiKeyring(aes(), [ephemeral]) })
      for (const kr of [aes(), bobDiscovery]) assert.equal((await decrypt(both, { keyring: kr })).plaintext.toString(), 'both')
    }
    const bob = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    const key = bob.privateKey.export({ type: 'pkcs8', format: 'pem' })
    throws(() => new RawEcdhKeyring({ scheme: 'STATIC', curve: 'ECC_NIST_P256', privateKey: key }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(
      () => new RawEcdhKeyring({ scheme: 'PUBLIC_KEY_DISCOVERY', curve: 'ECC_SECG_P256K1', privateKey: key }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
    throws(() => new RawEcdhKeyring({ scheme: 'PUBLIC_KEY_DISCOVERY', curve: 'ECC_NIST_P384', privateKey: key }), 'ERR_SEALBOX_INVALID_KEY')
    throws(
      () => new RawEcdhKeyring({ scheme: 'RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY', curve: 'ECC_NIST_P256', privateKey: key }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
    throws(() => new RawEcdhKeyring({ scheme: 'PUBLIC_KEY_DISCOVERY', curve: 'ECC_NIST_P256', privateKey: 42 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })

  it('raw ECDH: reads the AWS Encryption SDK (Dafny 4.1.0) raw ECDH vectors', async () => {
    // The vectors are beside the repository (../shared), as the core's suite reads them.
    const root = process.env.SEALBOX_VECTORS || path.join(__dirname, '..', '..', '..', '..', 'shared', 'vectors')
    const dir = path.join(root, 'esdk-dafny-4.1.0')
    const keys = JSON.parse(fs.readFileSync(path.join(dir, 'keys.json'), 'utf8')).keys
    const tests = JSON.parse(fs.readFileSync(path.join(dir, 'decrypt-manifest.json'), 'utf8')).tests
    const file = (uri) => fs.readFileSync(path.join(dir, uri.replace('file://', '')))
    let read = 0
    for (const t of Object.values(tests)) {
      const s = t['decryption-scenario']
      const d = s.decryptKeyDescription
      if (d.type !== 'raw-ecdh') continue
      const curve = { 'ecc-256': 'ECC_NIST_P256', 'ecc-384': 'ECC_NIST_P384', 'ecc-521': 'ECC_NIST_P521' }[d['ecc-curve']]
      const keyring =
        d.schema === 'discovery'
          ? new RawEcdhKeyring({ scheme: 'PUBLIC_KEY_DISCOVERY', curve, privateKey: keys[d.recipient]['recipient-material'] })
          : new RawEcdhKeyring({
              scheme: 'RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY',
              curve,
              privateKey: keys[d.sender]['sender-material'],
              publicKey: Buffer.from(keys[d.recipient][d['recipient-public-key']], 'base64'),
            })
      const r = decryptSync(file(s.ciphertext), { keyring, commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })
      assert.deepEqual(r.plaintext, file(s.result))
      read++
    }
    assert.equal(read, 99)
  })

  it('post-quantum: X-Wing key pairs, round trips, beside raw AES, bad keys', async () => {
    const { privateKey, publicKey } = PqKeyring.generateKeyPair()
    assert.equal(privateKey.length, 32)
    assert.equal(publicKey.length, 1216)
    const other = PqKeyring.generateKeyPair()
    const sender = new PqKeyring({ publicKey })
    const reader = new PqKeyring({ privateKey })
    assert.equal(reader.kind, 'PqKeyring')
    const ct = await encrypt(Buffer.from('post-quantum'), { keyring: sender, encryptionContext: EC })
    assert.equal((await decrypt(ct, { keyring: reader })).plaintext.toString(), 'post-quantum')
    assert.equal(decryptSync(ct, { keyring: new PqKeyring({ publicKey, privateKey }) }).plaintext.toString(), 'post-quantum')
    await rejects(decrypt(ct, { keyring: new PqKeyring({ privateKey: other.privateKey }) }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    await rejects(decrypt(ct, { keyring: sender }), 'ERR_SEALBOX_DECRYPTION_FAILED')
    const both = await encrypt(Buffer.from('either'), { keyring: new MultiKeyring(aes(), [sender]) })
    for (const kr of [aes(), reader]) assert.equal((await decrypt(both, { keyring: kr })).plaintext.toString(), 'either')
    throws(() => new PqKeyring({}), 'ERR_SEALBOX_INVALID_KEY')
    throws(() => new PqKeyring({ publicKey: publicKey.subarray(1) }), 'ERR_SEALBOX_INVALID_KEY')
    throws(() => new PqKeyring({ privateKey: Buffer.alloc(31) }), 'ERR_SEALBOX_INVALID_KEY')
    throws(() => new PqKeyring({ publicKey, privateKey: other.privateKey }), 'ERR_SEALBOX_INVALID_KEY')
    throws(() => new PqKeyring({ publicKey: 'text' }), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })

  it('raw AES: refuses bad keys and reserved namespaces', () => {
    for (const n of [0, 15, 33]) throws(() => new RawAesKeyring('n', 'k', Buffer.alloc(n)), 'ERR_SEALBOX_INVALID_KEY')
    throws(() => new RawAesKeyring('aws-kms', 'k', wrappingKey), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => new RawAesKeyring('n', 'k', 'a string key'), 'ERR_SEALBOX_INVALID_ARGUMENT', /Buffer or Uint8Array/)
    assert.ok(new RawAesKeyring('n', 'k', new Uint8Array(16)) instanceof RawAesKeyring)
  })
})

describe('CachingMaterialsManager', () => {
  it('reuses data keys: a thousand messages, one GenerateDataKey', async () => {
    const { ks } = openSoft()
    const key = ks.createKeySync()
    const cmm = new CachingMaterialsManager(ks.keyring(key.keyId), { maxAge: 60, maxMessages: 1000 })
    // The first message fills the cache; the other 999 run concurrently on
    // the pool (concurrent misses on an empty cache would each fetch a key,
    // as in the AWS SDKs' caching manager).
    const first = await encrypt(Buffer.from('record 0'), { materialsManager: cmm, encryptionContext: EC })
    const cts = [first, ...(await Promise.all(
      Array.from({ length: 999 }, (_, i) => encrypt(Buffer.from(`record ${i + 1}`), { materialsManager: cmm, encryptionContext: EC })),
    ))]
    assert.equal(ks.operationCount('GenerateDataKey'), 1)
    const stats = cmm.stats()
    assert.equal(stats.hits + stats.misses, 1000)
    assert.ok(stats.hits >= 990, JSON.stringify(stats))
    for (const i of [0, 500, 999]) {
      assert.equal((await decrypt(cts[i], { materialsManager: cmm })).plaintext.toString(), `record ${i}`)
      assert.equal(decryptSync(cts[i], { keyring: ks.keyring(key.keyId) }).plaintext.toString(), `record ${i}`)
    }
    // maxMessages: the 1001st message needs a new data key.
    await encrypt(Buffer.from('one more'), { materialsManager: cmm, encryptionContext: EC })
    assert.equal(ks.operationCount('GenerateDataKey'), 2)
    cmm.clear()
    encryptSync(Buffer.from('after clear'), { materialsManager: cmm, encryptionContext: EC })
    assert.equal(ks.operationCount('GenerateDataKey'), 3)
  })

  it('refuses bad limits', () => {
    for (const maxAge of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      throws(() => new CachingMaterialsManager(aes(), { maxAge }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    }
    throws(() => new CachingMaterialsManager(aes(), { maxAge: 1, maxMessages: 0 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => new CachingMaterialsManager(aes(), { maxAge: 1, maxMessages: 2 ** 32 + 1 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => new CachingMaterialsManager(aes(), { maxAge: 1, capacity: 1.5 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => new CachingMaterialsManager(aes(), {}), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => new CachingMaterialsManager({}, { maxAge: 1 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })
})

describe('bad arguments', () => {
  it('are refused before any work, in both forms', async () => {
    const { ks } = openSoft()
    const cmm = new CachingMaterialsManager(aes(), { maxAge: 10 })
    const pt = Buffer.from('x')
    const cases = [
      [pt, {}],
      [pt, { keyring: aes(), materialsManager: cmm }],
      [pt, { keyring: ks }],
      [pt, { keyring: { fake: true } }],
      [pt, { keyring: sealbox.RootKey.generate() }],
      [pt, { materialsManager: aes() }],
      [pt, { keyring: aes(), algorithmSuite: 0x9999 }],
      [pt, { keyring: aes(), algorithmSuite: -1 }],
      [pt, { keyring: aes(), frameLength: 0 }],
      [pt, { keyring: aes(), frameLength: 2 ** 32 }],
      [pt, { keyring: aes(), commitmentPolicy: 'REQUIRE_NOTHING' }],
      [pt, { keyring: aes(), encryptionContext: 'tenant=acme' }],
      [pt, { keyring: aes(), encryptionContext: { 'aws-crypto-x': 'reserved' } }],
      [pt, { keyring: aes(), plaintextLength: 1 }],
      ['a string', { keyring: aes() }],
      [null, { keyring: aes() }],
      [pt, null],
      [pt],
    ]
    for (const args of cases) {
      const p = encrypt(...args)
      assert.ok(p instanceof Promise)
      await rejects(p, 'ERR_SEALBOX_INVALID_ARGUMENT')
      throws(() => encryptSync(...args), 'ERR_SEALBOX_INVALID_ARGUMENT')
    }
    const ct = encryptSync(pt, { keyring: aes() })
    for (const args of [[ct, {}], [ct, { keyring: aes(), encryptionContext: 7 }], ['ct', { keyring: aes() }], [ct, { keyring: aes(), maxBodySize: -1 }]]) {
      await rejects(decrypt(...args), 'ERR_SEALBOX_INVALID_ARGUMENT')
      throws(() => decryptSync(...args), 'ERR_SEALBOX_INVALID_ARGUMENT')
    }
  })
})

describe('concurrency', () => {
  it('runs hundreds of Promises at once, each with its own result', async () => {
    const { ks } = openSoft()
    const key = ks.createKeySync()
    const keyrings = [aes(), ks.keyring(key.keyId)]
    const inputs = Array.from({ length: 400 }, (_, i) => crypto.randomBytes(1 + ((i * 977) % 20000)))
    const cts = await Promise.all(
      inputs.map((pt, i) => encrypt(pt, { keyring: keyrings[i % 2], encryptionContext: { i: String(i) } })),
    )
    const res = await Promise.all(cts.map((ct, i) => decrypt(ct, { keyring: keyrings[i % 2], encryptionContext: { i: String(i) } })))
    res.forEach((r, i) => assert.deepEqual(r.plaintext, inputs[i]))
    const blobs = await Promise.all(inputs.slice(0, 100).map((pt) => ks.encrypt(key.keyId, pt.subarray(0, 4096))))
    const back = await Promise.all(blobs.map((b) => ks.decrypt(b)))
    back.forEach((b, i) => assert.deepEqual(b, inputs[i].subarray(0, 4096)))
    const r = await ks.verifyAuditLog()
    assert.equal(r.ok, true, 'the audit chain stays intact under concurrent writers')
  })
})

describe('large Promise encrypt with materials from memory', () => {
  // Above 16 KiB, with a raw keyring (or multi/caching over one), the pool
  // thread writes the message straight into the Buffer that the Promise
  // resolves with (src/direct.rs); key-store keyrings go through a Vec.
  // Both must give the same messages.
  const big = crypto.randomBytes((1 << 20) + 4099)

  it('writes exactly the message, for every size, frame length and input view', async () => {
    for (const len of [16 * 1024, 16 * 1024 + 1, 65536, 300001]) {
      for (const frameLength of [undefined, 1000, 4096, len]) {
        const pt = crypto.randomBytes(len)
        const algorithmSuite = frameLength === 1000 ? 0x0578 : 0x0478
        const ct = await encrypt(pt, { keyring: aes(), encryptionContext: EC, frameLength, algorithmSuite })
        const same = encryptSync(pt, { keyring: aes(), encryptionContext: EC, frameLength, algorithmSuite })
        assert.equal(ct.length, same.length, 'the Promise form writes the message at its exact length')
        assert.equal(ct.buffer.byteLength, ct.length, 'nothing spare in the Buffer')
        const res = decryptSync(ct, { keyring: aes(), encryptionContext: EC })
        assert.deepEqual(res.plaintext, pt)
        assert.equal(res.algorithmSuite, algorithmSuite)
      }
    }
    // Input seen through a view at an odd offset of a larger buffer.
    const backing = Buffer.alloc(big.length + 7)
    big.copy(backing, 5)
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 5, big.length)
    const ct = await encrypt(view, { keyring: aes() })
    assert.deepEqual((await decrypt(ct, { keyring: aes() })).plaintext, big)
  })

  it('serves multi-keyrings, caching managers, the policy default suite and signed suites', async () => {
    const other = new RawAesKeyring('node-tests', 'other', crypto.randomBytes(32))
    const multi = new MultiKeyring(aes(), [other])
    const cmm = new CachingMaterialsManager(aes(), { maxAge: 60, maxMessages: 100 })
    const cases = [
      [{ keyring: multi }, [{ keyring: other }, { keyring: aes() }], 0x0478],
      [{ materialsManager: cmm }, [{ keyring: aes() }], 0x0478],
      [{ keyring: aes(), algorithmSuite: 0x0578 }, [{ keyring: aes() }], 0x0578],
      [{ keyring: aes(), algorithmSuite: 0x0178, commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }, [{ keyring: aes(), commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' }], 0x0178],
      [{ keyring: aes(), commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }, [{ keyring: aes(), commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' }], 0x0378],
    ]
    for (const [opts, readers, suite] of cases) {
      const ct = await encrypt(big, { ...opts, encryptionContext: EC })
      for (const r of readers) {
        const res = decryptSync(ct, { ...r, encryptionContext: EC })
        assert.deepEqual(res.plaintext, big)
        assert.equal(res.algorithmSuite, suite)
      }
    }
  })

  it('rejects (never throws) when the materials fail, and many run at once', async () => {
    const p = encrypt(big, { keyring: aes(), encryptionContext: { 'aws-crypto-public-key': 'x' } })
    assert.ok(p instanceof Promise)
    await rejects(p, 'ERR_SEALBOX_INVALID_ARGUMENT')
    await rejects(encrypt(big, { keyring: aes(), algorithmSuite: 0x0478, commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }), 'ERR_SEALBOX_COMMITMENT_POLICY_VIOLATION')
    const inputs = Array.from({ length: 48 }, (_, i) => crypto.randomBytes(20000 + i * 5003))
    const cts = await Promise.all(inputs.map((pt, i) => encrypt(pt, { keyring: aes(), encryptionContext: { i: String(i) } })))
    cts.forEach((ct, i) => assert.deepEqual(decryptSync(ct, { keyring: aes(), encryptionContext: { i: String(i) } }).plaintext, inputs[i]))
  })
})

describe('large Promise decrypt into the Buffer it resolves with', () => {
  // Above 16 KiB the calling thread reads the plaintext's length from the
  // message's structure, allocates the Buffer, and the pool thread
  // decrypts straight into it (src/message/into_buffer.rs), with any
  // materials manager; the result is what decryptSync gives.
  it('gives what decryptSync gives, for every suite kind, frame length and size', async () => {
    for (const len of [16 * 1024, 16 * 1024 + 1, 65536, 300001, (1 << 20) + 3]) {
      for (const [frameLength, algorithmSuite] of [[undefined, 0x0478], [1000, 0x0578], [len, 0x0478], [7, 0x0478]]) {
        if (frameLength === 7 && len > 65536) continue
        const pt = crypto.randomBytes(len)
        const ct = encryptSync(pt, { keyring: aes(), encryptionContext: EC, frameLength, algorithmSuite })
        const res = await decrypt(ct, { keyring: aes(), encryptionContext: EC })
        const same = decryptSync(ct, { keyring: aes(), encryptionContext: EC })
        assert.ok(Buffer.isBuffer(res.plaintext))
        assert.deepEqual(res.plaintext, pt)
        assert.equal(res.plaintext.buffer.byteLength, pt.length, 'the Buffer is exactly the plaintext')
        assert.deepEqual(res.encryptionContext, same.encryptionContext)
        assert.equal(res.algorithmSuite, algorithmSuite)
        assert.deepEqual(Object.keys(res).sort(), Object.keys(same).sort())
      }
    }
  })

  it('serves key-store keyrings and caching managers, and many run at once', async () => {
    const { ks } = openSoft()
    const key = ks.createKeySync()
    const kr = ks.keyring(key.keyId)
    const big = crypto.randomBytes(200001)
    const ct = await encrypt(big, { keyring: kr, encryptionContext: EC })
    assert.deepEqual((await decrypt(ct, { keyring: kr, encryptionContext: EC })).plaintext, big)
    const cmm = new CachingMaterialsManager(aes(), { maxAge: 60, maxMessages: 100 })
    const ct2 = encryptSync(big, { keyring: aes() })
    assert.deepEqual((await decrypt(ct2, { materialsManager: cmm })).plaintext, big)
    const inputs = Array.from({ length: 32 }, (_, i) => crypto.randomBytes(20000 + i * 7001))
    const cts = inputs.map((pt, i) => encryptSync(pt, { keyring: aes(), encryptionContext: { i: String(i) } }))
    const res = await Promise.all(cts.map((c, i) => decrypt(c, { keyring: aes(), encryptionContext: { i: String(i) } })))
    res.forEach((r, i) => assert.deepEqual(r.plaintext, inputs[i]))
  })

  it('rejects (never throws) tampering, truncation, a wrong key, a wrong context and the size limit', async () => {
    const pt = crypto.randomBytes(100000)
    const ct = encryptSync(pt, { keyring: aes(), encryptionContext: EC })
    const flipped = Buffer.from(ct)
    flipped[flipped.length - 40] ^= 1
    const cases = [
      [flipped, { keyring: aes() }, 'ERR_SEALBOX_DECRYPTION_FAILED'],
      [ct.subarray(0, ct.length - 1), { keyring: aes() }, 'ERR_SEALBOX_DECRYPTION_FAILED'],
      [Buffer.concat([ct, Buffer.from([0])]), { keyring: aes() }, 'ERR_SEALBOX_DECRYPTION_FAILED'],
      [ct, { keyring: new RawAesKeyring('node-tests', 'aes-key', crypto.randomBytes(32)) }, 'ERR_SEALBOX_DECRYPTION_FAILED'],
      [ct, { keyring: aes(), encryptionContext: { tenant: 'other' } }, 'ERR_SEALBOX_DECRYPTION_FAILED'],
      [ct, { keyring: aes(), maxBodySize: 99999 }, 'ERR_SEALBOX_MESSAGE_TOO_LARGE'],
    ]
    for (const [c, opts, code] of cases) {
      const p = decrypt(c, opts)
      assert.ok(p instanceof Promise)
      await rejects(p, code)
    }
    assert.deepEqual((await decrypt(ct, { keyring: aes(), maxBodySize: 100000 })).plaintext, pt)
  })

  it('resolves an empty plaintext of a message above 16 KiB', async () => {
    const ec = { big: 'x'.repeat(20000) }
    const ct = encryptSync(Buffer.alloc(0), { keyring: aes(), encryptionContext: ec })
    assert.ok(ct.length > 16 * 1024)
    const res = await decrypt(ct, { keyring: aes() })
    assert.equal(res.plaintext.length, 0)
    assert.equal(res.encryptionContext.big, ec.big)
  })
})

describe('panic boundary', () => {
  it('turns a panic into ERR_SEALBOX_PANIC, in both forms, and the process lives on', async () => {
    throws(() => sealbox.testPanic(false), 'ERR_SEALBOX_PANIC', /internal error/)
    await rejects(sealbox.testPanic(true), 'ERR_SEALBOX_PANIC')
    const ct = encryptSync(Buffer.from('still alive'), { keyring: aes() })
    assert.equal((await decrypt(ct, { keyring: aes() })).plaintext.toString(), 'still alive')
  })
})
