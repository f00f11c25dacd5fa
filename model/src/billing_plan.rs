//! Billing plans: which tariff rates the calls to a prefix, how often the
//! plan bills, and whether its amounts are rounded up. What every surface
//! (REST, XML-RPC, the portal) reads into before the use cases run.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::call_rate::validate_prefix;
use crate::currency::parse_currency;
use crate::fields::{FieldError, Fields};

const INT32_MAX: i64 = i32::MAX as i64;
pub const PLAN_DESCRIPTION_MAX: usize = 1024;

crate::wire_enum! {
    /// How often a billing plan bills, by its XML-RPC number.
    pub enum BillingCycle {
        Weekly = "WEEKLY",
        BiWeekly = "BI_WEEKLY",
        Monthly = "MONTHLY",
    }
}

impl BillingCycle {
    pub fn number(self) -> i64 {
        match self {
            BillingCycle::Weekly => 1,
            BillingCycle::BiWeekly => 2,
            BillingCycle::Monthly => 3,
        }
    }

    pub fn from_number(n: i64) -> Option<BillingCycle> {
        match n {
            1 => Some(BillingCycle::Weekly),
            2 => Some(BillingCycle::BiWeekly),
            3 => Some(BillingCycle::Monthly),
            _ => None,
        }
    }

    /// The billing days a cycle takes: a weekday (1 Monday .. 7 Sunday) or a
    /// day of the month (1..28, so that every month has it).
    pub fn days(self) -> std::ops::RangeInclusive<i64> {
        match self {
            BillingCycle::Weekly | BillingCycle::BiWeekly => 1..=7,
            BillingCycle::Monthly => 1..=28,
        }
    }
}

/// A billing plan as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPlan {
    pub id: i64,
    pub prefix: String,
    pub tariff_id: i64,
    pub description: String,
    pub suspend_mode: i64,
    pub currency: String,
    pub billing_cycle: BillingCycle,
    pub billing_day: i64,
    pub round_up: bool,
    pub prepaid: bool,
    pub created_at: i64,
}

/// A change to a billing plan; a new one needs `prefix` and `tariff_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPlanPatch {
    pub prefix: Option<String>,
    pub tariff_id: Option<i64>,
    pub description: Option<String>,
    pub suspend_mode: Option<i64>,
    pub currency: Option<String>,
    pub billing_cycle: Option<BillingCycle>,
    pub billing_day: Option<i64>,
    pub round_up: Option<bool>,
    pub prepaid: Option<bool>,
}

impl BillingPlanPatch {
    /// Reads `prefix`, `tariff_id` (an API id), `description`, `suspend_mode`,
    /// `currency`, `billing_cycle` (1 weekly, 2 bi-weekly, 3 monthly),
    /// `billing_day`, `round_up`, `prepaid`.
    pub fn from_json(body: &Map<String, Value>) -> Result<BillingPlanPatch, Vec<FieldError>> {
        let mut f = Fields::new(body);
        let tariff_id = f.string("tariff_id").and_then(|t| {
            let id = crate::ApiId::decode(&t);
            if id.is_none() {
                f.error("tariff_id", "is not a tariff id");
            }
            id
        });
        let billing_cycle = f
            .int("billing_cycle", 1, 3)
            .and_then(BillingCycle::from_number);
        let patch = BillingPlanPatch {
            prefix: f.string("prefix"),
            tariff_id,
            description: f.string("description"),
            suspend_mode: f.int("suspend_mode", 0, INT32_MAX),
            currency: f.string("currency"),
            billing_cycle,
            billing_day: f.int("billing_day", 1, 28),
            round_up: f.bool("round_up"),
            prepaid: f.bool("prepaid"),
        };
        let mut errors = f.finish().err().unwrap_or_default();
        if let Err(more) = patch.validate() {
            let fresh: Vec<FieldError> = more
                .into_iter()
                .filter(|e| !errors.iter().any(|x| x.field == e.field))
                .collect();
            errors.extend(fresh);
        }
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(errors)
        }
    }

    /// Checks the values that need no database: prefix, description, suspend
    /// mode, currency, billing day. Errors name the given field names.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(p) = &self.prefix {
            if let Err(m) = validate_prefix(p) {
                errors.push(FieldError::new("prefix", m));
            }
        }
        if let Some(d) = &self.description {
            if d.chars().count() > PLAN_DESCRIPTION_MAX {
                errors.push(FieldError::new(
                    "description",
                    "must be at most 1024 characters",
                ));
            }
        }
        if let Some(m) = self.suspend_mode {
            if !(0..=INT32_MAX).contains(&m) {
                errors.push(FieldError::new("suspend_mode", "must be 0 or more"));
            }
        }
        if let Some(c) = &self.currency {
            if let Err(m) = parse_currency(c) {
                errors.push(FieldError::new("currency", m));
            }
        }
        if let Some(day) = self.billing_day {
            if !(1..=28).contains(&day) {
                errors.push(FieldError::new("billing_day", "must be between 1 and 28"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == BillingPlanPatch::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_cycles_by_number() {
        assert_eq!(BillingCycle::from_number(2), Some(BillingCycle::BiWeekly));
        assert_eq!(BillingCycle::from_number(4), None);
        assert_eq!(BillingCycle::Monthly.number(), 3);
    }
}
