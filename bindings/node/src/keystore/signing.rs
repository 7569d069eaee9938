//! Signatures (RSA and ECC keys) and public keys.

use napi::bindgen_prelude::*;
use sealbox::keystore as ks;

use super::KeyStore;
use crate::args::named;
use crate::bytes::Buffer;
use crate::task::{twins, Job};

fn parse_message_type(t: Option<String>) -> Result<ks::MessageType> {
    t.map_or(Ok(ks::MessageType::Raw), |t| named(&t))
}

twins! {
    impl KeyStore {
        #[doc = " Sign a message (`RAW`, at most 4096 bytes; default) or a `DIGEST`."]
        #[doc = " ECDSA signatures are DER; Ed25519 signs the message itself (`RAW`"]
        #[doc = " only) with a 64-byte signature."]
        #[promise("Promise<Buffer>")]
        #[doc = " Sign, blocking."]
        #[ts_args("key: string, message: Uint8Array, algorithm: 'ECDSA_SHA_256' | 'ECDSA_SHA_384' | 'ECDSA_SHA_512' | 'ED25519_SHA_512' | 'ML_DSA_SHAKE_256' | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512' | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512', messageType?: 'RAW' | 'DIGEST' | 'EXTERNAL_MU'")]
        fn sign, sign_sync(
            &self,
            key: String,
            message: Uint8Array,
            algorithm: String,
            message_type: Option<String>,
        ) -> Buffer {
            let alg: ks::SigningAlgorithm = named(&algorithm)?;
            let mt = parse_message_type(message_type)?;
            let msg = message.to_vec();
            let k = self.ks();
            Ok(Job::new(move || k.sign(&key, &msg, alg, mt).map(Buffer::from)))
        }

        #[doc = " Verify a signature: `false` when it does not verify (an error only"]
        #[doc = " for a bad request, such as an unknown key)."]
        #[promise("Promise<boolean>")]
        #[doc = " Verify, blocking."]
        #[ts_args("key: string, message: Uint8Array, signature: Uint8Array, algorithm: 'ECDSA_SHA_256' | 'ECDSA_SHA_384' | 'ECDSA_SHA_512' | 'ED25519_SHA_512' | 'ML_DSA_SHAKE_256' | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512' | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512', messageType?: 'RAW' | 'DIGEST' | 'EXTERNAL_MU'")]
        fn verify, verify_sync(
            &self,
            key: String,
            message: Uint8Array,
            signature: Uint8Array,
            algorithm: String,
            message_type: Option<String>,
        ) -> bool {
            let alg: ks::SigningAlgorithm = named(&algorithm)?;
            let mt = parse_message_type(message_type)?;
            let (msg, sig) = (message.to_vec(), signature.to_vec());
            let k = self.ks();
            Ok(Job::new(move || k.verify(&key, &msg, &sig, alg, mt)))
        }

        #[doc = " GetPublicKey: DER SubjectPublicKeyInfo."]
        #[promise("Promise<Buffer>")]
        #[doc = " GetPublicKey, blocking."]
        fn get_public_key, get_public_key_sync(&self, key: String) -> Buffer {
            let k = self.ks();
            Ok(Job::new(move || k.get_public_key(&key).map(Buffer::from)))
        }

        #[doc = " GetPublicKey as PEM (`-----BEGIN PUBLIC KEY-----`)."]
        #[promise("Promise<string>")]
        #[doc = " GetPublicKey as PEM, blocking."]
        fn get_public_key_pem, get_public_key_pem_sync(&self, key: String) -> String {
            let k = self.ks();
            Ok(Job::new(move || {
                Ok(ks::der_to_pem("PUBLIC KEY", &k.get_public_key(&key)?))
            }))
        }

        #[doc = " DeriveSharedSecret: ECDH between a `KEY_AGREEMENT` key (P-256, P-384"]
        #[doc = " or P-521) and the peer's public key (DER SubjectPublicKeyInfo on the"]
        #[doc = " same curve). The raw shared secret (the x-coordinate, as AWS KMS"]
        #[doc = " returns it): derive keys from it with a KDF."]
        #[promise("Promise<Buffer>")]
        #[doc = " DeriveSharedSecret, blocking."]
        #[ts_args("key: string, peerPublicKey: Uint8Array, algorithm?: 'ECDH'")]
        fn derive_shared_secret, derive_shared_secret_sync(
            &self,
            key: String,
            peer_public_key: Uint8Array,
            algorithm: Option<String>,
        ) -> Buffer {
            let alg: ks::KeyAgreementAlgorithm = named(algorithm.as_deref().unwrap_or("ECDH"))?;
            let peer = peer_public_key.to_vec();
            let k = self.ks();
            Ok(Job::new(move || {
                k.derive_shared_secret(&key, alg, &peer)
                    .map(|s| Buffer::secret_copy(s.as_bytes()))
            }))
        }
    }
}
