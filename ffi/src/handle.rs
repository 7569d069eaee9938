//! Opaque handles: how a Rust value becomes a pointer that C holds, and
//! back. The table at the end of this file is the one place that decides
//! whether a handle is shared (`Arc`: thread-safe, `const T *` in C, freed
//! when the last holder lets go) or owned by one caller (`Box`: `T *` in C).
//!
//! After rustls-ffi's `Castable`: the C type is a zero-sized opaque struct
//! that is never instantiated; the pointer C holds really points at the
//! `RustType`.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::error::Failure;

/// Marks a handle owned by one caller: `Box<RustType>`.
pub(crate) enum OwnershipBox {}
/// Marks a shared, thread-safe handle: `Arc<RustType>`.
pub(crate) enum OwnershipArc {}

/// Ties a C handle type to the Rust value behind it and its ownership.
pub(crate) trait Castable {
    /// `OwnershipBox` or `OwnershipArc`.
    type Ownership;
    /// The value the handle points at.
    type RustType;
}

/// A new Box handle.
pub(crate) fn box_handle<C: Castable<Ownership = OwnershipBox>>(value: C::RustType) -> *mut C {
    Box::into_raw(Box::new(value)).cast()
}

/// A new Arc handle.
pub(crate) fn arc_handle<C: Castable<Ownership = OwnershipArc>>(value: C::RustType) -> *const C {
    Arc::into_raw(Arc::new(value)).cast()
}

/// Borrows the value behind a handle of either ownership.
///
/// # Safety
/// `p` is NULL or a live handle of type `C` made by this module.
pub(crate) unsafe fn try_ref<'a, C: Castable>(p: *const C) -> Option<&'a C::RustType> {
    // SAFETY: the caller guarantees a live handle, which points at a valid
    // `RustType` (see `box_handle` / `arc_handle`).
    unsafe { p.cast::<C::RustType>().as_ref() }
}

/// Borrows the value behind a Box handle mutably.
///
/// # Safety
/// `p` is NULL or a live Box handle of type `C` that no other thread is
/// using.
pub(crate) unsafe fn try_mut<'a, C: Castable<Ownership = OwnershipBox>>(
    p: *mut C,
) -> Option<&'a mut C::RustType> {
    // SAFETY: as `try_ref`, and the caller guarantees exclusive use.
    unsafe { p.cast::<C::RustType>().as_mut() }
}

/// A new strong reference to the value behind an Arc handle.
///
/// # Safety
/// `p` is NULL or a live Arc handle of type `C`.
pub(crate) unsafe fn try_clone_arc<C: Castable<Ownership = OwnershipArc>>(
    p: *const C,
) -> Option<Arc<C::RustType>> {
    if p.is_null() {
        return None;
    }
    let p = p.cast::<C::RustType>();
    // SAFETY: `p` came from `Arc::into_raw` and its reference is still
    // held by the caller, so the count is at least one.
    unsafe {
        Arc::increment_strong_count(p);
        Some(Arc::from_raw(p))
    }
}

/// Frees a Box handle (NULL: nothing).
///
/// # Safety
/// `p` is NULL or a live Box handle of type `C`, not used afterwards.
pub(crate) unsafe fn free_box<C: Castable<Ownership = OwnershipBox>>(p: *mut C) {
    if !p.is_null() {
        // SAFETY: `p` came from `Box::into_raw` in `box_handle`.
        drop(unsafe { Box::from_raw(p.cast::<C::RustType>()) });
    }
}

/// Releases the caller's reference to an Arc handle (NULL: nothing).
///
/// # Safety
/// `p` is NULL or a live Arc handle of type `C`, not used afterwards by
/// this holder.
pub(crate) unsafe fn free_arc<C: Castable<Ownership = OwnershipArc>>(p: *const C) {
    if !p.is_null() {
        // SAFETY: `p` came from `Arc::into_raw` in `arc_handle`; this gives
        // back the one reference the caller held.
        drop(unsafe { Arc::from_raw(p.cast::<C::RustType>()) });
    }
}

/// An output argument (`T *out`) checked to be non-NULL; written once, at
/// the end of a successful call.
pub(crate) struct Out<'a, T> {
    ptr: *mut T,
    _life: PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// # Safety
    /// `ptr` is NULL or valid for one write of `T`.
    pub(crate) unsafe fn new(ptr: *mut T, name: &str) -> Result<Self, Failure> {
        if ptr.is_null() {
            return Err(Failure::null(name));
        }
        Ok(Out {
            ptr,
            _life: PhantomData,
        })
    }

    /// Writes the result. Consumes the slot: an output is written once.
    pub(crate) fn write(self, value: T) {
        // SAFETY: `new` checked non-NULL and its caller guaranteed the
        // pointer is valid for a write. `write` does not read (or drop)
        // the old, possibly uninitialised, contents.
        unsafe { self.ptr.write(value) }
    }
}

/// An optional output argument: NULL means the caller does not want it.
pub(crate) struct OptOut<'a, T>(Option<Out<'a, T>>);

impl<T> OptOut<'_, T> {
    /// # Safety
    /// `ptr` is NULL or valid for one write of `T`.
    pub(crate) unsafe fn new(ptr: *mut T) -> Self {
        // SAFETY: forwarded from the caller.
        OptOut(unsafe { Out::new(ptr, "") }.ok())
    }

    pub(crate) fn write(self, value: T) {
        if let Some(o) = self.0 {
            o.write(value)
        }
    }

    pub(crate) fn wanted(&self) -> bool {
        self.0.is_some()
    }
}

/// Declares the ownership of each handle type. This table is the only
/// place that decides it.
macro_rules! handles {
    ($($own:ident $c:ty => $rust:ty,)+) => {
        $(impl Castable for $c {
            type Ownership = handles!(@own $own);
            type RustType = $rust;
        })+
    };
    (@own arc) => { OwnershipArc };
    (@own boxed) => { OwnershipBox };
}

use crate::{cmm, keyring, keystore, message, string_map};

handles! {
    // Shared and thread-safe: one key store, keyring or materials manager
    // serves every thread of the application.
    arc keystore::sealbox_keystore => sealbox_core::keystore::KeyStore,
    arc keyring::sealbox_keyring => keyring::Keyring,
    arc cmm::sealbox_cmm => cmm::Cmm,
    // Owned by one caller. Streaming contexts hold per-message state and
    // are not thread-safe; the rest are builders or immutable results.
    boxed message::sealbox_encryptor => message::Stream<sealbox_core::message::Encryptor>,
    boxed message::sealbox_decryptor => message::Stream<sealbox_core::message::Decryptor>,
    boxed message::sealbox_encrypt_options => sealbox_core::message::EncryptOptions,
    boxed message::sealbox_decrypt_options => sealbox_core::message::DecryptOptions,
    boxed keystore::sealbox_root_key => sealbox_core::keystore::RootKey,
    boxed keystore::sealbox_pkcs11_config => keystore::Pkcs11Settings,
    boxed keystore::sealbox_keystore_options => keystore::OpenOptions,
    boxed keystore::sealbox_create_key_request => sealbox_core::keystore::CreateKeyRequest,
    boxed keystore::sealbox_key_metadata => keystore::Metadata,
    boxed keystore::sealbox_key_list => keystore::KeyList,
    boxed string_map::sealbox_string_map => string_map::StringMap,
}
