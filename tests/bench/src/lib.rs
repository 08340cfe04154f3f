//! What the bench binary (`ce-bench`) and its examples share.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod close;
