//! The admin's automations page: the tenant's rules in the order they run, the form to
//! add or change one (when, conditions, actions), switching one off, deleting one after
//! asking, and testing one against a ticket without applying it. Rules are part of the
//! tenant's settings, so core checks them and records an audit event.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use helpdesk_core::automation::describe_condition;
use helpdesk_core::domain::{
    AutomationAction, AutomationCondition, AutomationRule, AutomationTrigger, Channel, FieldKind,
    Priority, TicketStatus, field_token,
};
use serde::Deserialize;

use super::admin::skill_list;
use super::agent::Choice;
use super::app::AppState;
use super::error::WebResult;
use super::form::{self, FormError};
use super::keyed::Keyed;
use super::names::Names;
use super::session::{AdminUser, Ctx};
use super::views::{Page, html, status_label};

/// The automation routes (admins).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/automations", get(list_page).post(add))
        .route("/admin/automations/test", get(test))
        .route("/admin/automations/{key}", get(edit_page).post(save))
        .route(
            "/admin/automations/{key}/delete",
            get(confirm_delete).post(delete),
        )
}

/// The rule form's inputs as posted (repeated names for the status checkboxes).
type Pairs = Vec<(String, String)>;

fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

fn values<'a>(pairs: &'a Pairs, name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .collect()
}

fn parse<T: std::str::FromStr>(field: &str, raw: &str) -> Result<Option<T>, FormError> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| FormError::new(field, "Choose from the list."))
}

/// The rule a posted form describes (core checks it when the settings are saved).
fn rule_of(pairs: &Pairs, key: &str) -> Result<AutomationRule, FormError> {
    let trigger = match value(pairs, "trigger") {
        "created" => AutomationTrigger::Created,
        "customer_replied" => AutomationTrigger::CustomerReplied,
        "updated" => AutomationTrigger::Updated,
        "sla_breached" => AutomationTrigger::SlaBreached,
        "idle" => AutomationTrigger::Idle {
            status: parse("idle_status", value(pairs, "idle_status"))?
                .ok_or_else(|| FormError::new("idle_status", "Choose the status it waits in."))?,
            hours: value(pairs, "idle_hours")
                .parse()
                .map_err(|_| FormError::new("idle_hours", "Give whole hours (1 to 8760)."))?,
        },
        _ => return Err(FormError::new("trigger", "Choose when the rule runs.")),
    };
    let mut conditions = Vec::new();
    let statuses = values(pairs, "if_status")
        .into_iter()
        .map(|s| parse::<TicketStatus>("if_status", s).map(Option::unwrap_or_default))
        .collect::<Result<Vec<_>, _>>()?;
    if !statuses.is_empty() {
        conditions.push(AutomationCondition::Status { any_of: statuses });
    }
    if let Some(p) = parse::<Priority>("if_priority", value(pairs, "if_priority"))? {
        conditions.push(AutomationCondition::Priority { any_of: vec![p] });
    }
    if let Some(c) = parse::<Channel>("if_channel", value(pairs, "if_channel"))? {
        conditions.push(AutomationCondition::Channel { any_of: vec![c] });
    }
    for (name, has) in [("if_tag", true), ("if_not_tag", false)] {
        let tag = value(pairs, name);
        if !tag.is_empty() {
            let tag = tag.to_lowercase();
            conditions.push(if has {
                AutomationCondition::HasTag { tag }
            } else {
                AutomationCondition::LacksTag { tag }
            });
        }
    }
    if !value(pairs, "if_field").is_empty() {
        conditions.push(AutomationCondition::Field {
            token: value(pairs, "if_field").to_string(),
        });
    }
    if value(pairs, "if_unassigned") == "on" {
        conditions.push(AutomationCondition::Unassigned);
    }
    match value(pairs, "if_hours") {
        "inside" => conditions.push(AutomationCondition::BusinessHours { inside: true }),
        "outside" => conditions.push(AutomationCondition::BusinessHours { inside: false }),
        _ => {}
    }
    let mut actions = Vec::new();
    if let Some(status) = parse("do_status", value(pairs, "do_status"))? {
        actions.push(AutomationAction::SetStatus { status });
    }
    if let Some(priority) = parse("do_priority", value(pairs, "do_priority"))? {
        actions.push(AutomationAction::SetPriority { priority });
    }
    let add = skill_list(value(pairs, "do_add_tags"));
    if !add.is_empty() {
        actions.push(AutomationAction::AddTags { tags: add });
    }
    let remove = skill_list(value(pairs, "do_remove_tags"));
    if !remove.is_empty() {
        actions.push(AutomationAction::RemoveTags { tags: remove });
    }
    match value(pairs, "do_assign") {
        "" => {}
        "nobody" => actions.push(AutomationAction::Assign { to: None }),
        id => actions.push(AutomationAction::Assign {
            to: Some(
                id.parse()
                    .map_err(|_| FormError::new("do_assign", "Choose from the list."))?,
            ),
        }),
    }
    if let Some((key, option)) = value(pairs, "do_field").split_once('=') {
        actions.push(AutomationAction::SetField {
            key: key.to_string(),
            value: Some(helpdesk_core::domain::FieldValue::Text(option.to_string())),
        });
    }
    let note = value(pairs, "do_note");
    if !note.is_empty() {
        actions.push(AutomationAction::AddNote { text: note.to_string() });
    }
    if value(pairs, "do_notify") == "on" {
        actions.push(AutomationAction::Notify { users: Vec::new() });
    }
    if actions.is_empty() {
        return Err(FormError::general("Choose at least one thing for the rule to do."));
    }
    Ok(AutomationRule {
        key: key.trim().to_lowercase(),
        name: value(pairs, "name").to_string(),
        enabled: value(pairs, "enabled") == "on",
        trigger,
        conditions,
        actions,
    })
}

