//! The bot's side of a turn: the grounded answer or the handoff, each committed with the
//! session's change.

use super::stream;
use super::*;
use crate::ai::AiStatus;
use crate::domain::ModelUsage;
use crate::kb::ScoredChunk;
use crate::llm::UsageTally;
use crate::service::back_off;
use crate::service::tickets::Routed;
use crate::store::TicketWrite;
use jiff::Timestamp;

/// What the bot decided for one turn.
pub(super) enum BotDecision {
    Answer(BotReply),
    Handoff(String),
    /// The customer only greeted: greet back (no search, no handoff).
    Greeting,
}

/// What the bot says in a turn (see [`Helpdesk::bot_answer`]).
pub(super) struct BotReply {
    pub(super) body: String,
    pub(super) citations: Vec<Citation>,
    /// The customer confirmed the problem is solved.
    pub(super) resolved: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatAnswer {
    answer: String,
    cited_chunk_ids: Vec<String>,
    handoff: bool,
    handoff_reason: String,
    resolved: bool,
}

/// The reason recorded when a customer asks for a person.
pub(crate) const ASKED_FOR_HUMAN: &str = "customer asked for a human";

/// The bot's answer to a plain greeting.
pub(crate) const GREETING_REPLY: &str = "Hello! I'm the virtual assistant. Ask me your \
question and I'll answer from our help center; if you would rather talk to a person, just \
say so.";

pub(super) const HANDOFF_NOTICE: &str = "I'm passing this conversation to a member of our support team. \
They will reply here as soon as possible.";

/// The bot's answer without a model: the best knowledge-base passage when it is confident,
/// else a handoff. `model_failure` says why a configured model did not answer; it leads
/// the handoff reason.
fn offline_decision(
    chunks: &[ScoredChunk],
    threshold: f32,
    model_failure: Option<String>,
) -> BotDecision {
    let why = match chunks.first() {
        Some(best) if best.score >= threshold => {
            return BotDecision::Answer(BotReply {
                body: format!("From our help center, \"{}\":\n\n{}", best.title, best.text),
                citations: citations_for(std::slice::from_ref(&best.chunk_id), chunks),
                resolved: false,
            });
        }
        Some(best) => format!(
            "no confident knowledge-base answer (best score {:.2} under {threshold:.2})",
            best.score
        ),
        None => "no knowledge-base answer".into(),
    };
    BotDecision::Handoff(match model_failure {
        Some(failure) => format!("{failure}; {why}"),
        None => why,
    })
}

impl Helpdesk {
    /// Decides the bot's answer to one customer turn. Never fails: every failure becomes
    /// a handoff with its reason.
    ///
    /// The model gets what is left of [`HelpdeskConfig::chat_turn_budget`](crate::service::HelpdeskConfig)
    /// since `started` (the start of the turn); when it fails, runs out of time or the
    /// circuit breaker is open, the bot answers as it does without a model: with a
    /// confident knowledge-base passage, else a handoff whose reason names the failure.
    pub(super) async fn bot_decision(
        &self,
        tenant: &Tenant,
        ticket: &Ticket,
        text: &str,
        started: tokio::time::Instant,
        provisional: Option<&(dyn Fn(&str) + Send + Sync)>,
        usage: &UsageTally,
    ) -> BotDecision {
        let autonomy = tenant.settings.ai_autonomy;
        if asks_for_human(text) {
            return BotDecision::Handoff(ASKED_FOR_HUMAN.into());
        }
        if !autonomy.allows_auto_reply() {
            return BotDecision::Handoff(format!(
                "ai autonomy is {autonomy}: the bot does not answer by itself"
            ));
        }
        if is_plain_greeting(text) {
            return BotDecision::Greeting;
        }
        let threshold = tenant.settings.grounding_threshold;
        let model = self.live_model();
        // Why a configured model is not asked, for the handoff reason.
        let skipped = match (model, self.ai_status()) {
            (None, AiStatus::Degraded { reason, .. }) => {
                Some(format!("model skipped while degraded ({reason})"))
            }
            _ => None,
        };
        // The chat history (only a model reads it) loads while the knowledge base is
        // searched.
        let history = async {
            match model {
                Some(_) => self.public_thread(ticket).await.map(Some),
                None => Ok(None),
            }
        };
        let (chunks, history) = futures_util::future::join(
            self.kb_search(tenant, text, self.inner.config.kb_top_k),
            history,
        )
        .await;
        let chunks = match chunks {
            Ok(chunks) => chunks,
            Err(e) => {
                tracing::warn!(error = %e, "knowledge-base search failed; handing off");
                return BotDecision::Handoff("knowledge base unavailable".into());
            }
        };
        let Some(model) = model else {
            return offline_decision(&chunks, threshold, skipped);
        };
        let model = usage.metered(model);
        let history: Vec<Message> = match history {
            Ok(thread) => thread
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.kind == MessageKind::Chat)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "loading the chat history failed; handing off");
                return BotDecision::Handoff("chat history unavailable".into());
            }
        };
        let request = prompts::chat_request(
            ticket,
            &chunks,
            &history,
            self.inner.config.chat_history_turns,
        );
        let config = &self.inner.config;
        let left = config
            .chat_turn_budget
            .saturating_sub(started.elapsed())
            .min(config.model_timeout);
        if left.is_zero() {
            tracing::warn!("chat turn budget spent before the model call; answering offline");
            return offline_decision(&chunks, threshold, Some("chat turn budget spent".into()));
        }
        let answer = match provisional {
            Some(show) => {
                stream::stream_json_within::<ChatAnswer>(&model, request, left, show).await
            }
            None => output::generate_json_within::<ChatAnswer>(&model, request, left).await,
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(error = %e, "chat model call failed; answering offline");
                return offline_decision(
                    &chunks,
                    threshold,
                    Some(format!("model failed: {}", e.kind_name())),
                );
            }
        };
        if answer.handoff {
            let reason = output::bounded(&answer.handoff_reason, 200);
            return BotDecision::Handoff(if reason.is_empty() {
                "the assistant asked for a human".into()
            } else {
                format!("assistant: {reason}")
            });
        }
        if let Err(why) =
            grounding::check(&answer.answer, &answer.cited_chunk_ids, &chunks, threshold)
        {
            return BotDecision::Handoff(format!("ungrounded answer: {why}"));
        }
        BotDecision::Answer(BotReply {
            body: output::bounded(&answer.answer, validate::MAX_BODY_CHARS),
            citations: citations_for(&answer.cited_chunk_ids, &chunks),
            resolved: answer.resolved,
        })
    }

    /// Stores the bot's grounded answer, with what the model spent on it (`spent`); when
    /// the customer confirmed the problem is solved the ticket is resolved and the session
    /// closes as resolved by the bot.
    pub(super) async fn bot_answer(
        &self,
        tenant: &Tenant,
        ticket: &Ticket,
        session: ChatSession,
        reply: BotReply,
        spent: &[ModelUsage],
    ) -> Result<(ChatSession, ChatReply)> {
        let BotReply {
            body,
            citations,
            resolved,
        } = reply;
        let now = self.now();
        let message = chat_message(ticket, now, None, AuthorKind::Bot, body, citations);
        if !resolved {
            // Only the ticket changes; plans on the ticket the turn just wrote (no second
            // read); a change meanwhile is a retry.
            self.mutate_ticket_from(tenant, ticket.id, Some(ticket.clone()), |current| {
                let mut change = Change::of(current, now, None);
                change.add_built_message(message.clone());
                change.record_usage(spent.to_vec());
                Ok(change.finish())
            })
            .await?;
            return Ok((session, ChatReply::Answered(message)));
        }
        // Resolved by the bot: the answer, the ticket resolved and the session closed are
        // one write, planned on the session and ticket as the turn left them.
        let committed = self
            .mutate_chat(
                tenant.id,
                session,
                Some(ticket.clone()),
                |session, current| {
                    let mut change = Change::of(current, now, None);
                    change.add_built_message(message.clone());
                    change.record_usage(spent.to_vec());
                    if can_transition(None, current.status, TicketStatus::Resolved) {
                        set_status(&mut change, tenant, TicketStatus::Resolved)?;
                    }
                    change.change_chat_session(
                        session,
                        Some(SessionTransition::Close {
                            resolved_by_bot: true,
                        }),
                    );
                    Ok(Some((change.finish(), ())))
                },
            )
            .await?;
        let (session, _, ()) =
            committed.ok_or(Error::Internal("the bot's answer was not stored"))?;
        Ok((session, ChatReply::Answered(message)))
    }

    /// Hands a session to a human: the ticket moves to Escalated (a system move), is routed
    /// by the router when unassigned, the assignee (or the tenant's admins) get a Handoff
    /// notification through the outbox, the customer sees a notice, and the session goes
    /// to state Human with the reason. `spent` is what the model spent deciding to hand off,
    /// committed with it.
    ///
    /// Plans on `session` and `ticket`, the session's ticket, as the caller just read or
    /// wrote them (a stale copy is a conflict and a retry on a fresh read).
    pub(super) async fn hand_off(
        &self,
        tenant: &Tenant,
        session: ChatSession,
        ticket: Ticket,
        reason: String,
        spent: &[ModelUsage],
    ) -> Result<(ChatSession, ChatReply)> {
        let id = session.id;
        if session.ticket_id != Some(ticket.id) {
            return Err(Error::Internal("the handoff's ticket is not the session's"));
        }
        // The routing (only for an unassigned ticket) and the admins to notify when nobody
        // is assigned are read together.
        let routing = async {
            match ticket.assignee {
                None => self.route(tenant, &ticket).await,
                Some(_) => Ok(None),
            }
        };
        let (routed, admins) = futures_util::future::join(
            routing,
            self.inner.store.list_users(tenant.id, Some(Role::Admin)),
        )
        .await;
        let mut routed = routed?;
        let admins: Vec<UserId> = admins?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| u.id)
            .collect();
        let handoff = HandoffPlan {
            tenant,
            now: self.now(),
            spent,
            reason: &reason,
            admins: &admins,
        };
        let attempts = self.routing_attempts();
        let mut attempt = 0;
        let mut known = (session, ticket);
        // A commit refused for its routing claim routes again on a fresh read; after the
        // last attempt the ticket is handed off unassigned (the admins are notified).
        let committed = loop {
            let (session, ticket) = known;
            let outcome = self
                .mutate_chat(tenant.id, session, Some(ticket), |session, current| {
                    handoff.plan(session, current, routed)
                })
                .await;
            match outcome {
                Err(e) if e.is_routing_conflict() => {
                    attempt += 1;
                    routed = None;
                    if attempt < attempts {
                        back_off(attempt, e).await?;
                    } else {
                        tracing::warn!(tenant = %tenant.slug, session = %id, error = %e, "routing kept conflicting; handing off unassigned");
                    }
                    let (session, ticket) = self.session_and_ticket(tenant.id, id).await?;
                    if attempt < attempts && ticket.assignee.is_none() {
                        routed = self.route(tenant, &ticket).await?;
                    }
                    known = (session, ticket);
                }
                other => break other?,
            }
        };
        let (session, _, notice) =
            committed.ok_or(Error::Internal("the handoff was not stored"))?;
        tracing::info!(tenant = %tenant.slug, session = %id, %reason, "chat handed off");
        Ok((session, ChatReply::HandedOff { reason, notice }))
    }
}

