//! The envelope layer: AWS Encryption SDK messages, one-shot (here) and
//! streaming ([`encryptor`], [`decryptor`]), with their builders in
//! [`options`].

/// The body of an update or finish call on the stream behind `$s`: checks
/// `$s`, then each `name = check` in order, then the output `$out`; runs
/// one `Stream::step` with room for `$room` bytes (an expression that may
/// use the names bound before it).
macro_rules! stream_step {
    ($s:ident, [$($name:ident = $check:expr),*] $out:ident, $room:expr, $f:expr) => {
        ffi_boundary! {
            let $s = try_mut!($s);
            $(let $name = $check;)*
            let $out = try_out!($out);
            let capacity = $room;
            $s.step(capacity, $out, $f)
        }
    };
}

mod decryptor;
mod encryptor;
mod options;

use sealbox_core::message::{
    decrypt_append, encrypt, rewrap, DecryptOptions, EncryptOptions, InputMemory,
    MaxEncryptedDataKeys, RewrapOptions,
};
use sealbox_core::EncryptionContext;

use crate::cmm::sealbox_cmm;
use crate::error::{sealbox_result, Failure};
use crate::handle::{box_handle, Out};
use crate::keyring::sealbox_keyring;
use crate::string_map::{sealbox_string_map, StringMap};
use crate::values::{buffer, sealbox_buffer};

pub use decryptor::sealbox_decryptor;
pub use encryptor::sealbox_encryptor;
pub use options::{sealbox_decrypt_options, sealbox_encrypt_options};

/// A streaming context plus a mark that stays set if a call panicked
/// midway, so that the half-updated state is never used again.
#[derive(Debug)]
pub(crate) struct Stream<T> {
    inner: T,
    poisoned: bool,
}

impl<T> Stream<T> {
    fn new(inner: T) -> Self {
        Stream {
            inner,
            poisoned: false,
        }
    }

    fn run<R>(&mut self, f: impl FnOnce(&mut T) -> sealbox_core::Result<R>) -> Result<R, Failure> {
        if self.poisoned {
            return Err(Failure::state(
                "an earlier call on this context panicked; free it",
            ));
        }
        self.poisoned = true;
        let r = f(&mut self.inner);
        self.poisoned = false;
        Ok(r?)
    }

    /// One step that writes into a new buffer with room for `capacity`
    /// bytes (so that it is not reallocated, which would leave a copy of
    /// plaintext behind unwiped), handed to `out` on success.
    fn step<R>(
        &mut self,
        capacity: usize,
        out: Out<'_, *mut sealbox_buffer>,
        f: impl FnOnce(&mut T, &mut Vec<u8>) -> sealbox_core::Result<R>,
    ) -> Result<(), Failure> {
        let mut bytes = Vec::with_capacity(capacity);
        self.run(|inner| f(inner, &mut bytes))?;
        out.write(buffer(bytes));
        Ok(())
    }
}

/// Room for the ciphertext of `n` bytes of plaintext (plus the header or
/// footer that a call may also write), so that a call allocates once.
fn room(n: usize) -> usize {
    n.saturating_add(n / 64).saturating_add(8192)
}

/// The options of an encrypting call: a copy of the caller's (`None`: the
/// defaults) bound to its encryption context.
fn encrypt_options(options: Option<&EncryptOptions>, context: EncryptionContext) -> EncryptOptions {
    EncryptOptions {
        encryption_context: context,
        ..options.cloned().unwrap_or_default()
    }
}

/// As `encrypt_options`, with the pairs a decrypting caller expects.
fn decrypt_options(
    options: Option<&DecryptOptions>,
    context: Option<EncryptionContext>,
) -> DecryptOptions {
    DecryptOptions {
        encryption_context: context,
        ..options.cloned().unwrap_or_default()
    }
}

/// The C form of a data-key limit: at least 1, `SIZE_MAX` meaning none.
fn max_encrypted_data_keys(max: usize) -> Result<MaxEncryptedDataKeys, Failure> {
    Ok(MaxEncryptedDataKeys::from_option(
        (max != usize::MAX).then_some(max),
    )?)
}

