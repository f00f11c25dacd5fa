//! Logging in and out of the portal.

use leptos::prelude::*;
use leptos::server_fn::codec::PostUrl;
use model::user::Role;
use serde::{Deserialize, Serialize};

use crate::functions::codec::Json;

/// Who is logged in, as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub username: String,
    pub role: Role,
    pub manages_tenant: bool,
    pub tenant: Option<String>,
}

/// The logged-in user, or `None`.
#[server(prefix = "/portal/fn", endpoint = "current_user", input = PostUrl, output = Json)]
pub async fn current_user() -> Result<Option<SignedIn>, ServerFnError> {
    let Ok(Some(caller)) = crate::server::caller_if_any().await else {
        return Ok(None);
    };
    let tenant = match caller.tenant_id {
        Some(id) => {
            let db = crate::server::db()?;
            db.get_tenant(&caller, id).await.ok().map(|t| t.name)
        }
        None => None,
    };
    Ok(Some(SignedIn {
        username: caller.username.clone(),
        role: caller.role,
        manages_tenant: caller.role.manages_tenant(),
        tenant,
    }))
}

/// Checks the credentials and starts a portal session.
#[server(prefix = "/portal/fn", endpoint = "login", input = PostUrl, output = Json)]
pub async fn login(
    username: String,
    password: String,
    domain: String,
) -> Result<(), ServerFnError> {
    use crate::server::{db, portal_origin, session, set_status, to_server_error, USER_KEY};
    let domain = Some(domain.trim()).filter(|d| !d.is_empty());
    let caller = match db()?
        .check_password(username.trim(), &password, domain, portal_origin().await)
        .await
    {
        Ok(caller) => caller,
        Err(e @ (::billing::Error::TooManyRequests { .. } | ::billing::Error::Internal(_))) => {
            return Err(to_server_error(e))
        }
        Err(::billing::Error::Inactive { code, .. }) => {
            set_status(axum::http::StatusCode::FORBIDDEN);
            return Err(ServerFnError::new(inactive_text(code)));
        }
        Err(_) => {
            set_status(axum::http::StatusCode::UNAUTHORIZED);
            return Err(ServerFnError::new("Wrong user name, password or domain."));
        }
    };
    let session = session().await?;
    // A new session id at login: a session fixed before cannot be taken over.
    session
        .cycle_id()
        .await
        .map_err(|e| ServerFnError::new(format!("session: {e}")))?;
    session
        .insert(USER_KEY, caller.user_id)
        .await
        .map_err(|e| ServerFnError::new(format!("session: {e}")))?;
    leptos_axum::redirect("/");
    Ok(())
}

/// What the login form says to a user whose credentials are right but who
/// may not work now.
#[cfg(feature = "ssr")]
fn inactive_text(code: &str) -> String {
    if code == ::billing::standing::TENANT_SUSPENDED {
        format!("This tenant is suspended ({code}): ask the operator to resume it.")
    } else {
        format!("This user is disabled ({code}): ask your administrator.")
    }
}

/// Ends the portal session.
#[server(prefix = "/portal/fn", endpoint = "logout", input = PostUrl, output = Json)]
pub async fn logout() -> Result<(), ServerFnError> {
    let session = crate::server::session().await?;
    session
        .flush()
        .await
        .map_err(|e| ServerFnError::new(format!("session: {e}")))?;
    leptos_axum::redirect("/login");
    Ok(())
}
