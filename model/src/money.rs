//! Exact money.
//!
//! Amounts are `rust_decimal::Decimal` from the JSON edge to the ledger. On the
//! wire they are JSON numbers written with exactly their decimal digits (never
//! through binary floating point); in the database they are integers of 1/100000 (five decimal
//! places, the precision the API documents).

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Decimal places kept for money.
pub const SCALE: u32 = 5;
const UNITS_PER_ONE: i64 = 100_000;

/// An exact amount of money (or a money-like fraction such as a surcharge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why a value is not acceptable money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    NotANumber,
    TooPrecise,
    OutOfRange,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyError::NotANumber => "must be a number",
            MoneyError::TooPrecise => "must have at most 5 decimal places",
            MoneyError::OutOfRange => "is out of range",
        })
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Exact money from a decimal, refusing more than five decimal places.
    pub fn new(value: Decimal) -> Result<Money, MoneyError> {
        let normalized = value.normalize();
        if normalized.scale() > SCALE {
            return Err(MoneyError::TooPrecise);
        }
        Money(normalized).to_units()?;
        Ok(Money(normalized))
    }

    /// Rounds half away from zero to five decimal places.
    pub fn rounded(value: Decimal) -> Money {
        Money(value.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointAwayFromZero))
    }

    /// From integer units of 1/100000, as stored. Every `i64` is exactly a
    /// decimal of scale 5 (a `Decimal` holds 96 bits), so this cannot fail;
    /// the way back, [`Money::to_units`], can.
    pub fn from_units(units: i64) -> Money {
        Money(Decimal::new(units, SCALE).normalize())
    }

    /// Integer units of 1/100000, as stored. An amount too large for them is
    /// `OutOfRange` (never an overflow).
    pub fn to_units(self) -> Result<i64, MoneyError> {
        Money::units_of(self.0)
    }

    /// Integer units of 1/100000 of an exact decimal (for example a rated
    /// amount): more than five decimal places is `TooPrecise`, beyond the
    /// stored integers `OutOfRange`.
    pub fn units_of(value: Decimal) -> Result<i64, MoneyError> {
        let scaled = value
            .checked_mul(Decimal::from(UNITS_PER_ONE))
            .ok_or(MoneyError::OutOfRange)?;
        if scaled.fract() != Decimal::ZERO {
            return Err(MoneyError::TooPrecise);
        }
        scaled.to_i64().ok_or(MoneyError::OutOfRange)
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// The text written on the wire: exact digits, no exponent, no trailing zeros.
    pub fn to_wire(self) -> String {
        self.0.normalize().to_string()
    }

    /// Five decimal places, for tables and statements (e.g. `0.17600`).
    pub fn to_fixed(self) -> String {
        format!("{:.5}", self.0)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Money, MoneyError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MoneyError::NotANumber);
        }
        let value = Decimal::from_str_exact(s)
            .or_else(|_| Decimal::from_scientific(s))
            .map_err(|_| match crate::number::Magnitude::of(s) {
                // A number, only beyond what a decimal holds (`1e300`, `1e-300`).
                Some(m) if m.at_least_one() => MoneyError::OutOfRange,
                Some(_) => MoneyError::TooPrecise,
                None => MoneyError::NotANumber,
            })?;
        Money::new(value)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl From<Money> for Decimal {
    fn from(m: Money) -> Decimal {
        m.0
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let number =
            serde_json::Number::from_str(&self.to_wire()).map_err(serde::ser::Error::custom)?;
        number.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let value = rust_decimal::serde::arbitrary_precision::deserialize(deserializer)?;
        Money::new(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn json_numbers_stay_exact() {
        let m: Money = serde_json::from_str("0.1").expect("parses");
        assert_eq!(m.0, dec!(0.1));
        assert_eq!(serde_json::to_string(&m).expect("writes"), "0.1");
        let m: Money = serde_json::from_str("0.12345").expect("parses");
        assert_eq!(serde_json::to_string(&m).expect("writes"), "0.12345");
        let m: Money = serde_json::from_str("123456789.00001").expect("parses");
        assert_eq!(m.to_units(), Ok(12_345_678_900_001));
    }

    #[test]
    fn more_than_five_decimals_is_refused() {
        assert!(serde_json::from_str::<Money>("0.123456").is_err());
        assert_eq!("0.123456".parse::<Money>(), Err(MoneyError::TooPrecise));
        assert_eq!(
            "0.1234500".parse::<Money>().map(|m| m.to_wire()),
            Ok("0.12345".into())
        );
    }

    #[test]
    fn units_round_trip() {
        for units in [0, 1, 5, 100_000, 123_456_789, -42] {
            assert_eq!(Money::from_units(units).to_units(), Ok(units));
        }
        assert_eq!(Money::from_units(10_000).to_wire(), "0.1");
        assert_eq!(Money::from_units(17_600).to_fixed(), "0.17600");
    }

    #[test]
    fn huge_amounts_are_out_of_range_not_a_panic() {
        for huge in [
            "8e26",
            "79228162514264337593543950335",
            "-8e26",
            "1e23",
            "1e300",
        ] {
            assert_eq!(huge.parse::<Money>(), Err(MoneyError::OutOfRange), "{huge}");
            assert!(serde_json::from_str::<Money>(huge).is_err(), "{huge}");
        }
        assert_eq!(Money(Decimal::MAX).to_units(), Err(MoneyError::OutOfRange));
        assert!("92233720368547.75807".parse::<Money>().is_ok());
    }

    #[test]
    fn text_that_is_not_a_number_is_refused() {
        for bad in ["", "abc", "1.2.3", "NaN"] {
            assert_eq!(bad.parse::<Money>(), Err(MoneyError::NotANumber), "{bad}");
        }
    }
}
