// The raw keyrings of the interop tests, shared by interop.test.mjs and
// decrypt_child.mjs (not a test itself).

import crypto from 'node:crypto'

import {
  MultiKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  RawRsaKeyringNode,
} from '@aws-crypto/client-node'

// sealbox padding name -> Node crypto padding + OAEP hash
export const RSA_PADDINGS = {
  OAEP_SHA256_MGF1: { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
  OAEP_SHA1_MGF1: { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
  PKCS1: { padding: crypto.constants.RSA_PKCS1_PADDING, oaepHash: undefined },
}

// A raw AES-256-GCM keyring around the 32 bytes `key`.
export function rawAesKeyring(keyNamespace, keyName, key) {
  return new RawAesKeyringNode({
    keyNamespace,
    keyName,
    unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    // Without this the Node keyring binds the context in JavaScript
    // localeCompare order, which is not the spec's UTF-8 byte order, and
    // cannot unwrap keys written by sealbox, Python, Java, ... for contexts
    // such as CONTEXT_UNICODE. (The message header itself is always sorted
    // by UTF-8 bytes.)
    utf8Sorting: true,
  })
}

// A raw RSA keyring: `rsaKey` is {publicKey} or {privateKey} (PEM),
// `padding` a sealbox padding name.
export function rawRsaKeyring(keyNamespace, keyName, rsaKey, padding) {
  return new RawRsaKeyringNode({ keyNamespace, keyName, rsaKey, ...RSA_PADDINGS[padding] })
}

// The AES keyring generates the data key, the RSA one wraps it too.
export function multiKeyring(aes, rsa) {
  return new MultiKeyringNode({ generator: aes, children: [rsa] })
}
