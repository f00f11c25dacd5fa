//! `/api/billing_plans`: which tariff rates the calls to a prefix.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use billing::billing_plans::{BillingPlan, BILLING_PLAN_SPEC};
use billing::time::rfc3339;
use billing::{Db, Page};
use model::billing_plan::BillingPlanPatch;
use model::ApiId;
use serde::Serialize;

use super::error::ApiResult;
use super::extract::{path_id, JsonObject, ListParamsQuery, TenantScope};

/// A billing plan on the wire.
#[derive(Debug, Serialize)]
pub struct PlanView {
    id: String,
    prefix: String,
    tariff_id: String,
    description: String,
    suspend_mode: i64,
    currency: String,
    billing_cycle: i64,
    billing_day: i64,
    round_up: bool,
    prepaid: bool,
    created_at: String,
}

impl From<BillingPlan> for PlanView {
    fn from(p: BillingPlan) -> PlanView {
        PlanView {
            id: ApiId::encode(p.id),
            prefix: p.prefix,
            tariff_id: ApiId::encode(p.tariff_id),
            description: p.description,
            suspend_mode: p.suspend_mode,
            currency: p.currency,
            billing_cycle: p.billing_cycle.number(),
            billing_day: p.billing_day,
            round_up: p.round_up,
            prepaid: p.prepaid,
            created_at: rfc3339(p.created_at),
        }
    }
}

pub async fn list(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<PlanView>>> {
    let query = params.parse(&BILLING_PLAN_SPEC)?;
    Ok(Json(
        db.list_billing_plans(&scope, &query).await?.map(Into::into),
    ))
}

pub async fn create(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<PlanView>> {
    scope.require_manager()?;
    let plan = BillingPlanPatch::from_json(&body)?;
    Ok(Json(db.create_billing_plan(&scope, plan).await?.into()))
}

pub async fn get(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<PlanView>> {
    let id = path_id(&id, "billing plan")?;
    Ok(Json(db.get_billing_plan(&scope, id).await?.into()))
}

pub async fn update(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<PlanView>> {
    scope.require_manager()?;
    let id = path_id(&id, "billing plan")?;
    let patch = BillingPlanPatch::from_json(&body)?;
    Ok(Json(
        db.update_billing_plan(&scope, id, patch).await?.into(),
    ))
}

pub async fn destroy(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, "billing plan")?;
    db.delete_billing_plan(&scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
