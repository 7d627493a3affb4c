//! Saved views: an agent saves a queue filter and order for themselves; an admin shares
//! views with every agent or publishes them to one team. The desk lists them with how
//! many tickets each holds.

use serde::{Deserialize, Serialize};

use super::Helpdesk;
use crate::domain::{Actor, AuditKind, Role, SavedView, Tenant, ViewAssignee, ViewFilter};
use crate::roles::Action;
use crate::store::{AdminChange, TicketQuery};
use crate::teams::known_team;
use crate::{Error, Result, SavedViewId, UserId, validate};

/// The longest view name, in characters.
pub const MAX_VIEW_NAME_CHARS: usize = 60;

/// The most saved views one tenant may keep (shared and personal together).
pub const MAX_VIEWS_PER_TENANT: usize = 500;

/// A saved view as an agent or admin writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedViewInput {
    /// Its name (at most [`MAX_VIEW_NAME_CHARS`]).
    pub name: String,
    /// What it shows.
    pub filter: ViewFilter,
    /// Shared with the tenant's staff (admins only); else the writer's own.
    pub shared: bool,
    /// A shared view published to this team only (its key): its members and the admins
    /// see it.
    pub team: Option<String>,
}

/// Whether `actor` sees `view`: their own, shared ones for everyone, and shared ones of a
/// team they are in (admins see every shared view, to manage them).
fn visible_to(actor: &Actor, tenant: &Tenant, view: &SavedView) -> bool {
    match (view.owner, view.team.as_deref()) {
        (Some(owner), _) => owner == actor.user_id,
        (None, None) => true,
        (None, Some(team)) => {
            actor.role == Role::Admin
                || tenant
                    .settings
                    .team(team)
                    .is_some_and(|t| t.has_member(actor.user_id))
        }
    }
}

impl Helpdesk {
    /// Checks the writer's right to an input's scope; the owner and the team it gets (a
    /// team only for a shared view, and one of the tenant's).
    async fn view_scope(
        &self,
        actor: &Actor,
        input: &SavedViewInput,
    ) -> Result<(Option<UserId>, Option<String>)> {
        if !input.shared {
            if input.team.is_some() {
                return Err(Error::validation(
                    "team",
                    "only a shared view is published to a team",
                ));
            }
            self.check(actor, Action::ViewQueue).await?;
            return Ok((Some(actor.user_id), None));
        }
        let (tenant, _) = self.check(actor, Action::ManageSharedViews).await?;
        let team = input
            .team
            .as_deref()
            .map(|key| known_team("team", key, &tenant.settings.teams))
            .transpose()?;
        Ok((None, team))
    }

    /// An input's name and filter, checked: the category one of the tenant's, the team one
    /// of its teams, field values of its fields, the search text as the queue takes it, a
    /// named assignee a staff member of the tenant.
    async fn checked_view_fields(
        &self,
        actor: &Actor,
        input: &SavedViewInput,
    ) -> Result<(String, ViewFilter)> {
        let name = validate::required_line("name", &input.name, MAX_VIEW_NAME_CHARS)?;
        let mut filter = input.filter.clone();
        filter.statuses.dedup();
        filter.priorities.dedup();
        if filter.category.is_some() || filter.team.is_some() || !filter.fields.is_empty() {
            let tenant = self.tenant(actor.tenant_id).await?;
            if let Some(c) = &filter.category {
                let c = validate::identifier("filter.category", c)?;
                if !tenant.settings.categories.contains(&c) {
                    return Err(Error::validation(
                        "filter.category",
                        format!("{c:?} is not one of the tenant's categories"),
                    ));
                }
                filter.category = Some(c);
            }
            if let Some(t) = &filter.team {
                filter.team = Some(known_team("filter.team", t, &tenant.settings.teams)?);
            }
            crate::service::fields::check_field_filters(&tenant, &filter.fields).map_err(|e| {
                match e {
                    Error::Validation { field, message } => {
                        Error::validation(format!("filter.{field}"), message)
                    }
                    other => other,
                }
            })?;
        }
        if let Some(text) = &filter.text {
            validate::no_control_chars("filter.text", text)?;
            if text.chars().count() > 200 {
                return Err(Error::validation("filter.text", "at most 200 characters"));
            }
            filter.text = Some(text.trim().to_string()).filter(|t| !t.is_empty());
        }
        if let Some(ViewAssignee::User { id }) = filter.assignee {
            let user = self.inner.store.get_user(actor.tenant_id, id).await?;
            if !user.is_some_and(|u| u.is_staff()) {
                return Err(Error::validation(
                    "filter.assignee",
                    "must be an agent or admin of the tenant",
                ));
            }
        }
        Ok((name, filter))
    }

