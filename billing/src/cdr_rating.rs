//! Rating a CDR: what a finished call costs its tenant, as ingestion stores
//! it, re-rating corrects it, and anything reading calls later (statements,
//! reports) would see it. One rule, [`rate_cdr`]: a call that does not leave
//! the PBX is free; an outgoing call is rated by the tariff its billing plan
//! (else the default tariff) names, when that tariff is in the billed
//! account's currency; it is unrated, with the reason, when no rate applies,
//! the rate forbids it, or its cost cannot be represented.

use model::cdr::Direction;
use model::Money;
use rating::{AmountQuote, RateEntry};

use crate::resolver::TenantRating;

model::wire_enum! {
    /// What happened to a call's money: a CDR's `rating_status`.
    pub enum RatingStatus {
        Rated = "RATED",
        Free = "FREE",
        Unrated = "UNRATED",
    }
}

/// The call a CDR records, as rating needs it.
#[derive(Debug, Clone, Copy)]
pub struct CdrToRate<'a> {
    /// The number rated ([`model::cdr::rated_number`]).
    pub number: &'a str,
    pub direction: Direction,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Answered seconds.
    pub duration: i64,
}

/// A CDR's rated outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum RatedCdr<'a> {
    /// Charged `cost` units at `rate`, in the billed account's currency.
    Rated { rate: &'a RateEntry, cost: i64 },
    /// Not charged, by its direction.
    Free { reason: &'static str },
    /// No charge can be worked out, for `reason`.
    Unrated { reason: String },
}

impl RatedCdr<'_> {
    /// The CDR's `rating_status`.
    pub fn status(&self) -> RatingStatus {
        match self {
            RatedCdr::Rated { .. } => RatingStatus::Rated,
            RatedCdr::Free { .. } => RatingStatus::Free,
            RatedCdr::Unrated { .. } => RatingStatus::Unrated,
        }
    }
}

/// Rates one CDR with the tenant's rating data.
pub fn rate_cdr<'a>(rating: &'a TenantRating, cdr: &CdrToRate<'_>) -> RatedCdr<'a> {
    if !cdr.direction.is_charged() {
        return RatedCdr::Free {
            reason: match cdr.direction {
                Direction::Extension => "extension-to-extension calls are free",
                _ => "inbound calls are not charged",
            },
        };
    }
    let resolved = match rating.resolve_charged(cdr.number) {
        Ok(resolved) => resolved,
        Err(reason) => return RatedCdr::Unrated { reason },
    };
    let duration = u64::try_from(cdr.duration).unwrap_or(0);
    match resolved.tariff.table.quote_amount(
        cdr.number,
        cdr.started_at / 1000,
        duration,
        resolved.rounding,
    ) {
        AmountQuote::Rated { rate, amount } => match Money::units_of(amount) {
            Ok(cost) => RatedCdr::Rated { rate, cost },
            Err(_) => too_large(rate),
        },
        AmountQuote::TooLarge { rate } => too_large(rate),
        AmountQuote::Forbidden { rate } => RatedCdr::Unrated {
            reason: format!("forbidden destination (rate for prefix {})", rate.prefix),
        },
        AmountQuote::NoRate => RatedCdr::Unrated {
            reason: format!("no rate matches {}", cdr.number),
        },
    }
}

/// A call whose cost cannot be represented is kept unrated.
fn too_large(rate: &RateEntry) -> RatedCdr<'static> {
    RatedCdr::Unrated {
        reason: format!(
            "the cost at the rate for prefix {} is too large to be represented",
            rate.prefix
        ),
    }
}
