//! Automation rules through the service: rules triggered by a change run inside its
//! commit with an event naming them, conditions hold them back, rules that trigger each
//! other stop, an action that does not suit the ticket is skipped and recorded, idle rules
//! run from the sweep once per quiet spell, a rule can be tested without applying it, and
//! bad rules are refused naming the part.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{
    AuthorKind, AutomationAction, AutomationCondition, AutomationRule, AutomationTrigger, Channel,
    EventKind, MessageKind, NotificationKind, Priority, TicketStatus,
};
use helpdesk_core::service::{NewReply, NewTicket, TicketPatch};
use helpdesk_core::{Error, TicketId};

use common::{World, world};

fn rule(key: &str, trigger: AutomationTrigger, actions: Vec<AutomationAction>) -> AutomationRule {
    AutomationRule {
        key: key.into(),
        name: key.replace('_', " "),
        enabled: true,
        trigger,
        conditions: Vec::new(),
        actions,
    }
}

async fn with_rules(w: &World, rules: Vec<AutomationRule>) {
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    settings.automations = rules;
    w.hd.update_settings(&w.admin, settings).await.unwrap();
}

/// The keys of the rules that ran on the ticket, in order.
async fn ran(w: &World, id: TicketId) -> Vec<String> {
    w.hd.get_ticket(&w.admin, id)
        .await
        .unwrap()
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AutomationApplied { rule, .. } => Some(rule.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_rule_runs_in_the_commit_that_triggers_it() {
    let w = world().await;
    let mut urgent = rule(
        "vip_first",
        AutomationTrigger::Created,
        vec![
            AutomationAction::SetPriority {
                priority: Priority::Urgent,
            },
            AutomationAction::AddTags {
                tags: vec!["vip-queue".into()],
            },
            AutomationAction::AddNote {
                text: "VIP customer: answer within the hour.".into(),
            },
            AutomationAction::Notify { users: Vec::new() },
        ],
    );
    urgent.conditions = vec![AutomationCondition::Channel {
        any_of: vec![Channel::Form],
    }];
    with_rules(&w, vec![urgent]).await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Cannot log in", "Locked out."))
            .await
            .unwrap()
            .ticket;
    let view = w.hd.get_ticket(&w.admin, t.id).await.unwrap();
    assert_eq!(view.ticket.priority, Priority::Urgent);
    assert!(view.ticket.tags.contains(&"vip-queue".to_string()));
    assert_eq!(ran(&w, t.id).await, ["vip_first"]);
    // One commit: every event of the ticket has version 1.
    assert!(view.events.iter().all(|e| e.version == 1));
    // The record of the rule comes before its actions' events, made by nobody.
    let at = view
        .events
        .iter()
        .position(|e| matches!(e.kind, EventKind::AutomationApplied { .. }))
        .unwrap();
    assert!(matches!(
        view.events[at + 1].kind,
        EventKind::PriorityChanged { .. }
    ));
    assert!(view.events[at..].iter().all(|e| e.actor.is_none()));
    let note = view
        .messages
        .iter()
        .find(|m| m.kind == MessageKind::Note)
        .unwrap();
    assert_eq!(note.author_kind, AuthorKind::System);
    // The customer sees neither the note nor the rule's tag's reason.
    let theirs = w.hd.get_ticket(&w.customer, t.id).await.unwrap();
    assert!(theirs.messages.iter().all(|m| m.kind != MessageKind::Note));
    let outbox = w.store.list_outbox(w.tenant.id).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|o| o.notification.kind == NotificationKind::Automation)
    );

    // A chat is not a form: the condition holds the rule back.
    let chat = NewTicket {
        channel: Some(Channel::Email),
        ..NewTicket::new("By mail", "Hello.")
    };
    let other = w.hd.open_ticket(&w.agent, chat).await.unwrap().ticket;
    assert!(ran(&w, other.id).await.is_empty());
}

