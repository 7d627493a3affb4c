//! The e-mail channel's core: `Helpdesk::receive_email` opens, replies, follows up and
//! keeps notes exactly once per Message-ID (the quarantine: `email_quarantine.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attachments_common;

use helpdesk_core::domain::{
    AuthorKind, Channel, EmailHeaders, EventKind, MessageKind, NotificationKind, Role,
    TenantSettings, TicketStatus,
};
use helpdesk_core::service::{EmailDisposition, EmailRoute, InboundEmail, NewTicket};
use helpdesk_core::store::{MessageFilter, OutboxStore, TicketQuery, TicketStore, UserStore};
use helpdesk_core::{Error, TicketId};

use attachments_common::{Desk, PNG, desk_with, file, is_not_found};

/// Settings of a tenant with a support address.
fn with_address() -> TenantSettings {
    let mut settings = TenantSettings::default();
    settings.email.address = Some("support@acme.test".into());
    settings
}

async fn desk() -> Desk {
    desk_with(with_address(), true).await
}

fn mail(id: &str, from: &str, route: EmailRoute) -> InboundEmail {
    InboundEmail::new(id, from, route)
        .with_from_name("Carl Customer")
        .with_subject("Printer on fire")
        .with_body("It smokes.\n\n> quoted history")
        .with_cc(vec!["boss@customer.test".into()])
        .with_references(vec!["parent@mail.test".into()])
}

async fn ticket_count(d: &Desk) -> usize {
    d.store
        .list_tickets(d.admin.tenant_id, &TicketQuery::default())
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn a_new_mail_opens_an_email_ticket_with_headers_and_an_acknowledgement() {
    let d = desk().await;
    let out =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("m1@mail.test", "Carl@Customer.test", EmailRoute::New),
        )
        .await
        .unwrap();
    assert_eq!(out.disposition, EmailDisposition::Opened);
    let t = &out.ticket;
    assert_eq!(t.channel, Channel::Email);
    assert_eq!(
        t.requester, d.customer.user_id,
        "the sender, case-insensitively"
    );
    assert_eq!(t.subject, "Printer on fire");
    assert!(t.description.contains("It smokes."));

    let messages = d
        .store
        .list_messages(d.admin.tenant_id, t.id, MessageFilter::All)
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.author, Some(d.customer.user_id));
    assert_eq!(
        (m.kind, m.author_kind),
        (MessageKind::Reply, AuthorKind::Customer)
    );
    let expected = EmailHeaders::new("m1@mail.test", "carl@customer.test")
        .with_cc(["boss@customer.test"])
        .with_references(["parent@mail.test"]);
    assert_eq!(m.email.as_ref(), Some(&expected));

    let outbox = d.store.list_outbox(d.admin.tenant_id).await.unwrap();
    let acks: Vec<_> = outbox
        .iter()
        .filter(|o| o.notification.kind == NotificationKind::Received)
        .collect();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].notification.recipients, [d.customer.user_id]);
    assert_eq!(acks[0].notification.ticket_number, t.number);
}

#[tokio::test]
async fn no_acknowledgement_when_the_tenant_has_no_address_or_turned_it_off() {
    for settings in [TenantSettings::default(), {
        let mut s = with_address();
        s.email.acknowledge_new_tickets = false;
        s
    }] {
        let d = desk_with(settings, true).await;
        let out =
            d.hd.receive_email(
                d.admin.tenant_id,
                mail("m1@mail.test", "carl@customer.test", EmailRoute::New),
            )
            .await
            .unwrap();
        assert_eq!(out.disposition, EmailDisposition::Opened);
        let outbox = d.store.list_outbox(d.admin.tenant_id).await.unwrap();
        assert!(
            !outbox
                .iter()
                .any(|o| o.notification.kind == NotificationKind::Received)
        );
    }
}

