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
use helpdesk_core::domain::{AutomationRule, Channel, Priority, TicketStatus};
use serde::Deserialize;

use super::agent::Choice;
use super::app::AppState;
use super::automation_form::{
    Pairs, Row, Targets, describe_action, describe_trigger, pairs_of, rule_of, value,
};
use super::error::WebResult;
use super::form::{self, FormError};
use super::keyed::Keyed;
use super::names::Names;
use super::session::{AdminUser, Ctx};
use super::views::{Page, html, status_label};

/// The automation routes (admins).
pub(crate) fn routes() -> Router<AppState> {
    RULES
        .delete_routes("/admin/automations?done=automation-deleted")
        .route("/admin/automations", get(list_page).post(add))
        .route("/admin/automations/test", get(test))
        .route("/admin/automations/{key}", get(edit_page).post(save))
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
    /// The shared canned responses a rule may send.
    canned_responses: Vec<Choice>,
    /// The webhook endpoints a rule may call.
    webhooks: Vec<Choice>,
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
    // Rules send shared canned responses only.
    let canned: Vec<_> = helpdesk
        .list_canned_responses(&ctx.actor, "")
        .await?
        .into_iter()
        .filter(|c| c.owner.is_none())
        .collect();
    let webhooks = helpdesk.list_webhooks(&ctx.actor).await?;
    let targets = Targets {
        names: &names,
        canned: &canned,
        webhooks: &webhooks,
    };
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
                r.conditions
                    .iter()
                    .map(describe_condition)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            actions: r
                .actions
                .iter()
                .map(|a| describe_action(a, &targets))
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
        ("sla_due_soon", "An SLA target is due soon"),
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
    let field_values = super::fields::dropdown_choices(&settings, "", true);
    let mut assignees = vec![Choice::new("nobody", "Nobody (back to the queue)", "")];
    for u in helpdesk
        .store()
        .list_users(ctx.actor.tenant_id, None)
        .await?
    {
        if u.is_staff() && u.active {
            assignees.push(Choice::new(&u.id.to_string(), &u.name, ""));
        }
    }
    let canned_responses = canned
        .iter()
        .map(|c| Choice::new(&c.id.to_string(), &c.name, &pick("do_canned")))
        .collect();
    let webhook_choices = webhooks
        .iter()
        .map(|w| Choice::new(&w.id.to_string(), &w.url, &pick("do_webhook")))
        .collect();
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
        canned_responses,
        webhooks: webhook_choices,
        error,
        tested,
    });
    if refused { form::refused(page) } else { page }
}

async fn list_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
) -> WebResult<Response> {
    let form = vec![
        ("enabled".into(), "on".into()),
        ("trigger".into(), "created".into()),
    ];
    render(&state, &ctx, form, "", FormError::default(), None).await
}

async fn edit_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(key): Path<String>,
) -> WebResult<Response> {
    let rules = state
        .helpdesk()
        .get_tenant(&ctx.actor)
        .await?
        .settings
        .automations;
    let rule = rules
        .iter()
        .find(|r| r.key == key)
        .ok_or_else(|| helpdesk_core::Error::not_found("automation", &key))?;
    render(
        &state,
        &ctx,
        pairs_of(rule),
        &key,
        FormError::default(),
        None,
    )
    .await
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
    let key = if editing.is_empty() {
        value(&pairs, "key").to_string()
    } else {
        editing.to_string()
    };
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
        RULES.insert(rules, rule)
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
        RULES.replace(rules, &key, rule)
    })
    .await
}

/// The rules as keyed entries of the settings.
static RULES: Keyed<AutomationRule> = Keyed {
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
        (Some(rule), Ok(n)) => match helpdesk
            .store()
            .get_ticket_by_number(ctx.actor.tenant_id, n)
            .await?
        {
            None => format!("There is no ticket #{n}."),
            Some(t) => {
                let p = helpdesk
                    .test_automation(&ctx.actor, rule.clone(), t.id)
                    .await?;
                match (p.matches, p.unmet) {
                    (false, Some(unmet)) => {
                        format!(
                            "Does not match ticket #{n}: the condition “{unmet}” does not hold."
                        )
                    }
                    _ => {
                        let mut m = format!(
                            "Matches ticket #{n}. Running it now would add: {}.",
                            if p.would_add.is_empty() {
                                "nothing".to_string()
                            } else {
                                p.would_add.join(", ")
                            }
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
    let form = vec![
        ("enabled".into(), "on".into()),
        ("trigger".into(), "created".into()),
    ];
    render(&state, &ctx, form, "", FormError::default(), Some(tested)).await
}
