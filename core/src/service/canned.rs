//! Canned responses (macros): agents keep their own, admins publish shared ones; an agent
//! picks one in the reply box by name, sees it filled in for the ticket, edits it if they
//! like, and sends it with its actions (status, priority, tags, assignee) as one ticket
//! change.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Helpdesk;
use super::change::Change;
use super::tickets::{
    add_agent_reply, check_required_fields, check_team_assignee, set_assignee, set_priority,
    set_status,
};
use crate::domain::{
    Actor, AuditKind, AuthorKind, CannedActions, CannedAssign, CannedResponse, EventKind,
    FieldValue, Message, MessageKind, Placeholder, Role, TemplatePart, Tenant, Ticket,
    TicketStatus, User, fold_name, render_template,
};
use crate::lifecycle::check_transition;
use crate::roles::Action;
use crate::store::{AdminChange, CannedUsage};
use crate::{CannedResponseId, Error, Result, StateError, TicketId, UserId, validate};

/// The longest name, in characters.
pub const MAX_CANNED_NAME_CHARS: usize = 100;

/// The most canned responses one tenant may keep (shared and personal together).
pub const MAX_CANNED_PER_TENANT: usize = 1000;

/// A canned response as an agent or admin writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CannedResponseInput {
    /// Its name (at most [`MAX_CANNED_NAME_CHARS`]).
    pub name: String,
    /// The text, with placeholders ([`Placeholder::ALL`]); an unknown one is refused.
    pub body: String,
    /// Post as an internal note instead of a public reply.
    pub internal: bool,
    /// Changes applied with the text.
    pub actions: CannedActions,
    /// Shared with the tenant's staff (only admins may share); else the writer's own.
    pub shared: bool,
}

/// A canned response filled in for one ticket, before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedPreview {
    /// The response.
    pub canned_response: CannedResponse,
    /// Its text with the placeholders filled in.
    pub body: String,
}

/// What applying a canned response did.
#[derive(Debug, Clone, PartialEq)]
pub struct CannedOutcome {
    /// The ticket after the change.
    pub ticket: Ticket,
    /// The reply (or note) posted.
    pub message: Message,
}

/// How often one of the tenant's canned responses was used, with its current name (`None`
/// when it has since been deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedUsageRow {
    /// The count.
    pub usage: CannedUsage,
    /// The response's name now.
    pub name: Option<String>,
}

/// Whether `actor` sees `canned`: shared ones, and their own.
fn visible_to(actor: &Actor, canned: &CannedResponse) -> bool {
    canned.owner.is_none_or(|owner| owner == actor.user_id)
}

/// A validation error of a nested field, named from the top (`tags[0]` of the actions'
/// added tags is `actions.add_tags[0]`).
fn within(prefix: &str, e: Error) -> Error {
    match e {
        Error::Validation { field, message } => {
            Error::validation(format!("{prefix}{field}"), message)
        }
        other => other,
    }
}

pub(crate) fn validate_actions(actions: &CannedActions) -> Result<CannedActions> {
    if actions.status == Some(TicketStatus::New) {
        return Err(Error::validation(
            "actions.status",
            "a ticket cannot be moved back to New",
        ));
    }
    let add_tags = validate::tags(&actions.add_tags).map_err(|e| within("actions.add_", e))?;
    let remove_tags =
        validate::tags(&actions.remove_tags).map_err(|e| within("actions.remove_", e))?;
    if let Some(both) = add_tags.iter().find(|t| remove_tags.contains(t)) {
        return Err(Error::validation(
            "actions.remove_tags",
            format!("{both:?} is also added"),
        ));
    }
    Ok(CannedActions {
        add_tags,
        remove_tags,
        ..actions.clone()
    })
}

/// Checks that a canned response's text parses and that each `{{field.<key>}}` names a
/// custom field of the tenant (a typo is caught when it is saved, not when a customer
/// reads an empty value).
pub(crate) fn check_template(body: &str, tenant: &Tenant) -> Result<()> {
    let at = |offset: usize| body[..offset].chars().count();
    let parts = crate::domain::parse_template(body).map_err(|e| {
        Error::validation("body", format!("at character {}: {}", at(e.at), e.reason))
    })?;
    for part in parts {
        if let TemplatePart::Field(key) = part
            && !tenant.settings.custom_fields.iter().any(|d| d.key == key)
        {
            return Err(Error::validation(
                "body",
                format!("{{{{field.{key}}}}} names no custom field of the company"),
            ));
        }
    }
    Ok(())
}