    /// Saves a view: the writer's own, or shared (admins only). Its name must be new in its
    /// scope (`Duplicate { kind: Name }`). Audited (`SavedViewCreated`).
    pub async fn create_saved_view(
        &self,
        actor: &Actor,
        input: SavedViewInput,
    ) -> Result<SavedView> {
        let (owner, team) = self.view_scope(actor, &input).await?;
        let (name, filter) = self.checked_view_fields(actor, &input).await?;
        let existing = self.inner.store.list_saved_views(actor.tenant_id).await?;
        if existing.len() >= MAX_VIEWS_PER_TENANT {
            return Err(Error::validation(
                "name",
                format!("at most {MAX_VIEWS_PER_TENANT} views per tenant"),
            ));
        }
        let now = self.now();
        let view = SavedView {
            id: SavedViewId::new(),
            tenant_id: actor.tenant_id,
            owner,
            team,
            name,
            filter,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
        };
        let kind = AuditKind::SavedViewCreated {
            view: view.id,
            name: view.name.clone(),
            shared: owner.is_none(),
        };
        let change = AdminChange::CreateSavedView(view.clone());
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        Ok(view)
    }

    /// The views the actor sees (the tenant's shared ones and their own), by name.
    pub async fn list_saved_views(&self, actor: &Actor) -> Result<Vec<SavedView>> {
        let (tenant, _, all) = self
            .check_while(
                actor,
                Action::ViewQueue,
                self.inner.store.list_saved_views(actor.tenant_id),
            )
            .await?;
        Ok(all
            .into_iter()
            .filter(|v| visible_to(actor, &tenant, v))
            .collect())
    }

    /// The views the actor sees, each with how many tickets it holds for them now (the
    /// counts are read together).
    pub async fn saved_views_with_counts(&self, actor: &Actor) -> Result<Vec<(SavedView, u64)>> {
        let views = self.list_saved_views(actor).await?;
        let store = &self.inner.store;
        let counts = futures_util::future::try_join_all(views.iter().map(|v| {
            let query = v.filter.query_for(actor.user_id);
            async move { store.count_tickets(actor.tenant_id, &query).await }
        }))
        .await?;
        Ok(views.into_iter().zip(counts).collect())
    }

    /// One view the actor sees (another agent's own is `NotFound`).
    pub async fn get_saved_view(&self, actor: &Actor, id: SavedViewId) -> Result<SavedView> {
        let (tenant, _, found) = self
            .check_while(
                actor,
                Action::ViewQueue,
                self.inner.store.get_saved_view(actor.tenant_id, id),
            )
            .await?;
        found
            .filter(|v| visible_to(actor, &tenant, v))
            .ok_or_else(|| Error::not_found("saved_view", id))
    }

    /// The queue query of a view for the actor (its "me" is them).
    pub async fn saved_view_query(&self, actor: &Actor, id: SavedViewId) -> Result<TicketQuery> {
        Ok(self
            .get_saved_view(actor, id)
            .await?
            .filter
            .query_for(actor.user_id))
    }

    /// Replaces a view's name, filter and scope: an agent their own (and cannot share
    /// it); shared ones, and sharing, are for admins. Audited (`SavedViewUpdated`).
    pub async fn update_saved_view(
        &self,
        actor: &Actor,
        id: SavedViewId,
        input: SavedViewInput,
    ) -> Result<SavedView> {
        let current = self.get_saved_view(actor, id).await?;
        if current.owner.is_none() {
            self.check(actor, Action::ManageSharedViews).await?;
        }
        let (owner, team) = self.view_scope(actor, &input).await?;
        let (name, filter) = self.checked_view_fields(actor, &input).await?;
        let view = SavedView {
            owner,
            team,
            name,
            filter,
            updated_at: self.now(),
            ..current
        };
        let kind = AuditKind::SavedViewUpdated {
            view: id,
            name: view.name.clone(),
        };
        let change = AdminChange::UpdateSavedView(view.clone());
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        Ok(view)
    }

    /// Deletes a view (an agent their own, admins shared ones). Audited
    /// (`SavedViewDeleted`).
    pub async fn delete_saved_view(&self, actor: &Actor, id: SavedViewId) -> Result<()> {
        let current = self.get_saved_view(actor, id).await?;
        if current.owner.is_none() {
            self.check(actor, Action::ManageSharedViews).await?;
        }
        let kind = AuditKind::SavedViewDeleted {
            view: id,
            name: current.name,
        };
        let change = AdminChange::DeleteSavedView {
            tenant: actor.tenant_id,
            id,
        };
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await
    }
}