/// The form's inputs of a saved rule (the inverse of [`rule_of`] for what the form shows).
fn pairs_of(rule: &AutomationRule) -> Pairs {
    let mut p: Pairs = vec![
        ("name".into(), rule.name.clone()),
        ("trigger".into(), rule.trigger.as_str().into()),
    ];
    if rule.enabled {
        p.push(("enabled".into(), "on".into()));
    }
    if let AutomationTrigger::Idle { status, hours } = rule.trigger {
        p.push(("idle_status".into(), status.as_str().into()));
        p.push(("idle_hours".into(), hours.to_string()));
    }
    for c in &rule.conditions {
        match c {
            AutomationCondition::Status { any_of } => {
                p.extend(any_of.iter().map(|s| ("if_status".into(), s.as_str().into())));
            }
            AutomationCondition::Priority { any_of } => {
                p.extend(any_of.first().map(|x| ("if_priority".into(), x.as_str().into())));
            }
            AutomationCondition::Channel { any_of } => {
                p.extend(any_of.first().map(|x| ("if_channel".into(), x.as_str().into())));
            }
            AutomationCondition::HasTag { tag } => p.push(("if_tag".into(), tag.clone())),
            AutomationCondition::LacksTag { tag } => p.push(("if_not_tag".into(), tag.clone())),
            AutomationCondition::Field { token } => p.push(("if_field".into(), token.clone())),
            AutomationCondition::Unassigned => p.push(("if_unassigned".into(), "on".into())),
            AutomationCondition::BusinessHours { inside } => p.push((
                "if_hours".into(),
                if *inside { "inside" } else { "outside" }.into(),
            )),
            _ => {}
        }
    }
    for a in &rule.actions {
        match a {
            AutomationAction::SetStatus { status } => {
                p.push(("do_status".into(), status.as_str().into()));
            }
            AutomationAction::SetPriority { priority } => {
                p.push(("do_priority".into(), priority.as_str().into()));
            }
            AutomationAction::AddTags { tags } => p.push(("do_add_tags".into(), tags.join(", "))),
            AutomationAction::RemoveTags { tags } => {
                p.push(("do_remove_tags".into(), tags.join(", ")));
            }
            AutomationAction::Assign { to } => p.push((
                "do_assign".into(),
                to.map_or_else(|| "nobody".into(), |u| u.to_string()),
            )),
            AutomationAction::SetField {
                key,
                value: Some(v),
            } => p.push(("do_field".into(), field_token(key, &v.display()))),
            AutomationAction::AddNote { text } => p.push(("do_note".into(), text.clone())),
            AutomationAction::Notify { .. } => p.push(("do_notify".into(), "on".into())),
            _ => {}
        }
    }
    p
}

/// A rule in words for the list.
struct Row {
    key: String,
    name: String,
    enabled: bool,
    when: String,
    conditions: String,
    actions: String,
}

fn describe_trigger(t: &AutomationTrigger) -> String {
    match t {
        AutomationTrigger::Created => "a ticket is opened".into(),
        AutomationTrigger::CustomerReplied => "the customer replies".into(),
        AutomationTrigger::Updated => "a ticket changes".into(),
        AutomationTrigger::SlaBreached => "an SLA target is missed".into(),
        AutomationTrigger::Idle { status, hours } => {
            format!("{} for {hours} h with no change", status_label(*status))
        }
        _ => "—".into(),
    }
}

