//! Ratedeck's rating engine.
//!
//! This crate is the single implementation of `docs/rating.md`: every
//! surface (REST, XML-RPC, the portal, CDR rating, online charging) calls into it so
//! that the same call always gets the same number. It does no I/O.
//!
//! * [`RateTerms`] holds the terms of one rate; [`RateTerms::rate`] gives the full
//!   [`Breakdown`] of a call, [`RateTerms::amount`] only the rounded amount and
//!   [`RateTerms::max_duration`] the longest call a sum of money covers.
//! * [`Pricing`] is the same terms compiled to exact integers, for callers that rate
//!   many calls against the same rate (the [`RateTable`] keeps one per distinct terms).
//! * [`RateTable`] is an immutable longest-prefix index over a deck of rates with
//!   activation windows, built once and shared between threads:
//!   [`RateTable::lookup`], [`RateTable::quote`] (with breakdown),
//!   [`RateTable::quote_amount`] (amount only) and [`RateTable::quote_amounts`]
//!   (many calls at once, interleaving their memory accesses).
//!
//! Money is exact decimal throughout: the amount is computed as an exact rational
//! number and rounded once, to 5 decimal places, so no intermediate rounding can
//! shift a call's cost by a unit.
//!
//! The arithmetic is checked: an amount that cannot be represented is the error
//! value [`AmountTooLarge`] (and [`Quote::TooLarge`] / [`AmountQuote::TooLarge`]
//! from a table), never a panic and never a clipped number. Terms and durations
//! within docs/rating.md's "Bounds" never come near it.

mod intern;
mod pricing;
mod table;
mod terms;
mod trie;

/// Terms the unit tests of several modules rate with.
#[cfg(test)]
pub(crate) mod test_terms {
    use rust_decimal_macros::dec;

    use crate::{Decimal, RateTerms};

    /// docs/rating.md's first worked example.
    pub fn example() -> RateTerms {
        RateTerms {
            connect_fee: dec!(0.10),
            price_1: dec!(0.06),
            price_n: dec!(0.03),
            interval_1: 60,
            interval_n: 6,
            free_seconds: 10,
            grace_period: 5,
            postcall_surcharge: dec!(0.1),
        }
    }

    /// `price` a minute, billed by the minute, nothing else.
    pub fn flat(price: Decimal) -> RateTerms {
        RateTerms {
            connect_fee: Decimal::ZERO,
            price_1: price,
            price_n: price,
            interval_1: 60,
            interval_n: 60,
            free_seconds: 0,
            grace_period: 0,
            postcall_surcharge: Decimal::ZERO,
        }
    }
}

pub use pricing::{Pricing, MAX_AMOUNT};
pub use rust_decimal::Decimal;
pub use table::{AmountQuote, Call, Priced, Quote, RateEntry, RateTable, BATCH_LANES};
pub use terms::{AmountTooLarge, Breakdown, RateTerms, Rounding, TermsError};

/// Whole seconds billed for an answered duration given with a fraction.
///
/// docs/rating.md: "a fractional duration is rounded up to the next second", so
/// `12.001` bills as 13 s. Negative durations (clock skew in a CDR) bill as 0, and a
/// duration beyond `u64::MAX` seconds saturates rather than wrapping.
pub fn billable_duration(seconds: Decimal) -> u64 {
    if seconds <= Decimal::ZERO {
        return 0;
    }
    u64::try_from(seconds.ceil()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn fractional_seconds_round_up() {
        assert_eq!(billable_duration(dec!(0)), 0);
        assert_eq!(billable_duration(dec!(-3.5)), 0);
        assert_eq!(billable_duration(dec!(0.0001)), 1);
        assert_eq!(billable_duration(dec!(12)), 12);
        assert_eq!(billable_duration(dec!(12.000)), 12);
        assert_eq!(billable_duration(dec!(12.001)), 13);
        assert_eq!(billable_duration(Decimal::MAX), u64::MAX);
    }
}
