//! The `Debug` and `TypeName` impls that many of the binding's types share,
//! written once.

/// `Debug` that names the type and shows nothing of it (handles to key
/// material, stream state).
macro_rules! debug_opaque {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}(..)", stringify!($t))
            }
        }
    )*};
}
pub(crate) use debug_opaque;

/// `Debug` of a wrapper as its `inner` value's.
macro_rules! debug_inner {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.inner, f)
            }
        }
    )*};
}
pub(crate) use debug_inner;

/// `Debug` that shows only the named fields: the others hold secrets
/// (plaintext, key material, a PIN).
macro_rules! debug_fields {
    ($t:ident { $($field:ident),* $(,)? }) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use debug_fields;

/// The TypeScript name of a type that reaches JS as an object.
macro_rules! js_object_type {
    ($($t:ty => $name:literal),* $(,)?) => {$(
        impl napi::bindgen_prelude::TypeName for $t {
            fn type_name() -> &'static str {
                $name
            }
            fn value_type() -> napi::bindgen_prelude::ValueType {
                napi::bindgen_prelude::ValueType::Object
            }
        }
    )*};
}
pub(crate) use js_object_type;
