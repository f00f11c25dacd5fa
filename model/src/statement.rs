//! Statements per billing cycle: a tenant's statement settings
//! (`/api/tenant/statement_settings`), the periods its cycle cuts time
//! into, and the tax a statement shows.
//!
//! Periods are in UTC and tile time without gaps: a MONTHLY cycle starts a
//! period at 00:00 on `cycle_day` (1-28) of every month; WEEKLY on weekday
//! `cycle_day` (1 = Monday … 7 = Sunday) of every week; BIWEEKLY on that
//! weekday every other week, counted from the one of the week of Monday
//! 1970-01-05. A period is `[start, end)` in unix milliseconds.
//!
//! The tax is shown, never debited: it is computed on a statement's net
//! charges (call charges less re-rating credits) at the tenant's rate, with
//! exact integer arithmetic, and rounded once per statement to five
//! decimal places, half up (a half away from zero). With `tax_included`
//! the charges already hold it (`tax = charges × r / (100 + r)`); without,
//! it comes on top of them (`tax = charges × r / 100`).

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

use crate::fields::{FieldError, Fields};
use crate::money::Money;

crate::wire_enum! {
    /// How often an account gets a statement.
    pub enum Cycle {
        Weekly = "WEEKLY",
        Biweekly = "BIWEEKLY",
        Monthly = "MONTHLY",
    }
}

crate::wire_enum! {
    /// Whether a statement is still being written.
    pub enum StatementStatus {
        /// Its period has not ended: its figures are read from the ledger.
        Open = "OPEN",
        /// Its period has ended: its figures were written once and never change.
        Closed = "CLOSED",
    }
}

crate::wire_enum! {
    /// The part of a statement a line belongs to.
    pub enum LineSection {
        /// One recharge.
        Recharge = "RECHARGE",
        /// The calls of one type (direction).
        CallType = "CALL_TYPE",
        /// The calls to one destination (matched prefix).
        Destination = "DESTINATION",
        /// Re-rating corrections of one day, or a change of the credit limit.
        Adjustment = "ADJUSTMENT",
        /// What calls in progress took (HOLD) and gave back (RELEASE).
        Held = "HELD",
    }
}

/// The longest tax name.
pub const TAX_NAME_MAX: usize = 40;
/// The highest tax rate, in percent.
pub const TAX_RATE_MAX: i64 = 100;
const MS_PER_DAY: i64 = 86_400_000;
/// Day 4 of the unix epoch, Monday 1970-01-05: where weeks are counted from.
const FIRST_MONDAY_DAY: i64 = 4;

/// A tenant's statement settings, with the documented defaults (monthly
/// from the 1st, no tax).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSettings {
    pub cycle: Cycle,
    pub cycle_day: u8,
    pub tax_name: String,
    /// Percent, at most five decimals.
    pub tax_rate: Money,
    pub tax_included: bool,
}

impl Default for StatementSettings {
    fn default() -> Self {
        StatementSettings {
            cycle: Cycle::Monthly,
            cycle_day: 1,
            tax_name: String::new(),
            tax_rate: Money::ZERO,
            tax_included: false,
        }
    }
}

/// A change to the statement settings: any subset of the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSettingsPatch {
    pub cycle: Option<Cycle>,
    pub cycle_day: Option<i64>,
    pub tax_name: Option<String>,
    pub tax_rate: Option<Money>,
    pub tax_included: Option<bool>,
}

impl Cycle {
    /// The days a period may start on.
    pub fn days(self) -> std::ops::RangeInclusive<i64> {
        match self {
            Cycle::Monthly => 1..=28,
            Cycle::Weekly | Cycle::Biweekly => 1..=7,
        }
    }

