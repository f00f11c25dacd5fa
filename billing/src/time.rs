//! Times on the wire: RFC 3339 in UTC, stored as unix milliseconds.

use model::FieldError;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// RFC 3339 text (`2017-07-21T17:32:28Z`) of unix milliseconds.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.replace_nanosecond(0).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Refuses a range `from`..`to` of unix ms that a rollup in steps of `step_ms`
/// cannot answer: both ends must fall on a step (`on_step` says how, such as
/// "must be on the hour, such as ..."), `to` must come after `from`, and the
/// two may be at most `max_days` days apart. Errors name the field at fault.
pub fn validate_stepped_range(
    from: i64,
    to: i64,
    step_ms: i64,
    on_step: &str,
    max_days: i64,
) -> Result<()> {
    const DAY_MS: i64 = 86_400_000;
    let mut errors = Vec::new();
    for (field, value) in [("from", from), ("to", to)] {
        if value.rem_euclid(step_ms) != 0 {
            errors.push(FieldError::new(field, on_step));
        }
    }
    if to <= from {
        errors.push(FieldError::new("to", "must be after from"));
    } else if to - from > max_days * DAY_MS {
        errors.push(FieldError::new(
            "to",
            format!("must be at most {max_days} days after from"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
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
