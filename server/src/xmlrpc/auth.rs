//! Who calls XML-RPC: HTTP Basic credentials, an API token as the password
//! first, then `username@domain` and the user's password.

use axum::http::{header, HeaderMap};
use base64::Engine;
use billing::{Caller, Db, Error, Origin, Scope};

use super::{Fault, FORBIDDEN, UNAUTHORIZED};

/// Why credentials were not taken.
pub enum Denied {
    Fault(Fault),
    /// Too many failed logins for the account or from the address: the
    /// seconds until the lock ends.
    Throttled(u64),
}

impl From<Fault> for Denied {
    fn from(f: Fault) -> Denied {
        Denied::Fault(f)
    }
}

impl From<Error> for Denied {
    fn from(e: Error) -> Denied {
        match e {
            Error::TooManyRequests {
                retry_after_seconds,
            } => Denied::Throttled(retry_after_seconds),
            // Logged once, without the credentials, by the fault itself.
            e @ (Error::Internal(_) | Error::Inactive { .. }) => Denied::Fault(e.into()),
            _ => Denied::Fault(unauthorized("invalid username@domain or password")),
        }
    }
}

fn unauthorized(m: &str) -> Fault {
    Fault(UNAUTHORIZED, m.to_string())
}

/// The `user` and `password` of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), Fault> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("HTTP Basic credentials are required"))?;
    let encoded = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, rest)| rest.trim())
        .ok_or_else(|| unauthorized("HTTP Basic credentials are required"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| unauthorized("the Basic credentials do not decode"))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| unauthorized("the Basic credentials do not decode"))?;
    Ok((user.to_string(), password.to_string()))
}

/// The caller of HTTP Basic credentials and the tenant it acts on (its
/// own). A valid API token as the password is taken as is; otherwise the
/// user is `username@domain` (or a system user's bare name) and the password
/// is checked, throttled like every login. A database error on either way
/// is a server fault, never "invalid password".
pub async fn authenticate(db: &Db, headers: &HeaderMap, origin: Origin) -> Result<Scope, Denied> {
    let (user, password) = basic_credentials(headers)?;
    let caller: Caller = match db.authenticate(&password, origin).await {
        Ok(caller) => caller,
        Err(Error::Unauthorized(_)) => {
            let (name, domain) = match user.rsplit_once('@') {
                Some((name, domain)) => (name, Some(domain)),
                None => (user.as_str(), None),
            };
            db.check_password(name, &password, domain, origin).await?
        }
        Err(e) => return Err(e.into()),
    };
    Scope::for_caller(&caller, None).map_err(|_| {
        Denied::Fault(Fault(
            FORBIDDEN,
            "XML-RPC acts on the caller's own tenant: log in as a user of a tenant".into(),
        ))
    })
}
