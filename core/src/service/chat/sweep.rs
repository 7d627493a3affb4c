//! The chat inactivity sweep: idle sessions close, and a bot-handled chat's ticket is resolved
//! in the same write.

use super::*;

impl Helpdesk {
    /// Closes chat sessions idle for longer than their tenant's `chat_inactivity_minutes`
    /// (0 disables it), by the injected clock, and resolves their ticket unless a human
    /// took the conversation. Takes a lease like the other sweeps.
    pub async fn chat_inactivity_sweep(&self) -> Result<ChatSweepReport> {
        let store = &self.inner.store;
        let now = self.now();
        let report = self.with_lease("chat-inactivity-sweep", now, async {
            let mut report = ChatSweepReport {
                ran: true,
                ..ChatSweepReport::default()
            };
            for tenant in store.list_tenants().await? {
                let minutes = tenant.settings.chat_inactivity_minutes;
                if minutes == 0 {
                    continue;
                }
                let idle = Duration::from_secs(u64::from(minutes) * 60);
                let Ok(idle_before) = now.checked_sub(idle) else {
                    continue;
                };
                for session in store.idle_chat_sessions(tenant.id, idle_before).await? {
                    self.close_idle(&tenant, session, idle_before, minutes, &mut report)
                        .await?;
                }
            }
            Ok(report)
        });
        Ok(report.await?.unwrap_or_default())
    }

    /// Runs the chat inactivity sweep on behalf of an admin (checks the role matrix).
    pub async fn run_chat_inactivity_sweep(&self, actor: &Actor) -> Result<ChatSweepReport> {
        self.check(actor, Action::RunSweeps).await?;
        self.chat_inactivity_sweep().await
    }

    /// Closes one idle session. When the bot had it (no human took it) and its ticket can
    /// be resolved, the closing notice, the ticket resolved and the session closed are one
    /// write; otherwise only the session closes. A session that was active meanwhile (or
    /// closed by someone else) is left alone.
    pub(super) async fn close_idle(
        &self,
        tenant: &Tenant,
        session: ChatSession,
        idle_before: jiff::Timestamp,
        minutes: u32,
        report: &mut ChatSweepReport,
    ) -> Result<()> {
        let now = self.now();
        let still_idle =
            |s: &ChatSession| s.state != ChatState::Closed && s.last_activity_at < idle_before;
        let close = SessionTransition::Close {
            resolved_by_bot: false,
        };
        if session.ticket_id.is_some() && session.handoff_reason.is_none() {
            let resolved = self
                .mutate_chat(tenant.id, session.clone(), None, |s, current| {
                    let resolvable = s.handoff_reason.is_none()
                        && current.merged_into.is_none()
                        && can_transition(None, current.status, TicketStatus::Resolved);
                    if !still_idle(s) || !resolvable {
                        return Ok(None);
                    }
                    let mut change = Change::of(current, now, None);
                    change.add_built_message(chat_message(
                        current,
                        now,
                        None,
                        AuthorKind::Bot,
                        format!("This chat was closed after {minutes} minutes without activity."),
                        Vec::new(),
                    ));
                    set_status(&mut change, tenant, TicketStatus::Resolved)?;
                    change.change_chat_session(s, Some(close.clone()));
                    Ok(Some((change.finish(), ())))
                })
                .await;
            match resolved {
                Ok(Some(_)) => {
                    report.closed += 1;
                    report.resolved += 1;
                    return Ok(());
                }
                // Nothing to resolve (or the ticket is gone): close the session alone.
                Ok(None) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let closed = self
            .mutate_session(tenant, session.id, |s| {
                if !still_idle(s) {
                    return Ok(false);
                }
                s.state = ChatState::Closed;
                s.closed_at = Some(now);
                Ok(true)
            })
            .await?;
        if closed.is_some() {
            report.closed += 1;
        }
        Ok(())
    }
}
