//! A statement's figures and lines, read from the ledger.
//!
//! A statement holds the account's ledger rows with an id above the last
//! row of the statement before it (`after`), up to the last row posted
//! before its period's end (`last`): rows are taken by their posting time,
//! and in the ledger's own order, so that its closing balance is the
//! `balance_after` of its last row and the next statement goes on from
//! there. The rows of one account are written one transaction at a time
//! (each locks the account's balance first), so their ids and posting
//! times rise together.

use std::collections::BTreeMap;

use model::cdr::Direction;
use model::query::SqlValue;
use model::WireEnum;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use super::close::Open;
use super::Account;
use crate::error::{Error, Result};
use crate::listing::bind_all;

const DAY_MS: i64 = 86_400_000;

/// What a statement adds up to (units of 1/100000; each the change of the
/// balance it made: recharges up, charges down).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Figures {
    /// The statement's last ledger row (`after` when it has none).
    pub last_ledger_id: i64,
    pub recharges: i64,
    pub call_charges: i64,
    /// Re-rating corrections (and any other correction of the balance).
    pub adjustments: i64,
    /// What calls in progress held (HOLD) less what they gave back (RELEASE).
    pub held: i64,
    pub closing: i64,
    /// Calls charged.
    pub calls: i64,
    pub holds: (i64, i64),
    pub releases: (i64, i64),
}

impl Figures {
    /// The net charges the tax is on: call charges less re-rating credits,
    /// as a positive amount.
    pub fn charges(&self) -> Result<i64> {
        self.call_charges
            .checked_add(self.adjustments)
            .and_then(i64::checked_neg)
            .ok_or_else(|| Error::internal("a statement's charges overflow"))
    }
}

/// One line of a statement (units of 1/100000, unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub section: model::statement::LineSection,
    pub item: String,
    pub description: String,
    pub at: Option<i64>,
    pub calls: i64,
    pub seconds: i64,
    pub amount: i64,
    pub credit_limit: Option<i64>,
}

/// A statement's SQL with its binds: the account's condition first.
struct Sql {
    binds: Vec<SqlValue>,
}

impl Sql {
    fn new() -> Sql {
        Sql { binds: Vec::new() }
    }

    fn p(&mut self, value: i64) -> String {
        self.binds.push(SqlValue::Int(value));
        format!("${}", self.binds.len())
    }

    /// The condition on `alias`'s ledger rows of `account` in `(after, last]`.
    fn rows(&mut self, account: Account, alias: &str, after: i64, last: i64) -> String {
        let mut sql = self.account(account, alias);
        let (a, l) = (self.p(after), self.p(last));
        sql.push_str(&format!(" AND {alias}id > {a} AND {alias}id <= {l}"));
        sql
    }

    fn account(&mut self, account: Account, alias: &str) -> String {
        let tenant = self.p(account.tenant_id);
        match account.user_id {
            None => format!("{alias}tenant_id = {tenant} AND {alias}user_id IS NULL"),
            Some(user) => {
                let user = self.p(user);
                format!("{alias}tenant_id = {tenant} AND {alias}user_id = {user}")
            }
        }
    }
}

/// The account's last ledger row after `after` posted before `end`.
pub(super) async fn last_row(
    conn: &mut AnyConnection,
    account: Account,
    after: i64,
    end: i64,
) -> Result<Option<i64>> {
    let mut q = Sql::new();
    let condition = q.account(account, "");
    let (a, e) = (q.p(after), q.p(end));
    let sql = format!(
        "SELECT MAX(id) AS last FROM balance_transactions WHERE {condition} AND id > {a} AND created_at < {e}"
    );
    let row = bind_all(sqlx::query(&sql), &q.binds)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("last")?)
}

