//! What the service layer counts for operators, through the `metrics`
//! facade: the server installs a Prometheus recorder and serves `/metrics`;
//! without a recorder (tests, tools) every call here does nothing.
//!
//! Every name is here, so the list of what is measured is one page:
//! - `ratedeck_authorizations_total{outcome}`: online authorisations, by
//!   `granted` or the refusal's code (`INSUFFICIENT_FUNDS`, `NO_RATE`, …);
//! - `ratedeck_cdrs_total{outcome}`: CDRs posted, by `rated`, `unrated` and
//!   `duplicate`;
//! - `ratedeck_imports_total{mode}` and `ratedeck_imported_rates_total`: deck
//!   imports committed (`merge`, `replace`) and the rates they added or changed;
//! - `ratedeck_rate_table_build_seconds`: building a tenant's rate table;
//! - `ratedeck_db_write_wait_seconds`: waiting for a write transaction (the
//!   pool's connection and, on SQLite, the write lock).
//!
//! The figures read from the database at scrape time (live holds, held
//! amounts, the pool's connections) are the server's: see [`Db::gauges`].

use std::time::Duration;

use crate::error::Error;

/// Describes every metric once, so the exposition carries its help text.
pub fn describe() {
    metrics::describe_counter!(
        "ratedeck_authorizations_total",
        "Online authorisations, by outcome (granted or the refusal's code)"
    );
    metrics::describe_counter!(
        "ratedeck_cdrs_total",
        "CDRs posted, by outcome (rated, unrated, duplicate)"
    );
    metrics::describe_counter!("ratedeck_imports_total", "Deck imports committed, by mode");
    metrics::describe_counter!(
        "ratedeck_imported_rates_total",
        "Rates added or changed by committed deck imports"
    );
    metrics::describe_histogram!(
        "ratedeck_rate_table_build_seconds",
        metrics::Unit::Seconds,
        "Time to build a tenant's rate table from the database"
    );
    metrics::describe_histogram!(
        "ratedeck_db_write_wait_seconds",
        metrics::Unit::Seconds,
        "Time waiting for a write transaction to begin"
    );
}

/// An authorisation's outcome: `granted`, or the code of its refusal.
pub(crate) fn authorization<T>(result: &Result<T, Error>) {
    let outcome = match result {
        Ok(_) => "granted",
        Err(Error::Refused { code, .. } | Error::Inactive { code, .. }) => code,
        Err(Error::Validation(_)) => "VALIDATION_ERROR",
        Err(Error::NotFound(_)) => "NOT_FOUND",
        Err(Error::Forbidden(_) | Error::Unauthorized(_)) => "FORBIDDEN",
        Err(_) => "ERROR",
    };
    metrics::counter!("ratedeck_authorizations_total", "outcome" => outcome).increment(1);
}

/// The CDRs of one posted batch.
pub(crate) fn cdrs(rated: u64, unrated: u64, duplicates: u64) {
    for (outcome, count) in [
        ("rated", rated),
        ("unrated", unrated),
        ("duplicate", duplicates),
    ] {
        if count > 0 {
            metrics::counter!("ratedeck_cdrs_total", "outcome" => outcome).increment(count);
        }
    }
}

/// A committed deck import.
pub(crate) fn import(mode: &'static str, rates: u64) {
    metrics::counter!("ratedeck_imports_total", "mode" => mode).increment(1);
    metrics::counter!("ratedeck_imported_rates_total").increment(rates);
}

/// A tenant's rate table built.
pub(crate) fn rate_table_built(took: Duration) {
    metrics::histogram!("ratedeck_rate_table_build_seconds").record(took.as_secs_f64());
}

/// A write transaction begun after `waited`.
pub(crate) fn write_waited(waited: Duration) {
    metrics::histogram!("ratedeck_db_write_wait_seconds").record(waited.as_secs_f64());
}

/// What the database holds now, read when metrics are scraped: shared by
/// every server on the database, so each reports the same figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gauges {
    /// Charging sessions in progress.
    pub live_holds: i64,
    /// What they hold, per currency, in the currency's units.
    pub held: Vec<crate::charging::HeldTotal>,
    /// This server's pool: connections open, and of those idle.
    pub pool_size: u32,
    pub pool_idle: u32,
}

impl crate::Db {
    /// The figures of [`Gauges`].
    pub async fn gauges(&self) -> crate::Result<Gauges> {
        let (live_holds, held) = self.all_live_totals().await?;
        Ok(Gauges {
            live_holds,
            held,
            pool_size: self.pool().size(),
            pool_idle: u32::try_from(self.pool().num_idle()).unwrap_or(u32::MAX),
        })
    }
}
