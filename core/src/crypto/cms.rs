//! A plaintext for one recipient, as AWS KMS returns `CiphertextForRecipient`:
//! a CMS (RFC 5652) `ContentInfo` of `EnvelopedData` whose content is
//! encrypted with AES-256-CBC under a fresh key, and that key with
//! RSAES-OAEP (SHA-256, MGF1-SHA-256, RFC 4055) to the recipient's RSA
//! public key, named by its subject key identifier (the SHA-1 of its
//! public key, RFC 5280 section 4.2.1.2 method 1), since there is no
//! certificate. OpenSSL opens it with `openssl cms -decrypt -inform DER
//! -inkey KEY`; [`open_envelope`] opens it here.
//!
//! The byte layout is in docs/FORMAT.md.

use super::der::{self, Reader, OCTET_STRING, SEQUENCE};
use super::{
    aes256_cbc_decrypt, aes256_cbc_encrypt, digest, invalid_key, HashAlg, RsaPadding,
    RsaPrivateKey, RsaPublicKey,
};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// id-envelopedData (1.2.840.113549.1.7.3).
const ID_ENVELOPED_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03,
];
/// id-data (1.2.840.113549.1.7.1).
const ID_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
];
/// id-aes256-CBC (2.16.840.1.101.3.4.1.42).
const ID_AES256_CBC: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a,
];
/// AlgorithmIdentifier { id-RSAES-OAEP, RSAES-OAEP-params { [0] sha256
/// (NULL parameters), [1] { id-mgf1, sha256 } } } (RFC 4055), whole
/// element, as OpenSSL writes it.
const RSAES_OAEP_SHA256: &[u8] = &[
    0x30, 0x3c, // AlgorithmIdentifier
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07, // id-RSAES-OAEP
    0x30, 0x2f, // RSAES-OAEP-params
    0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, // [0] sha256
    0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30,
    0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, // [1] mgf1(sha256)
];
/// Context-specific [0], primitive (an IMPLICIT OCTET STRING).
const IMPLICIT_0: u8 = 0x80;
/// Context-specific [0], constructed (EXPLICIT).
const EXPLICIT_0: u8 = 0xa0;

/// The smallest recipient key (bits), as for the key store's RSA keys.
pub const MIN_RECIPIENT_BITS: usize = 2048;

/// A recipient's RSA public key and its subject key identifier.
#[derive(Debug)]
pub struct RecipientKey {
    key: RsaPublicKey,
    key_id: [u8; 20],
}

impl RecipientKey {
    /// Parses an RSA SubjectPublicKeyInfo (DER) of at least 2048 bits.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self> {
        let pkcs1 = der::spki_rsa_public_key(spki).map_err(|e| {
            invalid_key(format!(
                "the recipient's public key is not an RSA SubjectPublicKeyInfo: {e}"
            ))
        })?;
        let key = RsaPublicKey::from_der(spki)?;
        if key.bits() < MIN_RECIPIENT_BITS {
            return Err(invalid_key(format!(
                "the recipient's RSA key has {} bits; at least {MIN_RECIPIENT_BITS}",
                key.bits()
            )));
        }
        let mut key_id = [0u8; 20];
        key_id.copy_from_slice(&digest(HashAlg::Sha1, pkcs1));
        Ok(RecipientKey { key, key_id })
    }

    /// The subject key identifier: SHA-1 of the DER RSAPublicKey.
    pub fn key_id(&self) -> &[u8; 20] {
        &self.key_id
    }
}

/// `plaintext` as a CMS EnvelopedData (DER ContentInfo) that only the
/// holder of the recipient's private key opens.
pub fn envelope_for_recipient(recipient: &RecipientKey, plaintext: &[u8]) -> Result<Vec<u8>> {
    let cek = SecretBytes::random(32)?;
    let mut iv = [0u8; 16];
    super::fill_random(&mut iv)?;
    let content = aes256_cbc_encrypt(cek.as_bytes(), &iv, plaintext)?;
    let encrypted_key = recipient
        .key
        .encrypt(RsaPadding::Oaep(HashAlg::Sha256), cek.as_bytes())?;

    // KeyTransRecipientInfo { 2, [0] SubjectKeyIdentifier, OAEP, key }.
    let mut ktri = vec![der::INTEGER, 1, 2];
    der::write(&mut ktri, IMPLICIT_0, &recipient.key_id);
    ktri.extend_from_slice(RSAES_OAEP_SHA256);
    der::write(&mut ktri, OCTET_STRING, &encrypted_key);
    // EncryptedContentInfo { id-data, { aes256-CBC, IV }, [0] content }.
    let mut algorithm = ID_AES256_CBC.to_vec();
    der::write(&mut algorithm, OCTET_STRING, &iv);
    let mut eci = ID_DATA.to_vec();
    der::write(&mut eci, SEQUENCE, &algorithm);
    der::write(&mut eci, IMPLICIT_0, &content);
    // EnvelopedData { 2 (a version-2 recipient), SET { ktri }, eci }.
    let mut recipients = Vec::new();
    der::write(&mut recipients, SEQUENCE, &ktri);
    let mut enveloped = vec![der::INTEGER, 1, 2];
    der::write(&mut enveloped, 0x31, &recipients);
    der::write(&mut enveloped, SEQUENCE, &eci);
    // ContentInfo { id-envelopedData, [0] EXPLICIT EnvelopedData }.
    let mut explicit = Vec::new();
    der::write(&mut explicit, SEQUENCE, &enveloped);
    let mut info = ID_ENVELOPED_DATA.to_vec();
    der::write(&mut info, EXPLICIT_0, &explicit);
    Ok(der::tlv(SEQUENCE, &info))
}

