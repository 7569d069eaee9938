//! The raw ECDH keyring: data keys wrapped under a key agreed by ECDH
//! between a sender and a recipient on P-256, P-384 or P-521, byte-compatible
//! with the raw ECDH keyring of the AWS Cryptographic Material Providers
//! Library (`CreateRawEcdhKeyring`), so that the AWS Encryption SDKs read
//! what it writes and the other way round.
//!
//! Three key agreement schemes, as in the AWS library:
//! - `RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY`: the sender's static private key
//!   and the recipient's public key; encrypts, and decrypts what either side
//!   of that pair wrote.
//! - `EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY`: a new key pair for every
//!   message and the recipient's public key; encrypts only.
//! - `PUBLIC_KEY_DISCOVERY`: the recipient's private key; decrypts every
//!   data key wrapped to its public key, whoever the sender.
//!
//! Encrypted data key (docs/FORMAT.md, "Raw ECDH keyring"):
//! - provider ID: `raw-ecdh` (on decrypt also `aws-kms-ecdh`: the AWS KMS
//!   ECDH keyring writes the same format);
//! - provider info: version `0x01` ‖ u32 length ‖ recipient public key ‖
//!   u32 length ‖ sender public key, both SEC 1 compressed points;
//! - ciphertext: salt (32 random bytes) ‖ commitment key (32) ‖
//!   AES-256-GCM(data key) ‖ tag (16).
//!
//! With Z the ECDH shared secret (the x-coordinate, the field's length) and
//! fixed info = `"ecdh-key-derivation"` ‖ 0 ‖ curve (`p256`, `p384`, `p521`)
//! ‖ 0 ‖ `"HMAC_SHA384"` ‖ 0 ‖ sender key ‖ recipient key ‖ 0 ‖ version ‖ 0 ‖
//! serialized encryption context, the KDF of NIST SP 800-108 in counter
//! mode with HMAC-SHA-384 gives 64 bytes: K(i) = HMAC(Z, i as u32 ‖ fixed
//! info ‖ 0 ‖ salt ‖ 512 as u32) for i = 1, 2. Its first 32 bytes are the
//! commitment key (compared in constant time on decrypt), the last 32 the
//! AES-256-GCM key, used once with a zero IV and the fixed info as AAD.

use crate::crypto::{
    self, der, AesGcmKey, EcCurve, EcdhPrivateKey, EcdsaSigningKey, EcdsaVerifyingKey, HashAlg,
    GCM_IV_LEN, GCM_TAG_LEN,
};
use crate::error::{Error, Result};
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::message::context;
use crate::names::named_enum;
use crate::secret::SecretBytes;

use super::{add_wrapped_data_key, decrypt_first, Keyring};

/// The provider ID of every encrypted data key of this keyring.
pub const PROVIDER_ID: &str = "raw-ecdh";
/// The provider ID of the AWS KMS ECDH keyring, whose encrypted data keys
/// have the same format.
const KMS_ECDH_PROVIDER_ID: &str = "aws-kms-ecdh";
const VERSION: u8 = 1;
const SALT_LEN: usize = 32;
const COMMITMENT_KEY_LEN: usize = 32;
const KDF_LABEL: &[u8] = b"ecdh-key-derivation";
const KDF_PRF: &[u8] = b"HMAC_SHA384";

named_enum!(
    /// How the sender's and recipient's keys are agreed (the AWS library's
    /// `RawEcdhStaticConfigurations`).
    EcdhKeyAgreementScheme {
        /// The sender's static private key and the recipient's public key.
        RawPrivateKeyToStaticPublicKey = "RAW_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY",
        /// A fresh key pair for every message and the recipient's public
        /// key: encrypt only.
        EphemeralPrivateKeyToStaticPublicKey = "EPHEMERAL_PRIVATE_KEY_TO_STATIC_PUBLIC_KEY",
        /// The recipient's private key: decrypt only.
        PublicKeyDiscovery = "PUBLIC_KEY_DISCOVERY",
    }
);

named_enum!(
    /// The curves of the raw ECDH keyring (the AWS library's `ECDHCurveSpec`).
    EcdhCurveSpec {
        /// NIST P-256.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521.
        EccNistP521 = "ECC_NIST_P521",
    }
);

