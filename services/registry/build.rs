//! The migrations are embedded at compile time (`embed_migrations!`), and
//! a new migration folder changes no source file: rebuild when one appears.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
