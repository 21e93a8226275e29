//! pgssl: turn SSL on or off on TencentDB for PostgreSQL instances, safely.
//!
//! One core, two faces: the TUI and the CLI (`cli`) both call `ops`, which plans,
//! confirms, sends, journals and follows changes through `api`. `emulator` is a local
//! stand-in for the API, used by `--demo` and by every test.

pub mod addresses;
pub mod api;
pub mod cli;
pub mod context;
pub mod credentials;
pub mod demo;
pub mod emulator;
pub mod ids;
pub mod ops;
pub mod pgserver;
pub mod probe;
pub mod store;
pub mod text;
pub mod tui;
pub mod validate;
