//! How a rated call's cost was reached: the stored call quoted again with
//! the rate it was matched to (the CDR keeps that rate's id and prefix, its
//! cost and currency, not the parts of the sum).

use model::cdr::rated_number;
use model::{ApiId, Money};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::RatingStatus;
use crate::auth::Scope;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::quote::QuoteBreakdown;

/// A rated call's matched rate and the parts of its cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrRating {
    /// The matched rate's opaque id.
    pub rate_id: String,
    pub prefix: String,
    /// The currency of the cost (the billed account's).
    pub currency: String,
    /// What the call was charged.
    pub cost: Money,
    /// Answered seconds.
    pub duration: u64,
    /// The rate's terms as they are now.
    pub terms: Option<RateTermsView>,
    /// The parts, from the rate's current terms; `None` when the rate has
    /// since been removed.
    pub breakdown: Option<QuoteBreakdown>,
    /// The amount those parts add up to.
    pub amount: Option<Money>,
    /// Whether that amount is the cost charged (else the rate was changed
    /// after the call was rated, and a re-rating would apply it).
    pub matches_cost: bool,
}

/// A rate's terms as the breakdown names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTermsView {
    pub connect_fee: String,
    pub price_1: String,
    pub price_n: String,
    pub interval_1: u32,
    pub interval_n: u32,
    pub free_seconds: u32,
    pub grace_period: u32,
    pub postcall_surcharge: String,
}

impl Db {
    /// The rating of one of the tenant's CDRs (its administrators, or the
    /// call's own user through a scope of its own account): `None`
    /// for a call that was not charged at a rate (free or unrated).
    pub async fn cdr_rating(&self, scope: &Scope, id: i64) -> Result<Option<CdrRating>> {
        if !scope.own {
            scope.require_manager()?;
        }
        let (condition, binds) = super::calls_condition(scope);
        let sql = format!(
            "SELECT callee, destination, duration, rating_status, cost, currency, rate_id, rate_prefix \
             FROM cdrs WHERE {condition} AND id = ${}",
            binds.len() + 1
        );
        let row = crate::listing::bind_all(sqlx::query(&sql), &binds)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("CDR"))?;
        let status: RatingStatus = row
            .try_get::<String, _>("rating_status")?
            .parse()
            .map_err(Error::internal)?;
        let (Some(rate_id), Some(cost)) = (
            row.try_get::<Option<i64>, _>("rate_id")?,
            row.try_get::<Option<i64>, _>("cost")?,
        ) else {
            return Ok(None);
        };
        if status != RatingStatus::Rated {
            return Ok(None);
        }
        let callee: String = row.try_get("callee")?;
        let destination: String = row.try_get("destination")?;
        let number = rated_number(&callee, &destination).to_string();
        let duration = u64::try_from(row.try_get::<i64, _>("duration")?).unwrap_or(0);
        let rating = self.tenant_rating(scope.tenant_id).await?;
        let resolved = rating.resolve(&number);
        let rounding = resolved.rounding;
        // The rate is looked up by id in the tariff the number resolves to,
        // then in the tenant's other tariffs (its billing plan may have changed).
        let mut tables = std::iter::once(resolved.tariff)
            .chain(std::iter::once(rating.default.as_ref()))
            .chain(rating.plans.iter().map(|p| p.tariff.as_ref()));
        let entry = tables.find_map(|t| t.table.get(rate_id));
        let cost = Money::from_units(cost);
        let mut answer = CdrRating {
            rate_id: ApiId::encode(rate_id),
            prefix: row
                .try_get::<Option<String>, _>("rate_prefix")?
                .unwrap_or_default(),
            currency: row
                .try_get::<Option<String>, _>("currency")?
                .unwrap_or_else(|| rating.currency.clone()),
            cost,
            duration,
            terms: None,
            breakdown: None,
            amount: None,
            matches_cost: false,
        };
        if let Some(entry) = entry {
            let t = &entry.terms;
            answer.terms = Some(RateTermsView {
                connect_fee: t.connect_fee.normalize().to_string(),
                price_1: t.price_1.normalize().to_string(),
                price_n: t.price_n.normalize().to_string(),
                interval_1: t.interval_1,
                interval_n: t.interval_n,
                free_seconds: t.free_seconds,
                grace_period: t.grace_period,
                postcall_surcharge: t.postcall_surcharge.normalize().to_string(),
            });
            if let Ok(b) = t.rate(duration, rounding) {
                let amount = Money::rounded(b.amount);
                answer.matches_cost = amount == cost;
                answer.amount = Some(amount);
                answer.breakdown = Some(crate::quote::breakdown(&b));
            }
        }
        Ok(Some(answer))
    }
}
