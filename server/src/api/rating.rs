//! `POST /api/rating/quote`: what a call would cost the caller's tenant.

use axum::extract::State;
use axum::Json;
use billing::quote::QuoteAnswer;
use billing::quote_request::QuoteRequest;
use billing::Db;

use super::error::ApiResult;
use super::extract::{JsonObject, TenantScope};

/// `{callee, duration, at?}`: `duration` in seconds (a fraction is rounded up
/// to the next second), `at` the call's start in RFC 3339 (default now).
pub async fn quote(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<QuoteAnswer>> {
    let request = QuoteRequest::from_json(&body)?;
    Ok(Json(
        db.quote(&scope, &request.callee, request.duration, request.at)
            .await?,
    ))
}
