//! Running automation rules. Rules triggered by a change (created, customer replied,
//! updated, SLA breached) run inside that change's commit: their actions land in the same
//! atomic write as what triggered them, so they run exactly once per triggering change,
//! and a failed or retried commit replans them from scratch. Idle rules ("pending for 5
//! days") are run by [`Helpdesk::automation_sweep`] under a lease. Each rule that runs
//! leaves an `automation_applied` event naming it, followed by its actions' events.
//!
//! A rule's actions may raise triggers for other rules (a tag added is an update): the
//! engine runs up to [`MAX_DEPTH`] rounds, and each rule at most once per commit, so rules
//! that keep triggering each other stop.

use serde::{Deserialize, Serialize};

use super::Helpdesk;
use super::canned::{fill, fill_field};
use super::change::Change;
use super::tickets::{set_assignee, set_priority, set_status};
use crate::automation::{MAX_DEPTH, in_business_hours, triggers_of, unmet_condition};
use crate::domain::{
    Actor, AuthorKind, AutomationAction, AutomationRule, CannedResponse, EventKind, MessageKind,
    NotificationKind, Placeholder, Role, Tenant, TicketStatus, User, WebhookEndpoint,
    render_template,
};
use crate::lifecycle::can_transition;
use crate::roles::Action;
use crate::store::{TICKET_NUMBER_SLOT, TicketWrite};
use crate::{CannedResponseId, Error, Result, TicketId, UserId, fields, teams, validate};

/// What the engine needs besides the ticket: the tenant (rules, calendar, SLA), its staff
/// (assignment and notification targets) and shared canned responses, read once per use
/// case, and the requesters of the tickets the rules ran on (for a canned response's
/// placeholders), read when a rule sends one.
pub(crate) struct RuleContext<'a> {
    pub(crate) tenant: &'a Tenant,
    pub(crate) staff: Vec<User>,
    canned: Vec<CannedResponse>,
    requesters: Vec<User>,
}

impl RuleContext<'_> {
    /// Whether an enabled rule sends a canned response.
    fn sends_canned(&self) -> bool {
        self.tenant.settings.automations.iter().any(|r| {
            r.enabled
                && r.actions
                    .iter()
                    .any(|a| matches!(a, AutomationAction::SendCannedResponse { .. }))
        })
    }

    /// Reads the requester of a ticket the rules may run on, when a rule sends a canned
    /// response and it is not read yet.
    pub(crate) async fn load_requester(
        &mut self,
        desk: &Helpdesk,
        requester: UserId,
    ) -> Result<()> {
        if !self.sends_canned() || self.requesters.iter().any(|u| u.id == requester) {
            return Ok(());
        }
        if let Some(user) = desk.inner.store.get_user(self.tenant.id, requester).await? {
            self.requesters.push(user);
        }
        Ok(())
    }

    fn active_staff(&self, id: crate::UserId) -> bool {
        self.staff
            .iter()
            .any(|u| u.id == id && u.active && u.is_staff())
    }

    fn admins(&self) -> Vec<crate::UserId> {
        self.staff
            .iter()
            .filter(|u| u.active && u.role == Role::Admin)
            .map(|u| u.id)
            .collect()
    }
}

/// Whether any enabled rule of the tenant is triggered by changes (so a use case must
/// load the staff for it).
pub(crate) fn has_change_rules(tenant: &Tenant) -> bool {
    tenant
        .settings
        .automations
        .iter()
        .any(|r| r.enabled && !r.trigger.is_timed())
}

/// Applies one rule's actions to `change`, after its `automation_applied` event; the
/// actions it could not take are listed in that event.
pub(super) fn apply_rule(
    ctx: &RuleContext<'_>,
    rule: &AutomationRule,
    change: &mut Change,
) -> Result<()> {
    let mut skipped = Vec::new();
    // The record of the rule comes first; its skipped actions are filled in below.
    let mark = change.events().len();
    let webhooks = rule
        .actions
        .iter()
        .filter_map(|a| match a {
            AutomationAction::CallWebhook { webhook } => Some(*webhook),
            _ => None,
        })
        .collect();
    change.push(EventKind::AutomationApplied {
        rule: rule.key.clone(),
        name: rule.name.clone(),
        skipped: Vec::new(),
        webhooks,
    });
    for action in &rule.actions {
        if let Err(why) = apply_action(ctx, action, change)? {
            skipped.push(why);
        }
    }
    if !skipped.is_empty() {
        change.amend_event(mark, |kind| {
            if let EventKind::AutomationApplied { skipped: s, .. } = kind {
                *s = skipped;
            }
        });
    }
    Ok(())
}

