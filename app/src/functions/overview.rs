//! The home page's overview, in one answer: the account's balance and
//! funds, today's calls and their cost, the calls in progress, the last
//! deck import (`billing::overview`, which decides whose figures the caller
//! sees).

use crate::functions::codec::Json;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An amount in a currency, five decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub amount: String,
    pub currency: String,
}

impl Amount {
    pub fn text(&self) -> String {
        format!("{} {}", self.amount, self.currency)
    }
}

/// The amounts of a list as one text (`1.00000 EUR + 2.00000 USD`), or
/// `none` when there are none.
pub fn amounts_text(amounts: &[Amount], none: &str) -> String {
    if amounts.is_empty() {
        return none.to_string();
    }
    amounts
        .iter()
        .map(Amount::text)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The last deck import as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    pub at: String,
    pub by: String,
    pub tariff: Option<String>,
    pub mode: String,
    /// The rates the deck held.
    pub rates: i64,
    pub added: i64,
    pub updated: i64,
    pub removed: i64,
}

/// The overview of the tenant (or of one's own figures, a standard user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewView {
    /// The tenant's name, or the user's.
    pub account_name: String,
    /// Whether it is the tenant's own account (else the user's).
    pub tenant_account: bool,
    pub balance: Amount,
    pub available: Amount,
    pub held: Amount,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub calls_today: i64,
    pub spend_today: Vec<Amount>,
    pub live_calls: i64,
    pub live_held: Vec<Amount>,
    pub last_import: Option<ImportView>,
    /// Whether calls are charged online (live calls exist only then).
    pub online: bool,
}

/// The overview of the tenant acted on; `None` until a system
/// administrator has chosen one.
#[server(prefix = "/portal/fn", endpoint = "overview", input = Json, output = Json)]
pub async fn get_overview(tenant: Option<String>) -> Result<Option<OverviewView>, ServerFnError> {
    use crate::server::{chosen_scope, db};
    use model::billing_settings::BillingType;

    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    let o = super::answer(db()?.overview(&scope).await)?;
    let currency = o.account.currency.clone();
    let amount = |m: model::Money, currency: &str| Amount {
        amount: m.to_fixed(),
        currency: currency.to_string(),
    };
    Ok(Some(OverviewView {
        account_name: o.account.name,
        tenant_account: o.account.user_id.is_none(),
        balance: amount(o.account.balance, &currency),
        available: amount(o.account.available, &currency),
        held: amount(o.account.held, &currency),
        day: o.today.day,
        calls_today: o.today.calls,
        spend_today: o
            .today
            .spend
            .iter()
            .map(|s| amount(s.amount, &s.currency))
            .collect(),
        live_calls: o.live.calls,
        live_held: o
            .live
            .held
            .iter()
            .map(|h| amount(h.held, &h.currency))
            .collect(),
        last_import: o.last_import.map(|i| ImportView {
            rates: i.rates(),
            at: i.at,
            by: i.by,
            tariff: i.tariff,
            mode: i.mode,
            added: i.added,
            updated: i.updated,
            removed: i.removed,
        }),
        online: o.billing.enabled && o.billing.billing_type == BillingType::Online,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_several_currencies_read_as_a_sum() {
        let a = |amount: &str, currency: &str| Amount {
            amount: amount.into(),
            currency: currency.into(),
        };
        assert_eq!(amounts_text(&[], "nothing"), "nothing");
        assert_eq!(
            amounts_text(&[a("1.00000", "EUR"), a("0.50000", "USD")], "-"),
            "1.00000 EUR + 0.50000 USD"
        );
    }
}
