//! Direct encryption under key-store keys (at most 4096 bytes: AES, or
//! RSA-OAEP), data keys, and random bytes.

use std::collections::BTreeMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sealbox::keystore::{self as ks, MAX_RANDOM};
use zeroize::Zeroizing;

use super::KeyStore;
use crate::args::{map, named, whole, StringMap};
use crate::bytes::Buffer;
use crate::impls::debug_fields;
use crate::invalid;
use crate::task::{twins, Job};

/// Options of the key store's `encrypt`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct KeyEncryptOptions {
    /// Authenticated data: the same context is needed to decrypt.
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// For RSA keys: `RSAES_OAEP_SHA_256` or `RSAES_OAEP_SHA_1`.
    #[napi(ts_type = "'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'")]
    pub algorithm: Option<String>,
}

/// Options of the key store's `decrypt`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct KeyDecryptOptions {
    /// The context the ciphertext was made with (symmetric keys).
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// The RSA key, for RSA ciphertext (with `algorithm`).
    pub key_id: Option<String>,
    /// For RSA ciphertext: `RSAES_OAEP_SHA_256` or `RSAES_OAEP_SHA_1`.
    #[napi(ts_type = "'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'")]
    pub algorithm: Option<String>,
}

/// Options of `reEncrypt`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct ReEncryptOptions {
    /// The context the ciphertext was made with.
    #[napi(ts_type = "Record<string, string>")]
    pub source_encryption_context: Option<StringMap>,
    /// The context to bind the new ciphertext to.
    #[napi(ts_type = "Record<string, string>")]
    pub destination_encryption_context: Option<StringMap>,
}

/// Options of `generateDataKey` and `generateDataKeyWithoutPlaintext`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct DataKeyOptions {
    /// Authenticated data for the encrypted copy.
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
    /// Length of the data key, 1..=1024 (default 32).
    pub number_of_bytes: Option<f64>,
}

/// A data key from `generateDataKey`.
#[napi(object, object_from_js = false)]
pub struct DataKey {
    /// The plaintext data key: use it, then wipe it with `plaintext.fill(0)`.
    pub plaintext: Buffer,
    /// The data key encrypted under the key-store key; `decrypt` returns
    /// the plaintext again.
    pub ciphertext: Buffer,
    /// The key that encrypted it.
    pub key_id: String,
    /// The version that encrypted it.
    pub key_version: u32,
}

debug_fields!(DataKey {
    key_id,
    key_version
});

/// Options of `decryptForRecipient`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct RecipientDecryptOptions {
    /// The context the ciphertext was made with.
    #[napi(ts_type = "Record<string, string>")]
    pub encryption_context: Option<StringMap>,
}

/// What `generateDataKeyForRecipient` returns: no plaintext.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct DataKeyForRecipient {
    /// The data key as a DER CMS EnvelopedData for the recipient
    /// (`openssl cms -decrypt -inform DER -inkey KEY` opens it).
    pub ciphertext_for_recipient: Buffer,
    /// The data key encrypted under the key-store key.
    pub ciphertext: Buffer,
    /// The key that encrypted it.
    pub key_id: String,
    /// The version that encrypted it.
    pub key_version: u32,
}

fn data_key_args(o: Option<DataKeyOptions>) -> Result<(usize, BTreeMap<String, String>)> {
    let (n, ec) = o.map_or((None, None), |o| (o.number_of_bytes, o.encryption_context));
    let n = match n {
        Some(n) => whole("numberOfBytes", n, 1, 1024)? as usize,
        None => 32,
    };
    Ok((n, map(ec)))
}

/// RSA-OAEP takes no encryption context: refuses one.
fn rsa_algorithm(
    algorithm: &str,
    context: &Option<StringMap>,
    refusal: &str,
) -> Result<ks::EncryptionAlgorithm> {
    if context.is_some() {
        return Err(invalid(refusal));
    }
    named(algorithm)
}

