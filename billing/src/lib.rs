//! Ratedeck's storage and use cases.
//!
//! One [`Db`] handle serves every front door (the REST API, the tariff API,
//! XML-RPC and the portal): each use case is a method on it that checks the
//! caller's rights and tenant itself, so a surface is only a translation.
//!
//! Each feature has its module: [`call_rates`], [`tariffs`],
//! [`billing_plans`], [`billing_settings`], [`cdrs`], [`rerate`],
//! [`balances`], [`charging`], [`overview`], [`quote`], [`tenants`],
//! [`users`], [`auth`]
//! (logins and API tokens), [`webhooks`] (endpoints and the outbox of
//! deliveries). Every rating (ingestion, re-rating, charging,
//! quotes) goes through the [`resolver`] and its rate-table cache.

/// The audit log of every change.
pub mod audit;
/// Who is calling: passwords, login tokens, API tokens, the caller's scope.
pub mod auth;
/// Balances, credit limits, the accounts as administrators oversee them, the
/// ledger with its filtered listing, and an account's balance day by day.
pub mod balances;
/// Billing plans: which tariff rates the calls to a prefix.
pub mod billing_plans;
/// A tenant's billing settings: enabled, whose balance pays, offline or online.
pub mod billing_settings;
/// Call rates of any tariff: create, read, update, delete; CSV import and export.
pub mod call_rates;
/// How a CDR is rated: one `rate_cdr` for ingestion and re-rating.
pub mod cdr_rating;
/// CDRs: finished calls posted by the PBX, rated, charged and listed.
pub mod cdrs;
/// Online charging: authorise, hold, settle.
pub mod charging;
/// The CSV reader and the writer's quoting.
pub mod csv;
/// The database handle over SQLite or PostgreSQL.
pub mod db;
/// The one error type of the use cases.
pub mod error;
/// One page of a list.
pub mod listing;
/// What the service layer counts for operators (`/metrics`).
pub mod metrics;
/// The overview of a scope: account, today's calls, live calls, last import.
pub mod overview;
/// Quotes: what a call would cost, with the breakdown.
pub mod quote;
/// A quote request as every surface reads it.
pub mod quote_request;
/// Spend reports, from rollups kept with the CDRs: grouped (by day, hour,
/// hour of the day, destination, user, type) and the range's totals.
pub mod reports;
/// Re-rating stored CDRs after a rate change.
pub mod rerate;
/// The tariff that rates a call, and the rate tables cached per tariff.
pub mod resolver;
/// The tenant a request acts on, from the caller and the tenant it names.
pub mod scope;
/// Portal sessions in the application's database.
pub mod sessions;
mod sql;
/// Whether a user may work now: tenant not suspended, user not disabled.
pub mod standing;
/// Statements per billing cycle, built from the ledger.
pub mod statements;
/// Tariffs: a tenant's named rate tables.
pub mod tariffs;
/// Tenants.
pub mod tenants;
/// Fresh databases for tests.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
/// The login throttle.
pub mod throttle;
/// Times on the wire.
pub mod time;
/// Administering users: role, disabling, removal, passwords.
pub mod user_admin;
/// Users: creating and reading them.
pub mod users;
/// Webhooks: endpoints, the outbox of deliveries, their signature.
pub mod webhooks;

pub use audit::{Origin, Surface};
pub use auth::{Caller, Scope};
pub use db::{Backend, Db};
pub use error::{Error, Result};
pub use listing::Page;
