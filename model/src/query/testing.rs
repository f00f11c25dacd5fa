//! Resources used by the tests of this module.

use super::{FieldKind, FieldSpec, ResourceSpec};

pub(crate) const RATE_TYPES: &[&str] = &["LOCAL", "NATIONAL", "INTERNATIONAL", "MOBILE"];

/// Test ids look like `rt_42`.
pub(crate) fn decode_id(text: &str) -> Option<i64> {
    text.strip_prefix("rt_")?.parse().ok()
}

/// Shaped like the call-rates list.
pub(crate) static RATES: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("prefix", "prefix", FieldKind::Text),
        FieldSpec::new("type", "rate_type", FieldKind::Enum(RATE_TYPES)),
        FieldSpec::new("free_seconds", "free_seconds", FieldKind::Integer),
        FieldSpec::new("grace_period", "grace_period", FieldKind::Integer),
        FieldSpec::new("interval_1", "interval_1", FieldKind::Integer),
        FieldSpec::new("interval_n", "interval_n", FieldKind::Integer),
        FieldSpec::new("connect_fee", "connect_fee", FieldKind::Money),
        FieldSpec::new("postcall_surcharge", "postcall_surcharge", FieldKind::Money),
        FieldSpec::new("price_1", "price_1", FieldKind::Money),
        FieldSpec::new("price_n", "price_n", FieldKind::Money),
        FieldSpec::new("description", "description", FieldKind::Text),
    ],
    search: &["prefix", "description"],
    default_order: "id",
    decode_id,
};

/// Covers the kinds and flags `RATES` does not.
pub(crate) static EVENTS: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "e.id", FieldKind::Id),
        FieldSpec::new("created", "e.created_ms", FieldKind::Timestamp),
        FieldSpec::new("active", "e.active", FieldKind::Bool),
        FieldSpec::new("notes", "e.notes", FieldKind::Text).unsortable(),
        FieldSpec::new("secret", "e.secret", FieldKind::Text).unfilterable(),
    ],
    search: &["e.notes"],
    default_order: "e.id",
    decode_id,
};

/// A resource without free-text search.
pub(crate) static PLAIN: ResourceSpec = ResourceSpec {
    fields: &[FieldSpec::new("n", "n", FieldKind::Integer)],
    search: &[],
    default_order: "n",
    decode_id,
};
