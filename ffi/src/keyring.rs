//! Keyrings: what wraps and unwraps data keys (key store, raw AES, raw
//! RSA, raw ECDH, post-quantum, multi).

use std::ffi::c_char;
use std::sync::Arc;

use sealbox_core::keyring::{
    self as kr, pq_generate_key_pair, EcdhCurveSpec, EcdhKeyAgreementScheme, KeyStoreKeyring,
    MultiKeyring, PqKeyring, RawAesKeyring, RawEcdhKeyring, RawRsaKeyring, RsaWrappingPadding,
};

use crate::error::{sealbox_result, Failure};
use crate::handle::{arc_handle, try_clone_arc};
use crate::keystore::sealbox_keystore;
use crate::values::{array, buffer, buffer_from_slice, sealbox_buffer, utf8};

/// A keyring: wraps data keys on encrypt and unwraps them on decrypt. Use
/// it through a materials manager (`sealbox_default_cmm_new`).
///
/// Ownership: made by a `sealbox_*_keyring_new` function; the caller frees
/// it with `sealbox_keyring_free`. Materials managers and multi-keyrings
/// made from it keep it alive, so it may be freed before them.
///
/// Thread safety: thread-safe; may be used by any number of threads at once.
pub struct sealbox_keyring {
    _private: [u8; 0],
}

/// The Rust side of `sealbox_keyring`.
#[derive(Debug)]
pub(crate) struct Keyring {
    pub(crate) inner: Arc<dyn kr::Keyring>,
}

fn new_keyring(inner: Arc<dyn kr::Keyring>) -> *const sealbox_keyring {
    arc_handle(Keyring { inner })
}

/// A raw AES keyring, byte-compatible with the AWS Encryption SDK's: data
/// keys wrapped with AES-GCM under `wrapping_key` (16, 24 or 32 bytes),
/// named by `key_namespace` and `key_name` (the names must match on
/// decrypt, as in the AWS SDKs).
///
/// Ownership: everything is copied; the caller frees `*out` with
/// `sealbox_keyring_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_raw_aes_keyring_new(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    out: *mut *const sealbox_keyring,
) -> sealbox_result {
    with_out!([key_namespace = try_str!(key_namespace), key_name = try_str!(key_name), wrapping_key = try_slice!(wrapping_key, wrapping_key_len)]
        out => new_keyring(Arc::new(RawAesKeyring::new(key_namespace, key_name, wrapping_key)?)))
}

/// A raw RSA keyring, byte-compatible with the AWS Encryption SDK's.
/// `padding`: `"OAEP_SHA256_MGF1"` (also `"OAEP_SHA1_MGF1"`,
/// `"OAEP_SHA384_MGF1"`, `"OAEP_SHA512_MGF1"`, `"PKCS1"`). The keys are PEM
/// text given with their lengths; either may be absent (NULL, 0): a public
/// key alone encrypts, a private key alone decrypts (and encrypts).
///
/// Ownership: everything is copied; the caller frees `*out` with
/// `sealbox_keyring_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_raw_rsa_keyring_new(
    key_namespace: *const c_char,
    key_name: *const c_char,
    padding: *const c_char,
    public_key_pem: *const u8,
    public_key_pem_len: usize,
    private_key_pem: *const u8,
    private_key_pem_len: usize,
    out: *mut *const sealbox_keyring,
) -> sealbox_result {
    ffi_boundary! {
        let key_namespace = try_str!(key_namespace);
        let key_name = try_str!(key_name);
        let padding = RsaWrappingPadding::from_name(try_str!(padding))?;
        let public = try_opt_slice!(public_key_pem, public_key_pem_len)
            .map(|p| utf8(p, "the public key PEM"))
            .transpose()?;
        let private = try_opt_slice!(private_key_pem, private_key_pem_len)
            .map(|p| utf8(p, "the private key PEM"))
            .transpose()?;
        let out = try_out!(out);
        let keyring = RawRsaKeyring::new(key_namespace, key_name, padding, public, private)?;
        out.write(new_keyring(Arc::new(keyring)));
        Ok(())
    }
}

/// A raw ECDH keyring, byte-compatible with the AWS Cryptographic Material
/// Providers Library's (provider ID `raw-ecdh`): data keys wrapped under a
/// key agreed by ECDH between a sender and a recipient.
///
/// `scheme`:
/// - `"RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY"`: `private_key` is the
///   sender's, `public_key` the recipient's; encrypts, and decrypts what
///   either side of the pair wrote.
/// - `"EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY"`: `public_key` (the
///   recipient's) only, `private_key` NULL; a new key pair per message;
///   encrypts only.
/// - `"PUBLIC_KEY_DISCOVERY"`: `private_key` (the recipient's) only,
///   `public_key` NULL; decrypts only.
///
/// `curve`: `"ECC_NIST_P256"`, `"ECC_NIST_P384"` or `"ECC_NIST_P521"`.
/// Keys are given with their lengths, PEM or DER: a PKCS#8 private key, a
/// SubjectPublicKeyInfo public key, both on `curve`.
///
/// Ownership: everything is copied; the caller frees `*out` with
/// `sealbox_keyring_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_raw_ecdh_keyring_new(
    scheme: *const c_char,
    curve: *const c_char,
    private_key: *const u8,
    private_key_len: usize,
    public_key: *const u8,
    public_key_len: usize,
    out: *mut *const sealbox_keyring,
) -> sealbox_result {
    ffi_boundary! {
        let scheme: EcdhKeyAgreementScheme = try_str!(scheme).parse()?;
        let curve: EcdhCurveSpec = try_str!(curve).parse()?;
        let private = try_opt_slice!(private_key, private_key_len);
        let public = try_opt_slice!(public_key, public_key_len);
        let out = try_out!(out);
        let keyring = RawEcdhKeyring::new(scheme, curve, private, public)?;
        out.write(new_keyring(Arc::new(keyring)));
        Ok(())
    }
}