/// Encrypts `plaintext` into one AWS Encryption SDK message, with data keys
/// from `cmm`, bound to the encryption context `context` (stored in the
/// message and authenticated; NULL: the empty context). `options` may be
/// NULL.
///
/// Ownership: the caller frees `*out` (the message) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently, also with the same `cmm`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_encrypt(
    cmm: *const sealbox_cmm,
    plaintext: *const u8,
    plaintext_len: usize,
    context: *const sealbox_string_map,
    options: *const sealbox_encrypt_options,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    with_out!([cmm = try_ref!(cmm), plaintext = try_slice!(plaintext, plaintext_len), options = encrypt_options(try_opt_ref!(options), try_context!(context))]
        out => buffer(encrypt(plaintext, cmm.inner.as_ref(), &options)?))
}

/// Decrypts one complete message. `context` gives the pairs the caller
/// expects (NULL or an empty map: accept whatever context the message
/// carries, and check `*out_context`): each must be in the message with
/// the same value, and pairs authenticated but not stored are supplied from
/// here. Any mismatch, tampering or wrong key is
/// `SEALBOX_RESULT_DECRYPTION_FAILED`. `options` may be NULL.
///
/// Ownership: the caller frees `*out_plaintext` with `sealbox_buffer_free`
/// (wiped on free) and, unless `out_context` is NULL, `*out_context` (the
/// message's full encryption context) with `sealbox_string_map_free`.
///
/// Thread safety: safe to call concurrently, also with the same `cmm`.
#[no_mangle]
pub unsafe extern "C" fn sealbox_decrypt(
    cmm: *const sealbox_cmm,
    message: *const u8,
    message_len: usize,
    context: *const sealbox_string_map,
    options: *const sealbox_decrypt_options,
    out_plaintext: *mut *mut sealbox_buffer,
    out_context: *mut *mut sealbox_string_map,
) -> sealbox_result {
    ffi_boundary! {
        let cmm = try_ref!(cmm);
        let message = try_slice!(message, message_len);
        let options = decrypt_options(try_opt_ref!(options), try_expected_context!(context));
        let out_plaintext = try_out!(out_plaintext);
        let out_context = opt_out!(out_context);
        // The caller's buffer: another of its threads may write it meanwhile.
        let mut plaintext = Vec::with_capacity(message.len());
        let (_, context) = decrypt_append(
            message,
            InputMemory::MayChange,
            cmm.inner.as_ref(),
            &options,
            &mut plaintext,
        )?;
        if out_context.wanted() {
            out_context.write(box_handle(StringMap::from_map(&context)));
        }
        out_plaintext.write(buffer(plaintext));
        Ok(())
    }
}

/// Gives a message new encrypted data keys without re-encrypting its body:
/// the data key is unwrapped with `decrypt_with` (as `sealbox_decrypt`
/// does, with `context` and `options`) and wrapped again by `encrypt_with`,
/// whose keys alone open the result. The header is rewritten and
/// authenticated again; the body is copied unchanged. Signed suites are
/// signed again after the old signature verified. `options` may be NULL;
/// its encrypted-data-key limit applies to the message read and to the one
/// written.
///
/// Ownership: the caller frees `*out` (the new message) with
/// `sealbox_buffer_free`.
///
/// Thread safety: safe to call concurrently, also with the same handles.
#[no_mangle]
pub unsafe extern "C" fn sealbox_rewrap(
    decrypt_with: *const sealbox_cmm,
    encrypt_with: *const sealbox_keyring,
    message: *const u8,
    message_len: usize,
    context: *const sealbox_string_map,
    options: *const sealbox_decrypt_options,
    out: *mut *mut sealbox_buffer,
) -> sealbox_result {
    ffi_boundary! {
        let cmm = try_ref!(decrypt_with);
        let keyring = try_ref!(encrypt_with);
        let message = try_slice!(message, message_len);
        let decrypt = decrypt_options(try_opt_ref!(options), try_expected_context!(context));
        let out = try_out!(out);
        let options = RewrapOptions {
            max_encrypted_data_keys: decrypt.max_encrypted_data_keys,
            decrypt,
        };
        let (bytes, _) = rewrap(message, cmm.inner.as_ref(), keyring.inner.as_ref(), &options)?;
        out.write(buffer(bytes));
        Ok(())
    }
}
