//! The encryption context and its serialization.
//!
//! An encryption context is a map of UTF-8 strings to UTF-8 strings,
//! authenticated with every message. It is serialized as a two-byte pair
//! count followed by (key length, key, value length, value) entries sorted
//! by key bytes; the empty context serializes to zero bytes.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// An encryption context. `BTreeMap<String, _>` iterates in byte order of
/// the keys, which is exactly the order the format requires.
pub type EncryptionContext = BTreeMap<String, String>;

/// The prefix reserved for keys that sealbox and the AWS Encryption SDK
/// add themselves; callers may not use it.
pub const RESERVED_PREFIX: &str = "aws-crypto-";

/// The key under which signed suites store the verification key.
pub const PUBLIC_KEY_FIELD: &str = "aws-crypto-public-key";

/// Serializes `ec` (empty context: empty output).
pub fn serialize(ec: &EncryptionContext) -> Result<Vec<u8>> {
    if ec.is_empty() {
        return Ok(Vec::new());
    }
    let count = u16::try_from(ec.len()).map_err(|_| {
        Error::InvalidArgument("encryption context has more than 65535 pairs".into())
    })?;
    let mut out =
        Vec::with_capacity(2 + ec.iter().map(|(k, v)| 4 + k.len() + v.len()).sum::<usize>());
    out.extend_from_slice(&count.to_be_bytes());
    for (k, v) in ec {
        for s in [k, v] {
            let n = u16::try_from(s.len()).map_err(|_| {
                Error::InvalidArgument(
                    "encryption context key or value longer than 65535 bytes".into(),
                )
            })?;
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    if out.len() > u16::MAX as usize {
        return Err(Error::InvalidArgument(
            "serialized encryption context exceeds 65535 bytes".into(),
        ));
    }
    Ok(out)
}

/// Parses a serialized context. Rejects duplicate keys, invalid UTF-8, a
/// zero pair count and trailing bytes.
pub fn deserialize(bytes: &[u8]) -> Result<EncryptionContext> {
    let mut ec = EncryptionContext::new();
    if bytes.is_empty() {
        return Ok(ec);
    }
    let bad = || Error::DecryptionFailed;
    let mut pos = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let end = pos
            .checked_add(n)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(bad)?;
        let s = &bytes[pos..end];
        pos = end;
        Ok(s)
    };
    let u16_at = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]) as usize;
    let count = u16_at(take(2)?);
    if count == 0 {
        return Err(bad());
    }
    for _ in 0..count {
        let kl = u16_at(take(2)?);
        let k = std::str::from_utf8(take(kl)?)
            .map_err(|_| bad())?
            .to_owned();
        let vl = u16_at(take(2)?);
        let v = std::str::from_utf8(take(vl)?)
            .map_err(|_| bad())?
            .to_owned();
        if ec.insert(k, v).is_some() {
            return Err(bad());
        }
    }
    if pos != bytes.len() {
        return Err(bad());
    }
    Ok(ec)
}

/// Rejects caller-supplied contexts that use the reserved prefix.
pub fn check_no_reserved_keys(ec: &EncryptionContext) -> Result<()> {
    match ec.keys().find(|k| k.starts_with(RESERVED_PREFIX)) {
        Some(k) => Err(Error::InvalidArgument(format!(
            "encryption context key {k:?} uses the reserved prefix {RESERVED_PREFIX:?}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_serializes_to_nothing() {
        assert!(serialize(&EncryptionContext::new()).unwrap().is_empty());
        assert!(deserialize(&[]).unwrap().is_empty());
    }

    #[test]
    fn sorted_by_key_bytes_and_round_trips() {
        let mut ec = EncryptionContext::new();
        ec.insert("b".into(), "2".into());
        ec.insert("a".into(), "1".into());
        ec.insert("\u{e9}".into(), "\u{1F600}".into());
        let s = serialize(&ec).unwrap();
        assert_eq!(&s[..8], &[0, 3, 0, 1, b'a', 0, 1, b'1']);
        assert_eq!(deserialize(&s).unwrap(), ec);
    }

    #[test]
    fn rejects_malformed() {
        assert!(deserialize(&[0, 0]).is_err());
        assert!(deserialize(&[0, 1, 0, 1, b'a']).is_err());
        assert!(deserialize(&[0, 2, 0, 1, b'a', 0, 0, 0, 1, b'a', 0, 0]).is_err());
        assert!(deserialize(&[0, 1, 0, 1, 0xff, 0, 0]).is_err());
        assert!(deserialize(&[0, 1, 0, 1, b'a', 0, 0, 9]).is_err());
    }

    #[test]
    fn reserved_prefix_refused() {
        let mut ec = EncryptionContext::new();
        ec.insert("aws-crypto-x".into(), "y".into());
        assert!(matches!(
            check_no_reserved_keys(&ec),
            Err(Error::InvalidArgument(_))
        ));
    }
}
