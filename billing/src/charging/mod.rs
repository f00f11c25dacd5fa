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

//!
//! The modules: `request` (what the requests carry, checked once),
//! `session` (a call's session and its states), `price` (the rate a call is
//! charged at), `funds` (billed accounts' funds and holds), `group`
//! (authorisations granted together), `settle` (a call's end), `expiry`
//! (holds of calls never reported) and `live` (the calls in progress, listed).

use std::time::Duration;

use model::{ApiId, Money};
use serde::{Deserialize, Serialize};

use crate::auth::Scope;
use crate::db::Db;
use crate::error::Result;
use crate::quote::QuotedRate;

mod batch;
mod expiry;
mod funds;
mod group;
mod live;
mod price;
mod request;
mod session;
mod settle;

pub(crate) use group::Queue;
pub use live::{HeldTotal, LiveCall, LiveCalls, LIVE_CALL_SPEC};
pub(crate) use price::ChargingRates;
pub use request::{seconds_from_json, Authorization};
pub(crate) use session::sessions_of;
pub use session::SessionState;
pub(crate) use settle::settle;

use funds::{take_hold, Account};

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

impl Grant {
    /// The grant of `call_id`: `duration` seconds holding `held` units at the
    /// rate `rate_id` (for `prefix`), released at `expires_at` (unix ms).
    fn new(
        call_id: &str,
        duration: u64,
        held: i64,
        currency: &str,
        rate_id: i64,
        prefix: &str,
        expires_at: i64,
    ) -> Grant {
        Grant {
            call_id: call_id.to_string(),
            max_duration: duration,
            held: Money::from_units(held),
            currency: currency.to_string(),
            rate: QuotedRate {
                id: ApiId::encode(rate_id),
                prefix: prefix.to_string(),
            },
            expires_at: crate::time::rfc3339(expires_at),
        }
    }
}

fn seconds(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Db {
    /// Authorises a call of the scope's tenant (its administrators, or the
    /// PBX with their token): the longest duration the billed account's
    /// funds cover, held until the call is settled. The same call id again
    /// answers the grant it already has.
    pub async fn authorize_call(&self, scope: &Scope, request: Authorization) -> Result<Grant> {
        let result = self.authorize(scope, request).await;
        crate::metrics::authorization(&result);
        result
    }

    async fn authorize(&self, scope: &Scope, request: Authorization) -> Result<Grant> {
        scope.require_manager()?;
        request.validate()?;
        // A suspended tenant is refused in its group, which reads its row.
        let call_id = request.call_id.trim();
        let callee = request.callee.trim();
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
        request::check_seconds("used_seconds", used_seconds)?;
        let mut session = self.known_session(scope, call_id).await?;
        if session.state != SessionState::Live {
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
                        .bind(SessionState::Live.as_str())
                        .bind(session.held)
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() == 1 {
                            crate::balances::watch(
                                &mut tx,
                                self.backend(),
                                account.tenant_id,
                                account.user_id,
                            )
                            .await?;
                            tx.commit().await?;
                        } else {
                            tx.rollback().await?;
                        }
                    }
                    None => tx.rollback().await?,
                }
                session = self.known_session(scope, call_id).await?;
                if session.state != SessionState::Live {
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
}
