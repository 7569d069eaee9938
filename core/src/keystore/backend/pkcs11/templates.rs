//! Key templates: one place maps a key's spec and usage to PKCS#11
//! attributes (persistent, `CKA_SENSITIVE`, `CKA_EXTRACTABLE` false, and
//! only the operations of its usage).

use cryptoki::mechanism::rsa::PkcsMgfType;
use cryptoki::mechanism::MechanismType;
use cryptoki::object::{Attribute, KeyType, ObjectClass};

use crate::crypto::{der, EcCurve, HashAlg};
use crate::keystore::types::{KeySpec, KeyUsage};

/// `CKA_EC_PARAMS` of the EC keys sealbox makes: the named curve.
pub(super) fn ec_params(curve: EcCurve) -> Vec<u8> {
    der::ec_named_curve(curve).to_vec()
}

/// The template of a persistent, sensitive, non-extractable secret key.
pub(super) fn secret_template(
    kt: KeyType,
    len: usize,
    id: Vec<u8>,
    label: Vec<u8>,
    usage: KeyUsage,
) -> Vec<Attribute> {
    let (enc, mac) = (
        usage == KeyUsage::EncryptDecrypt,
        usage == KeyUsage::GenerateVerifyMac,
    );
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(kt),
        Attribute::ValueLen((len as u64).into()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Encrypt(enc),
        Attribute::Decrypt(enc),
        Attribute::Sign(mac),
        Attribute::Verify(mac),
        Attribute::Wrap(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Id(id),
        Attribute::Label(label),
    ]
}

/// Public and private templates of a key pair for `usage`.
pub(super) fn pair_templates(
    spec: KeySpec,
    usage: KeyUsage,
    id: Vec<u8>,
    label: Vec<u8>,
) -> (Vec<Attribute>, Vec<Attribute>) {
    let (enc, sign) = (
        usage == KeyUsage::EncryptDecrypt,
        usage == KeyUsage::SignVerify,
    );
    let mut public = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Encrypt(enc),
        Attribute::Verify(sign),
        Attribute::Wrap(false),
        Attribute::Id(id.clone()),
        Attribute::Label(label.clone()),
    ];
    let kt = pair_key_type(spec);
    public.push(Attribute::KeyType(kt));
    match spec.rsa_bits() {
        Some(bits) => {
            public.push(Attribute::ModulusBits((bits as u64).into()));
            public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
        }
        None => public.push(Attribute::EcParams(pair_ec_params(spec))),
    }
    let private = vec![
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(kt),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Decrypt(enc),
        Attribute::Sign(sign),
        Attribute::Unwrap(false),
        // Only a KEY_AGREEMENT key derives (CKM_ECDH1_DERIVE).
        Attribute::Derive(usage == KeyUsage::KeyAgreement),
        Attribute::Id(id),
        Attribute::Label(label),
    ];
    (public, private)
}

/// `CKK_RSA`, `CKK_EC` or `CKK_EC_EDWARDS` for an asymmetric spec.
pub(super) fn pair_key_type(spec: KeySpec) -> KeyType {
    if spec.rsa_bits().is_some() {
        KeyType::RSA
    } else if spec.is_ed25519() {
        KeyType::EC_EDWARDS
    } else {
        KeyType::EC
    }
}

/// `CKA_EC_PARAMS` of an EC or Edwards spec: the named curve, or
/// id-Ed25519.
pub(super) fn pair_ec_params(spec: KeySpec) -> Vec<u8> {
    if spec.is_ed25519() {
        der::ED25519_OID.to_vec()
    } else {
        ec_params(spec.ec_curve().unwrap_or(EcCurve::P256))
    }
}

/// The PKCS#11 hash and MGF1 of `h` (RSA-OAEP and RSA-PSS parameters).
pub(super) fn hash_mech(h: HashAlg) -> (MechanismType, PkcsMgfType) {
    match h {
        HashAlg::Sha1 => (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
        HashAlg::Sha224 => (MechanismType::SHA224, PkcsMgfType::MGF1_SHA224),
        HashAlg::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
        HashAlg::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
        HashAlg::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
    }
}
