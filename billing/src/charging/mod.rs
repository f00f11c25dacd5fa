//! Online charging (the ONLINE billing type): a call is authorised before it
//! starts, for the longest duration the billed account's funds cover, and the
//! amount of that duration is held until the call is settled.
//!
//! A hold is a debit of the balance at once (a HOLD row of the ledger).
//! Authorisations are granted in groups (`group.rs`): one transaction locks
//! the billed accounts' rows, works out every waiting call's hold in arrival
//! order, and debits each account once with a conditional UPDATE that
//! re-checks `balance + credit_limit`, so two calls never take the same
//! funds. Extending a live call's grant takes its hold the same way, alone.
//! Settling (terminate, or the call's CDR) releases the hold (RELEASE) and
//! debits the exact amount (CALL_CHARGE) once. A hold whose call is never reported expires: a periodic sweep, and
//! the account's next authorisation when funds run short, release it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use model::{ApiId, Money};
use rating::{Pricing, Rounding};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::auth::Scope;
use crate::balances::{self, Entry, TransactionKind};
use crate::db::{now_ms, Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::quote::{validate_callee, QuotedRate};
use crate::resolver::TenantRating;
use crate::sql;

mod group;
pub(crate) use group::Queue;

/// The longest call an authorisation grants, in seconds.
pub const MAX_CALL_SECONDS: u64 = 4 * 3600;
/// How long after the end of its grant an unreported call's hold lasts.
pub const HOLD_MARGIN_MS: i64 = 5 * 60 * 1000;
/// How often the server releases expired holds.
pub const SWEEP_PERIOD: Duration = Duration::from_secs(30);
/// Conditional debits tried before a hold is refused for contention.
const HOLD_ATTEMPTS: usize = 32;
/// Expired holds released per transaction by the sweep.
const SWEEP_BATCH: i64 = 500;

/// A call being charged.
pub const LIVE: &str = "LIVE";
/// A call whose amount was debited.
pub const SETTLED: &str = "SETTLED";
/// A call whose hold was released without hearing of its end.
pub const EXPIRED: &str = "EXPIRED";

/// What an authorisation asks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    /// The user name of the extension that makes the call (default: `caller`).
    pub extension: Option<String>,
}

/// A granted call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub call_id: String,
    /// Seconds the call may last.
    pub max_duration: u64,
    /// What the call holds of the billed account.
    pub held: Money,
    pub currency: String,
    pub rate: QuotedRate,
    /// When the hold is released if the call is never reported.
    pub expires_at: String,
}

/// Where a live call stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remaining {
    pub call_id: String,
    pub used_seconds: u64,
    pub max_duration: u64,
    /// Seconds left of the grant.
    pub remaining: u64,
    pub held: Money,
    pub currency: String,
    pub expires_at: String,
}

/// How a call was settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub call_id: String,
    pub duration: u64,
    /// The amount debited.
    pub cost: Money,
    /// The hold given back.
    pub released: Money,
    pub currency: String,
    pub rate: QuotedRate,
}

/// A stored charging session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: i64,
    pub tenant_id: i64,
    pub call_id: String,
    pub user_id: Option<i64>,
    pub callee: String,
    pub rate_id: i64,
    pub rate_prefix: String,
    pub currency: String,
    pub started_at: i64,
    pub max_duration: i64,
    pub held: i64,
    pub expires_at: i64,
    pub state: String,
    pub duration: Option<i64>,
    pub cost: Option<i64>,
    pub released: Option<i64>,
}

const SESSION_COLUMNS: &str =
    "id, tenant_id, call_id, user_id, callee, rate_id, rate_prefix, currency, \
    started_at, max_duration, held, expires_at, state, duration, cost, released";

