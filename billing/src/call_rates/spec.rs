//! The rate spec: the columns a rate is read from (with the tariff-wide
//! values a rate falls back to), the fields a list filters and orders by, and
//! the decoding of a row.

use model::call_rate::{CallRateFields, RateType};
use model::query::{FieldKind, FieldSpec, ResourceSpec};
use model::tariff::{RateDirection, StoredRate};
use model::{ApiId, Money};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{Error, Result};

pub(super) const FROM: &str = "call_rates r JOIN tariffs t ON t.id = r.tariff_id";

/// Rate-level values fall back to the tariff's when a rate leaves them unset.
/// Flags are read as 0/1: sqlx's `Any` driver cannot decode SQLite's BOOLEAN.
/// Rows are decoded by these names (each computed column has its own).
pub(super) const COLUMNS: &str = "r.id AS id, r.prefix AS prefix, r.rate_type AS rate_type, \
    COALESCE(r.free_seconds, t.free_seconds) AS free_seconds, \
    COALESCE(r.grace_period, CASE WHEN r.grace_period_enable THEN t.grace_period ELSE 0 END) \
    AS grace_period, \
    r.interval_1 AS interval_1, r.interval_n AS interval_n, \
    COALESCE(r.connect_fee, t.connect_fee) AS connect_fee, \
    COALESCE(r.postcall_surcharge, t.post_call_surcharge) AS postcall_surcharge, \
    r.price_1 AS price_1, r.price_n AS price_n, r.description AS description, \
    r.tariff_id AS tariff_id, r.direction AS direction, r.activation_at AS activation_at, \
    r.expiration_at AS expiration_at, \
    CASE WHEN r.forbidden THEN 1 ELSE 0 END AS forbidden, \
    CASE WHEN r.grace_period_enable THEN 1 ELSE 0 END AS grace_period_enable";

const V22_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("id", "r.id", FieldKind::Id),
    FieldSpec::new("prefix", "r.prefix", FieldKind::Text),
    FieldSpec::new(
        "type",
        "r.rate_type",
        FieldKind::Enum(<model::call_rate::RateType as model::WireEnum>::ALL_WIRE),
    ),
    FieldSpec::new(
        "free_seconds",
        "COALESCE(r.free_seconds, t.free_seconds)",
        FieldKind::Integer,
    ),
    FieldSpec::new(
        "grace_period",
        "COALESCE(r.grace_period, CASE WHEN r.grace_period_enable THEN t.grace_period ELSE 0 END)",
        FieldKind::Integer,
    ),
    FieldSpec::new("interval_1", "r.interval_1", FieldKind::Integer),
    FieldSpec::new("interval_n", "r.interval_n", FieldKind::Integer),
    FieldSpec::new(
        "connect_fee",
        "COALESCE(r.connect_fee, t.connect_fee)",
        FieldKind::Money,
    ),
    FieldSpec::new(
        "postcall_surcharge",
        "COALESCE(r.postcall_surcharge, t.post_call_surcharge)",
        FieldKind::Money,
    ),
    FieldSpec::new("price_1", "r.price_1", FieldKind::Money),
    FieldSpec::new("price_n", "r.price_n", FieldKind::Money),
    FieldSpec::new("description", "r.description", FieldKind::Text),
];

pub static CALL_RATE_SPEC: ResourceSpec = ResourceSpec {
    fields: V22_FIELDS,
    search: &["r.prefix", "r.description"],
    default_order: "r.id",
    decode_id: ApiId::decode,
};

/// The rates of any tariff: the v22 fields and the schedule.
pub static TARIFF_RATE_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        V22_FIELDS[0],
        V22_FIELDS[1],
        V22_FIELDS[2],
        V22_FIELDS[3],
        V22_FIELDS[4],
        V22_FIELDS[5],
        V22_FIELDS[6],
        V22_FIELDS[7],
        V22_FIELDS[8],
        V22_FIELDS[9],
        V22_FIELDS[10],
        V22_FIELDS[11],
        FieldSpec::new(
            "direction",
            "r.direction",
            FieldKind::Enum(<RateDirection as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("activation_at", "r.activation_at", FieldKind::Timestamp),
        FieldSpec::new("expiration_at", "r.expiration_at", FieldKind::Timestamp),
        FieldSpec::new("forbidden", "r.forbidden", FieldKind::Bool),
        FieldSpec::new(
            "grace_period_enable",
            "r.grace_period_enable",
            FieldKind::Bool,
        ),
    ],
    search: &["r.prefix", "r.description"],
    default_order: "r.id",
    decode_id: ApiId::decode,
};

/// SQL that holds when the row `alias`, with the columns [`COLUMNS`] names
/// (`prefix`, `rate_type`, … `description`), has the fields of the rate `r`
/// of tariff `t` as the API shows them (its fallbacks included): what an
/// import calls an unchanged rate.
pub(super) fn same_fields(alias: &str) -> String {
    V22_FIELDS[1..]
        .iter()
        .map(|f| {
            let column = if f.name == "type" {
                "rate_type"
            } else {
                f.name
            };
            format!("{alias}.{column} IS NOT DISTINCT FROM {}", f.column)
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A rate's fields from a row with the columns [`COLUMNS`] names, from
/// either driver (`Any`'s, or PostgreSQL's own for bulk reads).
pub(super) fn fields_from_row<R: Row>(row: &R) -> Result<CallRateFields>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database>,
    String: sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database>,
    i64: sqlx::Type<R::Database>,
{
    Ok(CallRateFields {
        prefix: row.try_get("prefix")?,
        rate_type: row
            .try_get::<String, _>("rate_type")?
            .parse::<RateType>()
            .map_err(Error::internal)?,
        free_seconds: row.try_get("free_seconds")?,
        grace_period: row.try_get("grace_period")?,
        interval_1: row.try_get("interval_1")?,
        interval_n: row.try_get("interval_n")?,
        connect_fee: Money::from_units(row.try_get("connect_fee")?),
        postcall_surcharge: Money::from_units(row.try_get("postcall_surcharge")?),
        price_1: Money::from_units(row.try_get("price_1")?),
        price_n: Money::from_units(row.try_get("price_n")?),
        description: row.try_get("description")?,
    })
}

pub(super) fn stored_from_row(row: &AnyRow) -> Result<StoredRate> {
    Ok(StoredRate {
        id: row.try_get("id")?,
        fields: fields_from_row(row)?,
        tariff_id: row.try_get("tariff_id")?,
        direction: row
            .try_get::<String, _>("direction")?
            .parse::<RateDirection>()
            .map_err(Error::internal)?,
        activation_at: row.try_get("activation_at")?,
        expiration_at: row.try_get("expiration_at")?,
        forbidden: row.try_get::<i64, _>("forbidden")? != 0,
        grace_period_enable: row.try_get::<i64, _>("grace_period_enable")? != 0,
    })
}
