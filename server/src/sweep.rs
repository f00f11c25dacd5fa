//! Background work: releasing the holds of calls that were never reported.

use billing::charging::SWEEP_PERIOD;
use billing::Db;

/// Starts the task that releases expired holds every [`SWEEP_PERIOD`].
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
        }
    })
}