#[tokio::test]
async fn a_customer_reply_triggers_its_rules_but_opening_a_ticket_is_not_a_reply() {
    let w = world().await;
    let mut answered = rule(
        "customer_answered",
        AutomationTrigger::CustomerReplied,
        vec![
            AutomationAction::AddTags {
                tags: vec!["answered".into()],
            },
            AutomationAction::SetPriority {
                priority: Priority::High,
            },
        ],
    );
    // Conditions look at the ticket after the change: the reply reopened it.
    answered.conditions = vec![
        AutomationCondition::Status {
            any_of: vec![TicketStatus::Open],
        },
        AutomationCondition::LacksTag {
            tag: "answered".into(),
        },
    ];
    with_rules(&w, vec![answered]).await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Invoice", "Where is it?"))
            .await
            .unwrap()
            .ticket;
    assert!(ran(&w, t.id).await.is_empty());
    w.hd.transition(&w.agent, t.id, TicketStatus::Pending)
        .await
        .unwrap();
    assert!(
        ran(&w, t.id).await.is_empty(),
        "an agent's change is not a reply"
    );
    w.hd.reply(&w.customer, t.id, NewReply::new("Here is the number: 42."))
        .await
        .unwrap();
    let now = w.hd.get_ticket(&w.agent, t.id).await.unwrap().ticket;
    assert_eq!(now.status, TicketStatus::Open);
    assert!(now.tags.contains(&"answered".to_string()));
    assert_eq!(now.priority, Priority::High);
    assert_eq!(ran(&w, t.id).await, ["customer_answered"]);
    // Tagged already: the condition holds the rule back on the next reply.
    w.hd.reply(&w.customer, t.id, NewReply::new("Any news?"))
        .await
        .unwrap();
    assert_eq!(ran(&w, t.id).await, ["customer_answered"]);
}

#[tokio::test]
async fn rules_that_trigger_each_other_stop_and_skipped_actions_are_recorded() {
    let w = world().await;
    let mut ping = rule(
        "ping",
        AutomationTrigger::Updated,
        vec![
            AutomationAction::RemoveTags {
                tags: vec!["ping".into()],
            },
            AutomationAction::AddTags {
                tags: vec!["pong".into()],
            },
        ],
    );
    ping.conditions = vec![AutomationCondition::HasTag { tag: "ping".into() }];
    let mut pong = rule(
        "pong",
        AutomationTrigger::Updated,
        vec![
            AutomationAction::RemoveTags {
                tags: vec!["pong".into()],
            },
            AutomationAction::AddTags {
                tags: vec!["ping".into()],
            },
            // Closing a new ticket is not allowed: skipped, the rest runs.
            AutomationAction::SetStatus {
                status: TicketStatus::Closed,
            },
        ],
    );
    pong.conditions = vec![AutomationCondition::HasTag { tag: "pong".into() }];
    with_rules(&w, vec![ping, pong]).await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Loop", "Tags."))
            .await
            .unwrap()
            .ticket;
    let patched =
        w.hd.update_ticket(
            &w.agent,
            t.id,
            TicketPatch {
                tags: Some(vec!["ping".into()]),
                ..TicketPatch::default()
            },
        )
        .await;
    let patched = patched.unwrap();
    // ping ran, then pong (its trigger: ping's change), then nothing: each once.
    assert_eq!(ran(&w, t.id).await, ["ping", "pong"]);
    assert_eq!(patched.tags, ["ping"]);
    assert_ne!(patched.status, TicketStatus::Closed);
    let view = w.hd.get_ticket(&w.admin, t.id).await.unwrap();
    let skipped: Vec<String> = view
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AutomationApplied { rule, skipped, .. } if rule == "pong" => {
                Some(skipped.clone())
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].starts_with("set_status"), "{skipped:?}");
}

