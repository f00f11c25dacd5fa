//! `POST /api/rating/quote`: what a call would cost the caller's tenant.

use axum::extract::State;
use axum::Json;
use billing::quote::QuoteAnswer;
use billing::Db;
use model::Fields;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::{ApiError, ApiResult};
use super::extract::{JsonObject, TenantScope};

/// A required number of seconds, from 0 to [`model::bounds::DURATION_MAX`] (a
/// fraction is rounded up to the next second, as docs/rating.md rates it).
pub(crate) fn seconds(f: &mut Fields, body: &Map<String, Value>, field: &str) -> Option<u64> {
    let max = model::bounds::DURATION_MAX;
    match body.get(field) {
        Some(Value::Number(n)) => match rating::Decimal::from_str_exact(&n.to_string())
            .or_else(|_| rating::Decimal::from_scientific(&n.to_string()))
        {
            Ok(d) if !d.is_sign_negative() => {
                let seconds = rating::billable_duration(d);
                if seconds > max.unsigned_abs() {
                    f.error(field, format!("must be at most {max}"));
                    return None;
                }
                Some(seconds)
            }
            // Beyond what a decimal holds (`8e26`, `1e400`).
            Err(_) if !n.to_string().starts_with('-') => {
                f.error(field, format!("must be at most {max}"));
                None
            }
            _ => {
                f.error(field, "must be a number of seconds, at least 0");
                None
            }
        },
        Some(Value::Null) | None => {
            f.error(field, "is required");
            None
        }
        Some(_) => {
            f.error(field, "must be a number of seconds, at least 0");
            None
        }
    }
}

/// `{callee, duration, at?}`: `duration` in seconds (a fraction is rounded up
/// to the next second), `at` the call's start in RFC 3339 (default now).
pub async fn quote(
    State(db): State<Db>,
    TenantScope(scope): TenantScope,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<QuoteAnswer>> {
    let mut f = Fields::new(&body);
    let callee = f.string("callee");
    let callee = f.require("callee", callee);
    if let Some(Err(message)) = callee.as_deref().map(billing::quote::validate_callee) {
        f.error("callee", message);
    }
    let duration = seconds(&mut f, &body, "duration");
    let at = match f.string("at") {
        Some(text) => match OffsetDateTime::parse(&text, &Rfc3339) {
            Ok(t) => Some(t.unix_timestamp()),
            Err(_) => {
                f.error(
                    "at",
                    "must be an RFC 3339 time such as 2017-07-21T17:32:28Z",
                );
                None
            }
        },
        None => None,
    };
    f.finish()?;
    let (Some(callee), Some(duration)) = (callee, duration) else {
        return Err(ApiError::validation("callee", "is required"));
    };
    Ok(Json(db.quote(&scope, &callee, duration, at).await?))
}
