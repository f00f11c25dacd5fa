//! Statements per billing cycle: `/api/tenant/statement_settings` (the
//! tenant's cycle and tax), `/api/statements` (the list),
//! `/api/statements/{id}` (one with its lines) and its CSV.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use billing::statements::{Statement, StatementDetail, STATEMENT_SPEC};
use billing::{Db, Page};
use model::statement::{StatementSettings, StatementSettingsPatch};

use super::error::{ApiError, ApiResult};
use super::extract::{path_id, JsonObject, ListParamsQuery, ReadingScope, TenantScope};

/// `GET /api/tenant/statement_settings`
pub async fn get_settings(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
) -> ApiResult<Json<StatementSettings>> {
    Ok(Json(db.statement_settings(&scope).await?))
}

/// `POST /api/tenant/statement_settings`: any subset of `cycle`,
/// `cycle_day`, `tax_name`, `tax_rate`, `tax_included`; answers the
/// settings as saved.
pub async fn set_settings(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<StatementSettings>> {
    scope.require_manager()?;
    let patch = StatementSettingsPatch::from_json(&body).map_err(ApiError::from)?;
    Ok(Json(db.update_statement_settings(&scope, patch).await?))
}

/// `GET /api/statements`: the list options; a standard user's own.
pub async fn list(
    State(db): State<Db>,
    ReadingScope(scope): ReadingScope,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<Statement>>> {
    let query = params.parse(&STATEMENT_SPEC)?;
    Ok(Json(db.list_statements(&scope, &query).await?))
}

/// `GET /api/statements/{id}`: one statement with its lines.
pub async fn get(
    State(db): State<Db>,
    ReadingScope(scope): ReadingScope,
    Path(id): Path<String>,
) -> ApiResult<Json<StatementDetail>> {
    let id = path_id(&id, "statement")?;
    Ok(Json(db.get_statement(&scope, id).await?))
}

/// `GET /api/statements/{id}/csv`: one statement as CSV.
pub async fn csv(
    State(db): State<Db>,
    ReadingScope(scope): ReadingScope,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = path_id(&id, "statement")?;
    let (name, text) = db.statement_csv(&scope, id).await?;
    Ok(csv_attachment(&name, text))
}

/// A statement's CSV as an attachment named `name`.
pub fn csv_attachment(name: &str, text: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response()
}
