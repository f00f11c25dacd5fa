//! Times on the wire: RFC 3339 in UTC, stored as unix milliseconds.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// RFC 3339 text (`2017-07-21T17:32:28Z`) of unix milliseconds.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.replace_nanosecond(0).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_whole_seconds_in_utc() {
        assert_eq!(rfc3339(1_500_658_348_000), "2017-07-21T17:32:28Z");
        assert_eq!(rfc3339(1_500_658_348_999), "2017-07-21T17:32:28Z");
    }
}
