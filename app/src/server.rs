//! Server-side helpers of the server functions: the database and the caller.

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

/// The logged-in caller; an error when nobody is logged in.
pub async fn caller() -> Result<Caller, ServerFnError> {
    let session = session().await?;
    let user_id: Option<i64> = session
        .get(USER_KEY)
        .await
        .map_err(|e| ServerFnError::new(format!("session: {e}")))?;
    let user_id = user_id.ok_or_else(|| ServerFnError::new("not logged in"))?;
    db()?
        .caller_for_user(user_id, portal_origin().await)
        .await
        .map_err(to_server_error)
}

/// Where a portal request came from: the portal, and the browser's address.
pub async fn portal_origin() -> billing::Origin {
    billing::Origin::new(billing::Surface::Portal, client_addr().await)
}

/// A use-case error as the portal shows it: never the internal detail.
pub fn to_server_error(e: billing::Error) -> ServerFnError {
    match e {
        billing::Error::Internal(detail) => {
            tracing::error!(%detail, "internal error in the portal");
            ServerFnError::new("internal error")
        }
        other => ServerFnError::new(other.to_string()),
    }
}

/// The tenant the logged-in caller acts on: its own, or for a system
/// administrator the one named by `tenant` (an opaque API id).
pub async fn scope(tenant: Option<String>) -> Result<Scope, ServerFnError> {
    scope_of(&caller().await?, tenant)
}

/// Like [`scope`], but `None` for a system administrator who has not chosen a
/// tenant yet: a page then has nothing to show but the choice.
pub async fn chosen_scope(tenant: Option<String>) -> Result<Option<Scope>, ServerFnError> {
    let caller = caller().await?;
    if caller.tenant_id.is_none() && tenant.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Ok(None);
    }
    scope_of(&caller, tenant).map(Some)
}

fn scope_of(caller: &Caller, tenant: Option<String>) -> Result<Scope, ServerFnError> {
    let requested = match tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Some(
            model::ApiId::decode(text)
                .ok_or_else(|| to_server_error(billing::Error::NotFound("tenant")))?,
        ),
        None => None,
    };
    caller.scope(requested).map_err(to_server_error)
}
