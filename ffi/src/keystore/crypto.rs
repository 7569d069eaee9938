//! The key store's cryptographic operations (the AWS KMS API): Encrypt,
//! Decrypt, ReEncrypt, data keys, signatures, public keys, RSA, MACs,
//! random bytes.

use std::ffi::c_char;

use sealbox_core::keystore::{self as ks_api, MessageType};

use super::sealbox_keystore;
use crate::error::{sealbox_result, Failure};
use crate::string_map::sealbox_string_map;
use crate::values::{buffer, buffer_from_slice, sealbox_buffer};

/// Encrypt: at most 4096 bytes of plaintext under `key` (a symmetric
/// `ENCRYPT_DECRYPT` key), bound to the encryption context `context` (NULL:
/// the empty context).
///
/// Ownership: the caller frees `*out` (the ciphertext blob) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_encrypt(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    context: *const sealbox_string_map,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), plaintext = try_slice!(plaintext, plaintext_len), ec = try_context!(context)]
        out => buffer(ks.encrypt(key, plaintext, &ec)?))
}

/// Decrypt a key-store ciphertext blob (the blob names its key and
/// version). The encryption context must be the one it was encrypted with
/// (NULL: the empty context); anything else is
/// `SEALBOX_RESULT_DECRYPTION_FAILED`.
///
/// Ownership: the caller frees `*out` (the plaintext) with
/// `sealbox_buffer_free`, which wipes it.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_decrypt(
    keystore: *const sealbox_keystore,
    ciphertext: *const u8,
    ciphertext_len: usize,
    context: *const sealbox_string_map,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), ciphertext = try_slice!(ciphertext, ciphertext_len), ec = try_context!(context)]
        out => buffer_from_slice(ks.decrypt(ciphertext, &ec)?.as_bytes()))
}

/// Decrypt for a recipient: as `sealbox_keystore_decrypt`, but the
/// plaintext comes back encrypted to `recipient_public_key` (a DER RSA
/// SubjectPublicKeyInfo of 2048 bits or more) as a DER CMS EnvelopedData
/// (RSAES_OAEP_SHA_256, AES-256-CBC; AWS KMS's CiphertextForRecipient),
/// which `openssl cms -decrypt -inform DER -inkey KEY` opens; the caller
/// never has the plaintext. Another kind of key is
/// `SEALBOX_RESULT_INVALID_KEY`.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_decrypt_for_recipient(
    keystore: *const sealbox_keystore,
    ciphertext: *const u8,
    ciphertext_len: usize,
    context: *const sealbox_string_map,
    recipient_public_key: *const u8,
    recipient_public_key_len: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), ciphertext = try_slice!(ciphertext, ciphertext_len), ec = try_context!(context), recipient = try_slice!(recipient_public_key, recipient_public_key_len)]
        out => buffer(ks.decrypt_for_recipient(ciphertext, &ec, recipient)?))
}

/// GenerateDataKey for a recipient: the data key encrypted under `key`
/// (`*out_ciphertext`, as `sealbox_keystore_generate_data_key`) and
/// encrypted to `recipient_public_key` (`*out_ciphertext_for_recipient`,
/// as `sealbox_keystore_decrypt_for_recipient`); no plaintext.
///
/// Ownership: the caller frees both outputs with `sealbox_buffer_free`.
/// Both are written, or neither.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_data_key_for_recipient(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    number_of_bytes: usize,
    context: *const sealbox_string_map,
    recipient_public_key: *const u8,
    recipient_public_key_len: usize,
    out_ciphertext_for_recipient: *mut *mut sealbox_buffer,
    out_ciphertext: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let ec = try_context!(context);
        let recipient = try_slice!(recipient_public_key, recipient_public_key_len);
        let out_for = try_out!(out_ciphertext_for_recipient);
        let out_ciphertext = try_out!(out_ciphertext);
        let dk = ks.generate_data_key_for_recipient(key, number_of_bytes, &ec, recipient)?;
        out_for.write(buffer(dk.ciphertext_for_recipient));
        out_ciphertext.write(buffer(dk.ciphertext));
        Ok(())
    }
}

/// ReEncrypt: decrypts a blob and encrypts it under `destination_key` with
/// `destination_context`, without the plaintext leaving the store.
/// `source_context` is the blob's encryption context, as for
/// `sealbox_keystore_decrypt`; either context may be NULL (empty).
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_re_encrypt(
    keystore: *const sealbox_keystore,
    ciphertext: *const u8,
    ciphertext_len: usize,
    source_context: *const sealbox_string_map,
    destination_key: *const c_char,
    destination_context: *const sealbox_string_map,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), ciphertext = try_slice!(ciphertext, ciphertext_len), source = try_context!(source_context), destination_key = try_str!(destination_key), destination = try_context!(destination_context)]
        out => buffer(ks.re_encrypt(ciphertext, &source, destination_key, &destination)?))
}

