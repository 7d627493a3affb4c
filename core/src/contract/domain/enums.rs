//! Small closed vocabularies with stable string forms for storage columns and JSON.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

macro_rules! string_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $field:literal { $( $(#[$vdoc:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable string form used in storage and JSON.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $( Self::$variant => $text ),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $( $text => Ok(Self::$variant), )+
                    other => Err(Error::validation(
                        $field,
                        format!(
                            "{other:?} is not one of {}",
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

string_enum!(
    /// What a user may do.
    Role, "role" {
        /// Raises tickets and sees only their own.
        Customer = "customer",
        /// Works the tenant's queue.
        Agent = "agent",
        /// Configures the tenant; can do everything an agent can.
        Admin = "admin",
    }
);

string_enum!(
    /// Where a ticket is in its lifecycle.
    TicketStatus, "status" {
        /// Just created, not yet looked at.
        New = "new",
        /// Acknowledged, waiting for an agent.
        Open = "open",
        /// An agent is working on it.
        InProgress = "in_progress",
        /// Waiting on the customer (SLA clock paused).
        Pending = "pending",
        /// Needs a human (chatbot handoff or manual escalation).
        Escalated = "escalated",
        /// Solved; the customer may still reopen within the reopen window.
        Resolved = "resolved",
        /// Final.
        Closed = "closed",
    }
);

impl TicketStatus {
    /// Statuses counted as open work (backlog, agent load).
    pub const fn is_open(&self) -> bool {
        !matches!(self, Self::Resolved | Self::Closed)
    }
}

string_enum!(
    /// How urgent a ticket is.
    Priority, "priority" {
        /// Low.
        Low = "low",
        /// Medium (the default).
        Medium = "medium",
        /// High.
        High = "high",
        /// Urgent.
        Urgent = "urgent",
    }
);

impl Priority {
    /// Sort rank: higher is more urgent (Low = 0 .. Urgent = 3).
    pub const fn rank(&self) -> u8 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
            Self::Urgent => 3,
        }
    }

    /// The priority of a rank (inverse of [`Priority::rank`]).
    pub const fn from_rank(rank: u8) -> Option<Self> {
        match rank {
            0 => Some(Self::Low),
            1 => Some(Self::Medium),
            2 => Some(Self::High),
            3 => Some(Self::Urgent),
            _ => None,
        }
    }
}

string_enum!(
    /// Where a ticket came from.
    Channel, "channel" {
        /// The web form.
        Form = "form",
        /// The customer chatbot.
        Chat = "chat",
        /// Inbound e-mail.
        Email = "email",
        /// The host app's API.
        Api = "api",
    }
);

string_enum!(
    /// The customer's mood as triage read it.
    Sentiment, "sentiment" {
        /// Unhappy.
        Negative = "negative",
        /// Neither.
        Neutral = "neutral",
        /// Happy.
        Positive = "positive",
    }
);

string_enum!(
    /// How much the AI may do on its own in a tenant.
    AiAutonomy, "ai_autonomy" {
        /// No model calls at all.
        Off = "off",
        /// Drafts, summaries and related articles for agents only.
        Suggest = "suggest",
        /// Suggest, plus AI triage at intake.
        AutoTriage = "auto_triage",
        /// Auto-triage, plus the customer chatbot answering on its own.
        AutoReply = "auto_reply",
    }
);

impl AiAutonomy {
    /// Whether agent-facing suggestions (drafts, summaries) may call a model.
    pub const fn allows_suggestions(&self) -> bool {
        !matches!(self, Self::Off)
    }

    /// Whether intake may use a model to triage.
    pub const fn allows_ai_triage(&self) -> bool {
        matches!(self, Self::AutoTriage | Self::AutoReply)
    }

    /// Whether the chatbot may answer customers by itself.
    pub const fn allows_auto_reply(&self) -> bool {
        matches!(self, Self::AutoReply)
    }
}

string_enum!(
    /// Which classifier produced a triage result.
    TriageSource, "triage_source" {
        /// Keyword and phrase rules.
        Rules = "rules",
        /// A language model with a JSON schema.
        Llm = "llm",
        /// A model trained on the tenant's resolved tickets.
        Learned = "learned",
        /// No classifier answered; tenant defaults were used.
        Default = "default",
    }
);

string_enum!(
    /// Which SLA target.
    SlaKind, "sla_kind" {
        /// Time to the first agent reply.
        FirstResponse = "first_response",
        /// Time to resolution.
        Resolution = "resolution",
    }
);

string_enum!(
    /// What the engine called a language model for: the rows of the AI cost report.
    AiUseCase, "use_case" {
        /// Classifying a new ticket.
        Triage = "triage",
        /// Drafting a reply for an agent.
        Draft = "draft",
        /// Summarising a ticket for an agent.
        Summary = "summary",
        /// Answering a customer in the chat.
        Chat = "chat",
    }
);
