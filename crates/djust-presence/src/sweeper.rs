//! The background task that expires silent connections and ends reconnect graces.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::error::PresenceError;
use crate::presence::WeakPresence;

/// The running sweeper. Dropping it (or calling [`stop`](Self::stop)) stops the task; the task also ends
/// by itself once every [`Presence`](crate::Presence) handle is gone.
#[derive(Debug)]
#[must_use = "dropping the handle stops the sweeper"]
pub struct SweeperHandle {
    task: JoinHandle<()>,
}

impl SweeperHandle {
    /// Stops the sweeper.
    pub fn stop(self) {
        // `Drop` aborts the task.
        drop(self);
    }

    /// Whether the task has ended (the presence engine was dropped, or the runtime shut down).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for SweeperHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Spawns the sweeper on the current Tokio runtime, ticking every `period` on Tokio time (so paused-time
/// tests drive it).
pub(crate) fn spawn(
    presence: WeakPresence,
    period: Duration,
) -> Result<SweeperHandle, PresenceError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| PresenceError::NoRuntime)?;
    let task = runtime.spawn(async move {
        let mut ticker = tokio::time::interval(period);
        // After a stall, sweep once and carry on; catching up with a burst of sweeps would do nothing more.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The first tick completes at once; nothing can be due yet.
        ticker.tick().await;
        loop {
            ticker.tick().await;
            // A weak handle, so the sweeper does not keep a dropped engine alive.
            let Some(presence) = presence.upgrade() else {
                break;
            };
            presence.sweep();
        }
    });
    Ok(SweeperHandle { task })
}
