//! Automations: a tenant's rules of the form "when this happens to a ticket, and it looks
//! like this, do that". They live in [`TenantSettings::automations`](super::TenantSettings)
//! and are run by the engine ([`crate::service`]); each rule that runs leaves an
//! [`EventKind::AutomationApplied`](super::EventKind::AutomationApplied) event naming it,
//! followed by the events of its actions in the same commit.

use serde::{Deserialize, Serialize};

use super::{Channel, FieldValue, Priority, TicketStatus};
use crate::{CannedResponseId, UserId, WebhookId};

/// A rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutomationRule {
    /// Its key: a lowercase identifier unique in the tenant (`vip_to_urgent`), named by
    /// the events it leaves.
    pub key: String,
    /// What people call it.
    pub name: String,
    /// Switched off rules never run (and can still be tested).
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// When it is considered.
    pub trigger: AutomationTrigger,
    /// What the ticket must look like (all of them; none: any ticket).
    #[serde(default)]
    pub conditions: Vec<AutomationCondition>,
    /// What it does, in order (at least one).
    pub actions: Vec<AutomationAction>,
}

fn enabled() -> bool {
    true
}

/// When a rule is considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AutomationTrigger {
    /// A ticket was opened.
    Created,
    /// The requester wrote on the ticket (a reply or a chat message).
    CustomerReplied,
    /// Anything changed on an existing ticket (by a person, the bot, a sweep or another
    /// rule).
    Updated,
    /// An SLA target was missed.
    SlaBreached,
    /// The ticket has been in `status` with no change for `hours` (checked by the
    /// automation sweep; runs once per such quiet spell, since running changes the ticket).
    Idle {
        /// The status it waits in.
        status: TicketStatus,
        /// How long, in hours (1 ..= 8760).
        hours: u32,
    },
    /// The ticket's next SLA target (its first response, else its resolution) is due
    /// within `minutes` and nobody changed the ticket since that window opened (checked by
    /// the automation sweep; runs once per target, since running changes the ticket).
    SlaDueSoon {
        /// How long before the due time, in minutes (1 ..= 10080).
        minutes: u32,
    },
}

/// A condition on the ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AutomationCondition {
    /// The status is one of these.
    Status {
        /// The statuses.
        any_of: Vec<TicketStatus>,
    },
    /// The priority is one of these.
    Priority {
        /// The priorities.
        any_of: Vec<Priority>,
    },
    /// The channel is one of these.
    Channel {
        /// The channels.
        any_of: Vec<Channel>,
    },
    /// The category is one of these.
    Category {
        /// The categories.
        any_of: Vec<String>,
    },
    /// It carries this tag.
    HasTag {
        /// The tag.
        tag: String,
    },
    /// It does not carry this tag.
    LacksTag {
        /// The tag.
        tag: String,
    },
    /// A custom field holds this value (a multi-select: among its options), as the token
    /// `key=value` of [`field_token`](super::field_token).
    Field {
        /// The token.
        token: String,
    },
    /// Nobody is assigned.
    Unassigned,
    /// The change happens inside (`true`) or outside (`false`) the tenant's business hours.
    BusinessHours {
        /// Inside or outside.
        inside: bool,
    },
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AutomationAction {
    /// Moves the ticket to a status (as the system: the lifecycle table applies).
    SetStatus {
        /// The status.
        status: TicketStatus,
    },
    /// Sets the priority (SLA due times follow).
    SetPriority {
        /// The priority.
        priority: Priority,
    },
    /// Adds tags.
    AddTags {
        /// The tags.
        tags: Vec<String>,
    },
    /// Removes tags.
    RemoveTags {
        /// The tags.
        tags: Vec<String>,
    },
    /// Assigns the ticket to an active agent or admin, or to nobody.
    Assign {
        /// The user; `None` unassigns.
        to: Option<UserId>,
    },
    /// Sets (or with `None` empties) a custom field.
    SetField {
        /// The field's key.
        key: String,
        /// The value.
        value: Option<FieldValue>,
    },
    /// Adds an internal note (plain text, signed by the rule).
    AddNote {
        /// The text.
        text: String,
    },
    /// Notifies people: the assignee (or the tenant's admins when nobody is assigned), or
    /// the listed users.
    Notify {
        /// The users; empty: the assignee, else the admins.
        users: Vec<UserId>,
    },
    /// Sends one of the tenant's shared canned responses, its placeholders filled in for
    /// the ticket (`{{agent.name}}` is the assignee, or the company when nobody is
    /// assigned): a public reply from the system that the customer is notified of, or a
    /// note for an internal one. It counts as a use of the canned response. Its own
    /// actions are not applied: the rule lists the actions it takes. An automatic reply
    /// does not stop the first-response clock (an agent's reply does).
    SendCannedResponse {
        /// The shared canned response.
        canned_response: CannedResponseId,
    },
    /// Calls one of the tenant's webhook endpoints: the rule's `automation_applied` event
    /// (naming the rule and the ticket) is posted to it, signed and retried like every
    /// webhook delivery, whatever kinds of event the endpoint subscribed to.
    CallWebhook {
        /// The endpoint.
        webhook: WebhookId,
    },
}

impl AutomationTrigger {
    /// The snake_case name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::CustomerReplied => "customer_replied",
            Self::Updated => "updated",
            Self::SlaBreached => "sla_breached",
            Self::Idle { .. } => "idle",
            Self::SlaDueSoon { .. } => "sla_due_soon",
        }
    }

    /// Whether the automation sweep runs it (a time-based trigger), rather than a change.
    pub const fn is_timed(&self) -> bool {
        matches!(self, Self::Idle { .. } | Self::SlaDueSoon { .. })
    }
}
