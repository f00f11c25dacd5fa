//! A filter's literals as written, and their checking against a field's
//! kind: each becomes the stored form of its field ([`SqlValue`]), money in
//! exact integer units, timestamps in unix milliseconds, ids decoded.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::filter::error;
use super::{FieldKind, FieldSpec, QueryError, ResourceSpec, SqlValue};

/// Money is stored as integer units of 1/100000.
const MONEY_SCALE: u32 = 5;
const MONEY_UNITS: i64 = 100_000;

/// A literal as written, before it is checked against a field.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Literal {
    Str(String),
    Number(String),
    Bool(bool),
    Null,
}

impl Literal {
    pub(super) fn describe(&self) -> String {
        match self {
            Literal::Str(text) => format!("string '{}'", text.replace('\'', "''")),
            Literal::Number(text) => format!("number {text}"),
            Literal::Bool(b) => b.to_string(),
            Literal::Null => "null".to_owned(),
        }
    }
}

/// Checks a literal against the field's kind and converts it to the
/// stored representation.
pub(super) fn convert(
    spec: &ResourceSpec,
    field: &'static FieldSpec,
    literal: Literal,
) -> Result<SqlValue, QueryError> {
    let mismatch = |literal: &Literal| {
        error(format!(
            "field '{}' in filter expects {}, got {}",
            field.name,
            field.kind.expectation(),
            literal.describe()
        ))
    };
    let out_of_range = |text: &str| {
        error(format!(
            "number {text} is out of range for field '{}' in filter",
            field.name
        ))
    };
    match (field.kind, literal) {
        (FieldKind::Text, Literal::Str(text)) => Ok(SqlValue::Text(text)),
        (FieldKind::Bool, Literal::Bool(b)) => Ok(SqlValue::Bool(b)),
        (FieldKind::Integer, Literal::Number(text)) => {
            if text.contains('.') {
                return Err(mismatch(&Literal::Number(text)));
            }
            text.parse::<i64>()
                .map(SqlValue::Int)
                .map_err(|_| out_of_range(&text))
        }
        (FieldKind::Money, Literal::Number(text)) => match money_units(&text) {
            Ok(units) => Ok(SqlValue::Int(units)),
            Err(MoneyError::TooPrecise) => Err(mismatch(&Literal::Number(text))),
            Err(MoneyError::OutOfRange) => Err(out_of_range(&text)),
        },
        (FieldKind::Enum(allowed), Literal::Str(text)) => {
            if allowed.contains(&text.as_str()) {
                Ok(SqlValue::Text(text))
            } else {
                Err(error(format!(
                    "'{}' is not a valid value for field '{}' in filter; allowed values: {}",
                    text.replace('\'', "''"),
                    field.name,
                    allowed.join(", ")
                )))
            }
        }
        (FieldKind::Timestamp, Literal::Str(text)) => {
            let Ok(at) = OffsetDateTime::parse(&text, &Rfc3339) else {
                return Err(mismatch(&Literal::Str(text)));
            };
            let nanos = at.unix_timestamp_nanos();
            if nanos % 1_000_000 != 0 {
                return Err(error(format!(
                    "timestamp '{text}' for field '{}' in filter is more precise \
                     than a millisecond",
                    field.name
                )));
            }
            i64::try_from(nanos / 1_000_000)
                .map(SqlValue::Int)
                .map_err(|_| mismatch(&Literal::Str(text)))
        }
        (FieldKind::Id, Literal::Str(text)) => match (spec.decode_id)(&text) {
            Some(id) => Ok(SqlValue::Int(id)),
            None => Err(error(format!(
                "'{}' is not a valid id for field '{}' in filter",
                text.replace('\'', "''"),
                field.name
            ))),
        },
        (_, literal) => Err(mismatch(&literal)),
    }
}

enum MoneyError {
    TooPrecise,
    OutOfRange,
}

/// Converts a number literal (`-?digits(.digits)?`) to money units of
/// 1/100000, exactly: trailing zeros do not count as precision.
fn money_units(text: &str) -> Result<i64, MoneyError> {
    let value = Decimal::from_str_exact(text)
        .map_err(|_| MoneyError::OutOfRange)?
        .normalize();
    if value.scale() > MONEY_SCALE {
        return Err(MoneyError::TooPrecise);
    }
    value
        .checked_mul(Decimal::from(MONEY_UNITS))
        .and_then(|units| units.to_i64())
        .ok_or(MoneyError::OutOfRange)
}
