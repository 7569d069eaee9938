//! Prints sealbox's contract as JSON: every error kind (number, name, C
//! and Node spellings) and every name table. tests/contract compares each
//! surface (C header, Python package, Node package, command line) with it.

fn main() {
    println!("{}", sealbox::names::contract_json());
}
