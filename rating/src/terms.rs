//! The terms of one rate and the breakdown of a rated call (docs/rating.md "The amount").

use crate::pricing::Pricing;
use rust_decimal::Decimal;
use std::fmt;

/// Terms of one rate, already resolved (tariff-wide defaults applied by the caller).
///
/// The rating functions accept any values without panicking, but docs/rating.md only
/// defines the cost for terms that pass [`RateTerms::validate`]; in particular the
/// guarantees of [`RateTerms::max_duration`] rely on the amount never decreasing as a
/// call grows, which needs non-negative money terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateTerms {
    /// Money charged once per answered call (not under the grace period).
    pub connect_fee: Decimal,
    /// Money per minute for the first interval.
    pub price_1: Decimal,
    /// Money per minute for every following block.
    pub price_n: Decimal,
    /// Seconds, >= 1: the minimum billed (a shorter call is billed as `interval_1`).
    pub interval_1: u32,
    /// Seconds, >= 1: the block size after the first interval and the free seconds.
    /// An `interval_n` of 0 is treated as 1 rather than dividing by zero.
    pub interval_n: u32,
    /// Seconds right after the first interval that are not charged.
    pub free_seconds: u32,
    /// A call shorter than this costs nothing at all, not even the connect fee.
    pub grace_period: u32,
    /// A fraction added on top of the whole charge: 0.1 is 10%.
    pub postcall_surcharge: Decimal,
}

/// How the exact amount is brought to 5 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rounding {
    /// Half away from zero: docs/rating.md's default.
    #[default]
    HalfAwayFromZero,
    /// Towards +infinity: tariffs and billing plans with `round_up`.
    Up,
}

/// Breakdown of a rated call.
///
/// The parts (`connect_fee`, `first_interval`, `blocks_cost`, `surcharge`) and
/// `unrounded` are informational and carried at full `Decimal` precision (28
/// significant digits: a price per minute divided by 60 does not always terminate).
/// `amount` is the number that is billed: the exact rational value of docs/rating.md's
/// formula rounded once, so it never depends on how the parts were rounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    /// Answered seconds used for rating.
    pub duration: u64,
    /// Seconds charged: 0 under the grace period, else `interval_1 + blocks * interval_n`.
    /// Free seconds are not charged, so they are not billable: a call that ends inside
    /// the free window has `billable_seconds == interval_1` and may be longer than that.
    pub billable_seconds: u64,
    /// The call was shorter than the grace period and costs nothing.
    pub within_grace: bool,
    /// The connect fee (0 under grace).
    pub connect_fee: Decimal,
    /// `interval_1 * price_1 / 60` (0 under grace).
    pub first_interval: Decimal,
    /// Number of `interval_n` blocks after the first interval and the free seconds.
    pub blocks: u64,
    /// `blocks * interval_n * price_n / 60`.
    pub blocks_cost: Decimal,
    /// `(connect_fee + first_interval + blocks_cost) * postcall_surcharge`.
    pub surcharge: Decimal,
    /// `(60 * connect_fee + interval_1 * price_1 + blocks * interval_n * price_n) *
    /// (1 + postcall_surcharge) / 60`, divided once so it carries a single rounding
    /// at the 28th significant digit.
    pub unrounded: Decimal,
    /// The billed amount: exact value rounded to 5 dp by `rounding`; scale is exactly 5.
    pub amount: Decimal,
    /// The rounding used for `amount`.
    pub rounding: Rounding,
}

/// Why a set of terms is outside what docs/rating.md defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermsError {
    /// `interval_1` or `interval_n` is 0 (the field name is given).
    ZeroInterval(&'static str),
    /// A money term is negative (the field name is given).
    NegativeMoney(&'static str),
    /// `postcall_surcharge` is below -1, which would make every call pay the caller.
    SurchargeBelowMinusOne,
}

impl fmt::Display for TermsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TermsError::ZeroInterval(field) => write!(f, "{field} must be at least 1 second"),
            TermsError::NegativeMoney(field) => write!(f, "{field} must not be negative"),
            TermsError::SurchargeBelowMinusOne => {
                write!(f, "postcall_surcharge must not be below -1")
            }
        }
    }
}

impl std::error::Error for TermsError {}

/// A call whose amount cannot be represented: beyond [`crate::MAX_AMOUNT`] (about
/// 7.9e23) at 5 decimal places, or a part of it beyond what a `Decimal` holds. The
/// documented bounds on rate terms and durations (docs/rating.md "Bounds") keep every
/// call far below this; the engine still answers this error instead of panicking or
/// clipping when given terms outside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AmountTooLarge;

impl fmt::Display for AmountTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the amount of the call is too large to be represented")
    }
}

impl std::error::Error for AmountTooLarge {}

