//! `POST /api/rating/quote`: what a call would cost the caller's tenant;
//! `POST /api/user/quote`: what it would cost the caller's own account.

use axum::extract::State;
use axum::Json;
use billing::quote::QuoteAnswer;
use billing::quote_request::QuoteRequest;
use billing::Db;

use super::error::ApiResult;
use super::extract::{Auth, JsonObject, TenantScope};

/// `{callee, duration, at?}`: `duration` in seconds (a fraction is rounded up
/// to the next second), `at` the call's start in RFC 3339 (default now).
pub async fn quote(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<QuoteAnswer>> {
    quote_for(&db, &scope, &body).await
}

/// The same body and answer, with the rates that apply to the caller's own
/// calls, whatever tenant the request names.
pub async fn quote_own(
    State(db): State<Db>,
    Auth(caller): Auth,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<QuoteAnswer>> {
    quote_for(&db, &billing::Scope::own_account(&caller)?, &body).await
}

async fn quote_for(
    db: &Db,
    scope: &billing::Scope,
    body: &serde_json::Map<String, serde_json::Value>,
) -> ApiResult<Json<QuoteAnswer>> {
    let request = QuoteRequest::from_json(body)?;
    Ok(Json(
        db.quote(scope, &request.callee, request.duration, request.at)
            .await?,
    ))
}
