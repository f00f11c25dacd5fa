//! `/api/charging`: online charging of calls (the ONLINE billing type). The
//! PBX authorises a call before it starts, may ask how much is left while it
//! lasts, and terminates it with its duration.

use axum::extract::{Path, State};
use axum::Json;
use billing::charging::{Authorization, Grant, Remaining, Settlement};
use billing::Db;
use model::Fields;

use super::error::{ApiError, ApiResult};
use super::extract::{JsonObject, TenantScope};
use super::rating::seconds;

/// `{call_id, caller, callee, extension?}` → the grant, or 422 with
/// `INSUFFICIENT_FUNDS`, `NO_RATE` or `FORBIDDEN_DESTINATION`.
pub async fn authorize(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Grant>> {
    let mut f = Fields::new(&body);
    let call_id = f.text("call_id", 256);
    let call_id = f.require("call_id", call_id);
    let caller = f.text("caller", 256);
    let caller = f.require("caller", caller);
    let callee = f.text("callee", 256);
    let callee = f.require("callee", callee);
    let extension = f.text("extension", 64);
    f.finish()?;
    let (Some(call_id), Some(caller), Some(callee)) = (call_id, caller, callee) else {
        return Err(ApiError::validation("call_id", "is required"));
    };
    let request = Authorization {
        call_id,
        caller,
        callee,
        extension,
    };
    Ok(Json(db.authorize_call(&scope, request).await?))
}

/// `{used_seconds}` → what is left of the grant (extended when funds were
/// added since).
pub async fn update(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(call_id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Remaining>> {
    let mut f = Fields::new(&body);
    let used = seconds(&mut f, &body, "used_seconds");
    f.finish()?;
    let used = used.ok_or_else(|| ApiError::validation("used_seconds", "is required"))?;
    Ok(Json(db.update_call(&scope, &call_id, used).await?))
}

/// `{duration}` → the exact amount debited and the hold released; the same
/// answer again for a call already terminated.
pub async fn terminate(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(call_id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Settlement>> {
    let mut f = Fields::new(&body);
    let duration = seconds(&mut f, &body, "duration");
    f.finish()?;
    let duration = duration.ok_or_else(|| ApiError::validation("duration", "is required"))?;
    Ok(Json(db.terminate_call(&scope, &call_id, duration).await?))
}
