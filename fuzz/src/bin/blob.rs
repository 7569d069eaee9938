//! Fuzz target `blob`: see `sealbox_fuzz::targets::blob`.
fn main() {
    sealbox_fuzz::main(sealbox_fuzz::targets::blob);
}