fn session_from_row(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        id: row.try_get(0)?,
        tenant_id: row.try_get(1)?,
        call_id: row.try_get(2)?,
        user_id: row.try_get(3)?,
        callee: row.try_get(4)?,
        rate_id: row.try_get(5)?,
        rate_prefix: row.try_get(6)?,
        currency: row.try_get(7)?,
        started_at: row.try_get(8)?,
        max_duration: row.try_get(9)?,
        held: row.try_get(10)?,
        expires_at: row.try_get(11)?,
        state: row.try_get(12)?,
        duration: row.try_get(13)?,
        cost: row.try_get(14)?,
        released: row.try_get(15)?,
    })
}

fn seconds(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Session {
    fn rate(&self) -> QuotedRate {
        QuotedRate {
            id: ApiId::encode(self.rate_id),
            prefix: self.rate_prefix.clone(),
        }
    }

    fn grant(&self) -> Grant {
        Grant {
            call_id: self.call_id.clone(),
            max_duration: seconds(self.max_duration),
            held: Money::from_units(self.held),
            currency: self.currency.clone(),
            rate: self.rate(),
            expires_at: crate::time::rfc3339(self.expires_at),
        }
    }

    fn settlement(&self) -> Settlement {
        Settlement {
            call_id: self.call_id.clone(),
            duration: seconds(self.duration.unwrap_or(0)),
            cost: Money::from_units(self.cost.unwrap_or(0)),
            released: Money::from_units(self.released.unwrap_or(0)),
            currency: self.currency.clone(),
            rate: self.rate(),
        }
    }

    fn ended(&self) -> Error {
        Error::Conflict {
            code: "CALL_ENDED",
            message: format!(
                "the call {} has ended ({})",
                self.call_id,
                if self.state == SETTLED {
                    "settled"
                } else {
                    "its hold expired"
                }
            ),
        }
    }
}

/// A tenant's rating data (billing plans and tariffs) as online charging and
/// re-rating use it.
pub(crate) struct ChargingRates {
    rating: Arc<TenantRating>,
}

/// The rate a call is charged at, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CallPrice {
    pub rate_id: i64,
    pub prefix: String,
    pub currency: String,
    pricing: Pricing,
    rounding: Rounding,
}

impl CallPrice {
    /// The amount of a call of `duration` seconds, in units; an amount that
    /// cannot be represented (terms beyond docs/rating.md's bounds) is refused.
    pub fn amount(&self, duration: u64) -> Result<i64> {
        self.pricing
            .amount(duration, self.rounding)
            .ok()
            .and_then(|amount| Money(amount).to_units().ok())
            .ok_or_else(|| Error::Refused {
                code: "AMOUNT_TOO_LARGE",
                message: format!(
                    "the cost of {duration} s at the rate for prefix {} is too large to be represented",
                    self.prefix
                ),
            })
    }

    /// The longest duration (capped at [`MAX_CALL_SECONDS`]) that `funds`
    /// units cover; `None` when not even the first interval is covered.
    fn max_duration(&self, funds: i64) -> Option<u64> {
        self.pricing.max_duration(
            Money::from_units(funds).decimal(),
            self.rounding,
            MAX_CALL_SECONDS,
        )
    }
}

impl Db {
    /// The rates calls of the tenant are charged at.
    pub(crate) async fn charging_rates(&self, tenant_id: i64) -> Result<ChargingRates> {
        Ok(ChargingRates::new(self.tenant_rating(tenant_id).await?))
    }
}

impl ChargingRates {
    /// The rate of a call to `number` started at `at` (unix seconds), from
    /// the tariff its billing plan (else the default tariff) names, or the
    /// refusal (`CURRENCY_MISMATCH`, `NO_RATE`, `FORBIDDEN_DESTINATION`).
    pub fn price(&self, number: &str, at: i64) -> Result<CallPrice> {
        let resolved = self
            .rating
            .resolve_charged(number)
            .map_err(|message| Error::Refused {
                code: "CURRENCY_MISMATCH",
                message,
            })?;
        let Some(priced) = resolved.tariff.table.lookup_priced(number, at) else {
            return Err(Error::Refused {
                code: "NO_RATE",
                message: format!("no rate in force matches {number}"),
            });
        };
        if priced.rate.forbidden {
            return Err(Error::Refused {
                code: "FORBIDDEN_DESTINATION",
                message: format!(
                    "calls to {number} are forbidden by the rate for prefix {}",
                    priced.rate.prefix
                ),
            });
        }
        Ok(CallPrice {
            rate_id: priced.rate.id,
            prefix: priced.rate.prefix.clone(),
            currency: resolved.tariff.currency.clone(),
            pricing: priced.pricing.clone(),
            rounding: resolved.rounding,
        })
    }

