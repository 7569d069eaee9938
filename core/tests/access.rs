//! Access control in the key store (issue 16): principals, key policies
//! and grants decided before any key material is touched, for every
//! operation an allowed and a denied case, refusals audited as `denied`
//! with the deciding statement or the missing grant; caching materials
//! managers do not serve a principal that lost the key.

mod common;

use std::sync::{Arc, Mutex};

use common::{open, TempDir, TestClock};
use sealbox::audit::{AuditEvent, AuditSink, Outcome};
use sealbox::keystore::{
    CreateKeyRequest, DefaultKeyPolicy, GrantRequest, KeyAgreementAlgorithm, KeySpec, KeyStore,
    KeyStoreOptions, KeyUsage, MacAlgorithm, MessageType, RootKey, SigningAlgorithm,
};
use sealbox::{EncryptionContext, Error, Result};

/// Every principal's record of what happened (the store's audit sink).
#[derive(Debug, Default)]
struct Events(Mutex<Vec<AuditEvent>>);

impl AuditSink for Events {
    fn record(&self, e: &AuditEvent) -> Result<()> {
        self.0.lock().unwrap().push(e.clone());
        Ok(())
    }
}

impl Events {
    fn last(&self) -> AuditEvent {
        self.0.lock().unwrap().last().unwrap().clone()
    }
}

fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const ADMIN_ONLY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": ["admin"]},
     "Action": "kms:*", "Resource": "*"}
  ]
}"#;

/// admin: everything; app: the data plane for tenant t1 only, never for an
/// "export" purpose; auditor: DescribeKey.
const SPLIT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Admin", "Effect": "Allow", "Principal": {"Sealbox": "admin"},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "AppDataPlane", "Effect": "Allow", "Principal": {"Sealbox": ["app"]},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
     "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "t1"}}},
    {"Sid": "NoExport", "Effect": "Deny", "Principal": "*",
     "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "export"}}},
    {"Sid": "Auditor", "Effect": "Allow", "Principal": {"Sealbox": "auditor"},
     "Action": "kms:DescribeKey", "Resource": "*"}
  ]
}"#;

fn start(tag: &str) -> (TempDir, KeyStore, Arc<Events>) {
    let dir = TempDir::new(tag);
    let ks = open(&dir, TestClock::new());
    let events = Arc::new(Events::default());
    ks.add_audit_sink(events.clone());
    (dir, ks.as_principal("admin").unwrap(), events)
}

fn create(ks: &KeyStore, spec: KeySpec, policy: &str) -> String {
    ks.create_key(&CreateKeyRequest {
        key_spec: spec,
        policy: Some(policy.into()),
        ..CreateKeyRequest::default()
    })
    .unwrap()
    .key_id
    .to_string()
}

fn denied<T>(r: Result<T>, events: &Events, why: &str) {
    match r {
        Err(Error::AccessDenied(m)) => assert!(m.contains(why), "{m} (expected {why:?})"),
        Err(other) => panic!("expected AccessDenied, got {other:?}"),
        Ok(_) => panic!("expected AccessDenied, got a result"),
    }
    let e = events.last();
    assert_eq!(e.outcome, Outcome::Denied, "{e:?}");
    assert!(e.error.as_deref().unwrap_or("").contains(why), "{e:?}");
}

