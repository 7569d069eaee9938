//! Fuzz target `header`: see `sealbox_fuzz::targets::header`.
fn main() {
    sealbox_fuzz::main(sealbox_fuzz::targets::header);
}
