//! The whole application: the portal (Leptos, server-rendered and hydrated)
//! and the APIs, with the session and safety layers around them.

use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use axum::Router;
use billing::sessions::DbSessionStore;
use billing::{Db, Scope};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use model::deck::DeckReport;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::api::error::ApiError;
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
        .route(
            "/portal/import/call_rates",
            post(import_call_rates).layer(DefaultBodyLimit::max(crate::api::IMPORT_LIMIT)),
        )
        .route("/portal/export/cdrs.csv", get(export_cdrs))
        .route("/portal/export/statements/{file}", get(export_statement))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(same_origin_writes))
        .layer(sessions);

    let app = Router::new()
        .merge(crate::api::routes())
        .merge(crate::legacy::routes())
        .merge(crate::xmlrpc::routes())
        .merge(portal)
        .route_layer(middleware::from_fn(crate::ops::track))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state);
    let app = catch_panics(app).layer(middleware::from_fn(crate::ops::request_id));
    crate::headers::layers(app, secure_cookies)
}

tokio::task_local! {
    /// The method and path of the request being served, for the panic hook.
    static ROUTE: String;
}

/// The last safety net: a panic while serving a request answers 500 in the
/// REST error format (`INTERNAL_ERROR`) instead of dropping the connection,
/// and is logged once, with the request's method and path and where it
/// panicked. Every route of [`router`] is behind it.
pub fn catch_panics(router: Router) -> Router {
    install_panic_hook();
    router
        .layer(middleware::from_fn(remember_route))
        .layer(CatchPanicLayer::custom(panic_response))
}

async fn remember_route(request: Request, next: Next) -> Response {
    let route = format!("{} {}", request.method(), request.uri().path());
    ROUTE.scope(route, next.run(request)).await
}

/// Logs a panic inside a request (the route is known) as one error event;
/// any other panic goes to the hook that was there before.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| match ROUTE.try_with(Clone::clone) {
            Ok(route) => {
                let message = panic_message(info.payload());
                let location = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                tracing::error!(%route, %location, %message, "request panicked");
            }
            Err(_) => previous(info),
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let body = serde_json::json!({"errors": [{
        "code": "INTERNAL_ERROR",
        "message": "internal error",
        "detail": "The server could not complete the request; it has been logged.",
    }]});
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    /// The tenant a system administrator exports (an opaque id).
    tenant: Option<String>,
}

/// The scope of the portal's logged-in user on `tenant` (a system
/// administrator's choice, an opaque id); `refusal` says what to do when
/// nobody is logged in.
async fn portal_scope(
    db: &Db,
    session: &Session,
    client: Option<std::net::IpAddr>,
    tenant: Option<&str>,
    refusal: &str,
) -> Result<Scope, ApiError> {
    let caller = app::server::session_caller(db, session, client)
        .await?
        .ok_or_else(|| billing::Error::Unauthorized(refusal.into()))?;
    Ok(Scope::for_caller(&caller, tenant)?)
}

/// `GET /portal/export/call_rates.csv[?tenant=…]`: the call-rate export
/// for the portal's logged-in user. The API's own route takes a Bearer
/// token, which the portal's pages do not hold; this one takes the session.
async fn export_call_rates(
    State(db): State<Db>,
    session: Session,
    crate::client::ClientAddr(client): crate::client::ClientAddr,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let scope = portal_scope(
        &db,
        &session,
        client,
        query.tenant.as_deref(),
        "log in to the portal to export the rates",
    )
    .await?;
    let stream = db.export_call_rates(&scope).await?;
    Ok(crate::download::attachment(
        stream,
        "call_rates.csv",
        "application/octet-stream",
    ))
}

/// `POST /portal/import/call_rates?[tenant=…&]dry_run=…&mode=…`: the REST
/// API's deck import (the CSV as the body) for the portal's logged-in user.
/// It answers the whole report, a commit's as well as a dry run's.
async fn import_call_rates(
    State(db): State<Db>,
    session: Session,
    crate::client::ClientAddr(client): crate::client::ClientAddr,
    request: Request,
) -> Result<Json<DeckReport>, ApiError> {
    let query = request.uri().query();
    let tenant = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "tenant")
        .map(|(_, v)| v.into_owned());
    let options = crate::api::call_rates::import_options(query)?;
    let scope = portal_scope(
        &db,
        &session,
        client,
        tenant.as_deref(),
        "log in to the portal to import rates",
    )
    .await?;
    let report = crate::api::call_rates::import_deck(&db, &scope, options, request).await?;
    Ok(Json(report))
}

/// `GET /portal/export/cdrs.csv[?tenant=…&from=…]`: the REST API's CDR
/// export for the portal's logged-in user, with the calls page's filters:
/// the tenant's calls for its administrators, a standard user's own.
async fn export_cdrs(
    State(db): State<Db>,
    session: Session,
    crate::client::ClientAddr(client): crate::client::ClientAddr,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = app::server::session_caller(&db, &session, client)
        .await?
        .ok_or_else(|| {
            billing::Error::Unauthorized("log in to the portal to export the calls".into())
        })?;
    // A standard user exports its own calls, whatever tenant it names.
    let scope = Scope::reading(&caller, query.get("tenant").map(String::as_str))?;
    let arg = |key: &str| query.get(key).cloned();
    let args = app::functions::cdrs::CdrListArgs {
        from: arg("from"),
        to: arg("to"),
        search: arg("search"),
        status: arg("status"),
        direction: arg("direction"),
        orderby: arg("orderby"),
        skip: None,
        top: None,
    };
    let errors = args.check();
    if !errors.is_empty() {
        return Err(billing::Error::Validation(errors).into());
    }
    let query = model::query::ListQuery::parse(&args.list_params(), &billing::cdrs::CDR_SPEC)?;
    let stream = db.export_cdrs(&scope, &query).await?;
    Ok(crate::download::attachment(
        stream,
        "cdrs.csv",
        "text/csv; charset=utf-8",
    ))
}

/// `GET /portal/export/statements/{id}.csv[?tenant=…]`: the REST API's
/// statement CSV for the portal's logged-in user: any statement of the
/// tenant for its administrators, a standard user's own.
async fn export_statement(
    State(db): State<Db>,
    session: Session,
    crate::client::ClientAddr(client): crate::client::ClientAddr,
    Path(file): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let caller = app::server::session_caller(&db, &session, client)
        .await?
        .ok_or_else(|| {
            billing::Error::Unauthorized("log in to the portal to export a statement".into())
        })?;
    let scope = Scope::reading(&caller, query.tenant.as_deref())?;
    let id = file
        .strip_suffix(".csv")
        .and_then(model::ApiId::decode)
        .ok_or(billing::Error::NotFound("statement"))?;
    let (name, text) = db.statement_csv(&scope, id).await?;
    Ok(crate::api::statements::csv_attachment(&name, text))
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
