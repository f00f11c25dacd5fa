//! XML-RPC at `POST /xmlapi`, as FlySIP/Sippy-style softswitch clients call it.
//!
//! HTTP Basic authenticates the caller: a tenant user's `username@domain` and
//! password, or an API token as the password. Each method takes one struct of
//! named members, translated onto the same `billing::Db` methods (and the same
//! field checks) as the REST API. Every error is a fault (HTTP 200) with a
//! stable code:
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

pub mod codec;
pub mod dates;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use billing::billing_plans::{BillingPlan, BILLING_PLAN_SPEC};
use billing::call_rates::{TariffRef, TARIFF_RATE_SPEC};
use billing::tariffs::{Tariff, TARIFF_SPEC};
use billing::{Caller, Db, Error, Origin, Scope, Surface};
use model::billing_plan::BillingPlanPatch;
use model::query::{ListParams, ListQuery};
use model::tariff::{RatePatch, StoredRate, TariffPatch};
use model::{ApiId, FieldError, Money};
use serde_json::{Map, Value};

use crate::client::ClientAddr;
use crate::state::AppState;
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

/// The methods served.
pub const METHODS: &[&str] = &[
    "addTariff",
    "getTariffInfo",
    "updateTariff",
    "deleteTariff",
    "listTariffs",
    "addTariffRate",
    "listTariffRates",
    "updateTariffRate",
    "deleteTariffRate",
    "addBillingPlan",
    "listBillingPlans",
    "deleteBillingPlan",
];

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

fn describe(fields: &[FieldError]) -> String {
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
        Ok(call) => match authenticate(&db, &headers, origin).await {
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

/// Why credentials were not taken.
enum Denied {
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

/// The caller of HTTP Basic credentials: an API token as the password, or
/// `username@domain` and the user's password. A valid API token is taken
/// as is; a password check is throttled like every login.
async fn authenticate(db: &Db, headers: &HeaderMap, origin: Origin) -> Result<Scope, Denied> {
    let unauthorized = |m: &str| Fault(UNAUTHORIZED, m.to_string());
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
    let caller: Caller = match db.authenticate(password, origin).await {
        Ok(caller) => caller,
        Err(e @ Error::Inactive { .. }) => return Err(Denied::Fault(e.into())),
        Err(_) => {
            let (name, domain) = match user.rsplit_once('@') {
                Some((name, domain)) => (name, Some(domain)),
                None => (user, None),
            };
            match db.check_password(name, password, domain, origin).await {
                Ok(caller) => caller,
                Err(Error::TooManyRequests {
                    retry_after_seconds,
                }) => return Err(Denied::Throttled(retry_after_seconds)),
                Err(e @ (Error::Internal(_) | Error::Inactive { .. })) => {
                    return Err(Denied::Fault(e.into()))
                }
                Err(_) => return Err(unauthorized("invalid username@domain or password").into()),
            }
        }
    };
    caller.scope(None).map_err(|_| {
        Denied::Fault(Fault(
            FORBIDDEN,
            "XML-RPC acts on the caller's own tenant: log in as a user of a tenant".into(),
        ))
    })
}

/// The members of a method's one struct parameter (none: an empty struct).
fn members<'a>(method: &str, params: &'a [XValue]) -> Result<&'a [(String, XValue)], Fault> {
    match params {
        [] => Ok(&[]),
        [XValue::Struct(members)] => Ok(members),
        [other] => Err(Fault(
            INVALID_PARAMS,
            format!(
                "{method} takes one struct of named members, not a {}",
                other.type_name()
            ),
        )),
        _ => Err(Fault(
            INVALID_PARAMS,
            format!("{method} takes one struct of named members"),
        )),
    }
}

/// A method's members, read into the REST API's field names so the same
/// checks apply; errors are told back in the member names.
struct Args<'a> {
    members: &'a [(String, XValue)],
    /// (member, REST field)
    names: &'static [(&'static str, &'static str)],
}

