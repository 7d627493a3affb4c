//! What erasing a ticket's personal data removes, and what it keeps.
//!
//! Erasure (a customer's erasure request, or the tenant's retention policy) keeps the
//! ticket and everything analytics counts: its number, status, times, priority,
//! category, team, tags, SLA state, the non-text custom field values (numbers, dates,
//! dropdowns, checkboxes) and the rating's score. It removes every text a person wrote
//! or a model wrote from it:
//!
//! * the subject becomes [`ERASED_TEXT`] and the description empty;
//! * custom field values of kind text go, and values of fields no longer defined (nothing
//!   says what they hold); numbers, dates, checkboxes, dropdowns and multi-selects stay
//!   (the tenant's vocabulary, which the analytics breakdowns count);
//! * the rating's comment and the triage summary go, and each triage fallback reason is
//!   cut to its code (`malformed_output: ...` keeps `malformed_output`), since a reason
//!   may quote the model's answer;
//! * every message body becomes [`ERASED_TEXT`] and its e-mail headers go (the
//!   addresses); citations (article titles) stay;
//! * every file goes, bytes and metadata.
//!
//! The same functions redact the ticket and the events it was folded from, so a ticket
//! replayed from its erased events equals the erased ticket.

use std::collections::BTreeMap;

use crate::domain::{
    CustomFieldDef, Event, EventKind, FieldKind, FieldValue, Message, Ticket, Triage,
};

/// What an erased text reads.
pub const ERASED_TEXT: &str = "[erased]";

/// The redaction of one tenant's tickets: which custom field values are free text is the
/// tenant's field definitions' say.
#[derive(Debug, Clone, Copy)]
pub struct Redaction<'a> {
    fields: &'a [CustomFieldDef],
}

impl<'a> Redaction<'a> {
    /// The redaction for a tenant with these custom fields.
    pub fn new(fields: &'a [CustomFieldDef]) -> Self {
        Self { fields }
    }

    fn keeps_field(&self, key: &str) -> bool {
        self.fields
            .iter()
            .find(|def| def.key == key)
            .is_some_and(|def| def.kind != FieldKind::Text)
    }