#[tokio::test]
async fn the_same_message_id_twice_is_one_ticket() {
    let d = desk().await;
    let first =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("<dup@mail.test>", "carl@customer.test", EmailRoute::New),
        )
        .await
        .unwrap();
    d.store.take();
    let again =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("dup@mail.test", "carl@customer.test", EmailRoute::New),
        )
        .await
        .unwrap();
    assert_eq!(again.disposition, EmailDisposition::Duplicate);
    assert_eq!(again.ticket.id, first.ticket.id);
    assert_eq!(d.store.take().commits, 0, "nothing written");
    // Routed to the ticket this time (a second delivery the threading placed): found too.
    let routed =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail(
                "dup@mail.test",
                "carl@customer.test",
                EmailRoute::Ticket(first.ticket.id),
            ),
        )
        .await
        .unwrap();
    assert_eq!(routed.disposition, EmailDisposition::Duplicate);
    assert_eq!(ticket_count(&d).await, 1);
}

#[tokio::test]
async fn concurrent_identical_deliveries_write_one_message() {
    let d = desk().await;
    let (a, b) = tokio::join!(
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("race@mail.test", "carl@customer.test", EmailRoute::New),
        ),
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("race@mail.test", "carl@customer.test", EmailRoute::New),
        ),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.ticket.id, b.ticket.id);
    let mut dispositions = [a.disposition, b.disposition];
    dispositions.sort_by_key(|d| *d == EmailDisposition::Duplicate);
    assert_eq!(
        dispositions,
        [EmailDisposition::Opened, EmailDisposition::Duplicate]
    );
    assert_eq!(ticket_count(&d).await, 1);

    let route = EmailRoute::Ticket(a.ticket.id);
    let (x, y) = tokio::join!(
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("reply@mail.test", "carl@customer.test", route)
        ),
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("reply@mail.test", "carl@customer.test", route)
        ),
    );
    let mut dispositions = [x.unwrap().disposition, y.unwrap().disposition];
    dispositions.sort_by_key(|d| *d == EmailDisposition::Duplicate);
    assert_eq!(
        dispositions,
        [EmailDisposition::Replied, EmailDisposition::Duplicate]
    );
    let messages = d
        .store
        .list_messages(d.admin.tenant_id, a.ticket.id, MessageFilter::All)
        .await
        .unwrap();
    assert_eq!(messages.len(), 2, "the opening mail and one reply");
}

/// A ticket opened by the customer in the portal, with an agent's reply.
async fn portal_ticket(d: &Desk) -> TicketId {
    let t =
        d.hd.open_ticket(&d.customer, NewTicket::new("Printer", "It jams."))
            .await
            .unwrap()
            .ticket;
    d.hd.reply(
        &d.agent,
        t.id,
        helpdesk_core::service::NewReply::new("Try again?"),
    )
    .await
    .unwrap();
    t.id
}

#[tokio::test]
async fn the_requesters_mail_is_a_customer_reply() {
    let d = desk().await;
    let id = portal_ticket(&d).await;
    d.hd.transition(&d.agent, id, TicketStatus::Pending)
        .await
        .unwrap();
    let out =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("r1@mail.test", "carl@customer.test", EmailRoute::Ticket(id)),
        )
        .await
        .unwrap();
    assert_eq!(out.disposition, EmailDisposition::Replied);
    assert_eq!(out.ticket.status, TicketStatus::Open, "Pending became Open");
    let view = d.hd.get_ticket(&d.customer, id).await.unwrap();
    let last = view.messages.iter().find(|m| m.email.is_some()).unwrap();
    assert_eq!(
        (last.kind, last.author),
        (MessageKind::Reply, Some(d.customer.user_id))
    );
    assert_eq!(last.email.as_ref().unwrap().message_id, "r1@mail.test");
}

