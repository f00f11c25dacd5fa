//! The tenant's billing settings.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::billing_settings::BillingSettings;
use serde_json::{Map, Value};

/// The billing settings of the tenant acted on; `None` until a system
/// administrator has chosen one.
#[server(prefix = "/portal/fn", endpoint = "billing_settings", input = Json, output = Json)]
pub async fn get_billing_settings(
    tenant: Option<String>,
) -> Result<Option<BillingSettings>, ServerFnError> {
    use crate::server::{chosen_scope, db, to_server_error};
    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    super::managers_only(&scope, "see its billing settings")?;
    db()?
        .billing_settings(&scope)
        .await
        .map(Some)
        .map_err(to_server_error)
}

/// Changes the billing settings (`enabled`, `account`, `type`, as in the
/// REST API's body); answers them as saved.
#[server(prefix = "/portal/fn", endpoint = "save_billing_settings", input = Json, output = Json)]
pub async fn save_billing_settings(
    tenant: Option<String>,
    body: Map<String, Value>,
) -> Result<BillingSettings, ServerFnError> {
    use crate::server::db;
    use model::billing_settings::BillingSettingsPatch;

    let scope = super::manager_scope(tenant).await?;
    let patch = super::read(BillingSettingsPatch::from_json(&body))?;
    super::answer(db()?.update_billing_settings(&scope, patch).await)
}
