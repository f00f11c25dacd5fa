//! Spend reports: calls, answered calls, seconds and cost over a time range,
//! grouped by day, hour, hour of the day (0–23, summed over the days),
//! destination (the matched rate), user or call type; and the range's totals
//! with the answer rate and the average call duration ([`SpendSummary`]).
//!
//! They read `spend_rollups`, never the CDRs: one row per tenant, UTC hour,
//! maker, billed account, call type and matched rate, moved by [`Rollups`]
//! in the same transaction as the CDR insert (`cdrs`) or re-rate update
//! (`rerate`) it sums, so the two never disagree. A CDR counts its stored
//! cost (none counts 0).

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use model::{FieldError, Money};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::auth::Scope;
use crate::db::{Backend, Db};
use crate::error::{Error, Result};
use crate::sql;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The longest range a report covers.
pub const MAX_DAYS: i64 = 366;

/// How a report's items are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Day,
    Hour,
    /// The hour of the day (`00` to `23`, UTC), summed over the range's days.
    #[serde(rename = "hour_of_day")]
    HourOfDay,
    Destination,
    User,
    Type,
}

impl GroupBy {
    pub const ALL: &'static str = "day, hour, hour_of_day, destination, user or type";
}

impl FromStr for GroupBy {
    type Err = Error;
    fn from_str(text: &str) -> Result<GroupBy> {
        Ok(match text {
            "day" => GroupBy::Day,
            "hour" => GroupBy::Hour,
            "hour_of_day" => GroupBy::HourOfDay,
            "destination" => GroupBy::Destination,
            "user" => GroupBy::User,
            "type" => GroupBy::Type,
            _ => {
                return Err(Error::Validation(vec![FieldError::new(
                    "group_by",
                    format!("must be {}", GroupBy::ALL),
                )]))
            }
        })
    }
}

/// One group of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendItem {
    /// The day (`2026-01-31`), the hour (`2026-01-31T10:00:00Z`), the hour
    /// of the day (`00` to `23`), the matched rate's prefix, the user's name or the call type; empty for
    /// calls with no rate or no user.
    pub key: String,
    /// The matched rate's description (destination reports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub calls: i64,
    pub answered: i64,
    pub seconds: i64,
    pub cost: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendReport {
    pub items: Vec<SpendItem>,
    pub currency: String,
}

/// The totals of a range's calls, with what they tell of the calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendSummary {
    pub calls: i64,
    pub answered: i64,
    /// The answered calls' seconds.
    pub seconds: i64,
    pub cost: Money,
    /// The share of the calls answered, 0 to 1 (four decimals, half away
    /// from zero); none without calls.
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub answer_rate: Option<Decimal>,
    /// The average seconds of an answered call (one decimal, half away from
    /// zero); none without answered calls.
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub average_duration: Option<Decimal>,
    pub currency: String,
}

impl SpendSummary {
    fn of(sums: Sums, currency: String) -> SpendSummary {
        let ratio = |part: i64, whole: i64, places: u32| {
            (whole > 0)
                .then(|| Decimal::from(part).checked_div(Decimal::from(whole)))
                .flatten()
                .map(|r| r.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero))
        };
        SpendSummary {
            calls: sums.calls,
            answered: sums.answered,
            seconds: sums.seconds,
            cost: Money::from_units(sums.cost),
            answer_rate: ratio(sums.answered, sums.calls, 4),
            average_duration: ratio(sums.seconds, sums.answered, 1),
            currency,
        }
    }
}

/// What a group of calls adds up to (cost in units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    calls: i64,
    answered: i64,
    seconds: i64,
    cost: i64,
}

impl Sums {
    fn checked_add(self, other: Sums) -> Result<Sums> {
        let add = |a: i64, b: i64| {
            a.checked_add(b)
                .ok_or_else(|| Error::Internal("a spend total overflows".into()))
        };
        Ok(Sums {
            calls: add(self.calls, other.calls)?,
            answered: add(self.answered, other.answered)?,
            seconds: add(self.seconds, other.seconds)?,
            cost: add(self.cost, other.cost)?,
        })
    }

    fn negated(self) -> Sums {
        Sums {
            calls: -self.calls,
            answered: -self.answered,
            seconds: -self.seconds,
            cost: -self.cost,
        }
    }

    fn is_zero(&self) -> bool {
        *self == Sums::default()
    }
}

/// One stored CDR as the rollups count it.
pub(crate) struct RolledCall<'a> {
    pub started_at: i64,
    pub user_id: Option<i64>,
    pub billed_user_id: Option<i64>,
    pub direction: &'a str,
    pub rate: Option<(i64, &'a str)>,
    pub answered: bool,
    pub duration: i64,
    pub cost: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    hour: i64,
    user_id: i64,
    billed_user_id: i64,
    direction: String,
    rate_id: i64,
    rate_prefix: String,
}

