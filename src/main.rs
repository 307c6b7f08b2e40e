//! The `exporter_exporter` binary.

fn main() {}
