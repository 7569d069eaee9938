'use strict'
// Access control from Node (issue 16), the scenarios of core/tests/access.rs:
// principals and asPrincipal, a policy with an encryption-context condition,
// explicit deny, an allowed and a denied case for every operation the
// package exposes, the lockout check, the creator default policy, grants
// with context constraints, retire and revoke, and the denial's audit event.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const { sealbox, openSoft, rejects, throws, tempDir } = require('./helpers')

const { KeyStore, RootKey } = sealbox
const DENIED = 'ERR_SEALBOX_ACCESS_DENIED'

const ADMIN_ONLY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Admin', Effect: 'Allow', Principal: { Sealbox: ['admin'] }, Action: 'kms:*', Resource: '*' },
  ],
}

// admin: everything; app: the data plane for tenant t1 only, never for an
// "export" purpose; auditor: DescribeKey.
const SPLIT = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Admin', Effect: 'Allow', Principal: { Sealbox: 'admin' }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'AppDataPlane',
      Effect: 'Allow',
      Principal: { Sealbox: ['app'] },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 't1' } },
    },
    {
      Sid: 'NoExport',
      Effect: 'Deny',
      Principal: '*',
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'export' } },
    },
    { Sid: 'Auditor', Effect: 'Allow', Principal: { Sealbox: 'auditor' }, Action: 'kms:DescribeKey', Resource: '*' },
  ],
}

/** Waits until `cond()` holds (audit events arrive through the event loop). */
async function until(cond, what) {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2))
  assert.ok(cond(), `timed out waiting for ${what}`)
}

/** A store whose handle acts for `admin`, with every audit event collected. */
function start() {
  const { ks } = openSoft()
  const events = []
  ks.onAudit((e) => events.push(e))
  return { admin: ks.asPrincipal('admin'), events }
}

/**
 * `run()` is refused with ERR_SEALBOX_ACCESS_DENIED whose message contains
 * `why`, and the last audit event is a `denied` record of `principal` saying so.
 */
async function denied(run, events, why, principal) {
  const seen = events.length
  await rejects(run, DENIED, why ? new RegExp(why.replace(/[*]/g, '\\*')) : undefined)
  // Events arrive through the event loop: those of earlier calls may still
  // be on their way, so wait for the denial itself.
  const e = await next(events, seen, (x) => x.outcome === 'denied')
  if (why) assert.ok((e.error || '').includes(why), JSON.stringify(e))
  if (principal) assert.equal(e.principal, principal)
}

/** The first event after index `seen` that `match` accepts, once it arrived. */
async function next(events, seen, match) {
  await until(() => events.slice(seen).some(match), 'the audit event')
  return events.slice(seen).find(match)
}

