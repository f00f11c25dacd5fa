//! Authorisations in groups: one transaction grants every call waiting for
//! its turn.
//!
//! A PBX asks for many calls at once, and each grant writes (a hold, a
//! ledger row, a session). Given one by one, every grant waits for the
//! writes of all the grants before it; here the first request to find no
//! group running takes every waiting request and grants them together:
//! per tenant, one read of its settings and funds, the holds worked out in
//! memory in arrival order, one debit per billed account and a few
//! multi-row inserts. Requests arriving meanwhile wait for the next group.
//!
//! The group locks the rows of the accounts it charges as it reads them
//! (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the transaction already
//! holds the database's write lock), so its funds cannot change under it; the debit still re-checks them. If anything in a
//! group fails, each of its calls is tried again as a group of one, so one
//! bad call never costs the others their grant.
//!
//! (Over 500 lines: one algorithm, from the queue to the written holds, read
//! best in one place.)

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use model::billing_settings::{BillingAccount, BillingType};
use model::tenant::TenantStatus;
use sqlx::Row;
use tokio::sync::oneshot;

use super::funds::{debit_within_funds, Account};
use super::session::{sessions_among, Session, SessionState};
use super::{signed, ChargingRates, Grant, HOLD_MARGIN_MS};
use crate::balances::{self, TransactionKind};
use crate::db::{now_ms, Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::sql;

/// Call ids (or user names) per `IN (…)` list.
const IN_LIST: usize = 500;

/// A validated authorisation waiting for its group.
#[derive(Debug, Clone)]
pub(super) struct Call {
    pub tenant_id: i64,
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    /// Who makes the call: the `extension` asked, else the caller.
    pub maker: String,
    /// Whether `maker` came from `extension` (the field an error names).
    pub by_extension: bool,
}

struct Waiting {
    call: Call,
    answer: oneshot::Sender<Result<Grant>>,
}

/// The authorisations waiting, in lanes by tenant: each lane grants one
/// group at a time, and the lanes' groups run side by side. Tenants of two
/// lanes never share an account, so their groups never wait for each
/// other's row locks; SQLite, with one writer at a time, has one lane.
pub(crate) struct Queue {
    lanes: Vec<Lane>,
}

/// One lane: the authorisations waiting, and the turn of its group being
/// granted.
#[derive(Default)]
struct Lane {
    waiting: Mutex<Vec<Waiting>>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl Queue {
    /// A queue of `lanes` lanes (at least one).
    pub(crate) fn new(lanes: usize) -> Queue {
        Queue {
            lanes: (0..lanes.max(1)).map(|_| Lane::default()).collect(),
        }
    }

    fn lane(&self, tenant_id: i64) -> &Lane {
        let count = i64::try_from(self.lanes.len()).unwrap_or(1);
        let index = usize::try_from(tenant_id.rem_euclid(count)).unwrap_or(0);
        &self.lanes[index.min(self.lanes.len() - 1)]
    }
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}

impl Db {
    /// Grants `call` in the next group and answers its grant.
    pub(super) async fn authorize_in_group(&self, call: Call) -> Result<Grant> {
        let queue = self.authorizations().lane(call.tenant_id);
        let (answer, mut granted) = oneshot::channel();
        queue
            .waiting
            .lock()
            .map_err(Error::internal)?
            .push(Waiting { call, answer });
        loop {
            tokio::select! {
                biased;
                grant = &mut granted => {
                    return grant.map_err(|_| Error::Internal("an authorisation was dropped".into()))?;
                }
                turn = queue.turn.clone().lock_owned() => {
                    let group = std::mem::take(&mut *queue.waiting.lock().map_err(Error::internal)?);
                    if group.is_empty() {
                        // An earlier group took this call; its answer is in.
                        continue;
                    }
                    // The group runs on its own task so that a request that
                    // goes away (its client hung up) never cancels the others.
                    let db = self.clone();
                    let run = tokio::spawn(async move {
                        db.grant_waiting(group).await;
                        drop(turn);
                    });
                    run.await.map_err(Error::internal)?;
                }
            }
        }
    }

    /// Grants a group and answers each of its calls.
    async fn grant_waiting(&self, group: Vec<Waiting>) {
        let started = std::time::Instant::now();
        let calls: Vec<Call> = group.iter().map(|w| w.call.clone()).collect();
        let answers = match self.grant_group(&calls).await {
            Ok(answers) => answers,
            Err(error) if calls.len() == 1 => vec![self.after_failed_grant(&calls[0], error).await],
            Err(error) => {
                tracing::warn!(
                    %error,
                    calls = calls.len(),
                    "an authorisation group failed; its calls are granted one by one"
                );
                let mut answers = Vec::with_capacity(calls.len());
                for call in &calls {
                    let answer = match self.grant_group(std::slice::from_ref(call)).await {
                        Ok(mut one) => one.pop().unwrap_or(Err(Error::Internal(
                            "a group of one answered nothing".into(),
                        ))),
                        Err(error) => self.after_failed_grant(call, error).await,
                    };
                    answers.push(answer);
                }
                answers
            }
        };
        tracing::debug!(
            calls = calls.len(),
            micros = started.elapsed().as_micros(),
            "authorisation group granted"
        );
        for (waiting, answer) in group.into_iter().zip(answers) {
            // A caller that went away leaves its grant stored: asking again
            // with the same call id answers it.
            let _ = waiting.answer.send(answer);
        }
    }

    /// The answer for a call whose group of one failed: the grant another
    /// server process gave the same call meanwhile, else the error.
    async fn after_failed_grant(&self, call: &Call, error: Error) -> Result<Grant> {
        match self.session(call.tenant_id, &call.call_id).await {
            Ok(Some(session)) if session.state == SessionState::Live => Ok(session.grant()),
            Ok(Some(session)) => Err(session.ended()),
            _ => Err(error),
        }
    }

    /// Grants `calls` in one transaction; answers each call's grant or
    /// refusal, in order. An error means nothing was written.
    async fn grant_group(&self, calls: &[Call]) -> Result<Vec<Result<Grant>>> {
        // Rate tables are brought up to date outside the write lock, so that
        // a large deck being loaded never holds up other writers: a group
        // that finds a tenant's rates changed gives way, has its rating
        // refreshed (single-rate changes applied; a table to build afresh
        // is built in the background while the one in service rates), and
        // starts again with what that gave.
        for rebuild in [false, true] {
            let turn = self.write_turn().await;
            let mut tx = self.write().await?;
            match grant_in(self, &mut tx, calls, rebuild).await? {
                Granted::Answers(answers) => {
                    tx.commit().await?;
                    return Ok(answers);
                }
                Granted::RatesChanged(tenant_id) => {
                    tx.rollback().await?;
                    drop(turn);
                    self.tenant_rating(tenant_id).await?;
                }
            }
        }
        Err(Error::Internal(
            "rates kept changing while calls were authorised".into(),
        ))
    }
}

/// What a group's transaction came to.
enum Granted {
    /// Each call's answer, in order.
    Answers(Vec<Result<Grant>>),
    /// The tenant's rates changed since its table was built: nothing was
    /// written.
    RatesChanged(i64),
}

/// A tenant as a group sees it.
struct TenantState {
    /// The tenant's own account's balance plus credit limit.
    available: i64,
    suspended: bool,
    billing_online: bool,
    account: BillingAccount,
    rates: ChargingRates,
    /// Billing users by user name (USER accounts only).
    users: HashMap<String, i64>,
    /// Sessions already stored for the group's call ids.
    sessions: HashMap<String, Session>,
}

impl TenantState {
    fn refusal(&self) -> Option<Error> {
        (!self.billing_online).then(|| Error::Conflict {
            code: "BILLING_NOT_ONLINE",
            message: "the tenant's billing is not enabled with the ONLINE type".into(),
        })
    }
}

/// A billed account's funds as a group spends them.
struct Funds {
    /// Balance plus credit limit when the group read it.
    available: i64,
    /// What the group's holds take of it so far.
    taken: i64,
    /// Whether its expired holds were released in this group.
    swept: bool,
}

/// A hold the group grants.
pub(super) struct NewHold<'a> {
    pub call: &'a Call,
    pub account: Account,
    pub rate_id: i64,
    pub prefix: String,
    pub currency: String,
    pub duration: u64,
    pub amount: i64,
    pub expires_at: i64,
}

async fn grant_in(db: &Db, tx: &mut Tx, calls: &[Call], rebuild: bool) -> Result<Granted> {
    let now = now_ms();
    let backend = db.backend();
    let ids: Vec<i64> = calls
        .iter()
        .map(|c| c.tenant_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows = lock_tenants(tx, backend, &ids).await?;
    // The sessions already stored for the group's calls: on PostgreSQL one
    // statement for every tenant, on SQLite (no round trip to save) one per
    // tenant.
    let mut stored: HashMap<i64, HashMap<String, Session>> = HashMap::new();
    match backend {
        Backend::Postgres => {
            for session in super::batch::sessions(tx, calls).await? {
                stored
                    .entry(session.tenant_id)
                    .or_default()
                    .insert(session.call_id.clone(), session);
            }
        }
        Backend::Sqlite => {
            for &tenant_id in rows.keys() {
                let call_ids: Vec<&str> = calls
                    .iter()
                    .filter(|c| c.tenant_id == tenant_id)
                    .map(|c| c.call_id.as_str())
                    .collect();
                let sessions = sessions_among(tx, backend, tenant_id, &call_ids).await?;
                stored.insert(tenant_id, sessions);
            }
        }
    }
    let mut tenants: BTreeMap<i64, Option<TenantState>> = BTreeMap::new();
    for tenant_id in ids {
        let Some(row) = rows.remove(&tenant_id) else {
            tenants.insert(tenant_id, None);
            continue;
        };
        let mine: Vec<&Call> = calls.iter().filter(|c| c.tenant_id == tenant_id).collect();
        let sessions = stored.remove(&tenant_id).unwrap_or_default();
        let state = match tenant_state(db, tx, tenant_id, row, &mine, sessions, rebuild).await? {
            Some(state) => state,
            None => return Ok(Granted::RatesChanged(tenant_id)),
        };
        tenants.insert(tenant_id, Some(state));
    }
    let mut funds: HashMap<Account, Funds> = HashMap::new();
    let mut holds: Vec<NewHold> = Vec::new();
    // Where each answer comes from: a refusal, an existing session, a new
    // hold (index into `holds`), or an earlier call of the group.
    enum Answer {
        Done(Result<Grant>),
        Hold(usize),
        Same(usize),
    }
    let mut answers: Vec<Answer> = Vec::with_capacity(calls.len());
    let mut first_of: HashMap<(i64, &str), usize> = HashMap::new();
    for (index, call) in calls.iter().enumerate() {
        if let Some(&earlier) = first_of.get(&(call.tenant_id, call.call_id.as_str())) {
            answers.push(Answer::Same(earlier));
            continue;
        }
        first_of.insert((call.tenant_id, call.call_id.as_str()), index);
        let Some(Some(tenant)) = tenants.get(&call.tenant_id) else {
            answers.push(Answer::Done(Err(Error::NotFound("tenant"))));
            continue;
        };
        if tenant.suspended {
            answers.push(Answer::Done(Err(crate::standing::suspended())));
            continue;
        }
        if let Some(session) = tenant.sessions.get(&call.call_id) {
            answers.push(Answer::Done(if session.state == SessionState::Live {
                Ok(session.grant())
            } else {
                Err(session.ended())
            }));
            continue;
        }
        let answer = hold_for(tx, backend, call, tenant, &mut funds, now).await?;
        answers.push(match answer {
            Ok(hold) => {
                holds.push(hold);
                Answer::Hold(holds.len() - 1)
            }
            Err(refusal) => Answer::Done(Err(refusal)),
        });
    }
    write_holds(db, tx, &holds, now).await?;
    // Every account whose funds the group read: held from, or its expired
    // holds released.
    let accounts: BTreeSet<Account> = funds.keys().copied().collect();
    if backend == Backend::Postgres {
        // The tenants' own accounts in one statement.
        let mut own: Vec<i64> = Vec::new();
        for account in accounts {
            match account.user_id {
                None => own.push(account.tenant_id),
                Some(user_id) => {
                    balances::watch(tx, backend, account.tenant_id, Some(user_id)).await?;
                }
            }
        }
        balances::watch_tenants(tx, backend, &own).await?;
    } else {
        for account in accounts {
            balances::watch(tx, backend, account.tenant_id, account.user_id).await?;
        }
    }
    let mut out: Vec<Result<Grant>> = Vec::with_capacity(answers.len());
    for answer in answers {
        let result = match answer {
            Answer::Done(result) => result,
            Answer::Hold(i) => Ok(holds[i].grant()),
            Answer::Same(earlier) => out[earlier].clone(),
        };
        out.push(result);
    }
    Ok(Granted::Answers(out))
}

/// A tenant's row as the group locked it.
struct TenantRow {
    enabled: bool,
    suspended: bool,
    account: BillingAccount,
    billing_type: BillingType,
    rates_version: i64,
    /// Balance plus credit limit.
    funds: i64,
}

/// Reads and locks the rows of the group's tenants (`ids`, ascending), in
/// one statement on PostgreSQL (`FOR UPDATE`, in id order: two groups
/// locking some of the same tenants take them in one order); by id.
async fn lock_tenants(
    tx: &mut Tx,
    backend: Backend,
    ids: &[i64],
) -> Result<HashMap<i64, TenantRow>> {
    const COLUMNS: &str = "id, CASE WHEN billing_enabled THEN 1 ELSE 0 END AS enabled, status, \
        billing_account, billing_type, rates_version, balance + credit_limit AS funds";
    let mut rows = Vec::new();
    match backend {
        Backend::Postgres => {
            let sql = format!(
                "SELECT {COLUMNS} FROM tenants WHERE id = ANY(CAST($1 AS BIGINT[])) \
                 ORDER BY id FOR UPDATE"
            );
            rows = sqlx::query(&sql)
                .bind(sql::bigint_array(ids))
                .fetch_all(&mut **tx)
                .await?;
        }
        Backend::Sqlite => {
            for chunk in ids.chunks(IN_LIST) {
                let mut p = sql::Params::new(backend);
                let sql = format!(
                    "SELECT {COLUMNS} FROM tenants WHERE id IN ({})",
                    p.list(chunk.len())
                );
                let mut query = sql::Binds::new(&sql, p.count());
                for id in chunk {
                    query = query.bind(*id);
                }
                rows.extend(query.query()?.fetch_all(&mut **tx).await?);
            }
        }
    }
    let suspended = TenantStatus::Suspended.to_string();
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        found.insert(
            row.try_get::<i64, _>("id")?,
            TenantRow {
                enabled: row.try_get::<i64, _>("enabled")? != 0,
                suspended: row.try_get::<String, _>("status")? == suspended,
                account: row
                    .try_get::<String, _>("billing_account")?
                    .parse()
                    .map_err(Error::internal)?,
                billing_type: row
                    .try_get::<String, _>("billing_type")?
                    .parse()
                    .map_err(Error::internal)?,
                rates_version: row.try_get("rates_version")?,
                funds: row.try_get("funds")?,
            },
        );
    }
    Ok(found)
}

/// One tenant of the group as locked (`row`), with its rate table as cached
/// (when `rebuild`, the one in service even if its rates changed since; it
/// is built only when the tenant has none). `None`: its rates changed since
/// its table was built (and `rebuild` was not asked).
async fn tenant_state(
    db: &Db,
    tx: &mut Tx,
    tenant_id: i64,
    row: TenantRow,
    calls: &[&Call],
    sessions: HashMap<String, Session>,
    rebuild: bool,
) -> Result<Option<TenantState>> {
    let version = row.rates_version;
    let rating = match db.cached_rating(tenant_id, version)? {
        Some(rating) => rating,
        // The rating was refreshed outside the transaction: what it could
        // not bring up to date is built in the background, and the tables
        // in service rate meanwhile.
        None if rebuild => match db.current_rating(tenant_id)? {
            Some(rating) => rating,
            None => db.tenant_rating_at(tenant_id, version).await?,
        },
        None => return Ok(None),
    };
    let backend = db.backend();
    let mut users = HashMap::new();
    if row.account == BillingAccount::User && !row.suspended {
        let makers: Vec<&str> = calls
            .iter()
            .map(|c| c.maker.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for chunk in makers.chunks(IN_LIST) {
            let mut p = sql::Params::new(backend);
            let sql = format!(
                "SELECT id, username FROM users WHERE tenant_id = {} AND username IN ({})",
                p.next(),
                p.list(chunk.len())
            );
            let mut query = sql::Binds::new(&sql, p.count()).bind(tenant_id);
            for name in chunk {
                query = query.bind(*name);
            }
            for row in query.query()?.fetch_all(&mut **tx).await? {
                users.insert(
                    row.try_get::<String, _>("username")?,
                    row.try_get::<i64, _>("id")?,
                );
            }
        }
    }
    Ok(Some(TenantState {
        available: row.funds,
        suspended: row.suspended,
        billing_online: row.enabled && row.billing_type == BillingType::Online,
        account: row.account,
        rates: ChargingRates::new(rating),
        users,
        sessions,
    }))
}

/// The hold of one new call, or its refusal.
async fn hold_for<'a>(
    tx: &mut Tx,
    backend: Backend,
    call: &'a Call,
    tenant: &TenantState,
    funds: &mut HashMap<Account, Funds>,
    now: i64,
) -> Result<Result<NewHold<'a>>> {
    if let Some(refusal) = tenant.refusal() {
        return Ok(Err(refusal));
    }
    let user_id = match tenant.account {
        BillingAccount::Tenant => None,
        BillingAccount::User => match tenant.users.get(&call.maker) {
            Some(&id) => Some(id),
            None => {
                let field = if call.by_extension {
                    "extension"
                } else {
                    "caller"
                };
                return Ok(Err(Error::field(
                    field,
                    format!("names no user of the tenant to bill ('{}')", call.maker),
                )));
            }
        },
    };
    let account = Account {
        tenant_id: call.tenant_id,
        user_id,
    };
    let price = match tenant.rates.price(&call.callee, now / 1000) {
        Ok(price) => price,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let state = match funds.entry(account) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(new) => {
            let available = match account.user_id {
                // Read (and locked) with the tenant.
                None => tenant.available,
                Some(_) => super::funds::funds(tx, backend, account).await?,
            };
            new.insert(Funds {
                available,
                taken: 0,
                swept: false,
            })
        }
    };
    loop {
        if let Some(duration) = price.max_duration(state.available - state.taken) {
            let amount = price.amount(duration)?;
            state.taken += amount;
            return Ok(Ok(NewHold {
                call,
                account,
                rate_id: price.rate_id,
                prefix: price.prefix,
                currency: price.currency,
                duration,
                amount,
                expires_at: now + signed(duration) * 1000 + HOLD_MARGIN_MS,
            }));
        }
        if state.swept {
            return Ok(Err(Error::Refused {
                code: "INSUFFICIENT_FUNDS",
                message: format!(
                    "the account's funds do not cover the first interval of a call to {}",
                    call.callee
                ),
            }));
        }
        // Funds short: release the account's expired holds, then look again.
        state.swept = true;
        if super::expiry::expire_account(tx, account, now).await? > 0 {
            state.available = super::funds::funds(tx, backend, account).await?;
        }
    }
}

