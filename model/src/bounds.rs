//! The upper bounds of every rate term, duration and amount a request may carry.
//!
//! Each bound is stated once, here; every surface's parser (REST, the older
//! tariff API, XML-RPC, CSV import, the portal) reads through [`crate::Fields`]
//! with them, and the published OpenAPI document and docs/rating.md ("Bounds")
//! state the same numbers. docs/rating.md shows that the worst call under them
//! costs about 4.9e8, which the rating arithmetic (exact integers, and amounts
//! up to 7.9e23) and the database's integers of 1/100000 (up to 9.2e13) hold
//! with a wide margin.

use rust_decimal::Decimal;

use crate::money::Money;

/// Most money per minute a rate's `price_1` or `price_n` may be.
pub const PRICE_MAX: i64 = 1_000;
/// Most money a connect fee (of a rate or a tariff) may be.
pub const CONNECT_FEE_MAX: i64 = 1_000;
/// Largest post-call surcharge, a fraction: 10 is 1000%.
pub const SURCHARGE_MAX: i64 = 10;
/// Longest `interval_1` and `interval_n`, in seconds: a day.
pub const INTERVAL_MAX: i64 = 86_400;
/// Most free seconds (of a rate or a tariff): a day.
pub const FREE_SECONDS_MAX: i64 = 86_400;
/// Longest grace period (of a rate or a tariff), in seconds: a day.
pub const GRACE_PERIOD_MAX: i64 = 86_400;
/// Longest call duration taken (a CDR's, a quote's, online charging's), in
/// seconds: 30 days.
pub const DURATION_MAX: i64 = 30 * 86_400;
/// Largest single recharge, and largest credit limit.
pub const AMOUNT_MAX: i64 = 1_000_000_000;
/// Largest balance a recharge may lead to.
pub const BALANCE_MAX: i64 = 1_000_000_000_000;

/// A whole amount of money as [`Money`].
pub fn money(whole: i64) -> Money {
    Money::rounded(Decimal::from(whole))
}

/// `whole` money in the database's integer units of 1/100000.
pub const fn units(whole: i64) -> i64 {
    whole * 100_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_call_fits_with_room_to_spare() {
        // Billed seconds: at most the duration plus one whole block.
        let billed_seconds = DURATION_MAX + INTERVAL_MAX;
        let minutes = (billed_seconds + 59) / 60;
        let worst = (CONNECT_FEE_MAX + minutes * PRICE_MAX) * (1 + SURCHARGE_MAX);
        assert_eq!(worst, 491_051_000);
        // 10,000 such calls in one CDR batch, on top of the largest balance
        // and credit limit, still fit the stored integers many times over.
        let batch = i128::from(units(worst)) * 10_000;
        let total = batch + i128::from(units(BALANCE_MAX)) + i128::from(units(AMOUNT_MAX));
        assert!(total * 10 < i128::from(i64::MAX));
    }
}
