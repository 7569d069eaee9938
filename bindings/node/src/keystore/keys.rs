//! The key lifecycle: create, import, describe, list, enable and disable,
//! deletion, rotation.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sealbox::keystore::{self as ks, MAX_LIST_LIMIT};
use zeroize::Zeroizing;

use super::access::PolicyText;
use super::metadata::{KeyList, KeyMetadata};
use super::KeyStore;
use crate::args::{map, named, whole, whole_u32, DateArg, StringMap};
use crate::task::{twins, Job};

/// Options of `createKey` and `importKey`.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct CreateKeyOptions {
    /// Default `AES_256`.
    #[napi(
        ts_type = "'AES_256' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'ECC_SECG_P256K1' | 'ECC_NIST_EDWARDS25519' | 'HMAC_224' | 'HMAC_256' | 'HMAC_384' | 'HMAC_512' | 'ML_DSA_44' | 'ML_DSA_65' | 'ML_DSA_87'"
    )]
    pub key_spec: Option<String>,
    /// Default: the spec's usual usage.
    #[napi(
        ts_type = "'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT'"
    )]
    pub key_usage: Option<String>,
    /// An alias (`alias/...`) to point at the new key.
    pub alias: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Tags.
    #[napi(ts_type = "Record<string, string>")]
    pub tags: Option<StringMap>,
    /// Rotate automatically every this many days (AES_256 only).
    pub rotation_period_days: Option<f64>,
    /// The key's policy (JSON text or a document in the grammar of AWS KMS
    /// key policies). Default: the store's default policy.
    #[napi(ts_type = "string | Record<string, any>")]
    pub policy: Option<PolicyText>,
    /// Create the key even if `policy` leaves the creating principal unable
    /// to change it (otherwise ERR_SEALBOX_INVALID_ARGUMENT).
    pub bypass_policy_lockout_safety_check: Option<bool>,
    /// `importKey` only: when the imported material expires (in the
    /// future). From then on the key is `PendingImport` until the same
    /// material is imported again (`importKeyMaterial`).
    #[napi(ts_type = "Date")]
    pub valid_to: Option<DateArg>,
}

/// Options of `importKeyMaterial`.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct ImportKeyMaterialOptions {
    /// When the material expires (in the future); absent: it does not.
    #[napi(ts_type = "Date")]
    pub valid_to: Option<DateArg>,
}

fn create_request(o: Option<CreateKeyOptions>) -> Result<ks::CreateKeyRequest> {
    let o = o.unwrap_or_default();
    let mut req = ks::CreateKeyRequest::default();
    if let Some(s) = o.key_spec {
        req.key_spec = named(&s)?;
    }
    if let Some(u) = o.key_usage {
        req.key_usage = Some(named(&u)?);
    }
    req.alias = o.alias;
    req.description = o.description.unwrap_or_default();
    req.tags = map(o.tags);
    req.valid_to = o.valid_to.map(|d| d.0);
    if let Some(d) = o.rotation_period_days {
        req.rotation_period_days = Some(whole_u32("rotationPeriodDays", d, 0, u32::MAX)?);
    }
    req.policy = o.policy.map(|p| p.0);
    req.bypass_policy_lockout_safety_check = o.bypass_policy_lockout_safety_check.unwrap_or(false);
    Ok(req)
}

/// Options of `listKeys`.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct ListKeysOptions {
    /// Keys per page, 1..=1000 (default 1000).
    pub limit: Option<f64>,
    /// `nextMarker` of the previous page.
    pub marker: Option<String>,
}

/// A core call that names one key and returns its metadata.
type KeyCall = fn(&ks::KeyStore, &str) -> sealbox::Result<ks::KeyMetadata>;

impl KeyStore {
    /// A job that makes `call` on `key` and hands back its metadata.
    fn key_job(&self, key: String, call: KeyCall) -> Result<Job<KeyMetadata>> {
        let k = self.ks();
        Ok(Job::new(move || Ok(call(&k, &key)?.into())))
    }
}

