//! Background sweeps the server runs: SLA breaches, idle chats, idle-ticket automation
//! rules, the retention policy, the notification outbox and the knowledge-base index sweep;
//! and, on a slower beat of its own, learned triage's training job.

use std::time::Duration;

use helpdesk_core::Helpdesk;
use tokio::task::JoinHandle;

/// Runs the SLA sweep, the chat inactivity sweep, the automation sweep (idle rules), the
/// retention sweep, the outbox dispatch and the index sweep (articles no instance embedded
/// yet) every `every`, the first round at once (so the index sweep also runs at startup),
/// until the task is aborted. Failures are logged and retried on the next round. Beside
/// them, every [`TRAINING_ROUNDS`] rounds, the learned-triage training job runs (leased,
/// so one instance trains); it has its own loop because a training can take minutes and
/// must not hold up notifications and SLA breaches.
pub fn spawn_sweeps(helpdesk: Helpdesk, every: Duration) -> JoinHandle<()> {
    let trainer = helpdesk.clone();
    let training_every = every.saturating_mul(TRAINING_ROUNDS);
    tokio::spawn(async move {
        futures_util::future::join(
            sweep_rounds(helpdesk, every),
            training_rounds(trainer, training_every),
        )
        .await;
    })
}

/// How many sweep rounds pass between two runs of the training job.
pub const TRAINING_ROUNDS: u32 = 20;

async fn training_rounds(helpdesk: Helpdesk, every: Duration) {
    if !helpdesk.learned_triage_enabled() {
        return;
    }
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match helpdesk.train_triage_models().await {
            Ok(report) => {
                for model in &report.trained {
                    tracing::info!(
                        tenant = %model.tenant_id,
                        version = model.version,
                        tickets = model.training_tickets,
                        accuracy = ?model.accuracy(),
                        "learned triage: model trained"
                    );
                }
                if report.failed > 0 {
                    tracing::warn!(
                        tenants = report.failed,
                        "learned triage: training failed for some tenants"
                    );
                }
            }
            Err(e) => tracing::warn!(error = ?e, "learned triage training failed"),
        }
    }
}

async fn sweep_rounds(helpdesk: Helpdesk, every: Duration) {
    {
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
    }
}