/// Opens what [`envelope_for_recipient`] made for `private`'s public key
/// (exactly that layout, strict DER). Anything else, or another key, is
/// `DecryptionFailed`.
pub fn open_envelope(private: &RsaPrivateKey, cms: &[u8]) -> Result<SecretBytes> {
    let bad = |_| Error::DecryptionFailed;
    let info = der::read_single(SEQUENCE, cms).map_err(bad)?;
    let mut r = Reader::new(info);
    let (oid, _) = r.read_encoded(0x06).map_err(bad)?;
    if oid != ID_ENVELOPED_DATA {
        return Err(Error::DecryptionFailed);
    }
    let explicit = r.read(EXPLICIT_0).map_err(bad)?;
    r.finish().map_err(bad)?;
    let mut e = Reader::new(der::read_single(SEQUENCE, explicit).map_err(bad)?);
    if e.uint().map_err(bad)? != [2] {
        return Err(Error::DecryptionFailed);
    }
    let mut set = Reader::new(e.read(0x31).map_err(bad)?);
    let mut k = Reader::new(set.read(SEQUENCE).map_err(bad)?);
    set.finish().map_err(bad)?;
    if k.uint().map_err(bad)? != [2] {
        return Err(Error::DecryptionFailed);
    }
    let key_id = k.read(IMPLICIT_0).map_err(bad)?;
    let ours = RecipientKey::from_spki_der(&private.public_key().to_spki_der()?)?;
    let (alg, _) = k.read_encoded(SEQUENCE).map_err(bad)?;
    if key_id != ours.key_id || alg != RSAES_OAEP_SHA256 {
        return Err(Error::DecryptionFailed);
    }
    let encrypted_key = k.read(OCTET_STRING).map_err(bad)?;
    k.finish().map_err(bad)?;
    let mut c = Reader::new(e.read(SEQUENCE).map_err(bad)?);
    e.finish().map_err(bad)?;
    let (data, _) = c.read_encoded(0x06).map_err(bad)?;
    let mut a = Reader::new(c.read(SEQUENCE).map_err(bad)?);
    let (cbc, _) = a.read_encoded(0x06).map_err(bad)?;
    let iv: [u8; 16] = a
        .read(OCTET_STRING)
        .map_err(bad)?
        .try_into()
        .map_err(|_| Error::DecryptionFailed)?;
    a.finish().map_err(bad)?;
    let content = c.read(IMPLICIT_0).map_err(bad)?;
    c.finish().map_err(bad)?;
    if data != ID_DATA || cbc != ID_AES256_CBC {
        return Err(Error::DecryptionFailed);
    }
    let cek = private.decrypt(RsaPadding::Oaep(HashAlg::Sha256), encrypted_key)?;
    if cek.len() != 32 {
        return Err(Error::DecryptionFailed);
    }
    aes256_cbc_decrypt(cek.as_bytes(), &iv, content)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let private = RsaPrivateKey::generate(2048).unwrap();
        let spki = private.public_key().to_spki_der().unwrap();
        let recipient = RecipientKey::from_spki_der(&spki).unwrap();
        for len in [0usize, 1, 15, 16, 17, 32, 4096] {
            let plaintext = vec![0x5a; len];
            let cms = envelope_for_recipient(&recipient, &plaintext).unwrap();
            assert_eq!(
                open_envelope(&private, &cms).unwrap().as_bytes(),
                &plaintext[..]
            );
            // Every single-byte change is refused (none decrypts to the
            // plaintext: CBC alone is malleable, so the check is that the
            // opener refuses or the plaintext changes).
            for i in (0..cms.len()).step_by(7) {
                let mut bad = cms.clone();
                bad[i] ^= 0x01;
                if let Ok(p) = open_envelope(&private, &bad) {
                    assert_ne!(p.as_bytes(), &plaintext[..], "byte {i} changed nothing");
                }
            }
        }
        let other = RsaPrivateKey::generate(2048).unwrap();
        let cms = envelope_for_recipient(&recipient, b"x").unwrap();
        assert!(matches!(
            open_envelope(&other, &cms),
            Err(Error::DecryptionFailed)
        ));
        // Not RSA, or too small.
        let ec = crate::crypto::EcdsaSigningKey::generate(crate::crypto::EcCurve::P256)
            .unwrap()
            .verifying_key()
            .to_spki_der()
            .unwrap();
        assert!(RecipientKey::from_spki_der(&ec).is_err());
    }
}
