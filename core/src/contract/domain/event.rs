//! The append-only audit log. A ticket is exactly the fold of its events.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{
    AuthorKind, Csat, DraftState, MessageKind, Priority, Sentiment, SlaKind, SlaState, Ticket,
    TicketStatus, Triage,
};
use crate::{CannedResponseId, EventId, MessageId, TenantId, TicketId, UserId};

/// One audit event of one ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Id (UUID v7).
    pub id: EventId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The ticket.
    pub ticket_id: TicketId,
    /// The ticket version this event's commit produced (several events may share one).
    pub version: u64,
    /// When it happened.
    pub at: Timestamp,
    /// Who caused it (none for the system: sweeps, the chatbot).
    pub actor: Option<UserId>,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// The ticket was created with this initial state.
    Created {
        /// The ticket as first stored (before triage, SLA and assignment).
        ticket: Box<Ticket>,
    },
    /// Triage set category, priority, skills, sentiment and language.
    Triaged {
        /// The accepted result and the fallbacks before it.
        triage: Triage,
        /// Category.
        category: Option<String>,
        /// Priority.
        priority: Priority,
        /// Required skills.
        required_skills: Vec<String>,
        /// Sentiment.
        sentiment: Option<Sentiment>,
        /// Language.
        language: Option<String>,
    },
    /// SLA due times were (re)computed.
    SlaScheduled {
        /// The new SLA state.
        sla: SlaState,
    },
    /// The assignee changed.
    Assigned {
        /// Previous assignee.
        from: Option<UserId>,
        /// New assignee (none = unassigned).
        to: Option<UserId>,
    },
    /// The status changed.
    StatusChanged {
        /// Previous status.
        from: TicketStatus,
        /// New status.
        to: TicketStatus,
    },
    /// A customer reply reopened a resolved ticket.
    Reopened {
        /// The status it left (Resolved).
        from: TicketStatus,
    },
    /// The priority changed.
    PriorityChanged {
        /// Previous.
        from: Priority,
        /// New.
        to: Priority,
    },
    /// The category changed.
    CategoryChanged {
        /// New category.
        to: Option<String>,
    },
    /// The ticket was given to a team, or taken from one.
    TeamChanged {
        /// The team's key; `None`: no team.
        to: Option<String>,
    },
    /// The tags were replaced.
    TagsChanged {
        /// New tags.
        tags: Vec<String>,
    },
    /// An automation rule ran: the events after it in the same commit, up to the next
    /// rule's, are its actions.
    AutomationApplied {
        /// The rule's key.
        rule: String,
        /// Its name when it ran.
        name: String,
        /// Actions it could not take, and why (`set_status: closed is not allowed from
        /// new`); the others were taken.
        #[serde(default)]
        skipped: Vec<String>,
        /// The webhook endpoints the rule calls: each is posted this event, whatever
        /// kinds of event it subscribed to.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        webhooks: Vec<crate::WebhookId>,
    },
    /// The custom field values were replaced.
    CustomFieldsChanged {
        /// Every value after the change, by field key.
        fields: std::collections::BTreeMap<String, super::FieldValue>,
    },
    /// A message was added.
    MessageAdded {
        /// The message.
        message_id: MessageId,
        /// Its kind.
        kind: MessageKind,
        /// Its author kind.
        author_kind: AuthorKind,
    },
    /// An agent decided what to do with an AI draft.
    DraftDecided {
        /// The draft.
        message_id: MessageId,
        /// The decision.
        state: DraftState,
    },
    /// This duplicate was merged into another ticket (and closed).
    Merged {
        /// The surviving ticket.
        into: TicketId,
    },
    /// Another ticket was merged into this one.
    MergedFrom {
        /// The duplicate.
        source: TicketId,
    },
    /// An SLA target was missed.
    SlaBreached {
        /// Which target.
        kind: SlaKind,
    },
    /// The requester rated the resolution.
    CsatRecorded {
        /// The rating.
        csat: Csat,
    },
    /// A follow-up ticket was opened because of a message on this closed ticket.
    FollowUpOpened {
        /// The new ticket.
        ticket_id: TicketId,
    },
    /// A canned response was applied: its text and actions are the other events of the
    /// same change. Counted for the response's usage.
    CannedResponseApplied {
        /// The response.
        canned_response: CannedResponseId,
        /// Its name when applied.
        name: String,
    },
    /// The ticket's personal data was erased: the texts of its earlier events and of its
    /// messages were replaced and its files removed in the same commit (see
    /// [`crate::erasure`]).
    PersonalDataErased {
        /// Why.
        reason: ErasureReason,
    },
}

/// Why a ticket's personal data was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErasureReason {
    /// An admin erased the requester's data (a data subject's erasure request).
    CustomerRequest,
    /// The tenant's retention policy: the ticket was older than it keeps tickets.
    Retention,
}

