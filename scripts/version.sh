#!/bin/sh
# Prints the one version of every sealbox package: the workspace version in
# Cargo.toml (no cargo needed).
sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$(dirname "$0")/../Cargo.toml"
