//! PKCS#11 failures as sealbox errors: the standard's function name and
//! return value, and "the module cannot do that" as `UnsupportedByHsm`.

use cryptoki::error::{Error as CkError, RvError};

use crate::error::Error;

/// A PKCS#11 failure of `function` (the module's own name for it wins).
pub(super) fn ck(function: &str, e: CkError) -> Error {
    match e {
        CkError::Pkcs11(rv, f) => Error::Pkcs11 {
            // The standard's name ("C_Login"), not cryptoki's ("Function::Login").
            function: format!("C_{f:?}"),
            rv: format!("{rv}"),
        },
        CkError::LibraryLoading(l) => Error::Pkcs11 {
            function: format!("loading the module ({function})"),
            rv: l.to_string(),
        },
        other => Error::Pkcs11 {
            function: function.to_owned(),
            rv: other.to_string(),
        },
    }
}

/// The return value of a failed call, if the module answered.
pub(super) fn rv_of(e: &CkError) -> Option<RvError> {
    match e {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

/// Is this failure the module saying "I cannot do that"?
pub(super) fn unsupported(e: &CkError) -> bool {
    matches!(
        rv_of(e),
        Some(
            RvError::MechanismInvalid
                | RvError::MechanismParamInvalid
                | RvError::FunctionNotSupported
        )
    )
}

pub(super) fn mech_err<'a>(
    mechanism: &'a str,
    function: &'a str,
) -> impl Fn(CkError) -> Error + 'a {
    move |e| {
        if unsupported(&e) {
            Error::UnsupportedByHsm {
                mechanism: mechanism.to_owned(),
            }
        } else {
            ck(function, e)
        }
    }
}

/// The error of a failed decryption with `mechanism`: the module's "cannot"
/// is `UnsupportedByHsm`, a return value in `failed` (a bad tag or padding,
/// however the module words it) is the opaque `DecryptionFailed`.
pub(super) fn decrypt_err(
    mechanism: String,
    failed: &'static [RvError],
) -> impl Fn(CkError) -> Error {
    move |e| match rv_of(&e) {
        Some(rv) if failed.contains(&rv) => Error::DecryptionFailed,
        _ if unsupported(&e) => Error::UnsupportedByHsm {
            mechanism: mechanism.clone(),
        },
        _ => ck("C_Decrypt", e),
    }
}

/// Did the object handle go stale (the object was recreated or the token
/// reloaded)? Then it is looked up again.
pub(super) fn stale_handle(e: &CkError) -> bool {
    matches!(
        rv_of(e),
        Some(RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid)
    )
}
