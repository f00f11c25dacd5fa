//! The older tariff API: `/api/tariff/{show,create,update,destroy,list}` and
//! its login `/api/account/credentials/verify`.
//!
//! A "tariff" of this API is one rate of the tenant's default tariff (the v22
//! call rates), with integer ids and its own field names (`call_prefix`,
//! `interval1`, `intervaln`, `price1`, `pricen`, `type` NONE|INCOMING|OUTGOING).
//! Every handler translates onto the same `billing::Db` methods as the REST
//! API; errors use the REST API's JSON error format.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use billing::call_rates::{TariffRef, TARIFF_RATE_SPEC};
use billing::{Db, Error, Surface};
use model::query::{ListParams, ListQuery};
use model::tariff::{RatePatch, StoredRate};
use model::{FieldError, Fields};
use serde_json::{json, Map, Value};

use crate::aliases::LEGACY_RATE;
use crate::api::error::{wrong_method, ApiError, ApiResult};
use crate::api::extract::{origin_of, JsonObject, TenantScope};
use crate::state::AppState;

/// The version this API says it speaks in a login answer.
pub const API_VERSION: &str = "22.0";

/// Largest page of `/api/tariff/list`.
pub const PAGE_SIZE_MAX: i64 = 100;

/// Every operation of this API, as `(method, path)`.
pub const LEGACY_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/account/credentials/verify"),
    ("GET", "/api/tariff/show"),
    ("POST", "/api/tariff/create"),
    ("POST", "/api/tariff/update"),
    ("POST", "/api/tariff/destroy"),
    ("GET", "/api/tariff/list"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/account/credentials/verify",
            post(verify).fallback(wrong_method),
        )
        .route("/api/tariff/show", get(show).fallback(wrong_method))
        .route("/api/tariff/create", post(create).fallback(wrong_method))
        .route("/api/tariff/update", post(update).fallback(wrong_method))
        .route("/api/tariff/destroy", post(destroy).fallback(wrong_method))
        .route("/api/tariff/list", get(list).fallback(wrong_method))
        .layer(axum::Extension(Surface::TariffApi))
}

/// Reads a body with this API's names through the REST API's checks; errors
/// name this API's fields.
fn read_patch(body: &Map<String, Value>) -> Result<RatePatch, ApiError> {
    RatePatch::from_json(&LEGACY_RATE.to_fields(body))
        .map_err(|errors| ApiError(Error::Validation(LEGACY_RATE.to_names(errors))))
}

/// The rate as this API shows it: money as strings of exact digits.
fn view(rate: StoredRate) -> Value {
    let f = rate.fields;
    json!({
        "id": rate.id,
        "type": rate.direction,
        "call_prefix": f.prefix,
        "grace_period": f.grace_period,
        "free_seconds": f.free_seconds,
        "interval1": f.interval_1,
        "intervaln": f.interval_n,
        "price1": f.price_1.to_wire(),
        "pricen": f.price_n.to_wire(),
        "connect_fee": f.connect_fee.to_wire(),
        "postcall_surcharge": f.postcall_surcharge.to_wire(),
    })
}

/// The integer `id` of a body or query.
fn id_of(body: &Map<String, Value>) -> Result<i64, ApiError> {
    let mut f = Fields::new(body);
    let id = f.int("id", 1, i64::MAX);
    let id = f.require("id", id);
    f.finish()?;
    id.ok_or_else(|| ApiError::validation("id", "is required"))
}

/// The query string as a JSON object of strings.
struct QueryMap(Map<String, Value>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        Ok(QueryMap(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        ))
    }
}

/// `POST /api/account/credentials/verify {name, password, domain?}`
async fn verify(
    State(db): State<Db>,
    extensions: axum::http::Extensions,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let mut f = Fields::new(&body);
    let name = f.string("name");
    let name = f.require("name", name);
    let password = f.string("password");
    let password = f.require("password", password);
    let domain = f.string("domain");
    f.finish()?;
    let (Some(name), Some(password)) = (name, password) else {
        return Err(ApiError::validation("name", "is required"));
    };
    let login = db
        .login(&name, &password, domain.as_deref(), origin_of(&extensions))
        .await?;
    let now = billing::db::now_ms();
    Ok(Json(json!({
        "access_token": login.access_token,
        "expires": ((login.expires_at - now).max(0) + 999) / 1000,
        "role": login.role,
        "api_version": API_VERSION,
    })))
}