/// Debits the group's holds (one balance update per account, one HOLD row
/// per call) and stores its sessions: on PostgreSQL the tenants' own
/// accounts and every session in one statement ([`super::batch::write`]).
async fn write_holds(db: &Db, tx: &mut Tx, holds: &[NewHold<'_>], now: i64) -> Result<()> {
    if holds.is_empty() {
        return Ok(());
    }
    let backend = db.backend();
    let mut by_account: BTreeMap<Account, Vec<(&str, i64)>> = BTreeMap::new();
    for hold in holds {
        by_account
            .entry(hold.account)
            .or_default()
            .push((hold.call.call_id.as_str(), hold.amount));
    }
    for (account, calls) in &by_account {
        if backend == Backend::Postgres && account.user_id.is_none() {
            continue;
        }
        let total: i64 = calls.iter().map(|(_, amount)| amount).sum();
        // The account's row is locked, so the holds fit; the debit checks
        // it all the same, and the whole group is undone if they do not.
        let Some(balance_after) = debit_within_funds(tx, *account, total).await? else {
            return Err(busy());
        };
        let calls = balances::Calls {
            tenant_id: account.tenant_id,
            user_id: account.user_id,
            kind: TransactionKind::Hold,
            description: HOLD_DESCRIPTION,
            calls,
        };
        balances::record_calls(tx, backend, &calls, balance_after).await?;
    }
    if backend == Backend::Postgres {
        let own: Vec<(i64, &[(&str, i64)])> = by_account
            .iter()
            .filter(|(account, _)| account.user_id.is_none())
            .map(|(account, calls)| (account.tenant_id, calls.as_slice()))
            .collect();
        if !super::batch::write(tx, &own, holds, now).await? {
            return Err(busy());
        }
        return Ok(());
    }
    for chunk in NEW_SESSION.chunks(holds) {
        let sql = NEW_SESSION.sql(backend, chunk.len(), "");
        let mut query = NEW_SESSION.binds(&sql, chunk.len());
        for hold in chunk {
            query = query
                .bind(hold.call.tenant_id)
                .bind(hold.call.call_id.as_str())
                .bind(hold.account.user_id)
                .bind(hold.call.caller.as_str())
                .bind(hold.call.callee.as_str())
                .bind(hold.rate_id)
                .bind(hold.prefix.as_str())
                .bind(hold.currency.as_str())
                .bind(now)
                .bind(signed(hold.duration))
                .bind(hold.amount)
                .bind(hold.amount)
                .bind(hold.expires_at)
                .bind(SessionState::Live.as_str())
                .bind(now);
        }
        query.query()?.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The ledger's description of a hold.
pub(super) const HOLD_DESCRIPTION: &str = "call authorised";

/// A debit that found the funds changed under a locked row.
fn busy() -> Error {
    Error::Conflict {
        code: "BUSY",
        message: "the account's funds changed while calls were authorised; try again".into(),
    }
}

/// A new session's row.
pub(super) const NEW_SESSION: sql::Insert = sql::Insert {
    table: "charging_sessions",
    columns: &[
        "tenant_id",
        "call_id",
        "user_id",
        "caller",
        "callee",
        "rate_id",
        "rate_prefix",
        "currency",
        "started_at",
        "max_duration",
        "held",
        "held_total",
        "expires_at",
        "state",
        "created_at",
    ],
};

impl NewHold<'_> {
    fn grant(&self) -> Grant {
        Grant::new(
            &self.call.call_id,
            self.duration,
            self.amount,
            &self.currency,
            self.rate_id,
            &self.prefix,
            self.expires_at,
        )
    }
}
