'use strict'
// sealbox from Node in one page: a key store with a root key file, a key
// with an alias, envelope encryption of a record and of a file stream.
//
//   cd bindings/node && npm install     # builds the addon
//   node examples/node/quickstart.js    # or: make demo-node

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pipeline } = require('node:stream/promises')

const sealbox = require('../../bindings/node')

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealbox-quickstart-'))
  try {
    // 1. The root key seals the key store's material. In production it
    //    comes from your secret manager or a 0600 file; here, a new file.
    const rootKeyFile = path.join(dir, 'root.key')
    sealbox.RootKey.generate().writeNewFile(rootKeyFile)
    const ks = await sealbox.KeyStore.open(path.join(dir, 'keys.db'), {
      rootKey: sealbox.RootKey.fromFile(rootKeyFile),
    })
    console.log(`Opened a key store in ${dir} (backend: ${ks.backendKind}).`)

    // 2. A master key with an alias. Its material never leaves the store.
    const key = await ks.createKey({ alias: 'alias/orders', description: 'order records' })
    console.log(`Created key ${key.keyId} (${key.keySpec}) with alias alias/orders.`)

    // 3. Envelope encryption: a fresh data key per message, wrapped by the
    //    key store; the output is an AWS Encryption SDK message.
    const keyring = ks.keyring('alias/orders')
    const context = { tenant: 'acme', purpose: 'order' }
    const record = Buffer.from('card 4111 1111 1111 1111, exp 12/29')
    const message = await sealbox.encrypt(record, { keyring, encryptionContext: context })
    console.log(`Encrypted a ${record.length}-byte record into a ${message.length}-byte message.`)

    const { plaintext, encryptionContext } = await sealbox.decrypt(message, {
      keyring,
      encryptionContext: context,
    })
    console.log(`Decrypted it again: "${plaintext}" (tenant ${encryptionContext.tenant}).`)

    try {
      await sealbox.decrypt(message, { keyring, encryptionContext: { tenant: 'someone-else' } })
    } catch (e) {
      console.log(`With the wrong context, decryption is refused: ${e.code}.`)
    }

    // 4. Streams: a file of any size, in constant memory.
    const original = path.join(dir, 'report.csv')
    fs.writeFileSync(original, 'order,amount\n'.concat('1234,99.90\n'.repeat(100000)))
    await pipeline(
      fs.createReadStream(original),
      sealbox.createEncryptStream({ keyring, encryptionContext: { file: 'report.csv' } }),
      fs.createWriteStream(`${original}.sealed`),
    )
    await pipeline(
      fs.createReadStream(`${original}.sealed`),
      sealbox.createDecryptStream({ keyring, encryptionContext: { file: 'report.csv' } }),
      fs.createWriteStream(`${original}.out`),
    )
    const same = crypto
      .createHash('sha256')
      .update(fs.readFileSync(original))
      .digest()
      .equals(crypto.createHash('sha256').update(fs.readFileSync(`${original}.out`)).digest())
    console.log(
      `Streamed a ${fs.statSync(original).size}-byte file through encryption and back: ${same ? 'identical' : 'DIFFERENT'}.`,
    )
    if (!same) process.exitCode = 1

    // 5. Every use of the key is in the tamper-evident audit log.
    const report = await ks.verifyAuditLog()
    console.log(`The audit log holds ${report.records} records and ${report.ok ? 'verifies' : 'does NOT verify'}.`)
    if (!report.ok) process.exitCode = 1
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
