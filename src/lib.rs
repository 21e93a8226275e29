//! pgssl: turn SSL on or off on TencentDB for PostgreSQL instances, safely.
//!
//! One core, two faces: the TUI (`tui`) and the CLI (`cli`) both call `ops`, which
//! plans, confirms, sends, journals and follows changes through `api`.

pub mod api;
pub mod credentials;
pub mod ids;
pub mod text;
