//! Key IDs: random (version 4) UUIDs in their lowercase hyphenated form.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The ID of a key-store key: a UUID, lowercase and hyphenated
/// (`1f0c2d3e-…`). Blobs carry its 16 bytes; PKCS#11 objects carry them as
/// `CKA_ID`. Reads as a `&str` wherever one is wanted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    /// A new random key ID.
    pub fn generate() -> Result<Self> {
        let mut b = [0u8; 16];
        crate::crypto::fill_random(&mut b)?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Ok(Self::from_bytes(&b))
    }

    /// The key ID of 16 bytes.
    pub fn from_bytes(b: &[u8; 16]) -> Self {
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        KeyId(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    }

    /// Parses a hyphenated UUID (either case); anything else is
    /// `KeyNotFound`, since no key can have that ID.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(Self::from_bytes(&Self::bytes_of(s)?))
    }

    /// The 16 bytes of a key ID given as text.
    pub(crate) fn bytes_of(s: &str) -> Result<[u8; 16]> {
        let bad = || Error::KeyNotFound(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return Err(bad());
        }
        let hex: Vec<u8> = b.iter().copied().filter(|c| *c != b'-').collect();
        if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(bad());
        }
        let mut out = [0u8; 16];
        for (o, pair) in out.iter_mut().zip(hex.chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| bad())?;
            *o = u8::from_str_radix(text, 16).map_err(|_| bad())?;
        }
        Ok(out)
    }

    /// The 16 bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        // Every KeyId was made from 16 bytes or checked to be a UUID.
        Self::bytes_of(&self.0).unwrap_or([0; 16])
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for KeyId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for KeyId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for KeyId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.0
    }
}

impl TryFrom<String> for KeyId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl PartialEq<str> for KeyId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for KeyId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for KeyId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<KeyId> for String {
    fn eq(&self, other: &KeyId) -> bool {
        self == &other.0
    }
}

impl PartialEq<KeyId> for &str {
    fn eq(&self, other: &KeyId) -> bool {
        *self == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let k = KeyId::generate().unwrap();
        assert_eq!(k.len(), 36);
        assert_eq!(&k[14..15], "4");
        assert_eq!(KeyId::from_bytes(&k.to_bytes()), k);
        assert_eq!(KeyId::parse(&k.to_uppercase()).unwrap(), k);
        for bad in [
            "not-a-uuid",
            "",
            "1f0c2d3e1a2b4c3d8e4f5a6b7c8d9e0f1234",
            "1f0c2d3e-1a2b-4c3d-8e4f-5a6b7c8d9e0g",
            "1f0c2d3e-1a2b-4c3d-8e4f5-a6b7c8d9e0f",
        ] {
            assert!(
                matches!(KeyId::parse(bad), Err(Error::KeyNotFound(_))),
                "{bad}"
            );
        }
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<KeyId>(&json).unwrap(), k);
        assert!(serde_json::from_str::<KeyId>("\"x\"").is_err());
    }
}
