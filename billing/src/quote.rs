//! Quotes: what a call would cost the tenant, with how the amount was
//! reached. The tariff is the one the [resolver](crate::resolver) picks for
//! every rating.

use model::{ApiId, Money};
use rating::{Breakdown, Quote, Rounding};
use serde::{Deserialize, Serialize};

use crate::auth::Scope;
use crate::db::Db;
use crate::error::{Error, Result};

/// The price of a call, with how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteAnswer {
    pub rate: QuotedRate,
    pub currency: String,
    pub duration: u64,
    pub amount: Money,
    pub breakdown: QuoteBreakdown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedRate {
    pub id: String,
    pub prefix: String,
}

/// docs/rating.md's parts of the amount. Parts are exact (not rounded); only the
/// amount is rounded to five places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteBreakdown {
    pub billable_seconds: u64,
    pub within_grace: bool,
    pub connect_fee: String,
    pub first_interval: String,
    pub blocks: u64,
    pub blocks_cost: String,
    pub surcharge: String,
    pub unrounded: String,
    pub rounding: String,
}

pub(crate) fn breakdown(b: &Breakdown) -> QuoteBreakdown {
    QuoteBreakdown {
        billable_seconds: b.billable_seconds,
        within_grace: b.within_grace,
        connect_fee: b.connect_fee.normalize().to_string(),
        first_interval: b.first_interval.normalize().to_string(),
        blocks: b.blocks,
        blocks_cost: b.blocks_cost.normalize().to_string(),
        surcharge: b.surcharge.normalize().to_string(),
        unrounded: b.unrounded.normalize().to_string(),
        rounding: match b.rounding {
            Rounding::HalfAwayFromZero => "HALF_AWAY_FROM_ZERO",
            Rounding::Up => "UP",
        }
        .to_string(),
    }
}

/// A number to rate: 1 to 256 characters.
pub fn validate_callee(callee: &str) -> Result<(), &'static str> {
    let callee = callee.trim();
    if callee.is_empty() || callee.chars().count() > 256 {
        Err("must be 1 to 256 characters")
    } else {
        Ok(())
    }
}

impl Db {
    /// What a call of `duration` seconds to `callee`, started at `at` (unix
    /// seconds, default now), costs the tenant.
    pub async fn quote(
        &self,
        scope: &Scope,
        callee: &str,
        duration: u64,
        at: Option<i64>,
    ) -> Result<QuoteAnswer> {
        let callee = callee.trim();
        validate_callee(callee).map_err(|m| Error::field("callee", m))?;
        let at = at.unwrap_or_else(|| crate::db::now_ms() / 1000);
        let rating = self.quote_rating(scope.tenant_id).await?;
        let resolved = rating
            .resolve_charged(callee)
            .map_err(|message| Error::Refused {
                code: "CURRENCY_MISMATCH",
                message,
            })?;
        match resolved
            .tariff
            .table
            .quote(callee, at, duration, resolved.rounding)
        {
            Quote::Rated { rate, breakdown: b } => Ok(QuoteAnswer {
                rate: QuotedRate {
                    id: ApiId::encode(rate.id),
                    prefix: rate.prefix.clone(),
                },
                currency: resolved.tariff.currency.clone(),
                duration,
                amount: Money::rounded(b.amount),
                breakdown: breakdown(&b),
            }),
            Quote::Forbidden { rate } => Err(Error::Refused {
                code: "FORBIDDEN_DESTINATION",
                message: format!(
                    "calls to {callee} are forbidden by the rate for prefix {}",
                    rate.prefix
                ),
            }),
            Quote::TooLarge { rate } => Err(Error::Refused {
                code: "AMOUNT_TOO_LARGE",
                message: format!(
                    "the cost of this call at the rate for prefix {} is too large to be represented",
                    rate.prefix
                ),
            }),
            Quote::NoRate => Err(Error::Refused {
                code: "NO_RATE",
                message: format!("no rate in force matches {callee}"),
            }),
        }
    }
}
