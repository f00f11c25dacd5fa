//! Reading fields of a JSON object with errors that name the field.
//!
//! Request bodies are first parsed as a JSON object and then read field by
//! field, so a wrong type answers `VALIDATE_FAILED` naming the field (as an
//! integrator expects) rather than a generic parse error. All errors of a body
//! are collected so a form can show each one next to its field.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::money::Money;

/// One problem with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// A JSON object being read, with the errors found so far.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            map,
            errors: Vec::new(),
        }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Errors collected so far; `Ok` when there were none.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    pub fn has(&self, field: &str) -> bool {
        self.map.get(field).is_some_and(|v| !v.is_null())
    }

    fn present(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// A string; `None` when absent or null.
    pub fn string(&mut self, field: &str) -> Option<String> {
        match self.present(field)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.error(field, "must be a string");
                None
            }
        }
    }

    /// An ISO 4217 currency code, in upper case; `None` when absent or null.
    pub fn currency(&mut self, field: &str) -> Option<String> {
        let code = self.string(field)?;
        match crate::currency::parse_currency(&code) {
            Ok(code) => Some(code),
            Err(m) => {
                self.error(field, m);
                None
            }
        }
    }

    /// A whole number in `min..=max`; `None` when absent or null.
    pub fn int(&mut self, field: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.present(field)?;
        let parsed = match value {
            Value::Number(n) => n.as_i64().or_else(|| {
                // `60.0` is still a whole number to most clients.
                rust_decimal::Decimal::from_str(&n.to_string())
                    .ok()
                    .filter(|d| d.fract().is_zero())
                    .and_then(|d| i64::try_from(d.mantissa() / 10i128.pow(d.scale())).ok())
            }),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n < min => {
                self.error(field, format!("must be at least {min}"));
                None
            }
            Some(n) if n > max => {
                self.error(field, format!("must be at most {max}"));
                None
            }
            Some(n) => Some(n),
            None => {
                // A whole number beyond 64 bits is still named by its bound.
                let number = match value {
                    Value::Number(n) => crate::number::Magnitude::of(&n.to_string()),
                    Value::String(s) => crate::number::Magnitude::of(s),
                    _ => None,
                };
                // 10^19 and beyond is past every 64-bit bound.
                match number.filter(|m| m.whole && m.leading.is_some_and(|p| p >= 19)) {
                    Some(m) if !m.negative => self.error(field, format!("must be at most {max}")),
                    Some(_) => self.error(field, format!("must be at least {min}")),
                    _ => self.error(field, "must be a whole number"),
                }
                None
            }
        }
    }

    /// Exact money (a JSON number, or a string holding one); `min` bounds it below.
    pub fn money(&mut self, field: &str, min: Option<Money>) -> Option<Money> {
        self.money_bounded(field, min, None)
    }

    /// Exact money in `min..=max` (a JSON number, or a string holding one).
    pub fn money_in(&mut self, field: &str, min: Money, max: Money) -> Option<Money> {
        self.money_bounded(field, Some(min), Some(max))
    }

    fn money_bounded(
        &mut self,
        field: &str,
        min: Option<Money>,
        max: Option<Money>,
    ) -> Option<Money> {
        let value = self.present(field)?;
        let text = match value {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        };
        let parsed = text.as_deref().map_or(
            Err(crate::money::MoneyError::NotANumber),
            str::parse::<Money>,
        );
        let negative = text.as_deref().is_some_and(|t| t.trim().starts_with('-'));
        match (parsed, min, max) {
            (Ok(m), Some(min), _) if m < min => {
                self.error(field, format!("must be at least {min}"));
                None
            }
            (Ok(m), _, Some(max)) if m > max => {
                self.error(field, format!("must be at most {max}"));
                None
            }
            (Ok(m), _, _) => Some(m),
            // A number too large for any amount is still named by its bound.
            (Err(crate::money::MoneyError::OutOfRange), Some(min), _) if negative => {
                self.error(field, format!("must be at least {min}"));
                None
            }
            (Err(crate::money::MoneyError::OutOfRange), _, Some(max)) if !negative => {
                self.error(field, format!("must be at most {max}"));
                None
            }
            (Err(e), _, _) => {
                self.error(field, e.to_string());
                None
            }
        }
    }

    pub fn bool(&mut self, field: &str) -> Option<bool> {
        match self.present(field)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.error(field, "must be true or false");
                None
            }
        }
    }

    /// A required number of seconds, from 0 to [`crate::bounds::DURATION_MAX`]
    /// (a fraction is rounded up to the next second, as docs/rating.md rates
    /// it): a call's duration or the seconds it has used.
    pub fn seconds(&mut self, field: &str) -> Option<u64> {
        let max = crate::bounds::DURATION_MAX;
        let not_seconds = "must be a number of seconds, at least 0";
        match self.map.get(field) {
            Some(Value::Number(n)) => {
                let text = n.to_string();
                match rust_decimal::Decimal::from_str_exact(&text)
                    .or_else(|_| rust_decimal::Decimal::from_scientific(&text))
                {
                    Ok(d) if !d.is_sign_negative() => {
                        let seconds = if d.is_zero() {
                            0
                        } else {
                            u64::try_from(d.ceil()).unwrap_or(u64::MAX)
                        };
                        if seconds > max.unsigned_abs() {
                            self.error(field, format!("must be at most {max}"));
                            return None;
                        }
                        Some(seconds)
                    }
                    // Beyond what a decimal holds (`8e26`, `1e400`).
                    Err(_) if !text.starts_with('-') => {
                        self.error(field, format!("must be at most {max}"));
                        None
                    }
                    _ => {
                        self.error(field, not_seconds);
                        None
                    }
                }
            }
            Some(Value::Null) | None => {
                self.error(field, "is required");
                None
            }
            Some(_) => {
                self.error(field, not_seconds);
                None
            }
        }
    }

    /// An RFC 3339 time (`2017-07-21T17:32:28Z`), as unix milliseconds.
    pub fn timestamp(&mut self, field: &str) -> Option<i64> {
        let value = self.present(field)?;
        let parsed = value.as_str().and_then(|text| {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
        });
        match parsed.and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()) {
            Some(ms) => Some(ms),
            None => {
                self.error(
                    field,
                    "must be an RFC 3339 time such as 2017-07-21T17:32:28Z",
                );
                None
            }
        }
    }

    /// A string of at most `max` characters.
    pub fn text(&mut self, field: &str, max: usize) -> Option<String> {
        let value = self.string(field)?;
        if value.chars().count() > max {
            self.error(field, format!("must be at most {max} characters"));
            return None;
        }
        Some(value)
    }

    /// One of an enumeration's wire names.
    pub fn enumeration<E: WireEnum>(&mut self, field: &str) -> Option<E> {
        let value = self.present(field)?;
        let parsed = value.as_str().and_then(E::from_wire);
        if parsed.is_none() {
            self.error(field, format!("must be one of {}", E::ALL_WIRE.join(", ")));
        }
        parsed
    }

    /// Reports a missing required field.
    pub fn require<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() && !self.has(field) {
            self.error(field, "is required");
        }
        value
    }
}

