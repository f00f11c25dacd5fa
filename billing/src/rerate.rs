//! Re-rating: stored CDRs rated again with the tenant's current rates, and
//! each billed account corrected by the difference (a RERATE row per call).
//!
//! CDRs are taken in chunks, each in one transaction: a CDR's new cost and
//! its ledger row are written together or not at all, and a CDR changed by
//! someone else meanwhile is left alone (its update names the old values).
//! Running it again without a rate change finds every cost equal and
//! changes nothing.

use std::collections::HashMap;

use model::billing_settings::BillingAccount;
use model::cdr::{rated_number, Direction, MAX_BATCH};
use model::query::SqlValue;
use model::{FieldError, Money, WireEnum};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::auth::Scope;
use crate::balances::{self, Entry, TransactionKind};
use crate::cdr_rating::{rate_cdr, CdrToRate, RatedCdr, RatingStatus};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::listing::bind_all;
use crate::reports::{RolledCall, Rollups};
use crate::sql::Params;

/// CDRs re-rated per transaction.
const CHUNK: usize = 500;

/// Which CDRs to re-rate; every part is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RerateFilter {
    /// Calls started at or after (unix ms).
    pub from: Option<i64>,
    /// Calls started before (unix ms).
    pub to: Option<i64>,
    /// Calls whose rated number starts with this (a leading `+` ignored).
    pub prefix: Option<String>,
    /// RATED, FREE or UNRATED.
    pub status: Option<String>,
    pub call_ids: Option<Vec<String>>,
}

/// What a re-rating did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rerated {
    /// CDRs the filter matched.
    pub matched: u64,
    /// CDRs whose cost or rate changed (each with a RERATE ledger row when
    /// the cost changed).
    pub rerated: u64,
    /// CDRs whose cost stays (free calls included).
    pub unchanged: u64,
    /// CDRs no rate applies to now; a charged one keeps its cost, an
    /// unrated one its `unrated_reason` updated to why it still is.
    pub unrated: u64,
    /// The sum of the cost changes (positive: more was charged).
    pub delta: Money,
}

fn strip_plus(s: &str) -> &str {
    s.strip_prefix('+').unwrap_or(s)
}