impl EventKind {
    /// Every [`name`](Self::name), in declaration order (what a webhook endpoint may
    /// subscribe to). A new kind adds its name here and in `name`.
    pub const NAMES: &'static [&'static str] = &[
        "created",
        "triaged",
        "sla_scheduled",
        "assigned",
        "status_changed",
        "reopened",
        "priority_changed",
        "category_changed",
        "team_changed",
        "tags_changed",
        "automation_applied",
        "custom_fields_changed",
        "message_added",
        "draft_decided",
        "merged",
        "merged_from",
        "sla_breached",
        "csat_recorded",
        "follow_up_opened",
        "canned_response_applied",
        "personal_data_erased",
    ];

    /// A short stable name (`"status_changed"`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Created { .. } => "created",
            Self::Triaged { .. } => "triaged",
            Self::SlaScheduled { .. } => "sla_scheduled",
            Self::Assigned { .. } => "assigned",
            Self::StatusChanged { .. } => "status_changed",
            Self::Reopened { .. } => "reopened",
            Self::PriorityChanged { .. } => "priority_changed",
            Self::CategoryChanged { .. } => "category_changed",
            Self::TeamChanged { .. } => "team_changed",
            Self::TagsChanged { .. } => "tags_changed",
            Self::CustomFieldsChanged { .. } => "custom_fields_changed",
            Self::AutomationApplied { .. } => "automation_applied",
            Self::MessageAdded { .. } => "message_added",
            Self::DraftDecided { .. } => "draft_decided",
            Self::Merged { .. } => "merged",
            Self::MergedFrom { .. } => "merged_from",
            Self::SlaBreached { .. } => "sla_breached",
            Self::CsatRecorded { .. } => "csat_recorded",
            Self::FollowUpOpened { .. } => "follow_up_opened",
            Self::CannedResponseApplied { .. } => "canned_response_applied",
            Self::PersonalDataErased { .. } => "personal_data_erased",
        }
    }
}

impl Ticket {
    /// Applies one event. The service builds every change as events and applies them with
    /// this function, so a ticket folded from its stored events equals the stored ticket.
    pub fn apply(&mut self, event: &Event) {
        match &event.kind {
            EventKind::Created { ticket } => {
                *self = (**ticket).clone();
            }
            EventKind::Triaged {
                triage,
                category,
                priority,
                required_skills,
                sentiment,
                language,
            } => {
                self.triage = Some(triage.clone());
                self.category.clone_from(category);
                self.priority = *priority;
                self.required_skills.clone_from(required_skills);
                self.sentiment = *sentiment;
                self.language.clone_from(language);
            }
            EventKind::SlaScheduled { sla } => self.sla = sla.clone(),
            EventKind::Assigned { to, .. } => self.assignee = *to,
            EventKind::StatusChanged { from, to } => self.set_status(*from, *to, event.at),
            EventKind::Reopened { from } => self.set_status(*from, TicketStatus::Open, event.at),
            EventKind::PriorityChanged { to, .. } => self.priority = *to,
            EventKind::CategoryChanged { to } => self.category.clone_from(to),
            EventKind::TeamChanged { to } => self.team.clone_from(to),
            EventKind::TagsChanged { tags } => self.tags.clone_from(tags),
            EventKind::CustomFieldsChanged { fields } => self.custom_fields.clone_from(fields),
            EventKind::MessageAdded {
                kind, author_kind, ..
            } => {
                if matches!(kind, MessageKind::Reply | MessageKind::Chat)
                    && *author_kind == AuthorKind::Agent
                    && self.first_response_at.is_none()
                {
                    self.first_response_at = Some(event.at);
                }
            }
            EventKind::Merged { into } => {
                self.merged_into = Some(*into);
                if self.status != TicketStatus::Closed {
                    self.set_status(self.status, TicketStatus::Closed, event.at);
                }
            }
            EventKind::SlaBreached { kind } => match kind {
                SlaKind::FirstResponse => self.sla.first_response_breached = true,
                SlaKind::Resolution => self.sla.resolution_breached = true,
            },
            EventKind::CsatRecorded { csat } => self.csat = Some(csat.clone()),
            EventKind::PersonalDataErased { .. } => self.erased_at = Some(event.at),
            EventKind::DraftDecided { .. }
            | EventKind::MergedFrom { .. }
            | EventKind::FollowUpOpened { .. }
            | EventKind::CannedResponseApplied { .. }
            | EventKind::AutomationApplied { .. } => {}
        }
        self.version = event.version;
        self.updated_at = event.at;
    }

    fn set_status(&mut self, from: TicketStatus, to: TicketStatus, at: Timestamp) {
        self.status = to;
        if to == TicketStatus::Pending {
            self.sla.paused_since = Some(at);
        } else if from == TicketStatus::Pending {
            self.sla.paused_since = None;
        }
        match to {
            TicketStatus::Resolved => self.resolved_at = Some(at),
            TicketStatus::Closed => self.closed_at = Some(at),
            _ if !to.is_open() => {}
            _ => {
                if !from.is_open() {
                    self.resolved_at = None;
                }
            }
        }
    }

    /// Folds events (in order) into a ticket; `None` when the first event is not `Created`.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Ticket> {
        let mut events = events.into_iter();
        let first = events.next()?;
        let EventKind::Created { ticket } = &first.kind else {
            return None;
        };
        let mut ticket = (**ticket).clone();
        ticket.apply(first);
        for event in events {
            ticket.apply(event);
        }
        Some(ticket)
    }
}
