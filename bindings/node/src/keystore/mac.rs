//! Message authentication codes (HMAC keys).

use napi::bindgen_prelude::*;
use sealbox::keystore as ks;

use super::KeyStore;
use crate::args::named;
use crate::bytes::Buffer;
use crate::task::{twins, Job};

twins! {
    impl KeyStore {
        #[doc = " GenerateMac over at most 4096 bytes."]
        #[promise("Promise<Buffer>")]
        #[doc = " GenerateMac, blocking."]
        #[ts_args("key: string, message: Uint8Array, algorithm: 'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512'")]
        fn generate_mac, generate_mac_sync(
            &self,
            key: String,
            message: Uint8Array,
            algorithm: String,
        ) -> Buffer {
            let alg: ks::MacAlgorithm = named(&algorithm)?;
            let msg = message.to_vec();
            let k = self.ks();
            Ok(Job::new(move || k.generate_mac(&key, &msg, alg).map(Buffer::from)))
        }

        #[doc = " VerifyMac: `false` when the MAC does not match."]
        #[promise("Promise<boolean>")]
        #[doc = " VerifyMac, blocking."]
        #[ts_args("key: string, message: Uint8Array, mac: Uint8Array, algorithm: 'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512'")]
        fn verify_mac, verify_mac_sync(
            &self,
            key: String,
            message: Uint8Array,
            mac: Uint8Array,
            algorithm: String,
        ) -> bool {
            let alg: ks::MacAlgorithm = named(&algorithm)?;
            let (msg, mac) = (message.to_vec(), mac.to_vec());
            let k = self.ks();
            Ok(Job::new(move || k.verify_mac(&key, &msg, &mac, alg)))
        }
    }
}