/// One action: `Ok(Err(why))` when it does not suit the ticket (it is skipped, the rest
/// of the rule runs); `Err` only for failures of the engine itself.
fn apply_action(
    ctx: &RuleContext<'_>,
    action: &AutomationAction,
    change: &mut Change,
) -> Result<std::result::Result<(), String>> {
    let tenant = ctx.tenant;
    let ticket = change.ticket().clone();
    match action {
        AutomationAction::SetStatus { status } => {
            if ticket.status == *status {
                return Ok(Ok(()));
            }
            if !can_transition(None, ticket.status, *status) {
                return Ok(Err(format!(
                    "set_status: {} is not allowed from {}",
                    status.as_str(),
                    ticket.status.as_str()
                )));
            }
            set_status(change, tenant, *status)?;
        }
        AutomationAction::SetPriority { priority } => set_priority(change, tenant, *priority)?,
        AutomationAction::AddTags { tags } | AutomationAction::RemoveTags { tags } => {
            let adding = matches!(action, AutomationAction::AddTags { .. });
            let mut next = ticket.tags.clone();
            if adding {
                for t in tags {
                    if !next.contains(t) {
                        next.push(t.clone());
                    }
                }
            } else {
                next.retain(|t| !tags.contains(t));
            }
            if next != ticket.tags {
                match validate::tags(&next) {
                    Ok(next) => change.push(EventKind::TagsChanged { tags: next }),
                    Err(e) => return Ok(Err(format!("tags: {e}"))),
                }
            }
        }
        AutomationAction::Assign { to } => {
            if let Some(user) = to
                && !ctx.active_staff(*user)
            {
                return Ok(Err("assign: not an active agent or admin".into()));
            }
            if let Some(why) =
                to.and_then(|to| teams::assignee_outside_team(&ticket, &tenant.settings.teams, to))
            {
                return Ok(Err(format!("assign: {why}")));
            }
            // The requester never is an assignee, so the new assignee is always notified.
            set_assignee(change, ticket.requester, *to);
        }
        AutomationAction::SetField { key, value } => {
            let changes = [(key.clone(), value.clone())].into_iter().collect();
            match fields::apply_changes(
                &tenant.settings.custom_fields,
                &ticket.custom_fields,
                &changes,
                Role::Admin,
            ) {
                Ok(next) if next != ticket.custom_fields => {
                    change.push(EventKind::CustomFieldsChanged { fields: next });
                }
                Ok(_) => {}
                Err(e) => return Ok(Err(format!("set_field: {e}"))),
            }
        }
        AutomationAction::AddNote { text } => {
            change.add_message(None, AuthorKind::System, MessageKind::Note, text.clone());
        }
        AutomationAction::SendCannedResponse { canned_response } => {
            return send_canned(ctx, *canned_response, change);
        }
        // Named in the rule's `automation_applied` event, which webhook delivery posts.
        AutomationAction::CallWebhook { .. } => {}
        AutomationAction::Notify { users } => {
            let to: Vec<_> = if users.is_empty() {
                ticket.assignee.map_or_else(|| ctx.admins(), |a| vec![a])
            } else {
                users
                    .iter()
                    .copied()
                    .filter(|u| ctx.active_staff(*u))
                    .collect()
            };
            if to.is_empty() {
                return Ok(Err("notify: nobody to notify".into()));
            }
            change.notify(to, NotificationKind::Automation);
        }
    }
    Ok(Ok(()))
}

