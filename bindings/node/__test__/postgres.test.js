'use strict'
// The PostgreSQL metadata store from Node (issue 15, shared custody), on the
// test server of `make pg-start` (SEALBOX_TEST_PG_URL, SEALBOX_TEST_PG_CA):
// opening by URL, a round trip, one audit chain for two handles, the
// propagation bound, and the errors. Each test gets a fresh database,
// dropped at its end. Without a server the tests are skipped, except on CI
// (CI set), where a missing server is a failure.

const { describe, it, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')

const { sealbox, rejects, throws } = require('./helpers')

const { KeyStore } = sealbox
const SERVER = process.env.SEALBOX_TEST_PG_URL || ''
const EC = { purpose: 'node-postgres-tests' }
const ROOT = Buffer.alloc(32, 7)

if (!SERVER && process.env.CI) {
  throw new Error('SEALBOX_TEST_PG_URL is not set: on CI the PostgreSQL tests must run (make pg-start)')
}
const skip = SERVER ? false : 'no test PostgreSQL server (make pg-start; SEALBOX_TEST_PG_URL)'

/** Runs `sql` with psql as the test server's owner role; its output. */
function psql(url, sql) {
  const r = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
  })
  if (r.error || r.status !== 0) throw new Error(`psql failed: ${r.error || r.stderr}`)
  return r.stdout.trim()
}

/** `url` with its database replaced by `db` (the query kept). */
function withDatabase(url, db) {
  const [base, query] = url.split(/\?(.*)/s)
  const scheme = base.indexOf('://') + 3
  const slash = base.indexOf('/', scheme)
  const host = slash < 0 ? base : base.slice(0, slash)
  return `${host}/${db}${query ? `?${query}` : ''}`
}

const made = []
/**
 * Drops a test database. `WITH (FORCE)` is refused ("must be a member of
 * the role whose process is being terminated") while an autovacuum worker,
 * a superuser process, works on the database; it soon ends, so the drop is
 * tried again for up to 5 s, then the database is left to the temporary
 * server (cleaning up is not what these tests test).
 */
