//! Fuzz target `context`: see `sealbox_fuzz::targets::context`.
fn main() {
    sealbox_fuzz::main(sealbox_fuzz::targets::context);
}
