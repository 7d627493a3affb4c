//! One writer per ticket at a time inside this process.
//!
//! Concurrent changes of one ticket (64 agents and customers replying at once) would
//! otherwise all plan on the same version and all but one lose the version check, retry,
//! and lose again: with enough writers some run out of retries. Queueing them per ticket
//! turns that race into a line: a writer that plans under its turn on the row it read
//! under its turn commits on that version, because no other writer of this process can
//! change the ticket meanwhile. A writer whose first plan used a copy read before its turn
//! (the row its check read) conflicts at most once, when another writer went first; its
//! second attempt reads under the turn. So every write of this process needs at most two
//! attempts, however many writers there are. Writers in other processes sharing the store
//! still meet the version check, and the retry loop handles those (rare) conflicts.
//!
//! The lock is held only across the ticket's read, the plan (pure computation) and the
//! write; no model call or other slow work ever happens under it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::TicketId;

/// The per-ticket queues; an entry lives only while someone holds or waits for it.
#[derive(Debug, Default)]
pub(crate) struct TicketLocks {
    queues: Mutex<HashMap<TicketId, Arc<AsyncMutex<()>>>>,
}

/// A ticket's turn; dropping it lets the next writer of that ticket go.
#[derive(Debug)]
pub(crate) struct TicketTurn<'a> {
    locks: &'a TicketLocks,
    id: TicketId,
    queue: Arc<AsyncMutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
    waited: bool,
}

impl TicketLocks {
    /// Waits for `id`'s turn.
    pub(crate) async fn turn(&self, id: TicketId) -> TicketTurn<'_> {
        let queue = {
            let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
            queues.entry(id).or_default().clone()
        };
        let (guard, waited) = match queue.clone().try_lock_owned() {
            Ok(guard) => (guard, false),
            Err(_) => (queue.clone().lock_owned().await, true),
        };
        TicketTurn {
            locks: self,
            id,
            queue,
            guard: Some(guard),
            waited,
        }
    }

    /// How many tickets have a queue right now (for tests: entries do not pile up).
    #[cfg(test)]
    fn queued_tickets(&self) -> usize {
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl TicketTurn<'_> {
    /// Whether another writer of this ticket went first: a copy of the ticket read before
    /// the turn may be stale, so read it again.
    pub(crate) fn waited(&self) -> bool {
        self.waited
    }
}

impl Drop for TicketTurn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut queues = self
            .locks
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The map's handle and ours are the only ones left: nobody holds or waits for the
        // ticket (new handles are only made under the map lock held here).
        if Arc::strong_count(&self.queue) == 2 {
            queues.remove(&self.id);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::TicketLocks;
    use crate::TicketId;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_writer_per_ticket_and_no_leftover_queues() {
        let locks = Arc::new(TicketLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let id = TicketId::new();
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = locks.turn(id).await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert_eq!(locks.queued_tickets(), 0);
    }

    #[tokio::test]
    async fn other_tickets_do_not_wait() {
        let locks = TicketLocks::default();
        let first = locks.turn(TicketId::new()).await;
        let second = locks.turn(TicketId::new()).await;
        assert!(!first.waited() && !second.waited());
        assert_eq!(locks.queued_tickets(), 2);
        drop((first, second));
        assert_eq!(locks.queued_tickets(), 0);
    }
}
