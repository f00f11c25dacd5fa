//! XML-RPC at `POST /xmlapi`, as FlySIP/Sippy-style softswitch clients call it.
//!
//! HTTP Basic authenticates the caller ([`auth`]): a tenant user's
//! `username@domain` and password, or an API token as the password. Each
//! method takes one struct of named members ([`args`]), translated onto the
//! same `billing::Db` methods (and the same field checks) as the REST API;
//! the [`METHODS`] table names each method's handler, by resource:
//! [`tariffs`], [`tariff_rates`], [`billing_plans`]. Every error is a fault
//! (HTTP 200) with a stable code:
//!
//! | faultCode | meaning |
//! | --- | --- |
//! | -32700 | the body is not well-formed XML |
//! | -32600 | the XML is not an XML-RPC method call |
//! | -32601 | no such method |
//! | -32602 | a member is missing, mistyped or invalid (the string names it) |
//! | 401 | no valid credentials |
//! | 403 | the caller's role may not do this |
//! | 404 | no such tariff, rate or billing plan for the caller |
//! | 409 | refused in the current state (default tariff, tariff in use) |
//! | 429 | too many failed logins: the account or address is locked for a while (the answer carries `Retry-After`) |
//! | 500 | an internal error (logged; no detail in the fault) |

pub mod args;
pub mod auth;
pub mod billing_plans;
pub mod codec;
pub mod dates;
pub mod tariff_rates;
pub mod tariffs;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use billing::{Db, Error, Origin, Page, Scope, Surface};
use futures::future::BoxFuture;
use model::query::{ListParams, ListQuery, ResourceSpec};
use model::FieldError;

use crate::client::ClientAddr;
use crate::state::AppState;
use args::Call;
use auth::Denied;
use codec::{DecodeError, XValue};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const UNKNOWN_METHOD: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const UNAUTHORIZED: i64 = 401;
pub const FORBIDDEN: i64 = 403;
pub const NOT_FOUND: i64 = 404;
pub const CONFLICT: i64 = 409;
pub const REFUSED: i64 = 422;
pub const TOO_MANY_REQUESTS: i64 = 429;
pub const INTERNAL: i64 = 500;

/// Largest page `listTariffRates` answers.
pub const RATES_PAGE_MAX: i64 = 100;

/// What a method answers.
pub type Answer = Result<XValue, Fault>;

/// A method's handler: the caller's scope and the call's members.
pub type Handler = for<'a> fn(&'a Db, &'a Scope, Call<'a>) -> BoxFuture<'a, Answer>;

/// Every method served, and its handler: what dispatch and the "no such
/// method" fault read.
pub const METHODS: &[(&str, Handler)] = &[
    ("addTariff", |db, s, c| Box::pin(tariffs::add(db, s, c))),
    ("getTariffInfo", |db, s, c| Box::pin(tariffs::get(db, s, c))),
    ("updateTariff", |db, s, c| {
        Box::pin(tariffs::update(db, s, c))
    }),
    ("deleteTariff", |db, s, c| {
        Box::pin(tariffs::delete(db, s, c))
    }),
    ("listTariffs", |db, s, c| Box::pin(tariffs::list(db, s, c))),
    ("addTariffRate", |db, s, c| {
        Box::pin(tariff_rates::add(db, s, c))
    }),
    ("listTariffRates", |db, s, c| {
        Box::pin(tariff_rates::list(db, s, c))
    }),
    ("updateTariffRate", |db, s, c| {
        Box::pin(tariff_rates::update(db, s, c))
    }),
    ("deleteTariffRate", |db, s, c| {
        Box::pin(tariff_rates::delete(db, s, c))
    }),
    ("addBillingPlan", |db, s, c| {
        Box::pin(billing_plans::add(db, s, c))
    }),
    ("listBillingPlans", |db, s, c| {
        Box::pin(billing_plans::list(db, s, c))
    }),
    ("deleteBillingPlan", |db, s, c| {
        Box::pin(billing_plans::delete(db, s, c))
    }),
];

/// The names of the methods served, in the table's order.
pub fn method_names() -> impl Iterator<Item = &'static str> {
    METHODS.iter().map(|(name, _)| *name)
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/xmlapi", post(endpoint))
}

/// A fault: its code and what is wrong.
#[derive(Debug)]
pub struct Fault(pub i64, pub String);