describe('principals', () => {
  it('names the handle principal; asPrincipal makes another handle on the same store', async () => {
    const { ks } = openSoft()
    assert.equal(ks.principal, 'node-tests')
    const billing = ks.asPrincipal('billing')
    assert.ok(billing instanceof KeyStore)
    assert.equal(billing.principal, 'billing')
    assert.equal(ks.principal, 'node-tests')
    const k = await ks.createKey()
    const events = []
    ks.onAudit((e) => events.push(e))
    // The same store: the other handle sees the key, and records name it.
    assert.equal((await billing.describeKey(k.keyId)).keyId, k.keyId)
    assert.equal((await next(events, 0, (x) => x.operation === 'DescribeKey')).principal, 'billing')
    for (const bad of ['', 'a\nb', 'x'.repeat(257)]) {
      throws(() => ks.asPrincipal(bad), 'ERR_SEALBOX_INVALID_ARGUMENT', /principal/)
    }
    throws(() => ks.asPrincipal(42), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })
})

describe('key policies', () => {
  it('decides the data plane by the policy and its conditions; explicit deny wins', async () => {
    const { admin, events } = start()
    const key = (await admin.createKey({ policy: SPLIT })).keyId
    const app = admin.asPrincipal('app')
    const t1 = { encryptionContext: { tenant: 't1' } }
    const t2 = { encryptionContext: { tenant: 't2' } }
    // Allowed inside the condition; the record names the principal.
    const blob = await app.encrypt(key, Buffer.from('card'), t1)
    assert.equal((await next(events, 0, (x) => x.principal === 'app')).outcome, 'allowed')
    assert.equal((await app.decrypt(blob, t1)).toString(), 'card')
    assert.equal(app.generateDataKeySync(key, t1).plaintext.length, 32)
    // Outside it: no statement allows.
    await denied(() => app.encrypt(key, Buffer.from('x'), t2), events, 'no statement or grant allows kms:Encrypt', 'app')
    await denied(() => app.generateDataKeySync(key, {}), events, 'kms:GenerateDataKey', 'app')
    // Explicit deny wins over the allow, for the admin too.
    const exp = { encryptionContext: { tenant: 't1', purpose: 'export' } }
    const b2 = await app.encrypt(key, Buffer.from('x'), exp)
    await denied(() => app.decrypt(b2, exp), events, 'NoExport', 'app')
    await denied(() => admin.decryptSync(b2, exp), events, 'NoExport', 'admin')
    // Management is not the app's; the auditor may only describe.
    await denied(() => app.disableKey(key), events, 'kms:DisableKey')
    const auditor = admin.asPrincipal('auditor')
    await auditor.describeKey(key)
    await denied(() => auditor.decrypt(blob, t1), events, 'kms:Decrypt', 'auditor')
    // A denied request changed nothing.
    assert.equal((await admin.describeKey(key)).keyState, 'Enabled')
    // The policy reads back as a document (Promise and Sync forms).
    const p = await admin.getKeyPolicy(key)
    assert.deepEqual(
      p.Statement.map((s) => s.Sid),
      ['Admin', 'AppDataPlane', 'NoExport', 'Auditor'],
    )
    assert.deepEqual(admin.getKeyPolicySync(key), p)
  })

  it('refuses a policy that locks its author out unless told to; bad policies change nothing', async () => {
    const { admin, events } = start()
    const key = (await admin.createKey({ policy: JSON.stringify(SPLIT) })).keyId
    const appOnly = JSON.parse(JSON.stringify(SPLIT))
    appOnly.Statement[0].Principal = { Sealbox: 'app' }
    await rejects(admin.putKeyPolicy(key, appOnly), 'ERR_SEALBOX_INVALID_ARGUMENT', /bypass_policy_lockout_safety_check/)
    throws(() => admin.putKeyPolicySync(key, appOnly, { bypassPolicyLockoutSafetyCheck: false }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    assert.equal((await admin.getKeyPolicy(key)).Statement[0].Principal.Sealbox, 'admin')
    // With the bypass, the admin is locked out.
    admin.putKeyPolicySync(key, appOnly, { bypassPolicyLockoutSafetyCheck: true })
    await denied(() => admin.getKeyPolicy(key), events, 'kms:GetKeyPolicy', 'admin')
    const app = admin.asPrincipal('app')
    // JSON text is taken as is; bad text, bad documents and non-policies are refused.
    await rejects(app.putKeyPolicy(key, '{"Statement": 3}'), 'ERR_SEALBOX_INVALID_ARGUMENT')
    await rejects(app.putKeyPolicy(key, 'not json'), 'ERR_SEALBOX_INVALID_ARGUMENT')
    await rejects(app.putKeyPolicy(key, { Statement: [{ Effect: 'Maybe' }] }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    for (const bad of [42, null, [ADMIN_ONLY], true]) {
      await rejects(app.putKeyPolicy(key, bad), 'ERR_SEALBOX_INVALID_ARGUMENT')
      throws(() => app.putKeyPolicySync(key, bad), 'ERR_SEALBOX_INVALID_ARGUMENT')
    }
    assert.equal(app.getKeyPolicySync(key).Statement[0].Principal.Sealbox, 'app')
    // A lockout at creation is refused too, unless bypassed.
    await rejects(admin.createKey({ policy: appOnly }), 'ERR_SEALBOX_INVALID_ARGUMENT', /bypass_policy_lockout_safety_check/)
    const locked = await admin.createKey({ policy: appOnly, bypassPolicyLockoutSafetyCheck: true })
    await denied(() => admin.describeKey(locked.keyId), events, 'kms:DescribeKey')
    // A key made without a policy allows everyone (the default policy).
    const open = (await admin.createKey()).keyId
    const nobody = admin.asPrincipal('nobody')
    await nobody.encrypt(open, Buffer.from('x'))
    const dflt = await nobody.getKeyPolicy(open)
    assert.equal(dflt.Statement[0].Principal, '*')
  })

  it('a store whose default policy is creator', async () => {
    const dir = tempDir('creator')
    const db = path.join(dir, 'keys.db')
    const root = RootKey.generate()
    const teamA = KeyStore.openSync(db, { rootKey: root, principal: 'team-a', defaultPolicy: 'creator' })
    const k = (await teamA.createKey()).keyId
    await teamA.encrypt(k, Buffer.from('x'))
    await rejects(teamA.asPrincipal('team-b').encrypt(k, Buffer.from('x')), DENIED)
    // The setting is the store's: a handle opened without it follows it.
    const teamB = await KeyStore.open(db, { rootKey: root, principal: 'team-b' })
    const kb = teamB.createKeySync().keyId
    await rejects(teamB.asPrincipal('team-a').encrypt(kb, Buffer.from('x')), DENIED)
    await teamB.encrypt(kb, Buffer.from('x'))
    // Only the two names are accepted.
    for (const bad of ['everyone', '', 'Creator']) {
      await rejects(KeyStore.open(db, { rootKey: root, defaultPolicy: bad }), 'ERR_SEALBOX_INVALID_ARGUMENT', /default key policy/)
    }
  })
})

describe('every operation', () => {
  let admin
  let events
  let nobody
  const keys = {}
  let blob
  let sig
  let mac
  let grantId
  const c = { encryptionContext: { a: 'b' } }
  const m = Buffer.from('m')

  before(async () => {
    ;({ admin, events } = start())
    nobody = admin.asPrincipal('nobody')
    keys.aes = (await admin.createKey({ policy: ADMIN_ONLY })).keyId
    keys.ecc = (await admin.createKey({ policy: ADMIN_ONLY, keySpec: 'ECC_NIST_P256' })).keyId
    keys.rsa = (await admin.createKey({ policy: ADMIN_ONLY, keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' })).keyId
    keys.hmac = (await admin.createKey({ policy: ADMIN_ONLY, keySpec: 'HMAC_256' })).keyId
    keys.other = (await admin.createKey({ policy: ADMIN_ONLY })).keyId
    await admin.createAlias('alias/ops', keys.aes)
    blob = await admin.encrypt(keys.aes, Buffer.from('x'), c)
    sig = await admin.sign(keys.ecc, m, 'ECDSA_SHA_256')
    mac = await admin.generateMac(keys.hmac, m, 'HMAC_SHA_256')
    grantId = await admin.createGrant(keys.aes, { granteePrincipal: 'someone', operations: ['Decrypt'] })
  })

  // [the policy action, the call]; each is refused for `nobody`, then
  // allowed for `admin`.
  const OPS = [
    ['kms:DescribeKey', (k) => k.describeKey(keys.aes)],
    ['kms:DescribeKey', (k) => k.describeKey('alias/ops')],
    ['kms:DisableKey', (k) => k.disableKey(keys.other)],
    ['kms:EnableKey', (k) => k.enableKey(keys.other)],
    ['kms:ScheduleKeyDeletion', (k) => k.scheduleKeyDeletion(keys.other, 7)],
    ['kms:CancelKeyDeletion', (k) => k.cancelKeyDeletion(keys.other)],
    ['kms:RotateKeyOnDemand', (k) => k.rotateKey(keys.aes)],
    ['kms:EnableKeyRotation', (k) => k.enableKeyRotation(keys.aes, 90)],
    ['kms:DisableKeyRotation', (k) => k.disableKeyRotation(keys.aes)],
    ['kms:UpdateKeyDescription', (k) => k.updateKeyDescription(keys.aes, 'd')],
    ['kms:TagResource', (k) => k.tagKey(keys.aes, { t: 'v' })],
    ['kms:UntagResource', (k) => k.untagKey(keys.aes, ['t'])],
    ['kms:CreateAlias', (k) => k.createAlias('alias/ops2', keys.aes)],
    ['kms:UpdateAlias', (k) => k.updateAlias('alias/ops2', keys.other)],
    ['kms:DeleteAlias', (k) => k.deleteAlias('alias/ops2')],
    ['kms:Encrypt', (k) => k.encrypt(keys.aes, Buffer.from('x'), c)],
    ['kms:Decrypt', (k) => k.decrypt(blob, c)],
    ['kms:ReEncryptFrom', (k) => k.reEncrypt(blob, keys.aes, { sourceEncryptionContext: c.encryptionContext, destinationEncryptionContext: c.encryptionContext })],
    ['kms:GenerateDataKey', (k) => k.generateDataKey(keys.aes, c)],
    ['kms:GenerateDataKeyWithoutPlaintext', (k) => k.generateDataKeyWithoutPlaintext(keys.aes, c)],
    ['kms:Sign', (k) => k.sign(keys.ecc, m, 'ECDSA_SHA_256')],
    ['kms:Verify', (k) => k.verify(keys.ecc, m, sig, 'ECDSA_SHA_256')],
    ['kms:GetPublicKey', (k) => k.getPublicKey(keys.ecc)],
    ['kms:GetPublicKey', (k) => k.getPublicKeyPem(keys.rsa)],
    ['kms:GenerateMac', (k) => k.generateMac(keys.hmac, m, 'HMAC_SHA_256')],
    ['kms:VerifyMac', (k) => k.verifyMac(keys.hmac, m, mac, 'HMAC_SHA_256')],
    ['kms:GetKeyPolicy', (k) => k.getKeyPolicy(keys.aes)],
    ['kms:PutKeyPolicy', (k) => k.putKeyPolicy(keys.aes, ADMIN_ONLY)],
    ['kms:ListGrants', (k) => k.listGrants(keys.aes)],
    ['kms:CreateGrant', (k) => k.createGrant(keys.aes, { granteePrincipal: 'x', operations: ['Encrypt'] })],
    ['kms:RevokeGrant', (k) => k.revokeGrant(keys.aes, grantId)],
  ]

  for (const [action, op] of OPS) {
    it(`${action}: denied for a principal the policy does not name, allowed for the admin`, async () => {
      await denied(() => op(nobody), events, action, 'nobody')
      const seen = events.length
      await op(admin)
      const e = await next(events, seen, (x) => x.principal === 'admin')
      assert.equal(e.outcome, 'allowed', action)
    })
  }

  it('the RSA key is also governed for encryption and decryption', async () => {
    const ct = await admin.encrypt(keys.rsa, Buffer.from('r'), { algorithm: 'RSAES_OAEP_SHA_256' })
    await denied(() => nobody.encrypt(keys.rsa, Buffer.from('r'), { algorithm: 'RSAES_OAEP_SHA_256' }), events, 'kms:Encrypt')
    await denied(() => nobody.decrypt(ct, { keyId: keys.rsa, algorithm: 'RSAES_OAEP_SHA_256' }), events, 'kms:Decrypt')
    assert.equal((await admin.decrypt(ct, { keyId: keys.rsa, algorithm: 'RSAES_OAEP_SHA_256' })).toString(), 'r')
  })

  it('CreateKey, ListKeys and GenerateRandom are not governed by a key policy', async () => {
    await nobody.createKey()
    assert.ok((await nobody.listKeys()).keys.length >= 6)
    assert.equal((await nobody.generateRandom(8)).length, 8)
  })

  it('a keyring of a principal the policy does not name is refused', async () => {
    const kr = nobody.keyring(keys.aes)
    await rejects(sealbox.encrypt(Buffer.from('x'), { keyring: kr }), DENIED)
    const ok = await sealbox.encrypt(Buffer.from('x'), { keyring: admin.keyring(keys.aes) })
    await rejects(sealbox.decrypt(ok, { keyring: kr }), 'ERR_SEALBOX_DECRYPTION_FAILED')
  })
})

describe('grants', () => {
  it('allow only inside their constraints, until retired or revoked', async () => {
    const { admin, events } = start()
    const key = (await admin.createKey({ policy: ADMIN_ONLY })).keyId
    const batch = admin.asPrincipal('batch')
    const t1 = { encryptionContext: { tenant: 't1', job: 'nightly' } }
    const t2 = { encryptionContext: { tenant: 't2' } }
    const b1 = await admin.encrypt(key, Buffer.from('one'), t1)
    const b2 = await admin.encrypt(key, Buffer.from('two'), t2)
    await denied(() => batch.decrypt(b1, t1), events, 'no statement or grant', 'batch')
    // Subset: the request's context includes tenant=t1.
    const subset = await admin.createGrant(key, {
      granteePrincipal: 'batch',
      operations: ['Decrypt'],
      retiringPrincipal: 'ops',
      name: 'nightly-batch',
      encryptionContextSubset: { tenant: 't1' },
    })
    assert.match(subset, /\S/)
    assert.equal((await batch.decrypt(b1, t1)).toString(), 'one')
    await denied(() => batch.decrypt(b2, t2), events, 'no statement or grant', 'batch')
    await denied(() => batch.encrypt(key, Buffer.from('x'), t1), events, 'kms:Encrypt', 'batch')
    // Equals: exactly that context (Sync form).
    const equals = admin.createGrantSync(key, {
      granteePrincipal: 'batch',
      operations: ['Encrypt'],
      encryptionContextEquals: { tenant: 't2' },
    })
    await batch.encrypt(key, Buffer.from('x'), t2)
    await denied(() => batch.encrypt(key, Buffer.from('x'), { encryptionContext: { tenant: 't2', more: '1' } }), events, 'kms:Encrypt')
    // Listed as objects.
    const listed = await admin.listGrants(key)
    assert.equal(listed.length, 2)
    const s = listed.find((g) => g.grantId === subset)
    assert.equal(s.keyId, key)
    assert.equal(s.granteePrincipal, 'batch')
    assert.equal(s.retiringPrincipal, 'ops')
    assert.equal(s.name, 'nightly-batch')
    assert.deepEqual(s.operations, ['Decrypt'])
    assert.deepEqual(s.encryptionContextSubset, { tenant: 't1' })
    assert.equal(s.encryptionContextEquals, undefined)
    assert.equal(s.issuingPrincipal, 'admin')
    assert.ok(s.createdAt instanceof Date && Math.abs(s.createdAt - Date.now()) < 60_000, String(s.createdAt))
    const e = admin.listGrantsSync(key).find((g) => g.grantId === equals)
    assert.deepEqual(e.encryptionContextEquals, { tenant: 't2' })
    // Retire: not by the grantee (the grant lacks RetireGrant), by the retiring principal.
    await denied(() => batch.retireGrant(key, subset), events, '', 'batch')
    await admin.asPrincipal('ops').retireGrant(key, subset)
    await denied(() => batch.decrypt(b1, t1), events, 'no statement or grant')
    // Revoke takes effect for the next operation.
    admin.revokeGrantSync(key, equals)
    await denied(() => batch.encrypt(key, Buffer.from('x'), t2), events, 'kms:Encrypt')
    assert.deepEqual(await admin.listGrants(key), [])
    await rejects(admin.revokeGrant(key, equals), 'ERR_SEALBOX_KEY_NOT_FOUND')
    throws(() => admin.retireGrantSync(key, equals), 'ERR_SEALBOX_KEY_NOT_FOUND')
    // Malformed grants are refused and change nothing.
    await rejects(admin.createGrant(key, { granteePrincipal: 'x', operations: ['Launch'] }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    await rejects(admin.createGrant(key, { granteePrincipal: 'x', operations: [] }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    await rejects(admin.createGrant(key, { granteePrincipal: '', operations: ['Decrypt'] }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    await rejects(admin.createGrant(key, { granteePrincipal: 'x', operations: ['Decrypt'], encryptionContextSubset: 'tenant=t1' }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    await rejects(admin.createGrant(key, { operations: ['Decrypt'] }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    assert.deepEqual(admin.listGrantsSync(key), [])
  })

  it('a grant that lists RetireGrant lets its grantee retire it', async () => {
    const { admin } = start()
    const key = (await admin.createKey({ policy: ADMIN_ONLY })).keyId
    const id = await admin.createGrant(key, { granteePrincipal: 'svc', operations: ['Encrypt', 'RetireGrant'] })
    const svc = admin.asPrincipal('svc')
    await svc.encrypt(key, Buffer.from('x'))
    await svc.retireGrant(key, id)
    await rejects(svc.encrypt(key, Buffer.from('x')), DENIED)
  })
})

describe('the audit trail', () => {
  it('records a denial in the audit log with outcome denied and the reason', async () => {
    const { ks } = openSoft()
    const admin = ks.asPrincipal('admin')
    const key = (await admin.createKey({ policy: ADMIN_ONLY })).keyId
    await rejects(ks.asPrincipal('intruder').disableKey(key), DENIED)
    const records = (await ks.auditRecords()).map((r) => JSON.parse(r.line))
    const last = records[records.length - 1]
    assert.equal(last.operation, 'DisableKey')
    assert.equal(last.outcome, 'denied')
    assert.equal(last.principal, 'intruder')
    assert.equal(last.key_id, key)
    assert.match(last.error, /kms:DisableKey/)
    assert.equal((await ks.verifyAuditLog()).ok, true)
    assert.equal((await admin.describeKey(key)).keyState, 'Enabled')
  })
})
