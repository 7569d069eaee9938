'use strict'
// createEncryptStream / createDecryptStream: Transform streams under
// stream.pipeline, backpressure, tampering and truncation, the event loop
// during long work, and peak memory over a 256 MiB file.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const path = require('node:path')
const { Readable, Writable } = require('node:stream')
const { pipeline } = require('node:stream/promises')

const { sealbox, openSoft, rejects, sink, throws } = require('./helpers')

const { RawAesKeyring, createEncryptStream, createDecryptStream, encrypt, decryptSync } = sealbox

const kr = new RawAesKeyring('node-tests', 'stream-key', crypto.randomBytes(32))
const EC = { file: 'report.csv' }
const MIB = 1024 * 1024

/** A Readable of `data` in chunks of `size` bytes. */
function chunks(data, size) {
  let at = 0
  return new Readable({
    read() {
      if (at >= data.length) return this.push(null)
      this.push(data.subarray(at, at + size))
      at += size
    },
  })
}

describe('streams', () => {
  it('round-trip through pipeline with any chunk size and both suites', async () => {
    const data = crypto.randomBytes(300 * 1024 + 17)
    for (const [algorithmSuite, size] of [
      [0x0478, 1],
      [0x0478, 1000],
      [0x0578, 64 * 1024],
      [0x0578, 200 * 1024],
    ]) {
      const input = size === 1 ? data.subarray(0, 5000) : data
      const out = sink()
      await pipeline(chunks(input, size), createEncryptStream({ keyring: kr, encryptionContext: EC, algorithmSuite }), out)
      const ct = out.data()
      // The one-shot decrypt reads what the stream wrote ...
      assert.deepEqual(decryptSync(ct, { keyring: kr, encryptionContext: EC }).plaintext, input)
      // ... and the decrypt stream reads what one-shot encrypt wrote.
      const ct2 = await encrypt(input, { keyring: kr, encryptionContext: EC, algorithmSuite })
      const dec = createDecryptStream({ keyring: kr })
      assert.equal(dec.encryptionContext, null)
      const back = sink()
      await pipeline(chunks(ct2, size === 1 ? 7 : size), dec, back)
      assert.deepEqual(back.data(), input)
      assert.equal(dec.encryptionContext.file, 'report.csv')
    }
  })

  it('threads 1 and 2 write the same frames and read them alike; 0 threads is refused', async () => {
    const data = crypto.randomBytes(3 * MIB + 77)
    for (const size of [MIB, 8192]) {
      const sealed = []
      for (const threads of [1, 2]) {
        const out = sink()
        await pipeline(chunks(data, size), createEncryptStream({ keyring: kr, encryptionContext: EC, threads }), out)
        sealed.push(out.data())
      }
      // The same frames, sealed on one thread or two.
      assert.equal(sealed[0].length, sealed[1].length)
      for (const ct of sealed) {
        for (const threads of [1, 2]) {
          const back = sink()
          await pipeline(chunks(ct, size), createDecryptStream({ keyring: kr, threads }), back)
          assert.deepEqual(back.data(), data)
          assert.deepEqual(decryptSync(ct, { keyring: kr, threads }).plaintext, data)
        }
      }
    }
    throws(() => createEncryptStream({ keyring: kr, threads: 0 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })

  it('accepts strings and Uint8Array chunks; refuses other chunks', async () => {
    const out = sink()
    await pipeline(Readable.from(['hello ', new Uint8Array([119, 111, 114, 108, 100])]), createEncryptStream({ keyring: kr }), out)
    assert.equal(decryptSync(out.data(), { keyring: kr }).plaintext.toString(), 'hello world')
    // (Node itself refuses objects written to a byte stream; in object
    // mode they reach sealbox, which refuses them.)
    await rejects(
      pipeline(Readable.from([{ not: 'bytes' }]), createEncryptStream({ keyring: kr }, { writableObjectMode: true }), sink()),
      'ERR_SEALBOX_INVALID_ARGUMENT',
    )
  })

  it('refuses bad options when the stream is created', () => {
    throws(() => createEncryptStream({}), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => createEncryptStream({ keyring: kr, frameLength: -5 }), 'ERR_SEALBOX_INVALID_ARGUMENT')
    throws(() => createDecryptStream({ keyring: 'kr' }), 'ERR_SEALBOX_INVALID_ARGUMENT')
  })

  it('fails a truncated or tampered message, and never emits the unverified last frame of a signed suite', async () => {
    const data = crypto.randomBytes(40 * 1024)
    for (const algorithmSuite of [0x0478, 0x0578]) {
      const ct = await encrypt(data, { keyring: kr, algorithmSuite })
      for (const bad of [ct.subarray(0, ct.length - 1), ct.subarray(0, ct.length >> 1), Buffer.concat([ct, Buffer.from([1])])]) {
        await rejects(pipeline(chunks(bad, 4096), createDecryptStream({ keyring: kr }), sink()), 'ERR_SEALBOX_DECRYPTION_FAILED')
      }
      // Flip a bit of the signature (0x0578) or of the final frame's tag
      // (0x0478): the last frame's plaintext must not come out.
      const bad = Buffer.from(ct)
      bad[bad.length - 2] ^= 1
      const out = sink()
      await rejects(pipeline(chunks(bad, 4096), createDecryptStream({ keyring: kr }), out), 'ERR_SEALBOX_DECRYPTION_FAILED')
      assert.ok(out.data().length < data.length, 'the final frame was withheld')
      assert.deepEqual(out.data(), data.subarray(0, out.data().length), 'what came out is authentic')
    }
    const wrong = new RawAesKeyring('node-tests', 'stream-key', crypto.randomBytes(32))
    const ct = await encrypt(data, { keyring: kr })
    const out = sink()
    await rejects(pipeline(chunks(ct, 4096), createDecryptStream({ keyring: wrong }), out), 'ERR_SEALBOX_DECRYPTION_FAILED')
    assert.equal(out.data().length, 0)
  })

  it('respects backpressure from a slow consumer', async () => {
    const total = 8 * MIB
    const piece = 64 * 1024
    let produced = 0
    let consumed = 0
    let maxAhead = 0
    const source = new Readable({
      highWaterMark: piece,
      read() {
        if (produced >= total) return this.push(null)
        produced += piece
        maxAhead = Math.max(maxAhead, produced - consumed)
        this.push(Buffer.alloc(piece, produced & 0xff))
      },
    })
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk, _enc, cb) {
        consumed += chunk.length
        setImmediate(cb)
      },
    })
    await pipeline(source, createEncryptStream({ keyring: kr }), slow)
    assert.equal(produced, total)
    assert.ok(consumed > total, 'every byte (plus the message overhead) reached the consumer')
    // Without backpressure the source would be read to its end at once
    // (8 MiB ahead); with it, only the streams' buffers fill.
    assert.ok(maxAhead <= 1 * MIB, `the source ran ${maxAhead} bytes ahead of the consumer`)
  })

  it('keeps the event loop free during long work (Promise forms and streams)', async () => {
    const big = crypto.randomBytes(64 * MIB)
    let settled = false
    let ticksBefore = 0
    const tick = () => {
      if (settled) return
      ticksBefore += 1
      setImmediate(tick)
    }
    setImmediate(tick)
    const ct = await encrypt(big, { keyring: kr })
    settled = true
    assert.ok(ticksBefore > 0, 'the event loop turned while encrypt() ran')

    settled = false
    ticksBefore = 0
    setImmediate(tick)
    const out = sink()
    await pipeline(chunks(ct, 4 * MIB), createDecryptStream({ keyring: kr }), out)
    settled = true
    assert.ok(ticksBefore > 0, 'the event loop turned while the decrypt stream ran')
    assert.equal(out.data().length, big.length)

    const { ks } = openSoft()
    const key = ks.createKeySync()
    settled = false
    ticksBefore = 0
    setImmediate(tick)
    await Promise.all(Array.from({ length: 20 }, () => ks.generateDataKey(key.keyId)))
    settled = true
    assert.ok(ticksBefore > 0, 'the event loop turned while key-store calls ran')
  })

  it('streams a 256 MiB file within 64 MiB of the baseline RSS; one-shot results do not pile up', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'rss_child.js')], {
      encoding: 'utf8',
      timeout: 300000,
    })
    assert.equal(r.status, 0, `child failed: ${r.stderr}`)
    const m = JSON.parse(r.stdout.trim().split('\n').pop())
    assert.equal(m.bytes, 256 * MIB)
    assert.equal(m.roundTrip, true, 'the file decrypted to the same bytes')
    const growth = m.peakKiB - m.baselineKiB
    process.stdout.write(`# 256 MiB stream: baseline ${m.baselineKiB} KiB, peak ${m.peakKiB} KiB, growth ${growth} KiB\n`)
    assert.ok(growth < 64 * 1024, `peak RSS grew ${growth} KiB over the baseline`)
    assert.ok(m.oneShotGrowthKiB < 64 * 1024, `300 one-shot 1 MiB messages grew RSS by ${m.oneShotGrowthKiB} KiB`)
  })
})