/// Whether the account has a row after `last` posted before `end`: one
/// that committed after `last` was read.
pub(super) async fn posted_since(
    conn: &mut AnyConnection,
    account: Account,
    last: i64,
    end: i64,
) -> Result<bool> {
    let mut q = Sql::new();
    let condition = q.account(account, "");
    let (l, e) = (q.p(last), q.p(end));
    let sql = format!(
        "SELECT id FROM balance_transactions WHERE {condition} AND id > {l} AND created_at < {e} LIMIT 1"
    );
    let row = bind_all(sqlx::query(&sql), &q.binds)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// The figures of `account`'s open statement `open`: its opening balance
/// moved by the ledger rows after its `after` posted before its period's
/// end. Its closing balance is checked against the ledger's own balance
/// after its last row.
pub(super) async fn figures(
    conn: &mut AnyConnection,
    account: Account,
    open: &Open,
) -> Result<Figures> {
    let (opening, after, end) = (open.opening, open.after, open.period_end);
    let Some(last) = last_row(conn, account, after, end).await? else {
        return Ok(Figures {
            last_ledger_id: after,
            closing: opening,
            ..Figures::default()
        });
    };
    let mut q = Sql::new();
    let condition = q.rows(account, "", after, last);
    let sql = format!(
        "SELECT kind, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS total \
         FROM balance_transactions WHERE {condition} GROUP BY kind"
    );
    let rows = bind_all(sqlx::query(&sql), &q.binds)
        .fetch_all(&mut *conn)
        .await?;
    let overflow = || Error::internal("a statement's figures overflow");
    let mut f = Figures {
        last_ledger_id: last,
        ..Figures::default()
    };
    let mut sum = 0i64;
    for row in &rows {
        let kind: String = row.try_get("kind")?;
        let n: i64 = row.try_get("n")?;
        let total: i64 = row.try_get("total")?;
        sum = sum.checked_add(total).ok_or_else(overflow)?;
        let slot = match kind.as_str() {
            "RECHARGE" => &mut f.recharges,
            "CALL_CHARGE" => {
                f.calls = n;
                &mut f.call_charges
            }
            "HOLD" => {
                f.holds = (n, total);
                &mut f.held
            }
            "RELEASE" => {
                f.releases = (n, total);
                &mut f.held
            }
            _ => &mut f.adjustments,
        };
        *slot = slot.checked_add(total).ok_or_else(overflow)?;
    }
    f.closing = opening.checked_add(sum).ok_or_else(overflow)?;
    let ledger: i64 = sqlx::query("SELECT balance_after FROM balance_transactions WHERE id = $1")
        .bind(last)
        .fetch_one(&mut *conn)
        .await?
        .try_get("balance_after")?;
    if ledger != f.closing {
        return Err(Error::Internal(format!(
            "the ledger of tenant {} account {} does not add up at row {last}: \
             {opening} opening and {sum} moved is not its balance {ledger}",
            account.tenant_id,
            account.user_id.unwrap_or(0),
        )));
    }
    Ok(f)
}

/// What the statement's rows are, line by line: each recharge; the calls by
/// type and by destination; the corrections by day and the credit-limit
/// changes of the period `[start, end)`; what calls in progress held.
pub(super) async fn lines(
    conn: &mut AnyConnection,
    account: Account,
    after: i64,
    period: (i64, i64),
    f: &Figures,
) -> Result<Vec<Line>> {
    let mut lines = Vec::new();
    let last = f.last_ledger_id;
    if last > after {
        recharges(conn, account, after, last, &mut lines).await?;
        calls(conn, account, after, last, &mut lines).await?;
        corrections(conn, account, after, last, &mut lines).await?;
    }
    credit_limits(conn, account, period, &mut lines).await?;
    for (item, description, (calls, amount)) in [
        ("HOLD", "held by calls in progress", f.holds),
        ("RELEASE", "given back at the calls' end", f.releases),
    ] {
        if calls > 0 {
            lines.push(Line {
                section: model::statement::LineSection::Held,
                item: item.into(),
                description: description.into(),
                at: None,
                calls,
                seconds: 0,
                amount,
                credit_limit: None,
            });
        }
    }
    Ok(lines)
}

async fn recharges(
    conn: &mut AnyConnection,
    account: Account,
    after: i64,
    last: i64,
    lines: &mut Vec<Line>,
) -> Result<()> {
    let mut q = Sql::new();
    let condition = q.rows(account, "b.", after, last);
    let sql = format!(
        "SELECT b.amount, b.created_at, u.username FROM balance_transactions b \
         LEFT JOIN users u ON u.id = b.created_by \
         WHERE {condition} AND b.kind = 'RECHARGE' ORDER BY b.id"
    );
    for row in bind_all(sqlx::query(&sql), &q.binds)
        .fetch_all(&mut *conn)
        .await?
    {
        let by: Option<String> = row.try_get("username")?;
        lines.push(Line {
            section: model::statement::LineSection::Recharge,
            item: "RECHARGE".into(),
            description: match by {
                Some(name) => format!("recharge by {name}"),
                None => "recharge".into(),
            },
            at: Some(row.try_get("created_at")?),
            calls: 0,
            seconds: 0,
            amount: row.try_get("amount")?,
            credit_limit: None,
        });
    }
    Ok(())
}

/// The label of a call type on a statement.
fn direction_label(wire: &str) -> String {
    match Direction::from_wire(wire) {
        Some(Direction::Outbound) => "outbound calls".into(),
        Some(Direction::Inbound) => "inbound calls".into(),
        Some(Direction::Extension) => "calls between extensions".into(),
        Some(Direction::InboundOutbound) => "inbound calls forwarded outside".into(),
        None => "calls not reported yet".into(),
    }
}

#[derive(Default)]
struct Sums {
    calls: i64,
    seconds: i64,
    amount: i64,
}

impl Sums {
    fn add(&mut self, calls: i64, seconds: i64, amount: i64) -> Result<()> {
        let overflow = || Error::internal("a statement's calls overflow");
        self.calls = self.calls.checked_add(calls).ok_or_else(overflow)?;
        self.seconds = self.seconds.checked_add(seconds).ok_or_else(overflow)?;
        self.amount = self.amount.checked_add(amount).ok_or_else(overflow)?;
        Ok(())
    }
}

async fn calls(
    conn: &mut AnyConnection,
    account: Account,
    after: i64,
    last: i64,
    lines: &mut Vec<Line>,
) -> Result<()> {
    let mut q = Sql::new();
    let condition = q.rows(account, "b.", after, last);
    // A call settled online before its CDR came has its session's rate.
    let sql = format!(
        "SELECT COALESCE(c.direction, '') AS direction, \
         COALESCE(c.rate_prefix, s.rate_prefix, '') AS prefix, \
         COALESCE(r.description, '') AS description, COUNT(*) AS calls, \
         CAST(SUM(COALESCE(c.duration, s.duration, 0)) AS BIGINT) AS seconds, \
         CAST(SUM(b.amount) AS BIGINT) AS amount \
         FROM balance_transactions b \
         LEFT JOIN cdrs c ON c.tenant_id = b.tenant_id AND c.call_id = b.call_id \
         LEFT JOIN charging_sessions s ON s.tenant_id = b.tenant_id AND s.call_id = b.call_id \
         LEFT JOIN call_rates r ON r.tenant_id = b.tenant_id AND r.id = COALESCE(c.rate_id, s.rate_id) \
         WHERE {condition} AND b.kind = 'CALL_CHARGE' \
         GROUP BY COALESCE(c.direction, ''), COALESCE(c.rate_prefix, s.rate_prefix, ''), \
         COALESCE(r.description, '')"
    );
    let mut types: BTreeMap<String, Sums> = BTreeMap::new();
    let mut destinations: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for row in bind_all(sqlx::query(&sql), &q.binds)
        .fetch_all(&mut *conn)
        .await?
    {
        let direction: String = row.try_get("direction")?;
        let prefix: String = row.try_get("prefix")?;
        let description: String = row.try_get("description")?;
        let (n, seconds, amount): (i64, i64, i64) = (
            row.try_get("calls")?,
            row.try_get("seconds")?,
            row.try_get("amount")?,
        );
        types
            .entry(direction)
            .or_default()
            .add(n, seconds, amount)?;
        destinations
            .entry((prefix, description))
            .or_default()
            .add(n, seconds, amount)?;
    }
    // Call types in their documented order, unknown last.
    let order = |wire: &str| {
        Direction::ALL_WIRE
            .iter()
            .position(|w| *w == wire)
            .unwrap_or(usize::MAX)
    };
    let mut types: Vec<_> = types.into_iter().collect();
    types.sort_by_key(|(wire, _)| order(wire));
    for (wire, sums) in types {
        lines.push(Line {
            section: model::statement::LineSection::CallType,
            description: direction_label(&wire),
            item: wire,
            at: None,
            calls: sums.calls,
            seconds: sums.seconds,
            amount: sums.amount,
            credit_limit: None,
        });
    }
    // Destinations by what they cost, the dearest first.
    let mut destinations: Vec<_> = destinations.into_iter().collect();
    destinations.sort_by(|a, b| a.1.amount.cmp(&b.1.amount).then_with(|| a.0.cmp(&b.0)));
    for ((prefix, description), sums) in destinations {
        let description = match (prefix.is_empty(), description.is_empty()) {
            (true, _) => "no rate matched".to_string(),
            (false, true) => format!("prefix {prefix}"),
            (false, false) => description,
        };
        lines.push(Line {
            section: model::statement::LineSection::Destination,
            item: prefix,
            description,
            at: None,
            calls: sums.calls,
            seconds: sums.seconds,
            amount: sums.amount,
            credit_limit: None,
        });
    }
    Ok(())
}

/// Corrections of the balance (re-ratings, and any row of another kind
/// than recharges, charges and holds), per kind and UTC day of posting.
async fn corrections(
    conn: &mut AnyConnection,
    account: Account,
    after: i64,
    last: i64,
    lines: &mut Vec<Line>,
) -> Result<()> {
    let mut q = Sql::new();
    let condition = q.rows(account, "", after, last);
    let day = format!("created_at - ((created_at % {DAY_MS}) + {DAY_MS}) % {DAY_MS}");
    let sql = format!(
        "SELECT kind, {day} AS day, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS total \
         FROM balance_transactions WHERE {condition} \
         AND kind NOT IN ('RECHARGE', 'CALL_CHARGE', 'HOLD', 'RELEASE') \
         GROUP BY kind, {day} ORDER BY day, kind"
    );
    for row in bind_all(sqlx::query(&sql), &q.binds)
        .fetch_all(&mut *conn)
        .await?
    {
        let kind: String = row.try_get("kind")?;
        let day: i64 = row.try_get("day")?;
        let date = crate::time::rfc3339(day);
        let date = date.split('T').next().unwrap_or_default();
        let n: i64 = row.try_get("n")?;
        lines.push(Line {
            section: model::statement::LineSection::Adjustment,
            description: if kind == "RERATE" {
                format!("re-rating corrections of {n} calls, {date}")
            } else {
                format!("{} of {date}", kind.to_lowercase())
            },
            item: kind,
            at: Some(day),
            calls: n,
            seconds: 0,
            amount: row.try_get("total")?,
            credit_limit: None,
        });
    }
    Ok(())
}

/// The account's credit-limit changes in the period, from the audit log
/// (a credit limit is not a balance: these lines move nothing).
async fn credit_limits(
    conn: &mut AnyConnection,
    account: Account,
    (start, end): (i64, i64),
    lines: &mut Vec<Line>,
) -> Result<()> {
    let (entity, id) = match account.user_id {
        None => (crate::audit::Entity::TenantAccount, account.tenant_id),
        Some(user) => (crate::audit::Entity::UserAccount, user),
    };
    let rows = sqlx::query(
        "SELECT created_at, actor_name, changes FROM audit_log WHERE tenant_id = $1 AND entity = $2 \
         AND entity_id = $3 AND action = 'UPDATE' AND created_at >= $4 AND created_at < $5 ORDER BY id",
    )
    .bind(account.tenant_id)
    .bind(entity.to_string())
    .bind(id)
    .bind(start)
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let changes: String = row.try_get("changes")?;
        let changes: Value = serde_json::from_str(&changes).map_err(Error::internal)?;
        let Some(change) = changes.get("credit_limit") else {
            continue;
        };
        let money = |v: Option<&Value>| -> Result<i64> {
            let v = v.cloned().unwrap_or(Value::Null);
            if v.is_null() {
                return Ok(0);
            }
            serde_json::from_value::<model::Money>(v)
                .map_err(Error::internal)?
                .to_units()
                .map_err(Error::internal)
        };
        let before = money(change.get("before"))?;
        let after = money(change.get("after"))?;
        let by: String = row.try_get("actor_name")?;
        lines.push(Line {
            section: model::statement::LineSection::Adjustment,
            item: "CREDIT_LIMIT".into(),
            description: format!(
                "credit limit from {} to {} by {by}",
                model::Money::from_units(before).to_fixed(),
                model::Money::from_units(after).to_fixed()
            ),
            at: Some(row.try_get("created_at")?),
            calls: 0,
            seconds: 0,
            amount: 0,
            credit_limit: Some(after),
        });
    }
    Ok(())
}
