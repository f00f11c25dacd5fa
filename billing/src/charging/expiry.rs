//! Expiry: the hold of a call never reported is released once its grant
//! has ended by [`HOLD_MARGIN_MS`](super::HOLD_MARGIN_MS): by the periodic
//! sweep ([`Db::expire_holds`]), and by the account's next authorisation when
//! its funds run short.

use crate::balances::{self, TransactionKind};
use crate::db::{now_ms, Db, Tx};
use crate::error::Result;

use super::funds::Account;
use super::session::{session_from_row, Session, SessionState, SESSION_COLUMNS};
use super::SWEEP_BATCH;

/// Releases the hold of a live session whose call was never reported,
/// inside `tx`. False when the session changed since it was read.
async fn expire(tx: &mut Tx, session: &Session) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE charging_sessions SET state = $1, held = 0 WHERE id = $2 AND state = $3 AND held = $4",
    )
    .bind(SessionState::Expired.as_str())
    .bind(session.id)
    .bind(SessionState::Live.as_str())
    .bind(session.held)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if session.held > 0 {
        balances::post(
            tx,
            session.entry(TransactionKind::Release, session.held, "hold expired"),
        )
        .await?;
    }
    Ok(true)
}

/// Releases the expired holds of one account, inside `tx`; answers how many.
pub(super) async fn expire_account(tx: &mut Tx, account: Account, now: i64) -> Result<u64> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM charging_sessions WHERE tenant_id = $1 AND \
         COALESCE(user_id, 0) = $2 AND state = $3 AND expires_at <= $4"
    );
    let rows = sqlx::query(&sql)
        .bind(account.tenant_id)
        .bind(account.user_id.unwrap_or(0))
        .bind(SessionState::Live.as_str())
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

impl Db {
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
                .bind(SessionState::Live.as_str())
                .bind(now_ms())
                .fetch_all(self.pool())
                .await?;
            if rows.is_empty() {
                return Ok(released);
            }
            let _turn = self.write_turn().await;
            let mut tx = self.write().await?;
            let mut any = false;
            let mut accounts = std::collections::BTreeSet::new();
            for row in &rows {
                let session = session_from_row(row)?;
                if expire(&mut tx, &session).await? {
                    released += 1;
                    any = true;
                    accounts.insert((session.tenant_id, session.user_id));
                }
            }
            for (tenant_id, user_id) in accounts {
                balances::watch(&mut tx, self.backend(), tenant_id, user_id).await?;
            }
            tx.commit().await?;
            if !any && i64::try_from(rows.len()).unwrap_or(0) < SWEEP_BATCH {
                return Ok(released);
            }
        }
    }
}
