//! `/api/charging`: online charging of calls (the ONLINE billing type). The
//! PBX authorises a call before it starts, may ask how much is left while it
//! lasts, and terminates it with its duration. Its calls in progress are
//! listed with what they hold.

use axum::extract::{Path, State};
use axum::Json;
use billing::charging::{
    seconds_from_json, Authorization, Grant, LiveCalls, Remaining, Settlement, LIVE_CALL_SPEC,
};
use billing::Db;

use super::error::ApiResult;
use super::extract::{CarriedScope, JsonObject, ListParamsQuery, TenantScope};

/// `GET /api/charging/sessions`: the calls in progress (the tenant's for
/// its administrators, those billed to one's own account for a standard
/// user), paged and filtered like every list, with what all those matching
/// hold per currency.
pub async fn sessions(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
) -> ApiResult<Json<LiveCalls>> {
    let query = params.parse(&LIVE_CALL_SPEC)?;
    Ok(Json(db.list_live_calls(&scope, &query).await?))
}

/// `{call_id, caller, callee, extension?}` → the grant, or 422 with
/// `INSUFFICIENT_FUNDS`, `NO_RATE` or `FORBIDDEN_DESTINATION`.
pub async fn authorize(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Grant>> {
    let request = Authorization::from_json(&body)?;
    Ok(Json(db.authorize_call(&scope, request).await?))
}

/// A call in progress when its tenant was suspended still reports its use
/// and its end (the PBX's API token works here), so that it is charged.
///
/// `{used_seconds}` → what is left of the grant (extended when funds were
/// added since).
pub async fn update(
    State(db): State<Db>,
    CarriedScope(scope): CarriedScope,
    Path(call_id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Remaining>> {
    let used = seconds_from_json(&body, "used_seconds")?;
    Ok(Json(db.update_call(&scope, &call_id, used).await?))
}

/// `{duration}` → the exact amount debited and the hold released; the same
/// answer again for a call already terminated.
pub async fn terminate(
    State(db): State<Db>,
    CarriedScope(scope): CarriedScope,
    Path(call_id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Settlement>> {
    let duration = seconds_from_json(&body, "duration")?;
    Ok(Json(db.terminate_call(&scope, &call_id, duration).await?))
}
