//! Background sweeps the server runs: SLA breaches, idle chats, idle-ticket automation
//! rules, the retention policy, the notification outbox and the knowledge-base index sweep.

use std::time::Duration;

use helpdesk_core::Helpdesk;
use tokio::task::JoinHandle;

/// Runs the SLA sweep, the chat inactivity sweep, the automation sweep (idle rules), the
/// retention sweep, the outbox dispatch and the index sweep (articles no instance embedded
/// yet) every `every`, the first round at once (so the index sweep also runs at startup),
/// until the task is aborted. Failures are logged and retried on the next round.
pub fn spawn_sweeps(helpdesk: Helpdesk, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = helpdesk.sla_sweep().await {
                tracing::warn!(error = ?e, "SLA sweep failed");
            }
            if let Err(e) = helpdesk.chat_inactivity_sweep().await {
                tracing::warn!(error = ?e, "chat inactivity sweep failed");
            }
            if let Err(e) = helpdesk.automation_sweep().await {
                tracing::warn!(error = ?e, "automation sweep failed");
            }
            match helpdesk.retention_sweep().await {
                Ok(report) if report.erased.tickets > 0 => tracing::info!(
                    tickets = report.erased.tickets,
                    files = report.erased.files,
                    "retention policy: old tickets closed and erased"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "retention sweep failed"),
            }
            if let Err(e) = helpdesk.dispatch_outbox().await {
                tracing::warn!(error = ?e, "outbox dispatch failed");
            }
            match helpdesk.index_sweep().await {
                Ok(report) if report.embedded > 0 || report.failed > 0 => tracing::info!(
                    embedded = report.embedded,
                    failed = report.failed,
                    more = report.out_of_time,
                    "index sweep: articles embedded for the knowledge base"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "index sweep failed"),
            }
        }
    })
}