impl EcdhCurveSpec {
    fn curve(self) -> EcCurve {
        match self {
            Self::EccNistP256 => EcCurve::P256,
            Self::EccNistP384 => EcCurve::P384,
            Self::EccNistP521 => EcCurve::P521,
        }
    }

    /// The curve's name in the KDF's fixed info.
    fn kdf_name(self) -> &'static [u8] {
        match self {
            Self::EccNistP256 => b"p256",
            Self::EccNistP384 => b"p384",
            Self::EccNistP521 => b"p521",
        }
    }

    /// The curve of an EC key given as PEM or DER (a private key as
    /// [`RawEcdhKeyring::new`] takes it, or a SubjectPublicKeyInfo): what a caller that has a key and no curve
    /// name (the CLI) passes to [`RawEcdhKeyring::new`].
    pub fn of_key(key: &[u8]) -> Result<Self> {
        let private = || {
            let pkcs8 = der::ec_private_key_pkcs8(key)?;
            der::pkcs8_ec_private_key(&pkcs8).ok().map(|(c, _)| c)
        };
        let public = || {
            let spki = der::pem_or_der(key, "PUBLIC KEY")?;
            der::spki_ec_point(&spki).ok().map(|(c, _)| c)
        };
        let curve = private().or_else(public);
        match curve {
            Some(EcCurve::P256) => Ok(Self::EccNistP256),
            Some(EcCurve::P384) => Ok(Self::EccNistP384),
            Some(EcCurve::P521) => Ok(Self::EccNistP521),
            _ => Err(Error::InvalidKey(
                "not a P-256, P-384 or P-521 key (PKCS#8 or SubjectPublicKeyInfo, PEM or DER)"
                    .into(),
            )),
        }
    }
}

/// A private key, parsed once, and its compressed public key.
struct StaticKey {
    key: EcdhPrivateKey,
    public: Vec<u8>,
}

impl StaticKey {
    fn parse(curve: EcdhCurveSpec, key: &[u8], whose: &str) -> Result<Self> {
        let bad = || {
            Error::InvalidKey(format!(
                "the {whose} private key is not an EC key on {curve} (PKCS#8 or SEC 1, PEM or DER)"
            ))
        };
        let pkcs8 = der::ec_private_key_pkcs8(key).ok_or_else(bad)?;
        let (c, scalar) = der::pkcs8_ec_private_key(&pkcs8).map_err(|_| bad())?;
        if c != curve.curve() {
            return Err(bad());
        }
        // Parsing the whole key checks the scalar and the public key the
        // PKCS#8 may carry.
        EcdsaSigningKey::from_pkcs8_der(&pkcs8).map_err(|_| bad())?;
        let key = EcdhPrivateKey::from_scalar(c, crypto::fixed_scalar(c, scalar)?.as_bytes())
            .map_err(|_| bad())?;
        Self::new(curve, key)
    }

    fn new(curve: EcdhCurveSpec, key: EcdhPrivateKey) -> Result<Self> {
        let public =
            EcdsaVerifyingKey::from_sec1(curve.curve(), key.public_point())?.to_compressed();
        Ok(StaticKey { key, public })
    }

    fn generate(curve: EcdhCurveSpec) -> Result<Self> {
        let c = curve.curve();
        // A uniform scalar below the group order: the provider refuses zero
        // and values at or above the order (rare: P-521's top byte is first
        // masked to its one bit). Bounded, so that a failing provider
        // fails the message instead of looping.
        for _ in 0..64 {
            let mut s = SecretBytes::random(c.field_len())?;
            if c == EcCurve::P521 {
                s.as_mut_bytes()[0] &= 0x01;
            }
            if let Ok(k) = EcdhPrivateKey::from_scalar(c, s.as_bytes()) {
                return Self::new(curve, k);
            }
        }
        Err(Error::EncryptFailed(
            "could not make an ephemeral ECDH key".into(),
        ))
    }

    /// ECDH with a compressed public key (checked to lie on the curve).
    fn agree(&self, curve: EcdhCurveSpec, compressed: &[u8]) -> Result<SecretBytes> {
        // Decompressed and checked by the provider, then agreed on as an
        // uncompressed point (which both providers take).
        let spki = EcdsaVerifyingKey::from_sec1(curve.curve(), compressed)?.to_spki_der()?;
        let (_, point) = der::spki_ec_point(&spki)
            .map_err(|e| Error::InvalidArgument(format!("a public key: {e}")))?;
        self.key.agree(point)
    }
}