/// GenerateDataKey: a fresh data key of `number_of_bytes` (1..=1024; 32 for
/// AES-256), as plaintext and encrypted under `key`, bound to the
/// encryption context `context` (NULL: the empty context).
///
/// Ownership: the caller frees `*out_plaintext` (wiped on free) and
/// `*out_ciphertext` with `sealbox_buffer_free`. Both are written, or
/// neither.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_data_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    number_of_bytes: usize,
    context: *const sealbox_string_map,
    out_plaintext: *mut *mut sealbox_buffer,
    out_ciphertext: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let ks = try_ref!(keystore);
        let key = try_str!(key);
        let ec = try_context!(context);
        let out_plaintext = try_out!(out_plaintext);
        let out_ciphertext = try_out!(out_ciphertext);
        let dk = ks.generate_data_key(key, number_of_bytes, &ec)?;
        out_plaintext.write(buffer_from_slice(dk.plaintext.as_bytes()));
        out_ciphertext.write(buffer(dk.ciphertext));
        Ok(())
    }
}

/// GenerateDataKeyWithoutPlaintext: only the encrypted data key (arguments
/// as for `sealbox_keystore_generate_data_key`).
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_data_key_without_plaintext(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    number_of_bytes: usize,
    context: *const sealbox_string_map,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), ec = try_context!(context)]
        out => buffer(ks.generate_data_key_without_plaintext(key, number_of_bytes, &ec)?))
}

/// Sign with an asymmetric `SIGN_VERIFY` key.
/// `algorithm`: `"ECDSA_SHA_256"` (P-256 and secp256k1 keys), `"ECDSA_SHA_384"` (P-384
/// keys), `"ECDSA_SHA_512"` (P-521 keys), `"ED25519_SHA_512"` (Ed25519 keys;
/// message type `"RAW"` only: the message itself is signed, R ‖ S of 64
/// bytes), `"ML_DSA_SHAKE_256"` (ML-DSA keys; message type `"RAW"`, the
/// message itself, or `"EXTERNAL_MU"`, its 64-byte μ), `"RSASSA_PSS_SHA_256"`,
/// `"RSASSA_PSS_SHA_384"`, `"RSASSA_PSS_SHA_512"`,
/// `"RSASSA_PKCS1_V1_5_SHA_256"`, `"RSASSA_PKCS1_V1_5_SHA_384"` or
/// `"RSASSA_PKCS1_V1_5_SHA_512"` (RSA keys). `message_type`: `"RAW"` (at
/// most 4096 bytes, hashed by sealbox; NULL means `"RAW"`), `"DIGEST"` or
/// `"EXTERNAL_MU"` (ML-DSA only).
///
/// Ownership: the caller frees `*out` (the DER or raw signature) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_sign(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    message: *const u8,
    message_len: usize,
    algorithm: *const c_char,
    message_type: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), message = try_slice!(message, message_len), algorithm = try_parse!(algorithm), message_type = raw_or(try_opt_str!(message_type))?]
        out => buffer(ks.sign(key, message, algorithm, message_type)?))
}

/// Verify a signature. A signature that does not verify is not an error:
/// the call succeeds and writes `false` to `*out_valid`.
/// `algorithm`: `"ECDSA_SHA_256"` (P-256 and secp256k1 keys), `"ECDSA_SHA_384"` (P-384
/// keys), `"ECDSA_SHA_512"` (P-521 keys), `"ED25519_SHA_512"` (Ed25519 keys;
/// message type `"RAW"` only: the message itself is signed, R ‖ S of 64
/// bytes), `"ML_DSA_SHAKE_256"` (ML-DSA keys; message type `"RAW"`, the
/// message itself, or `"EXTERNAL_MU"`, its 64-byte μ), `"RSASSA_PSS_SHA_256"`,
/// `"RSASSA_PSS_SHA_384"`, `"RSASSA_PSS_SHA_512"`,
/// `"RSASSA_PKCS1_V1_5_SHA_256"`, `"RSASSA_PKCS1_V1_5_SHA_384"` or
/// `"RSASSA_PKCS1_V1_5_SHA_512"` (RSA keys). `message_type`: `"RAW"` (at
/// most 4096 bytes, hashed by sealbox; NULL means `"RAW"`), `"DIGEST"` or
/// `"EXTERNAL_MU"` (ML-DSA only), as given to `sealbox_keystore_sign`.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_verify(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    message: *const u8,
    message_len: usize,
    signature: *const u8,
    signature_len: usize,
    algorithm: *const c_char,
    message_type: *const c_char,
    out_valid: *mut bool,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), message = try_slice!(message, message_len), signature = try_slice!(signature, signature_len), algorithm = try_parse!(algorithm), message_type = raw_or(try_opt_str!(message_type))?]
        out_valid => ks.verify(key, message, signature, algorithm, message_type)?)
}

/// GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_get_public_key(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key)]
        out => buffer(ks.get_public_key(key)?))
}

/// DeriveSharedSecret: ECDH between a `"KEY_AGREEMENT"` key (`"ECC_NIST_P256"`,
/// `"ECC_NIST_P384"` or `"ECC_NIST_P521"`) and the peer's public key, a DER
/// SubjectPublicKeyInfo on the same curve. `algorithm`: `"ECDH"`. `*out` is the
/// raw shared secret (the x-coordinate, as AWS KMS returns it): derive keys
/// from it with a KDF rather than using it directly.
///
/// Ownership: the caller frees `*out` (wiped on free) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_derive_shared_secret(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    peer_public_key: *const u8,
    peer_public_key_len: usize,
    algorithm: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), peer = try_slice!(peer_public_key, peer_public_key_len), algorithm = try_parse!(algorithm)]
        out => buffer_from_slice(ks.derive_shared_secret(key, algorithm, peer)?.as_bytes()))
}

/// GetPublicKey as PEM text (`-----BEGIN PUBLIC KEY-----`).
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`; its data
/// is NUL-terminated text.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_get_public_key_pem(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key)]
        out => buffer(ks_api::der_to_pem("PUBLIC KEY", &ks.get_public_key(key)?).into_bytes()))
}

/// Encrypt with the public half of an RSA `ENCRYPT_DECRYPT` key.
/// `algorithm`: `"RSAES_OAEP_SHA_256"` or `"RSAES_OAEP_SHA_1"`.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_encrypt_rsa(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    algorithm: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), plaintext = try_slice!(plaintext, plaintext_len), algorithm = try_parse!(algorithm)]
        out => buffer(ks.encrypt_rsa(key, plaintext, algorithm)?))
}

/// Asymmetric Decrypt with the private half of an RSA key (it never leaves
/// the store). `algorithm`: `"RSAES_OAEP_SHA_256"` or `"RSAES_OAEP_SHA_1"`,
/// as given to `sealbox_keystore_encrypt_rsa`.
///
/// Ownership: the caller frees `*out` (wiped on free) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_decrypt_rsa(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    ciphertext: *const u8,
    ciphertext_len: usize,
    algorithm: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), ciphertext = try_slice!(ciphertext, ciphertext_len), algorithm = try_parse!(algorithm)]
        out => buffer_from_slice(ks.decrypt_rsa(key, ciphertext, algorithm)?.as_bytes()))
}

/// GenerateMac with an HMAC key. `algorithm`: `"HMAC_SHA_224"`,
/// `"HMAC_SHA_256"`, `"HMAC_SHA_384"` or `"HMAC_SHA_512"`; `message` at most 4096 bytes.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_mac(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    message: *const u8,
    message_len: usize,
    algorithm: *const c_char,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), message = try_slice!(message, message_len), algorithm = try_parse!(algorithm)]
        out => buffer(ks.generate_mac(key, message, algorithm)?))
}

/// VerifyMac (compared in constant time). A MAC that does not match is not
/// an error: the call succeeds and writes `false` to `*out_valid`.
/// `algorithm`: `"HMAC_SHA_224"`, `"HMAC_SHA_256"`, `"HMAC_SHA_384"` or `"HMAC_SHA_512"`.
///
/// Ownership: borrows the arguments for the call.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_verify_mac(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    message: *const u8,
    message_len: usize,
    mac: *const u8,
    mac_len: usize,
    algorithm: *const c_char,
    out_valid: *mut bool,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore), key = try_str!(key), message = try_slice!(message, message_len), mac = try_slice!(mac, mac_len), algorithm = try_parse!(algorithm)]
        out_valid => ks.verify_mac(key, message, mac, algorithm)?)
}

/// GenerateRandom: `number_of_bytes` (1..=1024) random bytes.
///
/// Ownership: the caller frees `*out` with `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_generate_random(
    keystore: *const sealbox_keystore,
    number_of_bytes: usize,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([ks = try_ref!(keystore)]
        out => buffer(ks.generate_random(number_of_bytes)?))
}

/// A message type by name; NULL (`None`) is RAW.
fn raw_or(name: Option<&str>) -> Result<MessageType, Failure> {
    name.map_or(Ok(MessageType::Raw), crate::values::parse)
}
