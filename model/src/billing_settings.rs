//! A tenant's billing settings (`/api/tenant/billing`): whether calls are
//! billed, whose balance pays, and when a call is charged.

use serde::{Deserialize, Serialize};

crate::wire_enum! {
    /// Whose balance pays for a call.
    pub enum BillingAccount {
        /// The company (tenant) account.
        Tenant = "TENANT",
        /// The calling user's private account.
        User = "USER",
    }
}

crate::wire_enum! {
    /// When a call is charged.
    pub enum BillingType {
        /// After the call, from its CDR.
        Offline = "OFFLINE",
        /// Authorised before the call, funds held while it lasts.
        Online = "ONLINE",
    }
}

/// The tenant's billing settings, with the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingSettings {
    pub enabled: bool,
    pub account: BillingAccount,
    #[serde(rename = "type")]
    pub billing_type: BillingType,
}

impl Default for BillingSettings {
    fn default() -> Self {
        BillingSettings {
            enabled: false,
            account: BillingAccount::Tenant,
            billing_type: BillingType::Offline,
        }
    }
}

/// A change to the billing settings: any subset of the three fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingSettingsPatch {
    pub enabled: Option<bool>,
    pub account: Option<BillingAccount>,
    #[serde(rename = "type")]
    pub billing_type: Option<BillingType>,
}

impl BillingSettingsPatch {
    /// Reads a request body, naming each bad field.
    pub fn from_json(
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, Vec<crate::FieldError>> {
        let mut f = crate::Fields::new(body);
        let patch = BillingSettingsPatch {
            enabled: f.bool("enabled"),
            account: f.enumeration("account"),
            billing_type: f.enumeration("type"),
        };
        f.finish().map(|()| patch)
    }

    pub fn apply(self, to: BillingSettings) -> BillingSettings {
        BillingSettings {
            enabled: self.enabled.unwrap_or(to.enabled),
            account: self.account.unwrap_or(to.account),
            billing_type: self.billing_type.unwrap_or(to.billing_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_the_documented_ones() {
        assert_eq!(
            serde_json::to_value(BillingSettings::default()).expect("serializes"),
            json!({"enabled": false, "account": "TENANT", "type": "OFFLINE"})
        );
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let body = json!({"type": "ONLINE"});
        let patch =
            BillingSettingsPatch::from_json(body.as_object().expect("object")).expect("valid");
        let after = patch.apply(BillingSettings::default());
        assert_eq!(after.billing_type, BillingType::Online);
        assert!(!after.enabled);
        assert_eq!(after.account, BillingAccount::Tenant);
    }

    #[test]
    fn bad_enum_values_name_the_field() {
        let body = json!({"account": "COMPANY", "enabled": "yes"});
        let errors = BillingSettingsPatch::from_json(body.as_object().expect("object"))
            .expect_err("invalid");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "enabled");
        assert_eq!(errors[1].field, "account");
        assert_eq!(errors[1].message, "must be one of TENANT, USER");
    }
}
