//! CDRs: finished calls posted by the PBX, rated and charged (offline), kept
//! whatever happens, and listed back.
//!
//! A batch is rated in memory against the tenant's rate table, then stored in
//! one transaction: a call id already stored is skipped (and so never charged
//! twice), each new rated call is debited from the billed account through the
//! ledger. Rating is [`crate::cdr_rating::rate_cdr`]; writing the rows is
//! `store`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use model::billing_settings::BillingAccount;
use model::cdr::{CallRecord, Direction, NewCdr};
use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::webhook::WebhookEvent;
use model::{ApiId, Money};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::auth::Scope;
use crate::balances::{self, TransactionKind};
use crate::cdr_rating::{rate_cdr, CdrToRate, RatedCdr};
use crate::charging::{self, SessionState};
use crate::db::{now_ms, Backend, Db};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};
use crate::reports::{RolledCall, Rollups};
use crate::webhooks;

mod breakdown;
mod export;
mod store;

pub use breakdown::{CdrRating, RateTermsView};
pub use export::EXPORT_COLUMNS;
use store::{insert_cdrs, Outcome};

pub use crate::cdr_rating::RatingStatus;

/// A stored CDR as the API shows it: the call as posted (its times in
/// RFC 3339), and how it was rated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cdr {
    pub id: String,
    #[serde(flatten)]
    pub call: CallRecord<String>,
    pub cost: Option<Money>,
    pub billed_account: Option<String>,
    pub rating_status: RatingStatus,
    pub unrated_reason: Option<String>,
}

/// What a batch did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingested {
    /// New calls stored.
    pub accepted: u64,
    /// Calls already stored (same call id), left as they were.
    pub duplicates: u64,
    /// New calls rated and charged.
    pub rated: u64,
    /// New calls kept without a charge (see each CDR's `unrated_reason`).
    pub unrated: u64,
}

const COLUMNS: &str = "id, call_id, caller, caller_domain, caller_display_name, callee, callee_domain, \
    callee_display_name, started_at, rang_at, answered_at, ended_at, direction, end_reason, reroute_reason, \
    status_code, destination, outbound_caller_id, did_cid, trunk, duration, user_data, cost, billed_account, \
    rating_status, unrated_reason";

pub static CDR_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("call_id", "call_id", FieldKind::Text),
        FieldSpec::new("caller", "caller", FieldKind::Text),
        FieldSpec::new("callee", "callee", FieldKind::Text),
        FieldSpec::new("started_at", "started_at", FieldKind::Timestamp),
        FieldSpec::new("answered_at", "answered_at", FieldKind::Timestamp),
        FieldSpec::new("ended_at", "ended_at", FieldKind::Timestamp),
        FieldSpec::new(
            "direction",
            "direction",
            FieldKind::Enum(<Direction as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("status_code", "status_code", FieldKind::Integer),
        FieldSpec::new("destination", "destination", FieldKind::Text),
        FieldSpec::new("trunk", "trunk", FieldKind::Text),
        FieldSpec::new("duration", "duration", FieldKind::Integer),
        FieldSpec::new("cost", "cost", FieldKind::Money),
        FieldSpec::new("billed_account", "billed_account", FieldKind::Text),
        FieldSpec::new(
            "rating_status",
            "rating_status",
            FieldKind::Enum(<RatingStatus as model::WireEnum>::ALL_WIRE),
        ),
    ],
    search: &["caller", "callee", "call_id"],
    default_order: "id",
    decode_id: ApiId::decode,
};

/// A stored wire value read back as its enum.
fn parsed<T: std::str::FromStr>(text: String) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(Error::internal)
}

