//! # sealbox
//!
//! An embeddable key-management service: a key store that keeps master
//! keys (in a sealed software store or an HSM) and an envelope layer that
//! encrypts data of any size with data keys, in the AWS Encryption SDK
//! message format so that sealbox and the AWS Encryption SDKs read each
//! other's messages.
//!
//! This crate is the core; C, Python and Node bindings wrap it.
//!
//! ```
//! use std::sync::Arc;
//! use sealbox::cmm::DefaultMaterialsManager;
//! use sealbox::keyring::RawAesKeyring;
//! use sealbox::message::{decrypt, encrypt, DecryptOptions, EncryptOptions};
//!
//! let wrapping_key = [0x42u8; 32]; // in real life: from your secret store
//! let keyring = Arc::new(RawAesKeyring::new("payments", "2026-key", &wrapping_key)?);
//! let cmm = DefaultMaterialsManager::new(keyring);
//! let mut options = EncryptOptions::default();
//! options.encryption_context.insert("order".into(), "1234".into());
//! let message = encrypt(b"4111 1111 1111 1111", &cmm, &options)?;
//!
//! let mut expect = DecryptOptions::default();
//! expect.encryption_context = Some(options.encryption_context.clone());
//! let result = decrypt(&message, &cmm, &expect)?;
//! assert_eq!(result.plaintext, b"4111 1111 1111 1111");
//! # Ok::<(), sealbox::Error>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod audit;
mod build_info;
pub mod cmm;
pub mod crypto;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod keyring;
pub mod keystore;
pub mod materials;
pub mod message;
pub mod names;
pub mod secret;
mod sync;
#[cfg(feature = "lock-check")]
#[doc(hidden)]
pub use sync::lock_order_control;

pub use build_info::{build_info, BuildInfo, VERSION};
pub use error::{Error, ErrorKind, Result};
pub use message::{AlgorithmSuite, CommitmentPolicy, EncryptionContext};
