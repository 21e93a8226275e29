//! Tencent Cloud API 3.0 for TencentDB for PostgreSQL: signing, models, transport, errors.

pub mod client;
pub mod endpoint;
pub mod error;
mod limiter;
pub mod reply;

pub use client::{Client, ClientOptions};
pub use endpoint::Endpoint;
pub use error::ApiError;

pub use pgssl_wire::{Action, SSL_REGIONS, VERSION, is_ssl_region, models, sign};

/// The default endpoint (international site).
pub const DEFAULT_ENDPOINT: &str = "postgres.intl.tencentcloudapi.com";
