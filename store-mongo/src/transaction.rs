//! Multi-document transactions that run again when they lose to a concurrent one.
//!
//! MongoDB does not make a transaction wait for another that holds a document it writes:
//! the later one fails with a write conflict (or an error labelled
//! `TransientTransactionError`), and nothing of it is written. [`in_transaction!`] runs its
//! body in a new transaction then, after a short pause, up to [`ATTEMPTS`] times; the last
//! loss is returned as the temporary error it is.

use std::time::Duration;

use helpdesk_core::Result;
use mongodb::ClientSession;

use crate::error::{driver, lost_transaction};
use crate::store::MongoStore;

/// How often a transaction that lost to a concurrent one runs in all.
pub(crate) const ATTEMPTS: u32 = 40;

/// Runs `$body` (an expression that may use `$session`, a `&mut ClientSession` in a
/// transaction) in a transaction of `$store`'s client and commits it; runs it again in a
/// new transaction when it lost to a concurrent one (see the module docs). Evaluates to
/// the body's `Result`, or the commit's error.
macro_rules! in_transaction {
    ($store:expr, |$session:ident| $body:expr) => {{
        let mut attempt: u32 = 1;
        loop {
            let mut started = $crate::transaction::start(&$store).await?;
            let outcome = {
                let $session = &mut started;
                $body
            };
            let outcome = $crate::transaction::finish(&mut started, outcome).await;
            if !$crate::transaction::run_again(&outcome, attempt).await {
                break outcome;
            }
            attempt += 1;
        }
    }};
}
pub(crate) use in_transaction;

/// A session with a transaction started.
pub(crate) async fn start(store: &MongoStore) -> Result<ClientSession> {
    let mut session = store.client().start_session().await.map_err(driver)?;
    session.start_transaction().await.map_err(driver)?;
    Ok(session)
}

/// Commits the transaction when the body succeeded, else aborts it (a failed abort is only
/// logged: the server drops an uncommitted transaction on its own, and the body's error is
/// the one to report).
pub(crate) async fn finish<T>(session: &mut ClientSession, outcome: Result<T>) -> Result<T> {
    match outcome {
        Ok(value) => session
            .commit_transaction()
            .await
            .map(|()| value)
            .map_err(driver),
        Err(e) => {
            if let Err(abort) = session.abort_transaction().await {
                tracing::debug!(
                    error = &abort as &dyn std::error::Error,
                    "aborting a transaction failed; the server drops it"
                );
            }
            Err(e)
        }
    }
}

/// Whether attempt `attempt` (from 1) lost to a concurrent transaction and another may
/// run; pauses before it: a few milliseconds growing to 25, plus up to as much again at
/// random, so writers that collided do not collide again in step.
pub(crate) async fn run_again<T>(outcome: &Result<T>, attempt: u32) -> bool {
    match outcome {
        Err(e) if attempt < ATTEMPTS && lost_transaction(e) => {
            let base = u64::from(attempt.min(25));
            let jitter = (uuid::Uuid::now_v7().as_u128() as u64) % (base + 1);
            tokio::time::sleep(Duration::from_millis(base + jitter)).await;
            true
        }
        _ => false,
    }
}