twins! {
    impl KeyStore {
        #[doc = " CreateKey."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " CreateKey, blocking."]
        fn create_key, create_key_sync(&self, options: Option<CreateKeyOptions>) -> KeyMetadata {
            let req = create_request(options)?;
            let k = self.ks();
            Ok(Job::new(move || Ok(k.create_key(&req)?.into())))
        }

        #[doc = " ImportKey (BYOK): 32 raw bytes for AES_256, ≥ 28 / 32 / 48 / 64 for HMAC,"]
        #[doc = " PKCS#8 DER for RSA, ECC, Ed25519 and ML-DSA keys. Wipe `material` afterwards."]
        #[doc = " With `validTo` the material expires then (see `importKeyMaterial`)."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " ImportKey, blocking."]
        fn import_key, import_key_sync(
            &self,
            material: Uint8Array,
            options: Option<CreateKeyOptions>,
        ) -> KeyMetadata {
            let req = create_request(options)?;
            let material = Zeroizing::new(material.to_vec());
            let k = self.ks();
            Ok(Job::new(move || Ok(k.import_key(&req, &material)?.into())))
        }

        #[doc = " ImportKeyMaterial into an imported key: the same material again (after it"]
        #[doc = " expired or was deleted; other material is ERR_SEALBOX_INVALID_KEY) restores"]
        #[doc = " it with `validTo` as its new expiration; new material for an AES_256 key"]
        #[doc = " becomes a new primary version (on-demand rotation)."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " ImportKeyMaterial, blocking."]
        fn import_key_material, import_key_material_sync(
            &self,
            key: String,
            material: Uint8Array,
            options: Option<ImportKeyMaterialOptions>,
        ) -> KeyMetadata {
            let valid_to = options.and_then(|o| o.valid_to).map(|d| d.0);
            let material = Zeroizing::new(material.to_vec());
            let k = self.ks();
            Ok(Job::new(move || Ok(k.import_key_material(&key, &material, valid_to)?.into())))
        }

        #[doc = " DeleteImportedKeyMaterial: destroys the material of every version of an"]
        #[doc = " imported key; it is PendingImport until the same material is imported again."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " DeleteImportedKeyMaterial, blocking."]
        fn delete_imported_key_material, delete_imported_key_material_sync(&self, key: String) -> KeyMetadata {
            self.key_job(key, ks::KeyStore::delete_imported_key_material)
        }

        #[doc = " Destroys imported material whose validTo has passed (opening the store does"]
        #[doc = " this too); returns how many key versions lost their material."]
        #[promise("Promise<number>")]
        #[doc = " purgeExpiredMaterial, blocking."]
        fn purge_expired_material, purge_expired_material_sync(&self) -> u32 {
            let k = self.ks();
            Ok(Job::new(move || Ok(k.purge_expired_material()? as u32)))
        }

        #[doc = " DescribeKey (key ID or alias)."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " DescribeKey, blocking."]
        fn describe_key, describe_key_sync(&self, key: String) -> KeyMetadata {
            self.key_job(key, ks::KeyStore::describe_key)
        }

        #[doc = " ListKeys: one page, in key ID order."]
        #[promise("Promise<KeyList>")]
        #[doc = " ListKeys, blocking."]
        fn list_keys, list_keys_sync(&self, options: Option<ListKeysOptions>) -> KeyList {
            let (limit, marker) = options.map_or((None, None), |o| (o.limit, o.marker));
            let limit = match limit {
                Some(l) => whole("limit", l, 1, MAX_LIST_LIMIT as u64)? as usize,
                None => MAX_LIST_LIMIT,
            };
            let k = self.ks();
            Ok(Job::new(move || {
                let page = k.list_keys(limit, marker.as_deref())?;
                Ok(KeyList {
                    keys: page.keys.into_iter().map(Into::into).collect(),
                    next_marker: page.next_marker,
                })
            }))
        }

        #[doc = " EnableKey."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " EnableKey, blocking."]
        fn enable_key, enable_key_sync(&self, key: String) -> KeyMetadata {
            self.key_job(key, ks::KeyStore::enable_key)
        }

        #[doc = " DisableKey."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " DisableKey, blocking."]
        fn disable_key, disable_key_sync(&self, key: String) -> KeyMetadata {
            self.key_job(key, ks::KeyStore::disable_key)
        }

        #[doc = " ScheduleKeyDeletion: the material is destroyed after"]
        #[doc = " `pendingWindowDays` (7..=30, default 30) unless cancelled."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " ScheduleKeyDeletion, blocking."]
        fn schedule_key_deletion, schedule_key_deletion_sync(
            &self,
            key: String,
            pending_window_days: Option<f64>,
        ) -> KeyMetadata {
            let days = match pending_window_days {
                Some(d) => whole_u32("pendingWindowDays", d, 0, u32::MAX)?,
                None => ks::DEFAULT_DELETION_WINDOW_DAYS,
            };
            let k = self.ks();
            Ok(Job::new(move || Ok(k.schedule_key_deletion(&key, days)?.into())))
        }

        #[doc = " CancelKeyDeletion: the key comes back disabled."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " CancelKeyDeletion, blocking."]
        fn cancel_key_deletion, cancel_key_deletion_sync(&self, key: String) -> KeyMetadata {
            self.key_job(key, ks::KeyStore::cancel_key_deletion)
        }

        #[doc = " RotateKey (AES_256): a new primary version; returns its number."]
        #[doc = " Older versions keep decrypting."]
        #[promise("Promise<number>")]
        #[doc = " RotateKey, blocking."]
        fn rotate_key, rotate_key_sync(&self, key: String) -> u32 {
            let k = self.ks();
            Ok(Job::new(move || k.rotate_key(&key)))
        }

        #[doc = " EnableKeyRotation every `periodDays` (AES_256 only)."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " EnableKeyRotation, blocking."]
        fn enable_key_rotation, enable_key_rotation_sync(
            &self,
            key: String,
            period_days: f64,
        ) -> KeyMetadata {
            let days = whole_u32("periodDays", period_days, 0, u32::MAX)?;
            let k = self.ks();
            Ok(Job::new(move || Ok(k.enable_key_rotation(&key, days)?.into())))
        }

        #[doc = " DisableKeyRotation."]
        #[promise("Promise<KeyMetadata>")]
        #[doc = " DisableKeyRotation, blocking."]
        fn disable_key_rotation, disable_key_rotation_sync(&self, key: String) -> KeyMetadata {
            self.key_job(key, ks::KeyStore::disable_key_rotation)
        }

        #[doc = " Rotates every key whose rotation period has passed; returns how many."]
        #[promise("Promise<number>")]
        #[doc = " applyDueRotations, blocking."]
        fn apply_due_rotations, apply_due_rotations_sync(&self) -> u32 {
            let k = self.ks();
            Ok(Job::new(move || Ok(k.apply_due_rotations()? as u32)))
        }

        #[doc = " Destroys the keys whose deletion date has passed; returns their IDs."]
        #[promise("Promise<Array<string>>")]
        #[doc = " purgeExpiredKeys, blocking."]
        fn purge_expired_keys, purge_expired_keys_sync(&self) -> Vec<String> {
            let k = self.ks();
            Ok(Job::new(move || k.purge_expired_keys()))
        }

        #[doc = " UpdateKeyDescription."]
        #[promise("Promise<void>")]
        #[doc = " UpdateKeyDescription, blocking."]
        fn update_key_description, update_key_description_sync(
            &self,
            key: String,
            description: String,
        ) -> () {
            let k = self.ks();
            Ok(Job::new(move || k.update_key_description(&key, &description)))
        }
    }
}
