//! Ratedeck's server: one axum router for the portal, the REST API, the older
//! tariff API and XML-RPC.

pub mod aliases;
pub mod api;
pub mod client;
pub mod config;
pub mod download;
pub mod headers;
pub mod legacy;
pub mod ops;
pub mod state;
pub mod sweep;
pub mod web;
pub mod webhooks;
pub mod xmlrpc;

pub use state::AppState;
