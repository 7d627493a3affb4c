//! The error contract shared by every crate of the workspace.
//!
//! Backends keep their own private error enums and convert into [`Error`] with `From`,
//! keeping the source chain. A message is printed in `Display` or returned from
//! `source()`, never both.

use std::borrow::Cow;
use std::time::Duration;

use crate::domain::{Role, TicketStatus};

/// A boxed error source that crosses crate boundaries.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias for the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What was duplicated when a unique constraint was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DuplicateKind {
    /// A user e-mail already used in the tenant.
    Email,
    /// A tenant slug already taken.
    TenantSlug,
    /// A per-tenant ticket number already allocated.
    TicketNumber,
    /// An idempotency key already used in the tenant.
    IdempotencyKey,
    /// A name already used where names are unique (a canned response's name in its
    /// scope: the tenant's shared ones, or one agent's own).
    Name,
    /// Any other unique value (an id written twice).
    Id,
}

impl std::fmt::Display for DuplicateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Email => "email",
            Self::TenantSlug => "tenant slug",
            Self::TicketNumber => "ticket number",
            Self::IdempotencyKey => "idempotency key",
            Self::Name => "name",
            Self::Id => "id",
        })
    }
}

/// The one error type of the helpdesk contract.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input failed validation; `field` names it (`"subject"`, `"tags[3]"`).
    #[error("invalid {field}: {message}")]
    Validation {
        /// The offending field.
        field: Cow<'static, str>,
        /// What is wrong with it.
        message: String,
    },
    /// The entity does not exist in the caller's tenant (ids of other tenants also land here).
    #[error("{entity} {id} not found")]
    NotFound {
        /// `"ticket"`, `"user"`, ...
        entity: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// No credentials, bad credentials, or an expired session.
    #[error("not authenticated: {reason}")]
    Unauthenticated {
        /// Why authentication failed (never echoes a secret).
        reason: &'static str,
    },
    /// The actor's role may not perform the action.
    #[error("a {role} may not {action}")]
    Forbidden {
        /// The action that was refused.
        action: &'static str,
        /// The actor's role.
        role: Role,
    },
    /// The lifecycle table forbids this move for this role.
    #[error("a {role} may not move a ticket from {from} to {to}")]
    IllegalTransition {
        /// Current status.
        from: TicketStatus,
        /// Requested status.
        to: TicketStatus,
        /// The actor's role.
        role: Role,
    },
    /// The operation is not allowed in the entity's current state (CSAT twice, reply on a
    /// merged ticket, ...); the reason is typed, so callers can tell the cases apart
    /// without reading the message.
    #[error(transparent)]
    InvalidState(#[from] StateError),
    /// The ticket is Closed, which is final: nothing more is added to its thread. A
    /// customer's reply to a closed ticket opens a linked follow-up ticket instead
    /// ([`Helpdesk::reply`](crate::Helpdesk::reply)); staff who want to write to the
    /// customer again open a new ticket for them.
    #[error("ticket #{number} is closed; open a follow-up ticket instead")]
    TicketClosed {
        /// The closed ticket's number.
        number: u64,
    },
    /// A write meant to open a chat session's ticket found that the session already has
    /// one (another first message won the race). Nothing was written; the service joins
    /// the message to the session's ticket instead, so callers of `Helpdesk` do not see
    /// it.
    #[error("chat session {session} already has a ticket")]
    ChatSessionLinked {
        /// The session.
        session: String,
    },
    /// An inbound e-mail's sender may not open or answer a ticket this way (unknown to a
    /// tenant that does not take sign-ups, or staff writing a new ticket to the support
    /// address). Nothing was written; the mail crate quarantines such a mail.
    #[error("e-mail from {address} refused: {reason}")]
    SenderRefused {
        /// The sender's address, as the mail gave it.
        address: String,
        /// Why, for the quarantine and the logs.
        reason: &'static str,
    },
    /// Optimistic concurrency: somebody else changed the entity first.
    #[error("{entity} {id} was changed concurrently (expected version {expected})")]
    Conflict {
        /// `"ticket"`, `"chat_session"`, ...
        entity: &'static str,
        /// The id of the entity.
        id: String,
        /// The version the writer expected.
        expected: u64,
    },
    /// A conditional write found the entity at another version than the caller named (an
    /// HTTP `If-Match` that no longer holds); nothing was written.
    #[error("{entity} {id} is at version {found}, not {expected}")]
    PreconditionFailed {
        /// `"ticket"`, `"article"`, ...
        entity: &'static str,
        /// The id of the entity.
        id: String,
        /// The version the caller named.
        expected: u64,
        /// The version found.
        found: u64,
    },
    /// A unique value is already taken.
    #[error("duplicate {kind}: {value}")]
    Duplicate {
        /// What kind of value.
        kind: DuplicateKind,
        /// The value (never a secret).
        value: String,
    },
    /// A builder or configuration value is missing or wrong.
    #[error("configuration error in {field}: {message}")]
    Configuration {
        /// The field or setting.
        field: Cow<'static, str>,
        /// What is wrong.
        message: String,
    },
    /// The database was written by a newer version of the engine: its schema version is
    /// higher than the one this build knows, so the store refuses to open it and writes
    /// nothing to it (an older engine could corrupt what a newer one wrote). Upgrade the
    /// engine, or point it at another database.
    #[error(
        "the {backend} schema of {database} is at version {found}, newer than version \
         {supported} that this build knows; nothing was written to it"
    )]
    SchemaTooNew {
        /// `"sqlite"`, `"mongodb"`, ...
        backend: &'static str,
        /// Which database: a file path and table, a database and collection prefix.
        database: String,
        /// The schema version found in the database.
        found: u64,
        /// The newest schema version this build can read and write.
        supported: u64,
    },
    /// A language model or embedder failed.
    #[error("language model error")]
    Model(#[from] ModelError),
    /// An invariant of the engine did not hold (a bug, never a user's mistake): for
    /// example a change that was committed without the message it was built to store.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// A storage, index or transport failure.
    #[error("{backend} failed{}", if *temporary { " (temporary)" } else { "" })]
    Backend {
        /// `"sqlite"`, `"mongodb"`, `"hnsw"`, ...
        backend: &'static str,
        /// Whether retrying the same call may succeed (SQLite BUSY, HTTP 503, ...).
        temporary: bool,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// Shorthand for a validation error.
    pub fn validation(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for a not-found error.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// Shorthand for a backend error.
    pub fn backend(backend: &'static str, temporary: bool, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            backend,
            temporary,
            source: source.into(),
        }
    }

    /// Whether the same call may succeed if retried (conflicts, busy databases, overloaded
    /// models).
    pub fn is_temporary(&self) -> bool {
        match self {
            Self::Backend { temporary, .. } => *temporary,
            Self::Conflict { .. } => true,
            Self::Model(m) => m.is_temporary(),
            _ => false,
        }
    }
}

/// Why an operation is not allowed in the current state of a ticket, chat session, draft
/// or user ([`Error::InvalidState`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The ticket was merged into another one: work happens there.
    #[error("ticket #{number} was merged into another ticket; reply there")]
    TicketMerged {
        /// The merged ticket's number.
        number: u64,
    },
    /// A merge of a ticket that is already merged.
    #[error("ticket #{number} is already merged")]
    AlreadyMerged {
        /// The duplicate's number.
        number: u64,
    },
    /// A merge into a ticket that is closed or merged itself.
    #[error("ticket #{number} is closed or merged and cannot receive a merge")]
    CannotReceiveMerge {
        /// The target's number.
        number: u64,
    },
    /// A merge of a ticket that other tickets were merged into (it would make a chain).
    #[error("other tickets were merged into ticket #{number}; merge #{target} into it instead")]
    ReceivedMerges {
        /// The duplicate's number.
        number: u64,
        /// The intended target's number.
        target: u64,
    },
    /// A closed ticket cannot be changed this way (`action`: "edited", "reassigned").
    #[error("a closed ticket cannot be {action}")]
    ClosedTicket {
        /// What was refused.
        action: &'static str,
    },
    /// A customer's reopen after the tenant's reopen window.
    #[error("the reopen window has passed; reply to open a follow-up")]
    ReopenWindowPassed,
    /// A rating of a ticket that is not resolved (or was merged).
    #[error("only a resolved ticket can be rated")]
    NotRateable,
    /// A second rating.
    #[error("this ticket was already rated")]
    AlreadyRated,
    /// A turn or reply in a closed chat session.
    #[error("this chat session is closed; start a new one")]
    ChatClosed,
    /// An agent's reply in a session the customer has not written in yet.
    #[error("the customer has not written in this session yet")]
    ChatNotStarted,
    /// A turn on a chat whose ticket was closed or merged.
    #[error("the chat ticket is closed; start a new chat")]
    ChatTicketClosed,
    /// Handing back a session that no human handles.
    #[error("only a session a human handles can be handed back")]
    NotWithHuman,
    /// A decision on a draft that was already accepted, edited or discarded.
    #[error("this draft was already decided ({state})")]
    DraftDecided {
        /// The earlier decision.
        state: String,
    },
    /// A customer sign-up at a tenant whose settings close self-registration.
    #[error("this company does not take sign-ups; ask its support team for an account")]
    RegistrationClosed,
    /// A suggested reply with nothing to build it from. Not produced by
    /// [`Helpdesk::suggest_reply`](crate::Helpdesk::suggest_reply) any more (it falls back
    /// to a template); kept for hosts that match on it.
    #[error("no suggestion available")]
    NothingToSuggest,
    /// Demoting or deactivating the tenant's last active admin.
    #[error("the last active admin cannot be demoted or deactivated")]
    LastAdmin,
}