    /// The tenant's current rating data.
    pub(crate) fn new(rating: Arc<TenantRating>) -> ChargingRates {
        ChargingRates { rating }
    }

    /// What `duration` seconds of an authorised call cost at the price it
    /// was granted (its hold, when that rate is gone).
    pub(crate) fn session_cost(&self, session: &Session, duration: u64) -> Result<i64> {
        match self.session_price(session) {
            Some(price) => price.amount(duration),
            None => Ok(session.held),
        }
    }

    /// The price a session was granted at: its rate as the call's start saw
    /// it, still when a newer rate has taken the prefix since.
    fn session_price(&self, session: &Session) -> Option<CallPrice> {
        let at = session.started_at / 1000;
        match self.price(&session.callee, at) {
            Ok(price) if price.rate_id == session.rate_id => Some(price),
            _ => {
                let resolved = self.rating.resolve(&session.callee);
                let entry = resolved
                    .tariff
                    .table
                    .entries()
                    .iter()
                    .find(|e| e.id == session.rate_id)?;
                Some(CallPrice {
                    rate_id: entry.id,
                    prefix: entry.prefix.clone(),
                    currency: session.currency.clone(),
                    pricing: entry.terms.compile(),
                    rounding: resolved.rounding,
                })
            }
        }
    }
}

/// A billed account: the tenant's own (`user_id` `None`) or a user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Account {
    tenant_id: i64,
    user_id: Option<i64>,
}

