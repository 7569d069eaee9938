//! The panic boundary and the argument-checking macros every exported
//! function is written with. Each checking macro turns a NULL, a bad length
//! or bad text into an early `Err(Failure)` of the enclosing boundary.

/// The one panic boundary. `ffi_boundary! { ...; Ok(()) }` for functions
/// returning `sealbox_result`; `ffi_boundary! { or DEFAULT => ... }` for
/// those returning a value (a panic gives DEFAULT).
macro_rules! ffi_boundary {
    (or $default:expr => $($body:tt)*) => {
        $crate::error::boundary_or($default, move || { $($body)* })
    };
    ($($body:tt)*) => {
        $crate::error::boundary(
            move || -> ::core::result::Result<(), $crate::error::Failure> { $($body)* },
        )
    };
}

/// `&RustType` from a handle of either ownership.
macro_rules! try_ref {
    ($p:ident) => {
        // SAFETY: every function taking a handle requires it to be NULL
        // (checked here) or a live handle of its type.
        match unsafe { $crate::handle::try_ref($p) } {
            Some(r) => r,
            None => return Err($crate::error::Failure::null(stringify!($p))),
        }
    };
}

/// `&mut RustType` from a Box handle.
macro_rules! try_mut {
    ($p:ident) => {
        // SAFETY: as `try_ref`; Box handles are documented as not to be
        // used by two threads at once, so the borrow is exclusive.
        match unsafe { $crate::handle::try_mut($p) } {
            Some(r) => r,
            None => return Err($crate::error::Failure::null(stringify!($p))),
        }
    };
}

/// `&[u8]` from a pointer and a length; NULL is allowed only with length 0.
macro_rules! try_slice {
    ($p:ident, $len:ident) => {
        // SAFETY: the caller guarantees `$p` is readable for `$len` bytes
        // when `$len > 0`, and unchanged during the call.
        unsafe { $crate::values::slice($p, $len, stringify!($p)) }?
    };
}

/// `Option<&[u8]>`: NULL with length 0 means absent.
macro_rules! try_opt_slice {
    ($p:ident, $len:ident) => {
        if $p.is_null() && $len == 0 {
            None
        } else {
            Some(try_slice!($p, $len))
        }
    };
}

/// `&str` from a NUL-terminated UTF-8 string.
macro_rules! try_str {
    ($p:ident) => {
        // SAFETY: the caller guarantees a NUL-terminated string or NULL.
        unsafe { $crate::values::text($p, stringify!($p)) }?
    };
}

/// `Option<&str>`: NULL means absent.
macro_rules! try_opt_str {
    ($p:ident) => {
        if $p.is_null() {
            None
        } else {
            Some(try_str!($p))
        }
    };
}

/// A required output argument, checked non-NULL before any work is done.
macro_rules! try_out {
    ($p:ident) => {
        // SAFETY: the caller guarantees `$p` is NULL (checked) or writable.
        unsafe { $crate::handle::Out::new($p, stringify!($p)) }?
    };
}

/// An optional output argument: NULL means "not wanted".
macro_rules! opt_out {
    ($p:ident) => {
        // SAFETY: the caller guarantees `$p` is NULL or writable.
        unsafe { $crate::handle::OptOut::new($p) }
    };
}

/// An encryption context from the five-argument array form.
macro_rules! try_context {
    ($keys:ident, $key_lens:ident, $values:ident, $value_lens:ident, $count:ident) => {
        // SAFETY: the caller guarantees each array holds `$count` entries
        // and each entry is readable for its length.
        unsafe { $crate::values::context($keys, $key_lens, $values, $value_lens, $count) }?
    };
}