/// A recipient's public key: compressed (as data keys name it) and
/// uncompressed (as ECDH takes it).
struct PublicKey {
    compressed: Vec<u8>,
    point: Vec<u8>,
}

/// A recipient's public key (PEM or DER SubjectPublicKeyInfo) on `curve`,
/// checked.
fn recipient_public(curve: EcdhCurveSpec, key: &[u8]) -> Result<PublicKey> {
    let bad = |why: String| {
        Error::InvalidKey(format!(
            "the recipient's public key is not a SubjectPublicKeyInfo on {curve} (PEM or DER): {why}"
        ))
    };
    let spki = der::pem_or_der(key, "PUBLIC KEY").ok_or_else(|| bad("not PEM".into()))?;
    let checked = crypto::ecdh_peer_spki(curve.curve(), &spki).map_err(|e| bad(e.to_string()))?;
    let (_, point) = der::spki_ec_point(&checked).map_err(|e| bad(e.to_string()))?;
    Ok(PublicKey {
        compressed: EcdsaVerifyingKey::from_spki_der(&checked)?.to_compressed(),
        point: point.to_vec(),
    })
}

/// The keys of a scheme, as the keyring holds them.
enum Keys {
    Static {
        sender: StaticKey,
        recipient: PublicKey,
    },
    Ephemeral {
        recipient: PublicKey,
    },
    Discovery {
        recipient: StaticKey,
    },
}

/// A keyring that wraps data keys under an ECDH-agreed key.
pub struct RawEcdhKeyring {
    curve: EcdhCurveSpec,
    keys: Keys,
}

impl std::fmt::Debug for RawEcdhKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEcdhKeyring")
            .field("scheme", &self.scheme())
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

impl RawEcdhKeyring {
    /// Creates a keyring. Keys are PEM or DER: a private key is PKCS#8 (or
    /// an RFC 5915 `EC PRIVATE KEY` on a named curve), a public key a
    /// SubjectPublicKeyInfo, both on `curve`.
    /// - `RawPrivateKeyToStaticPublicKey`: `private_key` is the sender's,
    ///   `public_key` the recipient's; both are required.
    /// - `EphemeralPrivateKeyToStaticPublicKey`: `public_key` (the
    ///   recipient's) only.
    /// - `PublicKeyDiscovery`: `private_key` (the recipient's) only.
    pub fn new(
        scheme: EcdhKeyAgreementScheme,
        curve: EcdhCurveSpec,
        private_key: Option<&[u8]>,
        public_key: Option<&[u8]>,
    ) -> Result<Self> {
        let need = |what: &str| {
            Error::InvalidArgument(format!("a {scheme} raw ECDH keyring needs {what}"))
        };
        let keys = match (scheme, private_key, public_key) {
            (EcdhKeyAgreementScheme::RawPrivateKeyToStaticPublicKey, Some(s), Some(p)) => {
                Keys::Static {
                    sender: StaticKey::parse(curve, s, "sender's")?,
                    recipient: recipient_public(curve, p)?,
                }
            }
            (EcdhKeyAgreementScheme::RawPrivateKeyToStaticPublicKey, _, _) => {
                return Err(need(
                    "the sender's private key and the recipient's public key",
                ))
            }
            (EcdhKeyAgreementScheme::EphemeralPrivateKeyToStaticPublicKey, None, Some(p)) => {
                Keys::Ephemeral {
                    recipient: recipient_public(curve, p)?,
                }
            }
            (EcdhKeyAgreementScheme::EphemeralPrivateKeyToStaticPublicKey, _, _) => {
                return Err(need("the recipient's public key and no private key"))
            }
            (EcdhKeyAgreementScheme::PublicKeyDiscovery, Some(s), None) => Keys::Discovery {
                recipient: StaticKey::parse(curve, s, "recipient's")?,
            },
            (EcdhKeyAgreementScheme::PublicKeyDiscovery, _, _) => {
                return Err(need("the recipient's private key and no public key"))
            }
        };
        Ok(RawEcdhKeyring { curve, keys })
    }