/// The changes a transaction makes to one tenant's rollups, gathered per
/// row and written at once, in key order (so that concurrent writers lock
/// the rows in one order).
pub(crate) struct Rollups {
    tenant_id: i64,
    changes: BTreeMap<Key, Sums>,
}

const ROLLUP: sql::Insert = sql::Insert {
    table: "spend_rollups",
    columns: &[
        "tenant_id",
        "hour",
        "user_id",
        "billed_user_id",
        "direction",
        "rate_id",
        "rate_prefix",
        "calls",
        "answered",
        "seconds",
        "cost",
    ],
};

/// A rollup row keyed by column, as PostgreSQL reads many of them.
#[derive(Serialize)]
struct RollupRow<'a> {
    tenant_id: i64,
    hour: i64,
    user_id: i64,
    billed_user_id: i64,
    direction: &'a str,
    rate_id: i64,
    rate_prefix: &'a str,
    calls: i64,
    answered: i64,
    seconds: i64,
    cost: i64,
}

const UPSERT: &str =
    " ON CONFLICT (tenant_id, hour, user_id, billed_user_id, direction, rate_id, rate_prefix) \
    DO UPDATE SET calls = spend_rollups.calls + excluded.calls, \
    answered = spend_rollups.answered + excluded.answered, \
    seconds = spend_rollups.seconds + excluded.seconds, \
    cost = spend_rollups.cost + excluded.cost";

impl Rollups {
    pub(crate) fn new(tenant_id: i64) -> Rollups {
        Rollups {
            tenant_id,
            changes: BTreeMap::new(),
        }
    }

    /// Counts a stored call in.
    pub(crate) fn add(&mut self, call: &RolledCall<'_>) -> Result<()> {
        self.change(call, false)
    }

    /// Counts a stored call out (before its row changes).
    pub(crate) fn remove(&mut self, call: &RolledCall<'_>) -> Result<()> {
        self.change(call, true)
    }

    fn change(&mut self, call: &RolledCall<'_>, out: bool) -> Result<()> {
        let key = Key {
            hour: call.started_at - call.started_at.rem_euclid(HOUR_MS),
            user_id: call.user_id.unwrap_or(0),
            billed_user_id: call.billed_user_id.unwrap_or(0),
            direction: call.direction.to_string(),
            rate_id: call.rate.map_or(0, |r| r.0),
            rate_prefix: call.rate.map_or("", |r| r.1).to_string(),
        };
        let sums = Sums {
            calls: 1,
            answered: i64::from(call.answered),
            seconds: call.duration,
            cost: call.cost.unwrap_or(0),
        };
        let sums = if out { sums.negated() } else { sums };
        let entry = self.changes.entry(key).or_default();
        *entry = entry.checked_add(sums)?;
        Ok(())
    }

