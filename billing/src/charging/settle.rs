//! Settlement: a call's end (its termination, or its CDR) releases what it
//! holds (RELEASE) and debits the exact amount (CALL_CHARGE), once.

use crate::auth::Scope;
use crate::balances::{self, TransactionKind};
use crate::db::{now_ms, Db, Tx};
use crate::error::{Error, Result};

use super::session::{Session, SessionState};
use super::{signed, Settlement, HOLD_ATTEMPTS};

/// Settles a session inside `tx`: releases what it holds and debits `cost`.
/// False when the session changed since it was read (settled meanwhile).
pub(crate) async fn settle(
    tx: &mut Tx,
    session: &Session,
    duration: u64,
    cost: i64,
) -> Result<bool> {
    let released = if session.state == SessionState::Live {
        session.held
    } else {
        0
    };
    let done = sqlx::query(
        "UPDATE charging_sessions SET state = $1, held = 0, duration = $2, cost = $3, released = $4, \
         settled_at = $5 WHERE id = $6 AND state = $7 AND held = $8",
    )
    .bind(SessionState::Settled.as_str())
    .bind(signed(duration))
    .bind(cost)
    .bind(released)
    .bind(now_ms())
    .bind(session.id)
    .bind(session.state.as_str())
    .bind(session.held)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if released > 0 {
        balances::post(
            tx,
            session.entry(TransactionKind::Release, released, "call ended"),
        )
        .await?;
    }
    if cost != 0 {
        balances::post(
            tx,
            session.entry(TransactionKind::CallCharge, -cost, "call"),
        )
        .await?;
    }
    Ok(true)
}

impl Db {
    /// Ends a call: debits the exact amount of `duration` seconds once and
    /// releases the rest of its hold. Again: the same answer, no new debit.
    pub async fn terminate_call(
        &self,
        scope: &Scope,
        call_id: &str,
        duration: u64,
    ) -> Result<Settlement> {
        scope.require_manager()?;
        super::request::check_seconds("duration", duration)?;
        let rates = self.charging_rates(scope.tenant_id).await?;
        for _ in 0..HOLD_ATTEMPTS {
            let session = self.known_session(scope, call_id).await?;
            if session.state == SessionState::Settled {
                return Ok(session.settlement());
            }
            // A rate removed since the grant: the call is charged what it was
            // granted for.
            let cost = rates.session_cost(&session, duration)?;
            let _turn = self.write_turn().await;
            let mut tx = self.write().await?;
            if settle(&mut tx, &session, duration, cost).await? {
                balances::watch(&mut tx, self.backend(), session.tenant_id, session.user_id)
                    .await?;
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
}
