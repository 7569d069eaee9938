// Types of the hand-written JS layer (sealbox.js). Everything else is the
// native addon, typed by the generated index.d.ts (`make node-dts`).
import { Transform, TransformOptions } from 'node:stream'
import type { EncryptOptions, DecryptOptions } from './index'

export * from './index'

/** The version of this package: the one version of every sealbox package (`buildInfo().version`). */
export declare const version: string

/**
 * Stable error codes: `error.code` of every error sealbox throws or rejects with,
 * one per kind of the core's `ErrorKind` (checked against it by tests/contract).
 */
export type SealboxErrorCode =
  | 'ERR_SEALBOX_PANIC'
  | 'ERR_SEALBOX_NULL_PARAMETER'
  | 'ERR_SEALBOX_INVALID_ARGUMENT'
  | 'ERR_SEALBOX_INVALID_STATE'
  | 'ERR_SEALBOX_DECRYPTION_FAILED'
  | 'ERR_SEALBOX_INVALID_KEY'
  | 'ERR_SEALBOX_COMMITMENT_POLICY_VIOLATION'
  | 'ERR_SEALBOX_TOO_MANY_ENCRYPTED_DATA_KEYS'
  | 'ERR_SEALBOX_MESSAGE_TOO_LARGE'
  | 'ERR_SEALBOX_ENCRYPT_FAILED'
  | 'ERR_SEALBOX_RNG_FAILURE'
  | 'ERR_SEALBOX_IO_ERROR'
  | 'ERR_SEALBOX_KEY_NOT_FOUND'
  | 'ERR_SEALBOX_KEY_DISABLED'
  | 'ERR_SEALBOX_INVALID_KEY_STATE'
  | 'ERR_SEALBOX_INVALID_KEY_USAGE'
  | 'ERR_SEALBOX_ALREADY_EXISTS'
  | 'ERR_SEALBOX_WRONG_ROOT_KEY'
  | 'ERR_SEALBOX_STORAGE_ERROR'
  | 'ERR_SEALBOX_AUDIT_ERROR'
  | 'ERR_SEALBOX_UNSUPPORTED'
  | 'ERR_SEALBOX_UNSUPPORTED_BY_HSM'
  | 'ERR_SEALBOX_PKCS11_ERROR'
  | 'ERR_SEALBOX_AUDIT_LOG_TAMPERED'
  | 'ERR_SEALBOX_STORE_UNAVAILABLE'
  | 'ERR_SEALBOX_ACCESS_DENIED'
  | 'ERR_SEALBOX_STORE_TAMPERED'

/**
 * The error sealbox throws, or rejects a Promise with, for every failure of
 * the library: a bad argument (napi's own argument errors included), a key
 * that is not found, a message that does not decrypt, ... `code` says which.
 * Every failure to decrypt or authenticate is the one opaque
 * `ERR_SEALBOX_DECRYPTION_FAILED`; a failed `verify` returns `false` instead.
 */
export declare class SealboxError extends Error {
  /** Always `'SealboxError'`. */
  readonly name: 'SealboxError'
  /** The stable code of the failure's kind (test this, not the message). */
  readonly code: SealboxErrorCode
}

/** A Transform: plaintext in, one AWS Encryption SDK message out. */
export declare class EncryptStream extends Transform {}

/** A Transform: one message in, authenticated plaintext out. */
export declare class DecryptStream extends Transform {
  /** The message's encryption context once its header is authenticated; null before. */
  readonly encryptionContext: Record<string, string> | null
}

/** Encrypts a stream of any size in constant memory; use with `stream.pipeline`. */
export declare function createEncryptStream(
  options: EncryptOptions,
  streamOptions?: TransformOptions,
): EncryptStream

/**
 * Decrypts a message stream. Only authenticated plaintext is emitted; a
 * truncated or tampered message ends the stream with
 * ERR_SEALBOX_DECRYPTION_FAILED.
 */
export declare function createDecryptStream(
  options: DecryptOptions,
  streamOptions?: TransformOptions,
): DecryptStream
