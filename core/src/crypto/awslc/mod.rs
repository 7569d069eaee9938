//! The aws-lc provider: AWS-LC through aws-lc-rs (the default provider).
//!
//! Same names, signatures and semantics as `rustcrypto.rs`; the two are run
//! side by side by `tests/differential.rs`. Where they differ, it is written
//! down here and in docs/SECURITY.md:
//!
//! * RSA moduli are 2048..=8192 bits (aws-lc-rs refuses larger RSA keys in
//!   every API; the rustcrypto provider takes up to 16384), and
//!   `RsaPrivateKey::generate` makes 2048, 3072, 4096 or 8192-bit keys (the
//!   sizes aws-lc-rs generates).
//! * `EcdsaVerifyingKey::from_sec1` takes compressed and uncompressed
//!   points; the rustcrypto provider also takes the rare "compact" form
//!   (tag 0x05), which AWS-LC does not know.
//!
//! aws-lc-rs has no API for RSA signatures over a digest with SHA-1, nor for
//! RSA-PSS with SHA-1 at all, and pins the PSS salt length itself; the RSA
//! signature operations therefore call AWS-LC's `RSA_sign`/`RSA_verify` and
//! `RSA_{sign,verify}_pss_mgf1` directly through aws-lc-sys (`ffi.rs`).
//! So do, for speed, AES-GCM (`EVP_AEAD_CTX`, which also seals from one
//! buffer into another: aws-lc-rs seals in place only) and HKDF's HMAC,
//! as do ML-DSA over μ and ML-KEM from a seed, which aws-lc-rs lacks.
//! `ffi.rs` holds the `unsafe` calls; `aead.rs` passes it the pointers of
//! slices whose lengths it checked. Every other operation goes through
//! aws-lc-rs.
//!
//! FIPS (feature `fips`): the same code links the FIPS 140-3 validated
//! AWS-LC module. Several operations sealbox needs are outside the module's
//! approved services (AES-GCM with caller-built IVs as the message format
//! requires, ECDSA/RSA over a digest, HKDF without salt): they run in the
//! validated module, but not as approved services. See docs/SECURITY.md.
//!
//! Files by primitive: `aead.rs`, `hash.rs` (digests, HKDF, HMAC),
//! `ecdsa.rs`, `ed25519.rs`, `mldsa.rs`, `rsa.rs`, `pq.rs` (ML-KEM, X25519,
//! SHA-3), `ffi.rs`. The DER this provider reads or writes
//! itself is `crypto/der.rs`, shared with the rustcrypto provider.

mod aead;
mod ecdsa;
mod ed25519;
mod ffi;
mod hash;
mod mldsa;
mod pq;
mod rsa;

pub use self::aead::{aes256_cbc_decrypt, aes256_cbc_encrypt, aes256_prf_blocks, AesGcmKey};
pub use self::ecdsa::{EcdhPrivateKey, EcdsaSigningKey, EcdsaVerifyingKey};
pub use self::ed25519::{ed25519_verify, Ed25519KeyPair};
pub use self::hash::{hkdf_expand_each, hmac, Hasher};
pub use self::mldsa::{mldsa_verify_mu, MlDsaKeyPair};
pub use self::pq::{
    mlkem768_encapsulate, sha3_256, x25519, x25519_public, MlKem768DecapsulationKey, Shake256,
};
pub use self::rsa::{RsaPrivateKey, RsaPublicKey};

use crate::error::{Error, Result};

/// Fills `buf` from AWS-LC's random generator (a DRBG seeded from the
/// operating system; in the FIPS build, the module's approved DRBG).
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    aws_lc_rs::rand::fill(buf).map_err(|_| Error::Rng)
}

/// Whether AWS-LC runs as the FIPS 140-3 validated module in FIPS mode:
/// true only in a build with the `fips` feature.
pub fn fips_mode() -> bool {
    aws_lc_rs::try_fips_mode().is_ok()
}
