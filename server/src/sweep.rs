//! Background work: releasing the holds of calls that were never reported,
//! pruning the login throttle's passed windows, closing the statements whose
//! period has ended, and copying SQLite's write-ahead log into the database
//! file.

use billing::charging::SWEEP_PERIOD;
use billing::db::{CHECKPOINT_IDLE_PERIOD, CHECKPOINT_PERIOD};
use billing::{Backend, Db};

/// Starts the task that releases expired holds, and forgets the login
/// throttle's counters whose window has passed, every [`SWEEP_PERIOD`].
pub fn spawn_hold_sweeper(db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match db.expire_holds().await {
                Ok(0) => {}
                Ok(released) => tracing::info!(released, "released expired holds"),
                Err(e) => tracing::warn!(error = %e, "releasing expired holds failed"),
            }
            if let Err(e) = db.prune_login_throttle().await {
                tracing::warn!(error = %e, "pruning the login throttle failed");
            }
        }
    })
}

/// Starts the task that closes, every [`billing::statements::SWEEP_PERIOD`],
/// the statements whose period has ended (and opens the first statement of
/// accounts new to the ledger). Reads of statements close their own too, so
/// this only keeps the closed ones written while nobody reads them; servers
/// sharing a database may all run it.
pub fn spawn_statement_sweeper(db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(billing::statements::SWEEP_PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match db.sweep_statements_now().await {
                Ok(0) => {}
                Ok(closed) => tracing::info!(closed, "closed statements"),
                Err(e) => tracing::warn!(error = %e, "closing statements failed"),
            }
        }
    })
}

/// On SQLite, starts the task that checkpoints the write-ahead log every
/// [`CHECKPOINT_PERIOD`] while it grows, so that no request's commit has to
/// (a commit that checkpoints waits for the database file to be written and
/// synced); while nothing is written it looks less and less often, down to
/// every [`CHECKPOINT_IDLE_PERIOD`].
pub fn spawn_checkpointer(db: Db) -> Option<tokio::task::JoinHandle<()>> {
    if db.backend() != Backend::Sqlite {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut wait = CHECKPOINT_PERIOD;
        let mut frames = None;
        loop {
            tokio::time::sleep(wait).await;
            match db.checkpoint().await {
                Ok(now) => {
                    wait = if frames == Some(now) {
                        (wait * 2).min(CHECKPOINT_IDLE_PERIOD)
                    } else {
                        CHECKPOINT_PERIOD
                    };
                    frames = Some(now);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "checkpointing the database failed");
                    wait = CHECKPOINT_IDLE_PERIOD;
                }
            }
        }
    }))
}
