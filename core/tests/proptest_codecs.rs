//! Property tests of the encryption-context codec and the key-store blob
//! codec (issue 17).

use proptest::prelude::*;
use sealbox::keystore::{blob, KeyId};
use sealbox::message::context;
use sealbox::EncryptionContext;

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn context_round_trip(ec in prop::collection::btree_map(text(12), text(24), 0..8)) {
        let bytes = context::serialize(&ec).unwrap();
        prop_assert_eq!(bytes.is_empty(), ec.is_empty());
        if !ec.is_empty() {
            let size = 2 + ec.iter().map(|(k, v)| 4 + k.len() + v.len()).sum::<usize>();
            prop_assert_eq!(bytes.len(), size);
            prop_assert_eq!(usize::from(u16::from_be_bytes([bytes[0], bytes[1]])), ec.len());
        }
        prop_assert_eq!(context::deserialize(&bytes).unwrap(), ec);
    }

    #[test]
    fn context_parse_is_total_and_reserializes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(ec) = context::deserialize(&bytes) {
            let again = context::serialize(&ec).unwrap();
            prop_assert_eq!(again.len(), bytes.len());
            prop_assert_eq!(context::deserialize(&again).unwrap(), ec);
        }
    }

    #[test]
    fn context_with_trailing_bytes_is_refused(
        ec in prop::collection::btree_map(text(8), text(8), 1..4),
        extra in prop::collection::vec(any::<u8>(), 1..4),
    ) {
        let mut bytes = context::serialize(&ec).unwrap();
        bytes.extend_from_slice(&extra);
        prop_assert!(context::deserialize(&bytes).is_err());
    }

    #[test]
    fn blob_prefix_then_parse(
        id in any::<[u8; 16]>(),
        version in any::<u32>(),
        nonce in any::<[u8; blob::NONCE_LEN]>(),
        iv in any::<[u8; 12]>(),
        sealed in prop::collection::vec(any::<u8>(), 16..80),
    ) {
        let key_id = KeyId::from_bytes(&id);
        let mut bytes = blob::prefix(key_id.as_str(), version, &nonce).unwrap();
        let prefix_len = bytes.len();
        bytes.extend_from_slice(&iv);
        bytes.extend_from_slice(&sealed);
        let b = blob::parse(&bytes).unwrap();
        prop_assert_eq!(b.format, blob::BLOB_VERSION);
        prop_assert_eq!(&b.key_id, &key_id);
        prop_assert_eq!(b.version, version);
        prop_assert_eq!(b.nonce, Some(nonce));
        prop_assert_eq!(b.iv, iv);
        prop_assert_eq!(b.sealed, &sealed[..]);
        prop_assert_eq!(b.prefix, &bytes[..prefix_len]);
        // One byte short of the tag: refused.
        prop_assert!(blob::parse(&bytes[..bytes.len() - sealed.len() + 15]).is_err());
        let ec: EncryptionContext = [("a".to_string(), "b".to_string())].into();
        prop_assert!(blob::aad(b.prefix, &ec).unwrap().starts_with(b.prefix));
    }
}
