//! Conformance cases for the e-mail channel: messages keep the headers of the mail they
//! came in (and every other message keeps none), the notifications it queues round-trip,
//! and the quarantine's rows are stored, listed newest first, updated and kept per tenant.

use super::{S, assert_duplicate, seed_tenant};
use crate::domain::{
    AuthorKind, EmailHeaders, Message, MessageKind, NotificationKind, Priority, Sha256,
};
use crate::store::{MessageFilter, QuarantineReason, QuarantineStatus, QuarantinedMail};
use crate::testkit::fixtures::{at, change, new_ticket, outbox_entry};
use crate::{DuplicateKind, Error, MessageId, TicketId};

/// A message written with the headers of its mail reads back with them, by
/// `list_messages` and by `get_message`; a message without reads back without; the
/// `Replied { message_id }` and `Received` notifications round-trip in the outbox.
pub async fn messages_keep_their_email_headers(store: S) {
    let (t, customer, agent) = seed_tenant(&store, "mail-headers").await;
    let headers = EmailHeaders::new("first@mail.test", "customer@mail-headers.test")
        .with_cc(["boss@mail-headers.test", "team@mail-headers.test"])
        .with_references(["parent@mail.test", "root@mail.test"]);
    let mut write = new_ticket(t.id, customer.id, 0, "By mail", Priority::Low, at(0));
    write.messages[0].email = Some(headers.clone());
    write.outbox = vec![outbox_entry(
        &write.ticket,
        vec![customer.id],
        NotificationKind::Received,
        at(0),
    )];
    let stored = store.create_ticket(write).await.unwrap();
    let first = stored.messages[0].clone();

    let mut next = change(&stored.ticket, Vec::new(), at(5), Some(agent.id));
    let reply = Message {
        id: MessageId::new(),
        tenant_id: t.id,
        ticket_id: stored.ticket.id,
        author: Some(agent.id),
        author_kind: AuthorKind::Agent,
        kind: MessageKind::Reply,
        body: "On it.".into(),
        created_at: at(5),
        citations: Vec::new(),
        email: None,
        draft: None,
    };
    let answer = Message {
        id: MessageId::new(),
        author: Some(customer.id),
        author_kind: AuthorKind::Customer,
        body: "Thanks, and no Cc this time.".into(),
        created_at: at(6),
        email: Some(EmailHeaders::new(
            "second@mail.test",
            "customer@mail-headers.test",
        )),
        ..reply.clone()
    };
    next.messages = vec![reply.clone(), answer.clone()];
    next.outbox = vec![outbox_entry(
        &stored.ticket,
        vec![customer.id],
        NotificationKind::Replied {
            message_id: Some(reply.id),
        },
        at(5),
    )];
    store.update_ticket(1, &next).await.unwrap();

    let listed = store
        .list_messages(t.id, stored.ticket.id, MessageFilter::All)
        .await
        .unwrap();
    assert_eq!(listed, vec![first.clone(), reply.clone(), answer.clone()]);
    assert_eq!(listed[0].email.as_ref(), Some(&headers));
    assert_eq!(listed[1].email, None);
    for m in [&first, &reply, &answer] {
        assert_eq!(
            store.get_message(t.id, m.id).await.unwrap().as_ref(),
            Some(m)
        );
    }

    let kinds: Vec<NotificationKind> = store
        .list_outbox(t.id)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.notification.kind)
        .collect();
    assert!(kinds.contains(&NotificationKind::Received), "{kinds:?}");
    assert!(
        kinds.contains(&NotificationKind::Replied {
            message_id: Some(reply.id)
        }),
        "{kinds:?}"
    );
}

fn held(tenant: crate::TenantId, minutes: i64, name: &str) -> QuarantinedMail {
    QuarantinedMail::held(
        tenant,
        at(minutes),
        QuarantineReason::Malformed,
        &format!("{name} has no From header"),
        "imap:INBOX",
        name.len() as u64,
        Sha256::digest(name.as_bytes()),
        Some("someone@mail.test"),
        Some(name),
    )
}

/// Quarantined mail is stored as written, read per tenant, listed newest first (held only
/// on request, limited), and its status changes; another tenant's row is never read or
/// changed, and a used id is a duplicate.
pub async fn quarantined_mail_round_trips_per_tenant(store: S) {
    let (a, _, _) = seed_tenant(&store, "quarantine-a").await;
    let (b, _, _) = seed_tenant(&store, "quarantine-b").await;
    let first = held(a.id, 1, "first");
    let second = QuarantinedMail {
        reason: QuarantineReason::Oversized,
        from: None,
        subject: None,
        source: "pipe".into(),
        ..held(a.id, 2, "second")
    };
    let third = held(a.id, 3, "third");
    let theirs = held(b.id, 4, "theirs");
    for m in [&first, &second, &third, &theirs] {
        store.put_quarantined(m).await.unwrap();
    }
    assert_duplicate(store.put_quarantined(&first).await, DuplicateKind::Id);

    assert_eq!(
        store.get_quarantined(a.id, second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(store.get_quarantined(a.id, theirs.id).await.unwrap(), None);
    assert_eq!(
        store.list_quarantined(a.id, false, 10).await.unwrap(),
        vec![third.clone(), second.clone(), first.clone()]
    );
    assert_eq!(
        store.list_quarantined(a.id, true, 2).await.unwrap(),
        vec![third.clone(), second.clone()]
    );

    let released = QuarantinedMail {
        status: QuarantineStatus::Released {
            at: at(10),
            ticket: Some(TicketId::new()),
        },
        ..second.clone()
    };
    store.update_quarantined(&released).await.unwrap();
    let discarded = QuarantinedMail {
        status: QuarantineStatus::Discarded { at: at(11) },
        ..first.clone()
    };
    store.update_quarantined(&discarded).await.unwrap();
    assert_eq!(
        store.get_quarantined(a.id, second.id).await.unwrap(),
        Some(released.clone())
    );
    assert_eq!(
        store.list_quarantined(a.id, true, 10).await.unwrap(),
        vec![third.clone()]
    );
    assert_eq!(
        store.list_quarantined(a.id, false, 10).await.unwrap(),
        vec![third, released, discarded]
    );

    // Another tenant's row behaves as an unknown one, and stays as it was.
    let foreign = QuarantinedMail {
        tenant_id: a.id,
        status: QuarantineStatus::Discarded { at: at(12) },
        ..theirs.clone()
    };
    match store.update_quarantined(&foreign).await {
        Err(Error::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(
        store.list_quarantined(b.id, false, 10).await.unwrap(),
        vec![theirs]
    );
}