fn cdr_from_row(row: &AnyRow) -> Result<Cdr> {
    let time = |column: &str| -> Result<Option<String>> {
        Ok(row
            .try_get::<Option<i64>, _>(column)?
            .map(crate::time::rfc3339))
    };
    let wire = |column: &str| -> Result<Option<String>> { Ok(row.try_get(column)?) };
    Ok(Cdr {
        id: ApiId::encode(row.try_get("id")?),
        call: CallRecord {
            call_id: row.try_get("call_id")?,
            caller: row.try_get("caller")?,
            caller_domain: row.try_get("caller_domain")?,
            caller_display_name: row.try_get("caller_display_name")?,
            callee: row.try_get("callee")?,
            callee_domain: row.try_get("callee_domain")?,
            callee_display_name: row.try_get("callee_display_name")?,
            started_at: crate::time::rfc3339(row.try_get("started_at")?),
            rang_at: time("rang_at")?,
            answered_at: time("answered_at")?,
            ended_at: time("ended_at")?,
            direction: parsed(row.try_get("direction")?)?,
            end_reason: wire("end_reason")?.map(parsed).transpose()?,
            reroute_reason: wire("reroute_reason")?.map(parsed).transpose()?,
            status_code: row.try_get("status_code")?,
            destination: row.try_get("destination")?,
            outbound_caller_id: row.try_get("outbound_caller_id")?,
            did_cid: row.try_get("did_cid")?,
            trunk: row.try_get("trunk")?,
            duration: row.try_get("duration")?,
            user_data: row.try_get("user_data")?,
        },
        cost: row
            .try_get::<Option<i64>, _>("cost")?
            .map(Money::from_units),
        billed_account: row.try_get("billed_account")?,
        rating_status: row
            .try_get::<String, _>("rating_status")?
            .parse()
            .map_err(Error::internal)?,
        unrated_reason: row.try_get("unrated_reason")?,
    })
}

/// The condition (without `WHERE`) on `cdrs` of the calls a scope reads,
/// and its values: the tenant's; for a standard user or a scope of one's own
/// account, the calls made from one's extension or billed to one.
pub(crate) fn calls_condition(scope: &Scope) -> (&'static str, Vec<SqlValue>) {
    if scope.only_own() {
        (
            "tenant_id = $1 AND (user_id = $2 OR billed_user_id = $2)",
            vec![
                SqlValue::Int(scope.tenant_id),
                SqlValue::Int(scope.caller.user_id),
            ],
        )
    } else {
        ("tenant_id = $1", vec![SqlValue::Int(scope.tenant_id)])
    }
}

/// The `call.rated` event of a new CDR stored rated (or free).
fn call_rated(
    tenant_id: i64,
    cdr: &NewCdr,
    outcome: &Outcome,
    currency: &str,
    now: i64,
) -> webhooks::Event {
    let time = crate::time::rfc3339;
    let call = &cdr.call;
    webhooks::Event::new(
        WebhookEvent::CallRated,
        tenant_id,
        now,
        serde_json::json!({
            "call_id": call.call_id,
            "caller": call.caller,
            "callee": call.callee,
            "direction": call.direction.to_string(),
            "started_at": time(call.started_at),
            "answered_at": call.answered_at.map(time),
            "ended_at": call.ended_at.map(time),
            "duration": call.duration,
            "status_code": call.status_code,
            "rating_status": outcome.status.to_string(),
            "cost": outcome.cost.map(Money::from_units),
            "currency": currency,
            "billed_account": outcome.billed_account,
            "rate_prefix": outcome.rate.as_ref().map(|(_, prefix)| prefix.as_str()),
        }),
    )
}

