//! The price a call is charged at: the rate its tenant's rating data gives
//! it (through its billing plan, else the default tariff), compiled, and
//! what its seconds cost.

use std::sync::Arc;

use model::Money;
use rating::{Pricing, Rounding};

use super::session::Session;
use super::MAX_CALL_SECONDS;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::resolver::TenantRating;

/// A tenant's rating data (billing plans and tariffs) as online charging and
/// re-rating use it.
pub(crate) struct ChargingRates {
    rating: Arc<TenantRating>,
}

/// The rate a call is charged at, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CallPrice {
    pub rate_id: i64,
    pub prefix: String,
    pub currency: String,
    pricing: Pricing,
    rounding: Rounding,
}

impl CallPrice {
    /// The amount of a call of `duration` seconds, in units; an amount that
    /// cannot be represented (terms beyond docs/rating.md's bounds) is refused.
    pub fn amount(&self, duration: u64) -> Result<i64> {
        self.pricing
            .amount(duration, self.rounding)
            .ok()
            .and_then(|amount| Money::units_of(amount).ok())
            .ok_or_else(|| Error::Refused {
                code: "AMOUNT_TOO_LARGE",
                message: format!(
                    "the cost of {duration} s at the rate for prefix {} is too large to be represented",
                    self.prefix
                ),
            })
    }

    /// The longest duration (capped at [`MAX_CALL_SECONDS`]) that `funds`
    /// units cover; `None` when not even the first interval is covered.
    pub(super) fn max_duration(&self, funds: i64) -> Option<u64> {
        self.pricing.max_duration(
            Money::from_units(funds).decimal(),
            self.rounding,
            MAX_CALL_SECONDS,
        )
    }
}

impl Db {
    /// The rates calls of the tenant are charged at.
    pub(crate) async fn charging_rates(&self, tenant_id: i64) -> Result<ChargingRates> {
        Ok(ChargingRates::new(self.tenant_rating(tenant_id).await?))
    }
}

impl ChargingRates {
    /// The rate of a call to `number` started at `at` (unix seconds), from
    /// the tariff its billing plan (else the default tariff) names, or the
    /// refusal (`CURRENCY_MISMATCH`, `NO_RATE`, `FORBIDDEN_DESTINATION`).
    pub fn price(&self, number: &str, at: i64) -> Result<CallPrice> {
        let resolved = self
            .rating
            .resolve_charged(number)
            .map_err(|message| Error::Refused {
                code: "CURRENCY_MISMATCH",
                message,
            })?;
        let Some(priced) = resolved.tariff.table.lookup_priced(number, at) else {
            return Err(Error::Refused {
                code: "NO_RATE",
                message: format!("no rate in force matches {number}"),
            });
        };
        if priced.rate.forbidden {
            return Err(Error::Refused {
                code: "FORBIDDEN_DESTINATION",
                message: format!(
                    "calls to {number} are forbidden by the rate for prefix {}",
                    priced.rate.prefix
                ),
            });
        }
        Ok(CallPrice {
            rate_id: priced.rate.id,
            prefix: priced.rate.prefix.clone(),
            currency: resolved.tariff.currency.clone(),
            pricing: priced.pricing.clone(),
            rounding: resolved.rounding,
        })
    }

    /// The tenant's current rating data.
    pub(crate) fn new(rating: Arc<TenantRating>) -> ChargingRates {
        ChargingRates { rating }
    }

    /// What `duration` seconds of an authorised call cost at the price it
    /// was granted (its hold, when that rate is gone).
    pub(crate) fn session_cost(&self, session: &Session, duration: u64) -> Result<i64> {
        match self.session_price(session) {
            Some(price) => price.amount(duration),
            None => Ok(session.held),
        }
    }

    /// The price a session was granted at: its rate as the call's start saw
    /// it, still when a newer rate has taken the prefix since.
    pub(super) fn session_price(&self, session: &Session) -> Option<CallPrice> {
        let at = session.started_at / 1000;
        match self.price(&session.callee, at) {
            Ok(price) if price.rate_id == session.rate_id => Some(price),
            _ => {
                let resolved = self.rating.resolve(&session.callee);
                let entry = resolved.tariff.table.get(session.rate_id)?;
                Some(CallPrice {
                    rate_id: entry.id,
                    prefix: entry.prefix.clone(),
                    currency: session.currency.clone(),
                    pricing: entry.terms.compile(),
                    rounding: resolved.rounding,
                })
            }
        }
    }
}
