//! The migrations are embedded at compile time (`embed_migrations!`), and
//! a new migration folder changes no source file: rebuild when one appears.
//! The services use this script too (`build` in their Cargo.toml); the path
//! is relative to the package being built, so each watches its own folder.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
