//! Steward's domain: typed values and the rules over them. No IO lives here, so
//! everything in this crate is tested with plain values.

pub mod audit;
pub mod authz;
pub mod credits;
pub mod csv;
pub mod devices;
pub mod error;
pub mod ids;
pub mod images;
pub mod messages;
pub mod pagination;
pub mod password;
pub mod people;
pub mod permissions;
pub mod reports;
pub mod sealing;
pub mod security;
pub mod time;
pub mod tokens;
pub mod two_factor;
pub mod validate;
pub mod webhooks;
pub mod workspaces;

pub use error::{Error, FieldError, Result};