    fn fields(&self, values: &BTreeMap<String, FieldValue>) -> BTreeMap<String, FieldValue> {
        values
            .iter()
            .filter(|(key, _)| self.keeps_field(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// `ticket` with its personal data removed (see the module docs). Idempotent.
    pub fn ticket(&self, ticket: &Ticket) -> Ticket {
        let mut t = ticket.clone();
        t.subject = ERASED_TEXT.to_owned();
        t.description = String::new();
        t.custom_fields = self.fields(&ticket.custom_fields);
        if let Some(csat) = &mut t.csat {
            csat.comment = None;
        }
        if let Some(triage) = &mut t.triage {
            redact_triage(triage);
        }
        t
    }
}

fn redact_triage(triage: &mut Triage) {
    triage.summary = None;
    for fallback in &mut triage.fallbacks {
        if let Some((code, _)) = fallback.reason.split_once(':') {
            fallback.reason = code.trim().to_owned();
        }
    }
}

impl Redaction<'_> {
    /// The event with the personal data it recorded removed, or `None` when it records
    /// none (or is already erased).
    pub fn event(&self, event: &Event) -> Option<Event> {
        let mut kind = event.kind.clone();
        match &mut kind {
            EventKind::Created { ticket } => **ticket = self.ticket(ticket),
            EventKind::Triaged { triage, .. } => redact_triage(triage),
            EventKind::CustomFieldsChanged { fields } => *fields = self.fields(fields),
            EventKind::CsatRecorded { csat } => csat.comment = None,
            _ => return None,
        }
        (kind != event.kind).then(|| Event {
            kind,
            ..event.clone()
        })
    }

    /// The message with its body and e-mail headers erased, or `None` when it is
    /// already.
    pub fn message(&self, message: &Message) -> Option<Message> {
        if message.body == ERASED_TEXT && message.email.is_none() {
            return None;
        }
        Some(Message {
            body: ERASED_TEXT.to_owned(),
            email: None,
            ..message.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::Timestamp;

    use super::*;
    use crate::domain::{Csat, Priority, TriageFallback, TriageSource};
    use crate::testkit::fixtures::new_ticket;
    use crate::{TenantId, UserId};

    fn defs() -> Vec<CustomFieldDef> {
        let def = |key: &str, kind: FieldKind| CustomFieldDef {
            key: key.into(),
            label: key.into(),
            kind,
            required_to_resolve: false,
            customer_visible: false,
            customer_editable: false,
        };
        vec![
            def("order", FieldKind::Text),
            def(
                "plan",
                FieldKind::Dropdown {
                    options: vec!["pro".into()],
                },
            ),
        ]
    }

    fn ticket() -> Ticket {
        let write = new_ticket(
            TenantId::new(),
            UserId::new(),
            7,
            "x",
            Priority::High,
            Timestamp::UNIX_EPOCH,
        );
        let mut t = write.ticket;
        t.subject = "Refund for Jane Roe, card 4111".into();
        t.description = "My address is 1 Main St".into();
        t.custom_fields = BTreeMap::from([
            ("order".into(), FieldValue::Text("A-123 for Jane".into())),
            ("plan".into(), FieldValue::Text("pro".into())),
            ("gone".into(), FieldValue::Number(3.0)),
        ]);
        t.csat = Some(Csat {
            score: 2,
            comment: Some("Jane was upset".into()),
            at: Timestamp::UNIX_EPOCH,
        });
        t.triage = Some(Triage {
            source: TriageSource::Rules,
            confidence: 0.5,
            summary: Some("Jane Roe wants a refund".into()),
            fallbacks: vec![TriageFallback {
                source: TriageSource::Llm,
                reason: "malformed_output: {\"summary\": \"Jane\"".into(),
            }],
            model: None,
        });
        t
    }

    #[test]
    fn a_redacted_ticket_keeps_what_analytics_counts_and_loses_every_text() {
        let defs = defs();
        let redaction = Redaction::new(&defs);
        let before = ticket();
        let after = redaction.ticket(&before);
        assert_eq!(after.subject, ERASED_TEXT);
        assert!(after.description.is_empty());
        assert_eq!(
            after.custom_fields,
            BTreeMap::from([("plan".into(), FieldValue::Text("pro".into()))]),
            "a dropdown stays, free text and an undefined field's value go"
        );
        let csat = after.csat.as_ref().map(|c| (c.score, c.comment.clone()));
        assert_eq!(csat, Some((2, None)));
        let triage = after
            .triage
            .as_ref()
            .map(|t| (t.summary.clone(), t.fallbacks[0].reason.clone()));
        assert_eq!(triage, Some((None, "malformed_output".to_owned())));
        assert_eq!(
            (
                after.number,
                after.status,
                after.priority,
                &after.category,
                after.created_at
            ),
            (
                before.number,
                before.status,
                before.priority,
                &before.category,
                before.created_at
            )
        );
        assert_eq!(redaction.ticket(&after), after, "idempotent");
    }

    #[test]
    fn events_without_personal_data_are_left_alone_and_erased_ones_are_not_redone() {
        let defs = defs();
        let redaction = Redaction::new(&defs);
        let t = ticket();
        let created = Event {
            id: crate::EventId::new(),
            tenant_id: t.tenant_id,
            ticket_id: t.id,
            version: 1,
            at: t.created_at,
            actor: None,
            kind: EventKind::Created {
                ticket: Box::new(t.clone()),
            },
        };
        let redacted = redaction.event(&created).map(|e| e.kind);
        assert_eq!(
            redacted,
            Some(EventKind::Created {
                ticket: Box::new(redaction.ticket(&t))
            })
        );
        let erased = redaction.event(&created).unwrap_or(created.clone());
        assert_eq!(redaction.event(&erased), None);
        let tags = Event {
            kind: EventKind::TagsChanged {
                tags: vec!["vip".into()],
            },
            ..created
        };
        assert_eq!(redaction.event(&tags), None);
    }
}