/// The post-quantum keyring (provider ID `sealbox-pq`; docs/FORMAT.md):
/// data keys wrapped to an X-Wing (ML-KEM-768 + X25519) public key, so that
/// messages stay confidential against a future quantum computer. Not read
/// by the AWS SDKs: pair it with an AWS-compatible keyring in a
/// multi-keyring where they must read the messages.
///
/// `public_key` (1216 bytes) encrypts; `private_key` (32 bytes) decrypts,
/// and encrypts too; either may be absent (NULL, 0), not both; when both
/// are given they must be one key pair (`sealbox_pq_generate_key_pair`).
///
/// Ownership: everything is copied; the caller frees `*out` with
/// `sealbox_keyring_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_pq_keyring_new(
    public_key: *const u8,
    public_key_len: usize,
    private_key: *const u8,
    private_key_len: usize,
    out: *mut *const sealbox_keyring,
) -> sealbox_result {
    ffi_boundary! {
        let public = try_opt_slice!(public_key, public_key_len);
        let private = try_opt_slice!(private_key, private_key_len);
        let out = try_out!(out);
        out.write(new_keyring(Arc::new(PqKeyring::new(public, private)?)));
        Ok(())
    }
}

/// A new key pair for `sealbox_pq_keyring_new`: `*private_key` (32 bytes,
/// to keep secret) and `*public_key` (1216 bytes, for senders).
///
/// Ownership: the caller frees both with `sealbox_buffer_free` (the private
/// key is wiped as it is freed). On failure neither is written.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_pq_generate_key_pair(
    private_key: *mut *mut sealbox_buffer,
    public_key: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let private_out = try_out!(private_key);
        let public_out = try_out!(public_key);
        let (private, public) = pq_generate_key_pair()?;
        private_out.write(buffer_from_slice(private.as_bytes()));
        public_out.write(buffer(public));
        Ok(())
    }
}

/// A key-store keyring: data keys generated and wrapped by `key` (key ID or
/// alias) of `keystore`, so the master key never leaves the store. Provider
/// ID `sealbox`.
///
/// Ownership: the keyring holds its own reference to the key store; the
/// caller frees `*out` with `sealbox_keyring_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keystore_keyring_new(
    keystore: *const sealbox_keystore,
    key: *const c_char,
    out: *mut *const sealbox_keyring,
) -> sealbox_result {
    with_out!([keystore = try_ref!(keystore), key = try_str!(key)]
        out => new_keyring(Arc::new(KeyStoreKeyring::new(keystore.clone(), key))))
}

/// A multi-keyring: `generator` makes the data key and it and every child
/// wrap it, so any one of them can decrypt (e.g. an HSM key plus an offline
/// RSA recovery key). `generator` may be NULL (a decrypt-only keyring);
/// `children` holds `children_len` keyrings (NULL when 0).
///
/// Ownership: the multi-keyring holds its own references to the keyrings;
/// the caller frees `*out` with `sealbox_keyring_free`.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn sealbox_multi_keyring_new(
    generator: *const sealbox_keyring,
    children: *const *const sealbox_keyring,
    children_len: usize,
    out: *mut *const sealbox_keyring,
) -> sealbox_result {
    ffi_boundary! {
        // SAFETY: NULL or a live keyring.
        let generator = unsafe { try_clone_arc(generator) }.map(|k| k.inner.clone());
        // SAFETY: `children` holds `children_len` keyring pointers.
        let list = unsafe { array(children, children_len, "children") }?;
        let mut kids = Vec::with_capacity(list.len());
        for &child in list {
            // SAFETY: each entry is NULL (refused) or a live keyring.
            let child = unsafe { try_clone_arc(child) }.ok_or_else(|| Failure::null("children[i]"))?;
            kids.push(child.inner.clone());
        }
        let out = try_out!(out);
        out.write(new_keyring(Arc::new(MultiKeyring::new(generator, kids)?)));
        Ok(())
    }
}

/// Releases the caller's reference to a keyring. NULL is a no-op.
///
/// Ownership: takes back `keyring`; materials managers and multi-keyrings
/// made from it keep working.
///
/// Thread safety: call once per handle, when this holder no longer uses it.
#[no_mangle]
pub unsafe extern "C" fn sealbox_keyring_free(keyring: *const sealbox_keyring) {
    free_handle!(arc keyring)
}