/// `GET /api/tariff/show?id=`
async fn show(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    QueryMap(query): QueryMap,
) -> ApiResult<Json<Value>> {
    let id = id_of(&query)?;
    let rate = db.get_rate(&scope, TariffRef::Default, id).await?;
    Ok(Json(view(rate)))
}

/// `POST /api/tariff/create`: every documented field is required; a
/// `currency`, when sent, must be the default tariff's.
async fn create(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    scope.require_manager()?;
    let patch = read_patch(&body);
    let mut missing: Vec<FieldError> = LEGACY_RATE
        .pairs()
        .filter(|(ours, field)| *field != "currency" && body.get(*ours).is_none_or(Value::is_null))
        .map(|(ours, _)| FieldError::new(ours, "is required"))
        .collect();
    let patch = match patch {
        Ok(p) if missing.is_empty() => p,
        Ok(_) => return Err(ApiError(Error::Validation(missing))),
        Err(ApiError(Error::Validation(mut errors))) => {
            errors.append(&mut missing);
            return Err(ApiError(Error::Validation(errors)));
        }
        Err(e) => return Err(e),
    };
    let rate = patch
        .into_new(0)
        .map_err(|errors| LEGACY_RATE.to_names(errors))?;
    let id = db.create_rate(&scope, TariffRef::Default, rate).await?;
    Ok(Json(json!({ "id": id })))
}

/// `POST /api/tariff/update {id, …}`: changes the fields the body names.
async fn update(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    scope.require_manager()?;
    let id = id_of(&body)?;
    let patch = read_patch(&body)?;
    db.update_rate(&scope, TariffRef::Default, id, patch)
        .await?;
    Ok(Json(json!({})))
}

/// `POST /api/tariff/destroy {id}`: an id that names no rate of the tenant
/// is "invalid" (400), as the document says.
async fn destroy(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let id = id_of(&body)?;
    match db.delete_rate(&scope, TariffRef::Default, id).await {
        Ok(()) => Ok(Json(json!({}))),
        Err(Error::NotFound(_)) => Err(ApiError::validation(
            "id",
            "is not the id of a tariff of the tenant",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/tariff/list?pagination=&pagesize=&sort_by=`: `pagination` is
/// the 1-based page (default 1), `pagesize` 1..100 (default 10), `sort_by`
/// DEFAULT (by id) or OPTIONAL (by call prefix).
async fn list(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    QueryMap(query): QueryMap,
) -> ApiResult<Json<Value>> {
    let mut f = Fields::new(&query);
    let page = f.int("pagination", 1, i64::from(i32::MAX)).unwrap_or(1);
    let size = f.int("pagesize", 1, PAGE_SIZE_MAX).unwrap_or(10);
    let sort_by = f
        .string("sort_by")
        .map(|s| s.trim().to_ascii_uppercase())
        .unwrap_or_else(|| "DEFAULT".into());
    if sort_by != "DEFAULT" && sort_by != "OPTIONAL" {
        f.error("sort_by", "must be one of DEFAULT, OPTIONAL");
    }
    f.finish()?;
    let order = if sort_by == "OPTIONAL" {
        "prefix,id"
    } else {
        "id"
    };
    let params = ListParams {
        orderby: Some(order.to_string()),
        top: Some(size.to_string()),
        skip: Some(((page - 1).saturating_mul(size)).to_string()),
        ..ListParams::default()
    };
    let query = ListQuery::parse(&params, &TARIFF_RATE_SPEC)?;
    let found = db.list_rates(&scope, TariffRef::Default, &query).await?;
    let rates: Vec<Value> = found.items.into_iter().map(view).collect();
    Ok(Json(json!({
        "pagesize": size,
        "count": found.count,
        "call_rates": rates,
        "pagination": page,
        "sort_by": sort_by,
    })))
}
