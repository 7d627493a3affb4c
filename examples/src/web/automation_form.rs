//! The automation rule form of the admin's automations page: the rule a posted form
//! describes, the form's inputs of a saved rule, and a rule in words for the list.

use helpdesk_core::domain::{
    AutomationAction, AutomationCondition, AutomationRule, AutomationTrigger, CannedResponse,
    Channel, Priority, TicketStatus, WebhookEndpoint, field_token,
};
use helpdesk_core::{CannedResponseId, WebhookId};

use super::admin::skill_list;
use super::form::FormError;
use super::names::Names;
use super::views::status_label;

/// The rule form's inputs as posted (repeated names for the status checkboxes).
pub(super) type Pairs = Vec<(String, String)>;

pub(super) fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
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
pub(super) fn rule_of(pairs: &Pairs, key: &str) -> Result<AutomationRule, FormError> {
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
        "sla_due_soon" => AutomationTrigger::SlaDueSoon {
            minutes: value(pairs, "due_minutes")
                .parse()
                .map_err(|_| FormError::new("due_minutes", "Give whole minutes (1 to 10080)."))?,
        },
        _ => return Err(FormError::new("trigger", "Choose when the rule runs.")),
    };
    let mut conditions = Vec::new();
    let statuses = values(pairs, "if_status")
        .into_iter()
        .filter_map(|s| parse::<TicketStatus>("if_status", s).transpose())
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
        actions.push(AutomationAction::AddNote {
            text: note.to_string(),
        });
    }
    if value(pairs, "do_notify") == "on" {
        actions.push(AutomationAction::Notify { users: Vec::new() });
    }
    if let Some(id) = parse::<CannedResponseId>("do_canned", value(pairs, "do_canned"))? {
        actions.push(AutomationAction::SendCannedResponse {
            canned_response: id,
        });
    }
    if let Some(webhook) = parse::<WebhookId>("do_webhook", value(pairs, "do_webhook"))? {
        actions.push(AutomationAction::CallWebhook { webhook });
    }
    if actions.is_empty() {
        return Err(FormError::general(
            "Choose at least one thing for the rule to do.",
        ));
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
pub(super) fn pairs_of(rule: &AutomationRule) -> Pairs {
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
    if let AutomationTrigger::SlaDueSoon { minutes } = rule.trigger {
        p.push(("due_minutes".into(), minutes.to_string()));
    }
    for c in &rule.conditions {
        match c {
            AutomationCondition::Status { any_of } => {
                p.extend(
                    any_of
                        .iter()
                        .map(|s| ("if_status".into(), s.as_str().into())),
                );
            }
            AutomationCondition::Priority { any_of } => {
                p.extend(
                    any_of
                        .first()
                        .map(|x| ("if_priority".into(), x.as_str().into())),
                );
            }
            AutomationCondition::Channel { any_of } => {
                p.extend(
                    any_of
                        .first()
                        .map(|x| ("if_channel".into(), x.as_str().into())),
                );
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
            AutomationAction::SendCannedResponse { canned_response } => {
                p.push(("do_canned".into(), canned_response.to_string()));
            }
            AutomationAction::CallWebhook { webhook } => {
                p.push(("do_webhook".into(), webhook.to_string()));
            }
            _ => {}
        }
    }
    p
}

/// A rule in words for the list.
pub(super) struct Row {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) enabled: bool,
    pub(super) when: String,
    pub(super) conditions: String,
    pub(super) actions: String,
}

pub(super) fn describe_trigger(t: &AutomationTrigger) -> String {
    match t {
        AutomationTrigger::Created => "a ticket is opened".into(),
        AutomationTrigger::CustomerReplied => "the customer replies".into(),
        AutomationTrigger::Updated => "a ticket changes".into(),
        AutomationTrigger::SlaBreached => "an SLA target is missed".into(),
        AutomationTrigger::SlaDueSoon { minutes } => {
            format!("an SLA target is due within {minutes} min and nobody touched the ticket")
        }
        AutomationTrigger::Idle { status, hours } => {
            format!("{} for {hours} h with no change", status_label(*status))
        }
        _ => "—".into(),
    }
}

/// What an action's description names besides people: the shared canned responses and
/// the webhook endpoints.
pub(super) struct Targets<'a> {
    pub(super) names: &'a Names,
    pub(super) canned: &'a [CannedResponse],
    pub(super) webhooks: &'a [WebhookEndpoint],
}

pub(super) fn describe_action(a: &AutomationAction, targets: &Targets<'_>) -> String {
    let Targets {
        names,
        canned,
        webhooks,
    } = targets;
    match a {
        AutomationAction::SetStatus { status } => format!("status {}", status_label(*status)),
        AutomationAction::SetPriority { priority } => format!("priority {}", priority.as_str()),
        AutomationAction::AddTags { tags } => format!("tag +{}", tags.join(" +")),
        AutomationAction::RemoveTags { tags } => format!("tag −{}", tags.join(" −")),
        AutomationAction::Assign { to } => format!("assign to {}", names.of(*to, "nobody")),
        AutomationAction::SetField { key, value } => format!(
            "{key} = {}",
            value
                .as_ref()
                .map_or_else(|| "(empty)".into(), |v| v.display())
        ),
        AutomationAction::AddNote { .. } => "internal note".into(),
        AutomationAction::Notify { .. } => "notify the assignee".into(),
        AutomationAction::SendCannedResponse { canned_response } => canned
            .iter()
            .find(|c| c.id == *canned_response)
            .map_or_else(
                || "send a deleted canned response".into(),
                |c| format!("send “{}”", c.name),
            ),
        AutomationAction::CallWebhook { webhook } => {
            webhooks.iter().find(|w| w.id == *webhook).map_or_else(
                || "call a deleted webhook".into(),
                |w| format!("call {}", w.url),
            )
        }
        _ => "—".into(),
    }
}