impl RateTerms {
    /// Checks the terms are ones docs/rating.md defines a cost for: intervals of at least
    /// one second, non-negative money and a surcharge of at least -100%. These are
    /// exactly the conditions under which the amount never decreases as a call grows.
    pub fn validate(&self) -> Result<(), TermsError> {
        if self.interval_1 == 0 {
            return Err(TermsError::ZeroInterval("interval_1"));
        }
        if self.interval_n == 0 {
            return Err(TermsError::ZeroInterval("interval_n"));
        }
        for (name, value) in [
            ("connect_fee", self.connect_fee),
            ("price_1", self.price_1),
            ("price_n", self.price_n),
        ] {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(TermsError::NegativeMoney(name));
            }
        }
        if self.postcall_surcharge < Decimal::NEGATIVE_ONE {
            return Err(TermsError::SurchargeBelowMinusOne);
        }
        Ok(())
    }

    /// Compiles the terms to exact integer arithmetic. Worth keeping when many calls
    /// are rated against the same terms; the one-shot methods below compile each time.
    pub fn compile(&self) -> Pricing {
        Pricing::new(self)
    }

    /// The full breakdown of a call of `duration_secs` answered seconds.
    pub fn rate(
        &self,
        duration_secs: u64,
        rounding: Rounding,
    ) -> Result<Breakdown, AmountTooLarge> {
        self.compile().rate_with(self, duration_secs, rounding)
    }

    /// The billed amount only (scale 5); equal to `self.rate(..).amount` whenever
    /// the breakdown can be represented.
    pub fn amount(
        &self,
        duration_secs: u64,
        rounding: Rounding,
    ) -> Result<Decimal, AmountTooLarge> {
        self.compile().amount(duration_secs, rounding)
    }

    /// Longest call, in whole seconds, that `funds` pays for; see [`Pricing::max_duration`].
    pub fn max_duration(&self, funds: Decimal, rounding: Rounding, cap: u64) -> Option<u64> {
        self.compile().max_duration(funds, rounding, cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    use crate::test_terms::example;

    /// docs/rating.md's second worked example: "Rate 0.006/min, 30/6, nothing else".
    fn simple() -> RateTerms {
        RateTerms {
            connect_fee: dec!(0),
            price_1: dec!(0.006),
            price_n: dec!(0.006),
            interval_1: 30,
            interval_n: 6,
            free_seconds: 0,
            grace_period: 0,
            postcall_surcharge: dec!(0),
        }
    }

    fn assert_amount(terms: &RateTerms, d: u64, expected: &str) {
        for rounding in [Rounding::HalfAwayFromZero, Rounding::Up] {
            let amount = terms.amount(d, rounding).expect("representable");
            let breakdown = terms.rate(d, rounding).expect("representable");
            assert_eq!(
                amount.to_string(),
                expected,
                "amount at {d} s ({rounding:?})"
            );
            assert_eq!(breakdown.amount.to_string(), expected, "rate() at {d} s");
            assert_eq!(amount.scale(), 5);
        }
    }

    #[test]
    fn worked_example_one() {
        let t = example();
        assert_amount(&t, 4, "0.00000");
        assert_amount(&t, 5, "0.17600");
        assert_amount(&t, 70, "0.17600");
        assert_amount(&t, 71, "0.17930");
        assert_amount(&t, 130, "0.20900");
        assert_amount(&t, 3600, "2.11970");
    }

    #[test]
    fn worked_example_one_breakdown() {
        let t = example();
        let b = t
            .rate(3600, Rounding::HalfAwayFromZero)
            .expect("representable");
        assert_eq!(b.blocks, 589);
        assert_eq!(b.billable_seconds, 60 + 589 * 6);
        assert!(!b.within_grace);
        assert_eq!(b.connect_fee, dec!(0.10));
        assert_eq!(b.first_interval, dec!(0.06));
        assert_eq!(b.blocks_cost, dec!(1.767));
        assert_eq!(b.surcharge, dec!(0.1927));
        assert_eq!(b.unrounded, dec!(2.1197));
        assert_eq!(b.amount, dec!(2.11970));

        let b = t
            .rate(10, Rounding::HalfAwayFromZero)
            .expect("representable");
        assert_eq!((b.blocks, b.billable_seconds), (0, 60));
        let b = t
            .rate(71, Rounding::HalfAwayFromZero)
            .expect("representable");
        assert_eq!((b.blocks, b.billable_seconds), (1, 66));
        let b = t
            .rate(130, Rounding::HalfAwayFromZero)
            .expect("representable");
        assert_eq!(b.blocks, 10);

        let b = t.rate(4, Rounding::Up).expect("representable");
        assert!(b.within_grace);
        assert_eq!(b.billable_seconds, 0);
        assert_eq!(b.blocks, 0);
        assert!(b.connect_fee.is_zero() && b.unrounded.is_zero());
        assert_eq!(b.rounding, Rounding::Up);
    }

    #[test]
    fn worked_example_two() {
        let t = simple();
        assert_amount(&t, 32, "0.00360");
        assert_amount(&t, 57, "0.00600");
        assert_amount(&t, 75, "0.00780");
        // Not in the table, but follows from it: shorter than interval_1 bills interval_1.
        assert_amount(&t, 1, "0.00300");
        // Grace 0 charges even a zero-second call; grace 1 does not.
        assert_amount(&t, 0, "0.00300");
        let t1 = RateTerms {
            grace_period: 1,
            ..simple()
        };
        assert_amount(&t1, 0, "0.00000");
        assert_amount(&t1, 1, "0.00300");
    }

    #[test]
    fn rounding_modes_differ_only_off_the_grid() {
        // 0.05/min over 1 s = 0.000833.. : half rounds to 0.00083, up to 0.00084.
        let t = RateTerms {
            price_1: dec!(0.05),
            price_n: dec!(0.05),
            interval_1: 1,
            interval_n: 1,
            ..simple()
        };
        assert_eq!(
            t.amount(1, Rounding::HalfAwayFromZero)
                .expect("representable"),
            dec!(0.00083)
        );
        assert_eq!(
            t.amount(1, Rounding::Up).expect("representable"),
            dec!(0.00084)
        );
        // An exact half: 0.0003/min over 1 s = 0.000005 -> 0.00001 either way.
        let t = RateTerms {
            price_1: dec!(0.0003),
            ..t
        };
        assert_eq!(
            t.amount(1, Rounding::HalfAwayFromZero)
                .expect("representable"),
            dec!(0.00001)
        );
        assert_eq!(
            t.amount(1, Rounding::Up).expect("representable"),
            dec!(0.00001)
        );
        // 0.00029/min over 1 s = 0.0000048.. -> 0.00000 half, 0.00001 up.
        let t = RateTerms {
            price_1: dec!(0.00029),
            ..t
        };
        assert_eq!(
            t.amount(1, Rounding::HalfAwayFromZero)
                .expect("representable"),
            dec!(0.00000)
        );
        assert_eq!(
            t.amount(1, Rounding::Up).expect("representable"),
            dec!(0.00001)
        );
    }

    #[test]
    fn validation() {
        assert_eq!(example().validate(), Ok(()));
        let bad = RateTerms {
            interval_n: 0,
            ..example()
        };
        assert_eq!(bad.validate(), Err(TermsError::ZeroInterval("interval_n")));
        // Zero interval_n does not panic: it is treated as 1.
        assert_eq!(bad.amount(62, Rounding::Up).expect("representable"), {
            let one = RateTerms {
                interval_n: 1,
                ..example()
            };
            one.amount(62, Rounding::Up).expect("representable")
        });
        let bad = RateTerms {
            price_n: dec!(-0.01),
            ..example()
        };
        assert_eq!(bad.validate(), Err(TermsError::NegativeMoney("price_n")));
        let bad = RateTerms {
            postcall_surcharge: dec!(-1.5),
            ..example()
        };
        assert_eq!(bad.validate(), Err(TermsError::SurchargeBelowMinusOne));
    }

    #[test]
    fn max_duration_on_the_worked_example() {
        let t = example();
        let r = Rounding::HalfAwayFromZero;
        // Not even the first interval (0.176).
        assert_eq!(t.max_duration(dec!(0.17599), r, 100_000), None);
        // Exactly the first interval: the call may run to the end of the free seconds.
        assert_eq!(t.max_duration(dec!(0.176), r, 100_000), Some(70));
        // One block more (0.1793) reaches second 76.
        assert_eq!(t.max_duration(dec!(0.1793), r, 100_000), Some(76));
        assert_eq!(t.max_duration(dec!(0.17929), r, 100_000), Some(70));
        // 2.1197 pays for 589 blocks: 70 + 589*6 = 3604.
        assert_eq!(t.max_duration(dec!(2.1197), r, 100_000), Some(3604));
        assert_eq!(t.amount(3604, r).expect("representable"), dec!(2.1197));
        assert!(t.amount(3605, r).expect("representable") > dec!(2.1197));
        // Capped.
        assert_eq!(t.max_duration(dec!(1000), r, 600), Some(600));
        // A cap below the grace period.
        assert_eq!(t.max_duration(dec!(1), r, 3), Some(3));
        // Nothing beyond the first interval costs anything: unbounded, so the cap.
        let flat = RateTerms {
            price_n: dec!(0),
            ..example()
        };
        assert_eq!(flat.max_duration(dec!(0.176), r, 7200), Some(7200));
        assert_eq!(flat.max_duration(dec!(0.1), r, 7200), None);
    }

    #[test]
    fn max_duration_when_grace_outlasts_the_first_interval() {
        // Grace 60 s, first interval 30 s: a call of 60 s already owes 5 blocks.
        let t = RateTerms {
            grace_period: 60,
            ..simple()
        };
        let r = Rounding::HalfAwayFromZero;
        assert_eq!(t.amount(59, r).expect("representable"), dec!(0));
        assert_eq!(t.amount(60, r).expect("representable"), dec!(0.006));
        // Funds covering the first interval but not second 60: the call may use the grace.
        assert_eq!(t.max_duration(dec!(0.0036), r, 1000), Some(59));
        assert_eq!(t.max_duration(dec!(0.006), r, 1000), Some(60));
        assert_eq!(t.max_duration(dec!(0.0029), r, 1000), None);
    }
}
