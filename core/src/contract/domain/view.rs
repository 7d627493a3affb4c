//! Saved views: a queue filter and order an agent keeps for themselves, or an admin shares
//! with the tenant's staff, listed in the desk's sidebar with how many tickets they hold.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Priority, TicketStatus};
use crate::store::{AssigneeFilter, TicketQuery, TicketSort};
use crate::{SavedViewId, TenantId, UserId};

/// A saved view of one tenant: shared with the staff or one team (no `owner`), or one
/// agent's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    /// Id (time ordered).
    pub id: SavedViewId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The agent it belongs to; `None` when shared with the tenant's staff.
    pub owner: Option<UserId>,
    /// For a shared view: the team (its key) it is published to, whose members (and the
    /// admins) see it; `None`: every agent sees it.
    #[serde(default)]
    pub team: Option<String>,
    /// Its name, unique (case-insensitively) among the shared views and among one agent's.
    pub name: String,
    /// What it shows.
    pub filter: ViewFilter,
    /// Who created it.
    pub created_by: UserId,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

impl SavedView {
    /// Its name folded for uniqueness (lower case, trimmed).
    pub fn folded_name(&self) -> String {
        super::fold_name(&self.name)
    }
}

/// The assignee a view filters on; `Me` is whoever looks at the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum ViewAssignee {
    /// The viewer.
    Me,
    /// Nobody.
    Unassigned,
    /// This user.
    User {
        /// The user.
        id: UserId,
    },
}

/// The filter and order of a view: a [`TicketQuery`] without its page, with "me" kept as
/// such so a shared view shows each agent their own tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ViewFilter {
    /// Any of these statuses (none: any status).
    pub statuses: Vec<TicketStatus>,
    /// Any of these priorities (none: any).
    pub priorities: Vec<Priority>,
    /// The assignee.
    pub assignee: Option<ViewAssignee>,
    /// The category.
    pub category: Option<String>,
    /// The team (its key).
    pub team: Option<String>,
    /// Custom field values, as [`TicketQuery::fields`].
    pub fields: Vec<String>,
    /// Words of the subject (as the queue's search).
    pub text: Option<String>,
    /// Order.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sort: TicketSort,
}

impl ViewFilter {
    /// The listing query of this view for `viewer` (first page; bot-handled chats left out
    /// as in the agent queue).
    pub fn query_for(&self, viewer: UserId) -> TicketQuery {
        TicketQuery {
            statuses: self.statuses.clone(),
            priorities: self.priorities.clone(),
            assignee: self.assignee.map(|a| match a {
                ViewAssignee::Me => AssigneeFilter::User(viewer),
                ViewAssignee::Unassigned => AssigneeFilter::Unassigned,
                ViewAssignee::User { id } => AssigneeFilter::User(id),
            }),
            category: self.category.clone(),
            team: self.team.clone(),
            fields: self.fields.clone(),
            text: self.text.clone(),
            exclude_bot_chats: true,
            sort: self.sort,
            ..TicketQuery::default()
        }
    }
}