#[tokio::test]
async fn a_strangers_mail_is_a_note_the_requester_never_sees() {
    let d = desk().await;
    let id = portal_ticket(&d).await;
    let out =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("s1@mail.test", "Mallory@evil.test", EmailRoute::Ticket(id))
                .with_attachments(vec![file("x.png", &PNG)]),
        )
        .await
        .unwrap();
    assert_eq!(out.disposition, EmailDisposition::FromOtherSender);
    let staff = d.hd.get_ticket(&d.agent, id).await.unwrap();
    let note = staff.messages.iter().find(|m| m.email.is_some()).unwrap();
    assert_eq!(
        (note.kind, note.author_kind, note.author),
        (MessageKind::Note, AuthorKind::System, None)
    );
    assert!(
        note.body
            .starts_with("E-mail from mallory@evil.test (not the requester):\n\nIt smokes.")
    );
    let customer = d.hd.get_ticket(&d.customer, id).await.unwrap();
    assert!(customer.messages.iter().all(|m| m.id != note.id));
    let files = d.hd.list_attachments(&d.agent, id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].message_id, Some(note.id));
    assert!(
        d.hd.list_attachments(&d.customer, id)
            .await
            .unwrap()
            .is_empty()
    );
    // Another customer of the tenant is a stranger to this ticket too; no sign-up needed.
    let other =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("s2@mail.test", "cora@customer.test", EmailRoute::Ticket(id)),
        )
        .await
        .unwrap();
    assert_eq!(other.disposition, EmailDisposition::FromOtherSender);
    // Staff writing to the thread: their own note.
    let staff_mail =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("s3@mail.test", "agent@acme.test", EmailRoute::Ticket(id)),
        )
        .await
        .unwrap();
    assert_eq!(staff_mail.disposition, EmailDisposition::FromOtherSender);
    // Found by its Message-ID: under a stopped clock, messages of one instant are ordered
    // by id, and ids of mail are UUID v5, not time-ordered.
    let messages = d.hd.get_ticket(&d.agent, id).await.unwrap().messages;
    let last = messages
        .iter()
        .find(|m| {
            m.email
                .as_ref()
                .is_some_and(|e| e.message_id == "s3@mail.test")
        })
        .unwrap();
    assert_eq!(
        (last.kind, last.author),
        (MessageKind::Note, Some(d.agent.user_id))
    );
}

#[tokio::test]
async fn mail_to_a_closed_ticket_opens_a_follow_up_carrying_the_body() {
    let d = desk().await;
    let id = portal_ticket(&d).await;
    d.hd.transition(&d.admin, id, TicketStatus::Closed)
        .await
        .unwrap();
    let out =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("f1@mail.test", "carl@customer.test", EmailRoute::Ticket(id))
                .with_attachments(vec![file("log.txt", b"trace")]),
        )
        .await
        .unwrap();
    assert_eq!(out.disposition, EmailDisposition::FollowUp { of: id });
    let f = &out.ticket;
    assert_ne!(f.id, id);
    assert_eq!(f.follow_up_of, Some(id));
    assert_eq!(f.channel, Channel::Email);
    assert!(f.subject.starts_with("Follow-up to #"));
    assert!(
        f.description.contains("It smokes."),
        "the mail is the description"
    );
    let view = d.hd.get_ticket(&d.customer, f.id).await.unwrap();
    assert_eq!(view.messages.len(), 1);
    assert_eq!(
        view.messages[0].email.as_ref().unwrap().message_id,
        "f1@mail.test"
    );
    let files = d.hd.list_attachments(&d.customer, f.id).await.unwrap();
    assert_eq!(files[0].message_id, Some(view.messages[0].id));
    let closed = d.hd.get_ticket(&d.agent, id).await.unwrap();
    assert!(
        closed.events.iter().any(
            |e| matches!(e.kind, EventKind::FollowUpOpened { ticket_id } if ticket_id == f.id)
        )
    );
    let again =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("f1@mail.test", "carl@customer.test", EmailRoute::Ticket(id)),
        )
        .await
        .unwrap();
    assert_eq!(again.disposition, EmailDisposition::Duplicate);
    assert_eq!(again.ticket.id, f.id);
}

#[tokio::test]
async fn mail_to_a_merged_ticket_lands_on_the_ticket_it_was_merged_into() {
    let d = desk().await;
    let a = portal_ticket(&d).await;
    let b = portal_ticket(&d).await;
    d.hd.merge(&d.agent, a, b).await.unwrap();
    let out =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("mg@mail.test", "carl@customer.test", EmailRoute::Ticket(a)),
        )
        .await
        .unwrap();
    assert_eq!(out.disposition, EmailDisposition::Replied);
    assert_eq!(out.ticket.id, b);
}