function dropDatabase(db) {
  for (let attempt = 0; ; attempt++) {
    try {
      psql(SERVER, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
      return
    } catch (e) {
      if (attempt >= 50) {
        console.warn(`left test database ${db}: ${e.message}`)
        return
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
    }
  }
}

after(() => {
  for (const db of made) dropDatabase(db)
})

/** A fresh, empty database on the test server, by URL. */
function freshDatabase() {
  const name = `sbnode_${process.pid}_${crypto.randomBytes(6).toString('hex')}`
  psql(SERVER, `CREATE DATABASE ${name}`)
  made.push(name)
  return withDatabase(SERVER, name)
}

const root = () => sealbox.RootKey.fromBytes(ROOT)

describe('KeyStore on PostgreSQL', { skip }, () => {
  it('opens by URL and round-trips, in both forms, with the audit trail in the database', async () => {
    const url = freshDatabase()
    const ks = await KeyStore.open(url, { rootKey: root(), principal: 'node-a' })
    assert.equal(ks.metadataCacheTtlMs(), 1000)
    assert.equal(ks.auditLogPath, null)
    assert.match(ks.auditLogLocation, /audit_log/)
    const key = await ks.createKey({ alias: 'alias/orders' })
    const dk = await ks.generateDataKey('alias/orders', { encryptionContext: EC })
    assert.deepEqual(await ks.decrypt(dk.ciphertext, { encryptionContext: EC }), dk.plaintext)
    const kr = ks.keyring('alias/orders')
    const message = await sealbox.encrypt(Buffer.from('orders.csv'), { keyring: kr, encryptionContext: EC })
    assert.equal((await sealbox.decrypt(message, { keyring: kr })).plaintext.toString(), 'orders.csv')
    assert.equal(await ks.rotateKey(key.keyId), 2)
    const dk2 = ks.generateDataKeySync(key.keyId, { encryptionContext: EC })
    assert.equal(dk2.keyVersion, 2)
    assert.deepEqual(ks.decryptSync(dk.ciphertext, { encryptionContext: EC }), dk.plaintext)

    // A second handle (another process, as far as the store can tell)
    // writes into the same trail, in its own chain.
    const other = KeyStore.openSync(url, { rootKey: root(), principal: 'node-b' })
    assert.deepEqual(await other.decrypt(dk2.ciphertext, { encryptionContext: EC }), dk2.plaintext)
    await Promise.all([
      ...Array.from({ length: 10 }, () => ks.generateRandom(8)),
      ...Array.from({ length: 10 }, () => other.generateRandom(8)),
    ])
    const report = await other.verifyAuditLog()
    assert.equal(report.ok, true, JSON.stringify(report))
    const records = await ks.auditRecords()
    assert.equal(records.length, report.records)
    // Positions name the records; each chain (changes to keys, and each
    // handle's writer) numbers its own records 0, 1, 2, ...
    assert.equal(new Set(records.map((r) => r.seq)).size, records.length)
    const chains = new Map()
    for (const r of records) {
      const rec = JSON.parse(r.line)
      if (!chains.has(rec.writer)) chains.set(rec.writer, [])
      chains.get(rec.writer).push(rec.seq)
    }
    assert.ok(chains.size >= 3, [...chains.keys()].join())
    for (const numbers of chains.values()) numbers.forEach((n, i) => assert.equal(n, i))
    const page = await ks.auditRecords(records[4].seq, 3)
    assert.deepEqual(page, records.slice(5, 8))
    const principals = new Set(records.map((r) => JSON.parse(r.line).principal))
    assert.deepEqual([...principals].sort(), ['node-a', 'node-b'])
    assert.ok(records.every((r) => typeof JSON.parse(r.line).mac === 'string'))
    assert.deepEqual(ks.verifyAuditLogSync(), report)
  })

  it('honours a disable made through another handle within metadataCacheTtlMs', async () => {
    const url = freshDatabase()
    const ttl = 300
    const admin = KeyStore.openSync(url, { rootKey: root(), principal: 'admin' })
    const app = KeyStore.openSync(url, { rootKey: root(), principal: 'app', metadataCacheTtlMs: ttl })
    assert.equal(app.metadataCacheTtlMs(), ttl)
    const key = await admin.createKey({ alias: 'alias/revoked' })
    await app.generateDataKey('alias/revoked', { encryptionContext: EC })
    await admin.disableKey(key.keyId)
    const disabledAt = performance.now()
    let seenAfter = null
    while (seenAfter === null) {
      try {
        await app.generateDataKey('alias/revoked', { encryptionContext: EC })
      } catch (e) {
        assert.equal(e.code, 'ERR_SEALBOX_KEY_DISABLED', e.message)
        seenAfter = performance.now() - disabledAt
        break
      }
      assert.ok(performance.now() - disabledAt < 5 * ttl + 2000, 'the disable was never seen')
      await new Promise((r) => setTimeout(r, 10))
    }
    // The bound, plus the scheduling slack of a loaded machine.
    assert.ok(seenAfter <= ttl + 250, `seen after ${seenAfter} ms`)
  })

  it('reports the errors of a server that cannot be used', async () => {
    const unreachable = 'postgresql://sealbox:pw@127.0.0.1:9/sealbox'
    const t = performance.now()
    await rejects(KeyStore.open(unreachable, { rootKey: root() }), 'ERR_SEALBOX_STORE_UNAVAILABLE')
    throws(() => KeyStore.openSync(unreachable, { rootKey: root() }), 'ERR_SEALBOX_STORE_UNAVAILABLE')
    assert.ok(performance.now() - t < 20000)

    assert.ok(SERVER.includes(':sealbox-test-pw@'), 'the test URL carries the test password')
    const wrong = SERVER.replace(':sealbox-test-pw@', ':not-the-password-42@')
    await assert.rejects(KeyStore.open(wrong, { rootKey: root() }), (e) => {
      assert.equal(e.code, 'ERR_SEALBOX_STORAGE_ERROR', e.message)
      assert.ok(!e.message.includes('not-the-password-42'), e.message)
      return true
    })

    const url = freshDatabase()
    await rejects(
      KeyStore.open(url, { rootKey: root(), auditLog: '/tmp/sealbox-node-not-used.jsonl' }),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
    await rejects(KeyStore.open(url, { rootKey: root(), metadataCacheTtlMs: -1 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })

  it('verifies the server with sslmode=verify-full and the test CA', async () => {
    const ca = process.env.SEALBOX_TEST_PG_CA
    assert.ok(ca, 'SEALBOX_TEST_PG_CA is set with SEALBOX_TEST_PG_URL by make pg-start')
    const url = freshDatabase()
    const ks = await KeyStore.open(`${url}?sslmode=verify-full&sslrootcert=${ca}`, { rootKey: root() })
    const key = await ks.createKey()
    const ct = await ks.encrypt(key.keyId, Buffer.from('over TLS'), { encryptionContext: EC })
    assert.equal((await ks.decrypt(ct, { encryptionContext: EC })).toString(), 'over TLS')
    assert.equal((await ks.verifyAuditLog()).ok, true)
  })
})