impl StateError {
    /// A short stable name for the case (`"ticket_merged"`), for API clients that branch
    /// on it without reading the message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TicketMerged { .. } => "ticket_merged",
            Self::AlreadyMerged { .. } => "already_merged",
            Self::CannotReceiveMerge { .. } => "cannot_receive_merge",
            Self::ReceivedMerges { .. } => "received_merges",
            Self::ClosedTicket { .. } => "closed_ticket",
            Self::ReopenWindowPassed => "reopen_window_passed",
            Self::NotRateable => "not_rateable",
            Self::AlreadyRated => "already_rated",
            Self::ChatClosed => "chat_closed",
            Self::ChatNotStarted => "chat_not_started",
            Self::ChatTicketClosed => "chat_ticket_closed",
            Self::NotWithHuman => "not_with_human",
            Self::DraftDecided { .. } => "draft_decided",
            Self::RegistrationClosed => "registration_closed",
            Self::NothingToSuggest => "nothing_to_suggest",
            Self::LastAdmin => "last_admin",
        }
    }
}

/// Why a model's safety system refused a prompt or an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockReason {
    /// Safety filters.
    Safety,
    /// A term block list.
    Blocklist,
    /// Prohibited content.
    ProhibitedContent,
    /// Recitation of training data.
    Recitation,
    /// Personally identifiable information.
    Spii,
    /// Any other or unknown reason, as the provider named it.
    Other(String),
}

