//! Rate terms compiled to exact integer arithmetic.
//!
//! docs/rating.md's amount for `n` blocks is
//! `(connect + i1*p1/60 + n*in*pn/60) * (1 + s)`, which is the rational number
//! `(am + n*bm) / div` once every decimal is brought to one common scale:
//! `am = (60*connect + i1*p1) * (1 + s)` and `bm = in*pn * (1 + s)`, both integers at
//! that scale, and `div = 60 * 10^(scale - 5)` so the quotient is in units of 10^-5.
//! Rounding that quotient with an integer division and its remainder is exact (no
//! 28-digit `Decimal` division in between) and costs one multiply, one add and one
//! division per call instead of a dozen `Decimal` operations. In the usual case all
//! of it fits in 64 bits ([`Quick`]), which is what a rate table keeps per rate.
//!
//! When the integers do not fit in `i128` (absurd magnitudes or precisions, or a
//! block count near `u64::MAX`) the same formula is evaluated with checked `Decimal`
//! operations instead, which are exact up to 28 significant digits. An amount that
//! cannot be represented (beyond [`MAX_AMOUNT`], or an intermediate beyond what a
//! `Decimal` holds) is the error value [`AmountTooLarge`], never a panic and never a
//! silently clipped number.
//!
//! (Over 500 lines: the 64-bit, 128-bit and `Decimal` forms of one formula,
//! and the longest duration some funds cover, stay side by side so that they
//! visibly compute the same amount.)

use crate::terms::{AmountTooLarge, Breakdown, RateTerms, Rounding};
use rust_decimal::{Decimal, RoundingStrategy};

/// The largest amount that can be represented with exactly 5 decimal places
/// (`2^96 - 1` units of 10^-5). A larger amount is [`AmountTooLarge`].
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(u32::MAX, u32::MAX, u32::MAX, false, 5);

/// Zero with scale 5, so that every amount prints with 5 decimals.
const ZERO_AMOUNT: Decimal = Decimal::from_parts(0, 0, 0, false, 5);

/// [`RateTerms`] compiled for fast, exact rating. Build one with [`RateTerms::compile`].
///
/// Two value-equal terms (e.g. a price of `0.10` and `0.1`) compile to equal
/// `Pricing`s, which is what lets a [`crate::RateTable`] share one per distinct terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pricing {
    quick: Quick,
    exact: Option<Exact>,
    /// `60 * connect_fee + interval_1 * price_1` (money * 60), for the fallback path and
    /// the breakdown's `unrounded`.
    a: Decimal,
    /// `interval_n * price_n` (money * 60 per block).
    b: Decimal,
    /// `1 + postcall_surcharge`.
    m: Decimal,
    /// Whether computing `a`, `b` or `m` overflowed a `Decimal` (they then hold the
    /// extreme of the right sign, good for comparisons only).
    wide_overflow: bool,
}

/// What the usual amount needs, in 40 bytes: the durations and the exact formula in
/// 64-bit integers. A [`crate::RateTable`] copies it next to each rate's time window so
/// a quote reads one cache line for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Quick {
    grace: u32,
    interval_1: u32,
    free: u32,
    /// Never 0 (an `interval_n` of 0 is treated as 1).
    interval_n: u32,
    /// The exact formula when it fits in 64 bits (the usual case).
    small: Small,
}

impl Quick {
    /// Number of `interval_n` blocks a call of `duration` seconds owes (grace aside).
    #[inline]
    fn blocks(&self, duration: u64) -> u64 {
        let covered = u64::from(self.interval_1) + u64::from(self.free);
        let after = duration.saturating_sub(covered);
        // 32-bit division is several times faster than 64-bit on many x86 cores,
        // and calls are far shorter than 2^32 seconds.
        match u32::try_from(after) {
            Ok(after) => u64::from(after.div_ceil(self.interval_n)),
            Err(_) => after.div_ceil(u64::from(self.interval_n)),
        }
    }

    /// Packs into 10 words, for the rate table's slot lines.
    pub(crate) fn to_words(self) -> [u32; 10] {
        let split = |x: i64| [x as u32, (x >> 32) as u32];
        let [am0, am1] = split(self.small.am);
        let [bm0, bm1] = split(self.small.bm);
        let [div0, div1] = split(self.small.div);
        [
            self.grace,
            self.interval_1,
            self.free,
            self.interval_n,
            am0,
            am1,
            bm0,
            bm1,
            div0,
            div1,
        ]
    }

