//! The whole application: the portal (Leptos, server-rendered and hydrated)
//! and the APIs, with the session and safety layers around them.

use app::{shell, App};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use billing::sessions::DbSessionStore;
use billing::Db;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::api::error::ApiError;
use crate::api::extract::TenantScope;
use crate::state::AppState;

/// Builds the router every request goes through (the tests use it too).
pub fn router(state: AppState, secure_cookies: bool) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("ratedeck_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(12)));

    let routes = generate_route_list(App);
    let portal = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let db = state.db.clone();
                move || provide_context(db.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .route("/portal/export/call_rates.csv", get(export_call_rates))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(same_origin_writes))
        .layer(sessions);

    let app = Router::new()
        .merge(crate::api::routes())
        .merge(crate::legacy::routes())
        .merge(crate::xmlrpc::routes())
        .merge(portal)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state);
    crate::headers::layers(app, secure_cookies)
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    /// The tenant a system administrator exports (an opaque id).
    tenant: Option<String>,
}

/// `GET /portal/export/call_rates.csv[?tenant=…]`: the REST API's call-rate
/// export for the portal's logged-in user. The API's own route takes a Bearer
/// token, which the portal's pages do not hold; this one takes the session.
async fn export_call_rates(
    State(db): State<Db>,
    session: Session,
    crate::client::ClientAddr(client): crate::client::ClientAddr,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let user_id: Option<i64> = session
        .get(app::server::USER_KEY)
        .await
        .map_err(billing::Error::internal)?;
    let user_id = user_id.ok_or_else(|| {
        billing::Error::Unauthorized("log in to the portal to export the rates".into())
    })?;
    let origin = billing::Origin::new(billing::Surface::Portal, client);
    let caller = db.caller_for_user(user_id, origin).await?;
    let tenant = match query.tenant.as_deref().filter(|t| !t.is_empty()) {
        Some(text) => Some(model::ApiId::decode(text).ok_or(billing::Error::NotFound("tenant"))?),
        None => None,
    };
    let scope = caller.scope(tenant)?;
    crate::api::call_rates::export(State(db), TenantScope(scope)).await
}

/// Cookie-authenticated writes must come from the portal's own pages: a
/// request that says it comes from another origin is refused (CSRF), on top
/// of the `SameSite=Strict` session cookie.
async fn same_origin_writes(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok());
        if let (Some(origin), Some(host)) = (origin, host) {
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            if origin_host != host {
                return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
            }
        }
    }
    next.run(request).await
}
