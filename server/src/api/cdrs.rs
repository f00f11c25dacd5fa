//! `/api/cdrs` (the PBX posts finished calls; administrators read them) and
//! `/api/user/cdrs` (a user reads its own calls), in the v22 CDR shapes.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use billing::cdrs::{Cdr, Ingested, CDR_SPEC};
use billing::rerate::{RerateFilter, Rerated};
use billing::{Db, Error};
use model::cdr::{NewCdr, MAX_BATCH};
use model::FieldError;
use serde_json::{json, Map, Value};

use super::error::{ApiError, ApiResult};
use super::extract::{path_id, Auth, CarriedScope, JsonObject, ListParamsQuery, TenantScope};

/// Every field a CDR shows, in the v22 order.
const FIELDS: &[&str] = &[
    "id",
    "caller",
    "caller_domain",
    "caller_display_name",
    "callee",
    "callee_domain",
    "callee_display_name",
    "started_at",
    "rang_at",
    "answered_at",
    "ended_at",
    "call_id",
    "direction",
    "end_reason",
    "reroute_reason",
    "status_code",
    "destination",
    "outbound_caller_id",
    "did_cid",
    "trunk",
    "duration",
    "cost",
    "billed_account",
    "user_data",
    "rating_status",
    "unrated_reason",
];
/// Left out of `GET /api/cdrs` (as in the v22 list).
const NOT_IN_LIST: &[&str] = &["user_data"];
/// Left out of `GET /api/cdrs/{id}`.
const NOT_IN_DETAIL: &[&str] = &[];
/// Left out of `GET /api/user/cdrs/{id}`: how the call was charged is the
/// administrators' business.
const NOT_IN_USER_DETAIL: &[&str] = &["rating_status", "unrated_reason"];
/// The fields of `GET /api/user/cdrs`, the v22 user list.
const USER_LIST_FIELDS: &[&str] = &[
    "id",
    "caller",
    "caller_domain",
    "caller_display_name",
    "callee",
    "callee_domain",
    "callee_display_name",
    "started_at",
    "ended_at",
    "duration",
    "status_code",
];

/// Fields the v22 shapes give a minimum length: left out when empty.
const NOT_EMPTY: &[&str] = &["outbound_caller_id"];

/// The CDR's fields that are in `fields` and not in `except`, in order. A
/// value the call does not have (null, or an empty caller id) is left out, as
/// the v22 shapes type these fields without null.
fn pick(cdr: &Cdr, fields: &[&str], except: &[&str]) -> ApiResult<Value> {
    let Value::Object(all) = serde_json::to_value(cdr).map_err(|e| ApiError(Error::internal(e)))?
    else {
        return Err(ApiError(Error::internal("a CDR is not an object")));
    };
    let picked: Map<String, Value> = fields
        .iter()
        .filter(|f| !except.contains(f))
        .filter_map(|f| all.get(*f).map(|v| ((*f).to_string(), v.clone())))
        .filter(|(name, value)| {
            let empty = NOT_EMPTY.contains(&name.as_str()) && value == "";
            !(value.is_null() || empty)
        })
        .collect();
    Ok(Value::Object(picked))
}

fn page(page: billing::Page<Cdr>, fields: &[&str], except: &[&str]) -> ApiResult<Json<Value>> {
    let items = page
        .items
        .iter()
        .map(|c| pick(c, fields, except))
        .collect::<ApiResult<Vec<_>>>()?;
    let mut answer = json!({"count": page.count, "items": items});
    if let Some(cursor) = page.cursor {
        answer["cursor"] = Value::from(cursor);
    }
    if let Some(cursor) = page.previous_cursor {
        answer["previous_cursor"] = Value::from(cursor);
    }
    Ok(Json(answer))
}

/// `POST /api/cdrs`: one CDR object, an array of them, or `{"cdrs": [...]}`
/// (up to 10,000). Taken or refused whole; every bad entry is named.
pub async fn ingest(
    State(db): State<Db>,
    CarriedScope(scope): CarriedScope,
    body: Bytes,
) -> ApiResult<Json<Ingested>> {
    scope.require_manager()?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::validation("body", format!("is not valid JSON ({e})")))?;
    let (entries, prefix) = match value {
        Value::Array(items) => (items, "cdrs"),
        Value::Object(mut map) => match map.remove("cdrs") {
            Some(Value::Array(items)) => (items, "cdrs"),
            Some(_) => return Err(ApiError::validation("cdrs", "must be an array of CDRs")),
            None => (vec![Value::Object(map)], ""),
        },
        _ => {
            return Err(ApiError::validation(
                "body",
                "must be a CDR or an array of CDRs",
            ))
        }
    };
    if entries.is_empty() {
        return Err(ApiError::validation("cdrs", "must hold at least one CDR"));
    }
    if entries.len() > MAX_BATCH {
        return Err(ApiError::validation(
            "cdrs",
            format!(
                "holds {} CDRs; at most {MAX_BATCH} are taken at once",
                entries.len()
            ),
        ));
    }
    let mut cdrs = Vec::with_capacity(entries.len());
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let name = |field: &str| {
            if prefix.is_empty() {
                field.to_string()
            } else {
                format!("{prefix}[{i}].{field}")
            }
        };
        let Some(object) = entry.as_object() else {
            errors.push(FieldError::new(
                name("").trim_end_matches('.'),
                "must be a CDR object",
            ));
            continue;
        };
        match NewCdr::from_json(object) {
            Ok(cdr) => {
                if !seen.insert(cdr.call.call_id.clone()) {
                    errors.push(FieldError::new(
                        name("call_id"),
                        "appears twice in the batch",
                    ));
                }
                cdrs.push(cdr);
            }
            Err(found) => errors.extend(
                found
                    .into_iter()
                    .map(|e| FieldError::new(name(&e.field), e.message)),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    Ok(Json(db.ingest_cdrs(&scope, cdrs).await?))
}

/// The fields a route's answers show: the tenant's CDRs (administrators)
/// or the caller's own (whose scope says so).
struct Reader {
    list: (&'static [&'static str], &'static [&'static str]),
    detail: (&'static [&'static str], &'static [&'static str]),
}

