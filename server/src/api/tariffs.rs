//! `/api/tariffs`, with each tariff's rates.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use billing::call_rates::{TariffRef, TARIFF_RATE_SPEC};
use billing::tariffs::{Tariff, TARIFF_SPEC};
use billing::time::rfc3339;
use billing::{Db, Page};
use model::call_rate::CallRateFields;
use model::tariff::{RateDirection, RatePatch, StoredRate, TariffPatch};
use model::{ApiId, Money};
use serde::Serialize;

use super::error::ApiResult;
use super::extract::{path_id, JsonObject, ListParamsQuery, TenantScope};

/// A tariff on the wire.
#[derive(Debug, Serialize)]
pub struct TariffView {
    id: String,
    name: String,
    currency: String,
    free_seconds: i64,
    connect_fee: Money,
    post_call_surcharge: Money,
    grace_period: i64,
    is_default: bool,
    created_at: String,
}

impl From<Tariff> for TariffView {
    fn from(t: Tariff) -> TariffView {
        TariffView {
            id: ApiId::encode(t.id),
            name: t.name,
            currency: t.currency,
            free_seconds: t.free_seconds,
            connect_fee: t.connect_fee,
            post_call_surcharge: t.post_call_surcharge,
            grace_period: t.grace_period,
            is_default: t.is_default,
            created_at: rfc3339(t.created_at),
        }
    }
}

/// A rate of a tariff on the wire: the v22 fields and the schedule.
#[derive(Debug, Serialize)]
pub struct RateView {
    id: String,
    tariff_id: String,
    #[serde(flatten)]
    fields: CallRateFields,
    direction: RateDirection,
    activation_at: String,
    expiration_at: Option<String>,
    forbidden: bool,
    grace_period_enable: bool,
}

impl From<StoredRate> for RateView {
    fn from(r: StoredRate) -> RateView {
        RateView {
            id: ApiId::encode(r.id),
            tariff_id: ApiId::encode(r.tariff_id),
            fields: r.fields,
            direction: r.direction,
            activation_at: rfc3339(r.activation_at),
            expiration_at: r.expiration_at.map(rfc3339),
            forbidden: r.forbidden,
            grace_period_enable: r.grace_period_enable,
        }
    }
}

pub async fn list(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<TariffView>>> {
    let query = params.parse(&TARIFF_SPEC)?;
    Ok(Json(db.list_tariffs(&scope, &query).await?.map(Into::into)))
}

pub async fn create(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<TariffView>> {
    scope.require_manager()?;
    let new = TariffPatch::from_json(&body)?.into_new()?;
    Ok(Json(db.create_tariff(&scope, new).await?.into()))
}

pub async fn get(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<TariffView>> {
    let id = path_id(&id, "tariff")?;
    Ok(Json(db.get_tariff(&scope, id).await?.into()))
}

/// `POST /api/tariffs/{id}`: changes the fields the body names.
pub async fn update(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<TariffView>> {
    scope.require_manager()?;
    let id = path_id(&id, "tariff")?;
    let patch = TariffPatch::from_json(&body)?;
    Ok(Json(db.update_tariff(&scope, id, patch).await?.into()))
}

pub async fn destroy(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, "tariff")?;
    db.delete_tariff(&scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_rates(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<RateView>>> {
    let id = path_id(&id, "tariff")?;
    let query = params.parse(&TARIFF_RATE_SPEC)?;
    Ok(Json(
        db.list_rates(&scope, TariffRef::Id(id), &query)
            .await?
            .map(Into::into),
    ))
}

/// `POST /api/tariffs/{id}/rates`: a new rate, in force from `activation_at`
/// (default: always). The per-rate `free_seconds`, `grace_period`,
/// `connect_fee` and `postcall_surcharge` default to the tariff's.
pub async fn create_rate(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<RateView>> {
    scope.require_manager()?;
    let id = path_id(&id, "tariff")?;
    let rate = RatePatch::from_json(&body)?.into_new(0)?;
    let tariff = TariffRef::Id(id);
    let rate_id = db.create_rate(&scope, tariff, rate).await?;
    Ok(Json(db.get_rate(&scope, tariff, rate_id).await?.into()))
}

pub async fn get_rate(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path((id, rate_id)): Path<(String, String)>,
) -> ApiResult<Json<RateView>> {
    let tariff = TariffRef::Id(path_id(&id, "tariff")?);
    let rate_id = path_id(&rate_id, "call rate")?;
    Ok(Json(db.get_rate(&scope, tariff, rate_id).await?.into()))
}

pub async fn update_rate(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path((id, rate_id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<RateView>> {
    scope.require_manager()?;
    let tariff = TariffRef::Id(path_id(&id, "tariff")?);
    let rate_id = path_id(&rate_id, "call rate")?;
    let patch = RatePatch::from_json(&body)?;
    Ok(Json(
        db.update_rate(&scope, tariff, rate_id, patch).await?.into(),
    ))
}

pub async fn destroy_rate(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path((id, rate_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let tariff = TariffRef::Id(path_id(&id, "tariff")?);
    let rate_id = path_id(&rate_id, "call rate")?;
    db.delete_rate(&scope, tariff, rate_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
