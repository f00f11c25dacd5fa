//! Dates of the XML-RPC methods: `dateTime.iso8601` in UTC
//! (`20170529T09:57:29`, also with dashes, colons and a `Z`) or the string
//! form `'%H:%M:%S.000 GMT %a %b %d %Y'` (`09:57:29.000 GMT Mon May 29 2017`).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

const MONTHS: [(&str, Month); 12] = [
    ("Jan", Month::January),
    ("Feb", Month::February),
    ("Mar", Month::March),
    ("Apr", Month::April),
    ("May", Month::May),
    ("Jun", Month::June),
    ("Jul", Month::July),
    ("Aug", Month::August),
    ("Sep", Month::September),
    ("Oct", Month::October),
    ("Nov", Month::November),
    ("Dec", Month::December),
];

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("Mon", Weekday::Monday),
    ("Tue", Weekday::Tuesday),
    ("Wed", Weekday::Wednesday),
    ("Thu", Weekday::Thursday),
    ("Fri", Weekday::Friday),
    ("Sat", Weekday::Saturday),
    ("Sun", Weekday::Sunday),
];

fn ms_of(date: Date, time: Time) -> i64 {
    let t = PrimitiveDateTime::new(date, time).assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, &'static str> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a date");
    }
    text.parse().map_err(|_| "is not a date")
}

/// `HH:MM:SS` with optional `.fff`.
fn clock(text: &str) -> Result<Time, &'static str> {
    let (hms, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut parts = hms.split(':');
    let (Some(h), Some(m), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("has no HH:MM:SS time");
    };
    let millis: u16 = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction.chars().chain("000".chars()).take(3).collect();
        number(&digits)?
    };
    Time::from_hms_milli(number(h)?, number(m)?, number(s)?, millis)
        .map_err(|_| "has a time out of range")
}

/// A `dateTime.iso8601` value, taken as UTC.
pub fn parse_iso8601(text: &str) -> Result<i64, &'static str> {
    let text = text.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    let text = text.strip_suffix("+00:00").unwrap_or(text);
    let (day, clock_text) = text
        .split_once('T')
        .ok_or("has no 'T' between date and time")?;
    let digits: String = day.chars().filter(|c| *c != '-').collect();
    if digits.len() != 8 {
        return Err("has no YYYYMMDD date");
    }
    let year: i32 = number(&digits[..4])?;
    let month: u8 = number(&digits[4..6])?;
    let day: u8 = number(&digits[6..])?;
    let month = Month::try_from(month).map_err(|_| "has a month out of range")?;
    let date = Date::from_calendar_date(year, month, day).map_err(|_| "has a day out of range")?;
    Ok(ms_of(date, clock(clock_text)?))
}

/// The string form, e.g. `09:57:29.000 GMT Mon May 29 2017`.
pub fn parse_text(text: &str) -> Result<i64, &'static str> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [clock_text, zone, weekday, month, day, year] = words.as_slice() else {
        return Err("is not a date");
    };
    if !zone.eq_ignore_ascii_case("GMT") && !zone.eq_ignore_ascii_case("UTC") {
        return Err("is not in GMT");
    }
    let month = MONTHS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(month))
        .map(|(_, m)| *m)
        .ok_or("has an unknown month")?;
    let weekday = WEEKDAYS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(weekday))
        .map(|(_, w)| *w)
        .ok_or("has an unknown weekday")?;
    let date = Date::from_calendar_date(number(year)?, month, number(day)?)
        .map_err(|_| "has a day out of range")?;
    if date.weekday() != weekday {
        return Err("names the wrong weekday for its date");
    }
    Ok(ms_of(date, clock(clock_text)?))
}

fn utc(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `dateTime.iso8601` text of unix milliseconds (`20170529T09:57:29`).
pub fn iso8601(ms: i64) -> String {
    let t = utc(ms);
    format!(
        "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// RFC 3339 text of unix milliseconds.
pub fn rfc3339(ms: i64) -> String {
    billing::time::rfc3339(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAY_29: i64 = 1_496_051_849_000; // 2017-05-29T09:57:29Z

    #[test]
    fn both_documented_forms_read_as_utc() {
        assert_eq!(parse_iso8601("20170529T09:57:29"), Ok(MAY_29));
        assert_eq!(parse_iso8601("2017-05-29T09:57:29Z"), Ok(MAY_29));
        assert_eq!(parse_text("09:57:29.000 GMT Mon May 29 2017"), Ok(MAY_29));
        assert_eq!(
            parse_text("13:57:29.000 GMT Mon May 29 2017"),
            Ok(MAY_29 + 4 * 3_600_000)
        );
        assert_eq!(iso8601(MAY_29), "20170529T09:57:29");
    }

    #[test]
    fn bad_dates_say_why() {
        assert!(parse_text("09:57:29.000 GMT Tue May 29 2017").is_err());
        assert!(parse_text("09:57:29.000 GMT Mon Mai 29 2017").is_err());
        assert!(parse_text("25:57:29.000 GMT Mon May 29 2017").is_err());
        assert!(parse_text("yesterday").is_err());
        assert!(parse_iso8601("20170230T00:00:00").is_err());
        assert!(parse_iso8601("2017-05-29").is_err());
    }
}
