//! Test-only: every Rust sample of the guide compiles, as a doctest of this crate
//! (`cargo test -p djust-doctests --doc`).
//!
//! Each module includes one document; samples that are fragments carry hidden glue lines
//! (`# ...`, not shown by rustdoc) and use the stand-ins of [`fixtures`] for the application's
//! own storage and auth. Samples that would need a server, Redis or template files to *run* are
//! `rust,no_run`: compiled, not executed.

/// `docs/runtime.md`.
#[doc = include_str!("../../../docs/runtime.md")]
pub mod runtime {}

/// `docs/presence.md`.
#[doc = include_str!("../../../docs/presence.md")]
pub mod presence {}

/// `docs/deployment.md`.
#[doc = include_str!("../../../docs/deployment.md")]
pub mod deployment {}

pub mod fixtures;
