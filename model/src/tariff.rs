//! Tariffs and the rates of any tariff: what every surface (REST, the older
//! tariff API, XML-RPC, the portal) reads into before the use cases run.
//! Billing plans are in [`billing_plan`](crate::billing_plan).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bounds::{money, CONNECT_FEE_MAX, FREE_SECONDS_MAX, GRACE_PERIOD_MAX, SURCHARGE_MAX};
use crate::call_rate::{CallRateFields, CallRatePatch, RateType};
use crate::fields::{FieldError, Fields};
use crate::money::Money;

pub const NAME_MAX: usize = 128;

crate::wire_enum! {
    /// The calls a rate applies to.
    pub enum RateDirection {
        None = "NONE",
        Incoming = "INCOMING",
        Outgoing = "OUTGOING",
    }
}

/// A rate of any tariff as stored, with the tariff-wide values it falls back
/// to already applied in `fields`. Times are unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRate {
    pub id: i64,
    pub tariff_id: i64,
    pub fields: CallRateFields,
    pub direction: RateDirection,
    /// 0: in force since always.
    pub activation_at: i64,
    /// `None`: never expires.
    pub expiration_at: Option<i64>,
    pub forbidden: bool,
    pub grace_period_enable: bool,
}

/// A new rate. The four per-rate overrides left `None` take the tariff's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateInput {
    pub prefix: String,
    pub rate_type: RateType,
    pub direction: RateDirection,
    pub free_seconds: Option<i64>,
    pub grace_period: Option<i64>,
    pub connect_fee: Option<Money>,
    pub postcall_surcharge: Option<Money>,
    pub interval_1: i64,
    pub interval_n: i64,
    pub price_1: Money,
    pub price_n: Money,
    pub description: String,
    pub activation_at: i64,
    pub expiration_at: Option<i64>,
    pub forbidden: bool,
    pub grace_period_enable: bool,
    /// The currency the caller means the prices in; `None`: the tariff's. A
    /// rate in another currency than its tariff's is refused.
    pub currency: Option<String>,
}

impl From<CallRateFields> for RateInput {
    /// A v22 rate: every value is its own, in force always.
    fn from(r: CallRateFields) -> RateInput {
        RateInput {
            prefix: r.prefix,
            rate_type: r.rate_type,
            direction: RateDirection::None,
            free_seconds: Some(r.free_seconds),
            grace_period: Some(r.grace_period),
            connect_fee: Some(r.connect_fee),
            postcall_surcharge: Some(r.postcall_surcharge),
            interval_1: r.interval_1,
            interval_n: r.interval_n,
            price_1: r.price_1,
            price_n: r.price_n,
            description: r.description,
            activation_at: 0,
            expiration_at: None,
            forbidden: false,
            grace_period_enable: true,
            currency: None,
        }
    }
}

/// A change to a rate: the fields named are changed, the others kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatePatch {
    pub base: CallRatePatch,
    pub direction: Option<RateDirection>,
    pub activation_at: Option<i64>,
    /// `Some(None)`: never expires.
    pub expiration_at: Option<Option<i64>>,
    pub forbidden: Option<bool>,
    pub grace_period_enable: Option<bool>,
    /// The currency the caller means the prices in: not a change, a check
    /// (the tariff's currency is the rate's).
    pub currency: Option<String>,
}

impl From<CallRatePatch> for RatePatch {
    fn from(base: CallRatePatch) -> RatePatch {
        RatePatch {
            base,
            ..RatePatch::default()
        }
    }
}

/// The fields of a new rate that have no default.
pub const RATE_REQUIRED: &[&str] = &["prefix", "interval_1", "interval_n", "price_1", "price_n"];

