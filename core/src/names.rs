//! The name tables of every string enum of sealbox's API.
//!
//! Each surface spells these names (Python enums in `_enums.py` and the
//! `.pyi` stubs, TypeScript unions, C header comments, the command line):
//! [`tables`] lists them once, and the contract test (tests/contract)
//! fails when a surface disagrees.

use crate::audit::Outcome;
use crate::error::ErrorKind;
use crate::keyring::{EcdhCurveSpec, EcdhKeyAgreementScheme, RsaWrappingPadding};
use crate::keystore::{
    EncryptionAlgorithm, KeyAgreementAlgorithm, KeySpec, KeyStateName, KeyUsage, MacAlgorithm,
    MessageType, Operation, Origin, SigningAlgorithm,
};
use crate::message::{CommitmentPolicy, ALL_SUITES};

/// An enum of fixed names with `ALL`, `as_str`, `FromStr` and `Display`
/// (the names are the AWS ones where AWS has them).
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),+ }
        impl $name {
            /// The stable name.
            pub const fn as_str(self) -> &'static str { match self { $(Self::$v => $s),+ } }
            /// All values.
            pub const ALL: &'static [$name] = &[$(Self::$v),+];
            /// Every name, in declaration order.
            pub fn names() -> Vec<&'static str> { Self::ALL.iter().map(|v| v.as_str()).collect() }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                match s {
                    $($s => Ok(Self::$v),)+
                    _ => Err($crate::error::Error::InvalidArgument(format!(
                        concat!("unknown ", stringify!($name), " {:?} (expected one of: {})"),
                        s,
                        Self::names().join(", ")
                    ))),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use named_enum;

/// One table: the enum's name and its values' names, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTable {
    /// The enum, as each surface calls it (`KeySpec`, `AlgorithmSuite`, ...).
    pub name: &'static str,
    /// Its names (for `AlgorithmSuite`, the two-byte IDs as `0x0478`).
    pub values: Vec<String>,
}

fn table(name: &'static str, values: Vec<&'static str>) -> NameTable {
    NameTable {
        name,
        values: values.into_iter().map(str::to_owned).collect(),
    }
}

/// Every name table of the API.
pub fn tables() -> Vec<NameTable> {
    // Each enum under the name every surface gives it.
    macro_rules! named {
        ($($name:literal => $values:expr),+ $(,)?) => { vec![$(table($name, $values)),+] };
    }
    let mut all = named![
        "KeySpec" => KeySpec::names(),
        "KeyUsage" => KeyUsage::names(),
        "KeyState" => KeyStateName::names(),
        "Origin" => Origin::names(),
        "SigningAlgorithm" => SigningAlgorithm::names(),
        "EncryptionAlgorithm" => EncryptionAlgorithm::names(),
        "MacAlgorithm" => MacAlgorithm::names(),
        "KeyAgreementAlgorithm" => KeyAgreementAlgorithm::names(),
        "MessageType" => MessageType::names(),
        "CommitmentPolicy" => CommitmentPolicy::names(),
        "RsaPadding" => RsaWrappingPadding::names(),
        "EcdhKeyAgreementScheme" => EcdhKeyAgreementScheme::names(),
        "EcdhCurveSpec" => EcdhCurveSpec::names(),
        "Operation" => Operation::names(),
        "Outcome" => Outcome::names(),
        "ErrorKind" => ErrorKind::ALL.iter().map(|k| k.name()).collect(),
    ];
    all.push(NameTable {
        name: "AlgorithmSuite",
        values: ALL_SUITES
            .iter()
            .map(|s| format!("0x{:04X}", s.id()))
            .collect(),
    });
    all
}

/// The tables and the error kinds as JSON, for the contract test and for
/// tools: `{"tables": {name: [values]}, "error_kinds": [{code, name,
/// constant, node_code}]}`.
pub fn contract_json() -> String {
    let tables: serde_json::Map<String, serde_json::Value> = tables()
        .into_iter()
        .map(|t| (t.name.to_owned(), serde_json::json!(t.values)))
        .collect();
    let kinds: Vec<serde_json::Value> = ErrorKind::ALL
        .iter()
        .map(|k| {
            serde_json::json!({
                "code": k.code(),
                "name": k.name(),
                "constant": k.constant(),
                "node_code": k.node_code(),
            })
        })
        .collect();
    serde_json::json!({
        "tables": tables,
        "error_kinds": kinds,
        "retired_error_codes": ErrorKind::RETIRED,
    })
    .to_string()
}
