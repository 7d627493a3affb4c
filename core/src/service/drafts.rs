//! Copilot use-cases for agents: suggested replies (drafts) and their decisions, ticket
//! summaries and related knowledge-base articles.
//!
//! With a language model (and an AI autonomy that allows suggestions) drafts and summaries
//! are written by the model. Without one, or when the model fails, a draft is a template
//! filled with this ticket's own facts that quotes the best knowledge-base passage (never
//! another ticket's text, see [`crate::ai`]'s offline module), and a summary is extractive;
//! both carry a visible label that says where they came from. When one of the desk's
//! canned responses matches the request, the draft starts from it: the model adapts it,
//! or without a model it is the draft, filled in for the ticket.

use serde::Deserialize;

use super::Helpdesk;
use super::canned::{fill, fill_field};
use super::change::Change;
use super::tickets::add_agent_reply;
use crate::ai::prompts::{self, DraftContext};
use crate::ai::{
    DraftDecision, DraftOutcome, SummarySource, TicketSummary, canned_match, offline, output,
};
use crate::domain::{
    Actor, AiUseCase, AuthorKind, CannedResponse, Citation, DraftInfo, DraftSource, DraftState,
    EventKind, Message, MessageKind, Tenant, Ticket, TicketStatus, render_template,
};
use crate::kb::ScoredChunk;
use crate::llm::UsageTally;
use crate::roles::{Action, authorize};
use crate::store::{MessageFilter, TicketQuery, TicketSort};
use crate::{Error, LanguageModel, MessageId, Result, StateError, TicketId, validate};

/// How many of the customer's earlier tickets go into a draft prompt.
const EARLIER_TICKETS: usize = 5;

