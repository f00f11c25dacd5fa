//! Call rates as the v22 API shows them (`/api/call_rates`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bounds::{
    money, CONNECT_FEE_MAX, FREE_SECONDS_MAX, GRACE_PERIOD_MAX, INTERVAL_MAX, PRICE_MAX,
    SURCHARGE_MAX,
};
use crate::fields::{FieldError, Fields};
use crate::money::Money;

crate::wire_enum! {
    /// The kind of destination a rate is for.
    pub enum RateType {
        Local = "LOCAL",
        National = "NATIONAL",
        International = "INTERNATIONAL",
        Mobile = "MOBILE",
    }
}

pub const PREFIX_MAX: usize = 64;
pub const DESCRIPTION_MAX: usize = 1024;

/// A call rate on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRate {
    pub id: String,
    #[serde(flatten)]
    pub fields: CallRateFields,
}

/// Everything a call rate holds but its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRateFields {
    pub prefix: String,
    #[serde(rename = "type")]
    pub rate_type: RateType,
    pub free_seconds: i64,
    pub grace_period: i64,
    pub interval_1: i64,
    pub interval_n: i64,
    pub connect_fee: Money,
    pub postcall_surcharge: Money,
    pub price_1: Money,
    pub price_n: Money,
    #[serde(default)]
    pub description: String,
}

/// A change to a call rate: the fields present in an update (or create) body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRatePatch {
    pub prefix: Option<String>,
    #[serde(rename = "type")]
    pub rate_type: Option<RateType>,
    pub free_seconds: Option<i64>,
    pub grace_period: Option<i64>,
    pub interval_1: Option<i64>,
    pub interval_n: Option<i64>,
    pub connect_fee: Option<Money>,
    pub postcall_surcharge: Option<Money>,
    pub price_1: Option<Money>,
    pub price_n: Option<Money>,
    pub description: Option<String>,
}

/// Checks a prefix: 1..64 characters, no spaces or control characters.
pub fn validate_prefix(prefix: &str) -> Result<(), &'static str> {
    if prefix.is_empty() {
        return Err("must not be empty");
    }
    if prefix.chars().count() > PREFIX_MAX {
        return Err("must be at most 64 characters");
    }
    if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    if prefix == "+" {
        return Err("must hold more than a plus sign");
    }
    Ok(())
}

/// The key under which a prefix is unique and matched: a leading `+` is ignored.
pub fn prefix_key(prefix: &str) -> &str {
    prefix.strip_prefix('+').unwrap_or(prefix)
}

impl CallRatePatch {
    /// Reads the fields of a request body, naming each bad one. Every number
    /// is held to its bound in [`crate::bounds`].
    pub fn from_json(body: &Map<String, Value>) -> Result<CallRatePatch, Vec<FieldError>> {
        let mut f = Fields::new(body);
        let zero = Money::ZERO;
        let patch = CallRatePatch {
            prefix: f.string("prefix"),
            rate_type: f.enumeration("type"),
            free_seconds: f.int("free_seconds", 0, FREE_SECONDS_MAX),
            grace_period: f.int("grace_period", 0, GRACE_PERIOD_MAX),
            interval_1: f.int("interval_1", 1, INTERVAL_MAX),
            interval_n: f.int("interval_n", 1, INTERVAL_MAX),
            connect_fee: f.money_in("connect_fee", zero, money(CONNECT_FEE_MAX)),
            postcall_surcharge: f.money_in("postcall_surcharge", zero, money(SURCHARGE_MAX)),
            price_1: f.money_in("price_1", zero, money(PRICE_MAX)),
            price_n: f.money_in("price_n", zero, money(PRICE_MAX)),
            description: f.string("description"),
        };
        if let Some(p) = &patch.prefix {
            if let Err(m) = validate_prefix(p) {
                f.error("prefix", m);
            }
        }
        if let Some(d) = &patch.description {
            if d.chars().count() > DESCRIPTION_MAX {
                f.error("description", "must be at most 1024 characters");
            }
        }
        f.finish().map(|()| patch)
    }

