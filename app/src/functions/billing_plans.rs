//! Billing plans of the tenant, for the billing plans page.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::billing_plan::BillingPlan;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::tariffs::TariffRow;

/// A billing plan as the plans page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRow {
    /// Opaque API id.
    pub id: String,
    /// Opaque API id of its tariff.
    pub tariff_id: String,
    pub plan: BillingPlan,
}

/// The tenant's billing plans (the first [`model::query::MAX_TOP`], by
/// prefix) and the tariffs a plan can use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanList {
    /// Plans of the tenant, on all pages.
    pub count: i64,
    pub items: Vec<PlanRow>,
    pub tariffs: Vec<TariffRow>,
}

/// The tenant's billing plans and tariffs; `None` until a system
/// administrator has chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "list_billing_plans", input = Json, output = Json)]
pub async fn list_billing_plans(tenant: Option<String>) -> Result<Option<PlanList>, ServerFnError> {
    use super::tariffs::{first_page, tariff_rows};
    use crate::server::{chosen_scope, db, to_server_error};
    use ::billing::billing_plans::BILLING_PLAN_SPEC;
    use model::ApiId;

    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    super::managers_only(&scope, "see its billing plans")?;
    let db = db()?;
    let page = db
        .list_billing_plans(&scope, &first_page("prefix asc", &BILLING_PLAN_SPEC))
        .await
        .map_err(to_server_error)?;
    let tariffs = tariff_rows(&db, &scope).await?;
    Ok(Some(PlanList {
        count: page.count,
        items: page
            .items
            .into_iter()
            .map(|plan| PlanRow {
                id: ApiId::encode(plan.id),
                tariff_id: ApiId::encode(plan.tariff_id),
                plan,
            })
            .collect(),
        tariffs: tariffs.items,
    }))
}

/// Creates a billing plan (no `id`) or changes one; `body` holds the fields
/// as the REST API's body does (`prefix`, `tariff_id`, `description`,
/// `suspend_mode`, `currency`, `billing_cycle`, `billing_day`, `round_up`,
/// `prepaid`).
#[server(prefix = "/portal/fn", endpoint = "save_billing_plan", input = Json, output = Json)]
pub async fn save_billing_plan(
    tenant: Option<String>,
    id: Option<String>,
    body: Map<String, Value>,
) -> Result<String, ServerFnError> {
    use crate::server::db;
    use model::billing_plan::BillingPlanPatch;
    use model::ApiId;

    let scope = super::manager_scope(tenant).await?;
    let patch = super::read(BillingPlanPatch::from_json(&body))?;
    let db = db()?;
    match id {
        None => super::answer(
            db.create_billing_plan(&scope, patch)
                .await
                .map(|p| ApiId::encode(p.id)),
        ),
        Some(wire) => {
            let id = super::id_of(&wire, "billing plan")?;
            super::answer(
                db.update_billing_plan(&scope, id, patch)
                    .await
                    .map(|_| wire),
            )
        }
    }
}

/// Deletes a billing plan.
#[server(prefix = "/portal/fn", endpoint = "delete_billing_plan", input = Json, output = Json)]
pub async fn delete_billing_plan(tenant: Option<String>, id: String) -> Result<(), ServerFnError> {
    use crate::server::{db, scope};
    let scope = scope(tenant).await?;
    let id = super::id_of(&id, "billing plan")?;
    super::answer(db()?.delete_billing_plan(&scope, id).await)
}
