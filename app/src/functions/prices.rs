//! What a call costs: a quote, with its breakdown, by the rates that apply
//! to the caller's calls (its tenant's billing plans and default tariff).

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::FieldError;
use serde::{Deserialize, Serialize};

/// A call to price, as the form holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteArgs {
    /// The number called.
    pub callee: String,
    /// Whole seconds.
    pub duration: String,
}

impl QuoteArgs {
    /// The duration in seconds, when it is one.
    pub fn seconds(&self) -> Option<u64> {
        let text = self.duration.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse::<u64>()
            .ok()
            .filter(|s| *s <= model::bounds::DURATION_MAX.unsigned_abs())
    }

    /// What is wrong with the call, field by field (the server checks the same).
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let callee = self.callee.trim();
        if callee.is_empty() {
            errors.push(FieldError::new("callee", "is required"));
        } else if callee.chars().count() > 256 {
            errors.push(FieldError::new("callee", "must be 1 to 256 characters"));
        }
        if self.seconds().is_none() {
            errors.push(FieldError::new(
                "duration",
                format!(
                    "must be a whole number of seconds from 0 to {}",
                    model::bounds::DURATION_MAX
                ),
            ));
        }
        errors
    }
}

/// A quote as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteView {
    pub callee: String,
    pub duration: u64,
    /// Five decimals.
    pub amount: String,
    pub currency: String,
    /// The matched rate's prefix.
    pub prefix: String,
    /// (label, value) lines of how the amount was reached.
    pub lines: Vec<(String, String)>,
}

/// What a call of `args.duration` seconds to `args.callee` would cost now:
/// a standard user's own account, or the tenant's for its administrators.
#[server(prefix = "/portal/fn", endpoint = "quote_call", input = Json, output = Json)]
pub async fn quote_call(
    tenant: Option<String>,
    args: QuoteArgs,
) -> Result<QuoteView, ServerFnError> {
    use crate::server::{db, read_scope, to_server_error};
    use ::billing::quote_request::QuoteRequest;

    let scope = read_scope(tenant).await?;
    let errors = args.check();
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    let mut body = serde_json::Map::new();
    body.insert("callee".into(), args.callee.trim().into());
    body.insert("duration".into(), args.seconds().unwrap_or_default().into());
    let request = QuoteRequest::from_json(&body).map_err(to_server_error)?;
    let quote = db()?
        .quote(&scope, &request.callee, request.duration, request.at)
        .await
        .map_err(to_server_error)?;
    let mut lines = vec![("Matched prefix".to_string(), quote.rate.prefix.clone())];
    lines.extend(breakdown_lines(&quote.breakdown, &quote.currency));
    Ok(QuoteView {
        callee: request.callee,
        duration: quote.duration,
        amount: quote.amount.to_fixed(),
        currency: quote.currency,
        prefix: quote.rate.prefix,
        lines,
    })
}

/// The parts of an amount as (label, value) lines, amounts in `currency`:
/// how a call's cost (or a quote) was reached.
#[cfg(feature = "ssr")]
pub(crate) fn breakdown_lines(
    b: &::billing::quote::QuoteBreakdown,
    currency: &str,
) -> Vec<(String, String)> {
    let money = |v: &str| format!("{v} {currency}");
    let line = |label: &str, value: String| (label.to_string(), value);
    let mut lines = vec![line("Billable seconds", b.billable_seconds.to_string())];
    if b.within_grace {
        lines.push(line("Within the grace period", "free".into()));
    }
    lines.extend([
        line("Connect fee", money(&b.connect_fee)),
        line("First interval", money(&b.first_interval)),
        line(
            "Blocks",
            format!("{} · {}", b.blocks, money(&b.blocks_cost)),
        ),
        line("Surcharge", money(&b.surcharge)),
        line(
            "Rounding",
            if b.rounding == "UP" {
                "up"
            } else {
                "half away from zero"
            }
            .into(),
        ),
    ]);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(callee: &str, duration: &str) -> QuoteArgs {
        QuoteArgs {
            callee: callee.into(),
            duration: duration.into(),
        }
    }

    #[test]
    fn a_call_needs_a_number_and_whole_seconds() {
        assert!(args("4420", "120").check().is_empty());
        assert_eq!(args("4420", "120").seconds(), Some(120));
        let fields = |a: QuoteArgs| a.check().into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(args(" ", "1.5")), ["callee", "duration"]);
        assert_eq!(fields(args("1", "-1")), ["duration"]);
        assert_eq!(fields(args("1", "2592001")), ["duration"]);
        assert!(args("1", "2592000").check().is_empty());
    }
}
