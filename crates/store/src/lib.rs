//! The only crate that speaks SQL. One set of queries and one migration tree
//! serve SQLite and PostgreSQL through sqlx's `Any` driver: the SQL here sticks to
//! the common dialect (`$n` placeholders, `BIGINT` times, `TEXT` ids), and the
//! few engine differences (transaction start, row locks) live in [`db`].

pub mod activity;
pub mod api_keys;
pub mod audit;
pub mod bulk;
pub mod campaigns;
pub mod connections;
pub mod content;
pub mod credits;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod files;
pub mod invitations;
pub mod jobs;
pub mod key_cache;
mod listen;
pub mod media;
pub mod migrations;
pub mod organizations;
pub mod reports;
mod row;
pub mod scope;
pub mod security;
pub mod sessions;
pub mod setup;
pub mod testing;
pub mod two_factor;
pub mod users;
pub mod webhooks;
pub mod workspaces;

pub use db::{Audited, Conn, Db, Engine, WriteTx};
pub use error::{StoreError, StoreResult};
pub use scope::{OrgScope, WorkspaceScope};
