//! Balances, credit limits and the ledger.
//!
//! A billed account is a tenant's own account or one of its users'. Every
//! change of a balance is written, in the same transaction, as a row of the
//! append-only `balance_transactions` ledger carrying the balance after it,
//! so the ledger always sums to the balance; [`ledger`] writes its rows and
//! lists them. An account's balance and credit limit are read and set, and
//! the tenant's accounts overseen, in [`accounts`]; money is added in
//! [`recharge`]; an account's balance day by day is read from the ledger in
//! [`history`]; low-balance thresholds and their alerts are in [`alerts`],
//! whose `watch` every change of an account's funds calls before it commits.

mod accounts;
mod alerts;
pub mod history;
mod ledger;
mod recharge;

pub use accounts::{AccountSummary, Balance, ACCOUNT_SPEC};
pub(crate) use alerts::{watch, watch_tenants};
pub use alerts::{BalanceAlert, LowAccount, LowBalance, ALERT_SPEC};
pub use history::{BalanceHistory, BalancePoint};
#[cfg(any(test, feature = "testing"))]
pub(crate) use ledger::post_at;
pub(crate) use ledger::{post, post_many, record, record_calls, Calls, Entry};
pub use ledger::{
    LedgerAccount, LedgerEntry, LedgerFilter, Transaction, TransactionKind, TRANSACTION_SPEC,
};

/// The largest single recharge (and credit limit) taken: far above any real
/// one, far below what the stored integers hold (docs/rating.md "Bounds").
const MAX_AMOUNT_UNITS: i64 = model::bounds::units(model::bounds::AMOUNT_MAX);

/// An amount set on an account (a credit limit, an alert threshold) as
/// stored: units from 0 to [`model::bounds::AMOUNT_MAX`], or an error at
/// `field` saying so.
fn bounded_units(field: &str, amount: model::Money) -> crate::error::Result<i64> {
    use crate::error::Error;
    let out_of_range = || {
        Error::field(
            field,
            format!("must be between 0 and {}", model::bounds::AMOUNT_MAX),
        )
    };
    let units = amount.to_units().map_err(|e| match e {
        model::money::MoneyError::OutOfRange => out_of_range(),
        e => Error::field(field, e.to_string()),
    })?;
    if !(0..=MAX_AMOUNT_UNITS).contains(&units) {
        return Err(out_of_range());
    }
    Ok(units)
}