fn describe_action(a: &AutomationAction, names: &Names) -> String {
    match a {
        AutomationAction::SetStatus { status } => format!("status {}", status_label(*status)),
        AutomationAction::SetPriority { priority } => format!("priority {}", priority.as_str()),
        AutomationAction::AddTags { tags } => format!("tag +{}", tags.join(" +")),
        AutomationAction::RemoveTags { tags } => format!("tag −{}", tags.join(" −")),
        AutomationAction::Assign { to } => format!("assign to {}", names.of(*to, "nobody")),
        AutomationAction::SetField { key, value } => format!(
            "{key} = {}",
            value.as_ref().map_or_else(|| "(empty)".into(), |v| v.display())
        ),
        AutomationAction::AddNote { .. } => "internal note".into(),
        AutomationAction::Notify { .. } => "notify the assignee".into(),
        _ => "—".into(),
    }
}

/// The test's result, for the list page.
struct Tested {
    rule: String,
    number: String,
    message: String,
}

#[derive(Template)]
#[template(path = "admin_automations.html")]
struct AutomationsPage {
    page: Page,
    rows: Vec<Row>,
    /// The add or edit form, as typed or as saved.
    form: Pairs,
    editing: String,
    triggers: Vec<Choice>,
    statuses: Vec<Choice>,
    priorities: Vec<Choice>,
    channels: Vec<Choice>,
    field_values: Vec<Choice>,
    assignees: Vec<Choice>,
    error: FormError,
    tested: Option<Tested>,
}

impl AutomationsPage {
    fn v(&self, name: &str) -> &str {
        value(&self.form, name)
    }

    fn has(&self, name: &str, v: &str) -> bool {
        self.form.iter().any(|(k, x)| k == name && x == v)
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    form: Pairs,
    editing: &str,
    error: FormError,
    tested: Option<Tested>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
    let names = Names::load(helpdesk, ctx.actor.tenant_id).await?;
    let rows = settings
        .automations
        .iter()
        .map(|r| Row {
            key: r.key.clone(),
            name: r.name.clone(),
            enabled: r.enabled,
            when: describe_trigger(&r.trigger),
            conditions: if r.conditions.is_empty() {
                "any ticket".into()
            } else {
                r.conditions.iter().map(describe_condition).collect::<Vec<_>>().join(", ")
            },
            actions: r
                .actions
                .iter()
                .map(|a| describe_action(a, &names))
                .collect::<Vec<_>>()
                .join(" · "),
        })
        .collect();
    let pick = |name: &str| value(&form, name).to_string();
    let triggers = [
        ("created", "A ticket is opened"),
        ("customer_replied", "The customer replies"),
        ("updated", "A ticket changes"),
        ("sla_breached", "An SLA target is missed"),
        ("idle", "A ticket waits with no change"),
    ]
    .iter()
    .map(|(v, l)| Choice::new(v, l, &pick("trigger")))
    .collect();
    let statuses = TicketStatus::ALL
        .iter()
        .map(|s| Choice::new(s.as_str(), &status_label(*s), ""))
        .collect();
    let priorities = Priority::ALL
        .iter()
        .map(|p| Choice::new(p.as_str(), p.as_str(), ""))
        .collect();
    let channels = Channel::ALL
        .iter()
        .map(|c| Choice::new(c.as_str(), c.as_str(), ""))
        .collect();
    let mut field_values = Vec::new();
    for def in &settings.custom_fields {
        if let FieldKind::Dropdown { options } = &def.kind {
            for o in options {
                field_values.push(Choice::new(
                    &field_token(&def.key, o),
                    &format!("{}: {o}", def.label),
                    "",
                ));
            }
        }
    }
    let mut assignees = vec![Choice::new("nobody", "Nobody (back to the queue)", "")];
    for u in helpdesk.store().list_users(ctx.actor.tenant_id, None).await? {
        if u.is_staff() && u.active {
            assignees.push(Choice::new(&u.id.to_string(), &u.name, ""));
        }
    }
    let title = if editing.is_empty() {
        "Automations".to_string()
    } else {
        format!("Automation: {}", value(&form, "name"))
    };
    let refused = error.is_set();
    let page = html(&AutomationsPage {
        page: ctx.page(state, &title),
        rows,
        form,
        editing: editing.to_string(),
        triggers,
        statuses,
        priorities,
        channels,
        field_values,
        assignees,
        error,
        tested,
    });
    if refused { form::refused(page) } else { page }
}

async fn list_page(State(state): State<AppState>, AdminUser(ctx): AdminUser) -> WebResult<Response> {
    let form = vec![("enabled".into(), "on".into()), ("trigger".into(), "created".into())];
    render(&state, &ctx, form, "", FormError::default(), None).await
}

async fn edit_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
) -> WebResult<Response> {
    let rules = state.helpdesk().get_tenant(&ctx.actor).await?.settings.automations;
    let rule = rules
        .iter()
        .find(|r| r.key == key)
        .ok_or_else(|| helpdesk_core::Error::not_found("automation", &key))?;
    render(&state, &ctx, pairs_of(rule), &key, FormError::default(), None).await
}

