//! The day filters of the portal's lists and reports (calls, ledger, audit
//! log, spend): a day as people type it (`YYYY-MM-DD`), checked the same way
//! in the browser and on the server, and turned into the API's times.

use model::FieldError;

/// A day: (year, month, day).
pub type Day = (u32, u32, u32);

/// `Some(trimmed)` unless blank.
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A day `YYYY-MM-DD` as (year, month, day), when it is one.
pub fn parse_day(text: &str) -> Option<Day> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y) && digits(m) && digits(d)) {
        return None;
    }
    let (y, m, d): Day = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    (y >= 1970 && (1..=12).contains(&m) && d >= 1 && d <= days_in(y, m)).then_some((y, m, d))
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// Unix milliseconds at the start (UTC) of a day [`parse_day`] read.
pub fn day_start_ms((y, m, d): Day) -> i64 {
    // Days from 1970-01-01 by the civil calendar (Howard Hinnant's algorithm).
    let (y, m, d) = (i64::from(y), i64::from(m), i64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000
}

/// The UTC day of unix milliseconds: the inverse of [`day_start_ms`].
pub fn day_of_ms(ms: i64) -> Day {
    // Howard Hinnant's civil-from-days.
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let part = |v: i64| u32::try_from(v).unwrap_or(0);
    (part(y), part(m), part(d))
}

/// A day as people type it: `2026-01-31`.
pub fn day_text((y, m, d): Day) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// The days from `from` to `to`, both included (none when `to` is before).
pub fn days_between(from: Day, to: Day) -> i64 {
    (day_start_ms(to) - day_start_ms(from)) / 86_400_000 + 1
}

/// The day after.
pub fn next_day((y, m, d): Day) -> Day {
    if d < days_in(y, m) {
        (y, m, d + 1)
    } else if m < 12 {
        (y, m + 1, 1)
    } else {
        (y + 1, 1, 1)
    }
}

/// A day's first instant as a quoted filter literal.
pub fn midnight((y, m, d): Day) -> String {
    format!("'{y:04}-{m:02}-{d:02}T00:00:00Z'")
}

/// Checks a from/to pair of days, adding what is wrong at each field, and
/// answers the days that are valid.
pub fn check_day_range(
    from: &Option<String>,
    to: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> (Option<Day>, Option<Day>) {
    let (from, to) = (given(from), given(to));
    let (from_day, to_day) = (from.and_then(parse_day), to.and_then(parse_day));
    if from.is_some() && from_day.is_none() {
        errors.push(FieldError::new("from", "must be a day such as 2026-01-31"));
    }
    if to.is_some() && to_day.is_none() {
        errors.push(FieldError::new("to", "must be a day such as 2026-01-31"));
    }
    if let (Some(from), Some(to)) = (from_day, to_day) {
        if to < from {
            errors.push(FieldError::new("to", "must not be before the first day"));
        }
    }
    (from_day, to_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_days_start_and_its_day_agree() {
        for day in [(1970, 1, 1), (2024, 2, 29), (2026, 12, 31), (2000, 3, 1)] {
            assert_eq!(day_of_ms(day_start_ms(day)), day);
            assert_eq!(day_of_ms(day_start_ms(day) + 86_399_999), day);
        }
        assert_eq!(day_text((2026, 1, 5)), "2026-01-05");
        assert_eq!(days_between((2026, 1, 1), (2026, 1, 1)), 1);
        assert_eq!(days_between((2025, 12, 31), (2026, 1, 30)), 31);
    }
}