impl RatePatch {
    /// Reads a body with the v22 rate fields (checked as v22 checks them) and
    /// `direction`, `activation_at`, `expiration_at` (RFC 3339, or null for
    /// never), `forbidden`, `grace_period_enable`, and `currency` (ISO 4217:
    /// the currency the prices are meant in, which must be the tariff's).
    pub fn from_json(body: &Map<String, Value>) -> Result<RatePatch, Vec<FieldError>> {
        let (base, mut errors) = match CallRatePatch::from_json(body) {
            Ok(base) => (base, Vec::new()),
            Err(errors) => (CallRatePatch::default(), errors),
        };
        let mut f = Fields::new(body);
        let direction = f.enumeration("direction");
        let activation_at = f.timestamp("activation_at");
        let expiration_at = match body.get("expiration_at") {
            Some(Value::Null) => Some(None),
            Some(_) => f.timestamp("expiration_at").map(Some),
            None => None,
        };
        let forbidden = f.bool("forbidden");
        let grace_period_enable = f.bool("grace_period_enable");
        let currency = f.currency("currency");
        if let Err(more) = f.finish() {
            errors.extend(more);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(RatePatch {
            base,
            direction,
            activation_at,
            expiration_at,
            forbidden,
            grace_period_enable,
            currency,
        })
    }

    /// A whole new rate; `activation_at` defaults to `default_activation`.
    pub fn into_new(self, default_activation: i64) -> Result<RateInput, Vec<FieldError>> {
        let b = self.base;
        let mut errors = Vec::new();
        for (name, present) in [
            ("prefix", b.prefix.is_some()),
            ("interval_1", b.interval_1.is_some()),
            ("interval_n", b.interval_n.is_some()),
            ("price_1", b.price_1.is_some()),
            ("price_n", b.price_n.is_some()),
        ] {
            if !present {
                errors.push(FieldError::new(name, "is required"));
            }
        }
        let input = RateInput {
            prefix: b.prefix.unwrap_or_default(),
            rate_type: b.rate_type.unwrap_or(RateType::Local),
            direction: self.direction.unwrap_or(RateDirection::None),
            free_seconds: b.free_seconds,
            grace_period: b.grace_period,
            connect_fee: b.connect_fee,
            postcall_surcharge: b.postcall_surcharge,
            interval_1: b.interval_1.unwrap_or(1),
            interval_n: b.interval_n.unwrap_or(1),
            price_1: b.price_1.unwrap_or(Money::ZERO),
            price_n: b.price_n.unwrap_or(Money::ZERO),
            description: b.description.unwrap_or_default(),
            activation_at: self.activation_at.unwrap_or(default_activation),
            expiration_at: self.expiration_at.flatten(),
            forbidden: self.forbidden.unwrap_or(false),
            grace_period_enable: self.grace_period_enable.unwrap_or(false),
            currency: self.currency,
        };
        if let Err(m) = validate_schedule(input.activation_at, input.expiration_at) {
            errors.push(FieldError::new("expiration_at", m));
        }
        if errors.is_empty() {
            Ok(input)
        } else {
            Err(errors)
        }
    }

    /// Whether the patch changes nothing (a `currency` alone is only a check).
    pub fn is_empty(&self) -> bool {
        RatePatch {
            currency: None,
            ..self.clone()
        } == RatePatch::default()
    }
}

/// A rate must expire after it starts.
pub fn validate_schedule(activation: i64, expiration: Option<i64>) -> Result<(), &'static str> {
    match expiration {
        Some(e) if e <= activation => Err("must be later than activation_at"),
        _ => Ok(()),
    }
}

/// A tariff's own values (what creating one takes, less defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffInput {
    pub name: String,
    /// `None`: the tenant's currency.
    pub currency: Option<String>,
    pub free_seconds: i64,
    pub connect_fee: Money,
    pub post_call_surcharge: Money,
    pub grace_period: i64,
}

/// A change to a tariff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffPatch {
    pub name: Option<String>,
    pub currency: Option<String>,
    pub free_seconds: Option<i64>,
    pub connect_fee: Option<Money>,
    pub post_call_surcharge: Option<Money>,
    pub grace_period: Option<i64>,
}

impl TariffPatch {
    /// Reads `name`, `currency` (ISO 4217), `free_seconds`, `connect_fee`,
    /// `post_call_surcharge`, `grace_period`.
    pub fn from_json(body: &Map<String, Value>) -> Result<TariffPatch, Vec<FieldError>> {
        let mut f = Fields::new(body);
        let zero = Money::ZERO;
        let name = f.string("name").map(|n| n.trim().to_string());
        if let Some(n) = &name {
            if n.is_empty() || n.chars().count() > NAME_MAX {
                f.error("name", "must be 1 to 128 characters");
            }
        }
        let currency = f.currency("currency");
        let patch = TariffPatch {
            name,
            currency,
            free_seconds: f.int("free_seconds", 0, FREE_SECONDS_MAX),
            connect_fee: f.money_in("connect_fee", zero, money(CONNECT_FEE_MAX)),
            post_call_surcharge: f.money_in("post_call_surcharge", zero, money(SURCHARGE_MAX)),
            grace_period: f.int("grace_period", 0, GRACE_PERIOD_MAX),
        };
        f.finish().map(|()| patch)
    }