    /// Inverse of [`Quick::to_words`].
    #[inline]
    pub(crate) fn from_words(w: &[u32]) -> Quick {
        let join = |lo: u32, hi: u32| (u64::from(lo) | (u64::from(hi) << 32)) as i64;
        Quick {
            grace: w[0],
            interval_1: w[1],
            free: w[2],
            interval_n: w[3],
            small: Small {
                am: join(w[4], w[5]),
                bm: join(w[6], w[7]),
                div: join(w[8], w[9]),
            },
        }
    }

    /// The amount, or `None` when it needs the wide path of the full [`Pricing`].
    #[inline]
    pub(crate) fn amount(&self, duration: u64, rounding: Rounding) -> Option<Decimal> {
        if duration < u64::from(self.grace) {
            return Some(ZERO_AMOUNT);
        }
        let units = self.small.units(self.blocks(duration), rounding)?;
        Decimal::try_from_i128_with_scale(units, 5).ok()
    }
}

/// The amount for `n` blocks is `(am + n*bm) / div` units of 10^-5; `div > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Exact {
    am: i128,
    bm: i128,
    div: i128,
}

/// [`Exact`] in 64 bits; `div == 0` when it does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Small {
    am: i64,
    bm: i64,
    div: i64,
}

impl Small {
    const NONE: Small = Small {
        am: 0,
        bm: 0,
        div: 0,
    };

    fn new(e: Option<Exact>) -> Small {
        let fit = |e: Exact| {
            Some(Small {
                am: i64::try_from(e.am).ok()?,
                bm: i64::try_from(e.bm).ok()?,
                div: i64::try_from(e.div).ok()?,
            })
        };
        e.and_then(fit).unwrap_or(Small::NONE)
    }

    #[inline]
    fn units(&self, n: u64, rounding: Rounding) -> Option<i128> {
        if self.div == 0 {
            return None;
        }
        let num = self
            .bm
            .checked_mul(i64::try_from(n).ok()?)?
            .checked_add(self.am)?;
        if let (Ok(num), Ok(div)) = (u32::try_from(num), u32::try_from(self.div)) {
            // The usual case (amounts below ~40 money units at 5 dp); see `blocks`.
            return Some(i128::from(div_round_32(num, div, rounding)));
        }
        Some(i128::from(div_round_64(num, self.div, rounding)))
    }
}

impl Pricing {
    pub(crate) fn new(t: &RateTerms) -> Pricing {
        let interval_n = t.interval_n.max(1);
        let checked = (|| {
            let a = t
                .connect_fee
                .checked_mul(Decimal::from(60u32))?
                .checked_add(Decimal::from(t.interval_1).checked_mul(t.price_1)?)?;
            let b = Decimal::from(interval_n).checked_mul(t.price_n)?;
            let m = Decimal::ONE.checked_add(t.postcall_surcharge)?;
            Some((a, b, m))
        })();
        let wide_overflow = checked.is_none();
        let (a, b, m) = checked.unwrap_or_else(|| {
            (
                add(
                    mul(t.connect_fee, Decimal::from(60u32)),
                    mul(Decimal::from(t.interval_1), t.price_1),
                ),
                mul(Decimal::from(interval_n), t.price_n),
                add(Decimal::ONE, t.postcall_surcharge),
            )
        });
        let exact = Exact::new(t, interval_n);
        Pricing {
            quick: Quick {
                grace: t.grace_period,
                interval_1: t.interval_1,
                free: t.free_seconds,
                interval_n,
                small: Small::new(exact),
            },
            exact,
            a: a.normalize(),
            b: b.normalize(),
            m: m.normalize(),
            wide_overflow,
        }
    }

    /// Number of `interval_n` blocks a call of `duration` seconds owes (grace aside):
    /// `ceil(max(0, d - interval_1 - free_seconds) / interval_n)`.
    pub fn blocks(&self, duration: u64) -> u64 {
        self.quick.blocks(duration)
    }

    pub(crate) fn quick(&self) -> Quick {
        self.quick
    }

    /// The billed amount of a call (scale 5). Same number as [`RateTerms::amount`].
    /// An amount beyond [`MAX_AMOUNT`] (in either sign) is [`AmountTooLarge`].
    pub fn amount(&self, duration: u64, rounding: Rounding) -> Result<Decimal, AmountTooLarge> {
        if duration < u64::from(self.quick.grace) {
            return Ok(ZERO_AMOUNT);
        }
        self.amount_for_blocks(self.blocks(duration), rounding)
    }

    /// The rounded amount once the grace period is over, for `n` blocks.
    fn amount_for_blocks(&self, n: u64, rounding: Rounding) -> Result<Decimal, AmountTooLarge> {
        match self.units(n, rounding) {
            Some(units) => Decimal::try_from_i128_with_scale(units, 5).map_err(|_| AmountTooLarge),
            None => round_amount(self.unrounded(n)?, rounding),
        }
    }