const TENANT: Reader = Reader {
    list: (FIELDS, NOT_IN_LIST),
    detail: (FIELDS, NOT_IN_DETAIL),
};

const OWN: Reader = Reader {
    list: (USER_LIST_FIELDS, &[]),
    detail: (FIELDS, NOT_IN_USER_DETAIL),
};

impl Reader {
    async fn list(
        &self,
        db: &Db,
        scope: &billing::Scope,
        params: ListParamsQuery,
    ) -> ApiResult<Json<Value>> {
        let query = params.parse(&CDR_SPEC)?;
        let (fields, except) = self.list;
        page(db.list_cdrs(scope, &query).await?, fields, except)
    }

    async fn get(&self, db: &Db, scope: &billing::Scope, id: &str) -> ApiResult<Json<Value>> {
        let cdr = db.get_cdr(scope, path_id(id, "CDR")?).await?;
        let (fields, except) = self.detail;
        Ok(Json(json!({ "items": pick(&cdr, fields, except)? })))
    }
}

/// `GET /api/cdrs`: the tenant's CDRs (a standard user: its own).
pub async fn list(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
) -> ApiResult<Json<Value>> {
    TENANT.list(&db, &scope, params).await
}

/// `GET /api/cdrs/export`: every CDR the list options (`filter`, `search`,
/// `orderby`) match, as a CSV attachment, streamed.
pub async fn export(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
) -> ApiResult<Response> {
    export_of(&db, &scope, params).await
}

/// `GET /api/user/cdrs/export`: the same, of the caller's own calls.
pub async fn export_own(
    State(db): State<Db>,
    Auth(caller): Auth,
    params: ListParamsQuery,
) -> ApiResult<Response> {
    export_of(&db, &billing::Scope::own_account(&caller)?, params).await
}

async fn export_of(
    db: &Db,
    scope: &billing::Scope,
    params: ListParamsQuery,
) -> ApiResult<Response> {
    let params = ListParamsQuery(model::query::ListParams {
        skip: None,
        top: None,
        ..params.0
    });
    let query = params.parse(&CDR_SPEC)?;
    let stream = db.export_cdrs(scope, &query).await?;
    Ok(crate::download::attachment(
        stream,
        "cdrs.csv",
        "text/csv; charset=utf-8",
    ))
}

/// `GET /api/cdrs/{id}`.
pub async fn get(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    TENANT.get(&db, &scope, &id).await
}

/// `GET /api/user/cdrs`: the caller's own calls, whatever tenant or user
/// the request names.
pub async fn list_own(
    State(db): State<Db>,
    Auth(caller): Auth,
    params: ListParamsQuery,
) -> ApiResult<Json<Value>> {
    OWN.list(&db, &billing::Scope::own_account(&caller)?, params)
        .await
}

pub async fn get_own(
    State(db): State<Db>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    OWN.get(&db, &billing::Scope::own_account(&caller)?, &id)
        .await
}

/// `POST /api/cdrs/rerate {from?, to?, prefix?, status?, call_ids?}`:
/// re-rates the matching CDRs with the current rates (administrators).
pub async fn rerate(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Rerated>> {
    let mut f = model::Fields::new(&body);
    let from = f.timestamp("from");
    let to = f.timestamp("to");
    let prefix = f.text("prefix", 64);
    let status = f.string("status");
    let call_ids = match body.get("call_ids") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let ids: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            if ids.is_none() {
                f.error("call_ids", "must be an array of call ids");
            }
            ids
        }
        Some(_) => {
            f.error("call_ids", "must be an array of call ids");
            None
        }
    };
    f.finish()?;
    let filter = RerateFilter {
        from,
        to,
        prefix,
        status,
        call_ids,
    };
    Ok(Json(db.rerate_cdrs(&scope, filter).await?))
}
