//! Rules for automations: which rules an admin may save, which triggers a commit's events
//! raise, and whether a ticket meets a rule's conditions. Running them is the service's
//! part (`crate::service`).

use jiff::{SignedDuration, Timestamp};

use crate::domain::{
    AuthorKind, AutomationAction, AutomationCondition, AutomationRule, AutomationTrigger,
    BusinessCalendar, Event, EventKind, MessageKind, Ticket, TicketStatus, field_tokens,
};
use crate::{Error, Result, fields, validate};

/// Most rules a tenant may keep.
pub const MAX_RULES: usize = 100;
/// Most conditions or actions of one rule.
pub const MAX_PARTS: usize = 10;
/// Longest note an action adds, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;
/// How many rounds of rules one commit runs: a rule's actions may raise triggers for other
/// rules, up to this depth; each rule runs at most once per commit.
pub const MAX_DEPTH: usize = 3;

/// Checks and normalizes an admin's rules against the rest of the settings (`categories`
/// and `custom_fields` already checked). Refusals name the part:
/// `settings.automations[2].actions[0].tags`.
pub fn check_rules(
    rules: &[AutomationRule],
    categories: &[String],
    field_defs: &[crate::domain::CustomFieldDef],
) -> Result<Vec<AutomationRule>> {
    if rules.len() > MAX_RULES {
        return Err(Error::validation(
            "settings.automations",
            format!("at most {MAX_RULES} rules"),
        ));
    }
    let mut out: Vec<AutomationRule> = Vec::with_capacity(rules.len());
    for (i, rule) in rules.iter().enumerate() {
        let at = |part: &str| format!("settings.automations[{i}].{part}");
        let key = validate::identifier(&at("key"), &rule.key)?;
        if out.iter().any(|r| r.key == key) {
            return Err(Error::validation(
                at("key"),
                format!("{key:?} is used twice"),
            ));
        }
        let name = validate::required_line(&at("name"), &rule.name, 80)?;
        if let AutomationTrigger::Idle { hours, .. } = rule.trigger
            && !(1..=8760).contains(&hours)
        {
            return Err(Error::validation(at("trigger.hours"), "1 to 8760 hours"));
        }
        if let AutomationTrigger::SlaDueSoon { minutes } = rule.trigger
            && !(1..=10080).contains(&minutes)
        {
            return Err(Error::validation(
                at("trigger.minutes"),
                "1 to 10080 minutes",
            ));
        }
        if rule.conditions.len() > MAX_PARTS {
            return Err(Error::validation(
                at("conditions"),
                format!("at most {MAX_PARTS} conditions"),
            ));
        }
        if rule.actions.is_empty() || rule.actions.len() > MAX_PARTS {
            return Err(Error::validation(
                at("actions"),
                format!("1 to {MAX_PARTS} actions"),
            ));
        }
        let mut conditions = Vec::with_capacity(rule.conditions.len());
        for (j, c) in rule.conditions.iter().enumerate() {
            let field = at(&format!("conditions[{j}]"));
            conditions.push(check_condition(&field, c, categories, field_defs)?);
        }
        let mut actions = Vec::with_capacity(rule.actions.len());
        for (j, a) in rule.actions.iter().enumerate() {
            let field = at(&format!("actions[{j}]"));
            actions.push(check_action(&field, a, field_defs)?);
        }
        out.push(AutomationRule {
            key,
            name,
            enabled: rule.enabled,
            trigger: rule.trigger,
            conditions,
            actions,
        });
    }
    Ok(out)
}

fn check_condition(
    field: &str,
    c: &AutomationCondition,
    categories: &[String],
    field_defs: &[crate::domain::CustomFieldDef],
) -> Result<AutomationCondition> {
    let empty = |list_len: usize| {
        if list_len == 0 {
            Err(Error::validation(
                format!("{field}.any_of"),
                "choose at least one",
            ))
        } else {
            Ok(())
        }
    };
    Ok(match c {
        AutomationCondition::Status { any_of } => {
            empty(any_of.len())?;
            c.clone()
        }
        AutomationCondition::Priority { any_of } => {
            empty(any_of.len())?;
            c.clone()
        }
        AutomationCondition::Channel { any_of } => {
            empty(any_of.len())?;
            c.clone()
        }
        AutomationCondition::Category { any_of } => {
            empty(any_of.len())?;
            if let Some(bad) = any_of.iter().find(|x| !categories.contains(x)) {
                return Err(Error::validation(
                    format!("{field}.any_of"),
                    format!("{bad:?} is not one of the categories"),
                ));
            }
            c.clone()
        }
        AutomationCondition::HasTag { tag } => AutomationCondition::HasTag {
            tag: one_tag(&format!("{field}.tag"), tag)?,
        },
        AutomationCondition::LacksTag { tag } => AutomationCondition::LacksTag {
            tag: one_tag(&format!("{field}.tag"), tag)?,
        },
        AutomationCondition::Field { token } => {
            let known = token
                .split_once('=')
                .is_some_and(|(key, _)| field_defs.iter().any(|d| d.key == key));
            if !known {
                return Err(Error::validation(
                    format!("{field}.token"),
                    format!("{token:?} is not `field=value` of one of the custom fields"),
                ));
            }
            c.clone()
        }
        other => other.clone(),
    })
}