#[test]
fn the_data_plane_follows_the_policy_and_its_conditions() {
    let (_d, admin, events) = start("policy-data");
    let key = create(&admin, KeySpec::Aes256, SPLIT);
    let app = admin.as_principal("app").unwrap();
    let t1 = ec(&[("tenant", "t1")]);
    let t2 = ec(&[("tenant", "t2")]);
    // Allowed inside the condition; the record names the principal.
    let blob = app.encrypt(&key, b"card", &t1).unwrap();
    assert_eq!(events.last().principal, "app");
    assert_eq!(app.decrypt(&blob, &t1).unwrap().as_bytes(), b"card");
    app.generate_data_key(&key, 32, &t1).unwrap();
    app.generate_data_key_without_plaintext(&key, 32, &t1)
        .unwrap();
    // Outside it: no statement allows.
    denied(
        app.encrypt(&key, b"x", &t2),
        &events,
        "no statement or grant allows kms:Encrypt",
    );
    denied(
        app.generate_data_key(&key, 32, &ec(&[])),
        &events,
        "kms:GenerateDataKey",
    );
    // Explicit deny wins over the allow.
    let export = ec(&[("tenant", "t1"), ("purpose", "export")]);
    let b2 = app.encrypt(&key, b"x", &export).unwrap();
    denied(app.decrypt(&b2, &export), &events, "NoExport");
    denied(admin.decrypt(&b2, &export), &events, "NoExport");
    // Management is not the app's.
    denied(app.disable_key(&key), &events, "kms:DisableKey");
    denied(app.describe_key(&key), &events, "kms:DescribeKey");
    let auditor = admin.as_principal("auditor").unwrap();
    auditor.describe_key(&key).unwrap();
    denied(auditor.decrypt(&blob, &t1), &events, "kms:Decrypt");
    // A denied request changed nothing and released nothing.
    assert!(admin.describe_key(&key).unwrap().key_state.name() == "Enabled");
    // An unknown principal may do nothing at all.
    let nobody = admin.as_principal("nobody").unwrap();
    denied(nobody.decrypt(&blob, &t1), &events, "\"nobody\"");
    assert!(matches!(
        admin.as_principal(""),
        Err(Error::InvalidArgument(_))
    ));
}

/// One operation, run as some principal.
type Op = Box<dyn Fn(&KeyStore) -> Result<()>>;

