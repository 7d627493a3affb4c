//! The role matrix: which role may perform which action. One table, checked on every
//! service call.

use std::fmt;

use crate::Error;
use crate::domain::{Actor, Role};

/// Something an actor asks the service to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Open a ticket (customers for themselves, staff on behalf of a customer).
    OpenTicket,
    /// See the tenant queue (all tickets).
    ViewQueue,
    /// See a ticket (customers: only their own).
    ViewTicket,
    /// Post a public reply (customers: on their own tickets).
    Reply,
    /// Add an internal note.
    AddNote,
    /// Change status (further limited by the lifecycle table).
    Transition,
    /// Assign or reassign.
    Assign,
    /// Change priority, category or tags.
    EditTicket,
    /// Merge a duplicate into another ticket.
    Merge,
    /// Rate a resolution (the requester only).
    RecordCsat,
    /// Ask the AI for a draft, a summary or related articles.
    UseCopilot,
    /// Chat with the bot.
    Chat,
    /// Answer a handed-off chat, or hand it back to the bot.
    WorkChat,
    /// Manage users, roles and skills.
    ManageUsers,
    /// Change tenant settings (categories, SLA, calendar, autonomy).
    ManageTenant,
    /// Create, edit, delete and reindex knowledge-base articles.
    ManageArticles,
    /// Read analytics.
    ViewAnalytics,
    /// Run the SLA, inactivity and outbox sweeps by hand.
    RunSweeps,
    /// Change one's own password (another user's is [`ManageUsers`](Self::ManageUsers)).
    ChangePassword,
    /// Read the audit trail of administrative changes.
    ViewAudit,
    /// Use canned responses, and keep one's own.
    UseCannedResponses,
    /// Create, change and delete the canned responses shared with the tenant's staff.
    ManageSharedCannedResponses,
    /// Create, change and delete the saved views shared with the tenant's staff.
    ManageSharedViews,
    /// Change a ticket's custom fields (customers: their own tickets' fields that are
    /// editable by customers).
    SetCustomFields,
}

impl Action {
    /// Every action.
    pub const ALL: &'static [Action] = &[
        Action::OpenTicket,
        Action::ViewQueue,
        Action::ViewTicket,
        Action::Reply,
        Action::AddNote,
        Action::Transition,
        Action::Assign,
        Action::EditTicket,
        Action::Merge,
        Action::RecordCsat,
        Action::UseCopilot,
        Action::Chat,
        Action::WorkChat,
        Action::ManageUsers,
        Action::ManageTenant,
        Action::ManageArticles,
        Action::ViewAnalytics,
        Action::RunSweeps,
        Action::ChangePassword,
        Action::ViewAudit,
        Action::UseCannedResponses,
        Action::ManageSharedCannedResponses,
        Action::ManageSharedViews,
        Action::SetCustomFields,
    ];

    /// A human phrase for error messages ("open a ticket").
    pub const fn describe(&self) -> &'static str {
        match self {
            Self::OpenTicket => "open a ticket",
            Self::ViewQueue => "view the ticket queue",
            Self::ViewTicket => "view this ticket",
            Self::Reply => "reply",
            Self::AddNote => "add an internal note",
            Self::Transition => "change the status",
            Self::Assign => "assign tickets",
            Self::EditTicket => "edit ticket fields",
            Self::Merge => "merge tickets",
            Self::RecordCsat => "rate this ticket",
            Self::UseCopilot => "use the AI copilot",
            Self::Chat => "chat with the bot",
            Self::WorkChat => "work chat sessions",
            Self::ManageUsers => "manage users",
            Self::ManageTenant => "change tenant settings",
            Self::ManageArticles => "manage knowledge-base articles",
            Self::ViewAnalytics => "view analytics",
            Self::RunSweeps => "run sweeps",
            Self::ChangePassword => "change your password",
            Self::ViewAudit => "view the audit trail",
            Self::UseCannedResponses => "use canned responses",
            Self::ManageSharedCannedResponses => "manage shared canned responses",
            Self::ManageSharedViews => "manage shared views",
            Self::SetCustomFields => "change custom fields",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

const C: Role = Role::Customer;
const AG: Role = Role::Agent;
const AD: Role = Role::Admin;

/// The matrix. Ownership rules (a customer only touches their own tickets; only the
/// requester rates) are checked by the service on top of it.
pub const MATRIX: &[(Action, &[Role])] = &[
    (Action::OpenTicket, &[C, AG, AD]),
    (Action::ViewQueue, &[AG, AD]),
    (Action::ViewTicket, &[C, AG, AD]),
    (Action::Reply, &[C, AG, AD]),
    (Action::AddNote, &[AG, AD]),
    (Action::Transition, &[C, AG, AD]),
    (Action::Assign, &[AG, AD]),
    (Action::EditTicket, &[AG, AD]),
    (Action::Merge, &[AG, AD]),
    (Action::RecordCsat, &[C]),
    (Action::UseCopilot, &[AG, AD]),
    (Action::Chat, &[C]),
    (Action::WorkChat, &[AG, AD]),
    (Action::ManageUsers, &[AD]),
    (Action::ManageTenant, &[AD]),
    (Action::ManageArticles, &[AD]),
    (Action::ViewAnalytics, &[AD]),
    (Action::RunSweeps, &[AD]),
    (Action::ChangePassword, &[C, AG, AD]),
    (Action::ViewAudit, &[AD]),
    (Action::UseCannedResponses, &[AG, AD]),
    (Action::ManageSharedCannedResponses, &[AD]),
    (Action::ManageSharedViews, &[AD]),
    (Action::SetCustomFields, &[C, AG, AD]),
];

/// Whether `role` may perform `action`.
pub fn allows(role: Role, action: Action) -> bool {
    MATRIX
        .iter()
        .find(|(a, _)| *a == action)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

/// Checks the matrix for an actor.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), Error> {
    if allows(actor.role, action) {
        Ok(())
    } else {
        Err(Error::Forbidden {
            action: action.describe(),
            role: actor.role,
        })
    }
}