fn one_tag(field: &str, tag: &str) -> Result<String> {
    Ok(validate::required_line(field, tag, 50)?.to_lowercase())
}

fn check_action(
    field: &str,
    a: &AutomationAction,
    field_defs: &[crate::domain::CustomFieldDef],
) -> Result<AutomationAction> {
    Ok(match a {
        AutomationAction::AddTags { tags } => AutomationAction::AddTags {
            tags: nonempty_tags(&format!("{field}.tags"), tags)?,
        },
        AutomationAction::RemoveTags { tags } => AutomationAction::RemoveTags {
            tags: nonempty_tags(&format!("{field}.tags"), tags)?,
        },
        AutomationAction::SetField { key, value } => {
            let def = field_defs.iter().find(|d| d.key == *key).ok_or_else(|| {
                Error::validation(
                    format!("{field}.key"),
                    format!("{key:?} is not a custom field"),
                )
            })?;
            let value = match value {
                Some(v) => fields::check_value(def, v)
                    .map_err(|e| Error::validation(format!("{field}.value"), e.to_string()))?,
                None => None,
            };
            AutomationAction::SetField {
                key: key.clone(),
                value,
            }
        }
        AutomationAction::AddNote { text } => {
            let text = validate::body(&format!("{field}.text"), text, true)?;
            if text.chars().count() > MAX_NOTE_CHARS {
                return Err(Error::validation(
                    format!("{field}.text"),
                    format!("at most {MAX_NOTE_CHARS} characters"),
                ));
            }
            AutomationAction::AddNote { text }
        }
        AutomationAction::Notify { users } if users.len() > 20 => {
            return Err(Error::validation(
                format!("{field}.users"),
                "at most 20 people",
            ));
        }
        other => other.clone(),
    })
}

fn nonempty_tags(field: &str, tags: &[String]) -> Result<Vec<String>> {
    let tags =
        validate::tags(tags).map_err(|e| Error::validation(field.to_string(), e.to_string()))?;
    if tags.is_empty() {
        return Err(Error::validation(
            field.to_string(),
            "name at least one tag",
        ));
    }
    Ok(tags)
}

/// The triggers the events of a commit raise (`Idle` never: the sweep decides it).
/// Created: a `Created` event. CustomerReplied: a reply or chat message by the requester
/// on an existing ticket.
/// SlaBreached: a breach. Updated: any event of an existing ticket other than the record
/// of a rule that ran.
pub fn triggers_of(events: &[Event]) -> Vec<AutomationTrigger> {
    let mut out = Vec::new();
    let mut push = |t: AutomationTrigger| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    let created = events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Created { .. }));
    for e in events {
        match &e.kind {
            EventKind::Created { .. } => push(AutomationTrigger::Created),
            // The opening message of a new ticket is not a reply.
            EventKind::MessageAdded {
                kind: MessageKind::Reply | MessageKind::Chat,
                author_kind: AuthorKind::Customer,
                ..
            } if !created => push(AutomationTrigger::CustomerReplied),
            EventKind::SlaBreached { .. } => push(AutomationTrigger::SlaBreached),
            _ => {}
        }
        if !created && !matches!(e.kind, EventKind::AutomationApplied { .. }) {
            push(AutomationTrigger::Updated);
        }
    }
    out
}

/// Whether `at` falls in the calendar's business hours (the minute starting at `at`).
pub fn in_business_hours(calendar: &BusinessCalendar, at: Timestamp) -> Result<bool> {
    let end = at
        .checked_add(SignedDuration::from_mins(1))
        .map_err(|_| Error::validation("at", "out of range"))?;
    Ok(crate::sla::business_time_between(calendar, at, end)? > SignedDuration::ZERO)
}

/// The first condition `ticket` does not meet, in words; `None` when it meets them all.
pub fn unmet_condition(
    conditions: &[AutomationCondition],
    ticket: &Ticket,
    business_hours: bool,
) -> Option<String> {
    conditions.iter().find_map(|c| {
        let met = match c {
            AutomationCondition::Status { any_of } => any_of.contains(&ticket.status),
            AutomationCondition::Priority { any_of } => any_of.contains(&ticket.priority),
            AutomationCondition::Channel { any_of } => any_of.contains(&ticket.channel),
            AutomationCondition::Category { any_of } => ticket
                .category
                .as_ref()
                .is_some_and(|cat| any_of.contains(cat)),
            AutomationCondition::HasTag { tag } => ticket.tags.contains(tag),
            AutomationCondition::LacksTag { tag } => !ticket.tags.contains(tag),
            AutomationCondition::Field { token } => {
                field_tokens(&ticket.custom_fields).contains(token)
            }
            AutomationCondition::Unassigned => ticket.assignee.is_none(),
            AutomationCondition::BusinessHours { inside } => *inside == business_hours,
        };
        (!met).then(|| describe_condition(c))
    })
}