    /// A whole new rate from this patch; every documented required field must be present.
    pub fn into_new(self) -> Result<CallRateFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        fn need<T>(v: Option<T>, name: &str, errors: &mut Vec<FieldError>) -> Option<T> {
            if v.is_none() {
                errors.push(FieldError::new(name, "is required"));
            }
            v
        }
        let prefix = need(self.prefix, "prefix", &mut errors);
        let rate_type = need(self.rate_type, "type", &mut errors);
        let free_seconds = need(self.free_seconds, "free_seconds", &mut errors);
        let grace_period = need(self.grace_period, "grace_period", &mut errors);
        let interval_1 = need(self.interval_1, "interval_1", &mut errors);
        let interval_n = need(self.interval_n, "interval_n", &mut errors);
        let connect_fee = need(self.connect_fee, "connect_fee", &mut errors);
        let postcall_surcharge = need(self.postcall_surcharge, "postcall_surcharge", &mut errors);
        let price_1 = need(self.price_1, "price_1", &mut errors);
        let price_n = need(self.price_n, "price_n", &mut errors);
        // Every field is there, or its absence is one of the errors.
        let whole = || {
            Some(CallRateFields {
                prefix: prefix?,
                rate_type: rate_type?,
                free_seconds: free_seconds?,
                grace_period: grace_period?,
                interval_1: interval_1?,
                interval_n: interval_n?,
                connect_fee: connect_fee?,
                postcall_surcharge: postcall_surcharge?,
                price_1: price_1?,
                price_n: price_n?,
                description: self.description.unwrap_or_default(),
            })
        };
        whole().ok_or(errors)
    }

    /// The rate after this change.
    pub fn apply(self, to: CallRateFields) -> CallRateFields {
        CallRateFields {
            prefix: self.prefix.unwrap_or(to.prefix),
            rate_type: self.rate_type.unwrap_or(to.rate_type),
            free_seconds: self.free_seconds.unwrap_or(to.free_seconds),
            grace_period: self.grace_period.unwrap_or(to.grace_period),
            interval_1: self.interval_1.unwrap_or(to.interval_1),
            interval_n: self.interval_n.unwrap_or(to.interval_n),
            connect_fee: self.connect_fee.unwrap_or(to.connect_fee),
            postcall_surcharge: self.postcall_surcharge.unwrap_or(to.postcall_surcharge),
            price_1: self.price_1.unwrap_or(to.price_1),
            price_n: self.price_n.unwrap_or(to.price_n),
            description: self.description.unwrap_or(to.description),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == CallRatePatch::default()
    }
}

impl CallRateFields {
    /// Reads a whole rate (create, import line), naming each bad or missing field.
    pub fn from_json(body: &Map<String, Value>) -> Result<CallRateFields, Vec<FieldError>> {
        let patch = CallRatePatch::from_json(body);
        match patch {
            Ok(p) => p.into_new(),
            Err(mut errors) => {
                // Also name the required fields that are missing altogether.
                for name in REQUIRED {
                    if body.get(*name).is_none_or(Value::is_null)
                        && !errors.iter().any(|e| e.field == *name)
                    {
                        errors.push(FieldError::new(*name, "is required"));
                    }
                }
                Err(errors)
            }
        }
    }
}

/// The fields a new rate must have, as the v22 document requires them.
pub const REQUIRED: &[&str] = &[
    "prefix",
    "type",
    "free_seconds",
    "grace_period",
    "interval_1",
    "interval_n",
    "connect_fee",
    "postcall_surcharge",
    "price_1",
    "price_n",
];