#[tokio::test]
async fn idle_rules_run_from_the_sweep_once_per_quiet_spell() {
    let w = world().await;
    let nudge = rule(
        "pending_too_long",
        AutomationTrigger::Idle {
            status: TicketStatus::Pending,
            hours: 48,
        },
        vec![
            AutomationAction::AddNote {
                text: "No answer for two days.".into(),
            },
            AutomationAction::SetStatus {
                status: TicketStatus::Resolved,
            },
        ],
    );
    with_rules(&w, vec![nudge]).await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Waiting", "For the customer."))
            .await
            .unwrap()
            .ticket;
    w.hd.transition(&w.agent, t.id, TicketStatus::Pending)
        .await
        .unwrap();
    let report = w.hd.automation_sweep().await.unwrap();
    assert!(report.ran);
    assert_eq!(report.applied, 0, "not idle long enough yet");
    w.clock.advance(std::time::Duration::from_secs(49 * 3600));
    assert_eq!(w.hd.automation_sweep().await.unwrap().applied, 1);
    assert_eq!(w.hd.automation_sweep().await.unwrap().applied, 0, "once");
    let now = w.hd.get_ticket(&w.agent, t.id).await.unwrap().ticket;
    assert_eq!(now.status, TicketStatus::Resolved);
    assert_eq!(ran(&w, t.id).await, ["pending_too_long"]);
}

