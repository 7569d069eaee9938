//! Fuzz target `der`: see `sealbox_fuzz::targets::der`.
fn main() {
    sealbox_fuzz::main(sealbox_fuzz::targets::der);
}
