//! The REST API under `/api`: the v22 billing operations and their neighbours.

pub mod call_rates;
pub mod error;
pub mod extract;
pub mod login;
pub mod openapi;
pub mod tenants;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Largest call-rate deck an import takes (about ten million rows).
const IMPORT_LIMIT: usize = 1 << 30;

/// Every `/api` route. Kept as a list so the OpenAPI test can compare it with
/// the published document.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login::login).get(login::status))
        .route("/api/login/refresh", post(login::refresh))
        .route("/api/logout", post(login::logout))
        .route(
            "/api/tokens",
            get(login::list_tokens).post(login::create_token),
        )
        .route("/api/tokens/{id}/destroy", post(login::revoke_token))
        .route(
            "/api/tenants",
            get(tenants::list_tenants).post(tenants::create_tenant),
        )
        .route("/api/tenants/{id}", get(tenants::get_tenant))
        .route(
            "/api/users",
            get(tenants::list_users).post(tenants::create_user),
        )
        .route("/api/users/{id}", get(tenants::get_user))
        .route(
            "/api/tenant/billing",
            get(tenants::get_billing).post(tenants::set_billing),
        )
        .route(
            "/api/call_rates",
            get(call_rates::list).post(call_rates::create),
        )
        .route("/api/call_rates/export", get(call_rates::export))
        .route(
            "/api/call_rates/import",
            post(call_rates::import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route(
            "/api/call_rates/{id}",
            get(call_rates::get).post(call_rates::update),
        )
        .route("/api/call_rates/{id}/destroy", post(call_rates::destroy))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/docs", get(openapi::docs_page))
        .method_not_allowed_fallback(error::wrong_method)
        .route("/api", axum::routing::any(error::unknown_route))
        .route("/api/{*rest}", axum::routing::any(error::unknown_route))
}
