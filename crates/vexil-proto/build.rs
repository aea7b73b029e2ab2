//! Compiles `proto/` with protox (a protobuf compiler in Rust), so building needs no
//! `protoc` on the machine.

use std::path::PathBuf;

const PROTO_FILES: &[&str] = &[
    "vexil/config/v1/config.proto",
    "vexil/events/v1/events.proto",
    "vexil/analytics/v1/analytics.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    for file in PROTO_FILES {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }
    let descriptors = protox::compile(PROTO_FILES, [&root])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