    /// What `cycle_day` means for this cycle, for messages.
    fn day_meaning(self) -> &'static str {
        match self {
            Cycle::Monthly => "a day of the month from 1 to 28",
            Cycle::Weekly | Cycle::Biweekly => "a weekday from 1 (Monday) to 7 (Sunday)",
        }
    }

    /// The start of the period holding `at` (the last period start at or
    /// before it); `None` outside the calendar's years.
    pub fn period_start(self, day: u8, at: i64) -> Option<i64> {
        match self {
            Cycle::Weekly => Some(week_start(day, 1, at)),
            Cycle::Biweekly => Some(week_start(day, 2, at)),
            Cycle::Monthly => {
                let date = OffsetDateTime::from_unix_timestamp(at.div_euclid(1000)).ok()?;
                let this = month_start(date.year(), date.month(), day)?;
                if this <= at {
                    Some(this)
                } else {
                    let (year, month) = previous_month(date.year(), date.month());
                    month_start(year, month, day)
                }
            }
        }
    }

    /// The end of a period starting at `start` (the first period start
    /// after it); `None` outside the calendar's years.
    pub fn period_end(self, day: u8, start: i64) -> Option<i64> {
        match self {
            Cycle::Weekly => week_start(day, 1, start).checked_add(7 * MS_PER_DAY),
            Cycle::Biweekly => week_start(day, 2, start).checked_add(14 * MS_PER_DAY),
            Cycle::Monthly => {
                let date = OffsetDateTime::from_unix_timestamp(start.div_euclid(1000)).ok()?;
                let this = month_start(date.year(), date.month(), day)?;
                if this > start {
                    Some(this)
                } else {
                    let (year, month) = next_month(date.year(), date.month());
                    month_start(year, month, day)
                }
            }
        }
    }
}

/// The last start at or before `at` of periods of `weeks` weeks beginning on
/// weekday `day` (1 = Monday).
fn week_start(day: u8, weeks: i64, at: i64) -> i64 {
    let length = weeks * 7 * MS_PER_DAY;
    let anchor = (FIRST_MONDAY_DAY + i64::from(day.clamp(1, 7)) - 1) * MS_PER_DAY;
    // |at| is far below i64::MAX / 2 for any time a clock gives.
    let since = at.saturating_sub(anchor);
    anchor.saturating_add(since.div_euclid(length).saturating_mul(length))
}

fn month_start(year: i32, month: Month, day: u8) -> Option<i64> {
    let date = Date::from_calendar_date(year, month, day.clamp(1, 28)).ok()?;
    let seconds = date.midnight().assume_utc().unix_timestamp();
    seconds.checked_mul(1000)
}

fn previous_month(year: i32, month: Month) -> (i32, Month) {
    match month {
        Month::January => (year - 1, Month::December),
        m => (year, m.previous()),
    }
}

fn next_month(year: i32, month: Month) -> (i32, Month) {
    match month {
        Month::December => (year + 1, Month::January),
        m => (year, m.next()),
    }
}

impl StatementSettingsPatch {
    /// Reads a request body, naming each bad field.
    pub fn from_json(
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new(body);
        let patch = StatementSettingsPatch {
            cycle: f.enumeration("cycle"),
            cycle_day: f.int("cycle_day", 1, 28),
            tax_name: f
                .text("tax_name", TAX_NAME_MAX)
                .map(|t| t.trim().to_string()),
            tax_rate: f.money_in(
                "tax_rate",
                Money::ZERO,
                Money::from_units(TAX_RATE_MAX * 100_000),
            ),
            tax_included: f.bool("tax_included"),
        };
        f.finish().map(|()| patch)
    }

    /// The settings after the change, checked as a whole: the day must fit
    /// the cycle, and a tax rate needs a name.
    pub fn apply(self, to: &StatementSettings) -> Result<StatementSettings, Vec<FieldError>> {
        let cycle = self.cycle.unwrap_or(to.cycle);
        let day = self.cycle_day.unwrap_or(i64::from(to.cycle_day));
        let mut errors = Vec::new();
        let cycle_day = match u8::try_from(day) {
            Ok(d) if cycle.days().contains(&day) => d,
            _ => {
                errors.push(FieldError::new(
                    "cycle_day",
                    format!("must be {} for a {cycle} cycle", cycle.day_meaning()),
                ));
                1
            }
        };
        let next = StatementSettings {
            cycle,
            cycle_day,
            tax_name: self.tax_name.unwrap_or_else(|| to.tax_name.clone()),
            tax_rate: self.tax_rate.unwrap_or(to.tax_rate),
            tax_included: self.tax_included.unwrap_or(to.tax_included),
        };
        if next.tax_rate != Money::ZERO && next.tax_name.is_empty() {
            errors.push(FieldError::new(
                "tax_name",
                "is required when there is a tax rate",
            ));
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(errors)
        }
    }
}

