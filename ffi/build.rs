//! Gives the shared library its soname, `libsealbox.so.<major>`, so that
//! programs linked against one major version refuse to load another.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsealbox.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