/// The CSV columns of an export (and of an import), in order.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "prefix",
    "type",
    "free_seconds",
    "grace_period",
    "interval_1",
    "interval_n",
    "connect_fee",
    "postcall_surcharge",
    "price_1",
    "price_n",
    "description",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn full() -> Value {
        json!({
            "prefix": "4420", "type": "INTERNATIONAL", "free_seconds": 0, "grace_period": 5,
            "interval_1": 60, "interval_n": 6, "connect_fee": 0.1, "postcall_surcharge": 0.1,
            "price_1": 0.06, "price_n": 0.03, "description": "London"
        })
    }

    #[test]
    fn a_full_body_is_a_rate_with_exact_money() {
        let rate = CallRateFields::from_json(&body(full())).expect("valid");
        assert_eq!(rate.prefix, "4420");
        assert_eq!(rate.rate_type, RateType::International);
        assert_eq!(rate.connect_fee.to_wire(), "0.1");
        let wire = serde_json::to_value(&rate).expect("serializes");
        assert_eq!(wire["price_1"].to_string(), "0.06");
        assert_eq!(wire["type"], "INTERNATIONAL");
    }

    #[test]
    fn missing_and_bad_fields_are_all_named() {
        let mut v = full();
        v["interval_1"] = json!(0);
        v["price_n"] = json!(-1);
        v["type"] = json!("PREMIUM");
        let obj = v.as_object_mut().expect("object");
        obj.remove("grace_period");
        let errors = CallRateFields::from_json(obj).expect_err("invalid");
        let mut named: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        named.sort();
        assert_eq!(named, ["grace_period", "interval_1", "price_n", "type"]);
    }

    #[test]
    fn prefix_and_description_bounds() {
        let mut v = full();
        v["prefix"] = json!("1".repeat(65));
        v["description"] = json!("d".repeat(1025));
        let errors = CallRateFields::from_json(&body(v)).expect_err("invalid");
        assert!(errors.iter().any(|e| e.field == "prefix"));
        assert!(errors.iter().any(|e| e.field == "description"));
        assert_eq!(validate_prefix(&"1".repeat(64)), Ok(()));
        assert!(validate_prefix("").is_err());
        assert!(validate_prefix("44 20").is_err());
    }

    #[test]
    fn every_number_has_an_upper_bound_named_in_its_error() {
        let mut v = full();
        v["price_1"] = json!(8e26);
        v["price_n"] = json!("1000.00001");
        v["connect_fee"] = json!(1e300);
        v["postcall_surcharge"] = json!(11);
        v["interval_1"] = json!(86_401);
        v["interval_n"] = json!(1e20);
        v["free_seconds"] = json!(i64::MAX);
        v["grace_period"] = json!(86_401);
        let errors = CallRateFields::from_json(&body(v)).expect_err("invalid");
        let mut named: Vec<_> = errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect();
        named.sort();
        assert_eq!(
            named,
            [
                "connect_fee must be at most 1000",
                "free_seconds must be at most 86400",
                "grace_period must be at most 86400",
                "interval_1 must be at most 86400",
                "interval_n must be at most 86400",
                "postcall_surcharge must be at most 10",
                "price_1 must be at most 1000",
                "price_n must be at most 1000",
            ]
        );
        let mut v = full();
        v["price_1"] = json!(1000);
        v["interval_1"] = json!(86_400);
        v["postcall_surcharge"] = json!(10);
        v["price_n"] = json!(-8e26);
        let errors = CallRateFields::from_json(&body(v)).expect_err("invalid");
        assert_eq!(errors, [FieldError::new("price_n", "must be at least 0")]);
    }

    #[test]
    fn the_portal_s_form_text_is_held_to_the_same_bounds() {
        // The portal's form sends every value as the text typed in.
        let mut v = full();
        for (field, text) in [
            ("price_1", "8e26"),
            ("price_n", "-8e26"),
            ("connect_fee", "1000.5"),
            ("interval_1", "1e40"),
            ("interval_n", "86401"),
            ("free_seconds", "99999999999999999999"),
        ] {
            v[field] = json!(text);
        }
        let errors = CallRateFields::from_json(&body(v)).expect_err("invalid");
        let named: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            named,
            [
                "free_seconds must be at most 86400",
                "interval_1 must be at most 86400",
                "interval_n must be at most 86400",
                "connect_fee must be at most 1000",
                "price_1 must be at most 1000",
                "price_n must be at least 0",
            ]
        );
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name() {
        let rate = CallRateFields::from_json(&body(full())).expect("valid");
        let patch = CallRatePatch::from_json(&body(json!({"price_1": 0.07}))).expect("valid");
        let after = patch.apply(rate.clone());
        assert_eq!(after.price_1.to_wire(), "0.07");
        assert_eq!(after.prefix, rate.prefix);
    }

    #[test]
    fn the_plus_sign_is_not_part_of_the_key() {
        assert_eq!(prefix_key("+44"), "44");
        assert_eq!(prefix_key("44"), "44");
    }
}
