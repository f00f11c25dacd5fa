//! The tenants a system administrator can choose from.

use crate::functions::codec::Json;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A tenant as the picker shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantChoice {
    /// Opaque API id.
    pub id: String,
    pub name: String,
    pub sip_domain: String,
}

/// The tenants the caller can choose from, by name (the first
/// [`model::query::MAX_TOP`]): all for a system administrator, none for tenant
/// users, who always act on their own.
#[server(prefix = "/portal/fn", endpoint = "tenant_choices", input = Json, output = Json)]
pub async fn tenant_choices() -> Result<Vec<TenantChoice>, ServerFnError> {
    use crate::server::{caller, db, to_server_error};
    use model::query::{ListParams, ListQuery, MAX_TOP};

    let caller = caller().await?;
    if caller.tenant_id.is_some() {
        return Ok(Vec::new());
    }
    let params = ListParams {
        orderby: Some("name asc".into()),
        top: Some(MAX_TOP.to_string()),
        ..ListParams::default()
    };
    let query = ListQuery::parse(&params, &::billing::tenants::TENANT_SPEC)
        .map_err(|e| ServerFnError::new(e.message))?;
    let page = db()?
        .list_tenants(&caller, &query)
        .await
        .map_err(to_server_error)?;
    Ok(page
        .items
        .into_iter()
        .map(|t| TenantChoice {
            id: t.id,
            name: t.name,
            sip_domain: t.sip_domain,
        })
        .collect())
}
