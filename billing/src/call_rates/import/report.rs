//! How an import tells of its rates: a rate as the preview lists it, and
//! the fields that differ between a rate as stored and as the file has it.

use model::call_rate::CallRateFields;
use model::deck::{DeckRate, FieldChange};
use model::Money;

pub(super) fn deck_rate(line: Option<u64>, rate: &CallRateFields) -> DeckRate {
    DeckRate {
        line,
        prefix: rate.prefix.clone(),
        price_1: rate.price_1,
        price_n: rate.price_n,
        description: rate.description.clone(),
    }
}

/// The fields that differ between two rates, as the export writes them.
pub(super) fn changes(old: &CallRateFields, new: &CallRateFields) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut compare = |field: &str, old: String, new: String| {
        if old != new {
            changes.push(FieldChange {
                field: field.into(),
                old,
                new,
            });
        }
    };
    let money = |m: Money| m.to_string();
    compare("prefix", old.prefix.clone(), new.prefix.clone());
    compare("type", old.rate_type.to_string(), new.rate_type.to_string());
    for (field, o, n) in [
        ("free_seconds", old.free_seconds, new.free_seconds),
        ("grace_period", old.grace_period, new.grace_period),
        ("interval_1", old.interval_1, new.interval_1),
        ("interval_n", old.interval_n, new.interval_n),
    ] {
        compare(field, o.to_string(), n.to_string());
    }
    for (field, o, n) in [
        ("connect_fee", old.connect_fee, new.connect_fee),
        (
            "postcall_surcharge",
            old.postcall_surcharge,
            new.postcall_surcharge,
        ),
        ("price_1", old.price_1, new.price_1),
        ("price_n", old.price_n, new.price_n),
    ] {
        compare(field, money(o), money(n));
    }
    compare(
        "description",
        old.description.clone(),
        new.description.clone(),
    );
    changes
}