/// The `send_canned_response` action: the shared canned response's text, filled in for
/// the ticket, as a system reply (or note), with a `CannedResponseApplied` event.
fn send_canned(
    ctx: &RuleContext<'_>,
    id: CannedResponseId,
    change: &mut Change,
) -> Result<std::result::Result<(), String>> {
    let ticket = change.ticket().clone();
    let Some(canned) = ctx.canned.iter().find(|c| c.id == id) else {
        return Ok(Err(format!(
            "send_canned_response: {id} is not a shared canned response"
        )));
    };
    if ticket.status == TicketStatus::Closed && !canned.internal {
        return Ok(Err("send_canned_response: the ticket is closed".into()));
    }
    let Some(customer) = ctx.requesters.iter().find(|u| u.id == ticket.requester) else {
        return Ok(Err("send_canned_response: the requester is unknown".into()));
    };
    let agent = ticket
        .assignee
        .and_then(|a| ctx.staff.iter().find(|u| u.id == a))
        .map_or(ctx.tenant.name.as_str(), |u| u.name.as_str());
    let text = render_template(
        &canned.body,
        |p| match p {
            // A ticket being created has no number yet: the store fills it in.
            Placeholder::TicketNumber if ticket.number == 0 => TICKET_NUMBER_SLOT.to_owned(),
            p => fill(p, ctx.tenant, &ticket, customer, agent),
        },
        |key| fill_field(&ticket, key),
    );
    let text = match text {
        Ok(text) if !text.trim().is_empty() => text,
        Ok(_) => return Ok(Err("send_canned_response: the text is empty".into())),
        Err(e) => return Ok(Err(format!("send_canned_response: {}", e.reason))),
    };
    change.push(EventKind::CannedResponseApplied {
        canned_response: canned.id,
        name: canned.name.clone(),
    });
    if canned.internal {
        change.add_message(None, AuthorKind::System, MessageKind::Note, text);
    } else {
        let message = change.add_message(None, AuthorKind::System, MessageKind::Reply, text);
        change.notify(
            vec![ticket.requester],
            NotificationKind::Replied {
                message_id: Some(message.id),
            },
        );
    }
    Ok(Ok(()))
}

/// Whether any of `rules` names something stored apart from the settings (a canned
/// response, a webhook endpoint), which [`check_references`] then checks.
pub(crate) fn has_references(rules: &[AutomationRule]) -> bool {
    rules.iter().flat_map(|r| &r.actions).any(|a| {
        matches!(
            a,
            AutomationAction::SendCannedResponse { .. } | AutomationAction::CallWebhook { .. }
        )
    })
}

