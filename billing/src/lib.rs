//! Ratedeck's storage and use cases.
//!
//! One [`Db`] handle serves every front door (the REST API, the tariff API,
//! XML-RPC and the portal): each use case is a method on it that checks the
//! caller's rights and tenant itself, so a surface is only a translation.

pub mod audit;
pub mod auth;
pub mod balances;
pub mod call_rates;
pub mod cdr_rating;
pub mod cdrs;
pub mod charging;
pub mod csv;
pub mod db;
pub mod error;
pub mod listing;
pub mod quote;
pub mod quote_request;
pub mod rerate;
pub mod sessions;
mod sql;
pub mod tariffs;
pub mod tenants;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throttle;
pub mod time;
pub mod users;

pub use audit::{Origin, Surface};
pub use auth::{Caller, Scope};
pub use db::{Backend, Db};
pub use error::{Error, Result};
pub use listing::Page;