    pub fn into_new(self) -> Result<TariffInput, Vec<FieldError>> {
        let Some(name) = self.name else {
            return Err(vec![FieldError::new("name", "is required")]);
        };
        Ok(TariffInput {
            name,
            currency: self.currency,
            free_seconds: self.free_seconds.unwrap_or(0),
            connect_fee: self.connect_fee.unwrap_or(Money::ZERO),
            post_call_surcharge: self.post_call_surcharge.unwrap_or(Money::ZERO),
            grace_period: self.grace_period.unwrap_or(0),
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == TariffPatch::default()
    }
}

/// A tariff as stored. Money is exact; times are unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub free_seconds: i64,
    pub connect_fee: Money,
    pub post_call_surcharge: Money,
    pub grace_period: i64,
    pub is_default: bool,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn a_tariff_rate_needs_only_prefix_intervals_and_prices() {
        let patch = RatePatch::from_json(&body(json!({
            "prefix": "44", "interval_1": 60, "interval_n": 6, "price_1": 0.06, "price_n": "0.03",
            "direction": "OUTGOING", "forbidden": true, "expiration_at": "2030-01-01T00:00:00Z"
        })))
        .expect("valid");
        let rate = patch.into_new(0).expect("complete");
        assert_eq!(rate.direction, RateDirection::Outgoing);
        assert_eq!(rate.free_seconds, None, "the tariff's value applies");
        assert_eq!(rate.price_n.to_wire(), "0.03");
        assert_eq!(rate.expiration_at, Some(1_893_456_000_000));
        assert!(rate.forbidden);
        let missing = RatePatch::from_json(&body(json!({"prefix": "44"})))
            .expect("valid")
            .into_new(0)
            .expect_err("incomplete");
        let named: Vec<_> = missing.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["interval_1", "interval_n", "price_1", "price_n"]);
    }

    #[test]
    fn v22_checks_and_the_new_fields_are_reported_together() {
        let errors = RatePatch::from_json(&body(json!({
            "interval_1": 0, "direction": "SIDEWAYS", "activation_at": "yesterday"
        })))
        .expect_err("invalid");
        let named: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["interval_1", "direction", "activation_at"]);
    }

    #[test]
    fn a_rate_expires_after_it_starts() {
        let patch = RatePatch::from_json(&body(json!({
            "prefix": "1", "interval_1": 1, "interval_n": 1, "price_1": 0, "price_n": 0,
            "activation_at": "2030-01-01T00:00:00Z", "expiration_at": "2029-01-01T00:00:00Z"
        })))
        .expect("valid fields");
        assert!(patch.into_new(0).is_err());
    }

    #[test]
    fn tariffs_take_real_currencies_only() {
        let errors = TariffPatch::from_json(&body(json!({"name": "", "currency": "XYZ"})))
            .expect_err("invalid");
        let named: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["name", "currency"]);
        let t = TariffPatch::from_json(&body(json!({"name": "Retail", "currency": "eur"})))
            .expect("valid")
            .into_new()
            .expect("complete");
        assert_eq!(t.currency.as_deref(), Some("EUR"));
    }

    #[test]
    fn tariff_defaults_have_the_rate_bounds() {
        let errors = TariffPatch::from_json(&body(json!({
            "name": "Retail", "connect_fee": 8e26, "post_call_surcharge": 10.5,
            "free_seconds": 86_401, "grace_period": 1e40
        })))
        .expect_err("invalid");
        let named: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            named,
            [
                "free_seconds must be at most 86400",
                "connect_fee must be at most 1000",
                "post_call_surcharge must be at most 10",
                "grace_period must be at most 86400",
            ]
        );
    }
}
