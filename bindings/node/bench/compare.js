'use strict'
// `make bench-node`: sealbox beside the AWS Encryption SDK for JavaScript
// (@aws-crypto/client-node, raw AES keyring, committing suite 0x0478 and
// the signing suite 0x0578) and node's own crypto (aes-256-gcm, no message
// format: the floor), for 1 KiB and 1 MiB messages, in one run. Prints
// operations per second and the ratios, and whether sealbox meets its
// targets (20x the AWS SDK on 1 KiB, 10x on 1 MiB). It reports; it does
// not fail.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const sealbox = require('..')
// The AWS SDK client and keyring, as the interop test makes them.
const { AWS_SUITES: SUITE, aws, awsAesKeyring } = require('../__test__/aws')

const SECONDS = Number(process.env.SEALBOX_BENCH_SECONDS || 1.5)
const KIB = 1024
const MIB = 1024 * 1024
const TARGETS = { [KIB]: 20, [MIB]: 10 }

const wrappingKey = crypto.randomBytes(32)
const sbKeyring = new sealbox.RawAesKeyring('bench', 'aes-256', wrappingKey)
const awsKeyring = awsAesKeyring('bench', 'aes-256', wrappingKey)
const EC = { purpose: 'bench', tenant: 'acme' }

/** Rounds per row; the best counts (as in the Python bench): a row is a
 * contender's speed, not the noise of whatever else the machine did. */
const ROUNDS = 3

/** Operations per second of `fn` (sync or async), one call at a time: the
 * best of ROUNDS rounds of SECONDS / ROUNDS each. */
async function measure(fn) {
  const warm = Date.now() + 200
  while (Date.now() < warm) await fn()
  const budget = BigInt(Math.round((SECONDS / ROUNDS) * 1e9))
  let best = 0
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0
    const start = process.hrtime.bigint()
    let elapsed = 0n
    while (elapsed < budget) {
      for (let i = 0; i < 8; i++) await fn()
      n += 8
      elapsed = process.hrtime.bigint() - start
    }
    best = Math.max(best, n / (Number(elapsed) / 1e9))
  }
  return best
}

/** Seconds that encrypting one 0x0578 message of `size` bytes cannot do
 * without on the default provider (aws-lc): a P-384 key pair and signature
 * and SHA-384 over the message, as `make bench-envelope` measured them
 * (core/benches/envelope.rs); null when that bench has not run. */
function signingFloorSeconds(size) {
  const target = process.env.CARGO_TARGET_DIR || path.join(__dirname, '..', '..', '..', 'target')
  // The fastest of criterion's samples: a floor, not a typical time.
  const fastest = (id) => {
    try {
      const file = path.join(target, 'criterion', 'envelope-aws-lc_signing_floor', id, 'new', 'sample.json')
      const { times, iters } = JSON.parse(fs.readFileSync(file, 'utf8'))
      return Math.min(...times.map((t, i) => t / iters[i]))
    } catch {
      return null
    }
  }
  const sign = fastest('p384-keygen-sign')
  const hash = fastest('sha384-1MiB')
  return sign === null || hash === null ? null : (sign + (hash * size) / MIB) / 1e9
}

function nodeGcm(key, pt) {
  const iv = crypto.randomBytes(12)
  const c = crypto.createCipheriv('aes-256-gcm', key, iv)
  const out = Buffer.concat([iv, c.update(pt), c.final(), c.getAuthTag()])
  return out
}

async function checkOutputs(pt) {
  // Every contender produces something the other side reads back, so the
  // bench measures real, interoperable work.
  const ct = await sealbox.encrypt(pt, { keyring: sbKeyring, encryptionContext: EC })
  const { plaintext } = await aws.decrypt(awsKeyring, ct)
  if (!Buffer.from(plaintext).equals(pt)) throw new Error('AWS SDK did not read sealbox output')
  const { result } = await aws.encrypt(awsKeyring, pt, { encryptionContext: EC, suiteId: SUITE[0x0578] })
  if (!sealbox.decryptSync(result, { keyring: sbKeyring }).plaintext.equals(pt)) {
    throw new Error('sealbox did not read AWS SDK output')
  }
}

const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1))