    /// Exact rounded amount for `n` blocks in units of 10^-5, `None` on overflow.
    #[inline]
    fn units(&self, n: u64, rounding: Rounding) -> Option<i128> {
        self.quick
            .small
            .units(n, rounding)
            .or_else(|| self.exact.and_then(|e| e.units(n, rounding)))
    }

    /// `(a + n*b) * m / 60` with checked `Decimal` operations (one division, at the
    /// end).
    fn unrounded(&self, n: u64) -> Result<Decimal, AmountTooLarge> {
        if self.wide_overflow {
            return Err(AmountTooLarge);
        }
        Decimal::from(n)
            .checked_mul(self.b)
            .and_then(|blocks| self.a.checked_add(blocks))
            .and_then(|sum| sum.checked_mul(self.m))
            .and_then(|numerator| numerator.checked_div(Decimal::from(60u32)))
            .ok_or(AmountTooLarge)
    }

    /// Whether the amount for `n` blocks is at most `funds`; `funds_units` is
    /// `floor(funds * 10^5)`, which compares the same against a whole number of units.
    fn fits(&self, n: u64, rounding: Rounding, funds: Decimal, funds_units: i128) -> bool {
        match self.units(n, rounding) {
            Some(units) => units <= funds_units,
            // An amount too large to represent is more than any funds.
            None => self
                .amount_for_blocks(n, rounding)
                .is_ok_and(|amount| amount <= funds),
        }
    }

    /// Whether each block adds to the amount. If not, a call that can start can run
    /// for ever (up to the caller's cap).
    fn grows(&self) -> bool {
        match self.exact {
            Some(e) => e.bm > 0,
            None => mul(self.b, self.m) > Decimal::ZERO,
        }
    }

    /// Longest duration, in whole seconds, whose amount is at most `funds`.
    ///
    /// * `None` when `funds` do not cover the first interval (connect fee, first
    ///   interval and surcharge): docs/rating.md's "refusal when even the first interval is
    ///   not covered". This holds even though a call under the grace period would cost
    ///   nothing: a call cannot be authorised on the hope that it stays that short.
    /// * `Some(cap)` when the call may run at least `cap` seconds, including when blocks
    ///   cost nothing and the duration is unbounded.
    /// * Otherwise `Some(d)` with `amount(d) <= funds < amount(d + 1)`. Amounts are
    ///   step functions, so `d` is the last second of the last block that fits. When
    ///   the grace period outlasts the blocks funds pay for, `d` is `grace_period - 1`
    ///   (that call is free, one second more is not affordable).
    ///
    /// Computed from the block count in closed form and checked against the exact
    /// amount, so it is exact and does not loop over seconds. The guarantee assumes
    /// terms that pass [`RateTerms::validate`] (amounts that never decrease).
    pub fn max_duration(&self, funds: Decimal, rounding: Rounding, cap: u64) -> Option<u64> {
        let funds_units = floor_units(funds);
        let fits = |n: u64| self.fits(n, rounding, funds, funds_units);
        if !fits(0) {
            return None;
        }
        let covered = u64::from(self.quick.interval_1) + u64::from(self.quick.free);
        let paid = if self.grows() {
            // Blocks needed to reach the cap; no need to look further.
            let cap_blocks = self.blocks(cap);
            let n = if fits(cap_blocks) {
                cap_blocks
            } else {
                self.last_fitting(cap_blocks, rounding, funds_units, &fits)
            };
            covered
                .saturating_add(n.saturating_mul(u64::from(self.quick.interval_n)))
                .min(cap)
        } else {
            cap
        };
        if paid >= u64::from(self.quick.grace) {
            Some(paid)
        } else if funds >= Decimal::ZERO {
            // Every call that reaches the grace period owes more than funds cover;
            // the calls shorter than it are free. `grace > paid >= 0` here.
            Some(cap.min(u64::from(self.quick.grace) - 1))
        } else {
            None
        }
    }

