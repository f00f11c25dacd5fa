//! Server functions: what the pages ask the server, under `/portal/fn`.
//!
//! Each one takes the caller from the portal session (never from the
//! request) and runs the same `billing` use case as the REST API, which checks
//! the caller's rights and tenant itself. Inputs that can be wrong field by
//! field are checked with the `model` validators that the browser has already
//! run. A refusal answers the HTTP status of its kind (400 for field
//! problems, 403, 404, 409, 422, 429), and field problems travel as
//! [`invalid_fields`] reads them, so that the form can show each message next
//! to its field.

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod balances;
pub mod billing_plans;
pub mod billing_settings;
pub mod cdrs;
pub mod codec;
pub mod days;
pub mod live;
pub mod overview;
pub mod people;
pub mod prices;
pub mod rates;
pub mod reports;
pub mod statements;
pub mod tariffs;
pub mod tenants;
pub mod tokens;
pub mod webhooks;

use leptos::prelude::ServerFnError;
use model::FieldError;

/// The start of a server-function error's text when a change was refused
/// field by field; the problems follow as JSON.
const INVALID_FIELDS: &str = "invalid fields: ";

/// The problems of a change refused field by field (HTTP 400), when that is
/// what `e` is.
pub fn invalid_fields(e: &ServerFnError) -> Option<Vec<FieldError>> {
    match e {
        ServerFnError::ServerError(text) => {
            serde_json::from_str(text.strip_prefix(INVALID_FIELDS)?).ok()
        }
        _ => None,
    }
}

/// The field problems a change's outcome holds (none unless it was refused
/// field by field).
pub fn refused_fields<T>(outcome: &Option<Result<T, ServerFnError>>) -> Vec<FieldError> {
    match outcome {
        Some(Err(e)) => invalid_fields(e).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// A refusal field by field, answered with HTTP 400.
#[cfg(feature = "ssr")]
pub(crate) fn invalid(errors: Vec<FieldError>) -> ServerFnError {
    crate::server::set_status(axum::http::StatusCode::BAD_REQUEST);
    let json = serde_json::to_string(&errors).unwrap_or_else(|_| "[]".into());
    ServerFnError::ServerError(format!("{INVALID_FIELDS}{json}"))
}

/// A page's list parameters read against `spec`; a bad one is refused at
/// its field (`filter`, `orderby`, `skip`, ...) with HTTP 400.
#[cfg(feature = "ssr")]
pub(crate) fn list_query(
    params: &model::query::ListParams,
    spec: &model::query::ResourceSpec,
) -> Result<model::query::ListQuery, ServerFnError> {
    model::query::ListQuery::parse(params, spec)
        .map_err(|e| invalid(vec![FieldError::new(e.parameter, e.message)]))
}

/// A use case's result as a server function answers it.
#[cfg(feature = "ssr")]
pub(crate) fn answer<T>(result: ::billing::Result<T>) -> Result<T, ServerFnError> {
    result.map_err(crate::server::to_server_error)
}

/// The scope of a caller who may change the tenant's data (an
/// administrator), as the save functions need it.
#[cfg(feature = "ssr")]
pub(crate) async fn manager_scope(
    tenant: Option<String>,
) -> Result<::billing::Scope, ServerFnError> {
    let scope = crate::server::scope(tenant).await?;
    scope
        .require_manager()
        .map_err(crate::server::to_server_error)?;
    Ok(scope)
}

/// A body read by a `model` reader; its field problems answered field by
/// field. The browser ran the same check; a request from elsewhere may not
/// have.
#[cfg(feature = "ssr")]
pub(crate) fn read<T>(read: Result<T, Vec<FieldError>>) -> Result<T, ServerFnError> {
    read.map_err(invalid)
}

/// The internal id of an opaque one; one that does not decode is `what`
/// not found.
#[cfg(feature = "ssr")]
pub(crate) fn id_of(wire: &str, what: &'static str) -> Result<i64, ServerFnError> {
    model::ApiId::decode(wire)
        .ok_or_else(|| crate::server::to_server_error(::billing::Error::NotFound(what)))
}

/// Refuses (403) a scope that reads more than the caller's own account
/// unless its caller manages the tenant: what a page of one's own (calls,
/// balance, ledger) reads for everyone else.
#[cfg(feature = "ssr")]
pub(crate) fn own_or_managers(scope: &::billing::Scope, what: &str) -> Result<(), ServerFnError> {
    if scope.own {
        Ok(())
    } else {
        managers_only(scope, what)
    }
}

/// Refuses (403) a caller who does not manage the scope's tenant: `what`
/// says what only its administrators do ("see its calls").
#[cfg(feature = "ssr")]
pub(crate) fn managers_only(scope: &::billing::Scope, what: &str) -> Result<(), ServerFnError> {
    if scope.caller.role.manages_tenant() {
        Ok(())
    } else {
        Err(crate::server::to_server_error(::billing::Error::Forbidden(
            format!("only the tenant's administrators {what}"),
        )))
    }
}