impl<'a> Args<'a> {
    fn get(&self, member: &str) -> Option<&'a XValue> {
        self.members
            .iter()
            .find(|(k, _)| k == member)
            .map(|(_, v)| v)
    }

    fn member_of(&self, field: &str) -> String {
        self.names
            .iter()
            .find(|(_, f)| *f == field)
            .map_or(field.to_string(), |(m, _)| (*m).to_string())
    }

    fn fault(&self, errors: Vec<FieldError>) -> Fault {
        let renamed: Vec<FieldError> = errors
            .into_iter()
            .map(|e| FieldError::new(self.member_of(&e.field), e.message))
            .collect();
        Fault(INVALID_PARAMS, describe(&renamed))
    }

    /// An id member: an int, or a string holding one.
    fn id(&self, member: &str) -> Result<Option<i64>, Fault> {
        match self.get(member) {
            None | Some(XValue::Nil) => Ok(None),
            Some(XValue::Int(i)) if *i > 0 => Ok(Some(*i)),
            Some(XValue::Str(s)) => match s.trim().parse::<i64>() {
                Ok(i) if i > 0 => Ok(Some(i)),
                _ => Err(Fault(
                    INVALID_PARAMS,
                    format!("{member} must be an id (a positive int, or a string holding one)"),
                )),
            },
            Some(v) => Err(Fault(
                INVALID_PARAMS,
                format!(
                    "{member} must be an id (a positive int, or a string holding one), not a {}",
                    v.type_name()
                ),
            )),
        }
    }

    fn required_id(&self, member: &str) -> Result<i64, Fault> {
        self.id(member)?
            .ok_or_else(|| Fault(INVALID_PARAMS, format!("{member} is required")))
    }

    /// An int member (an int, or a string holding one).
    fn int(&self, member: &str, min: i64, max: i64) -> Result<Option<i64>, Fault> {
        let n = match self.get(member) {
            None | Some(XValue::Nil) => return Ok(None),
            Some(XValue::Int(i)) => Some(*i),
            Some(XValue::Str(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Some(_) => Err(Fault(
                INVALID_PARAMS,
                format!("{member} must be between {min} and {max}"),
            )),
            None => Err(Fault(INVALID_PARAMS, format!("{member} must be an int"))),
        }
    }

    /// The members as a JSON object with the REST field names. Doubles keep
    /// their digits; dates become RFC 3339 text; nil becomes null.
    fn json(&self) -> Result<Map<String, Value>, Fault> {
        let mut out = Map::new();
        for (member, field) in self.names {
            let Some(v) = self.get(member) else { continue };
            if field.ends_with("_at") {
                let date = match self.date(member)? {
                    Some(Some(ms)) => Value::String(dates::rfc3339(ms)),
                    _ => Value::Null,
                };
                out.insert((*field).to_string(), date);
                continue;
            }
            let json = match v {
                XValue::Int(i) => Value::from(*i),
                XValue::Bool(b) => Value::Bool(*b),
                XValue::Str(s) => Value::String(s.clone()),
                XValue::Double(text) => match text.parse::<serde_json::Number>() {
                    Ok(n) => Value::Number(n),
                    Err(_) => Value::String(text.clone()),
                },
                XValue::Nil => Value::Null,
                other => {
                    return Err(Fault(
                        INVALID_PARAMS,
                        format!("{member} must not be a {}", other.type_name()),
                    ))
                }
            };
            out.insert((*field).to_string(), json);
        }
        Ok(out)
    }

    fn date_fault(&self, member: &str, why: &str) -> Fault {
        Fault(
            INVALID_PARAMS,
            format!(
                "{member} {why}: send a dateTime.iso8601 in UTC or a string such as \
                 '09:57:29.000 GMT Mon May 29 2017'"
            ),
        )
    }

    /// A date member: dateTime.iso8601 or the documented string; `Some(None)` for nil.
    fn date(&self, member: &str) -> Result<Option<Option<i64>>, Fault> {
        match self.get(member) {
            None => Ok(None),
            Some(XValue::Nil) => Ok(Some(None)),
            Some(XValue::DateTime(text)) => dates::parse_iso8601(text)
                .map(|ms| Some(Some(ms)))
                .map_err(|m| self.date_fault(member, m)),
            Some(XValue::Str(text)) => dates::parse_text(text)
                .or_else(|_| dates::parse_iso8601(text))
                .map(|ms| Some(Some(ms)))
                .map_err(|_| self.date_fault(member, "is not a date")),
            Some(v) => Err(self.date_fault(member, &format!("is a {}", v.type_name()))),
        }
    }

    /// The `iso_4217` member, checked against the real code list.
    fn currency(&self) -> Result<Option<String>, Fault> {
        match self.get("iso_4217") {
            None | Some(XValue::Nil) => Ok(None),
            Some(XValue::Str(code)) => model::currency::parse_currency(code)
                .map(Some)
                .map_err(|m| Fault(INVALID_PARAMS, format!("iso_4217 {m}"))),
            Some(v) => Err(Fault(
                INVALID_PARAMS,
                format!("iso_4217 must be a string, not a {}", v.type_name()),
            )),
        }
    }

    /// Members not among `allowed` are named, so a misspelt member is not
    /// silently ignored.
    fn only(&self, method: &str, allowed: &[&str]) -> Result<(), Fault> {
        for (name, _) in self.members {
            if !allowed.contains(&name.as_str()) && !self.names.iter().any(|(m, _)| m == name) {
                return Err(Fault(
                    INVALID_PARAMS,
                    format!("{method} takes no member '{name}'"),
                ));
            }
        }
        Ok(())
    }
}

const TARIFF_NAMES: &[(&str, &str)] = &[
    ("name", "name"),
    ("free_seconds", "free_seconds"),
    ("connect_fee", "connect_fee"),
    ("post_call_surcharge", "post_call_surcharge"),
    ("grace_period", "grace_period"),
];

const RATE_NAMES: &[(&str, &str)] = &[
    ("prefix", "prefix"),
    ("interval_1", "interval_1"),
    ("interval_n", "interval_n"),
    ("price_1", "price_1"),
    ("price_n", "price_n"),
    ("forbidden", "forbidden"),
    ("grace_period_enable", "grace_period_enable"),
    ("free_seconds", "free_seconds"),
    ("grace_period", "grace_period"),
    ("connect_fee", "connect_fee"),
    ("post_call_surcharge", "postcall_surcharge"),
    ("description", "description"),
    ("direction", "direction"),
    ("activation_date", "activation_at"),
    ("expiration_date", "expiration_at"),
];

const PLAN_NAMES: &[(&str, &str)] = &[
    ("prefix", "prefix"),
    ("description", "description"),
    ("i_billing_plan_suspend_mode", "suspend_mode"),
    ("billing_cycle", "billing_cycle"),
    ("i_billing_day", "billing_day"),
    ("round_up", "round_up"),
    ("prepaid", "prepaid"),
    ("i_tariff", "tariff_id"),
    ("iso_4217", "currency"),
];

fn ok<const N: usize>(members: [(&str, XValue); N]) -> XValue {
    let mut all = vec![("result".to_string(), XValue::Str("OK".into()))];
    all.extend(members.into_iter().map(|(k, v)| (k.to_string(), v)));
    XValue::Struct(all)
}

fn money(m: Money) -> XValue {
    XValue::Double(m.to_wire())
}

fn tariff_value(t: Tariff) -> XValue {
    XValue::object([
        ("i_tariff", XValue::Int(t.id)),
        ("name", XValue::Str(t.name)),
        ("iso_4217", XValue::Str(t.currency)),
        ("free_seconds", XValue::Int(t.free_seconds)),
        ("connect_fee", money(t.connect_fee)),
        ("post_call_surcharge", money(t.post_call_surcharge)),
        ("grace_period", XValue::Int(t.grace_period)),
        ("is_default", XValue::Bool(t.is_default)),
    ])
}

fn rate_value(r: StoredRate) -> XValue {
    let f = r.fields;
    XValue::object([
        ("i_tariff_rate", XValue::Int(r.id)),
        ("i_tariff", XValue::Int(r.tariff_id)),
        ("prefix", XValue::Str(f.prefix)),
        ("interval_1", XValue::Int(f.interval_1)),
        ("interval_n", XValue::Int(f.interval_n)),
        ("price_1", money(f.price_1)),
        ("price_n", money(f.price_n)),
        ("free_seconds", XValue::Int(f.free_seconds)),
        ("grace_period", XValue::Int(f.grace_period)),
        ("connect_fee", money(f.connect_fee)),
        ("post_call_surcharge", money(f.postcall_surcharge)),
        ("description", XValue::Str(f.description)),
        ("direction", XValue::Str(r.direction.to_string())),
        (
            "activation_date",
            XValue::DateTime(dates::iso8601(r.activation_at)),
        ),
        (
            "expiration_date",
            r.expiration_at
                .map_or(XValue::Nil, |e| XValue::DateTime(dates::iso8601(e))),
        ),
        ("forbidden", XValue::Bool(r.forbidden)),
        ("grace_period_enable", XValue::Bool(r.grace_period_enable)),
    ])
}

fn plan_value(p: BillingPlan) -> XValue {
    XValue::object([
        ("i_billing_plan", XValue::Int(p.id)),
        ("prefix", XValue::Str(p.prefix)),
        ("i_tariff", XValue::Int(p.tariff_id)),
        ("description", XValue::Str(p.description)),
        ("i_billing_plan_suspend_mode", XValue::Int(p.suspend_mode)),
        ("iso_4217", XValue::Str(p.currency)),
        ("billing_cycle", XValue::Int(p.billing_cycle.number())),
        ("i_billing_day", XValue::Int(p.billing_day)),
        ("round_up", XValue::Bool(p.round_up)),
        ("prepaid", XValue::Bool(p.prepaid)),
    ])
}

/// A page of a list in id order.
fn page(skip: i64, top: i64, spec: &model::query::ResourceSpec) -> Result<ListQuery, Fault> {
    let params = ListParams {
        orderby: Some("id".into()),
        skip: Some(skip.to_string()),
        top: Some(top.to_string()),
        ..ListParams::default()
    };
    ListQuery::parse(&params, spec).map_err(|e| Fault(INVALID_PARAMS, e.message))
}

async fn dispatch(
    db: &Db,
    scope: &Scope,
    method: &str,
    params: &[XValue],
) -> Result<XValue, Fault> {
    let m = members(method, params)?;
    let args = |names: &'static [(&'static str, &'static str)]| Args { members: m, names };
    match method {
        "addTariff" => {
            let a = args(TARIFF_NAMES);
            a.only(method, &["iso_4217"])?;
            let currency = a.currency()?.unwrap_or_else(|| "USD".into());
            let mut new = TariffPatch::from_json(&a.json()?)
                .and_then(TariffPatch::into_new)
                .map_err(|e| a.fault(e))?;
            new.currency = Some(currency);
            let t = db.create_tariff(scope, new).await?;
            Ok(ok([("i_tariff", XValue::Int(t.id))]))
        }
        "getTariffInfo" => {
            let a = args(&[]);
            a.only(method, &["i_tariff"])?;
            let t = db.get_tariff(scope, a.required_id("i_tariff")?).await?;
            Ok(ok([("tariff_info", tariff_value(t))]))
        }
        "updateTariff" => {
            let a = args(TARIFF_NAMES);
            a.only(method, &["i_tariff", "iso_4217"])?;
            let id = a.required_id("i_tariff")?;
            let mut patch = TariffPatch::from_json(&a.json()?).map_err(|e| a.fault(e))?;
            patch.currency = a.currency()?;
            db.update_tariff(scope, id, patch).await?;
            Ok(ok([("i_tariff", XValue::Int(id))]))
        }
        "deleteTariff" => {
            let a = args(&[]);
            a.only(method, &["i_tariff"])?;
            db.delete_tariff(scope, a.required_id("i_tariff")?).await?;
            Ok(ok([]))
        }
        "listTariffs" => {
            let a = args(&[]);
            a.only(method, &[])?;
            let mut list = Vec::new();
            loop {
                let query = page(list.len() as i64, 100, &TARIFF_SPEC)?;
                let found = db.list_tariffs(scope, &query).await?;
                let done = found.items.len() < 100;
                list.extend(found.items.into_iter().map(tariff_value));
                if done {
                    break;
                }
            }
            Ok(ok([("list", XValue::Array(list))]))
        }
        "addTariffRate" => {
            let a = args(RATE_NAMES);
            a.only(method, &["i_tariff", "iso_4217"])?;
            let tariff_id = a.required_id("i_tariff")?;
            let activation = a.date("activation_date")?;
            a.date("expiration_date")?;
            let currency = a.currency()?;
            let now = billing::db::now_ms();
            let mut patch = RatePatch::from_json(&a.json()?).map_err(|e| a.fault(e))?;
            if activation.is_none() {
                patch.activation_at = Some(now);
            }
            let rate = patch.into_new(now).map_err(|e| a.fault(e))?;
            let tariff = db.get_tariff(scope, tariff_id).await?;
            if let Some(c) = currency {
                if c != tariff.currency {
                    return Err(Fault(
                        INVALID_PARAMS,
                        format!(
                            "iso_4217 {c} is not the currency of tariff {tariff_id} ({})",
                            tariff.currency
                        ),
                    ));
                }
            }
            let id = db
                .create_rate(scope, TariffRef::Id(tariff_id), rate)
                .await?;
            Ok(ok([
                ("i_tariff", XValue::Int(tariff_id)),
                ("i_tariff_rate", XValue::Int(id)),
            ]))
        }
        "listTariffRates" => {
            let a = args(&[]);
            a.only(method, &["i_tariff", "offset", "limit"])?;
            let tariff_id = a.required_id("i_tariff")?;
            let offset = a.int("offset", 0, i64::MAX)?.unwrap_or(0);
            let limit = a.int("limit", 1, RATES_PAGE_MAX)?.unwrap_or(RATES_PAGE_MAX);
            let query = page(offset, limit, &TARIFF_RATE_SPEC)?;
            let found = db
                .list_rates(scope, TariffRef::Id(tariff_id), &query)
                .await?;
            Ok(ok([
                ("i_tariff", XValue::Int(tariff_id)),
                ("total", XValue::Int(found.count)),
                (
                    "list",
                    XValue::Array(found.items.into_iter().map(rate_value).collect()),
                ),
            ]))
        }
        "updateTariffRate" => {
            let a = args(RATE_NAMES);
            a.only(method, &["i_tariff_rate", "i_tariff"])?;
            let id = a.required_id("i_tariff_rate")?;
            let tariff = match a.id("i_tariff")? {
                Some(t) => TariffRef::Id(t),
                None => TariffRef::Any,
            };
            a.date("activation_date")?;
            a.date("expiration_date")?;
            let patch = RatePatch::from_json(&a.json()?).map_err(|e| a.fault(e))?;
            if !patch.is_empty() {
                db.update_rate(scope, tariff, id, patch).await?;
            }
            let rate = db.get_rate(scope, tariff, id).await?;
            Ok(ok([
                ("i_tariff", XValue::Int(rate.tariff_id)),
                ("i_tariff_rate", XValue::Int(id)),
            ]))
        }
        "deleteTariffRate" => {
            let a = args(&[]);
            a.only(method, &["i_tariff_rate"])?;
            let id = a.required_id("i_tariff_rate")?;
            db.delete_rate(scope, TariffRef::Any, id).await?;
            Ok(ok([("i_tariff_rate", XValue::Int(id))]))
        }
        "addBillingPlan" => {
            let a = args(PLAN_NAMES);
            a.only(method, &[])?;
            let tariff_id = a.required_id("i_tariff")?;
            let mut body = a.json()?;
            body.insert("tariff_id".into(), Value::String(ApiId::encode(tariff_id)));
            if !a.members.iter().any(|(k, _)| k == "prefix") {
                return Err(Fault(INVALID_PARAMS, "prefix is required".into()));
            }
            let plan = BillingPlanPatch::from_json(&body).map_err(|e| a.fault(e))?;
            let created = db
                .create_billing_plan(scope, plan)
                .await
                .map_err(|e| match e {
                    Error::Validation(fields) => a.fault(fields),
                    e => e.into(),
                })?;
            Ok(ok([
                ("i_tariff", XValue::Int(created.tariff_id)),
                ("i_billing_plan", XValue::Int(created.id)),
            ]))
        }
        "listBillingPlans" => {
            let a = args(&[]);
            a.only(method, &[])?;
            let mut list = Vec::new();
            loop {
                let query = page(list.len() as i64, 100, &BILLING_PLAN_SPEC)?;
                let found = db.list_billing_plans(scope, &query).await?;
                let done = found.items.len() < 100;
                list.extend(found.items.into_iter().map(plan_value));
                if done {
                    break;
                }
            }
            Ok(ok([("list", XValue::Array(list))]))
        }
        "deleteBillingPlan" => {
            let a = args(&[]);
            a.only(method, &["i_billing_plan"])?;
            db.delete_billing_plan(scope, a.required_id("i_billing_plan")?)
                .await?;
            Ok(ok([]))
        }
        other => Err(Fault(
            UNKNOWN_METHOD,
            format!(
                "no method '{other}'; the methods are {}",
                METHODS.join(", ")
            ),
        )),
    }
}