twins! {
    impl KeyStore {
        #[doc = " Encrypt at most 4096 bytes under the key's primary version (AES),"]
        #[doc = " or with an RSA key's public half (`algorithm`)."]
        #[promise("Promise<Buffer>")]
        #[doc = " Encrypt, blocking."]
        fn encrypt, encrypt_sync(
            &self,
            key: String,
            plaintext: Uint8Array,
            options: Option<KeyEncryptOptions>,
        ) -> Buffer {
            let (ec, alg) = options.map_or((None, None), |o| (o.encryption_context, o.algorithm));
            let pt = Zeroizing::new(plaintext.to_vec());
            let k = self.ks();
            Ok(match alg {
                None => {
                    let ec = map(ec);
                    Job::new(move || k.encrypt(&key, &pt, &ec).map(Buffer::from))
                }
                Some(a) => {
                    let alg = rsa_algorithm(
                        &a,
                        &ec,
                        "RSA encryption takes no encryption context (RSA has no associated data)",
                    )?;
                    Job::new(move || k.encrypt_rsa(&key, &pt, alg).map(Buffer::from))
                }
            })
        }

        #[doc = " Decrypt a ciphertext of `encrypt` (it names its key and version), or"]
        #[doc = " RSA-OAEP ciphertext with `keyId` and `algorithm`. Any failure to"]
        #[doc = " authenticate is `ERR_SEALBOX_DECRYPTION_FAILED`."]
        #[promise("Promise<Buffer>")]
        #[doc = " Decrypt, blocking."]
        fn decrypt, decrypt_sync(
            &self,
            ciphertext: Uint8Array,
            options: Option<KeyDecryptOptions>,
        ) -> Buffer {
            let ct = ciphertext.to_vec();
            let k = self.ks();
            let (ec, key_id, alg) = options.map_or((None, None, None), |o| {
                (o.encryption_context, o.key_id, o.algorithm)
            });
            Ok(match (key_id, alg) {
                (None, None) => {
                    let ec = map(ec);
                    Job::new(move || {
                        k.decrypt(&ct, &ec)
                            .map(|pt| Buffer::secret_copy(pt.as_bytes()))
                    })
                }
                (Some(key), Some(a)) => {
                    let alg =
                        rsa_algorithm(&a, &ec, "RSA decryption takes no encryption context")?;
                    Job::new(move || {
                        k.decrypt_rsa(&key, &ct, alg)
                            .map(|pt| Buffer::secret_copy(pt.as_bytes()))
                    })
                }
                _ => {
                    return Err(invalid(
                        "RSA decryption needs both keyId and algorithm; symmetric decryption neither",
                    ))
                }
            })
        }

        #[doc = " Decrypt for a recipient: the plaintext of a ciphertext of `encrypt` comes"]
        #[doc = " back encrypted to `recipientPublicKey` (DER SubjectPublicKeyInfo of an RSA"]
        #[doc = " key of 2048 bits or more) as a DER CMS EnvelopedData (RSAES_OAEP_SHA_256,"]
        #[doc = " AES-256-CBC; AWS KMS's CiphertextForRecipient): this process never holds it."]
        #[promise("Promise<Buffer>")]
        #[doc = " decryptForRecipient, blocking."]
        fn decrypt_for_recipient, decrypt_for_recipient_sync(
            &self,
            ciphertext: Uint8Array,
            recipient_public_key: Uint8Array,
            options: Option<RecipientDecryptOptions>,
        ) -> Buffer {
            let ct = ciphertext.to_vec();
            let recipient = recipient_public_key.to_vec();
            let ec = map(options.and_then(|o| o.encryption_context));
            let k = self.ks();
            Ok(Job::new(move || {
                k.decrypt_for_recipient(&ct, &ec, &recipient).map(Buffer::from)
            }))
        }

        #[doc = " GenerateDataKey for a recipient: the data key encrypted under `key` and"]
        #[doc = " encrypted to the recipient (as `decryptForRecipient`); no plaintext."]
        #[promise("Promise<DataKeyForRecipient>")]
        #[doc = " generateDataKeyForRecipient, blocking."]
        fn generate_data_key_for_recipient, generate_data_key_for_recipient_sync(
            &self,
            key: String,
            recipient_public_key: Uint8Array,
            options: Option<DataKeyOptions>,
        ) -> DataKeyForRecipient {
            let (n, ec) = data_key_args(options)?;
            let recipient = recipient_public_key.to_vec();
            let k = self.ks();
            Ok(Job::new(move || {
                let dk = k.generate_data_key_for_recipient(&key, n, &ec, &recipient)?;
                Ok(DataKeyForRecipient {
                    ciphertext_for_recipient: Buffer::from(dk.ciphertext_for_recipient),
                    ciphertext: Buffer::from(dk.ciphertext),
                    key_id: dk.key_id.into(),
                    key_version: dk.key_version,
                })
            }))
        }

        #[doc = " ReEncrypt: decrypts inside the store and encrypts under"]
        #[doc = " `destinationKeyId`; the plaintext never leaves the store."]
        #[promise("Promise<Buffer>")]
        #[doc = " ReEncrypt, blocking."]
        fn re_encrypt, re_encrypt_sync(
            &self,
            ciphertext: Uint8Array,
            destination_key_id: String,
            options: Option<ReEncryptOptions>,
        ) -> Buffer {
            let ct = ciphertext.to_vec();
            let (src, dst) = options.map_or_else(Default::default, |o| {
                (
                    map(o.source_encryption_context),
                    map(o.destination_encryption_context),
                )
            });
            let k = self.ks();
            Ok(Job::new(move || {
                k.re_encrypt(&ct, &src, &destination_key_id, &dst)
                    .map(Buffer::from)
            }))
        }

        #[doc = " GenerateDataKey: a fresh data key in plaintext and encrypted."]
        #[promise("Promise<DataKey>")]
        #[doc = " GenerateDataKey, blocking."]
        fn generate_data_key, generate_data_key_sync(
            &self,
            key: String,
            options: Option<DataKeyOptions>,
        ) -> DataKey {
            let (n, ec) = data_key_args(options)?;
            let k = self.ks();
            Ok(Job::new(move || {
                let dk = k.generate_data_key(&key, n, &ec)?;
                Ok(DataKey {
                    plaintext: Buffer::secret_copy(dk.plaintext.as_bytes()),
                    ciphertext: Buffer::from(dk.ciphertext),
                    key_id: dk.key_id.into(),
                    key_version: dk.key_version,
                })
            }))
        }

        #[doc = " GenerateDataKeyWithoutPlaintext: only the encrypted data key."]
        #[promise("Promise<Buffer>")]
        #[doc = " GenerateDataKeyWithoutPlaintext, blocking."]
        fn generate_data_key_without_plaintext, generate_data_key_without_plaintext_sync(
            &self,
            key: String,
            options: Option<DataKeyOptions>,
        ) -> Buffer {
            let (n, ec) = data_key_args(options)?;
            let k = self.ks();
            Ok(Job::new(move || {
                k.generate_data_key_without_plaintext(&key, n, &ec)
                    .map(Buffer::from)
            }))
        }

        #[doc = " GenerateRandom: 1..=1024 bytes from the backend's generator."]
        #[promise("Promise<Buffer>")]
        #[doc = " GenerateRandom, blocking."]
        fn generate_random, generate_random_sync(&self, number_of_bytes: f64) -> Buffer {
            let n = whole("numberOfBytes", number_of_bytes, 1, MAX_RANDOM as u64)? as usize;
            let k = self.ks();
            Ok(Job::new(move || k.generate_random(n).map(Buffer::secret)))
        }
    }
}
