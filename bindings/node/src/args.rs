//! Checking what JS hands in, before any work is done.

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::impls::js_object_type;
use crate::invalid;

/// A whole number in `min..=max` from a JS number. napi's own integer
/// conversions wrap and truncate (`-1` becomes 4294967295, `1.5` becomes
/// 1); a wrong count or size must be an error instead.
pub(crate) fn whole(name: &str, value: f64, min: u64, max: u64) -> Result<u64> {
    if !value.is_finite() || value.fract() != 0.0 || value < min as f64 || value > max as f64 {
        return Err(invalid(format!(
            "{name} must be a whole number from {min} to {max}, not {value}"
        )));
    }
    Ok(value as u64)
}

/// JS numbers are exact up to 2^53; larger limits are refused rather than
/// rounded.
pub(crate) const MAX_SAFE: u64 = (1 << 53) - 1;

/// Like [`whole`], for values that fit `u32`.
pub(crate) fn whole_u32(name: &str, value: f64, min: u32, max: u32) -> Result<u32> {
    whole(name, value, u64::from(min), u64::from(max)).map(|v| v as u32)
}

/// An encryption context from a JS object of strings.
pub(crate) fn context(ec: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    ec.map(|m| m.into_iter().collect()).unwrap_or_default()
}

/// A `KeySpec`, `SigningAlgorithm` ... from its AWS KMS style name.
pub(crate) fn named<T: std::str::FromStr<Err = sealbox::Error>>(value: &str) -> Result<T> {
    value.parse::<T>().map_err(crate::js_error)
}

/// An instance of the napi class `T`, checked with `instanceof` before it
/// is unwrapped: napi-rs unwraps any wrapped object as whatever class the
/// signature names, so an object of another class must be refused first.
pub struct Instance<T: 'static>(ClassInstance<T>);

impl<T: 'static> std::fmt::Debug for Instance<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::any::type_name::<T>())
    }
}

impl<T: 'static> Deref for Instance<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Whether `value` is an instance of the napi class `T`.
pub(crate) fn is_instance<T: 'static>(env: sys::napi_env, value: sys::napi_value) -> bool
where
    &'static T: ValidateNapiValue,
{
    // SAFETY: `env` and `value` come from napi for the current call.
    unsafe { <&'static T as ValidateNapiValue>::validate(env, value).is_ok() }
}

impl<T: 'static> FromNapiValue for Instance<T>
where
    &'static T: ValidateNapiValue + TypeName,
{
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        if !is_instance::<T>(env, value) {
            return Err(invalid(format!(
                "expected an instance of {}",
                <&'static T as TypeName>::type_name()
                    .rsplit("::")
                    .next()
                    .unwrap_or("the class")
            )));
        }
        // SAFETY: the value was just checked to be an instance of `T`.
        Ok(Instance(unsafe {
            ClassInstance::from_napi_value(env, value)?
        }))
    }
}

impl<T: 'static> TypeName for Instance<T>
where
    &'static T: TypeName,
{
    fn type_name() -> &'static str {
        <&'static T as TypeName>::type_name()
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl<T: 'static> ValidateNapiValue for Instance<T>
where
    &'static T: ValidateNapiValue,
{
    unsafe fn validate(env: sys::napi_env, value: sys::napi_value) -> Result<sys::napi_value> {
        // SAFETY: forwarded from napi.
        unsafe { <&'static T as ValidateNapiValue>::validate(env, value) }
    }
}

/// A JS object of string values (an encryption context, tags). napi-rs
/// reads any value as a map, and a string or a number would silently be
/// an empty one: an encryption context that checks nothing. Only plain
/// objects are accepted.
#[derive(Debug, Default)]
pub struct StringMap(pub HashMap<String, String>);

impl FromNapiValue for StringMap {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut t = 0;
        // SAFETY: `env` and `value` come from napi for the current call.
        check_status!(unsafe { sys::napi_typeof(env, value, &mut t) })?;
        let mut is_array = false;
        // SAFETY: as above.
        check_status!(unsafe { sys::napi_is_array(env, value, &mut is_array) })?;
        if t != sys::ValueType::napi_object || is_array {
            return Err(invalid(
                "expected an object of string values, such as { tenant: 'acme' }",
            ));
        }
        // SAFETY: as above.
        Ok(StringMap(unsafe {
            HashMap::<String, String>::from_napi_value(env, value)?
        }))
    }
}

js_object_type!(StringMap => "Record<string, string>");

impl ValidateNapiValue for StringMap {}

/// A JS `Date` given to the core: Unix seconds (rounded down). Anything
/// but a valid `Date` is refused (a number would be ambiguous: seconds or
/// milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct DateArg(pub i64);

impl FromNapiValue for DateArg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut is_date = false;
        // SAFETY: `env` and `value` come from napi for the current call.
        check_status!(unsafe { sys::napi_is_date(env, value, &mut is_date) })?;
        if !is_date {
            return Err(invalid("expected a Date"));
        }
        let mut ms = 0f64;
        // SAFETY: as above; `value` is a Date.
        check_status!(unsafe { sys::napi_get_date_value(env, value, &mut ms) })?;
        if !ms.is_finite() {
            return Err(invalid("expected a valid Date, not Invalid Date"));
        }
        Ok(DateArg((ms / 1000.0).floor() as i64))
    }
}

js_object_type!(DateArg => "Date");

impl ValidateNapiValue for DateArg {}

/// An optional map as a sorted map (empty when absent).
pub(crate) fn map(m: Option<StringMap>) -> BTreeMap<String, String> {
    context(m.map(|m| m.0))
}