/// The days a period `[start, end)` (RFC 3339 times) covers, as people
/// read them: its first day and its last (the day before `end`), `YYYY-MM-DD`.
pub fn period_days(start: &str, end: &str) -> Option<(String, String)> {
    use time::format_description::well_known::Rfc3339;
    let start = OffsetDateTime::parse(start, &Rfc3339).ok()?;
    let end = OffsetDateTime::parse(end, &Rfc3339).ok()?;
    let last = (end - time::Duration::MILLISECOND).date();
    Some((start.date().to_string(), last.to_string()))
}

/// The tax on `charges` (units of 1/100000) at `rate` (percent, units of
/// 1/100000): exact, rounded once to a unit, half away from zero. `None`
/// beyond the stored integers (never for amounts within the bounds).
pub fn tax_units(charges: i64, rate: i64, included: bool) -> Option<i64> {
    // charges × (rate / 100000) / 100, or / (100 + rate / 100000).
    let numerator = i128::from(charges).checked_mul(i128::from(rate))?;
    let denominator = if included {
        10_000_000i128.checked_add(i128::from(rate))?
    } else {
        10_000_000i128
    };
    if denominator <= 0 {
        return None;
    }
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    // Half or more away from zero rounds away from zero.
    let rounded = if remainder.abs() * 2 >= denominator {
        quotient + numerator.signum()
    } else {
        quotient
    };
    i64::try_from(rounded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WireEnum;
    use proptest::prelude::*;
    use rust_decimal::{Decimal, RoundingStrategy};
    use serde_json::json;

    fn at(text: &str) -> i64 {
        let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .expect("a time");
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).expect("in range")
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        assert_eq!(
            serde_json::to_value(StatementSettings::default()).expect("serializes"),
            json!({"cycle": "MONTHLY", "cycle_day": 1, "tax_name": "", "tax_rate": 0, "tax_included": false})
        );
    }

    #[test]
    fn monthly_periods_start_on_their_day() {
        let c = Cycle::Monthly;
        assert_eq!(
            c.period_start(1, at("2026-03-15T10:00:00Z")),
            Some(at("2026-03-01T00:00:00Z"))
        );
        assert_eq!(
            c.period_end(1, at("2026-03-01T00:00:00Z")),
            Some(at("2026-04-01T00:00:00Z"))
        );
        assert_eq!(
            c.period_start(15, at("2026-03-14T23:59:59Z")),
            Some(at("2026-02-15T00:00:00Z"))
        );
        assert_eq!(
            c.period_start(15, at("2026-03-15T00:00:00Z")),
            Some(at("2026-03-15T00:00:00Z"))
        );
        assert_eq!(
            c.period_end(15, at("2026-12-15T00:00:00Z")),
            Some(at("2027-01-15T00:00:00Z"))
        );
        assert_eq!(
            c.period_start(28, at("2026-01-03T00:00:00Z")),
            Some(at("2025-12-28T00:00:00Z"))
        );
        // A period that started on another day ends at the next start.
        assert_eq!(
            c.period_end(1, at("2026-03-10T00:00:00Z")),
            Some(at("2026-04-01T00:00:00Z"))
        );
    }

    #[test]
    fn weekly_periods_start_on_their_weekday() {
        // 2026-03-16 is a Monday.
        let c = Cycle::Weekly;
        assert_eq!(
            c.period_start(1, at("2026-03-18T12:00:00Z")),
            Some(at("2026-03-16T00:00:00Z"))
        );
        assert_eq!(
            c.period_end(1, at("2026-03-16T00:00:00Z")),
            Some(at("2026-03-23T00:00:00Z"))
        );
        assert_eq!(
            c.period_start(7, at("2026-03-18T12:00:00Z")),
            Some(at("2026-03-15T00:00:00Z"))
        );
        let b = Cycle::Biweekly;
        let start = b
            .period_start(1, at("2026-03-18T12:00:00Z"))
            .expect("start");
        let end = b.period_end(1, start).expect("end");
        assert_eq!(end - start, 14 * MS_PER_DAY);
        assert!(start <= at("2026-03-18T12:00:00Z") && at("2026-03-18T12:00:00Z") < end);
        assert_eq!(
            b.period_start(1, at("1970-01-05T00:00:00Z")),
            Some(at("1970-01-05T00:00:00Z"))
        );
        assert_eq!(
            b.period_start(1, at("1970-01-12T00:00:00Z")),
            Some(at("1970-01-05T00:00:00Z"))
        );
    }

    proptest! {
        /// Periods tile time: each holds its instant, and the next one starts
        /// where it ends, on every cycle and day.
        #[test]
        fn periods_tile_time(t in 0i64..4_102_444_800_000, cycle in 0usize..3, day in 1u8..=28) {
            let cycle = Cycle::ALL[cycle];
            let day = if cycle == Cycle::Monthly { day } else { (day - 1) % 7 + 1 };
            let start = cycle.period_start(day, t).expect("start");
            let end = cycle.period_end(day, start).expect("end");
            prop_assert!(start <= t && t < end);
            prop_assert_eq!(cycle.period_start(day, end), Some(end));
            prop_assert_eq!(cycle.period_start(day, end - 1), Some(start));
            prop_assert!(end - start <= 31 * MS_PER_DAY);
        }

        /// The integer tax is the exact decimal rounded once, half away from zero.
        #[test]
        fn tax_is_exact_and_rounded_once(charges in -10_000_000_000_000i64..10_000_000_000_000, rate in 0i64..=10_000_000, included: bool) {
            let c = Decimal::new(charges, 5);
            let r = Decimal::new(rate, 5);
            let exact = if included { c * r / (Decimal::ONE_HUNDRED + r) } else { c * r / Decimal::ONE_HUNDRED };
            let reference = exact.round_dp_with_strategy(5, RoundingStrategy::MidpointAwayFromZero);
            let got = tax_units(charges, rate, included).expect("fits");
            // Decimal's quotient keeps 28 digits; a quotient that is not a
            // midpoint lies at least 1/(2 × 10^7) of a unit from one (its
            // denominator is at most 2 × 10^7 units), far above that
            // precision, so the reference rounds as the exact value does.
            prop_assert_eq!(Decimal::new(got, 5), reference);
        }
    }

    #[test]
    fn periods_read_as_their_days() {
        assert_eq!(
            period_days("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
            Some(("2026-11-01".into(), "2026-11-30".into()))
        );
        assert_eq!(period_days("x", "2026-12-01T00:00:00Z"), None);
    }

    #[test]
    fn tax_rounds_half_away_from_zero() {
        // 0.00001 × 50% = 0.000005 → 0.00001; and its negative.
        assert_eq!(tax_units(1, 5_000_000, false), Some(1));
        assert_eq!(tax_units(-1, 5_000_000, false), Some(-1));
        // 10.00000 at 20% included: 10 × 20 / 120 = 1.666666… → 1.66667.
        assert_eq!(tax_units(1_000_000, 2_000_000, true), Some(166_667));
        assert_eq!(tax_units(1_000_000, 2_000_000, false), Some(200_000));
        assert_eq!(tax_units(1_000_000, 0, true), Some(0));
    }

    #[test]
    fn patches_are_checked_as_a_whole() {
        let current = StatementSettings::default();
        let body = json!({"cycle": "WEEKLY", "cycle_day": 15});
        let patch =
            StatementSettingsPatch::from_json(body.as_object().expect("object")).expect("reads");
        let errors = patch.apply(&current).expect_err("day 15 of a week");
        assert_eq!(errors[0].field, "cycle_day");
        let body = json!({"tax_rate": 20});
        let patch =
            StatementSettingsPatch::from_json(body.as_object().expect("object")).expect("reads");
        assert_eq!(
            patch.apply(&current).expect_err("no name")[0].field,
            "tax_name"
        );
        let body =
            json!({"tax_rate": 20, "tax_name": " VAT ", "cycle": "BIWEEKLY", "cycle_day": 5});
        let patch =
            StatementSettingsPatch::from_json(body.as_object().expect("object")).expect("reads");
        let next = patch.apply(&current).expect("valid");
        assert_eq!(next.tax_name, "VAT");
        assert_eq!(next.cycle_day, 5);
        let body = json!({"tax_rate": 100.000001, "cycle": "DAILY", "cycle_day": 0, "tax_included": "yes"});
        let errors =
            StatementSettingsPatch::from_json(body.as_object().expect("object")).expect_err("bad");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cycle", "cycle_day", "tax_rate", "tax_included"]);
    }
}