impl RerateFilter {
    fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(status) = &self.status {
            if status.parse::<RatingStatus>().is_err() {
                errors.push(FieldError::new("status", "must be RATED, FREE or UNRATED"));
            }
        }
        if let Some(prefix) = &self.prefix {
            if strip_plus(prefix.trim()).is_empty() || prefix.chars().count() > 64 {
                errors.push(FieldError::new("prefix", "must be 1 to 64 characters"));
            }
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if to <= from {
                errors.push(FieldError::new("to", "must be after from"));
            }
        }
        if let Some(ids) = &self.call_ids {
            if ids.is_empty() || ids.len() > MAX_BATCH {
                errors.push(FieldError::new(
                    "call_ids",
                    format!("must hold 1 to {MAX_BATCH} call ids"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }
}

impl Db {
    /// Re-rates the tenant's CDRs that `filter` matches with its current
    /// rates (its administrators), correcting the billed accounts.
    pub async fn rerate_cdrs(&self, scope: &Scope, filter: RerateFilter) -> Result<Rerated> {
        scope.require_manager()?;
        filter.validate()?;
        let settings = self.billing_settings(scope).await?;
        if !settings.enabled {
            return Err(Error::Conflict {
                code: "BILLING_DISABLED",
                message: "the tenant's billing is disabled: there is nothing to charge".into(),
            });
        }
        // What it writes is final: with the tenant's current rates, even
        // while a new table would otherwise still be built in the background.
        let rating = self.fresh_tenant_rating(scope.tenant_id).await?;
        let names: HashMap<i64, String> = self
            .tenant_user_names(scope.tenant_id)
            .await?
            .into_iter()
            .collect();
        let prefix = filter
            .prefix
            .as_deref()
            .map(|p| strip_plus(p.trim()).to_string());

        let mut result = Rerated {
            matched: 0,
            rerated: 0,
            unchanged: 0,
            unrated: 0,
            delta: Money::ZERO,
        };
        let mut delta_units: i64 = 0;
        let id_chunks: Vec<Option<&[String]>> = match &filter.call_ids {
            Some(ids) => ids.chunks(CHUNK).map(Some).collect(),
            None => vec![None],
        };
        for ids in id_chunks {
            let mut after = 0i64;
            loop {
                let mut p = Params::new(self.backend());
                let mut conditions = vec![
                    format!("tenant_id = {}", p.next()),
                    format!("id > {}", p.next()),
                ];
                let mut binds = vec![SqlValue::Int(scope.tenant_id), SqlValue::Int(after)];
                if let Some(from) = filter.from {
                    conditions.push(format!("started_at >= {}", p.next()));
                    binds.push(SqlValue::Int(from));
                }
                if let Some(to) = filter.to {
                    conditions.push(format!("started_at < {}", p.next()));
                    binds.push(SqlValue::Int(to));
                }
                if let Some(status) = &filter.status {
                    conditions.push(format!("rating_status = {}", p.next()));
                    binds.push(SqlValue::Text(status.clone()));
                }
                if let Some(ids) = ids {
                    conditions.push(format!("call_id IN ({})", p.list(ids.len())));
                    binds.extend(ids.iter().map(|id| SqlValue::Text(id.clone())));
                }
                let sql = format!(
                    "SELECT id, call_id, callee, destination, direction, started_at, duration, user_id, \
                     rating_status, unrated_reason, cost, rate_id, rate_prefix, billed_user_id, answered_at FROM cdrs WHERE {} \
                     ORDER BY id LIMIT {CHUNK}",
                    conditions.join(" AND ")
                );
                if binds.len() != p.count() {
                    return Err(Error::Internal(
                        "a re-rating's conditions and their values differ in number".into(),
                    ));
                }
                let _turn = self.write_turn().await;
                let mut tx = self.write().await?;
                let rows = bind_all(sqlx::query(&sql), &binds)
                    .fetch_all(&mut *tx)
                    .await?;
                let mut rollups = Rollups::new(scope.tenant_id);
                // The accounts whose funds this chunk moved.
                let mut moved: std::collections::BTreeSet<Option<i64>> = Default::default();
                for row in &rows {
                    let id: i64 = row.try_get("id")?;
                    after = id;
                    let call_id: String = row.try_get("call_id")?;
                    let callee: String = row.try_get("callee")?;
                    let destination: String = row.try_get("destination")?;
                    let number = rated_number(&callee, &destination);
                    if let Some(prefix) = &prefix {
                        if !strip_plus(number).starts_with(prefix.as_str()) {
                            continue;
                        }
                    }
                    result.matched += 1;
                    let direction: Direction = row
                        .try_get::<String, _>("direction")?
                        .parse()
                        .map_err(Error::internal)?;
                    let status: RatingStatus = row
                        .try_get::<String, _>("rating_status")?
                        .parse()
                        .map_err(Error::internal)?;
                    let rated = rate_cdr(
                        &rating,
                        &CdrToRate {
                            number,
                            direction,
                            started_at: row.try_get("started_at")?,
                            duration: row.try_get("duration")?,
                        },
                    );
                    let (rate, cost) = match rated {
                        RatedCdr::Rated { rate, cost } => (rate, cost),
                        RatedCdr::Free { .. } => {
                            result.unchanged += 1;
                            continue;
                        }
                        RatedCdr::Unrated { reason } => {
                            // A charged call keeps its cost; an unrated one
                            // says why it still is.
                            result.unrated += 1;
                            let old_reason: Option<String> = row.try_get("unrated_reason")?;
                            if status == RatingStatus::Unrated
                                && old_reason.as_deref() != Some(reason.as_str())
                            {
                                sqlx::query(
                                    "UPDATE cdrs SET unrated_reason = $1 WHERE id = $2 AND rating_status = $3",
                                )
                                .bind(&reason)
                                .bind(id)
                                .bind(RatingStatus::Unrated.wire())
                                .execute(&mut *tx)
                                .await?;
                            }
                            continue;
                        }
                    };
                    let maker: Option<i64> = row.try_get("user_id")?;
                    let old_cost: Option<i64> = row.try_get("cost")?;
                    let old_rate: Option<i64> = row.try_get("rate_id")?;
                    let billed: Option<i64> = row.try_get("billed_user_id")?;
                    let was_rated = status == RatingStatus::Rated;
                    if was_rated && old_cost == Some(cost) && old_rate == Some(rate.id) {
                        result.unchanged += 1;
                        continue;
                    }
                    // A call charged before stays on the account it was
                    // charged to; a call rated now for the first time goes
                    // to the account the settings name.
                    let user_id = if was_rated {
                        billed
                    } else {
                        match settings.account {
                            BillingAccount::Tenant => None,
                            BillingAccount::User => match maker {
                                Some(user) => Some(user),
                                None => {
                                    result.unrated += 1;
                                    continue;
                                }
                            },
                        }
                    };
                    let billed_account = match user_id {
                        None => "TENANT".to_string(),
                        Some(user) => names.get(&user).cloned().unwrap_or_default(),
                    };
                    let before = if was_rated { old_cost.unwrap_or(0) } else { 0 };
                    let done = sqlx::query(
                        "UPDATE cdrs SET rating_status = $1, unrated_reason = NULL, cost = $2, currency = $3, \
                         rate_id = $4, rate_prefix = $5, billed_account = $6, billed_user_id = $7 \
                         WHERE id = $8 AND rating_status = $9 AND COALESCE(cost, -1) = $10",
                    )
                    .bind(RatingStatus::Rated.wire())
                    .bind(cost)
                    .bind(&rating.currency)
                    .bind(rate.id)
                    .bind(&rate.prefix)
                    .bind(&billed_account)
                    .bind(user_id)
                    .bind(id)
                    .bind(status.wire())
                    .bind(old_cost.unwrap_or(-1))
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        // Changed meanwhile (another re-rating): left to it.
                        result.unchanged += 1;
                        continue;
                    }
                    result.rerated += 1;
                    // The spend rollups move by the difference: the call as
                    // it was counted out, as it is now counted in.
                    let direction_text = direction.to_string();
                    let old_prefix: Option<String> = row.try_get("rate_prefix")?;
                    let counted = RolledCall {
                        started_at: row.try_get("started_at")?,
                        user_id: maker,
                        billed_user_id: billed,
                        direction: &direction_text,
                        rate: old_rate.zip(old_prefix.as_deref()),
                        answered: row.try_get::<Option<i64>, _>("answered_at")?.is_some(),
                        duration: row.try_get("duration")?,
                        cost: old_cost,
                    };
                    rollups.remove(&counted)?;
                    rollups.add(&RolledCall {
                        billed_user_id: user_id,
                        rate: Some((rate.id, rate.prefix.as_str())),
                        cost: Some(cost),
                        ..counted
                    })?;
                    let delta = cost - before;
                    if delta != 0 {
                        delta_units += delta;
                        moved.insert(user_id);
                        balances::post(
                            &mut tx,
                            Entry {
                                tenant_id: scope.tenant_id,
                                user_id,
                                kind: TransactionKind::Rerate,
                                amount: -delta,
                                call_id: Some(&call_id),
                                description: "re-rated",
                                created_by: Some(scope.caller.user_id),
                            },
                        )
                        .await?;
                    }
                }
                for user_id in moved {
                    balances::watch(&mut tx, self.backend(), scope.tenant_id, user_id).await?;
                }
                // Last, after the balances, as an ingestion writes them.
                rollups.apply(&mut tx, self.backend()).await?;
                tx.commit().await?;
                if rows.len() < CHUNK {
                    break;
                }
            }
        }
        result.delta = Money::from_units(delta_units);
        if result.rerated > 0 {
            // One entry for the run, with its counts (each CDR changed has
            // its own RERATE ledger row, written with it).
            let mut tx = self.write().await?;
            crate::audit::append(
                &mut tx,
                scope
                    .change(
                        crate::audit::Action::Rerate,
                        crate::audit::Entity::Cdrs,
                        None,
                    )
                    .with(crate::audit::counts(&[
                        ("matched", result.matched.into()),
                        ("rerated", result.rerated.into()),
                        ("unchanged", result.unchanged.into()),
                        ("unrated", result.unrated.into()),
                        (
                            "delta",
                            serde_json::to_value(result.delta).map_err(Error::internal)?,
                        ),
                    ])),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(result)
    }
}
