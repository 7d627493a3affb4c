//! Commit signals: "a tenant's event log may have grown", for readers of the event feed
//! that would otherwise only poll it (the HTTP layer's live stream, the webhook sender).
//!
//! A signal carries no data, only a wake-up: readers always read the events themselves
//! from the store, with their cursor, so a lost, duplicated or early signal costs at most
//! one read or one poll interval, never an event. The [`Helpdesk`](crate::Helpdesk)
//! signals its own commits; a store that can see other processes' commits on the same
//! database relays them too ([`Store::relay_commits`](super::Store::relay_commits), for
//! example PostgreSQL's `LISTEN`/`NOTIFY`), so several app instances wake each other.

use std::future::pending;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::TenantId;

/// How many signals a slow reader may fall behind before it is simply woken (a lagged
/// reader re-reads the feed, which is all a signal asks of it).
const BACKLOG: usize = 1024;

/// What a signal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Commit {
    /// Events of this tenant were committed.
    Tenant(TenantId),
    /// Commits may have been missed (a relay lost its connection): every reader should
    /// look.
    Unknown,
}

/// The sending side, owned by the helpdesk. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CommitSignal {
    sender: broadcast::Sender<Commit>,
}

impl Default for CommitSignal {
    fn default() -> Self {
        Self::new()
    }
}

impl CommitSignal {
    /// A signal nobody listens to yet.
    pub fn new() -> Self {
        Self {
            sender: broadcast::Sender::new(BACKLOG),
        }
    }

    /// Wakes the readers: `commit` happened.
    pub fn send(&self, commit: Commit) {
        // No receiver is the common case (no live stream open): nothing to wake.
        let _ = self.sender.send(commit);
    }

    /// A reader that sees every signal sent from now on.
    pub fn waiter(&self) -> CommitWaiter {
        CommitWaiter {
            receiver: self.sender.subscribe(),
        }
    }

    /// A handle for a relay that must not keep the helpdesk's signal alive: once the
    /// helpdesk is dropped, [`WeakCommitSignal::send`] says so and the relay can stop.
    pub fn downgrade(&self) -> WeakCommitSignal {
        WeakCommitSignal {
            sender: self.sender.downgrade(),
        }
    }
}

/// A [`CommitSignal`] that does not keep it alive; what a store's relay holds.
#[derive(Debug, Clone)]
pub struct WeakCommitSignal {
    sender: broadcast::WeakSender<Commit>,
}

impl WeakCommitSignal {
    /// Sends `commit` if the signal still exists; `false` once its helpdesk is gone (the
    /// relay should stop).
    pub fn send(&self, commit: Commit) -> bool {
        match self.sender.upgrade() {
            Some(sender) => {
                let _ = sender.send(commit);
                true
            }
            None => false,
        }
    }

    /// Whether the signal still exists.
    pub fn is_alive(&self) -> bool {
        self.sender.strong_count() > 0
    }
}

/// One reader's side: waits for the next signal that concerns it, or a timeout.
#[derive(Debug)]
pub struct CommitWaiter {
    receiver: broadcast::Receiver<Commit>,
}

impl CommitWaiter {
    /// Waits until events of `tenant` may have been committed since the last wait (or
    /// since this waiter was made), at most `timeout`; `true` when a signal came. Signals
    /// of other tenants are skipped.
    pub async fn wait_for(&mut self, tenant: TenantId, timeout: Duration) -> bool {
        self.wait(Some(tenant), timeout).await
    }

    /// Waits for a signal of any tenant, at most `timeout`; `true` when one came.
    pub async fn wait_any(&mut self, timeout: Duration) -> bool {
        self.wait(None, timeout).await
    }

    async fn wait(&mut self, tenant: Option<TenantId>, timeout: Duration) -> bool {
        let next = async {
            loop {
                match self.receiver.recv().await {
                    Ok(Commit::Tenant(t)) if tenant.is_none_or(|want| want == t) => return,
                    Ok(Commit::Tenant(_)) => {}
                    Ok(Commit::Unknown) | Err(broadcast::error::RecvError::Lagged(_)) => return,
                    // The helpdesk is gone: no signal will come, the timeout decides.
                    Err(broadcast::error::RecvError::Closed) => pending::<()>().await,
                }
            }
        };
        tokio::time::timeout(timeout, next).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantId {
        TenantId::new()
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_wakes_for_its_tenant_and_skips_others() {
        let signal = CommitSignal::new();
        let (mine, other) = (tenant(), tenant());
        let mut waiter = signal.waiter();
        signal.send(Commit::Tenant(other));
        assert!(!waiter.wait_for(mine, Duration::from_secs(5)).await);
        signal.send(Commit::Tenant(other));
        signal.send(Commit::Tenant(mine));
        assert!(waiter.wait_for(mine, Duration::from_secs(5)).await);
        // Consumed: the next wait times out.
        assert!(!waiter.wait_for(mine, Duration::from_secs(5)).await);
        signal.send(Commit::Tenant(other));
        assert!(waiter.wait_any(Duration::from_secs(5)).await);
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_and_lagging_wake_everyone() {
        let signal = CommitSignal::new();
        let mine = tenant();
        let mut waiter = signal.waiter();
        signal.send(Commit::Unknown);
        assert!(waiter.wait_for(mine, Duration::from_secs(5)).await);
        for _ in 0..BACKLOG + 5 {
            signal.send(Commit::Tenant(tenant()));
        }
        assert!(
            waiter.wait_for(mine, Duration::from_secs(5)).await,
            "lagged"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_weak_signal_stops_with_its_helpdesk() {
        let signal = CommitSignal::new();
        let weak = signal.downgrade();
        let mut waiter = signal.waiter();
        assert!(weak.is_alive());
        assert!(weak.send(Commit::Unknown));
        assert!(waiter.wait_any(Duration::from_secs(1)).await);
        drop(signal);
        assert!(!weak.is_alive());
        assert!(!weak.send(Commit::Unknown));
        // Closed: waits out its timeout instead of spinning or waking.
        assert!(!waiter.wait_any(Duration::from_secs(1)).await);
    }
}
