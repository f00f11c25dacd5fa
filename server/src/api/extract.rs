//! Extractors that answer in the API's own error format.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use billing::{Caller, Db, Error, Origin, Scope, Surface};
use model::query::{ListParams, ListQuery, ResourceSpec};
use model::ApiId;
use serde_json::{Map, Value};

use super::error::ApiError;

/// A JSON object body; anything else is `VALIDATE_FAILED`.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::validation("body", format!("could not be read: {e}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonObject(Map::new()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(ApiError::validation("body", "must be a JSON object")),
            Err(e) => Err(ApiError::validation(
                "body",
                format!("is not valid JSON ({e})"),
            )),
        }
    }
}

/// The caller, from `Authorization: Bearer <token>` or, as older clients send
/// it, an `access_token` header or query parameter. Its origin is the
/// request's: the surface a router layer names (REST unless one does, see
/// [`origin_of`]) and the client's address.
pub struct Auth(pub Caller);

/// Where a request came from: the [`Surface`] its router put in the
/// extensions (REST when none did) and the client's address.
pub fn origin_of(extensions: &axum::http::Extensions) -> Origin {
    Origin::new(
        extensions
            .get::<Surface>()
            .copied()
            .unwrap_or(Surface::Rest),
        crate::client::ClientAddr::of(extensions).0,
    )
}

pub(crate) fn bearer_token(parts: &Parts) -> Option<String> {
    token_of(&parts.headers, &parts.uri)
}

/// The token a request carries, wherever it carries it.
pub(crate) fn token_of(headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?.trim();
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    if let Some(value) = headers.get("access_token") {
        return value.to_str().ok().map(|s| s.trim().to_string());
    }
    let query = uri.query()?;
    form_urlencoded_pairs(query)
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v)
}

fn form_urlencoded_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

impl<S> FromRequestParts<S> for Auth
where
    Db: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Auth(caller.clone()));
        }
        let token = bearer_token(parts)
            .ok_or_else(|| ApiError(Error::Unauthorized("an access token is required".into())))?;
        let db = Db::from_ref(state);
        let caller = db
            .authenticate(&token, origin_of(&parts.extensions))
            .await?;
        parts.extensions.insert(caller.clone());
        Ok(Auth(caller))
    }
}

/// The caller and the tenant it acts on: its own, or for a system
/// administrator the one named by `tenant_id` (query) or `X-Tenant-Id`.
pub struct TenantScope(pub Scope);

impl<S> FromRequestParts<S> for TenantScope
where
    Db: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Auth(caller) = Auth::from_request_parts(parts, state).await?;
        Ok(TenantScope(Scope::for_caller(
            &caller,
            named_tenant_text(parts).as_deref(),
        )?))
    }
}

/// The scope a tenant's data is read with ([`Scope::reading`]): a standard
/// user's own account whatever the request names; the tenant of an
/// administrator, or the one a system administrator names by `tenant_id`
/// (query) or `X-Tenant-Id`.
pub struct ReadingScope(pub Scope);

impl<S> FromRequestParts<S> for ReadingScope
where
    Db: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Auth(caller) = Auth::from_request_parts(parts, state).await?;
        Ok(ReadingScope(Scope::reading(
            &caller,
            named_tenant_text(parts).as_deref(),
        )?))
    }
}

/// The text of the tenant a request names: `X-Tenant-Id`, else `tenant_id`
/// (query).
fn named_tenant_text(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-tenant-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            parts.uri.query().and_then(|q| {
                form_urlencoded_pairs(q)
                    .find(|(k, _)| k == "tenant_id")
                    .map(|(_, v)| v)
            })
        })
}

/// Like [`TenantScope`], for what a PBX reports of calls it has already
/// carried (CDRs, a live call's update and end): a suspended tenant's API
/// tokens still work here, so that no call is lost
/// ([`Db::authenticate_carried`]).
pub struct CarriedScope(pub Scope);

impl<S> FromRequestParts<S> for CarriedScope
where
    Db: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let caller = match parts.extensions.get::<Caller>() {
            Some(caller) => caller.clone(),
            None => {
                let token = bearer_token(parts).ok_or_else(|| {
                    ApiError(Error::Unauthorized("an access token is required".into()))
                })?;
                Db::from_ref(state)
                    .authenticate_carried(&token, origin_of(&parts.extensions))
                    .await?
            }
        };
        Ok(CarriedScope(Scope::for_caller(
            &caller,
            named_tenant_text(parts).as_deref(),
        )?))
    }
}

/// The tenant a request names, if any: `tenant_id` (query) or `X-Tenant-Id`.
/// Blank text names none; text that is not an id is a tenant not found.
pub struct NamedTenant(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for NamedTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let named = billing::scope::named_tenant(named_tenant_text(parts).as_deref())?;
        Ok(NamedTenant(named))
    }
}

/// The list parameters of a request, in the API's error format.
pub struct ListParamsQuery(pub ListParams);

impl<S: Send + Sync> FromRequestParts<S> for ListParamsQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut params = ListParams::default();
        for (key, value) in form_urlencoded_pairs(parts.uri.query().unwrap_or("")) {
            let slot = match key.as_str() {
                "filter" => &mut params.filter,
                "search" => &mut params.search,
                "orderby" | "$orderby" => &mut params.orderby,
                "skip" | "$skip" => &mut params.skip,
                "top" | "$top" => &mut params.top,
                "cursor" => &mut params.cursor,
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(ListParamsQuery(params))
    }
}

impl ListParamsQuery {
    pub fn parse(&self, spec: &ResourceSpec) -> Result<ListQuery, ApiError> {
        Ok(ListQuery::parse(&self.0, spec)?)
    }
}

/// An id from the path; one that does not decode is simply not found.
pub fn path_id(text: &str, what: &'static str) -> Result<i64, ApiError> {
    ApiId::decode(text).ok_or(ApiError(Error::NotFound(what)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let pairs: Vec<_> =
            form_urlencoded_pairs("filter=prefix%20eq%20%2744%27&search=a+b&x").collect();
        assert_eq!(pairs[0], ("filter".into(), "prefix eq '44'".into()));
        assert_eq!(pairs[1], ("search".into(), "a b".into()));
        assert_eq!(pairs[2], ("x".into(), String::new()));
    }
}