#[tokio::test]
async fn unknown_senders_register_or_are_refused_with_nothing_written() {
    let d = desk().await;
    let out =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("n1@mail.test", "new@person.test", EmailRoute::New).with_from_name(""),
        )
        .await
        .unwrap();
    assert_eq!(out.disposition, EmailDisposition::Opened);
    let user = d
        .store
        .get_user_by_email(d.admin.tenant_id, "new@person.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.role, user.name.as_str()), (Role::Customer, "new"));
    assert_eq!(out.ticket.requester, user.id);

    let mut closed = with_address();
    closed.self_registration = false;
    let d = desk_with(closed, true).await;
    let refused =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("n2@mail.test", "stranger@person.test", EmailRoute::New),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::SenderRefused { address, .. }
            if address == "stranger@person.test"),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("stranger@person.test"));
    assert_eq!(d.store.take().commits, 0, "nothing written");
    assert!(
        d.store
            .get_user_by_email(d.admin.tenant_id, "stranger@person.test")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn staff_writing_a_new_ticket_to_the_support_address_are_refused() {
    let d = desk().await;
    let refused =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("st@mail.test", "agent@acme.test", EmailRoute::New),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::SenderRefused { .. }),
        "{refused:?}"
    );
    assert_eq!(ticket_count(&d).await, 0);
}

#[tokio::test]
async fn another_tenants_ticket_id_is_not_found() {
    let d = desk().await;
    let id = portal_ticket(&d).await;
    let other_tenant = d.other_admin.tenant_id;
    let e =
        d.hd.receive_email(
            other_tenant,
            mail("x@mail.test", "carl@customer.test", EmailRoute::Ticket(id)),
        )
        .await
        .unwrap_err();
    assert!(is_not_found(&e, "ticket"), "{e:?}");
    let e =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail(
                "y@mail.test",
                "carl@customer.test",
                EmailRoute::Ticket(TicketId::new()),
            ),
        )
        .await
        .unwrap_err();
    assert!(is_not_found(&e, "ticket"), "{e:?}");
}

#[tokio::test]
async fn attachments_land_on_the_message_and_empty_subjects_get_a_placeholder() {
    let d = desk().await;
    let out =
        d.hd.receive_email(
            d.admin.tenant_id,
            mail("a1@mail.test", "carl@customer.test", EmailRoute::New)
                .with_subject("  ")
                .with_attachments(vec![file("shot.png", &PNG), file("notes.txt", b"hi")]),
        )
        .await
        .unwrap();
    assert_eq!(out.ticket.subject, "(no subject)");
    let view = d.hd.get_ticket(&d.customer, out.ticket.id).await.unwrap();
    let files =
        d.hd.list_attachments(&d.customer, out.ticket.id)
            .await
            .unwrap();
    assert_eq!(files.len(), 2);
    assert!(
        files
            .iter()
            .all(|f| f.message_id == Some(view.messages[0].id))
    );
    assert!(files.iter().any(|f| f.content_type == "image/png"));
}

#[tokio::test]
async fn email_settings_are_validated_naming_the_field() {
    let d = desk().await;
    let mut bad = with_address();
    bad.email.address = Some("not an address".into());
    let e = d.hd.update_settings(&d.admin, bad).await.unwrap_err();
    assert!(
        matches!(&e, Error::Validation { field, .. } if field == "settings.email.address"),
        "{e:?}"
    );
    let mut bad = with_address();
    bad.email.max_message_bytes = 10;
    let e = d.hd.update_settings(&d.admin, bad).await.unwrap_err();
    assert!(
        matches!(&e, Error::Validation { field, .. }
            if field == "settings.email.max_message_bytes"),
        "{e:?}"
    );
    let mut good = with_address();
    good.email.address = Some(" Support@Acme.TEST ".into());
    let tenant = d.hd.update_settings(&d.admin, good).await.unwrap();
    assert_eq!(
        tenant.settings.email.address.as_deref(),
        Some("support@acme.test")
    );
    // Stored settings from before the e-mail channel load with its defaults.
    let old: TenantSettings = serde_json::from_str(r#"{"self_registration":false}"#).unwrap();
    assert_eq!(old.email, Default::default());
}

#[test]
fn a_replied_notification_stored_before_it_named_its_message_reads() {
    let old: NotificationKind = serde_json::from_str(r#"{"type":"replied"}"#).unwrap();
    assert_eq!(old, NotificationKind::Replied { message_id: None });
}