impl From<Error> for Fault {
    fn from(e: Error) -> Fault {
        match e {
            Error::Validation(fields) => Fault(INVALID_PARAMS, describe(&fields)),
            Error::BadLines { .. } => Fault(INVALID_PARAMS, e.to_string()),
            Error::NotFound(what) => Fault(NOT_FOUND, format!("{what} not found")),
            Error::Forbidden(m) => Fault(FORBIDDEN, m),
            Error::Unauthorized(m) => Fault(UNAUTHORIZED, m),
            Error::Refused { code, message } => Fault(REFUSED, format!("{code}: {message}")),
            Error::Inactive { code, message } => Fault(FORBIDDEN, format!("{code}: {message}")),
            Error::Conflict { code, message } => Fault(CONFLICT, format!("{code}: {message}")),
            e @ Error::TooManyRequests { .. } => Fault(TOO_MANY_REQUESTS, e.to_string()),
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Fault(INTERNAL, "internal error".into())
            }
        }
    }
}

/// Field problems as one fault string: `member problem; member problem`.
pub(crate) fn describe(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{} {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

async fn endpoint(
    State(db): State<Db>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = Origin::new(Surface::Xmlrpc, client);
    let mut retry_after = None;
    let answer = match codec::parse_call(&body) {
        Err(DecodeError::Malformed(m)) => Err(Fault(PARSE_ERROR, m)),
        Err(DecodeError::Invalid(m)) => Err(Fault(INVALID_REQUEST, m)),
        Ok(call) => match auth::authenticate(&db, &headers, origin).await {
            Ok(scope) => dispatch(&db, &scope, &call.name, &call.params).await,
            Err(Denied::Fault(f)) => Err(f),
            Err(Denied::Throttled(retry_after_seconds)) => {
                retry_after = Some(retry_after_seconds);
                Err(Fault::from(Error::TooManyRequests {
                    retry_after_seconds,
                }))
            }
        },
    };
    let mut response = xml(match answer {
        Ok(v) => codec::response(&v),
        Err(Fault(code, message)) => codec::fault(code, &message),
    });
    if let Some(seconds) = retry_after {
        // A fault travels in an HTTP 200 like every other; the header tells
        // HTTP-aware clients the wait as well.
        if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// Runs the method the table names.
async fn dispatch(db: &Db, scope: &Scope, method: &str, params: &[XValue]) -> Answer {
    let call = Call::new(method, params)?;
    let Some((_, handler)) = METHODS.iter().find(|(name, _)| *name == method) else {
        return Err(Fault(
            UNKNOWN_METHOD,
            format!(
                "no method '{method}'; the methods are {}",
                method_names().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    handler(db, scope, call).await
}

/// `{result: OK}` and the members given.
pub(crate) fn ok<const N: usize>(members: [(&str, XValue); N]) -> XValue {
    let mut all = vec![("result".to_string(), XValue::Str("OK".into()))];
    all.extend(members.into_iter().map(|(k, v)| (k.to_string(), v)));
    XValue::Struct(all)
}

pub(crate) fn money(m: model::Money) -> XValue {
    XValue::Double(m.to_wire())
}

/// A page of a list in id order.
pub(crate) fn page(skip: i64, top: i64, spec: &ResourceSpec) -> Result<ListQuery, Fault> {
    let params = ListParams {
        orderby: Some("id".into()),
        skip: Some(skip.to_string()),
        top: Some(top.to_string()),
        ..ListParams::default()
    };
    ListQuery::parse(&params, spec).map_err(|e| Fault(INVALID_PARAMS, e.message))
}

/// Every item of a list, read page after page in id order, as XML-RPC values.
pub(crate) async fn every<T, F, Fut>(
    spec: &ResourceSpec,
    mut fetch: F,
    view: fn(T) -> XValue,
) -> Result<Vec<XValue>, Fault>
where
    F: FnMut(ListQuery) -> Fut,
    Fut: std::future::Future<Output = billing::Result<Page<T>>>,
{
    const PAGE: i64 = 100;
    let mut list = Vec::new();
    loop {
        let found = fetch(page(list.len() as i64, PAGE, spec)?).await?;
        let done = (found.items.len() as i64) < PAGE;
        list.extend(found.items.into_iter().map(view));
        if done {
            return Ok(list);
        }
    }
}