/// Saves the rules with `change` applied; a refusal comes back on the form as typed.
async fn commit(
    state: &AppState,
    ctx: &Ctx,
    pairs: Pairs,
    editing: &str,
    change: impl FnOnce(&mut Vec<AutomationRule>, AutomationRule) -> Result<(), FormError>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let mut settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
    let key = if editing.is_empty() { value(&pairs, "key").to_string() } else { editing.to_string() };
    let error = match rule_of(&pairs, &key).and_then(|r| change(&mut settings.automations, r)) {
        Err(e) => e,
        Ok(()) => match helpdesk.update_settings(&ctx.actor, settings).await {
            Ok(_) => {
                return Ok(Redirect::to("/admin/automations?done=automation-saved").into_response());
            }
            // `settings.automations[2].actions[0].tags` is refused at the form as a whole,
            // with the part it names.
            Err(e) => FormError::from_core(&e, &[]).ok_or(e)?,
        },
    };
    render(state, ctx, pairs, editing, error, None).await
}

async fn add(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(pairs): Form<Pairs>,
) -> WebResult<Response> {
    commit(&state, &ctx, pairs, "", |rules, rule| {
        if rules.iter().any(|r| r.key == rule.key) {
            return Err(FormError::new("key", "A rule with this key exists already."));
        }
        rules.push(rule);
        Ok(())
    })
    .await
}

async fn save(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
    Form(pairs): Form<Pairs>,
) -> WebResult<Response> {
    let editing = key.clone();
    commit(&state, &ctx, pairs, &editing, move |rules, rule| {
        let slot = rules
            .iter_mut()
            .find(|r| r.key == key)
            .ok_or_else(|| FormError::general("This rule was deleted meanwhile."))?;
        *slot = rule;
        Ok(())
    })
    .await
}

/// The rules as keyed entries of the settings.
const RULES: Keyed<AutomationRule> = Keyed {
    entity: "automation",
    what: "the rule",
    page: "/admin/automations",
    note: "Tickets keep the events of the times it ran.",
    list: rule_list,
    key_name: rule_key_name,
};

fn rule_list(s: &mut helpdesk_core::domain::TenantSettings) -> &mut Vec<AutomationRule> {
    &mut s.automations
}

fn rule_key_name(r: &AutomationRule) -> (&str, &str) {
    (&r.key, &r.name)
}

async fn confirm_delete(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
) -> WebResult<Response> {
    RULES.confirm(&state, &ctx, &key).await
}

async fn delete(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
) -> WebResult<Response> {
    RULES.delete(&state, &ctx, &key).await?;
    Ok(Redirect::to("/admin/automations?done=automation-deleted").into_response())
}

/// The test form: a rule and a ticket number.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TestQuery {
    rule: String,
    number: String,
}

/// `GET /admin/automations/test`: what the rule would do to the ticket now; nothing is
/// written.
async fn test(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Query(q): Query<TestQuery>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let rules = helpdesk.get_tenant(&ctx.actor).await?.settings.automations;
    let message = match (
        rules.iter().find(|r| r.key == q.rule),
        q.number.trim().trim_start_matches('#').parse::<u64>(),
    ) {
        (None, _) => "Choose a rule.".to_string(),
        (_, Err(_)) => "Give a ticket number, like 42.".to_string(),
        (Some(rule), Ok(n)) => match helpdesk.store().get_ticket_by_number(ctx.actor.tenant_id, n).await? {
            None => format!("There is no ticket #{n}."),
            Some(t) => {
                let p = helpdesk.test_automation(&ctx.actor, rule.clone(), t.id).await?;
                match (p.matches, p.unmet) {
                    (false, Some(unmet)) => {
                        format!("Does not match ticket #{n}: the condition “{unmet}” does not hold.")
                    }
                    _ => {
                        let mut m = format!(
                            "Matches ticket #{n}. Running it now would add: {}.",
                            if p.would_add.is_empty() { "nothing".to_string() } else { p.would_add.join(", ") }
                        );
                        if !p.skipped.is_empty() {
                            m.push_str(&format!(" It would skip: {}.", p.skipped.join("; ")));
                        }
                        m
                    }
                }
            }
        },
    };
    let tested = Tested {
        rule: q.rule.clone(),
        number: q.number.clone(),
        message,
    };
    let form = vec![("enabled".into(), "on".into()), ("trigger".into(), "created".into())];
    render(&state, &ctx, form, "", FormError::default(), Some(tested)).await
}