/// Checks that every `send_canned_response` action of `rules` names a shared canned
/// response of the tenant (`canned`: its canned responses) and every `call_webhook` one of
/// its webhook endpoints (`webhooks`).
pub(crate) fn check_references(
    rules: &[AutomationRule],
    canned: &[CannedResponse],
    webhooks: &[WebhookEndpoint],
) -> Result<()> {
    for (i, rule) in rules.iter().enumerate() {
        for (j, action) in rule.actions.iter().enumerate() {
            let at = |name: &str| format!("settings.automations[{i}].actions[{j}].{name}");
            match action {
                AutomationAction::SendCannedResponse { canned_response }
                    if !canned
                        .iter()
                        .any(|c| c.id == *canned_response && c.owner.is_none()) =>
                {
                    return Err(Error::validation(
                        at("canned_response"),
                        format!("{canned_response} is not a shared canned response of the company"),
                    ));
                }
                AutomationAction::CallWebhook { webhook }
                    if !webhooks.iter().any(|w| w.id == *webhook) =>
                {
                    return Err(Error::validation(
                        at("webhook"),
                        format!("{webhook} is not a webhook endpoint of the company"),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Runs the tenant's change-triggered rules on a planned write, extending it: rounds of
/// rules whose trigger the newest events raise and whose conditions the ticket meets, each
/// rule at most once, at most [`MAX_DEPTH`] rounds.
pub(crate) fn run_change_rules(ctx: &RuleContext<'_>, write: TicketWrite) -> Result<TicketWrite> {
    let rules: Vec<&AutomationRule> = ctx
        .tenant
        .settings
        .automations
        .iter()
        .filter(|r| r.enabled && !r.trigger.is_timed())
        .collect();
    if rules.is_empty() || write.events.is_empty() {
        return Ok(write);
    }
    let at = write
        .events
        .last()
        .map_or(write.ticket.updated_at, |e| e.at);
    let business = in_business_hours(&ctx.tenant.settings.calendar, at).unwrap_or(false);
    let (mut change, key) = Change::resume(write, at, None);
    let mut ran: Vec<&str> = Vec::new();
    let mut seen = 0;
    for _ in 0..MAX_DEPTH {
        let triggers = triggers_of(&change.events()[seen..]);
        seen = change.events().len();
        let mut any = false;
        for rule in &rules {
            if ran.contains(&rule.key.as_str())
                || !triggers.contains(&rule.trigger)
                || unmet_condition(&rule.conditions, change.ticket(), business).is_some()
            {
                continue;
            }
            ran.push(&rule.key);
            apply_rule(ctx, rule, &mut change)?;
            any = true;
        }
        if !any {
            break;
        }
    }
    let mut write = change.finish();
    write.idempotency_key = key;
    Ok(write)
}

/// What a rule would do to a ticket now, without doing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationPreview {
    /// Whether the ticket meets every condition.
    pub matches: bool,
    /// The first condition it does not meet, in words.
    pub unmet: Option<String>,
    /// The events the rule's actions would add (`tags_changed`, ...), by name.
    pub would_add: Vec<String>,
    /// Actions it would skip, and why.
    pub skipped: Vec<String>,
}

impl Helpdesk {
    /// The rule context of `tenant`: its staff when a rule may need them.
    pub(crate) async fn rule_context<'a>(&self, tenant: &'a Tenant) -> Result<RuleContext<'a>> {
        let mut ctx = RuleContext {
            tenant,
            staff: Vec::new(),
            canned: Vec::new(),
            requesters: Vec::new(),
        };
        if !tenant.settings.automations.iter().any(|r| r.enabled) {
            return Ok(ctx);
        }
        let store = &self.inner.store;
        let (users, canned) = if ctx.sends_canned() {
            futures_util::future::try_join(
                store.list_users(tenant.id, None),
                store.list_canned_responses(tenant.id),
            )
            .await?
        } else {
            (store.list_users(tenant.id, None).await?, Vec::new())
        };
        ctx.staff = users.into_iter().filter(User::is_staff).collect();
        ctx.canned = canned.into_iter().filter(|c| c.owner.is_none()).collect();
        Ok(ctx)
    }

    /// Tests `rule` (saved or not, enabled or not) against a ticket as it is now: whether
    /// it matches and what it would change. Writes nothing (admins).
    pub async fn test_automation(
        &self,
        actor: &Actor,
        rule: AutomationRule,
        ticket: TicketId,
    ) -> Result<AutomationPreview> {
        let (tenant, _, current) = self
            .checked_ticket(actor, Action::ManageTenant, ticket)
            .await?;
        let rule = crate::automation::check_rules(
            std::slice::from_ref(&rule),
            &tenant.settings.categories,
            &tenant.settings.custom_fields,
        )
        .map_err(|e| match e {
            Error::Validation { field, message } => Error::Validation {
                field: field.replace("settings.automations[0].", "rule.").into(),
                message,
            },
            other => other,
        })?
        .remove(0);
        let now = self.now();
        let business = in_business_hours(&tenant.settings.calendar, now).unwrap_or(false);
        if let Some(unmet) = unmet_condition(&rule.conditions, &current, business) {
            return Ok(AutomationPreview {
                matches: false,
                unmet: Some(unmet),
                would_add: Vec::new(),
                skipped: Vec::new(),
            });
        }
        let mut ctx = self.rule_context(&tenant).await?;
        if rule
            .actions
            .iter()
            .any(|a| matches!(a, AutomationAction::SendCannedResponse { .. }))
        {
            // The rule under test may not be saved (or enabled) yet.
            ctx.canned = self
                .inner
                .store
                .list_canned_responses(tenant.id)
                .await?
                .into_iter()
                .filter(|c| c.owner.is_none())
                .collect();
            if let Some(user) = self
                .inner
                .store
                .get_user(tenant.id, current.requester)
                .await?
            {
                ctx.requesters.push(user);
            }
        }
        let mut change = Change::of(&current, now, None);
        apply_rule(&ctx, &rule, &mut change)?;
        let mut skipped = Vec::new();
        let would_add = change
            .events()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::AutomationApplied { skipped: s, .. } => {
                    skipped.clone_from(s);
                    None
                }
                kind => Some(kind.name().to_string()),
            })
            .collect();
        Ok(AutomationPreview {
            matches: true,
            unmet: None,
            would_add,
            skipped,
        })
    }
}