/// Removes a fallback label line from a text about to be sent to the customer.
fn strip_label(body: &str) -> String {
    match body.strip_prefix("[Suggested from ") {
        Some(rest) => match rest.split_once("]\n") {
            Some((_, text)) => text.trim_start().to_string(),
            None => body.to_string(),
        },
        None => body.to_string(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftAnswer {
    reply: String,
    cited_chunk_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryAnswer {
    summary: String,
    open_questions: Vec<String>,
}

pub(crate) fn citations_for(ids: &[String], chunks: &[ScoredChunk]) -> Vec<Citation> {
    let mut out: Vec<Citation> = Vec::new();
    for id in ids {
        if out.iter().any(|c| &c.chunk_id == id) {
            continue;
        }
        if let Some(c) = chunks.iter().find(|c| &c.chunk_id == id) {
            out.push(Citation {
                chunk_id: c.chunk_id.clone(),
                article_id: c.article_id,
                title: c.title.clone(),
            });
        }
    }
    out
}

fn ticket_text(t: &Ticket) -> String {
    format!("{}\n\n{}", t.subject, t.description)
}

impl Helpdesk {
    /// The model to use for agent suggestions in `tenant`: none when no model is
    /// configured, the tenant's AI autonomy is off, or the circuit breaker is open (the
    /// offline template or extractive path answers at once, labelled as such).
    pub(crate) fn suggestion_model(&self, tenant: &Tenant) -> Option<&dyn LanguageModel> {
        self.live_model()
            .filter(|_| tenant.settings.ai_autonomy.allows_suggestions())
    }

    /// The top `k` knowledge-base chunks for `query` (none without a knowledge base),
    /// after catching this instance's index up with the store when the last catch-up is
    /// older than [`HelpdeskConfig::kb_sync_interval`](super::HelpdeskConfig::kb_sync_interval).
    pub(crate) async fn kb_search(
        &self,
        tenant: &Tenant,
        query: &str,
        k: usize,
    ) -> Result<Vec<ScoredChunk>> {
        match &self.inner.knowledge_base {
            Some(kb) => {
                self.kb_sync_if_due(tenant.id).await;
                kb.search(tenant.id, query, k).await
            }
            None => Ok(Vec::new()),
        }
    }

    /// The public thread of a ticket (replies and chat turns, oldest first).
    pub(crate) async fn public_thread(&self, ticket: &Ticket) -> Result<Vec<Message>> {
        self.inner
            .store
            .list_messages(ticket.tenant_id, ticket.id, MessageFilter::CustomerVisible)
            .await
    }

    /// Suggests a reply for an agent. The draft is stored on the ticket as a
    /// [`MessageKind::Draft`], never visible to the customer, with [`DraftInfo`] recording
    /// its source; decide on it with [`Helpdesk::decide_draft`].
    ///
    /// When one of the public canned responses the agent may send (shared or their own)
    /// matches the request (its name's words are in the subject and the customer's latest
    /// message), the draft starts from it, filled in for the ticket: the model adapts it
    /// (and the label names it), or without a model it is the draft
    /// ([`DraftSource::CannedResponse`]).
    ///
    /// With a model (autonomy at least Suggest) the draft is built from the thread, the
    /// customer's earlier tickets and the top knowledge-base chunks. Otherwise (or when
    /// the model fails) it is a template with this ticket's facts (the requester's name,
    /// number and subject) quoting the best knowledge-base passage
    /// ([`DraftSource::KbPassage`], cited), or the template alone
    /// ([`DraftSource::Template`]), starting with a label that says so. Other tickets never
    /// contribute text: a resolved ticket's reply may claim actions nobody took here and
    /// carry another customer's details.
    pub async fn suggest_reply(&self, actor: &Actor, id: TicketId) -> Result<Message> {
        // Independent reads go together: the ticket while the actor is checked, then the
        // thread with the customer's earlier tickets (which only a model reads) and the
        // canned responses.
        let (tenant, user, ticket) = self
            .check_while(actor, Action::UseCopilot, self.visible_ticket(actor, id))
            .await?;
        if ticket.merged_into.is_some() {
            return Err(StateError::TicketMerged {
                number: ticket.number,
            }
            .into());
        }
        let model = self.suggestion_model(&tenant);
        let earlier = async {
            match model {
                Some(_) => self.earlier_tickets(&ticket).await,
                None => Ok(Vec::new()),
            }
        };
        let canned = self.inner.store.list_canned_responses(tenant.id);
        let (thread, earlier, canned) =
            futures_util::future::join3(self.public_thread(&ticket), earlier, canned).await;
        let thread = thread?;
        let query = match thread
            .iter()
            .rev()
            .find(|m| m.author_kind == AuthorKind::Customer)
        {
            Some(last) => format!("{}\n{}", ticket.subject, last.body),
            None => ticket_text(&ticket),
        };
        let chunks = self
            .kb_search(&tenant, &query, self.inner.config.kb_top_k)
            .await?;
        // The public canned responses this agent may send: the draft starts from the one
        // the request asks for, filled in for the ticket.
        let usable: Vec<CannedResponse> = canned?
            .into_iter()
            .filter(|c| !c.internal && c.owner.is_none_or(|o| o == user.id))
            .collect();
        let mut customer = None;
        let mut from_canned = None;
        if let Some(matched) = canned_match::best_canned(&query, &usable) {
            let requester = self
                .inner
                .store
                .get_user(tenant.id, ticket.requester)
                .await?;
            if let Some(requester) = &requester {
                from_canned = render_template(
                    &matched.body,
                    |p| fill(p, &tenant, &ticket, requester, &user.name),
                    |key| fill_field(&ticket, key),
                )
                .ok()
                .map(|text| (matched.name.clone(), text));
            }
            customer = Some(requester);
        }
        let canned_ref = from_canned
            .as_ref()
            .map(|(name, text)| (name.as_str(), text.as_str()));

        let usage = UsageTally::new();
        let mut built = None;
        if let Some(model) = model {
            let model = usage.metered(model);
            let earlier = earlier?;
            let request = prompts::draft_request(&DraftContext {
                ticket: &ticket,
                thread: &thread,
                earlier_tickets: &earlier,
                chunks: &chunks,
                canned: canned_ref,
            });
            match output::generate_json_within::<DraftAnswer>(
                &model,
                request,
                self.inner.config.model_timeout,
            )
            .await
            {
                Ok(answer) if !answer.reply.trim().is_empty() => {
                    let language = prompts::reply_language(&ticket);
                    let label = match (canned_ref, language) {
                        (Some((name, _)), language) => {
                            Some(offline::canned_model_label(name, language))
                        }
                        (None, Some(tag)) => Some(offline::language_label(tag)),
                        (None, None) => None,
                    };
                    let reply = match label {
                        Some(label) => format!("{label}\n\n{}", answer.reply.trim()),
                        None => answer.reply,
                    };
                    built = Some((
                        output::bounded(&reply, validate::MAX_BODY_CHARS),
                        citations_for(&answer.cited_chunk_ids, &chunks),
                        DraftSource::Llm,
                        usage.last_model(),
                    ));
                }
                Ok(_) => tracing::warn!(%id, "model drafted an empty reply; using a fallback"),
                Err(e) => {
                    tracing::warn!(%id, error = %e, "draft model call failed; using a fallback");
                }
            }
        }
        let (body, citations, source, drafted_by) = match (built, canned_ref) {
            (Some(built), _) => built,
            (None, Some((name, text))) => (
                offline::canned_draft(name, text),
                Vec::new(),
                DraftSource::CannedResponse,
                None,
            ),
            (None, None) => {
                // Only this ticket's facts and the knowledge base: the requester's name, and
                // the best passage (cited) when there is one.
                let customer = match customer {
                    Some(read) => read,
                    None => {
                        self.inner
                            .store
                            .get_user(tenant.id, ticket.requester)
                            .await?
                    }
                };
                let best = chunks.iter().find(|c| c.score > 0.0);
                let (body, source) = offline::template_draft(
                    &ticket,
                    customer.as_ref().map(|u| u.name.as_str()),
                    best,
                );
                let citations = best
                    .map(|b| citations_for(std::slice::from_ref(&b.chunk_id), &chunks))
                    .unwrap_or_default();
                (body, citations, source, None)
            }
        };
        let now = self.now();
        let draft = Message {
            id: MessageId::new(),
            tenant_id: tenant.id,
            ticket_id: ticket.id,
            author: None,
            author_kind: AuthorKind::Bot,
            kind: MessageKind::Draft,
            body,
            created_at: now,
            citations,
            email: None,
            draft: Some(DraftInfo {
                source,
                state: DraftState::Proposed,
                decided_at: None,
                sent_as: None,
                model: drafted_by,
            }),
        };
        let spent = usage.take(AiUseCase::Draft, now);
        // Plans on the ticket read above (no second read); a change meanwhile is a retry.
        let committed = self
            .mutate_ticket_from(&tenant, id, Some(ticket), |current| {
                let mut change = Change::of(current, now, Some(user.id));
                change.add_built_message(draft.clone());
                change.record_usage(spent.clone());
                Ok(change.finish())
            })
            .await;
        if let Err(e) = committed {
            self.record_usage_alone(tenant.id, &spent).await;
            return Err(e);
        }
        Ok(draft)
    }

    /// Records what an agent did with a draft: sent as is (Accepted), sent after editing
    /// (Edited) or thrown away (Discarded), with a `DraftDecided` event. A sent draft
    /// becomes a public agent reply exactly like [`Helpdesk::reply`] (first-response
    /// tracking, the requester is notified); a fallback label is removed before sending.
    pub async fn decide_draft(
        &self,
        actor: &Actor,
        ticket_id: TicketId,
        draft_id: MessageId,
        decision: DraftDecision,
    ) -> Result<DraftOutcome> {
        let (tenant, user, ticket) = self
            .checked_ticket(actor, Action::UseCopilot, ticket_id)
            .await?;
        let (draft, _) = self.proposed_draft(&ticket, draft_id).await?;
        let original = strip_label(&draft.body);
        let (state, body) = match &decision {
            DraftDecision::Send => (DraftState::Accepted, Some(original)),
            DraftDecision::SendEdited(text) => {
                let text = strip_label(&validate::body("body", text, true)?);
                if text.trim().is_empty() {
                    return Err(Error::validation("body", "must not be empty"));
                }
                let state = if text.trim() == original.trim() {
                    DraftState::Accepted
                } else {
                    DraftState::Edited
                };
                (state, Some(text))
            }
            DraftDecision::Discard => (DraftState::Discarded, None),
        };
        if body.is_some() {
            authorize(actor, Action::Reply)?;
            if ticket.merged_into.is_some() {
                return Err(StateError::TicketMerged {
                    number: ticket.number,
                }
                .into());
            }
        }
        let now = self.now();
        // Not `mutate_ticket`: the draft's state is re-read after the ticket on every
        // attempt, so of two concurrent decisions exactly one commits (the other one's
        // ticket version is stale, and on retry it sees the draft decided).
        let store = &self.inner.store;
        // Writers of this ticket in this process take turns (see `ticket_locks`).
        let _turn = self.inner.ticket_locks.turn(ticket_id).await;
        let attempts = self.inner.config.max_conflict_retries.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            let current = store
                .get_ticket(tenant.id, ticket_id)
                .await?
                .ok_or_else(|| Error::not_found("ticket", ticket_id))?;
            let (draft, info) = self.proposed_draft(&current, draft_id).await?;
            if body.is_some() && current.status == TicketStatus::Closed {
                return Err(Error::TicketClosed {
                    number: current.number,
                });
            }
            let mut change = Change::of(&current, now, Some(user.id));
            let reply = body
                .clone()
                .map(|b| add_agent_reply(&mut change, &tenant, user.id, b))
                .transpose()?;
            let mut decided = draft.clone();
            decided.draft = Some(DraftInfo {
                state,
                decided_at: Some(now),
                sent_as: reply.as_ref().map(|r| r.id),
                ..info
            });
            change.push(EventKind::DraftDecided {
                message_id: draft.id,
                state,
            });
            change.replace_message(decided.clone());
            let write = change.finish();
            match store.update_ticket(current.version, &write).await {
                Ok(()) => {
                    self.signal_commit(write.ticket.tenant_id);
                    return Ok(DraftOutcome {
                        draft: decided,
                        reply,
                        ticket: write.ticket,
                    });
                }
                // The one retry policy: a conflict or a temporary failure re-reads.
                Err(e) => last = Some(super::back_off(attempt, e).await?),
            }
        }
        Err(last.unwrap_or(Error::Conflict {
            entity: "ticket",
            id: ticket_id.to_string(),
            expected: 0,
        }))
    }

    /// A draft of `ticket` that is still undecided, with its draft information.
    async fn proposed_draft(
        &self,
        ticket: &Ticket,
        draft_id: MessageId,
    ) -> Result<(Message, DraftInfo)> {
        let draft = self
            .inner
            .store
            .get_message(ticket.tenant_id, draft_id)
            .await?
            .filter(|m| m.ticket_id == ticket.id && m.kind == MessageKind::Draft)
            .ok_or_else(|| Error::not_found("draft", draft_id))?;
        let info = draft
            .draft
            .clone()
            .ok_or(Error::Internal("a draft message without draft information"))?;
        if info.state != DraftState::Proposed {
            return Err(StateError::DraftDecided {
                state: format!("{:?}", info.state).to_lowercase(),
            }
            .into());
        }
        Ok((draft, info))
    }

    /// A short summary of a ticket with the customer's open questions, for agents. Written
    /// by the model when one is configured and allowed; otherwise (or when it fails) an
    /// extractive summary labelled as such.
    pub async fn summarize(&self, actor: &Actor, id: TicketId) -> Result<TicketSummary> {
        let (tenant, _, ticket) = self.checked_ticket(actor, Action::UseCopilot, id).await?;
        let thread = self.public_thread(&ticket).await?;
        if let Some(model) = self.suggestion_model(&tenant) {
            let usage = UsageTally::new();
            let request = prompts::summary_request(&ticket, &thread);
            let answered = output::generate_json_within::<SummaryAnswer>(
                &usage.metered(model),
                request,
                self.inner.config.model_timeout,
            )
            .await;
            // A summary writes nothing else: what it spent is recorded on its own.
            self.record_usage_alone(tenant.id, &usage.take(AiUseCase::Summary, self.now()))
                .await;
            match answered {
                Ok(answer) if !answer.summary.trim().is_empty() => {
                    return Ok(TicketSummary {
                        summary: output::bounded(&answer.summary, 1000),
                        open_questions: answer
                            .open_questions
                            .iter()
                            .map(|q| output::bounded(q, 300))
                            .filter(|q| !q.is_empty())
                            .take(10)
                            .collect(),
                        source: SummarySource::Llm,
                    });
                }
                Ok(_) => tracing::warn!(%id, "model wrote an empty summary; using extractive"),
                Err(e) => tracing::warn!(%id, error = %e, "summary model call failed"),
            }
        }
        Ok(offline::extractive_summary(&ticket, &thread))
    }

    /// The `k` (1..=50) knowledge-base chunks most related to a ticket, best first (empty
    /// without a knowledge base).
    pub async fn related_articles(
        &self,
        actor: &Actor,
        id: TicketId,
        k: usize,
    ) -> Result<Vec<ScoredChunk>> {
        let (tenant, _, ticket) = self.checked_ticket(actor, Action::UseCopilot, id).await?;
        if !(1..=50).contains(&k) {
            return Err(Error::validation("k", "must be 1..=50"));
        }
        self.kb_search(&tenant, &ticket_text(&ticket), k).await
    }

    async fn earlier_tickets(&self, ticket: &Ticket) -> Result<Vec<Ticket>> {
        let query = TicketQuery {
            requester: Some(ticket.requester),
            sort: TicketSort::Newest,
            limit: (EARLIER_TICKETS + 1) as u32,
            ..TicketQuery::default()
        };
        let mut page = self
            .inner
            .store
            .list_tickets(ticket.tenant_id, &query)
            .await?;
        page.items.retain(|t| t.id != ticket.id);
        page.items.truncate(EARLIER_TICKETS);
        Ok(page.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_stripped_before_sending() {
        for label in [
            offline::draft_label(DraftSource::Template, None),
            offline::draft_label(DraftSource::KbPassage, Some("Refunds")),
        ] {
            assert!(label.starts_with("[Suggested from a template"), "{label}");
            assert_eq!(strip_label(&format!("{label}\n\nHello")), "Hello");
        }
        assert_eq!(strip_label("Hello [x]"), "Hello [x]");
    }
}
