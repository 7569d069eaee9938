//! Fuzz target `decrypt_stream`: see `sealbox_fuzz::targets::decrypt_stream`.
fn main() {
    sealbox_fuzz::main(sealbox_fuzz::targets::decrypt_stream);
}
