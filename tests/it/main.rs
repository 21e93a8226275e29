//! Every integration test in one binary (one link instead of seventeen on a 2-core
//! machine), a module per feature, as ripgrep does.

mod common;

mod account;
mod api_round2;
mod audit;
mod bounds;
mod bridge;
mod bulk;
mod census;
mod cli;
mod cli_ca;
mod cli_day;
mod cli_prompt;
mod cli_verify;
mod client;
mod credentials;
mod docs;
mod exit_codes;
mod fleet;
mod hardening;
mod hostile;
mod identity;
mod pg_tls;
mod real_api;
mod signing_vectors;
mod trust;
mod tui_bulk;
mod tui_hints;
mod tui_model;
mod tui_pty;
mod tui_undo;
mod undo;
