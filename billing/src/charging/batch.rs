//! A group's reads and writes on PostgreSQL, one statement each whatever
//! the group's size and its number of tenants: the rows travel as one JSON
//! parameter (`json_to_recordset`), so every statement has one text, is
//! prepared once per connection, and costs one round trip.

use serde::Serialize;

use super::group::{Call, NewHold, HOLD_DESCRIPTION, NEW_SESSION};
use super::session::{session_from_row, Session, SessionState, SESSION_COLUMNS};
use super::signed;
use crate::balances::TransactionKind;
use crate::db::Tx;
use crate::error::Result;
use crate::sql;

/// A call id of a tenant, as the session lookup reads it.
#[derive(Serialize)]
struct Key<'a> {
    t: i64,
    c: &'a str,
}

/// The sessions already stored for any of `calls`.
pub(super) async fn sessions(tx: &mut Tx, calls: &[Call]) -> Result<Vec<Session>> {
    let keys: Vec<Key> = calls
        .iter()
        .map(|c| Key {
            t: c.tenant_id,
            c: &c.call_id,
        })
        .collect();
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM charging_sessions \
         JOIN json_to_recordset(CAST($1 AS JSON)) AS k(t BIGINT, c TEXT) \
         ON tenant_id = k.t AND call_id = k.c"
    );
    sqlx::query(&sql)
        .bind(sql::json_rows(&keys)?)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(session_from_row)
        .collect()
}

/// A tenant's own account's debit: the sum of its holds.
#[derive(Serialize)]
struct Debit {
    id: i64,
    amount: i64,
}

/// A HOLD row of a tenant's own account; `rest` is what the account's holds
/// after it take, so that its balance after is the debited balance plus
/// `rest`.
#[derive(Serialize)]
struct Held<'a> {
    n: usize,
    tenant_id: i64,
    amount: i64,
    rest: i64,
    call_id: &'a str,
}

/// A new session's row, keyed by column.
#[derive(Serialize)]
struct NewSession<'a> {
    tenant_id: i64,
    call_id: &'a str,
    user_id: Option<i64>,
    caller: &'a str,
    callee: &'a str,
    rate_id: i64,
    rate_prefix: &'a str,
    currency: &'a str,
    started_at: i64,
    max_duration: i64,
    held: i64,
    held_total: i64,
    expires_at: i64,
    state: &'a str,
    created_at: i64,
}

/// In one statement: debits each tenant's own account of `own` (its calls
/// and their holds) when its funds cover them, writes their HOLD rows, and
/// stores the session of every hold of `holds` (of any account). False when
/// some account's funds no longer covered its holds: the caller undoes the
/// transaction.
pub(super) async fn write(
    tx: &mut Tx,
    own: &[(i64, &[(&str, i64)])],
    holds: &[NewHold<'_>],
    now: i64,
) -> Result<bool> {
    let mut debits = Vec::with_capacity(own.len());
    let mut held = Vec::with_capacity(holds.len());
    for (tenant_id, calls) in own {
        let total: i64 = calls.iter().map(|(_, amount)| amount).sum();
        debits.push(Debit {
            id: *tenant_id,
            amount: total,
        });
        let mut rest = total;
        for (call_id, amount) in calls.iter() {
            rest -= amount;
            held.push(Held {
                n: held.len(),
                tenant_id: *tenant_id,
                amount: *amount,
                rest,
                call_id,
            });
        }
    }
    let sessions: Vec<NewSession> = holds
        .iter()
        .map(|hold| NewSession {
            tenant_id: hold.call.tenant_id,
            call_id: &hold.call.call_id,
            user_id: hold.account.user_id,
            caller: &hold.call.caller,
            callee: &hold.call.callee,
            rate_id: hold.rate_id,
            rate_prefix: &hold.prefix,
            currency: &hold.currency,
            started_at: now,
            max_duration: signed(hold.duration),
            held: hold.amount,
            held_total: hold.amount,
            expires_at: hold.expires_at,
            state: SessionState::Live.as_str(),
            created_at: now,
        })
        .collect();
    let sql = format!(
        "WITH debit AS (\
            UPDATE tenants AS t SET balance = t.balance - d.amount \
            FROM json_to_recordset(CAST($1 AS JSON)) AS d(id BIGINT, amount BIGINT) \
            WHERE t.id = d.id AND t.balance + t.credit_limit >= d.amount \
            RETURNING t.id, t.balance\
         ), ledger AS (\
            INSERT INTO balance_transactions (tenant_id, user_id, kind, amount, balance_after, \
            call_id, description, created_by, created_at) \
            SELECT l.tenant_id, CAST(NULL AS BIGINT), $2, -l.amount, debit.balance + l.rest, \
            l.call_id, $3, CAST(NULL AS BIGINT), $4 \
            FROM json_to_recordset(CAST($5 AS JSON)) \
            AS l(n BIGINT, tenant_id BIGINT, amount BIGINT, rest BIGINT, call_id TEXT) \
            JOIN debit ON debit.id = l.tenant_id ORDER BY l.n\
         ), sessions AS ({}) \
         SELECT COUNT(*) AS debited FROM debit",
        NEW_SESSION.json_sql(6, "")
    );
    let debited: i64 = sqlx::query_scalar(&sql)
        .bind(sql::json_rows(&debits)?)
        .bind(TransactionKind::Hold.to_string())
        .bind(HOLD_DESCRIPTION)
        .bind(now)
        .bind(sql::json_rows(&held)?)
        .bind(sql::json_rows(&sessions)?)
        .fetch_one(&mut **tx)
        .await?;
    Ok(usize::try_from(debited).is_ok_and(|d| d == debits.len()))
}