async function main() {
  const rows = []
  const verdicts = []
  for (const size of [KIB, MIB]) {
    const pt = crypto.randomBytes(size)
    await checkOutputs(pt)
    const label = size === KIB ? '1 KiB' : '1 MiB'
    const r = {}
    for (const suite of [0x0478, 0x0578]) {
      const opts = { keyring: sbKeyring, encryptionContext: EC, algorithmSuite: suite }
      r[`sealbox encrypt() ${suite.toString(16)}`] = await measure(() => sealbox.encrypt(pt, opts))
      r[`sealbox encryptSync() ${suite.toString(16)}`] = await measure(() => sealbox.encryptSync(pt, opts))
      r[`aws-crypto encrypt() ${suite.toString(16)}`] = await measure(() =>
        aws.encrypt(awsKeyring, pt, { encryptionContext: EC, suiteId: SUITE[suite] }),
      )
    }
    // Decryption of the unsigned suite: the Promise form of a large message
    // decrypts straight into the Buffer it resolves with.
    const sbCt = sealbox.encryptSync(pt, { keyring: sbKeyring, encryptionContext: EC })
    const { result: awsCt } = await aws.encrypt(awsKeyring, pt, { encryptionContext: EC, suiteId: SUITE[0x0478] })
    r['sealbox decrypt() 478'] = await measure(() => sealbox.decrypt(sbCt, { keyring: sbKeyring }))
    r['sealbox decryptSync() 478'] = await measure(() => sealbox.decryptSync(sbCt, { keyring: sbKeyring }))
    r['aws-crypto decrypt() 478'] = await measure(() => aws.decrypt(awsKeyring, awsCt))
    const key = crypto.randomBytes(32)
    r['node crypto aes-256-gcm'] = await measure(() => nodeGcm(key, pt))
    for (const [name, ops] of Object.entries(r)) rows.push({ size: label, name, ops })
    for (const [op, suite] of [['encrypt', '478'], ['encrypt', '578'], ['decrypt', '478']]) {
      const sb = r[`sealbox ${op}() ${suite}`]
      const sbSync = r[`sealbox ${op}Sync() ${suite}`]
      const awsOps = r[`aws-crypto ${op}() ${suite}`]
      const ratio = sb / awsOps
      verdicts.push({
        size: label,
        suite: `${op} 0x0${suite}${suite === '578' ? ' (signing)' : ''}`,
        ratio,
        syncRatio: sbSync / awsOps,
        target: TARGETS[size],
        gcm: sb / r['node crypto aes-256-gcm'],
        floor: suite === '578' && op === 'encrypt' ? signingFloorSeconds(size) : null,
        awsOps,
      })
    }
  }

  console.log(`\nsealbox vs @aws-crypto/client-node 5.0.2 vs node:crypto (node ${process.version}, one call at a time, best of ${ROUNDS} rounds in ${SECONDS}s per row)\n`)
  console.log('each with its default frame length: sealbox 16384, the AWS SDK 4096\n')
  console.log(`${'size'.padEnd(6)}  ${'implementation'.padEnd(28)}  ${'ops/s'.padStart(12)}  ${'MiB/s'.padStart(9)}`)
  for (const row of rows) {
    const mibs = (row.ops * (row.size === '1 KiB' ? KIB : MIB)) / MIB
    console.log(`${row.size.padEnd(6)}  ${row.name.padEnd(28)}  ${fmt(row.ops).padStart(12)}  ${fmt(mibs).padStart(9)}`)
  }
  console.log('\nratios (sealbox Promise form / AWS SDK, same operation and suite):')
  for (const v of verdicts) {
    const met = v.ratio >= v.target ? 'MET' : 'NOT MET'
    console.log(
      `  ${v.size.padEnd(6)} ${v.suite.padEnd(26)} ${v.ratio.toFixed(1).padStart(7)}x  (Sync form ${v.syncRatio.toFixed(1)}x; ` +
        `sealbox at ${(v.gcm * 100).toFixed(0)}% of bare node aes-256-gcm)  target ${v.target}x: ${met}`,
    )
    if (v.floor !== null) {
      // The AWS SDK's time over the floor: no implementation on AWS-LC's
      // P-384 and SHA-384 on this machine does better.
      console.log(
        `         ceiling here ${(1 / (v.awsOps * v.floor)).toFixed(1)}x: P-384 keygen+sign and SHA-384 alone take ${Math.round(v.floor * 1e6)} us`,
      )
    }
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