/// A condition in words ("status is open or pending").
pub fn describe_condition(c: &AutomationCondition) -> String {
    let list = |items: Vec<String>| items.join(" or ");
    match c {
        AutomationCondition::Status { any_of } => format!(
            "status is {}",
            list(any_of.iter().map(|s| s.as_str().to_string()).collect())
        ),
        AutomationCondition::Priority { any_of } => format!(
            "priority is {}",
            list(any_of.iter().map(|p| p.as_str().to_string()).collect())
        ),
        AutomationCondition::Channel { any_of } => format!(
            "channel is {}",
            list(any_of.iter().map(|p| p.as_str().to_string()).collect())
        ),
        AutomationCondition::Category { any_of } => {
            format!("category is {}", list(any_of.clone()))
        }
        AutomationCondition::HasTag { tag } => format!("tagged {tag}"),
        AutomationCondition::LacksTag { tag } => format!("not tagged {tag}"),
        AutomationCondition::Field { token } => format!("field {token}"),
        AutomationCondition::Unassigned => "unassigned".into(),
        AutomationCondition::BusinessHours { inside: true } => "in business hours".into(),
        AutomationCondition::BusinessHours { inside: false } => "outside business hours".into(),
    }
}

/// Whether `ticket`'s next SLA target (its first response while it has none, else its
/// resolution; not yet missed) is due within `minutes` of `now`, and nobody changed the
/// ticket since that window opened: when an `SlaDueSoon` rule runs (running changes the
/// ticket, so it runs once per target). A paused clock is never due soon.
pub fn due_soon_unnoticed(ticket: &Ticket, minutes: u32, now: Timestamp) -> bool {
    let sla = &ticket.sla;
    if sla.paused_since.is_some() || !ticket.status.is_open() {
        return false;
    }
    let due = if ticket.first_response_at.is_none() && !sla.first_response_breached {
        sla.first_response_due
    } else if !sla.resolution_breached {
        sla.resolution_due
    } else {
        None
    };
    let Some(due) = due else {
        return false;
    };
    let Ok(opens) = due.checked_sub(SignedDuration::from_mins(i64::from(minutes))) else {
        return false;
    };
    now < due && now >= opens && ticket.updated_at < opens
}

/// The idle rules' horizon: whether `ticket` has waited in `status` with no change for
/// `hours` at `now`.
pub fn idle_since(ticket: &Ticket, status: TicketStatus, hours: u32, now: Timestamp) -> bool {
    ticket.status == status
        && now
            .checked_sub(SignedDuration::from_hours(i64::from(hours)))
            .is_ok_and(|limit| ticket.updated_at <= limit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::{AutomationAction, Priority};

    fn rule(key: &str) -> AutomationRule {
        AutomationRule {
            key: key.into(),
            name: "Rule".into(),
            enabled: true,
            trigger: AutomationTrigger::Created,
            conditions: vec![AutomationCondition::HasTag {
                tag: " VIP ".into(),
            }],
            actions: vec![AutomationAction::SetPriority {
                priority: Priority::Urgent,
            }],
        }
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field.into_owned(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn rules_are_normalized_and_refused_at_their_part() {
        let ok = check_rules(&[rule("a")], &[], &[]).unwrap();
        assert_eq!(
            ok[0].conditions[0],
            AutomationCondition::HasTag { tag: "vip".into() }
        );
        assert_eq!(
            field_of(check_rules(&[rule("a"), rule("a")], &[], &[]).unwrap_err()),
            "settings.automations[1].key"
        );
        let mut no_actions = rule("b");
        no_actions.actions.clear();
        assert_eq!(
            field_of(check_rules(&[no_actions], &[], &[]).unwrap_err()),
            "settings.automations[0].actions"
        );
        let mut bad_field = rule("c");
        bad_field.conditions = vec![AutomationCondition::Field {
            token: "plan=Pro".into(),
        }];
        assert_eq!(
            field_of(check_rules(&[bad_field], &[], &[]).unwrap_err()),
            "settings.automations[0].conditions[0].token"
        );
        let mut idle = rule("d");
        idle.trigger = AutomationTrigger::Idle {
            status: TicketStatus::Pending,
            hours: 0,
        };
        assert_eq!(
            field_of(check_rules(&[idle], &[], &[]).unwrap_err()),
            "settings.automations[0].trigger.hours"
        );
        let mut empty_tags = rule("e");
        empty_tags.actions = vec![AutomationAction::AddTags { tags: vec![] }];
        assert_eq!(
            field_of(check_rules(&[empty_tags], &[], &[]).unwrap_err()),
            "settings.automations[0].actions[0].tags"
        );
    }
}
