//! `/api/webhooks`: a tenant's webhook endpoints (its administrators), and
//! `/api/webhooks/deliveries`, their delivery log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use billing::webhooks::{Delivery, Endpoint, DELIVERY_SPEC, ENDPOINT_SPEC};
use billing::{Db, Page};
use model::webhook::EndpointPatch;

use super::error::ApiResult;
use super::extract::{path_id, JsonObject, ListParamsQuery, TenantScope};

pub async fn list(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<Endpoint>>> {
    scope.require_manager()?;
    let query = params.parse(&ENDPOINT_SPEC)?;
    Ok(Json(db.list_webhook_endpoints(&scope, &query).await?))
}

/// `POST /api/webhooks {url, events, description?, enabled?}`: answers the
/// endpoint with its secret.
pub async fn create(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Endpoint>> {
    scope.require_manager()?;
    let patch = EndpointPatch::from_json(&body)?;
    Ok(Json(db.create_webhook_endpoint(&scope, patch).await?))
}

pub async fn get(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Endpoint>> {
    let id = path_id(&id, "webhook endpoint")?;
    Ok(Json(db.get_webhook_endpoint(&scope, id).await?))
}

pub async fn update(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Endpoint>> {
    scope.require_manager()?;
    let id = path_id(&id, "webhook endpoint")?;
    let patch = EndpointPatch::from_json(&body)?;
    Ok(Json(db.update_webhook_endpoint(&scope, id, patch).await?))
}

/// `POST /api/webhooks/{id}/secret`: a new secret; answers the endpoint.
pub async fn rotate_secret(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Endpoint>> {
    let id = path_id(&id, "webhook endpoint")?;
    Ok(Json(db.rotate_webhook_secret(&scope, id).await?))
}

pub async fn destroy(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, "webhook endpoint")?;
    db.delete_webhook_endpoint(&scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/webhooks/deliveries`: the delivery log, with the list options.
pub async fn deliveries(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<Delivery>>> {
    scope.require_manager()?;
    let query = params.parse(&DELIVERY_SPEC)?;
    Ok(Json(db.list_webhook_deliveries(&scope, &query).await?))
}

pub async fn delivery(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Delivery>> {
    let id = path_id(&id, "webhook delivery")?;
    Ok(Json(db.get_webhook_delivery(&scope, id).await?))
}