    /// The keyring's key agreement scheme.
    pub fn scheme(&self) -> EcdhKeyAgreementScheme {
        match self.keys {
            Keys::Static { .. } => EcdhKeyAgreementScheme::RawPrivateKeyToStaticPublicKey,
            Keys::Ephemeral { .. } => EcdhKeyAgreementScheme::EphemeralPrivateKeyToStaticPublicKey,
            Keys::Discovery { .. } => EcdhKeyAgreementScheme::PublicKeyDiscovery,
        }
    }

    /// The keyring's curve.
    pub fn curve(&self) -> EcdhCurveSpec {
        self.curve
    }

    /// The KDF's fixed info for one sender, recipient and encryption context.
    fn fixed_info(&self, sender: &[u8], recipient: &[u8], serialized_context: &[u8]) -> Vec<u8> {
        let mut info = Vec::with_capacity(
            KDF_LABEL.len()
                + KDF_PRF.len()
                + 16
                + sender.len()
                + recipient.len()
                + serialized_context.len(),
        );
        for part in [KDF_LABEL, self.curve.kdf_name(), KDF_PRF] {
            info.extend_from_slice(part);
            info.push(0);
        }
        info.extend_from_slice(sender);
        info.extend_from_slice(recipient);
        info.push(0);
        info.push(VERSION);
        info.push(0);
        info.extend_from_slice(serialized_context);
        info
    }
}

/// NIST SP 800-108 counter-mode KDF with HMAC-SHA-384, as the AWS library
/// writes it: 64 bytes, label = fixed info, context = salt.
fn derive(shared: &SecretBytes, fixed_info: &[u8], salt: &[u8]) -> Result<SecretBytes> {
    let mut out = SecretBytes::zeroed(COMMITMENT_KEY_LEN + 32)?;
    let mut input = Vec::with_capacity(4 + fixed_info.len() + 1 + salt.len() + 4);
    let hlen = HashAlg::Sha384.output_len();
    for (i, chunk) in out.as_mut_bytes().chunks_mut(hlen).enumerate() {
        input.clear();
        input.extend_from_slice(&(i as u32 + 1).to_be_bytes());
        input.extend_from_slice(fixed_info);
        input.push(0);
        input.extend_from_slice(salt);
        input.extend_from_slice(&((COMMITMENT_KEY_LEN as u32 + 32) * 8).to_be_bytes());
        let block =
            zeroize::Zeroizing::new(crypto::hmac(HashAlg::Sha384, shared.as_bytes(), &input)?);
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
    Ok(out)
}

/// The two public keys in an encrypted data key's provider info, if it is
/// one this keyring's format can hold.
fn parse_provider_info(info: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&version, rest) = info.split_first()?;
    if version != VERSION {
        return None;
    }
    fn take(b: &[u8]) -> Option<(&[u8], &[u8])> {
        let (len, b) = b.split_at_checked(4)?;
        let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
        b.split_at_checked(len)
    }
    let (recipient, rest) = take(rest)?;
    let (sender, rest) = take(rest)?;
    rest.is_empty().then_some((recipient, sender))
}

fn provider_info(sender: &[u8], recipient: &[u8]) -> Vec<u8> {
    let mut info = Vec::with_capacity(9 + sender.len() + recipient.len());
    info.push(VERSION);
    for key in [recipient, sender] {
        info.extend_from_slice(&(key.len() as u32).to_be_bytes());
        info.extend_from_slice(key);
    }
    info
}

const ZERO_IV: [u8; GCM_IV_LEN] = [0; GCM_IV_LEN];