#[test]
fn every_operation_has_an_allowed_and_a_denied_case() {
    let (_d, admin, events) = start("policy-ops");
    let aes = create(&admin, KeySpec::Aes256, ADMIN_ONLY);
    let ecc = create(&admin, KeySpec::EccNistP256, ADMIN_ONLY);
    let hmac = create(&admin, KeySpec::Hmac256, ADMIN_ONLY);
    let other = create(&admin, KeySpec::Aes256, ADMIN_ONLY);
    let agree = admin
        .create_key(&CreateKeyRequest {
            key_spec: KeySpec::EccNistP256,
            key_usage: Some(KeyUsage::KeyAgreement),
            policy: Some(ADMIN_ONLY.into()),
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_id
        .to_string();
    let peer = admin.get_public_key(&ecc).unwrap();
    admin.create_alias("alias/ops", &aes).unwrap();
    let c = ec(&[("a", "b")]);
    let blob = admin.encrypt(&aes, b"x", &c).unwrap();
    let sig = admin
        .sign(&ecc, b"m", SigningAlgorithm::EcdsaSha256, MessageType::Raw)
        .unwrap();
    let mac = admin
        .generate_mac(&hmac, b"m", MacAlgorithm::HmacSha256)
        .unwrap();
    let grant = admin
        .create_grant(
            &aes,
            &GrantRequest {
                grantee_principal: "someone".into(),
                operations: vec!["Decrypt".into()],
                ..GrantRequest::default()
            },
        )
        .unwrap();
    let (a, e, h, o) = (aes.clone(), ecc.clone(), hmac.clone(), other.clone());
    let ops: Vec<(&str, Op)> = vec![
        (
            "kms:DescribeKey",
            Box::new({
                let a = a.clone();
                move |k| k.describe_key(&a).map(|_| ())
            }),
        ),
        (
            "kms:DisableKey",
            Box::new({
                let o = o.clone();
                move |k| k.disable_key(&o).map(|_| ())
            }),
        ),
        (
            "kms:EnableKey",
            Box::new({
                let o = o.clone();
                move |k| k.enable_key(&o).map(|_| ())
            }),
        ),
        (
            "kms:ScheduleKeyDeletion",
            Box::new({
                let o = o.clone();
                move |k| k.schedule_key_deletion(&o, 7).map(|_| ())
            }),
        ),
        (
            "kms:CancelKeyDeletion",
            Box::new({
                let o = o.clone();
                move |k| k.cancel_key_deletion(&o).map(|_| ())
            }),
        ),
        (
            "kms:RotateKeyOnDemand",
            Box::new({
                let a = a.clone();
                move |k| k.rotate_key(&a).map(|_| ())
            }),
        ),
        (
            "kms:EnableKeyRotation",
            Box::new({
                let a = a.clone();
                move |k| k.enable_key_rotation(&a, 90).map(|_| ())
            }),
        ),
        (
            "kms:DisableKeyRotation",
            Box::new({
                let a = a.clone();
                move |k| k.disable_key_rotation(&a).map(|_| ())
            }),
        ),
        (
            "kms:UpdateKeyDescription",
            Box::new({
                let a = a.clone();
                move |k| k.update_key_description(&a, "d")
            }),
        ),
        (
            "kms:TagResource",
            Box::new({
                let a = a.clone();
                move |k| {
                    k.tag_key(
                        &a,
                        &[("t".to_string(), "v".to_string())].into_iter().collect(),
                    )
                }
            }),
        ),
        (
            "kms:UntagResource",
            Box::new({
                let a = a.clone();
                move |k| k.untag_key(&a, &["t".to_string()])
            }),
        ),
        (
            "kms:CreateAlias",
            Box::new({
                let a = a.clone();
                move |k| k.create_alias("alias/ops2", &a)
            }),
        ),
        (
            "kms:UpdateAlias",
            Box::new({
                let o = o.clone();
                move |k| k.update_alias("alias/ops2", &o)
            }),
        ),
        (
            "kms:DeleteAlias",
            Box::new(move |k| k.delete_alias("alias/ops2")),
        ),
        (
            "kms:Encrypt",
            Box::new({
                let a = a.clone();
                let c = c.clone();
                move |k| k.encrypt(&a, b"x", &c).map(|_| ())
            }),
        ),
        (
            "kms:Decrypt",
            Box::new({
                let b = blob.clone();
                let c = c.clone();
                move |k| k.decrypt(&b, &c).map(|_| ())
            }),
        ),
        (
            "kms:ReEncryptFrom",
            Box::new({
                let b = blob.clone();
                let c = c.clone();
                let a = a.clone();
                move |k| k.re_encrypt(&b, &c, &a, &c).map(|_| ())
            }),
        ),
        (
            "kms:GenerateDataKey",
            Box::new({
                let a = a.clone();
                let c = c.clone();
                move |k| k.generate_data_key(&a, 32, &c).map(|_| ())
            }),
        ),
        (
            "kms:GenerateDataKeyWithoutPlaintext",
            Box::new({
                let a = a.clone();
                let c = c.clone();
                move |k| {
                    k.generate_data_key_without_plaintext(&a, 32, &c)
                        .map(|_| ())
                }
            }),
        ),
        (
            "kms:Sign",
            Box::new({
                let e = e.clone();
                move |k| {
                    k.sign(&e, b"m", SigningAlgorithm::EcdsaSha256, MessageType::Raw)
                        .map(|_| ())
                }
            }),
        ),
        (
            "kms:Verify",
            Box::new({
                let e = e.clone();
                let s = sig.clone();
                move |k| {
                    k.verify(
                        &e,
                        b"m",
                        &s,
                        SigningAlgorithm::EcdsaSha256,
                        MessageType::Raw,
                    )
                    .map(|_| ())
                }
            }),
        ),
        (
            "kms:DeriveSharedSecret",
            Box::new({
                let (g, p) = (agree.clone(), peer.clone());
                move |k| {
                    k.derive_shared_secret(&g, KeyAgreementAlgorithm::Ecdh, &p)
                        .map(|_| ())
                }
            }),
        ),
        (
            "kms:GetPublicKey",
            Box::new({
                let e = e.clone();
                move |k| k.get_public_key(&e).map(|_| ())
            }),
        ),
        (
            "kms:GenerateMac",
            Box::new({
                let h = h.clone();
                move |k| {
                    k.generate_mac(&h, b"m", MacAlgorithm::HmacSha256)
                        .map(|_| ())
                }
            }),
        ),
        (
            "kms:VerifyMac",
            Box::new({
                let h = h.clone();
                let m = mac.clone();
                move |k| {
                    k.verify_mac(&h, b"m", &m, MacAlgorithm::HmacSha256)
                        .map(|_| ())
                }
            }),
        ),
        (
            "kms:GetKeyPolicy",
            Box::new({
                let a = a.clone();
                move |k| k.get_key_policy(&a).map(|_| ())
            }),
        ),
        (
            "kms:PutKeyPolicy",
            Box::new({
                let a = a.clone();
                move |k| k.put_key_policy(&a, ADMIN_ONLY, true)
            }),
        ),
        (
            "kms:ListGrants",
            Box::new({
                let a = a.clone();
                move |k| k.list_grants(&a).map(|_| ())
            }),
        ),
        (
            "kms:CreateGrant",
            Box::new({
                let a = a.clone();
                move |k| {
                    k.create_grant(
                        &a,
                        &GrantRequest {
                            grantee_principal: "x".into(),
                            operations: vec!["Encrypt".into()],
                            ..GrantRequest::default()
                        },
                    )
                    .map(|_| ())
                }
            }),
        ),
        (
            "kms:RevokeGrant",
            Box::new({
                let a = a.clone();
                let g = grant.clone();
                move |k| k.revoke_grant(&a, &g)
            }),
        ),
    ];
    let nobody = admin.as_principal("nobody").unwrap();
    let before = admin.describe_key(&other).unwrap();
    for (action, op) in &ops {
        // Denied first: nothing happens, the record says why.
        denied(op(&nobody), &events, action);
        assert_eq!(events.last().principal, "nobody");
        // Then allowed for the admin.
        if let Err(e) = op(&admin) {
            panic!("{action} as admin: {e}");
        }
        assert_eq!(events.last().outcome, Outcome::Allowed, "{action}");
    }
    // The denied management calls changed nothing of `other` before the
    // admin's did (its state was restored by the admin's own sequence).
    assert_eq!(before.key_id, admin.describe_key(&other).unwrap().key_id);
    // CreateKey and ListKeys are not governed by a key's policy.
    nobody.create_key(&CreateKeyRequest::default()).unwrap();
    nobody.list_keys(10, None).unwrap();
}

#[test]
fn lockout_check_and_the_default_policies() {
    let (_d, admin, events) = start("policy-lockout");
    let key = create(&admin, KeySpec::Aes256, SPLIT);
    // A policy that leaves the admin unable to change it is refused...
    let app_only = SPLIT.replace(
        "\"Principal\": {\"Sealbox\": \"admin\"}",
        "\"Principal\": {\"Sealbox\": \"app\"}",
    );
    let r = admin.put_key_policy(&key, &app_only, false);
    assert!(
        matches!(&r, Err(Error::InvalidArgument(m)) if m.contains("bypass_policy_lockout_safety_check")),
        "{r:?}"
    );
    // ...unless the caller says so; then the admin is locked out.
    admin.put_key_policy(&key, &app_only, true).unwrap();
    denied(admin.get_key_policy(&key), &events, "kms:GetKeyPolicy");
    // A bad policy is an invalid argument and changes nothing.
    let app = admin.as_principal("app").unwrap();
    assert!(matches!(
        app.put_key_policy(&key, "{\"Statement\": 3}", false),
        Err(Error::InvalidArgument(_))
    ));
    assert!(
        app.get_key_policy(&key).unwrap().contains("AppDataPlane")
            || app.get_key_policy(&key).unwrap().contains("Admin")
    );
    // A key made without a policy allows everyone (today's behaviour)...
    let open_key = admin
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .key_id;
    let nobody = admin.as_principal("nobody").unwrap();
    nobody.encrypt(open_key.as_str(), b"x", &ec(&[])).unwrap();
    assert!(admin
        .get_key_policy(open_key.as_str())
        .unwrap()
        .contains("\"*\""));
}

#[test]
fn a_store_whose_default_policy_is_creator() {
    let dir = TempDir::new("policy-creator");
    let ks = KeyStore::open(
        common::location(&dir),
        &RootKey::from_bytes(&common::ROOT).unwrap(),
        KeyStoreOptions {
            principal: "team-a".into(),
            default_key_policy: Some(DefaultKeyPolicy::Creator),
            clock: TestClock::new(),
            ..KeyStoreOptions::default()
        },
    )
    .unwrap();
    let k = ks.create_key(&CreateKeyRequest::default()).unwrap().key_id;
    let c = ec(&[]);
    ks.encrypt(k.as_str(), b"x", &c).unwrap();
    let b = ks.as_principal("team-b").unwrap();
    assert!(matches!(
        b.encrypt(k.as_str(), b"x", &c),
        Err(Error::AccessDenied(_))
    ));
    // The setting is the store's: another handle opened without it follows it.
    drop(ks);
    let again = KeyStore::open(
        common::location(&dir),
        &RootKey::from_bytes(&common::ROOT).unwrap(),
        KeyStoreOptions {
            principal: "team-b".into(),
            clock: TestClock::new(),
            ..KeyStoreOptions::default()
        },
    )
    .unwrap();
    let kb = again
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .key_id;
    let a = again.as_principal("team-a").unwrap();
    assert!(matches!(
        a.encrypt(kb.as_str(), b"x", &c),
        Err(Error::AccessDenied(_))
    ));
}

#[test]
fn grants_allow_only_inside_their_constraints_until_revoked() {
    let (_d, admin, events) = start("grants");
    let key = create(&admin, KeySpec::Aes256, ADMIN_ONLY);
    let batch = admin.as_principal("batch").unwrap();
    let t1 = ec(&[("tenant", "t1"), ("job", "nightly")]);
    let t2 = ec(&[("tenant", "t2")]);
    let b1 = admin.encrypt(&key, b"one", &t1).unwrap();
    let b2 = admin.encrypt(&key, b"two", &t2).unwrap();
    denied(batch.decrypt(&b1, &t1), &events, "no statement or grant");
    let subset = admin
        .create_grant(
            &key,
            &GrantRequest {
                grantee_principal: "batch".into(),
                operations: vec!["Decrypt".into()],
                retiring_principal: Some("ops".into()),
                encryption_context_subset: Some(ec(&[("tenant", "t1")])),
                ..GrantRequest::default()
            },
        )
        .unwrap();
    assert_eq!(batch.decrypt(&b1, &t1).unwrap().as_bytes(), b"one");
    assert!(events.last().outcome == Outcome::Allowed);
    denied(batch.decrypt(&b2, &t2), &events, "no statement or grant");
    denied(batch.encrypt(&key, b"x", &t1), &events, "kms:Encrypt");
    // Equals: exactly that context.
    let equals = admin
        .create_grant(
            &key,
            &GrantRequest {
                grantee_principal: "batch".into(),
                operations: vec!["Encrypt".into()],
                encryption_context_equals: Some(t2.clone()),
                ..GrantRequest::default()
            },
        )
        .unwrap();
    batch.encrypt(&key, b"x", &t2).unwrap();
    denied(
        batch.encrypt(&key, b"x", &ec(&[("tenant", "t2"), ("more", "1")])),
        &events,
        "kms:Encrypt",
    );
    let listed = admin.list_grants(&key).unwrap();
    assert_eq!(listed.len(), 2);
    // Retire: not by the grantee (it lacks RetireGrant), by the retiring principal.
    denied(batch.retire_grant(&key, &subset), &events, "");
    admin
        .as_principal("ops")
        .unwrap()
        .retire_grant(&key, &subset)
        .unwrap();
    denied(batch.decrypt(&b1, &t1), &events, "no statement or grant");
    // Revoke takes effect for the next operation.
    admin.revoke_grant(&key, &equals).unwrap();
    denied(batch.encrypt(&key, b"x", &t2), &events, "kms:Encrypt");
    assert!(admin.list_grants(&key).unwrap().is_empty());
    assert!(matches!(
        admin.revoke_grant(&key, &equals),
        Err(Error::KeyNotFound(_))
    ));
    // A malformed grant is refused.
    assert!(matches!(
        admin.create_grant(
            &key,
            &GrantRequest {
                grantee_principal: "x".into(),
                operations: vec!["Launch".into()],
                ..GrantRequest::default()
            }
        ),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_caching_cmm_does_not_serve_a_principal_that_lost_the_key() {
    use sealbox::cmm::{CacheLimits, CachingMaterialsManager};
    let (_d, admin, _events) = start("policy-cmm");
    let key = create(&admin, KeySpec::Aes256, SPLIT);
    let app = admin.as_principal("app").unwrap();
    let keyring = sealbox::keyring::KeyStoreKeyring::new(app.clone(), &key);
    let cmm = CachingMaterialsManager::new(
        Arc::new(sealbox::cmm::DefaultMaterialsManager::new(Arc::new(
            keyring,
        ))),
        CacheLimits::with_max_age(std::time::Duration::from_secs(600)),
    )
    .unwrap();
    let t1 = ec(&[("tenant", "t1")]);
    let options = sealbox::message::EncryptOptions {
        encryption_context: t1.clone(),
        ..Default::default()
    };
    let enc = |data: &[u8]| sealbox::message::encrypt(data, &cmm, &options);
    enc(b"one").unwrap();
    enc(b"two").unwrap();
    assert_eq!(
        app.count(sealbox::keystore::Operation::GenerateDataKey),
        1,
        "the second came from the cache"
    );
    // The admin takes the app's statement away: the cache must not serve it.
    admin.put_key_policy(&key, ADMIN_ONLY, false).unwrap();
    assert!(enc(b"three").is_err());
}

#[test]
fn caching_cmms_of_two_principals_never_share_a_data_key() {
    use sealbox::cmm::{CacheLimits, CachingMaterialsManager, DefaultMaterialsManager};
    use sealbox::message::{decrypt, DecryptOptions, EncryptOptions};
    let (_d, admin, events) = start("policy-two-cmms");
    // Tenant a's service and tenant b's service, separated by the policy.
    let policy = r#"{"Statement":[
      {"Sid":"Admin","Effect":"Allow","Principal":{"Sealbox":"admin"},"Action":"kms:*","Resource":"*"},
      {"Sid":"A","Effect":"Allow","Principal":{"Sealbox":"svc-a"},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*",
       "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"a"}}},
      {"Sid":"B","Effect":"Allow","Principal":{"Sealbox":"svc-b"},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*",
       "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"b"}}}]}"#;
    let key = create(&admin, KeySpec::Aes256, policy);
    let cmm_for = |p: &str| {
        let ks = admin.as_principal(p).unwrap();
        let keyring = sealbox::keyring::KeyStoreKeyring::new(ks, &key);
        CachingMaterialsManager::new(
            Arc::new(DefaultMaterialsManager::new(Arc::new(keyring))),
            CacheLimits::with_max_age(std::time::Duration::from_secs(600)),
        )
        .unwrap()
    };
    let (cmm_a, cmm_b) = (cmm_for("svc-a"), cmm_for("svc-b"));
    let opts = |t: &str| EncryptOptions {
        encryption_context: ec(&[("tenant", t)]),
        ..Default::default()
    };
    // a's data key is cached for tenant a...
    let m1 = sealbox::message::encrypt(b"a1", &cmm_a, &opts("a")).unwrap();
    sealbox::message::encrypt(b"a2", &cmm_a, &opts("a")).unwrap();
    // ...but b asking for tenant a is refused by the key store, not served.
    assert!(sealbox::message::encrypt(b"b?", &cmm_b, &opts("a")).is_err());
    let e = events.last();
    assert_eq!(
        (e.principal.as_str(), e.outcome),
        ("svc-b", Outcome::Denied)
    );
    // b cannot read a's message through its own caching CMM either.
    assert!(decrypt(&m1, &cmm_b, &DecryptOptions::default()).is_err());
    assert_eq!(
        decrypt(&m1, &cmm_a, &DecryptOptions::default())
            .unwrap()
            .plaintext,
        b"a1"
    );
    // b works for its own tenant.
    sealbox::message::encrypt(b"b1", &cmm_b, &opts("b")).unwrap();
}
