'use strict'
// Secrets from Node (issue 21): every operation in its Promise and Sync
// forms, every label transition, the refusals (missing secret, wrong stage,
// deleted secret, oversized value, disabled key) with their codes, text vs
// binary values, rotation (success, and a failing step leaving CURRENT
// intact), random passwords.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')

const { openSoft, rejects, throws } = require('./helpers')

const TOKEN = (c) => c.repeat(32)

/** The versions of `name` and their labels, as { versionId: [labels] }. */
function stages(ks, name) {
  return ks.describeSecretSync(name).versionIdsToStages
}

describe('secrets', () => {
  it('a resource policy decides each operation on the secret', async () => {
    const { ks } = openSoft()
    const admin = ks.asPrincipal('admin')
    admin.createSecretSync('svc/api', 'k-1')
    const reader = admin.asPrincipal('reader')
    const other = admin.asPrincipal('other')
    assert.equal(admin.getResourcePolicySync('svc/api'), null)
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Admin', Effect: 'Allow', Principal: { Sealbox: 'admin' }, Action: 'secretsmanager:*', Resource: '*' },
        { Sid: 'Read', Effect: 'Allow', Principal: { Sealbox: 'reader' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' },
      ],
    }
    throws(() => reader.putResourcePolicySync('svc/api', policy), 'ERR_SEALBOX_INVALID_ARGUMENT')
    await admin.putResourcePolicy('svc/api', JSON.stringify(policy))
    assert.equal((await admin.getResourcePolicy('svc/api')).Statement[1].Sid, 'Read')
    assert.equal(reader.getSecretValueSync('svc/api').value, 'k-1')
    throws(() => other.getSecretValueSync('svc/api'), 'ERR_SEALBOX_ACCESS_DENIED')
    await rejects(reader.putSecretValue('svc/api', 'evil'), 'ERR_SEALBOX_ACCESS_DENIED')
    assert.equal(admin.getSecretValueSync('svc/api').value, 'k-1')
    admin.deleteResourcePolicySync('svc/api')
    assert.equal(other.getSecretValueSync('svc/api').value, 'k-1')
  })

  it('updates the description and key, tags and untags', async () => {
    const { ks } = openSoft()
    const key = ks.createKeySync().keyId
    ks.createSecretSync('svc/tagged', 'v1', { tags: { a: '1' } })
    const m = await ks.updateSecret('svc/tagged', { description: 'the API', keyId: key })
    assert.equal(m.description, 'the API')
    assert.equal(m.keyId, key)
    await ks.tagSecret('svc/tagged', { b: '2' })
    assert.deepEqual(ks.describeSecretSync('svc/tagged').tags, { a: '1', b: '2' })
    ks.untagSecretSync('svc/tagged', ['a'])
    assert.deepEqual(ks.describeSecretSync('svc/tagged').tags, { b: '2' })
    throws(() => ks.updateSecretSync('svc/tagged', {}), 'ERR_SEALBOX_INVALID_ARGUMENT')
    assert.equal(ks.getSecretValueSync('svc/tagged').value, 'v1')
  })

  it('creates, reads, puts: text as string, binary as Buffer, CURRENT/PREVIOUS', async () => {
    const { ks } = openSoft()
    const key = (await ks.createKey()).keyId
    const a = await ks.createSecret('db/password', 'hunter2', {
      keyId: key,
      description: 'the app database',
      tags: { team: 'payments' },
    })
    assert.equal(a.name, 'db/password')
    assert.deepEqual(a.versionStages, ['CURRENT'])
    assert.match(a.versionId, /^[0-9a-f-]{36}$/)

    const got = await ks.getSecretValue('db/password')
    assert.equal(typeof got.value, 'string')
    assert.equal(got.value, 'hunter2')
    assert.equal(got.versionId, a.versionId)
    assert.deepEqual(got.versionStages, ['CURRENT'])
    assert.ok(got.createdAt instanceof Date)

    const bin = Buffer.from([0, 1, 2, 255, 0])
    const b = ks.createSecretSync('api/cert', bin)
    const gotBin = ks.getSecretValueSync('api/cert')
    assert.ok(Buffer.isBuffer(gotBin.value))
    assert.deepEqual(gotBin.value, bin)
    assert.equal(gotBin.versionId, b.versionId)
    // Bytes that are not UTF-8 stay bytes; a Uint8Array works too.
    ks.putSecretValueSync('api/cert', new Uint8Array([0xff, 0xfe]))
    assert.deepEqual(ks.getSecretValueSync('api/cert').value, Buffer.from([0xff, 0xfe]))

    // put: the new version is CURRENT, the old one PREVIOUS.
    const v2 = await ks.putSecretValue('db/password', 'v2-secret')
    assert.deepEqual(v2.versionStages, ['CURRENT'])
    assert.equal((await ks.getSecretValue('db/password')).value, 'v2-secret')
    const prev = ks.getSecretValueSync('db/password', { versionStage: 'PREVIOUS' })
    assert.equal(prev.value, 'hunter2')
    assert.equal(prev.versionId, a.versionId)
    assert.equal(ks.getSecretValueSync('db/password', { versionId: a.versionId }).value, 'hunter2')
    assert.equal(
      ks.getSecretValueSync('db/password', { versionId: v2.versionId, versionStage: 'CURRENT' }).value,
      'v2-secret',
    )
    // put with PENDING: CURRENT stays where it was.
    const v3 = ks.putSecretValueSync('db/password', 'v3-pending', { versionStages: ['PENDING'] })
    assert.deepEqual(v3.versionStages, ['PENDING'])
    assert.equal(ks.getSecretValueSync('db/password').value, 'v2-secret')
    assert.equal(ks.getSecretValueSync('db/password', { versionStage: 'PENDING' }).value, 'v3-pending')
    assert.deepEqual(stages(ks, 'db/password'), {
      [a.versionId]: ['PREVIOUS'],
      [v2.versionId]: ['CURRENT'],
      [v3.versionId]: ['PENDING'],
    })

    // Idempotent put with a client request token; another value is refused.
    const t = TOKEN('a')
    const p1 = await ks.putSecretValue('db/password', 'same', { versionStages: ['custom'], clientRequestToken: t })
    const p2 = ks.putSecretValueSync('db/password', 'same', { versionStages: ['custom'], clientRequestToken: t })
    assert.equal(p1.versionId, t)
    assert.equal(p2.versionId, t)
    await rejects(
      ks.putSecretValue('db/password', 'other', { clientRequestToken: t }),
      'ERR_SEALBOX_ALREADY_EXISTS',
    )

    const meta = await ks.describeSecret('db/password')
    assert.equal(meta.description, 'the app database')
    assert.equal(meta.keyId, key)
    assert.deepEqual(meta.tags, { team: 'payments' })
    assert.ok(meta.createdAt instanceof Date)
    assert.equal(meta.deletionDate, undefined)
    assert.equal(JSON.stringify(meta).includes('hunter2'), false)

    const versions = await ks.listSecretVersionIds('db/password')
    assert.equal(versions.length, 4)
    assert.equal(versions[0].versionId, t, 'newest first')
    assert.ok(versions.every((v) => v.keyId === key && v.binary === false && v.createdAt instanceof Date))
    assert.equal(ks.listSecretVersionIdsSync('api/cert', { includeDeprecated: true }).length, 2)
    assert.equal(ks.listSecretVersionIdsSync('api/cert').length, 2)
    assert.ok(ks.listSecretVersionIdsSync('api/cert').every((v) => v.binary))

    const list = await ks.listSecrets()
    assert.deepEqual(list.secrets.map((s) => s.name), ['api/cert', 'db/password'])
    assert.equal(list.nextMarker, undefined)
    const page = ks.listSecretsSync({ limit: 1 })
    assert.deepEqual(page.secrets.map((s) => s.name), ['api/cert'])
    assert.equal(page.nextMarker, 'api/cert')
    const page2 = ks.listSecretsSync({ limit: 1, marker: page.nextMarker })
    assert.deepEqual(page2.secrets.map((s) => s.name), ['db/password'])
    throws(() => ks.listSecretsSync({ limit: 0 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })

  it('moves and removes staging labels', async () => {
    const { ks } = openSoft()
    const v1 = ks.createSecretSync('s', 'one').versionId
    const v2 = ks.putSecretValueSync('s', 'two', { versionStages: ['PENDING'] }).versionId
    // Promote PENDING by moving CURRENT: the old CURRENT becomes PREVIOUS.
    await rejects(
      ks.updateSecretVersionStage('s', 'CURRENT', { moveToVersionId: v2 }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
      /CURRENT is on version/,
    )
    const after = await ks.updateSecretVersionStage('s', 'CURRENT', { moveToVersionId: v2, removeFromVersionId: v1 })
    assert.deepEqual(
      Object.fromEntries(after.map((v) => [v.versionId, v.versionStages.sort()])),
      { [v1]: ['PREVIOUS'], [v2]: ['CURRENT', 'PENDING'].sort() },
    )
    assert.equal(ks.getSecretValueSync('s').value, 'two')
    assert.equal(ks.getSecretValueSync('s', { versionStage: 'PREVIOUS' }).value, 'one')
    // Remove PENDING; CURRENT cannot be removed, only moved.
    ks.updateSecretVersionStageSync('s', 'PENDING', { removeFromVersionId: v2 })
    assert.deepEqual(stages(ks, 's'), { [v1]: ['PREVIOUS'], [v2]: ['CURRENT'] })
    throws(
      () => ks.updateSecretVersionStageSync('s', 'CURRENT', { removeFromVersionId: v2 }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
    // A custom label on the old version, then moved back.
    ks.updateSecretVersionStageSync('s', 'blue', { moveToVersionId: v1 })
    assert.equal(ks.getSecretValueSync('s', { versionStage: 'blue' }).value, 'one')
    ks.updateSecretVersionStageSync('s', 'blue', { moveToVersionId: v2, removeFromVersionId: v1 })
    assert.equal(ks.getSecretValueSync('s', { versionStage: 'blue' }).value, 'two')
    // Bad calls change nothing.
    throws(
      () => ks.updateSecretVersionStageSync('s', 'blue', { removeFromVersionId: v1 }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
    throws(() => ks.updateSecretVersionStageSync('s', 'blue', {}), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(
      () => ks.updateSecretVersionStageSync('s', 'x', { moveToVersionId: TOKEN('b') }),
      'ERR_SEALBOX_KEY_NOT_FOUND',
    )
    assert.deepEqual(stages(ks, 's'), { [v1]: ['PREVIOUS'], [v2]: ['CURRENT', 'blue'] })
  })

  it('refuses: missing secret, wrong stage, oversized value, bad names, disabled key', async () => {
    const { ks } = openSoft()
    await rejects(ks.getSecretValue('nope'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    throws(() => ks.describeSecretSync('nope'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    throws(() => ks.putSecretValueSync('nope', 'x'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    throws(() => ks.listSecretVersionIdsSync('nope'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    const v1 = ks.createSecretSync('s', 'one').versionId
    throws(() => ks.createSecretSync('s', 'again'), 'ERR_SEALBOX_ALREADY_EXISTS')
    await rejects(ks.getSecretValue('s', { versionStage: 'PENDING' }), 'ERR_SEALBOX_KEY_NOT_FOUND', /PENDING/)
    throws(
      () => ks.getSecretValueSync('s', { versionId: v1, versionStage: 'PREVIOUS' }),
      'ERR_SEALBOX_KEY_NOT_FOUND',
    )
    throws(() => ks.getSecretValueSync('s', { versionId: TOKEN('c') }), 'ERR_SEALBOX_KEY_NOT_FOUND')
    // 64 KiB is the limit, as AWS; empty is refused too.
    ks.putSecretValueSync('s', Buffer.alloc(65536, 1))
    await rejects(ks.putSecretValue('s', Buffer.alloc(65537, 1)), 'ERR_SEALBOX_INVALID_ARGUMENT', /65536/)
    throws(() => ks.createSecretSync('big', 'x'.repeat(65537)), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => ks.putSecretValueSync('s', ''), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => ks.describeSecretSync('big'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    throws(() => ks.createSecretSync('bad name!', 'x'), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => ks.putSecretValueSync('s', 'x', { versionStages: ['no spaces'] }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => ks.createSecretSync('s2', 'x', { clientRequestToken: 'short' }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => ks.createSecretSync('s3', 42), 'ERR_SEALBOX_INVALID_ARGUMENT')
    // A secret without a value yet: no CURRENT to read.
    const empty = ks.createSecretSync('later')
    assert.equal(empty.versionId, '')
    throws(() => ks.getSecretValueSync('later'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    ks.putSecretValueSync('later', 'now', { versionStages: [] })
    assert.equal(ks.getSecretValueSync('later').value, 'now', 'the first version is CURRENT')

    // A disabled key: reads and writes of its secrets refused until enabled.
    const key = ks.createKeySync().keyId
    ks.createSecretSync('on-key', 'v1', { keyId: key })
    ks.disableKeySync(key)
    await rejects(ks.getSecretValue('on-key'), 'ERR_SEALBOX_KEY_DISABLED')
    throws(() => ks.putSecretValueSync('on-key', 'v2'), 'ERR_SEALBOX_KEY_DISABLED')
    throws(() => ks.createSecretSync('on-key-2', 'v', { keyId: key }), 'ERR_SEALBOX_KEY_DISABLED')
    ks.enableKeySync(key)
    assert.equal(ks.getSecretValueSync('on-key').value, 'v1')
    throws(() => ks.createSecretSync('no-key', 'v', { keyId: 'alias/none' }), 'ERR_SEALBOX_KEY_NOT_FOUND')
  })

  it('deletes with a recovery window, restores, deletes for good', async () => {
    const { ks } = openSoft()
    ks.createSecretSync('a', 'alpha')
    ks.createSecretSync('b', 'beta')
    throws(() => ks.deleteSecretSync('a', { recoveryWindowDays: 6 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => ks.deleteSecretSync('a', { recoveryWindowDays: 31 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(
      () => ks.deleteSecretSync('a', { recoveryWindowDays: 7, forceDeleteWithoutRecovery: true }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
    const before = Date.now()
    const at = await ks.deleteSecret('a', { recoveryWindowDays: 7 })
    assert.ok(at instanceof Date)
    const days = (at.getTime() - before) / 86400e3
    assert.ok(days > 6.99 && days < 7.01, `${days}`)
    await rejects(ks.getSecretValue('a'), 'ERR_SEALBOX_INVALID_KEY_STATE', /scheduled for deletion/)
    throws(() => ks.putSecretValueSync('a', 'x'), 'ERR_SEALBOX_INVALID_KEY_STATE')
    throws(() => ks.deleteSecretSync('a'), 'ERR_SEALBOX_INVALID_KEY_STATE')
    assert.equal(ks.describeSecretSync('a').deletionDate.getTime(), at.getTime())
    assert.ok(ks.describeSecretSync('a').deletedDate instanceof Date)
    assert.deepEqual(ks.listSecretsSync().secrets.map((s) => s.name), ['b'])
    assert.deepEqual(ks.listSecretsSync({ includePlannedDeletion: true }).secrets.map((s) => s.name), ['a', 'b'])

    const restored = await ks.restoreSecret('a')
    assert.equal(restored.name, 'a')
    assert.equal(restored.deletionDate, undefined)
    assert.equal(ks.getSecretValueSync('a').value, 'alpha')
    throws(() => ks.restoreSecretSync('a'), 'ERR_SEALBOX_INVALID_KEY_STATE')

    const at2 = ks.deleteSecretSync('b')
    const d2 = (at2.getTime() - Date.now()) / 86400e3
    assert.ok(d2 > 29.9 && d2 <= 30, 'default window 30 days')
    ks.restoreSecretSync('b')
    ks.deleteSecretSync('b', { forceDeleteWithoutRecovery: true })
    throws(() => ks.describeSecretSync('b'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    throws(() => ks.restoreSecretSync('b'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    throws(() => ks.deleteSecretSync('nope'), 'ERR_SEALBOX_KEY_NOT_FOUND')
    // The name is free again.
    ks.createSecretSync('b', 'beta again')
    assert.equal(ks.getSecretValueSync('b').value, 'beta again')
  })

  it('rotates: the four steps in order, PENDING becomes CURRENT, old CURRENT PREVIOUS', () => {
    const { ks } = openSoft()
    const v1 = ks.createSecretSync('db', 'old-password').versionId
    const target = { password: 'old-password' }
    const calls = []
    const rotator = {
      createSecret(r) {
        calls.push([r.step, r.secretName, r.currentVersionId, r.pending])
        assert.equal(ks.getSecretValueSync(r.secretName).value, 'old-password')
        return 'new-password'
      },
      setSecret(r) {
        calls.push([r.step, r.pending])
        // The new value is stored as PENDING before the target changes.
        assert.equal(ks.getSecretValueSync('db', { versionStage: 'PENDING' }).value, 'new-password')
        assert.equal(ks.getSecretValueSync('db', { versionStage: 'PENDING' }).versionId, r.versionId)
        target.password = r.pending
      },
      testSecret(r) {
        calls.push([r.step, r.pending])
        if (target.password !== r.pending) throw new Error('login failed')
      },
      finishSecret(r) {
        calls.push([r.step, r.versionId])
      },
    }
    const out = ks.rotateSecretSync('db', rotator)
    assert.equal(out.name, 'db')
    assert.equal(out.previousVersionId, v1)
    assert.deepEqual(calls, [
      ['createSecret', 'db', v1, undefined],
      ['setSecret', 'new-password'],
      ['testSecret', 'new-password'],
      ['finishSecret', out.versionId],
    ])
    assert.equal(ks.getSecretValueSync('db').value, 'new-password')
    assert.equal(ks.getSecretValueSync('db').versionId, out.versionId)
    assert.equal(ks.getSecretValueSync('db', { versionStage: 'PREVIOUS' }).value, 'old-password')
    assert.deepEqual(stages(ks, 'db'), { [v1]: ['PREVIOUS'], [out.versionId]: ['CURRENT'] })
    assert.ok(ks.describeSecretSync('db').lastRotatedAt instanceof Date)

    // No createSecret: a random password; binary pending values as Buffers.
    let seen
    const r2 = ks.rotateSecretSync('db', {
      setSecret(r) {
        seen = r.pending
      },
      testSecret() {},
    })
    assert.equal(typeof seen, 'string')
    assert.equal(seen.length, 32)
    assert.equal(ks.getSecretValueSync('db').value, seen)
    assert.equal(ks.getSecretValueSync('db', { versionStage: 'PREVIOUS' }).value, 'new-password')
    assert.equal(r2.previousVersionId, out.versionId)
    ks.createSecretSync('bin', Buffer.from([1, 2, 3]))
    ks.rotateSecretSync('bin', {
      createSecret: () => Buffer.from([9, 8, 7]),
      setSecret(r) {
        assert.deepEqual(r.pending, Buffer.from([9, 8, 7]))
      },
      testSecret() {},
    })
    assert.deepEqual(ks.getSecretValueSync('bin').value, Buffer.from([9, 8, 7]))
  })

  it('a failing rotation step leaves CURRENT intact and the new version PENDING', () => {
    const { ks } = openSoft()
    const v1 = ks.createSecretSync('db', 'old').versionId
    for (const failing of ['setSecret', 'testSecret', 'finishSecret']) {
      const rotator = {
        createSecret: () => `new-${failing}`,
        setSecret() {},
        testSecret() {},
        finishSecret() {},
      }
      rotator[failing] = () => {
        throw new Error(`target refused at ${failing}`)
      }
      throws(
        () => ks.rotateSecretSync('db', rotator),
        'ERR_SEALBOX_INVALID_STATE',
        new RegExp(`failed at ${failing} \\(CURRENT is unchanged\\).*target refused at ${failing}`),
      )
      const cur = ks.getSecretValueSync('db')
      assert.equal(cur.value, 'old')
      assert.equal(cur.versionId, v1)
      assert.equal(ks.getSecretValueSync('db', { versionStage: 'PENDING' }).value, `new-${failing}`)
    }
    // createSecret failing, or returning what is not a value: nothing stored.
    const before = ks.listSecretVersionIdsSync('db', { includeDeprecated: true }).length
    throws(
      () => ks.rotateSecretSync('db', { createSecret: () => { throw new Error('no') }, setSecret() {}, testSecret() {} }),
      'ERR_SEALBOX_INVALID_STATE',
      /createSecret/,
    )
    throws(
      () => ks.rotateSecretSync('db', { createSecret: () => 42, setSecret() {}, testSecret() {} }),
      'ERR_SEALBOX_INVALID_STATE',
      /createSecret/,
    )
    throws(
      () => ks.rotateSecretSync('db', { createSecret: () => 'x'.repeat(65537), setSecret() {}, testSecret() {} }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
      /65536/,
    )
    // Asynchronous steps cannot run in the Sync form: refused before any
    // PENDING version is stored, CURRENT kept.
    const versionsBefore = ks.listSecretVersionIdsSync('db', { includeDeprecated: true }).length
    throws(
      () => ks.rotateSecretSync('db', { setSecret: async () => {}, testSecret() {} }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
      /async/,
    )
    assert.equal(ks.listSecretVersionIdsSync('db', { includeDeprecated: true }).length, versionsBefore)
    // A step that returns a Promise anyway (not declared async) is refused.
    throws(
      () => ks.rotateSecretSync('db', { setSecret: () => Promise.resolve(), testSecret() {} }),
      'ERR_SEALBOX_INVALID_STATE',
      /Promise/,
    )
    // A step whose method is gone when it is due fails; it is never skipped.
    let calls = 0
    const vanishing = {
      get setSecret() {
        calls += 1
        return calls === 1 ? () => {} : undefined
      },
      testSecret() {},
    }
    throws(() => ks.rotateSecretSync('db', vanishing), 'ERR_SEALBOX_INVALID_STATE', /setSecret/)
    assert.equal(ks.getSecretValueSync('db').versionId, v1)
    assert.ok(ks.listSecretVersionIdsSync('db', { includeDeprecated: true }).length >= before)
    // A rotator without the required steps, or of the wrong shape.
    throws(() => ks.rotateSecretSync('db', { setSecret() {} }), 'ERR_SEALBOX_INVALID_ARGUMENT', /testSecret/)
    throws(
      () => ks.rotateSecretSync('db', { setSecret: 1, testSecret() {} }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
      /function/,
    )
    throws(() => ks.rotateSecretSync('nope', { setSecret() {}, testSecret() {} }), 'ERR_SEALBOX_KEY_NOT_FOUND')
    // A later rotation succeeds and replaces the stale PENDING version.
    const ok = ks.rotateSecretSync('db', { createSecret: () => 'fresh', setSecret() {}, testSecret() {} })
    assert.equal(ks.getSecretValueSync('db').value, 'fresh')
    assert.equal(ok.previousVersionId, v1)
    assert.equal(ks.getSecretValueSync('db', { versionStage: 'PREVIOUS' }).value, 'old')
    throws(() => ks.getSecretValueSync('db', { versionStage: 'PENDING' }), 'ERR_SEALBOX_KEY_NOT_FOUND')
  })

  it('generates random passwords', async () => {
    const { ks } = openSoft()
    const p = await ks.getRandomPassword()
    assert.equal(typeof p, 'string')
    assert.equal(p.length, 32)
    const digits = ks.getRandomPasswordSync({
      passwordLength: 64,
      excludeLowercase: true,
      excludeUppercase: true,
      excludePunctuation: true,
    })
    assert.match(digits, /^[0-9]{64}$/)
    const noAmb = ks.getRandomPasswordSync({ passwordLength: 200, excludeCharacters: 'lI1O0' })
    assert.doesNotMatch(noAmb, /[lI1O0]/)
    assert.match(ks.getRandomPasswordSync({ passwordLength: 10, includeSpace: true, requireEachIncludedType: false }), /^.{10}$/)
    throws(() => ks.getRandomPasswordSync({ passwordLength: 0 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => ks.getRandomPasswordSync({ passwordLength: 4097 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(
      () =>
        ks.getRandomPasswordSync({
          excludeLowercase: true,
          excludeUppercase: true,
          excludeNumbers: true,
          excludePunctuation: true,
        }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
  })

  it('audits secret operations with the secret and version named', async () => {
    const { ks } = openSoft()
    const events = []
    ks.onAudit((e) => events.push(e))
    const v = ks.createSecretSync('audited', 'x').versionId
    ks.getSecretValueSync('audited')
    for (let i = 0; i < 500 && !events.some((e) => e.operation === 'GetSecretValue'); i++) {
      await new Promise((r) => setTimeout(r, 2))
    }
    const get = events.find((e) => e.operation === 'GetSecretValue')
    assert.ok(get, 'GetSecretValue audited')
    assert.match(JSON.stringify(get), new RegExp(`audited.*${v}`))
    assert.ok(events.some((e) => e.operation === 'CreateSecret'))
    assert.equal(JSON.stringify(events).includes('"x"'), false)
  })
})
