// The package as a TypeScript user sees it: __test__/types.test.js
// compiles this file (tsc --strict) against sealbox.d.ts and the generated
// index.d.ts, then runs `usage`, so the types are checked against what the
// addon really does. The `@ts-expect-error` lines in `misuse` must fail to
// compile: the types reject misuse rather than accept anything.
import { pipeline } from 'node:stream/promises'
import { Readable, Writable } from 'node:stream'

import * as sealbox from '../..'
import {
  CachingMaterialsManager,
  DecryptStream,
  KeyStore,
  MultiKeyring,
  RawAesKeyring,
  RootKey,
  SealboxError,
  SealboxErrorCode,
} from '../..'

export async function usage(dir: string): Promise<void> {
  const ks: KeyStore = await KeyStore.open(`${dir}/keys.db`, { rootKey: RootKey.generate() })
  const key = await ks.createKey({ alias: 'alias/orders', keySpec: 'AES_256', keyUsage: 'ENCRYPT_DECRYPT' })
  const id: string = key.keyId
  ks.onAudit((event) => {
    const op: string = event.operation
    void op
  })

  const keyring = ks.keyring('alias/orders')
  const aes = new RawAesKeyring('ns', 'name', new Uint8Array(32))
  const cmm = new CachingMaterialsManager(new MultiKeyring(aes, [keyring]), { maxAge: 60 })
  const message: Buffer = await sealbox.encrypt(Buffer.from('x'), { keyring, encryptionContext: { a: 'b' } })
  const sync: Buffer = sealbox.encryptSync(new Uint8Array(3), { materialsManager: cmm, algorithmSuite: 0x0578 })
  const res = await sealbox.decrypt(message, { keyring, encryptionContext: { a: 'b' } })
  const pt: Buffer = res.plaintext
  const suite: number = res.algorithmSuite
  const ctx: Record<string, string> = sealbox.decryptSync(sync, { materialsManager: cmm }).encryptionContext

  const dataKey = await ks.generateDataKey(id)
  dataKey.plaintext.fill(0)
  const signing = await ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' })
  const sig: Buffer = await ks.sign(signing.keyId, pt, 'ECDSA_SHA_256')
  const ok: boolean = await ks.verify(signing.keyId, pt, sig, 'ECDSA_SHA_256')
  const report = await ks.verifyAuditLog()
  const intact: boolean = report.ok

  const dec: DecryptStream = sealbox.createDecryptStream({ keyring })
  const seen: Record<string, string> | null = dec.encryptionContext
  await pipeline(Readable.from([pt]), sealbox.createEncryptStream({ keyring }, { highWaterMark: 1 << 16 }), dec, new Writable({ write: (_c, _e, cb) => cb() }))

  try {
    await sealbox.decrypt(message, { keyring, encryptionContext: { a: 'other' } })
  } catch (e) {
    if (e instanceof SealboxError) {
      const code: SealboxErrorCode = e.code
      if (code === 'ERR_SEALBOX_DECRYPTION_FAILED') console.log(e.message)
    }
  }

  const kinds: ['RawAesKeyring', 'KeyStoreKeyring'] = [aes.kind, keyring.kind]
  if (kinds.join() !== 'RawAesKeyring,KeyStoreKeyring' || !ok || !intact || suite !== 0x0478) {
    throw new Error(`unexpected results: ${kinds.join()} ${ok} ${intact} ${suite}`)
  }
  void [suite, ctx, ok, intact, seen, kinds]
}

/** Misuse that must not compile (never called). */
export async function misuse(ks: KeyStore, id: string, pt: Buffer): Promise<void> {
  const keyring = ks.keyring(id)
  // @ts-expect-error plaintext is bytes, not a string
  await sealbox.encrypt('text', { keyring })
  // @ts-expect-error the encryption context maps strings to strings
  await sealbox.encrypt(pt, { keyring, encryptionContext: { n: 1 } })
  // @ts-expect-error not a key spec
  await ks.createKey({ keySpec: 'AES_128' })
  // @ts-expect-error not a signing algorithm
  await ks.sign(id, pt, 'ECDSA_SHA_1')
  // @ts-expect-error not one of the stable codes
  const wrong: SealboxErrorCode = 'ERR_SEALBOX_NOPE'
  // @ts-expect-error keyrings are sealbox objects, not plain objects
  sealbox.encryptSync(pt, { keyring: { fake: true } })
  void wrong
}
