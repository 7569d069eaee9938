//! Fuzz target `audit`: see `sealbox_fuzz::targets::audit`.
fn main() {
    sealbox_fuzz::main(sealbox_fuzz::targets::audit);
}