/// What the handoff's one write is planned from, besides the session and ticket.
struct HandoffPlan<'a> {
    tenant: &'a Tenant,
    now: Timestamp,
    spent: &'a [ModelUsage],
    reason: &'a str,
    /// Notified when nobody is assigned.
    admins: &'a [UserId],
}

impl HandoffPlan<'_> {
    /// The handoff's one write, planned on the session and its ticket as stored: the
    /// ticket escalated, routed (`routed`, when it is still unassigned) and notified (its
    /// assignee, else the admins), the notice, and the session given to a human.
    fn plan(
        &self,
        session: &ChatSession,
        current: &Ticket,
        routed: Option<Routed>,
    ) -> Result<Option<(TicketWrite, Message)>> {
        let mut change = Change::of(current, self.now, None);
        change.record_usage(self.spent.to_vec());
        if can_transition(None, current.status, TicketStatus::Escalated) {
            set_status(&mut change, self.tenant, TicketStatus::Escalated)?;
        }
        if current.assignee.is_none()
            && let Some(routed) = routed
        {
            change.route_to(routed.assignee, routed.claim);
        }
        let recipients = change
            .ticket()
            .assignee
            .map_or_else(|| self.admins.to_vec(), |a| vec![a]);
        change.notify(
            recipients,
            NotificationKind::Handoff {
                reason: self.reason.to_string(),
            },
        );
        let message = chat_message(
            current,
            self.now,
            None,
            AuthorKind::Bot,
            HANDOFF_NOTICE.into(),
            Vec::new(),
        );
        change.add_built_message(message.clone());
        change.change_chat_session(
            session,
            Some(SessionTransition::HandOff {
                reason: self.reason.to_string(),
            }),
        );
        Ok(Some((change.finish(), message)))
    }
}