/// The account's balance plus its credit limit, read inside `tx` and locked
/// until it ends (`FOR UPDATE` on PostgreSQL; on SQLite a writing
/// transaction already keeps other writers out).
async fn funds(tx: &mut Tx, backend: Backend, account: Account) -> Result<i64> {
    let lock = sql::for_update(backend);
    let row = match account.user_id {
        None => {
            let sql = format!("SELECT balance + credit_limit FROM tenants WHERE id = $1{lock}");
            sqlx::query(&sql)
                .bind(account.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        Some(user) => {
            let sql = format!(
                "SELECT balance + credit_limit FROM users WHERE id = $1 AND tenant_id = $2{lock}"
            );
            sqlx::query(&sql)
                .bind(user)
                .bind(account.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
    };
    Ok(row.ok_or(Error::NotFound("account"))?.try_get(0)?)
}

/// Debits `amount` when the funds cover it, in one statement that re-checks
/// them; answers the balance after, or `None` when they do not.
async fn debit_within_funds(tx: &mut Tx, account: Account, amount: i64) -> Result<Option<i64>> {
    let row = match account.user_id {
        None => {
            sqlx::query(
                "UPDATE tenants SET balance = balance - $1 \
                 WHERE id = $2 AND balance + credit_limit >= $3 RETURNING balance",
            )
            .bind(amount)
            .bind(account.tenant_id)
            .bind(amount)
            .fetch_optional(&mut **tx)
            .await?
        }
        Some(user) => {
            sqlx::query(
                "UPDATE users SET balance = balance - $1 \
                 WHERE id = $2 AND tenant_id = $3 AND balance + credit_limit >= $4 RETURNING balance",
            )
            .bind(amount)
            .bind(user)
            .bind(account.tenant_id)
            .bind(amount)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
}

/// A hold taken: the seconds granted and the amount held.
struct Hold {
    duration: u64,
    amount: i64,
}

/// Holds, for a call at `price`, the longest duration the account's funds
/// (plus `already`, what the call holds now) cover, when that is more than
/// `at_least` seconds. Writes the HOLD row. `None`: nothing more to grant.
async fn take_hold(
    tx: &mut Tx,
    backend: Backend,
    account: Account,
    price: &CallPrice,
    already: i64,
    at_least: Option<u64>,
    call_id: &str,
) -> Result<Option<Hold>> {
    for _ in 0..HOLD_ATTEMPTS {
        let available = funds(tx, backend, account).await?;
        let Some(duration) = price.max_duration(available.saturating_add(already)) else {
            return Ok(None);
        };
        if at_least.is_some_and(|d| duration <= d) {
            return Ok(None);
        }
        let amount = price.amount(duration)?;
        let extra = amount - already;
        if extra <= 0 {
            return Ok(Some(Hold { duration, amount }));
        }
        if let Some(balance_after) = debit_within_funds(tx, account, extra).await? {
            balances::record(
                tx,
                &Entry {
                    tenant_id: account.tenant_id,
                    user_id: account.user_id,
                    kind: TransactionKind::Hold,
                    amount: -extra,
                    call_id: Some(call_id),
                    description: "call authorised",
                    created_by: None,
                },
                balance_after,
            )
            .await?;
            return Ok(Some(Hold { duration, amount }));
        }
        // Another call took funds between the read and the debit: read again.
    }
    Err(Error::Conflict {
        code: "BUSY",
        message: "the account is too busy to take a hold now; try again".into(),
    })
}

/// Releases the hold of a live session whose call was never reported,
/// inside `tx`. False when the session changed since it was read.
async fn expire(tx: &mut Tx, session: &Session) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE charging_sessions SET state = $1, held = 0 WHERE id = $2 AND state = $3 AND held = $4",
    )
    .bind(EXPIRED)
    .bind(session.id)
    .bind(LIVE)
    .bind(session.held)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if session.held > 0 {
        balances::post(
            tx,
            Entry {
                tenant_id: session.tenant_id,
                user_id: session.user_id,
                kind: TransactionKind::Release,
                amount: session.held,
                call_id: Some(&session.call_id),
                description: "hold expired",
                created_by: None,
            },
        )
        .await?;
    }
    Ok(true)
}

/// Releases the expired holds of one account, inside `tx`; answers how many.
async fn expire_account(tx: &mut Tx, account: Account, now: i64) -> Result<u64> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE tenant_id = $1 AND \
         COALESCE(user_id, 0) = $2 AND state = $3 AND expires_at <= $4"
    );
    let rows = sqlx::query(&sql)
        .bind(account.tenant_id)
        .bind(account.user_id.unwrap_or(0))
        .bind(LIVE)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
    let mut released = 0;
    for row in &rows {
        if expire(tx, &session_from_row(row)?).await? {
            released += 1;
        }
    }
    Ok(released)
}

/// Settles a session inside `tx`: releases what it holds and debits `cost`.
/// False when the session changed since it was read (settled meanwhile).
pub(crate) async fn settle(
    tx: &mut Tx,
    session: &Session,
    duration: u64,
    cost: i64,
) -> Result<bool> {
    let released = if session.state == LIVE {
        session.held
    } else {
        0
    };
    let done = sqlx::query(
        "UPDATE charging_sessions SET state = $1, held = 0, duration = $2, cost = $3, released = $4, \
         settled_at = $5 WHERE id = $6 AND state = $7 AND held = $8",
    )
    .bind(SETTLED)
    .bind(signed(duration))
    .bind(cost)
    .bind(released)
    .bind(now_ms())
    .bind(session.id)
    .bind(&session.state)
    .bind(session.held)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if released > 0 {
        balances::post(
            tx,
            Entry {
                tenant_id: session.tenant_id,
                user_id: session.user_id,
                kind: TransactionKind::Release,
                amount: released,
                call_id: Some(&session.call_id),
                description: "call ended",
                created_by: None,
            },
        )
        .await?;
    }
    if cost != 0 {
        balances::post(
            tx,
            Entry {
                tenant_id: session.tenant_id,
                user_id: session.user_id,
                kind: TransactionKind::CallCharge,
                amount: -cost,
                call_id: Some(&session.call_id),
                description: "call",
                created_by: None,
            },
        )
        .await?;
    }
    Ok(true)
}

/// The sessions of the tenant's calls among `call_ids`, inside `tx`; one
/// cheap statement when the tenant has none (it charges offline).
pub(crate) async fn sessions_of(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: i64,
    call_ids: &[&str],
) -> Result<HashMap<String, Session>> {
    let any = sqlx::query("SELECT 1 FROM charging_sessions WHERE tenant_id = $1 LIMIT 1")
        .bind(tenant_id)
        .fetch_optional(&mut **tx)
        .await?;
    if any.is_none() {
        return Ok(HashMap::new());
    }
    sessions_among(tx, backend, tenant_id, call_ids).await
}

/// The sessions of the tenant's calls among `call_ids`, inside `tx`.
async fn sessions_among(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: i64,
    call_ids: &[&str],
) -> Result<HashMap<String, Session>> {
    let mut found = HashMap::new();
    for chunk in call_ids.chunks(500) {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE tenant_id = {} AND call_id IN ({})",
            sql::param(backend, 1),
            sql::list(backend, 2, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(tenant_id);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            let session = session_from_row(&row)?;
            found.insert(session.call_id.clone(), session);
        }
    }
    Ok(found)
}

impl Db {
    async fn session(&self, tenant_id: i64, call_id: &str) -> Result<Option<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE tenant_id = $1 AND call_id = $2"
        );
        sqlx::query(&sql)
            .bind(tenant_id)
            .bind(call_id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| session_from_row(&r))
            .transpose()
    }

    async fn known_session(&self, scope: &Scope, call_id: &str) -> Result<Session> {
        self.session(scope.tenant_id, call_id)
            .await?
            .ok_or(Error::NotFound("call"))
    }

    /// Authorises a call of the scope's tenant (its administrators, or the
    /// PBX with their token): the longest duration the billed account's
    /// funds cover, held until the call is settled. The same call id again
    /// answers the grant it already has.
    pub async fn authorize_call(&self, scope: &Scope, request: Authorization) -> Result<Grant> {
        scope.require_manager()?;
        let call_id = request.call_id.trim();
        let callee = request.callee.trim();
        let mut errors = Vec::new();
        if call_id.is_empty() || call_id.chars().count() > 256 {
            errors.push(model::FieldError::new(
                "call_id",
                "must be 1 to 256 characters",
            ));
        }
        if let Err(message) = validate_callee(callee) {
            errors.push(model::FieldError::new("callee", message));
        }
        if request.caller.chars().count() > 256 {
            errors.push(model::FieldError::new(
                "caller",
                "must be at most 256 characters",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let maker = request
            .extension
            .as_deref()
            .unwrap_or(&request.caller)
            .trim();
        self.authorize_in_group(group::Call {
            tenant_id: scope.tenant_id,
            call_id: call_id.to_string(),
            caller: request.caller.trim().to_string(),
            callee: callee.to_string(),
            maker: maker.to_string(),
            by_extension: request.extension.is_some(),
        })
        .await
    }

    /// Where a live call stands after `used_seconds`; extends its grant when
    /// funds were added since.
    pub async fn update_call(
        &self,
        scope: &Scope,
        call_id: &str,
        used_seconds: u64,
    ) -> Result<Remaining> {
        scope.require_manager()?;
        let mut session = self.known_session(scope, call_id).await?;
        if session.state != LIVE {
            return Err(session.ended());
        }
        if seconds(session.max_duration) < MAX_CALL_SECONDS {
            let rates = self.charging_rates(scope.tenant_id).await?;
            if let Some(price) = rates.session_price(&session) {
                let account = Account {
                    tenant_id: session.tenant_id,
                    user_id: session.user_id,
                };
                let _turn = self.write_turn().await;
                let mut tx = self.write().await?;
                let hold = take_hold(
                    &mut tx,
                    self.backend(),
                    account,
                    &price,
                    session.held,
                    Some(seconds(session.max_duration)),
                    &session.call_id,
                )
                .await?;
                match hold {
                    Some(hold) => {
                        let expires_at =
                            session.started_at + signed(hold.duration) * 1000 + HOLD_MARGIN_MS;
                        let done = sqlx::query(
                            "UPDATE charging_sessions SET max_duration = $1, held = $2, held_total = $3, \
                             expires_at = $4 WHERE id = $5 AND state = $6 AND held = $7",
                        )
                        .bind(signed(hold.duration))
                        .bind(hold.amount)
                        .bind(hold.amount)
                        .bind(expires_at)
                        .bind(session.id)
                        .bind(LIVE)
                        .bind(session.held)
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() == 1 {
                            tx.commit().await?;
                        } else {
                            tx.rollback().await?;
                        }
                    }
                    None => tx.rollback().await?,
                }
                session = self.known_session(scope, call_id).await?;
                if session.state != LIVE {
                    return Err(session.ended());
                }
            }
        }
        let max_duration = seconds(session.max_duration);
        Ok(Remaining {
            call_id: session.call_id.clone(),
            used_seconds,
            max_duration,
            remaining: max_duration.saturating_sub(used_seconds),
            held: Money::from_units(session.held),
            currency: session.currency.clone(),
            expires_at: crate::time::rfc3339(session.expires_at),
        })
    }

    /// Ends a call: debits the exact amount of `duration` seconds once and
    /// releases the rest of its hold. Again: the same answer, no new debit.
    pub async fn terminate_call(
        &self,
        scope: &Scope,
        call_id: &str,
        duration: u64,
    ) -> Result<Settlement> {
        scope.require_manager()?;
        let rates = self.charging_rates(scope.tenant_id).await?;
        for _ in 0..HOLD_ATTEMPTS {
            let session = self.known_session(scope, call_id).await?;
            if session.state == SETTLED {
                return Ok(session.settlement());
            }
            // A rate removed since the grant: the call is charged what it was
            // granted for.
            let cost = rates.session_cost(&session, duration)?;
            let _turn = self.write_turn().await;
            let mut tx = self.write().await?;
            if settle(&mut tx, &session, duration, cost).await? {
                tx.commit().await?;
                let settled = self.known_session(scope, call_id).await?;
                return Ok(settled.settlement());
            }
            tx.rollback().await?;
        }
        Err(Error::Conflict {
            code: "BUSY",
            message: "the call is being settled; try again".into(),
        })
    }

    /// Releases every expired hold (all tenants); answers how many. The
    /// server runs it every [`SWEEP_PERIOD`].
    pub async fn expire_holds(&self) -> Result<u64> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE state = $1 AND expires_at <= $2 \
             ORDER BY id LIMIT {SWEEP_BATCH}"
        );
        let mut released = 0;
        loop {
            let rows = sqlx::query(&sql)
                .bind(LIVE)
                .bind(now_ms())
                .fetch_all(self.pool())
                .await?;
            if rows.is_empty() {
                return Ok(released);
            }
            let _turn = self.write_turn().await;
            let mut tx = self.write().await?;
            let mut any = false;
            for row in &rows {
                if expire(&mut tx, &session_from_row(row)?).await? {
                    released += 1;
                    any = true;
                }
            }
            tx.commit().await?;
            if !any && i64::try_from(rows.len()).unwrap_or(0) < SWEEP_BATCH {
                return Ok(released);
            }
        }
    }
}