impl std::fmt::Display for BlockReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Safety => f.write_str("safety"),
            Self::Blocklist => f.write_str("blocklist"),
            Self::ProhibitedContent => f.write_str("prohibited content"),
            Self::Recitation => f.write_str("recitation"),
            Self::Spii => f.write_str("personal information"),
            Self::Other(s) => write!(f, "other ({s})"),
        }
    }
}

/// Errors of a [`LanguageModel`](crate::LanguageModel) or [`Embedder`](crate::Embedder).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The provider rate-limited the call; `retry_after` is its hint when it gave one.
    #[error("rate limited by the model provider")]
    RateLimited {
        /// The provider's suggested delay.
        retry_after: Option<Duration>,
        /// The provider's message.
        message: String,
    },
    /// The provider is overloaded or failing (HTTP 5xx).
    #[error("model provider unavailable (status {status}): {message}")]
    Unavailable {
        /// HTTP status (or 0 for transport failures).
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The request was rejected as malformed.
    #[error("invalid model request: {message}")]
    InvalidRequest {
        /// The provider's message.
        message: String,
    },
    /// The prompt (system prompt, turns and the room asked for the answer) is longer than
    /// the model's context window. Not temporary: the same request fails the same way, so
    /// it is not retried and does not count against the provider's health; the caller may
    /// shorten the conversation, or ask a model with a larger window.
    #[error("the prompt does not fit the model's context window: {message}")]
    ContextOverflow {
        /// The provider's message (it usually names the window and the prompt's size).
        message: String,
    },
    /// Missing or wrong credentials.
    #[error("model authentication failed: {message}")]
    Authentication {
        /// The provider's message (never the key).
        message: String,
    },
    /// The model id does not exist.
    #[error("model not found: {message}")]
    NotFound {
        /// The provider's message.
        message: String,
    },
    /// The prompt or answer was blocked.
    #[error("blocked by the model's safety system: {reason}")]
    Blocked {
        /// Why.
        reason: BlockReason,
    },
    /// The call did not finish in time.
    #[error("model call timed out after {0:?}")]
    Timeout(Duration),
    /// The answer was cut off (max tokens) and cannot be used.
    #[error("model output truncated")]
    Truncated,
    /// The answer did not match the requested schema.
    #[error("malformed model output: {message}")]
    MalformedOutput {
        /// What did not match (never the whole output).
        message: String,
    },
    /// The call was not made: the model failed repeatedly and the helpdesk's circuit
    /// breaker sends every use-case to its offline path until a trial call succeeds.
    #[error("model skipped while degraded ({reason})")]
    CircuitOpen {
        /// The kind of failure that opened the breaker (`"rate_limited"`, ...).
        reason: &'static str,
    },
    /// Loading or running a local model failed.
    #[error("{provider} failed")]
    Provider {
        /// `"fastembed"`, `"gemini"`, ...
        provider: &'static str,
        /// Whether a retry may help.
        temporary: bool,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl ModelError {
    /// Whether a retry may succeed.
    pub fn is_temporary(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Unavailable { .. } | Self::Timeout(_) => true,
            Self::Provider { temporary, .. } => *temporary,
            _ => false,
        }
    }

    /// A short machine-friendly name of the failure kind, recorded as a triage fallback
    /// reason (`"rate_limited"`, `"timeout"`, ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::ContextOverflow { .. } => "context_overflow",
            Self::Authentication { .. } => "authentication",
            Self::NotFound { .. } => "not_found",
            Self::Blocked { .. } => "blocked",
            Self::Timeout(_) => "timeout",
            Self::Truncated => "truncated",
            Self::MalformedOutput { .. } => "malformed_output",
            Self::Provider { .. } => "provider",
            Self::CircuitOpen { .. } => "circuit_open",
        }
    }
}
