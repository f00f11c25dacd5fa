//! `/api/call_rates`: the v22 call rates of the caller's tenant.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use billing::call_rates::{ImportOptions, Imported, CALL_RATE_SPEC};
use billing::{Db, Page, Scope};
use futures::TryStreamExt;
use model::call_rate::{CallRate, CallRateFields, CallRatePatch};
use model::deck::{DeckReport, ImportMode};
use model::ApiId;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::extract::{path_id, JsonObject, ListParamsQuery, TenantScope};

pub async fn list(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<CallRate>>> {
    let query = params.parse(&CALL_RATE_SPEC)?;
    Ok(Json(db.list_call_rates(&scope, &query).await?))
}

pub async fn create(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    scope.require_manager()?;
    let rate = CallRateFields::from_json(&body)?;
    let id = db.create_call_rate(&scope, rate).await?;
    Ok(Json(json!({ "id": ApiId::encode(id) })))
}

pub async fn get(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<Json<CallRate>> {
    let id = path_id(&id, "call rate")?;
    Ok(Json(db.get_call_rate(&scope, id).await?))
}

/// `POST /api/call_rates/{id}`: changes the fields the body names.
pub async fn update(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<StatusCode> {
    scope.require_manager()?;
    let id = path_id(&id, "call rate")?;
    let patch = CallRatePatch::from_json(&body)?;
    db.update_call_rate(&scope, id, patch).await?;
    Ok(StatusCode::OK)
}

pub async fn destroy(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, "call rate")?;
    db.delete_call_rate(&scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/call_rates/export`: a CSV attachment, streamed.
pub async fn export(State(db): State<Db>, TenantScope(scope): TenantScope) -> ApiResult<Response> {
    let stream = db.export_call_rates(&scope).await?;
    Ok(crate::download::attachment(
        stream,
        "call_rates.csv",
        "application/octet-stream",
    ))
}

/// `POST /api/call_rates/import[?dry_run=true][&mode=merge|replace]`: the
/// export's CSV as the body (`text/csv`) or as the file of a multipart form.
/// A commit answers the v22 `{"imported": n}`; a dry run, what the import
/// would do ([`DeckReport`]).
pub async fn import(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    request: Request,
) -> ApiResult<Response> {
    scope.require_manager()?;
    let options = import_options(request.uri().query())?;
    let report = import_deck(&db, &scope, options, request).await?;
    Ok(if options.dry_run {
        Json(report).into_response()
    } else {
        Json(Imported {
            imported: report.imported,
        })
        .into_response()
    })
}

/// The import's options from a query string: `dry_run` (`true` or `false`,
/// default false) and `mode` (`merge`, the default, or `replace`).
pub fn import_options(query: Option<&str>) -> ApiResult<ImportOptions> {
    let mut options = ImportOptions::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "dry_run" => {
                options.dry_run = match value.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(ApiError::validation("dry_run", "must be true or false")),
                }
            }
            "mode" => {
                options.mode = value
                    .parse::<ImportMode>()
                    .map_err(|m| ApiError::validation("mode", m))?
            }
            _ => {}
        }
    }
    Ok(options)
}

/// Runs the import (or its dry run) of the deck a request carries, as the
/// body or as the `file` of a multipart form; the REST API and the portal
/// both go through here.
pub async fn import_deck(
    db: &Db,
    scope: &Scope,
    options: ImportOptions,
    request: Request,
) -> ApiResult<DeckReport> {
    scope.require_manager()?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let report = if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::validation("file", format!("bad multipart body: {e}")))?;
        let field = loop {
            match form.next_field().await {
                Ok(Some(field)) if field.file_name().is_some() || field.name() == Some("file") => {
                    break field
                }
                Ok(Some(_)) => continue,
                Ok(None) => {
                    return Err(ApiError::validation(
                        "file",
                        "is required: send the CSV as a form field named 'file'",
                    ))
                }
                Err(e) => {
                    return Err(ApiError::validation(
                        "file",
                        format!("bad multipart body: {e}"),
                    ))
                }
            }
        };
        db.import_deck(scope, options, field.map_err(|e| e.to_string()))
            .await?
    } else {
        let stream = request
            .into_body()
            .into_data_stream()
            .map_err(|e| e.to_string());
        db.import_deck(scope, options, stream).await?
    };
    Ok(report)
}
