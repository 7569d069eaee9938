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

/// `Option<&RustType>` from a handle where NULL means "the defaults".
macro_rules! try_opt_ref {
    ($p:ident) => {
        // SAFETY: every function taking a handle requires it to be NULL
        // or a live handle of its type.
        unsafe { $crate::handle::try_ref($p) }
    };
}

/// A value parsed from a NUL-terminated name (`"AES_256"`, ...).
macro_rules! try_parse {
    ($p:ident) => {
        $crate::values::parse(try_str!($p))?
    };
}

/// An encryption context from a `const sealbox_string_map *`; NULL is the
/// empty context. (The map checked its text when it was filled.)
macro_rules! try_context {
    ($p:ident) => {
        try_opt_ref!($p).map_or_else(
            ::sealbox_core::EncryptionContext::new,
            $crate::string_map::StringMap::to_context,
        )
    };
}

/// The pairs a decrypting caller expects: `None` (accept the message's
/// context) for a NULL or empty map.
macro_rules! try_expected_context {
    ($p:ident) => {
        Some(try_context!($p)).filter(|ec| !ec.is_empty())
    };
}

/// The body of an accessor that cannot fail: `f` applied to the value
/// behind the handle `p`, or `default` when `p` is NULL (or on a panic).
macro_rules! read_or {
    ($p:ident, $default:expr, $f:expr) => {
        ffi_boundary! { or $default =>
            try_opt_ref!($p).map_or($default, $f)
        }
    };
}

/// The body of a call with no output on the value behind a handle:
/// `ffi_boundary!` around `let v = try_mut!(p)` (a Box handle being
/// changed) or `try_ref!(p)` (a shared one, such as key store calls);
/// `body; Ok(())`.
macro_rules! with_mut {
    ($p:ident, |$v:ident| $body:expr) => {
        with_handle!(try_mut, $p, |$v| $body)
    };
}

/// The body of a call with one required output: binds each `name = check`
/// in order (the checking macros above), checks the output `out` (before
/// any work is done), then writes `value` to it.
macro_rules! with_out {
    ([$($name:ident = $check:expr),* $(,)?] $out:ident => $value:expr) => {
        ffi_boundary! {
            $(let $name = $check;)*
            let $out = try_out!($out);
            $out.write($value);
            Ok(())
        }
    };
}

/// As `with_mut!`, for a shared reference.
macro_rules! with_ref {
    ($p:ident, |$v:ident| $body:expr) => {
        with_handle!(try_ref, $p, |$v| $body)
    };
}

/// What `with_mut!` and `with_ref!` expand to, `$take` being the checking
/// macro that borrows the handle.
macro_rules! with_handle {
    ($take:ident, $p:ident, |$v:ident| $body:expr) => {
        ffi_boundary! {
            let $v = $take!($p);
            $body;
            Ok(())
        }
    };
}

/// The body of a `_free` function: releases a Box or an Arc handle (NULL:
/// nothing), inside the boundary.
macro_rules! free_handle {
    (box $p:ident) => {
        ffi_boundary! { or () =>
            // SAFETY: NULL or a live Box handle that the caller owns and
            // gives back.
            unsafe { $crate::handle::free_box($p) }
        }
    };
    (arc $p:ident) => {
        ffi_boundary! { or () =>
            // SAFETY: NULL or a live Arc handle; this releases the
            // caller's reference.
            unsafe { $crate::handle::free_arc($p) }
        }
    };
}

/// The body of a constructor that cannot fail: `*out` = a new Box handle
/// of `value`.
macro_rules! new_handle {
    ($out:ident, $value:expr) => {
        ffi_boundary! {
            try_out!($out).write($crate::handle::box_handle($value));
            Ok(())
        }
    };
}
