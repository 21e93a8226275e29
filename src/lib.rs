//! pgssl: turn SSL on or off on TencentDB for PostgreSQL instances, safely.
//!
//! One core, two faces: the TUI and the CLI (`cli`) both call `ops`, which plans,
//! confirms, sends, journals and follows changes through `api`. The emulator (a local
//! stand-in for the API, used by `--demo` and by every test) is the `pgssl-emulator`
//! crate, behind the default feature `demo`.

pub mod addresses;
pub mod api;
pub mod census;
pub mod cli;
pub mod context;
pub mod credentials;
#[cfg(feature = "demo")]
pub mod demo;
pub mod domain;
pub mod hint;
pub mod ops;
pub mod probe;
pub mod regions;
pub mod store;
pub mod tui;
pub mod validate;

pub use pgssl_wire::{ids, text};
