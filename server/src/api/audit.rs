//! `GET /api/audit_log`: who changed what, for administrators.

use axum::extract::State;
use axum::Json;
use billing::audit::{AuditEntry, AUDIT_SPEC};
use billing::{Db, Page};

use super::error::ApiResult;
use super::extract::{Auth, ListParamsQuery, NamedTenant};

/// A tenant administrator's own tenant's entries; a system administrator's
/// every entry, or one tenant's with `tenant_id` (or `X-Tenant-Id`).
pub async fn list(
    State(db): State<Db>,
    Auth(caller): Auth,
    NamedTenant(tenant): NamedTenant,
    params: ListParamsQuery,
) -> ApiResult<Json<Page<AuditEntry>>> {
    billing::audit::require_reader(&caller)?;
    let query = params.parse(&AUDIT_SPEC)?;
    Ok(Json(db.list_audit_log(&caller, tenant, &query).await?))
}