impl Keyring for RawEcdhKeyring {
    fn is_in_memory(&self) -> bool {
        true
    }

    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<()> {
        let ephemeral;
        let (sender, recipient) = match &self.keys {
            Keys::Static { sender, recipient } => (sender, recipient),
            Keys::Ephemeral { recipient } => {
                ephemeral = StaticKey::generate(self.curve)?;
                (&ephemeral, recipient)
            }
            Keys::Discovery { .. } => {
                return Err(Error::EncryptFailed(
                    "a PUBLIC_KEY_DISCOVERY raw ECDH keyring cannot encrypt".into(),
                ))
            }
        };
        add_wrapped_data_key(materials, PROVIDER_ID, |dk, encryption_context| {
            let shared = sender.key.agree(&recipient.point)?;
            let fixed = self.fixed_info(
                &sender.public,
                &recipient.compressed,
                &context::serialize(encryption_context)?,
            );
            let mut salt = [0u8; SALT_LEN];
            crypto::fill_random(&mut salt)?;
            let derived = derive(&shared, &fixed, &salt)?;
            let (commitment, wrapping) = derived.as_bytes().split_at(COMMITMENT_KEY_LEN);
            let mut ciphertext =
                Vec::with_capacity(SALT_LEN + COMMITMENT_KEY_LEN + dk.len() + GCM_TAG_LEN);
            ciphertext.extend_from_slice(&salt);
            ciphertext.extend_from_slice(commitment);
            ciphertext.extend_from_slice(dk.as_bytes());
            let tag = AesGcmKey::new(wrapping)?.seal_in_place(
                &ZERO_IV,
                &fixed,
                &mut ciphertext[SALT_LEN + COMMITMENT_KEY_LEN..],
            )?;
            ciphertext.extend_from_slice(&tag);
            Ok((
                provider_info(&sender.public, &recipient.compressed),
                ciphertext,
            ))
        })
    }

    fn on_decrypt(&self, m: &mut DecryptionMaterials, edks: &[EncryptedDataKey]) -> Result<()> {
        let (private, own_sender, own_recipient) = match &self.keys {
            Keys::Static { sender, recipient } => {
                (sender, Some(&sender.public), &recipient.compressed)
            }
            Keys::Discovery { recipient } => (recipient, None, &recipient.public),
            // Nothing to decrypt with, as in the AWS library (but materials
            // that already hold a data key are left alone, as every keyring
            // leaves them).
            Keys::Ephemeral { .. } => {
                return match m.plaintext_data_key {
                    Some(_) => Ok(()),
                    None => Err(Error::DecryptionFailed),
                }
            }
        };
        decrypt_first(
            m,
            edks,
            |m| context::serialize(&m.encryption_context),
            |aad, m, edk| {
                // The AWS KMS ECDH keyring writes the same format: its data
                // keys wrapped to this recipient's key open here too.
                if edk.provider_id != PROVIDER_ID && edk.provider_id != KMS_ECDH_PROVIDER_ID {
                    return Ok(None);
                }
                let Some((recipient, sender)) = parse_provider_info(&edk.provider_info) else {
                    return Ok(None);
                };
                // Compressed points of the keyring's curve, as the AWS
                // library writes and requires them.
                let compressed = 1 + self.curve.curve().field_len();
                if [recipient, sender]
                    .iter()
                    .any(|k| k.len() != compressed || !matches!(k[0], 0x02 | 0x03))
                {
                    return Ok(None);
                }
                // Whose public key to agree with: the sender's when this
                // keyring holds the recipient's private key (discovery, or
                // a static pair the other way round), else the recipient's.
                let peer = match own_sender {
                    None if recipient == own_recipient.as_slice() => sender,
                    Some(s) if s == sender && own_recipient == recipient => recipient,
                    Some(s) if s == recipient && own_recipient == sender => sender,
                    _ => return Ok(None),
                };
                let want = m.suite.data_key_len();
                let body = &edk.ciphertext;
                if body.len() != SALT_LEN + COMMITMENT_KEY_LEN + want + GCM_TAG_LEN {
                    return Ok(None);
                }
                // Both keys in the provider info must be points on the
                // curve: the one that is not `peer` equals one of this
                // keyring's own keys (checked when it was made), and `agree`
                // decompresses and checks `peer`.
                let Ok(shared) = private.agree(self.curve, peer) else {
                    return Ok(None);
                };
                let fixed = self.fixed_info(sender, recipient, aad);
                let (salt, rest) = body.split_at(SALT_LEN);
                let (commitment, rest) = rest.split_at(COMMITMENT_KEY_LEN);
                let (wrapped, tag) = rest.split_at(want);
                let derived = derive(&shared, &fixed, salt)?;
                let (expected, wrapping) = derived.as_bytes().split_at(COMMITMENT_KEY_LEN);
                if !crypto::ct_eq(expected, commitment) {
                    return Ok(None);
                }
                let mut dk = SecretBytes::from_slice(wrapped)?;
                let opened = AesGcmKey::new(wrapping)?
                    .open_in_place(&ZERO_IV, &fixed, dk.as_mut_bytes(), tag)
                    .is_ok();
                Ok(opened.then_some(dk))
            },
        )
    }
}