#[tokio::test]
async fn a_rule_is_tested_without_being_applied_and_bad_rules_are_refused() {
    let w = world().await;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Test me", "Text."))
            .await
            .unwrap()
            .ticket;
    let before = w.hd.get_ticket(&w.admin, t.id).await.unwrap();
    let mut r = rule(
        "tag_it",
        AutomationTrigger::Updated,
        vec![AutomationAction::AddTags {
            tags: vec!["checked".into()],
        }],
    );
    r.enabled = false;
    let preview =
        w.hd.test_automation(&w.admin, r.clone(), t.id)
            .await
            .unwrap();
    assert!(preview.matches);
    assert_eq!(preview.would_add, ["tags_changed"]);
    r.conditions = vec![AutomationCondition::HasTag { tag: "vip".into() }];
    let preview =
        w.hd.test_automation(&w.admin, r.clone(), t.id)
            .await
            .unwrap();
    assert!(!preview.matches);
    assert_eq!(preview.unmet.as_deref(), Some("tagged vip"));
    let after = w.hd.get_ticket(&w.admin, t.id).await.unwrap();
    assert_eq!(after.ticket, before.ticket, "testing writes nothing");
    assert!(matches!(
        w.hd.test_automation(&w.agent, r.clone(), t.id).await,
        Err(Error::Forbidden { .. })
    ));

    // A disabled rule never runs.
    r.conditions.clear();
    with_rules(&w, vec![r]).await;
    w.hd.transition(&w.agent, t.id, TicketStatus::Open)
        .await
        .unwrap();
    assert!(ran(&w, t.id).await.is_empty());

    // Bad rules are refused at their part.
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    settings.automations = vec![rule(
        "Bad Key",
        AutomationTrigger::Created,
        vec![AutomationAction::Notify { users: vec![] }],
    )];
    match w.hd.update_settings(&w.admin, settings).await {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "settings.automations[0].key"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_idle_rule_reaches_every_waiting_ticket_beyond_one_page() {
    let w = world().await;
    let nudge = rule(
        "pending_reminder",
        AutomationTrigger::Idle {
            status: TicketStatus::Pending,
            hours: 24,
        },
        vec![AutomationAction::AddTags {
            tags: vec!["reminded".into()],
        }],
    );
    with_rules(&w, vec![nudge]).await;
    // More than one page of the listing (200).
    let mut ids = Vec::new();
    for i in 0..205 {
        let t =
            w.hd.open_ticket(
                &w.customer,
                NewTicket::new(&format!("Waiting {i}"), "Text."),
            )
            .await
            .unwrap()
            .ticket;
        w.hd.transition(&w.agent, t.id, TicketStatus::Pending)
            .await
            .unwrap();
        ids.push(t.id);
    }
    w.clock.advance(std::time::Duration::from_secs(25 * 3600));
    assert_eq!(w.hd.automation_sweep().await.unwrap().applied, 205);
    for id in [ids[0], ids[204]] {
        let t = w.hd.get_ticket(&w.agent, id).await.unwrap().ticket;
        assert!(t.tags.contains(&"reminded".to_string()));
    }
    assert_eq!(w.hd.automation_sweep().await.unwrap().applied, 0, "once");
}

#[tokio::test]
async fn a_due_soon_rule_runs_once_per_sla_target_and_not_on_a_ticket_someone_touched() {
    let w = world().await;
    let warn = rule(
        "first_response_due_soon",
        AutomationTrigger::SlaDueSoon { minutes: 30 },
        vec![AutomationAction::AddTags {
            tags: vec!["due-soon".into()],
        }],
    );
    with_rules(&w, vec![warn]).await;
    let quiet =
        w.hd.open_ticket(&w.customer, NewTicket::new("Quiet one", "Nobody answers."))
            .await
            .unwrap()
            .ticket;
    let touched =
        w.hd.open_ticket(&w.customer, NewTicket::new("Touched one", "Someone looks."))
            .await
            .unwrap()
            .ticket;
    let quiet = w.hd.get_ticket(&w.agent, quiet.id).await.unwrap().ticket;
    let due = quiet
        .sla
        .first_response_due
        .expect("a first-response target");
    assert_eq!(
        w.hd.automation_sweep().await.unwrap().applied,
        0,
        "not due soon yet"
    );

    // The window opens 30 minutes before the target; someone touches one ticket after.
    let until_window = due.duration_since(w.hd.now()) - jiff::SignedDuration::from_mins(25);
    w.clock
        .advance(std::time::Duration::try_from(until_window).unwrap());
    w.hd.update_ticket(
        &w.agent,
        touched.id,
        TicketPatch {
            tags: Some(vec!["looked-at".into()]),
            ..TicketPatch::default()
        },
    )
    .await
    .unwrap();
    w.clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(w.hd.automation_sweep().await.unwrap().applied, 1);
    assert_eq!(w.hd.automation_sweep().await.unwrap().applied, 0, "once");
    let quiet = w.hd.get_ticket(&w.agent, quiet.id).await.unwrap().ticket;
    assert!(quiet.tags.contains(&"due-soon".to_string()));
    assert_eq!(ran(&w, quiet.id).await, ["first_response_due_soon"]);
    assert!(ran(&w, touched.id).await.is_empty(), "someone was on it");

    // Out of range: refused at its part.
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    settings.automations = vec![rule(
        "never",
        AutomationTrigger::SlaDueSoon { minutes: 0 },
        vec![AutomationAction::Notify { users: vec![] }],
    )];
    match w.hd.update_settings(&w.admin, settings).await {
        Err(Error::Validation { field, .. }) => {
            assert_eq!(field, "settings.automations[0].trigger.minutes");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_merge_runs_the_rules_on_both_tickets_in_its_commit() {
    let w = world().await;
    let flag = rule(
        "flag_changes",
        AutomationTrigger::Updated,
        vec![AutomationAction::AddTags {
            tags: vec!["changed".into()],
        }],
    );
    with_rules(&w, vec![flag]).await;
    let dup =
        w.hd.open_ticket(&w.customer, NewTicket::new("Twice", "Same thing."))
            .await
            .unwrap()
            .ticket;
    let into =
        w.hd.open_ticket(&w.customer, NewTicket::new("Once", "Same thing."))
            .await
            .unwrap()
            .ticket;
    w.hd.merge(&w.agent, dup.id, into.id).await.unwrap();
    for id in [dup.id, into.id] {
        let view = w.hd.get_ticket(&w.agent, id).await.unwrap();
        assert!(view.ticket.tags.contains(&"changed".to_string()), "{id}");
        assert_eq!(ran(&w, id).await, ["flag_changes"]);
        // In the merge's own commit: one version for the merge and the rule.
        let last = view.events.last().unwrap().version;
        let merge_version = view
            .events
            .iter()
            .find(|e| {
                matches!(
                    e.kind,
                    EventKind::Merged { .. } | EventKind::MergedFrom { .. }
                )
            })
            .unwrap()
            .version;
        assert_eq!(last, merge_version);
    }
}