    /// The largest `n` in `[0, hi)` with `fits(n)`, given `fits(0)` and `!fits(hi)`.
    /// A closed-form estimate usually lands on it (two evaluations); a binary search
    /// over blocks covers rounding subtleties and the overflow fallback.
    fn last_fitting(
        &self,
        hi: u64,
        rounding: Rounding,
        funds_units: i128,
        fits: &dyn Fn(u64) -> bool,
    ) -> u64 {
        let (mut lo, mut hi) = (0u64, hi);
        if let Some(estimate) = self.exact.and_then(|e| e.estimate(funds_units, rounding)) {
            let guess = u64::try_from(estimate.max(0))
                .unwrap_or(u64::MAX)
                .min(hi - 1);
            if fits(guess) {
                if guess + 1 == hi || !fits(guess + 1) {
                    return guess;
                }
                lo = guess + 1;
            } else {
                hi = guess;
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The full breakdown; `terms` must be the terms this was compiled from. A part
    /// or amount that cannot be represented is [`AmountTooLarge`].
    pub(crate) fn rate_with(
        &self,
        terms: &RateTerms,
        duration: u64,
        rounding: Rounding,
    ) -> Result<Breakdown, AmountTooLarge> {
        if duration < u64::from(self.quick.grace) {
            return Ok(Breakdown {
                duration,
                billable_seconds: 0,
                within_grace: true,
                connect_fee: Decimal::ZERO,
                first_interval: Decimal::ZERO,
                blocks: 0,
                blocks_cost: Decimal::ZERO,
                surcharge: Decimal::ZERO,
                unrounded: Decimal::ZERO,
                amount: ZERO_AMOUNT,
                rounding,
            });
        }
        let n = self.blocks(duration);
        let sixty = Decimal::from(60u32);
        let block_seconds = u128::from(n) * u128::from(self.quick.interval_n);
        let too_large = |x: Option<Decimal>| x.ok_or(AmountTooLarge);
        let first_interval = too_large(
            Decimal::from(self.quick.interval_1)
                .checked_mul(terms.price_1)
                .and_then(|x| x.checked_div(sixty)),
        )?;
        let block_seconds_decimal = too_large(
            i128::try_from(block_seconds)
                .ok()
                .and_then(|b| Decimal::try_from_i128_with_scale(b, 0).ok()),
        )?;
        let blocks_cost = too_large(
            block_seconds_decimal
                .checked_mul(terms.price_n)
                .and_then(|x| x.checked_div(sixty)),
        )?;
        let charge = too_large(
            terms
                .connect_fee
                .checked_add(first_interval)
                .and_then(|x| x.checked_add(blocks_cost)),
        )?;
        let surcharge = too_large(charge.checked_mul(terms.postcall_surcharge))?;
        Ok(Breakdown {
            duration,
            billable_seconds: u64::try_from(u128::from(self.quick.interval_1) + block_seconds)
                .unwrap_or(u64::MAX),
            within_grace: false,
            connect_fee: terms.connect_fee,
            first_interval,
            blocks: n,
            blocks_cost,
            surcharge,
            unrounded: self.unrounded(n)?,
            amount: self.amount_for_blocks(n, rounding)?,
            rounding,
        })
    }
}

impl Exact {
    fn new(t: &RateTerms, interval_n: u32) -> Option<Exact> {
        let (cm, cs) = parts(t.connect_fee);
        let (p1m, p1s) = parts(t.price_1);
        let (pnm, pns) = parts(t.price_n);
        let (sm, ss) = parts(t.postcall_surcharge);
        let k = cs.max(p1s).max(pns);
        let a = rescaled(cm, cs, k)?
            .checked_mul(60)?
            .checked_add(rescaled(p1m, p1s, k)?.checked_mul(i128::from(t.interval_1))?)?;
        let b = rescaled(pnm, pns, k)?.checked_mul(i128::from(interval_n))?;
        let m = pow10(ss)?.checked_add(sm)?;
        let (mut am, mut bm) = (a.checked_mul(m)?, b.checked_mul(m)?);
        let scale = k + ss;
        let mut div = if scale < 5 {
            let up = pow10(5 - scale)?;
            am = am.checked_mul(up)?;
            bm = bm.checked_mul(up)?;
            60
        } else {
            pow10(scale - 5)?.checked_mul(60)?
        };
        // Dividing out the common factor keeps the numbers small, so the evaluation
        // usually runs on 64-bit division and overflows later.
        let g = gcd(
            gcd(am.unsigned_abs(), bm.unsigned_abs()),
            div.unsigned_abs(),
        );
        if g > 1 {
            let g = i128::try_from(g).ok()?;
            am /= g;
            bm /= g;
            div /= g;
        }
        Some(Exact { am, bm, div })
    }

    /// Rounded amount for `n` blocks in units of 10^-5, or `None` on overflow.
    #[inline]
    fn units(&self, n: u64, rounding: Rounding) -> Option<i128> {
        let num = self.bm.checked_mul(i128::from(n))?.checked_add(self.am)?;
        Some(match (i64::try_from(num), i64::try_from(self.div)) {
            (Ok(num), Ok(div)) => i128::from(div_round_64(num, div, rounding)),
            _ => div_round_128(num, self.div, rounding),
        })
    }

    /// The largest `n` whose exact (unrounded) value rounds to at most `funds_units`,
    /// assuming a non-negative amount and `bm > 0`; `None` on overflow.
    fn estimate(&self, funds_units: i128, rounding: Rounding) -> Option<i128> {
        match rounding {
            // ceil(num / div) <= F  <=>  num <= F * div
            Rounding::Up => {
                let room = funds_units.checked_mul(self.div)?.checked_sub(self.am)?;
                Some(room.div_euclid(self.bm))
            }
            // floor(num / div + 1/2) <= F  <=>  2 * num <= (2F + 1) * div - 1
            Rounding::HalfAwayFromZero => {
                let room = funds_units
                    .checked_mul(2)?
                    .checked_add(1)?
                    .checked_mul(self.div)?
                    .checked_sub(1)?
                    .checked_sub(self.am.checked_mul(2)?)?;
                Some(room.div_euclid(self.bm.checked_mul(2)?))
            }
        }
    }
}

/// `num / div` rounded to an integer; `div > 0`.
#[inline]
fn div_round_32(num: u32, div: u32, rounding: Rounding) -> u32 {
    let (q, r) = (num / div, num % div);
    let up = match rounding {
        Rounding::HalfAwayFromZero => u64::from(r) * 2 >= u64::from(div),
        Rounding::Up => r > 0,
    };
    q + u32::from(up)
}

/// `num / div` rounded to an integer, for a signed integer type; `div > 0`.
/// One rule written once for the 64-bit fast path and the 128-bit wide one.
macro_rules! div_round_signed {
    ($(#[$attr:meta])* $name:ident, $int:ty) => {
        $(#[$attr])*
        fn $name(num: $int, div: $int, rounding: Rounding) -> $int {
            let (q, r) = (num / div, num % div);
            match rounding {
                Rounding::HalfAwayFromZero => {
                    // |r| < div <= MAX, so doubling fits in the unsigned type.
                    if r.unsigned_abs() * 2 >= div.unsigned_abs() {
                        q + num.signum()
                    } else {
                        q
                    }
                }
                Rounding::Up => q + <$int>::from(r > 0),
            }
        }
    };
}

div_round_signed!(
    #[inline]
    div_round_64,
    i64
);
div_round_signed!(div_round_128, i128);

/// `floor(funds * 10^5)`: a whole number of units is at most `funds` iff it is at
/// most this. Cannot overflow: a mantissa has 96 bits.
fn floor_units(funds: Decimal) -> i128 {
    let (m, s) = (funds.mantissa(), funds.scale());
    if s <= 5 {
        m * 10i128.pow(5 - s)
    } else {
        m.div_euclid(10i128.pow(s - 5))
    }
}

fn parts(x: Decimal) -> (i128, u32) {
    let x = x.normalize();
    (x.mantissa(), x.scale())
}

fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

/// Mantissa `m` at scale `s` expressed at scale `k >= s`.
fn rescaled(m: i128, s: u32, k: u32) -> Option<i128> {
    m.checked_mul(pow10(k - s)?)
}

fn gcd(mut x: u128, mut y: u128) -> u128 {
    while y != 0 {
        (x, y) = (y, x % y);
    }
    x
}

/// Rounds an unrounded amount to 5 dp, scale exactly 5; beyond [`MAX_AMOUNT`] (in
/// either sign) it cannot be represented at that scale.
fn round_amount(x: Decimal, rounding: Rounding) -> Result<Decimal, AmountTooLarge> {
    let strategy = match rounding {
        Rounding::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
        Rounding::Up => RoundingStrategy::ToPositiveInfinity,
    };
    let mut r = x.round_dp_with_strategy(5, strategy);
    if r > MAX_AMOUNT || r < -MAX_AMOUNT {
        return Err(AmountTooLarge);
    }
    r.rescale(5);
    Ok(r)
}

/// Saturating `Decimal` arithmetic, for the comparisons of [`Pricing::grows`] only:
/// an overflow gives the extreme of the right sign instead of a panic.
fn mul(x: Decimal, y: Decimal) -> Decimal {
    x.checked_mul(y)
        .unwrap_or_else(|| extreme(x.is_sign_negative() != y.is_sign_negative()))
}

fn add(x: Decimal, y: Decimal) -> Decimal {
    x.checked_add(y)
        .unwrap_or_else(|| extreme(x.is_sign_negative()))
}

fn extreme(negative: bool) -> Decimal {
    if negative {
        Decimal::MIN
    } else {
        Decimal::MAX
    }
}

#[cfg(test)]
mod tests;
