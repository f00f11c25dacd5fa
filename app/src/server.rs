//! Server-side helpers of the server functions: the database and the caller.

use axum::http::StatusCode;
use billing::{Caller, Db, Scope};
use leptos::prelude::*;
use tower_sessions::Session;

/// Session key of the logged-in user's id.
pub const USER_KEY: &str = "user_id";

pub fn db() -> Result<Db, ServerFnError> {
    use_context::<Db>().ok_or_else(|| ServerFnError::new("the database is not available"))
}

pub async fn session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| ServerFnError::new(format!("no session: {e}")))
}

/// The address of the browser that sent the request, when the server knows it.
pub async fn client_addr() -> Option<std::net::IpAddr> {
    let parts = leptos_axum::extract::<axum::http::request::Parts>()
        .await
        .ok()?;
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(address)| address.ip())
}

/// The caller behind a portal session, `None` when nobody is logged in:
/// what the server functions and the portal's own routes both go by.
pub async fn session_caller(
    db: &Db,
    session: &Session,
    client: Option<std::net::IpAddr>,
) -> billing::Result<Option<Caller>> {
    let Some(user_id) = session
        .get::<i64>(USER_KEY)
        .await
        .map_err(billing::Error::internal)?
    else {
        return Ok(None);
    };
    let origin = billing::Origin::new(billing::Surface::Portal, client);
    db.caller_for_user(user_id, origin).await.map(Some)
}

/// The logged-in caller; an error (401) when nobody is logged in.
pub async fn caller() -> Result<Caller, ServerFnError> {
    let caller = session_caller(&db()?, &session().await?, client_addr().await)
        .await
        .map_err(to_server_error)?;
    caller.ok_or_else(|| {
        set_status(StatusCode::UNAUTHORIZED);
        ServerFnError::new("not logged in")
    })
}

/// Where a portal request came from: the portal, and the browser's address.
pub async fn portal_origin() -> billing::Origin {
    billing::Origin::new(billing::Surface::Portal, client_addr().await)
}

/// The logged-in caller, or `None` (the answer's status untouched).
pub async fn caller_if_any() -> Result<Option<Caller>, ServerFnError> {
    Ok(
        session_caller(&db()?, &session().await?, client_addr().await)
            .await
            .ok()
            .flatten(),
    )
}

/// The HTTP status a use-case error answers with.
pub fn status_of(e: &billing::Error) -> StatusCode {
    match e {
        billing::Error::Validation(_) | billing::Error::BadLines { .. } => StatusCode::BAD_REQUEST,
        billing::Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        billing::Error::Forbidden(_) | billing::Error::Inactive { .. } => StatusCode::FORBIDDEN,
        billing::Error::NotFound(_) => StatusCode::NOT_FOUND,
        billing::Error::Conflict { .. } => StatusCode::CONFLICT,
        billing::Error::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        billing::Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        billing::Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The options of the answer to a server-function call made by a page's
/// script; `None` while a page is rendered on the server (whose status is
/// the page's own, not that of a call it made) and for a plain form post
/// (which Leptos answers with a redirect back to its page).
fn server_fn_answer() -> Option<leptos_axum::ResponseOptions> {
    let parts = use_context::<axum::http::request::Parts>()?;
    if !parts.uri.path().starts_with("/portal/fn/") {
        return None;
    }
    let html = parts
        .headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if html && parts.headers.contains_key(axum::http::header::REFERER) {
        return None;
    }
    use_context::<leptos_axum::ResponseOptions>()
}

/// Sets the HTTP status of a server function's answer.
pub fn set_status(status: StatusCode) {
    if let Some(response) = server_fn_answer() {
        response.set_status(status);
    }
}

/// A use-case error as the portal shows it (never the internal detail), with
/// the HTTP status of its kind.
pub fn to_server_error(e: billing::Error) -> ServerFnError {
    set_status(status_of(&e));
    match e {
        billing::Error::Internal(detail) => {
            tracing::error!(%detail, "internal error in the portal");
            ServerFnError::new("internal error")
        }
        billing::Error::Validation(errors) => crate::functions::invalid(errors),
        billing::Error::TooManyRequests {
            retry_after_seconds,
        } => {
            if let Some(response) = server_fn_answer() {
                response.insert_header(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(retry_after_seconds),
                );
            }
            ServerFnError::new(format!(
                "Too many failed logins: try again in {}.",
                wait_text(retry_after_seconds)
            ))
        }
        other => ServerFnError::new(other.to_string()),
    }
}

/// A wait as a person reads it: seconds under two minutes, else minutes.
fn wait_text(seconds: u64) -> String {
    match seconds {
        1 => "1 second".into(),
        0..120 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// The tenant the logged-in caller acts on: its own, or for a system
/// administrator the one named by `tenant` (an opaque API id).
pub async fn scope(tenant: Option<String>) -> Result<Scope, ServerFnError> {
    Scope::for_caller(&caller().await?, tenant.as_deref()).map_err(to_server_error)
}

/// Like [`scope`], but `None` for a system administrator who has not chosen a
/// tenant yet: a page then has nothing to show but the choice.
pub async fn chosen_scope(tenant: Option<String>) -> Result<Option<Scope>, ServerFnError> {
    Scope::chosen_for(&caller().await?, tenant.as_deref()).map_err(to_server_error)
}

/// The scope a page reads the tenant's data with: the tenant's for its
/// administrators (`None` until a system administrator has chosen one), the
/// caller's own account for a standard user, whatever tenant the page names.
pub async fn reading_scope(tenant: Option<String>) -> Result<Option<Scope>, ServerFnError> {
    Scope::reading_for(&caller().await?, tenant.as_deref()).map_err(to_server_error)
}

/// Like [`reading_scope`], for a request that must act on a tenant.
pub async fn read_scope(tenant: Option<String>) -> Result<Scope, ServerFnError> {
    Scope::reading(&caller().await?, tenant.as_deref()).map_err(to_server_error)
}

/// The Content-Security-Policy of a portal page: the site's own files, the
/// wasm they compile, and the inline hydration script carrying this
/// answer's nonce; nothing from elsewhere, no frames, no plugins.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's Content-Security-Policy with the nonce Leptos gives this
/// answer's inline scripts.
pub fn content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The content hash of one of the site's files (`js`, `wasm` or `css`) from
/// the hash file the site build writes, when the options say the names are
/// fingerprinted. The file is read once.
pub fn asset_hash(options: &LeptosOptions, kind: &str) -> Option<String> {
    static HASHES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    if !options.hash_files {
        return None;
    }
    let hashes = HASHES.get_or_init(|| {
        let path = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf))
            .unwrap_or_default()
            .join(options.hash_file.as_ref());
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    });
    hashes
        .iter()
        .find(|(k, _)| k == kind)
        .map(|(_, v)| v.clone())
}
