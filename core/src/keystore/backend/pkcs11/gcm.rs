//! AES-GCM through the module, and the IV it may write back.
//!
//! PKCS#11 lets a module ignore the caller's GCM IV and write the one it
//! used into `CK_GCM_PARAMS.pIv` (AWS CloudHSM does so). The key store lays
//! a blob's IV out before encrypting, so a module that changed it would
//! leave every blob recording an IV that was never used: such output is
//! refused here, and the store checks a round trip once at open.

use cryptoki::error::Error as CkError;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;

use crate::error::{Error, Result};

/// One AES-GCM encryption by `encrypt` under the caller's IV: returns the
/// ciphertext ‖ tag and the IV as the module left it in the parameters.
pub(super) fn gcm_encrypt(
    iv: &[u8; 12],
    aad: &[u8],
    encrypt: impl FnOnce(&mut Mechanism<'_>) -> std::result::Result<Vec<u8>, CkError>,
) -> std::result::Result<(Vec<u8>, [u8; 12]), CkError> {
    let mut buf = *iv;
    let out = {
        let mut m = Mechanism::AesGcm(GcmParams::new(&mut buf, aad, 128.into())?);
        encrypt(&mut m)?
    };
    // `buf` is what pIv pointed at: the IV the module used.
    Ok((out, buf))
}

/// The output of [`gcm_encrypt`] if the module kept the IV `sent`.
pub(super) fn iv_kept(sent: &[u8; 12], (out, used): (Vec<u8>, [u8; 12])) -> Result<Vec<u8>> {
    if used != *sent {
        return Err(Error::Pkcs11 {
            function: "C_Encrypt".into(),
            rv: "the module wrote its own CKM_AES_GCM IV instead of the one given; \
                 sealbox needs a module that uses the caller's IV"
                .into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module_writing(
        iv: Option<[u8; 12]>,
    ) -> impl FnOnce(&mut Mechanism<'_>) -> std::result::Result<Vec<u8>, CkError> {
        move |m| {
            if let (Some(iv), Mechanism::AesGcm(p)) = (iv, m) {
                p.iv().copy_from_slice(&iv);
            }
            Ok(vec![0xc7; 20])
        }
    }

    #[test]
    fn an_iv_written_back_by_the_module_is_read_and_refused() {
        let sent = [1u8; 12];
        let (out, used) = gcm_encrypt(&sent, b"aad", module_writing(Some([9; 12]))).unwrap();
        assert_eq!(used, [9; 12], "the IV the module wrote back was dropped");
        let err = iv_kept(&sent, (out, used)).unwrap_err();
        assert!(err.to_string().contains("IV"), "{err}");
    }

    #[test]
    fn a_module_that_keeps_the_iv_passes() {
        let sent = [1u8; 12];
        let r = gcm_encrypt(&sent, b"aad", module_writing(None)).unwrap();
        assert_eq!(r.1, sent);
        assert_eq!(iv_kept(&sent, r).unwrap(), vec![0xc7; 20]);
    }
}