/// An enumeration with fixed upper-case names on the wire.
pub trait WireEnum: Sized + Copy + 'static {
    const ALL: &'static [Self];
    const ALL_WIRE: &'static [&'static str];
    fn wire(self) -> &'static str;
    fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.wire() == s)
    }
}

/// Declares an enum whose serde form and database text are the given names.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $crate::fields::WireEnum for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const ALL_WIRE: &'static [&'static str] = &[$($wire),+];
            fn wire(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::fields::WireEnum::wire(*self))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                <Self as $crate::fields::WireEnum>::from_wire(s).ok_or_else(|| {
                    format!("must be one of {}", <Self as $crate::fields::WireEnum>::ALL_WIRE.join(", "))
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    crate::wire_enum! {
        enum Colour { Red = "RED", Blue = "BLUE" }
    }

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn seconds_round_up_and_are_bounded() {
        let body = object(json!({
            "whole": 60, "fraction": 60.2, "zero": 0, "huge": 8e26, "over": 2_592_001,
            "negative": -1, "text": "60", "null": null
        }));
        let mut f = Fields::new(&body);
        assert_eq!(f.seconds("whole"), Some(60));
        assert_eq!(f.seconds("fraction"), Some(61));
        assert_eq!(f.seconds("zero"), Some(0));
        assert_eq!(f.seconds("huge"), None);
        assert_eq!(f.seconds("over"), None);
        assert_eq!(f.seconds("negative"), None);
        assert_eq!(f.seconds("text"), None);
        assert_eq!(f.seconds("null"), None);
        assert_eq!(f.seconds("absent"), None);
        let errors = f.finish().expect_err("errors were found");
        let named: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("huge", "must be at most 2592000"),
                ("over", "must be at most 2592000"),
                ("negative", "must be a number of seconds, at least 0"),
                ("text", "must be a number of seconds, at least 0"),
                ("null", "is required"),
                ("absent", "is required"),
            ]
        );
    }

    #[test]
    fn reads_every_kind_and_names_bad_fields() {
        let body = object(json!({
            "a": "text", "n": 60, "m": 0.1, "b": true, "c": "BLUE",
            "bad_n": "x", "low": 0, "bad_m": 0.123456, "bad_c": "GREEN"
        }));
        let mut f = Fields::new(&body);
        assert_eq!(f.string("a"), Some("text".into()));
        assert_eq!(f.int("n", 1, 100), Some(60));
        assert_eq!(f.money("m", None).map(|m| m.to_wire()), Some("0.1".into()));
        assert_eq!(f.bool("b"), Some(true));
        assert_eq!(f.enumeration::<Colour>("c"), Some(Colour::Blue));
        assert_eq!(f.int("bad_n", 0, 10), None);
        assert_eq!(f.int("low", 1, 10), None);
        assert_eq!(f.money("bad_m", None), None);
        assert_eq!(f.enumeration::<Colour>("bad_c"), None);
        let missing = f.string("absent");
        assert_eq!(f.require("absent", missing), None);
        let errors = f.finish().expect_err("errors were found");
        let named: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["bad_n", "low", "bad_m", "bad_c", "absent"]);
        assert_eq!(errors[3].message, "must be one of RED, BLUE");
    }
}
