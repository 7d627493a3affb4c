//! Domain types: tenants, users, tickets, messages, events, articles, chat sessions, the
//! outbox and the audit trail of administrative changes.

mod api_key;
mod attachment;
mod audit;
mod automation;
mod canned;
mod enums;
mod event;
mod fields;
mod message;
mod misc;
mod team;
mod tenant;
mod ticket;
mod usage;
mod user;
mod view;
mod webhook;

pub use api_key::ApiKey;
pub use attachment::{
    Attachment, MAX_FILE_NAME_CHARS, SAFE_IMAGE_TYPES, Sha256, sanitize_file_name,
    sniff_content_type,
};
pub use audit::{AuditEvent, AuditKind, RoleChange};
pub use automation::{AutomationAction, AutomationCondition, AutomationRule, AutomationTrigger};
pub use canned::{
    CannedActions, CannedAssign, CannedResponse, FIELD_PLACEHOLDER_PREFIX, Placeholder,
    TemplateError, TemplatePart, fold_name, parse_template, render_template,
};
pub use enums::{
    AiAutonomy, AiUseCase, Channel, Priority, Role, Sentiment, SlaKind, TicketStatus, TriageSource,
};
pub use event::{ErasureReason, Event, EventKind};
pub use fields::{CustomFieldDef, FieldKind, FieldValue, field_token, field_tokens, format_number};
pub use message::{
    AuthorKind, Citation, DraftInfo, DraftSource, DraftState, EmailHeaders, Message, MessageKind,
};
pub use misc::{Article, ChatSession, ChatState, Notification, NotificationKind, OutboxEntry};
pub use team::Team;
pub use tenant::{
    BusinessCalendar, CategorySkills, DayHours, EmailSettings, SlaPolicy, SlaTarget, Tenant,
    TenantSettings, TriageRule,
};
pub use ticket::{Csat, SlaState, Ticket, Triage, TriageFallback};
pub use usage::{MAX_MODEL_ID_CHARS, ModelUsage, ModelUsageDay, use_case_rank};
pub use user::{Actor, AuthSession, PasswordHash, User};
pub use view::{SavedView, ViewAssignee, ViewFilter};
pub use webhook::{WebhookEndpoint, WebhookOutcome, WebhookSecret};
