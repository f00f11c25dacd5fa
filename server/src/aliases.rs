//! The names the older surfaces give the use cases' fields: the older tariff
//! API (`call_prefix`, `interval1`, …) and XML-RPC (`iso_4217`,
//! `activation_date`, `i_tariff`, …). One table per resource and surface,
//! read both ways: a request's members into the fields the `model` readers
//! check, and the errors of those checks (and of the use cases) back into
//! the names the caller sent.

use model::FieldError;
use serde_json::{Map, Value};

/// One resource's names on one surface: `(the surface's name, the field)`.
#[derive(Debug, Clone, Copy)]
pub struct Aliases(&'static [(&'static str, &'static str)]);

impl Aliases {
    /// No names of its own: a method that takes only ids and paging.
    pub const NONE: Aliases = Aliases(&[]);

    /// Every `(name, field)` pair.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        self.0.iter().copied()
    }

    /// Whether the surface has this name.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| *n == name)
    }

    /// The surface's name of a field (the field's own when it has none).
    pub fn name_of(&self, field: &str) -> String {
        self.0
            .iter()
            .find(|(_, f)| *f == field)
            .map_or(field, |(n, _)| n)
            .to_string()
    }

    /// The members of `body` that the table names, under their fields' names.
    pub fn to_fields(&self, body: &Map<String, Value>) -> Map<String, Value> {
        self.pairs()
            .filter_map(|(name, field)| body.get(name).map(|v| (field.to_string(), v.clone())))
            .collect()
    }

    /// Errors that name fields, renamed to the surface's names.
    pub fn to_names(&self, errors: Vec<FieldError>) -> Vec<FieldError> {
        errors
            .into_iter()
            .map(|e| FieldError::new(self.name_of(&e.field), e.message))
            .collect()
    }
}

/// A rate of the older tariff API.
pub const LEGACY_RATE: Aliases = Aliases(&[
    ("call_prefix", "prefix"),
    ("type", "direction"),
    ("interval1", "interval_1"),
    ("intervaln", "interval_n"),
    ("price1", "price_1"),
    ("pricen", "price_n"),
    ("grace_period", "grace_period"),
    ("free_seconds", "free_seconds"),
    ("connect_fee", "connect_fee"),
    ("postcall_surcharge", "postcall_surcharge"),
    ("currency", "currency"),
]);

/// A tariff of XML-RPC.
pub const XMLRPC_TARIFF: Aliases = Aliases(&[
    ("name", "name"),
    ("iso_4217", "currency"),
    ("free_seconds", "free_seconds"),
    ("connect_fee", "connect_fee"),
    ("post_call_surcharge", "post_call_surcharge"),
    ("grace_period", "grace_period"),
]);

/// A tariff rate of XML-RPC.
pub const XMLRPC_RATE: Aliases = Aliases(&[
    ("prefix", "prefix"),
    ("interval_1", "interval_1"),
    ("interval_n", "interval_n"),
    ("price_1", "price_1"),
    ("price_n", "price_n"),
    ("forbidden", "forbidden"),
    ("grace_period_enable", "grace_period_enable"),
    ("free_seconds", "free_seconds"),
    ("grace_period", "grace_period"),
    ("connect_fee", "connect_fee"),
    ("post_call_surcharge", "postcall_surcharge"),
    ("description", "description"),
    ("direction", "direction"),
    ("activation_date", "activation_at"),
    ("expiration_date", "expiration_at"),
    ("iso_4217", "currency"),
]);

/// A billing plan of XML-RPC.
pub const XMLRPC_PLAN: Aliases = Aliases(&[
    ("prefix", "prefix"),
    ("description", "description"),
    ("i_billing_plan_suspend_mode", "suspend_mode"),
    ("billing_cycle", "billing_cycle"),
    ("i_billing_day", "billing_day"),
    ("round_up", "round_up"),
    ("prepaid", "prepaid"),
    ("i_tariff", "tariff_id"),
    ("iso_4217", "currency"),
]);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_go_in_as_fields_and_errors_come_back_in_names() {
        let body = json!({"call_prefix": "44", "price1": "0.1", "colour": "red"});
        let fields = LEGACY_RATE.to_fields(body.as_object().expect("object"));
        assert_eq!(
            Value::Object(fields),
            json!({"prefix": "44", "price_1": "0.1"})
        );
        let errors = LEGACY_RATE.to_names(vec![
            FieldError::new("price_1", "must be a number"),
            FieldError::new("body", "is empty"),
        ]);
        assert_eq!(errors[0].to_string(), "price1 must be a number");
        assert_eq!(errors[1].to_string(), "body is empty");
        assert_eq!(XMLRPC_RATE.name_of("currency"), "iso_4217");
        assert!(XMLRPC_PLAN.has("i_tariff") && !XMLRPC_PLAN.has("tariff_id"));
    }
}
