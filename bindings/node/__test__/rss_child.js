'use strict'
// Run by streams.test.js in its own process: writes a 256 MiB file,
// encrypts it with pipeline(createReadStream, createEncryptStream,
// createWriteStream), decrypts it back the same way while hashing, and
// prints the baseline and peak RSS (VmHWM) as one JSON line.

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pipeline } = require('node:stream/promises')

const sealbox = require('..')

const MIB = 1024 * 1024
const SIZE = 256 * MIB

function statusKiB(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return Number(m[1])
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealbox-rss-'))
  try {
    const src = path.join(dir, 'plain.bin')
    const enc = path.join(dir, 'plain.bin.sealed')
    const keyring = new sealbox.RawAesKeyring('rss', 'key', crypto.randomBytes(32))

    // The file is written through one reused 1 MiB buffer; its hash is
    // computed on the way.
    const block = crypto.randomBytes(MIB)
    const want = crypto.createHash('sha256')
    const fd = fs.openSync(src, 'w')
    for (let i = 0; i < SIZE / MIB; i++) {
      block[0] = i & 0xff
      fs.writeSync(fd, block)
      want.update(block)
    }
    fs.closeSync(fd)
    // Warm up the addon and the stream machinery on a small message, so
    // that the baseline includes the loaded code, not the data.
    await pipeline(fs.createReadStream(src, { end: MIB }), sealbox.createEncryptStream({ keyring }), fs.createWriteStream(enc))
    global.gc?.()
    const baselineKiB = statusKiB('VmRSS')

    await pipeline(
      fs.createReadStream(src),
      sealbox.createEncryptStream({ keyring, encryptionContext: { file: 'plain.bin' } }),
      fs.createWriteStream(enc),
    )
    const got = crypto.createHash('sha256')
    let bytes = 0
    await pipeline(fs.createReadStream(enc), sealbox.createDecryptStream({ keyring }), async function* (source) {
      for await (const chunk of source) {
        got.update(chunk)
        bytes += chunk.length
      }
    })
    const peakKiB = statusKiB('VmHWM')
    const roundTrip = got.digest('hex') === want.digest('hex')

    // One-shot calls must not pile up unaccounted memory either: 300
    // messages of 1 MiB, each result dropped at once.
    const before = statusKiB('VmRSS')
    for (let i = 0; i < 300; i++) sealbox.encryptSync(block, { keyring })
    const oneShotGrowthKiB = statusKiB('VmRSS') - before
    process.stdout.write(`${JSON.stringify({ baselineKiB, peakKiB, bytes, roundTrip, oneShotGrowthKiB })}\n`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`)
  process.exit(1)
})