    /// Writes the changes on `conn` (inside the caller's transaction).
    pub(crate) async fn apply(self, conn: &mut AnyConnection, backend: Backend) -> Result<()> {
        let rows: Vec<(Key, Sums)> = self
            .changes
            .into_iter()
            .filter(|(_, sums)| !sums.is_zero())
            .collect();
        if backend == Backend::Postgres {
            if rows.is_empty() {
                return Ok(());
            }
            // One statement, the rows in one JSON parameter.
            let json: Vec<RollupRow> = rows
                .iter()
                .map(|(key, sums)| RollupRow {
                    tenant_id: self.tenant_id,
                    hour: key.hour,
                    user_id: key.user_id,
                    billed_user_id: key.billed_user_id,
                    direction: key.direction.as_str(),
                    rate_id: key.rate_id,
                    rate_prefix: key.rate_prefix.as_str(),
                    calls: sums.calls,
                    answered: sums.answered,
                    seconds: sums.seconds,
                    cost: sums.cost,
                })
                .collect();
            sqlx::query(&ROLLUP.json_sql(1, UPSERT))
                .bind(sql::json_rows(&json)?)
                .execute(&mut *conn)
                .await?;
            return Ok(());
        }
        for chunk in ROLLUP.chunks(&rows) {
            let sql = ROLLUP.sql(backend, chunk.len(), UPSERT);
            let mut query = ROLLUP.binds(&sql, chunk.len());
            for (key, sums) in chunk {
                query = query
                    .bind(self.tenant_id)
                    .bind(key.hour)
                    .bind(key.user_id)
                    .bind(key.billed_user_id)
                    .bind(key.direction.as_str())
                    .bind(key.rate_id)
                    .bind(key.rate_prefix.as_str())
                    .bind(sums.calls)
                    .bind(sums.answered)
                    .bind(sums.seconds)
                    .bind(sums.cost);
            }
            query.query()?.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Refuses a range a report cannot answer: `to` after `from`, both on the
/// hour (the rollups are hourly), at most [`MAX_DAYS`] apart.
fn validate_range(from: i64, to: i64) -> Result<()> {
    crate::time::validate_stepped_range(
        from,
        to,
        HOUR_MS,
        "must be on the hour, such as 2026-01-31T10:00:00Z",
        MAX_DAYS,
    )
}

fn sums_of(row: &sqlx::any::AnyRow) -> Result<Sums> {
    Ok(Sums {
        calls: row.try_get("calls")?,
        answered: row.try_get("answered")?,
        seconds: row.try_get("seconds")?,
        cost: row.try_get("cost")?,
    })
}

/// `(key, description)` groups folded into items, the empty ones left out.
fn items(groups: BTreeMap<(String, Option<String>), Sums>) -> Vec<SpendItem> {
    groups
        .into_iter()
        .filter(|(_, sums)| sums.calls != 0)
        .map(|((key, description), sums)| SpendItem {
            key,
            description,
            calls: sums.calls,
            answered: sums.answered,
            seconds: sums.seconds,
            cost: Money::from_units(sums.cost),
        })
        .collect()
}

/// `2026-01-31` of unix milliseconds (UTC).
fn day_text(ms: i64) -> String {
    let text = crate::time::rfc3339(ms);
    text.get(..10).unwrap_or_default().to_string()
}

impl Db {
    /// The spend of the scope's calls started in `[from, to)` (unix ms, on
    /// the hour), grouped by `group_by`: a standard user's (or one's own
    /// account's) calls made from or billed to it, the tenant's for its
    /// administrators. Time groups come in time order, the others by cost,
    /// highest first.
    pub async fn spend_report(
        &self,
        scope: &Scope,
        from: i64,
        to: i64,
        group_by: GroupBy,
    ) -> Result<SpendReport> {
        validate_range(from, to)?;
        let currency = self.report_currency(scope).await?;
        let columns = match group_by {
            GroupBy::Day | GroupBy::Hour | GroupBy::HourOfDay => "hour",
            GroupBy::Destination => "rate_id, rate_prefix",
            GroupBy::User => "user_id",
            GroupBy::Type => "direction",
        };
        let rows = self.rollup_rows(scope, from, to, Some(columns)).await?;

        let mut groups: BTreeMap<(String, Option<String>), Sums> = BTreeMap::new();
        let mut put = |key: String, description: Option<String>, sums: Sums| -> Result<()> {
            let entry = groups.entry((key, description)).or_default();
            *entry = entry.checked_add(sums)?;
            Ok(())
        };
        match group_by {
            GroupBy::Day | GroupBy::Hour | GroupBy::HourOfDay => {
                // Keyed by time first, so that the text keys sort in time
                // order whatever the year's width.
                let mut by_time: BTreeMap<i64, Sums> = BTreeMap::new();
                for row in &rows {
                    let hour: i64 = row.try_get("hour")?;
                    let at = match group_by {
                        GroupBy::Day => hour - hour.rem_euclid(DAY_MS),
                        GroupBy::HourOfDay => hour.rem_euclid(DAY_MS) / HOUR_MS,
                        _ => hour,
                    };
                    let entry = by_time.entry(at).or_default();
                    *entry = entry.checked_add(sums_of(row)?)?;
                }
                let items = by_time
                    .into_iter()
                    .filter(|(_, sums)| sums.calls != 0)
                    .map(|(at, sums)| SpendItem {
                        key: match group_by {
                            GroupBy::Day => day_text(at),
                            GroupBy::HourOfDay => format!("{at:02}"),
                            _ => crate::time::rfc3339(at),
                        },
                        description: None,
                        calls: sums.calls,
                        answered: sums.answered,
                        seconds: sums.seconds,
                        cost: Money::from_units(sums.cost),
                    })
                    .collect();
                return Ok(SpendReport { items, currency });
            }
            GroupBy::Destination => {
                let ids: Vec<i64> = rows
                    .iter()
                    .map(|r| r.try_get::<i64, _>("rate_id"))
                    .collect::<std::result::Result<_, _>>()?;
                let descriptions = self.rate_descriptions(scope.tenant_id, &ids).await?;
                for row in &rows {
                    let id: i64 = row.try_get("rate_id")?;
                    let description = descriptions.get(&id).cloned().unwrap_or_default();
                    put(
                        row.try_get("rate_prefix")?,
                        Some(description),
                        sums_of(row)?,
                    )?;
                }
            }
            GroupBy::User => {
                let names: HashMap<i64, String> = self
                    .tenant_user_names(scope.tenant_id)
                    .await?
                    .into_iter()
                    .collect();
                for row in &rows {
                    let id: i64 = row.try_get("user_id")?;
                    let name = names.get(&id).cloned().unwrap_or_default();
                    put(name, None, sums_of(row)?)?;
                }
            }
            GroupBy::Type => {
                for row in &rows {
                    put(row.try_get("direction")?, None, sums_of(row)?)?;
                }
            }
        }
        let mut items = items(groups);
        items.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.key.cmp(&b.key)));
        Ok(SpendReport { items, currency })
    }

    /// The totals of the scope's calls started in `[from, to)` (unix ms, on
    /// the hour; whose calls as [`Db::spend_report`]), with the share of
    /// them answered and the average duration of an answered call.
    pub async fn spend_summary(&self, scope: &Scope, from: i64, to: i64) -> Result<SpendSummary> {
        validate_range(from, to)?;
        let currency = self.report_currency(scope).await?;
        let mut sums = Sums::default();
        for row in &self.rollup_rows(scope, from, to, None).await? {
            // SUM over no rows is NULL: no calls.
            if row.try_get::<Option<i64>, _>("calls")?.is_some() {
                sums = sums.checked_add(sums_of(row)?)?;
            }
        }
        Ok(SpendSummary::of(sums, currency))
    }

    /// The tenant's currency, in which every cost of its reports is.
    async fn report_currency(&self, scope: &Scope) -> Result<String> {
        Ok(sqlx::query("SELECT currency FROM tenants WHERE id = $1")
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?
            .try_get("currency")?)
    }

    /// The rollups of the scope's calls started in `[from, to)`, summed per
    /// `columns` (all in one row when `None`): a standard user's (or one's
    /// own account's) calls made from or billed to it, else the tenant's.
    async fn rollup_rows(
        &self,
        scope: &Scope,
        from: i64,
        to: i64,
        columns: Option<&str>,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        let own = if scope.only_own() {
            " AND (user_id = $4 OR billed_user_id = $4)"
        } else {
            ""
        };
        let (select, group) = match columns {
            Some(columns) => (format!("{columns}, "), format!(" GROUP BY {columns}")),
            None => (String::new(), String::new()),
        };
        let sql = format!(
            "SELECT {select}CAST(SUM(calls) AS BIGINT) AS calls, \
             CAST(SUM(answered) AS BIGINT) AS answered, CAST(SUM(seconds) AS BIGINT) AS seconds, \
             CAST(SUM(cost) AS BIGINT) AS cost FROM spend_rollups \
             WHERE tenant_id = $1 AND hour >= $2 AND hour < $3{own}{group}"
        );
        let mut query = sqlx::query(&sql).bind(scope.tenant_id).bind(from).bind(to);
        if scope.only_own() {
            query = query.bind(scope.caller.user_id);
        }
        Ok(query.fetch_all(self.pool()).await?)
    }

    /// The descriptions of the tenant's rates `ids` (those still stored).
    async fn rate_descriptions(&self, tenant_id: i64, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut found = HashMap::new();
        let ids: Vec<i64> = ids.iter().copied().filter(|id| *id != 0).collect();
        for chunk in ids.chunks(500) {
            let mut p = sql::Params::new(self.backend());
            let sql = format!(
                "SELECT id, description FROM call_rates WHERE tenant_id = {} AND id IN ({})",
                p.next(),
                p.list(chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(tenant_id);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(self.pool()).await? {
                found.insert(row.try_get("id")?, row.try_get("description")?);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_on_the_hour_and_forward() {
        assert!(validate_range(0, HOUR_MS).is_ok());
        assert!(validate_range(-HOUR_MS, 0).is_ok());
        let fields = |r: Result<()>| match r {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            _ => Vec::new(),
        };
        assert_eq!(fields(validate_range(1, HOUR_MS)), ["from"]);
        assert_eq!(fields(validate_range(HOUR_MS, HOUR_MS)), ["to"]);
        assert_eq!(fields(validate_range(0, (MAX_DAYS + 1) * DAY_MS)), ["to"]);
    }

    #[test]
    fn a_call_counted_out_cancels_its_count_in() {
        let call = RolledCall {
            started_at: -1,
            user_id: Some(3),
            billed_user_id: None,
            direction: "OUTBOUND_CALL",
            rate: Some((7, "44")),
            answered: true,
            duration: 60,
            cost: Some(1200),
        };
        let mut rollups = Rollups::new(1);
        rollups.add(&call).expect("add");
        let (key, sums) = rollups.changes.iter().next().expect("a row");
        assert_eq!(key.hour, -HOUR_MS);
        assert_eq!(sums.cost, 1200);
        rollups.remove(&call).expect("remove");
        assert!(rollups.changes.values().all(Sums::is_zero));
    }
}