impl Db {
    /// Stores, rates and charges a batch of finished calls of the scope's
    /// tenant (its administrators, or a system administrator naming it).
    pub async fn ingest_cdrs(&self, scope: &Scope, cdrs: Vec<NewCdr>) -> Result<Ingested> {
        scope.require_manager()?;
        let settings = self.billing_settings(scope).await?;
        let rating = self.tenant_rating(scope.tenant_id).await?;
        let users: HashMap<String, i64> = self
            .tenant_user_names(scope.tenant_id)
            .await?
            .into_iter()
            .map(|(id, name)| (name, id))
            .collect();

        let mut outcomes: Vec<Outcome> = cdrs
            .iter()
            .map(|cdr| {
                let maker = cdr.extension.as_deref().unwrap_or(cdr.call.caller.as_str());
                let user = users.get(maker).map(|id| (maker.to_string(), *id));
                let user_id = user.as_ref().map(|(_, id)| *id);
                if !settings.enabled {
                    return Outcome::unrated(user_id, "billing is disabled for the tenant".into());
                }
                let rated = rate_cdr(
                    &rating,
                    &CdrToRate {
                        number: cdr.rated_number(),
                        direction: cdr.call.direction,
                        started_at: cdr.call.started_at,
                        duration: cdr.call.duration,
                    },
                );
                let charge = match rated {
                    RatedCdr::Free { reason } => {
                        return Outcome {
                            status: RatingStatus::Free,
                            reason: Some(reason.into()),
                            cost: Some(0),
                            ..Outcome::unrated(user_id, String::new())
                        };
                    }
                    RatedCdr::Rated { rate, cost } => Ok((rate, cost)),
                    RatedCdr::Unrated { reason } => Err(reason),
                };
                let (billed_account, billed_user_id) = match settings.account {
                    BillingAccount::Tenant => ("TENANT".to_string(), None),
                    BillingAccount::User => match &user {
                        Some((name, id)) => (name.clone(), Some(*id)),
                        None => {
                            return Outcome::unrated(
                                user_id,
                                format!("no user '{maker}' of the tenant to bill"),
                            )
                        }
                    },
                };
                match charge {
                    Ok((rate, cost)) => Outcome {
                        user_id,
                        status: RatingStatus::Rated,
                        reason: None,
                        cost: Some(cost),
                        rate: Some((rate.id, rate.prefix.clone())),
                        billed_account: Some(billed_account),
                        billed_user_id,
                    },
                    Err(reason) => Outcome::unrated(user_id, reason),
                }
            })
            .collect();

        let now = now_ms();
        let mut result = Ingested {
            accepted: 0,
            duplicates: 0,
            rated: 0,
            unrated: 0,
        };
        let _turn = self.write_turn().await;
        let mut tx = self.write().await?;
        // Calls authorised online are settled by their CDR (or were by their
        // terminate): the session, not the CDR, says whose money it is, and
        // at what price, even when billing was turned off during the call.
        let ids: Vec<&str> = cdrs.iter().map(|c| c.call.call_id.as_str()).collect();
        let sessions =
            charging::sessions_of(&mut tx, self.backend(), scope.tenant_id, &ids).await?;
        if !sessions.is_empty() {
            let granted = charging::ChargingRates::new(rating.clone());
            let names: HashMap<i64, &str> = users
                .iter()
                .map(|(name, id)| (*id, name.as_str()))
                .collect();
            for (cdr, outcome) in cdrs.iter().zip(outcomes.iter_mut()) {
                let Some(session) = sessions.get(&cdr.call.call_id) else {
                    continue;
                };
                outcome.billed_user_id = session.user_id;
                outcome.billed_account = Some(match session.user_id {
                    None => "TENANT".to_string(),
                    Some(id) => names.get(&id).copied().unwrap_or_default().to_string(),
                });
                if session.state == SessionState::Settled {
                    outcome.status = RatingStatus::Rated;
                    outcome.reason = None;
                    outcome.cost = session.cost;
                    outcome.rate = Some((session.rate_id, session.rate_prefix.clone()));
                } else if outcome.status == RatingStatus::Unrated {
                    let duration = u64::try_from(cdr.call.duration).unwrap_or(0);
                    match granted.session_cost(session, duration) {
                        Ok(cost) => {
                            outcome.status = RatingStatus::Rated;
                            outcome.reason = None;
                            outcome.cost = Some(cost);
                            outcome.rate = Some((session.rate_id, session.rate_prefix.clone()));
                        }
                        Err(e) => outcome.reason = Some(e.to_string()),
                    }
                }
            }
        }
        // The new calls, stored hundreds of rows per statement; the ones
        // already stored are left as they are (and so never charged twice),
        // and so is a call id's second occurrence in the batch.
        let mut inserted: HashSet<&str> = HashSet::with_capacity(cdrs.len());
        let rows: Vec<_> = cdrs
            .iter()
            .zip(&outcomes)
            .filter(|(cdr, _)| inserted.insert(cdr.call.call_id.as_str()))
            .collect();
        let currency = rating.currency.as_str();
        // Usually none is stored yet. On SQLite the INSERTs first only count
        // the rows they store, inside a savepoint: a count of all of them
        // costs less than answering each call id (handing 1,000 ids over
        // from SQLite's thread took a quarter of a batch's time); short of
        // all, they are undone and run again answering the ids. PostgreSQL
        // sends the ids with its answer at little cost, while a savepoint
        // there made the batch 15% slower: it answers them at once.
        let mut all_stored = false;
        if self.backend() == Backend::Sqlite {
            let mut attempt = sqlx::Connection::begin(&mut *tx).await?;
            let (count, _) = insert_cdrs(
                &mut attempt,
                self.backend(),
                scope.tenant_id,
                &rows,
                currency,
                now,
                false,
            )
            .await?;
            all_stored = count == rows.len() as u64;
            if all_stored {
                attempt.commit().await?;
            } else {
                attempt.rollback().await?;
            }
        }
        if !all_stored {
            let (_, stored) = insert_cdrs(
                &mut tx,
                self.backend(),
                scope.tenant_id,
                &rows,
                currency,
                now,
                true,
            )
            .await?;
            inserted.retain(|id| stored.contains(*id));
        }

        // Charges, gathered per billed account: one balance update each;
        // the new calls counted into the spend rollups.
        let mut charges: BTreeMap<Option<i64>, Vec<(&str, i64)>> = BTreeMap::new();
        let mut settled: BTreeSet<Option<i64>> = BTreeSet::new();
        let mut rollups = Rollups::new(scope.tenant_id);
        // The endpoints that take `call.rated`: one indexed read a batch, and
        // usually none, so nothing more is done for them.
        let wanted =
            webhooks::subscribers(&mut tx, scope.tenant_id, WebhookEvent::CallRated).await?;
        let mut rated_events = Vec::new();
        for (cdr, outcome) in cdrs.iter().zip(&outcomes) {
            // A call id twice in one batch is stored (and charged) once.
            if !inserted.remove(cdr.call.call_id.as_str()) {
                result.duplicates += 1;
                continue;
            }
            result.accepted += 1;
            let direction = cdr.call.direction.to_string();
            rollups.add(&RolledCall {
                started_at: cdr.call.started_at,
                user_id: outcome.user_id,
                billed_user_id: outcome.billed_user_id,
                direction: &direction,
                rate: outcome
                    .rate
                    .as_ref()
                    .map(|(id, prefix)| (*id, prefix.as_str())),
                answered: cdr.call.answered_at.is_some(),
                duration: cdr.call.duration,
                cost: outcome.cost,
            })?;
            match outcome.status {
                RatingStatus::Rated => result.rated += 1,
                RatingStatus::Unrated => result.unrated += 1,
                RatingStatus::Free => {}
            }
            if !wanted.is_empty() && outcome.status != RatingStatus::Unrated {
                rated_events.push(call_rated(scope.tenant_id, cdr, outcome, currency, now));
            }
            if let Some(session) = sessions.get(&cdr.call.call_id) {
                if session.state != SessionState::Settled {
                    let cost = if outcome.status == RatingStatus::Rated {
                        outcome.cost.unwrap_or(0)
                    } else {
                        0
                    };
                    let duration = u64::try_from(cdr.call.duration).unwrap_or(0);
                    if !charging::settle(&mut tx, session, duration, cost).await? {
                        return Err(Error::Conflict {
                            code: "BUSY",
                            message: format!(
                                "the call {} is being settled; try again",
                                cdr.call.call_id
                            ),
                        });
                    }
                    settled.insert(session.user_id);
                }
                continue;
            }
            if let (RatingStatus::Rated, Some(cost)) = (outcome.status, outcome.cost) {
                if cost > 0 {
                    charges
                        .entry(outcome.billed_user_id)
                        .or_default()
                        .push((cdr.call.call_id.as_str(), cost));
                }
            }
        }
        for (user_id, calls) in &charges {
            let calls = balances::Calls {
                tenant_id: scope.tenant_id,
                user_id: *user_id,
                kind: TransactionKind::CallCharge,
                description: "call",
                calls,
            };
            balances::post_many(&mut tx, self.backend(), &calls).await?;
        }
        // Each account whose funds moved, once its changes are all made.
        settled.extend(charges.keys().copied());
        for user_id in settled {
            balances::watch(&mut tx, self.backend(), scope.tenant_id, user_id).await?;
        }
        webhooks::enqueue(&mut tx, self.backend(), &wanted, &rated_events).await?;
        // Last, after the balances, as a re-rating writes them: the two
        // take their locks in one order.
        rollups.apply(&mut tx, self.backend()).await?;
        tx.commit().await?;
        crate::metrics::cdrs(result.rated, result.unrated, result.duplicates);
        Ok(result)
    }

    /// The tenant's CDRs (administrators); a standard user, or a scope of
    /// one's own account, gets its own calls ([`calls_condition`]).
    pub async fn list_cdrs(&self, scope: &Scope, query: &ListQuery) -> Result<Page<Cdr>> {
        let (condition, binds) = calls_condition(scope);
        self.page(
            Listing {
                columns: COLUMNS,
                from: "cdrs",
                scope: condition,
                scope_binds: binds,
                spec: &CDR_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            cdr_from_row,
        )
        .await
    }

    /// One CDR of the tenant; a standard user, or a scope of one's own
    /// account, sees only its own calls.
    pub async fn get_cdr(&self, scope: &Scope, id: i64) -> Result<Cdr> {
        let (condition, binds) = calls_condition(scope);
        let sql = format!(
            "SELECT {COLUMNS} FROM cdrs WHERE {condition} AND id = ${}",
            binds.len() + 1
        );
        let row = crate::listing::bind_all(sqlx::query(&sql), &binds)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("CDR"))?;
        cdr_from_row(&row)
    }
}
