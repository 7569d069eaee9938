'use strict'
// Shared helpers of the node:test suites: temporary directories, key stores
// on both backends, a private SoftHSM2 token, error assertions, a
// collecting stream.

const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Writable } = require('node:stream')

const sealbox = require('..')

const dirs = []
process.on('exit', () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

function tempDir(tag = 'node') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `sealbox-${tag}-`))
  dirs.push(d)
  return d
}

/** A soft key store in a fresh directory, with its root key file. */
function openSoft(options = {}) {
  const dir = tempDir('ks')
  const rootPath = path.join(dir, 'root.key')
  sealbox.RootKey.generate().writeNewFile(rootPath)
  const ks = sealbox.KeyStore.openSync(path.join(dir, 'keys.db'), {
    rootKey: sealbox.RootKey.fromFile(rootPath),
    principal: 'node-tests',
    ...options,
  })
  return { ks, dir, rootPath }
}

const PKCS11_MODULE = process.env.SEALBOX_PKCS11_MODULE || '/usr/lib/softhsm/libsofthsm2.so'
const TOKEN_LABEL = 'sealbox-node-tests'
const USER_PIN = '3141592653'
const SO_PIN = '2718281828'
let token = null

/**
 * The token of the PKCS#11 tests: a SoftHSM2 token created once per
 * process in a private directory (SOFTHSM2_CONF is set before the module
 * is first loaded), unless SEALBOX_PKCS11_TOKEN / SEALBOX_PKCS11_PIN name
 * the token of another module (SEALBOX_PKCS11_MODULE).
 */
function pkcs11Token() {
  if (token) return token
  if (process.env.SEALBOX_PKCS11_TOKEN && process.env.SEALBOX_PKCS11_PIN) {
    token = { label: process.env.SEALBOX_PKCS11_TOKEN, pin: process.env.SEALBOX_PKCS11_PIN }
    return token
  }
  const dir = tempDir('softhsm')
  const tokens = path.join(dir, 'tokens')
  fs.mkdirSync(tokens)
  const conf = path.join(dir, 'softhsm2.conf')
  fs.writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  )
  process.env.SOFTHSM2_CONF = conf
  const r = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', TOKEN_LABEL, '--so-pin', SO_PIN, '--pin', USER_PIN],
    { encoding: 'utf8' },
  )
  if (r.error || r.status !== 0) {
    throw new Error(`softhsm2-util --init-token failed: ${r.error || r.stderr}`)
  }
  token = { label: TOKEN_LABEL, pin: USER_PIN }
  return token
}

function pkcs11Options() {
  const t = pkcs11Token()
  return { module: PKCS11_MODULE, tokenLabel: t.label, pin: t.pin }
}

/** A key store whose keys live in the test token. */
async function openPkcs11(options = {}) {
  const dir = tempDir('hsm')
  const ks = await sealbox.KeyStore.open(path.join(dir, 'keys.db'), {
    pkcs11: pkcs11Options(),
    principal: 'node-tests',
    ...options,
  })
  return { ks, dir }
}

/** Asserts a SealboxError with `code`, thrown by `fn` or rejected by its Promise. */
async function rejects(fnOrPromise, code, message) {
  const p = typeof fnOrPromise === 'function' ? Promise.resolve().then(fnOrPromise) : fnOrPromise
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof sealbox.SealboxError, `expected a SealboxError, got ${e && e.stack}`)
    assert.equal(e.code, code, e.message)
    if (message) assert.match(e.message, message)
    return true
  })
}

/** Asserts that `fn()` throws synchronously a SealboxError with `code`. */
function throws(fn, code, message) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof sealbox.SealboxError, `expected a SealboxError, got ${e && e.stack}`)
    assert.equal(e.code, code, e.message)
    if (message) assert.match(e.message, message)
    return true
  })
}

/** A Writable that collects everything; `data()` is what it got. */
function sink() {
  const parts = []
  const w = new Writable({
    write(chunk, _enc, cb) {
      parts.push(chunk)
      cb()
    },
  })
  w.data = () => Buffer.concat(parts)
  return w
}

module.exports = {
  sealbox,
  sink,
  tempDir,
  openSoft,
  openPkcs11,
  pkcs11Options,
  rejects,
  throws,
  PKCS11_MODULE,
}
