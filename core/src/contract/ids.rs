//! Newtype identifiers. Every id is a UUID v7 (time ordered), serialised as its string form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUID v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (for backends reading stored ids).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// What this id names, for error messages (`"ticket"`, `"user"`, ...).
            pub const KIND: &'static str = $label;
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = crate::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| crate::Error::Validation {
                    field: concat!($label, "_id").into(),
                    message: format!("{s:?} is not a valid id"),
                })
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }
    };
}

id_type!(
    /// A tenant (one company using the helpdesk).
    TenantId, "tenant");
id_type!(
    /// A user of one tenant: customer, agent or admin.
    UserId, "user");
id_type!(
    /// A ticket.
    TicketId, "ticket");
id_type!(
    /// A message on a ticket (reply, note, chat turn or draft).
    MessageId, "message");
id_type!(
    /// An audit event.
    EventId, "event");
id_type!(
    /// A record of an administrative change (users, roles, tenant settings, articles).
    AuditEventId, "audit_event");
id_type!(
    /// A knowledge-base article.
    ArticleId, "article");
id_type!(
    /// A chatbot conversation.
    ChatSessionId, "chat_session");
id_type!(
    /// A notification waiting in the outbox.
    OutboxId, "outbox");
id_type!(
    /// A per-tenant API key for integrations.
    ApiKeyId, "api_key");
id_type!(
    /// A tenant's webhook endpoint.
    WebhookId, "webhook");
id_type!(
    /// A file attached to a message.
    AttachmentId, "attachment");
id_type!(
    /// A canned response (macro): a reply text with placeholders and actions.
    CannedResponseId, "canned_response");
id_type!(
    /// A saved view of the ticket queue.
    SavedViewId, "saved_view");
id_type!(
    /// A raw e-mail held in quarantine (malformed, oversized, rate-limited, refused, ...).
    QuarantineId, "quarantine");
