//! `/api/tenant/billing`: the tenant's billing settings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use billing::Db;
use model::billing_settings::{BillingSettings, BillingSettingsPatch};

use super::error::{ApiError, ApiResult};
use super::extract::{JsonObject, TenantScope};

/// `GET /api/tenant/billing`
pub async fn get(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
) -> ApiResult<Json<BillingSettings>> {
    Ok(Json(db.billing_settings(&scope).await?))
}

/// `POST /api/tenant/billing`: any subset of `enabled`, `account`, `type`.
pub async fn set(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    scope.require_manager()?;
    let patch = BillingSettingsPatch::from_json(&body).map_err(ApiError::from)?;
    db.update_billing_settings(&scope, patch).await?;
    Ok(StatusCode::OK)
}
