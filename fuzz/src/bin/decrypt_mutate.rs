//! Fuzz target `decrypt_mutate`: see `sealbox_fuzz::targets::decrypt_mutate`.
fn main() {
    sealbox_fuzz::main(sealbox_fuzz::targets::decrypt_mutate);
}
