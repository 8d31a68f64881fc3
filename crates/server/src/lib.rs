//! Steward's HTTP server: the JSON API under `/api/v1`, the console pages, and the
//! use cases both call. Handlers are thin: they parse, call a function in
//! [`services`], and render its result. Background work runs in [`jobs`].

pub mod api;
pub mod app;
pub mod auth;
pub mod charts;
pub mod console;
pub mod error;
pub mod extract;
pub mod files;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod rate_limit;
pub mod responses;
pub mod services;
pub mod state;

pub use app::build_app;
pub use files::{FileStorage, Files};
pub use metrics::Metrics;
pub use state::{AppState, ServerConfig};
