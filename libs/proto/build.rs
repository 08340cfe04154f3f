//! Compiles `proto/` with the pure-Rust `protox` (no system `protoc`) and
//! writes a descriptor set that the servers register for reflection.

use std::path::{Path, PathBuf};

fn proto_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            proto_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let mut files = Vec::new();
    proto_files(&root, &mut files)?;
    files.sort();
    // tonic-prost-build 0.14 no longer prints these itself.
    println!("cargo:rerun-if-changed={}", root.display());
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }

    // Vendored imports first, so their files get their canonical names.
    let fds = protox::compile(&files, [root.join("third_party"), root.clone()])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    // compile_fds does not write the set itself.
    std::fs::write(
        out.join("ce_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