/// The text of a custom field of `ticket`, as people read it (empty without a value).
pub(crate) fn fill_field(ticket: &Ticket, key: &str) -> String {
    ticket
        .custom_fields
        .get(key)
        .map(FieldValue::display)
        .unwrap_or_default()
}

/// The text of a placeholder for this ticket, sent by `agent` (a name).
pub(crate) fn fill(
    p: Placeholder,
    tenant: &Tenant,
    ticket: &Ticket,
    customer: &User,
    agent: &str,
) -> String {
    let first = |name: &str| {
        name.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    match p {
        Placeholder::CustomerName => customer.name.clone(),
        Placeholder::CustomerFirstName => first(&customer.name),
        Placeholder::CustomerEmail => customer.email.clone(),
        Placeholder::TicketNumber => ticket.number.to_string(),
        Placeholder::TicketSubject => ticket.subject.clone(),
        Placeholder::AgentName => agent.to_owned(),
        Placeholder::AgentFirstName => first(agent),
        Placeholder::CompanyName => tenant.name.clone(),
    }
}

/// Plans `actions` on a change of an agent (`by`, of `role`): priority, tags, assignee
/// (`assignee` already resolved and checked: `Some(None)` unassigns), then the status,
/// each through the checks of its single change; a refused one refuses the whole change.
pub(crate) fn plan_actions(
    change: &mut Change,
    tenant: &Tenant,
    role: Role,
    by: UserId,
    actions: &CannedActions,
    assignee: Option<Option<UserId>>,
) -> Result<()> {
    if let Some(p) = actions.priority {
        set_priority(change, tenant, p)?;
    }
    let tags = {
        let mut tags = change.ticket().tags.clone();
        tags.retain(|t| !actions.remove_tags.contains(t));
        for t in &actions.add_tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        tags
    };
    if tags != change.ticket().tags {
        validate::tags(&tags)?;
        change.push(EventKind::TagsChanged { tags });
    }
    if let Some(to) = assignee {
        check_team_assignee(tenant, change.ticket(), to)?;
        set_assignee(change, by, to);
    }
    if let Some(to) = actions.status.filter(|s| *s != change.ticket().status) {
        check_transition(role, change.ticket().status, to)?;
        check_required_fields(role, tenant, change.ticket(), to)?;
        set_status(change, tenant, to)?;
    }
    Ok(())
}

impl Helpdesk {
    /// Checks an input and the writer's right to its scope; the owner it gets, and the
    /// tenant.
    async fn canned_scope(
        &self,
        actor: &Actor,
        input: &CannedResponseInput,
    ) -> Result<(Option<UserId>, Tenant)> {
        if input.shared {
            let (tenant, _) = self
                .check(actor, Action::ManageSharedCannedResponses)
                .await?;
            Ok((None, tenant))
        } else {
            let (tenant, _) = self.check(actor, Action::UseCannedResponses).await?;
            Ok((Some(actor.user_id), tenant))
        }
    }

    /// The fields of an input, checked: name, body (placeholders known, custom field
    /// placeholders naming fields of the tenant), actions (the assignee an active agent or
    /// admin of the tenant).
    async fn checked_canned_fields(
        &self,
        actor: &Actor,
        tenant: &Tenant,
        input: &CannedResponseInput,
    ) -> Result<(String, String, CannedActions)> {
        let name = validate::required_line("name", &input.name, MAX_CANNED_NAME_CHARS)?;
        let body = validate::body("body", &input.body, true)?;
        check_template(&body, tenant)?;
        let actions = validate_actions(&input.actions)?;
        if let Some(CannedAssign::User { id }) = actions.assign {
            self.check_assignable(actor, id, "actions.assign").await?;
        }
        Ok((name, body, actions))
    }

    /// Whom `assign` gives a ticket to when `actor` applies it (`Some(None)`: nobody),
    /// checking that a named user is still an active agent or admin of the tenant.
    pub(crate) async fn resolve_assignee(
        &self,
        actor: &Actor,
        assign: Option<CannedAssign>,
    ) -> Result<Option<Option<UserId>>> {
        Ok(match assign {
            None => None,
            Some(CannedAssign::Me) => Some(Some(actor.user_id)),
            Some(CannedAssign::Nobody) => Some(None),
            Some(CannedAssign::User { id }) => {
                self.check_assignable(actor, id, "actions.assign").await?;
                Some(Some(id))
            }
        })
    }

    /// Refuses a user who is not an active agent or admin of the actor's tenant.
    async fn check_assignable(&self, actor: &Actor, id: UserId, field: &'static str) -> Result<()> {
        let target = self.inner.store.get_user(actor.tenant_id, id).await?;
        match target {
            Some(u) if u.is_staff() && u.active => Ok(()),
            _ => Err(Error::validation(
                field,
                "must be an active agent or admin of the tenant",
            )),
        }
    }

    /// Creates a canned response: the writer's own, or shared (admins only). Its name must
    /// be new in its scope (`Duplicate { kind: Name }`). Audited (`CannedResponseCreated`).
    pub async fn create_canned_response(
        &self,
        actor: &Actor,
        input: CannedResponseInput,
    ) -> Result<CannedResponse> {
        let (owner, tenant) = self.canned_scope(actor, &input).await?;
        let (name, body, actions) = self.checked_canned_fields(actor, &tenant, &input).await?;
        let existing = self
            .inner
            .store
            .list_canned_responses(actor.tenant_id)
            .await?;
        if existing.len() >= MAX_CANNED_PER_TENANT {
            return Err(Error::validation(
                "name",
                format!("at most {MAX_CANNED_PER_TENANT} canned responses per tenant"),
            ));
        }
        let now = self.now();
        let canned = CannedResponse {
            id: CannedResponseId::new(),
            tenant_id: actor.tenant_id,
            owner,
            name,
            body,
            internal: input.internal,
            actions,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
        };
        let kind = AuditKind::CannedResponseCreated {
            canned_response: canned.id,
            name: canned.name.clone(),
            shared: owner.is_none(),
        };
        let change = AdminChange::CreateCannedResponse(canned.clone());
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        Ok(canned)
    }

    /// The canned responses the actor may use (the tenant's shared ones and their own), by
    /// name; with `search`, only those whose name contains it (case-insensitively).
    pub async fn list_canned_responses(
        &self,
        actor: &Actor,
        search: &str,
    ) -> Result<Vec<CannedResponse>> {
        validate::no_control_chars("search", search)?;
        let (_, _, all) = self
            .check_while(
                actor,
                Action::UseCannedResponses,
                self.inner.store.list_canned_responses(actor.tenant_id),
            )
            .await?;
        let needle = fold_name(search);
        Ok(all
            .into_iter()
            .filter(|c| visible_to(actor, c) && c.folded_name().contains(&needle))
            .collect())
    }

    /// One canned response the actor may use (another agent's own is `NotFound`).
    pub async fn get_canned_response(
        &self,
        actor: &Actor,
        id: CannedResponseId,
    ) -> Result<CannedResponse> {
        let (_, _, found) = self
            .check_while(
                actor,
                Action::UseCannedResponses,
                self.inner.store.get_canned_response(actor.tenant_id, id),
            )
            .await?;
        found
            .filter(|c| visible_to(actor, c))
            .ok_or_else(|| Error::not_found("canned_response", id))
    }

    /// Replaces a canned response's name, text, actions and scope. An agent changes only
    /// their own (and cannot share it); shared ones, and sharing, are for admins. Audited
    /// (`CannedResponseUpdated`).
    pub async fn update_canned_response(
        &self,
        actor: &Actor,
        id: CannedResponseId,
        input: CannedResponseInput,
    ) -> Result<CannedResponse> {
        let current = self.get_canned_response(actor, id).await?;
        if current.owner.is_none() {
            self.check(actor, Action::ManageSharedCannedResponses)
                .await?;
        }
        let (owner, tenant) = self.canned_scope(actor, &input).await?;
        let (name, body, actions) = self.checked_canned_fields(actor, &tenant, &input).await?;
        let canned = CannedResponse {
            owner,
            name,
            body,
            internal: input.internal,
            actions,
            updated_at: self.now(),
            ..current
        };
        let kind = AuditKind::CannedResponseUpdated {
            canned_response: id,
            name: canned.name.clone(),
        };
        let change = AdminChange::UpdateCannedResponse(canned.clone());
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await?;
        Ok(canned)
    }

    /// Deletes a canned response (an agent their own, admins shared ones); its past uses
    /// stay on the tickets. Audited (`CannedResponseDeleted`).
    pub async fn delete_canned_response(&self, actor: &Actor, id: CannedResponseId) -> Result<()> {
        let current = self.get_canned_response(actor, id).await?;
        if current.owner.is_none() {
            self.check(actor, Action::ManageSharedCannedResponses)
                .await?;
        }
        let kind = AuditKind::CannedResponseDeleted {
            canned_response: id,
            name: current.name,
        };
        let change = AdminChange::DeleteCannedResponse {
            tenant: actor.tenant_id,
            id,
        };
        self.commit_admin(Some(actor), actor.tenant_id, change, kind)
            .await
    }

    /// A canned response filled in for a ticket: what the reply box shows before the agent
    /// sends it. Nothing is written.
    pub async fn preview_canned_response(
        &self,
        actor: &Actor,
        ticket: TicketId,
        id: CannedResponseId,
    ) -> Result<CannedPreview> {
        let canned = self.get_canned_response(actor, id).await?;
        let (tenant, agent, ticket) = self.checked_ticket(actor, Action::Reply, ticket).await?;
        let body = self
            .render_canned(&tenant, &ticket, &agent, &canned)
            .await?;
        Ok(CannedPreview {
            canned_response: canned,
            body,
        })
    }

    async fn render_canned(
        &self,
        tenant: &Tenant,
        ticket: &Ticket,
        agent: &User,
        canned: &CannedResponse,
    ) -> Result<String> {
        let customer = self
            .inner
            .store
            .get_user(tenant.id, ticket.requester)
            .await?
            .ok_or_else(|| Error::not_found("user", ticket.requester))?;
        render_template(
            &canned.body,
            |p| fill(p, tenant, ticket, &customer, &agent.name),
            |key| fill_field(ticket, key),
        )
        .map_err(|e| Error::validation("body", e.reason))
    }

    /// Sends a canned response on a ticket: its text (filled in for the ticket, or `body`
    /// when the agent edited the preview) as a public reply or an internal note, and its
    /// actions, in one ticket change together with a `CannedResponseApplied` event (what
    /// the usage count reads). Every action goes through the same checks as the single
    /// change: a status the lifecycle does not allow, a Closed ticket, an assignee no
    /// longer active refuse the whole change and nothing is written.
    pub async fn apply_canned_response(
        &self,
        actor: &Actor,
        ticket: TicketId,
        id: CannedResponseId,
        body: Option<String>,
    ) -> Result<CannedOutcome> {
        let canned = self.get_canned_response(actor, id).await?;
        let action = if canned.internal {
            Action::AddNote
        } else {
            Action::Reply
        };
        let (tenant, agent, current) = self.checked_ticket(actor, action, ticket).await?;
        if current.merged_into.is_some() {
            return Err(StateError::TicketMerged {
                number: current.number,
            }
            .into());
        }
        let text = match body {
            Some(edited) => validate::body("body", &edited, true)?,
            None => {
                self.render_canned(&tenant, &current, &agent, &canned)
                    .await?
            }
        };
        let actions = &canned.actions;
        let assignee = self.resolve_assignee(actor, actions.assign).await?;
        let now = self.now();
        let write = self
            .mutate_ticket_from(&tenant, ticket, Some(current), |current| {
                if current.status == TicketStatus::Closed && !actions.is_empty() {
                    return Err(StateError::ClosedTicket { action: "changed" }.into());
                }
                let mut change = Change::of(current, now, Some(agent.id));
                change.push(EventKind::CannedResponseApplied {
                    canned_response: canned.id,
                    name: canned.name.clone(),
                });
                if canned.internal {
                    change.add_message(
                        Some(agent.id),
                        AuthorKind::Agent,
                        MessageKind::Note,
                        text.clone(),
                    );
                } else {
                    add_agent_reply(&mut change, &tenant, agent.id, text.clone())?;
                }
                plan_actions(
                    &mut change,
                    &tenant,
                    actor.role,
                    agent.id,
                    actions,
                    assignee,
                )?;
                Ok(change.finish())
            })
            .await?;
        let message = write
            .messages
            .last()
            .cloned()
            .ok_or(Error::Internal("a canned response stored no message"))?;
        Ok(CannedOutcome {
            ticket: write.ticket,
            message,
        })
    }

    /// How often each of the tenant's canned responses (shared and every agent's own) was
    /// used since `since`, most used first, with its current name (admins: analytics).
    pub async fn canned_response_usage(
        &self,
        actor: &Actor,
        since: Timestamp,
    ) -> Result<Vec<CannedUsageRow>> {
        let store = &self.inner.store;
        let (_, _, usage) = self
            .check_while(
                actor,
                Action::ViewAnalytics,
                store.canned_response_usage(actor.tenant_id, since),
            )
            .await?;
        let all = store.list_canned_responses(actor.tenant_id).await?;
        Ok(usage
            .into_iter()
            .map(|usage| {
                let name = all
                    .iter()
                    .find(|c| c.id == usage.canned_response)
                    .map(|c| c.name.clone());
                CannedUsageRow { usage, name }
            })
            .collect())
    }
}
