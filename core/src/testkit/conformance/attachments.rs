//! Conformance cases for attachment metadata: it commits in the same ticket write as its
//! message, is read back per ticket (and so per message) exactly as written, never
//! crosses tenants, and a write that fails stores none of it.

use super::{S, assert_duplicate, create, seed_tenant};
use crate::domain::{Attachment, AuthorKind, Message, MessageKind, Priority, Sha256, Ticket};
use crate::store::{MessageFilter, TicketWrite};
use crate::testkit::fixtures::{at, change, new_ticket};
use crate::{AttachmentId, DuplicateKind, Error, MessageId, UserId};

/// Metadata of a file named `name` with `bytes` on `message`.
pub(super) fn attachment(message: &Message, name: &str, bytes: &[u8]) -> Attachment {
    Attachment {
        id: AttachmentId::new(),
        tenant_id: message.tenant_id,
        ticket_id: message.ticket_id,
        message_id: Some(message.id),
        file_name: name.into(),
        content_type: "text/plain".into(),
        size: bytes.len() as u64,
        sha256: Sha256::digest(bytes),
        uploaded_by: message.author,
        created_at: message.created_at,
    }
}

/// The next change of `ticket` with an internal note carrying one file.
fn note_with_file(ticket: &Ticket, author: UserId, minutes: i64, name: &str) -> TicketWrite {
    let mut write = change(ticket, Vec::new(), at(minutes), Some(author));
    let note = Message {
        id: MessageId::new(),
        tenant_id: ticket.tenant_id,
        ticket_id: ticket.id,
        author: Some(author),
        author_kind: AuthorKind::Agent,
        kind: MessageKind::Note,
        body: format!("see {name}"),
        created_at: at(minutes),
        citations: Vec::new(),
        email: None,
        draft: None,
    };
    write
        .attachments
        .push(attachment(&note, name, name.as_bytes()));
    write.messages.push(note);
    write
}

/// Files on a new ticket (on the ticket itself and on its first message) and on a later
/// note are stored with them and listed per ticket, in creation order, exactly as written
/// (several on one message too).
pub async fn attachments_commit_with_their_message(store: S) {
    let (t, customer, agent) = seed_tenant(&store, "att-commit").await;
    let mut write = new_ticket(t.id, customer.id, 0, "Screenshot", Priority::Low, at(0));
    let first = write.messages[0].clone();
    let on_ticket = Attachment {
        message_id: None,
        ..attachment(&first, "form.pdf", b"%PDF-1.7")
    };
    let a1 = attachment(&first, "screen.png", b"png bytes");
    let a2 = attachment(&first, "log.txt", b"log lines");
    write.attachments = vec![on_ticket.clone(), a1.clone(), a2.clone()];
    let created = store.create_ticket(write).await.unwrap();
    assert_eq!(created.attachments.len(), 3);
    let note = note_with_file(&created.ticket, agent.id, 5, "trace.txt");
    let a3 = note.attachments[0].clone();
    store.update_ticket(1, &note).await.unwrap();

    let listed = store
        .list_attachments(t.id, created.ticket.id)
        .await
        .unwrap();
    let mut first_three = [on_ticket.clone(), a1.clone(), a2.clone()];
    first_three.sort_by_key(|a| a.id);
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[..3], first_three[..], "same time: ordered by id");
    assert_eq!(listed[3], a3);
    let on_first: Vec<_> = listed
        .iter()
        .filter(|a| a.message_id == Some(first.id))
        .collect();
    assert_eq!(on_first.len(), 2);
    for a in [&on_ticket, &a1, &a2, &a3] {
        assert_eq!(
            store.get_attachment(t.id, a.id).await.unwrap().as_ref(),
            Some(a)
        );
    }
    assert_eq!(
        store
            .get_attachment(t.id, AttachmentId::new())
            .await
            .unwrap(),
        None
    );
}

/// Another tenant's attachment behaves as an unknown one, by id and by ticket.
pub async fn attachments_are_tenant_scoped(store: S) {
    let (a, customer, _) = seed_tenant(&store, "att-iso-a").await;
    let (b, _, _) = seed_tenant(&store, "att-iso-b").await;
    let mut write = new_ticket(a.id, customer.id, 0, "Invoice", Priority::Low, at(0));
    let file = attachment(&write.messages[0], "invoice.pdf", b"%PDF-1.4");
    write.attachments.push(file.clone());
    let created = store.create_ticket(write).await.unwrap();
    assert_eq!(store.get_attachment(b.id, file.id).await.unwrap(), None);
    assert!(
        store
            .list_attachments(b.id, created.ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .list_attachments(a.id, created.ticket.id)
            .await
            .unwrap(),
        vec![file]
    );
}

/// A write that fails (stale version, duplicate idempotency key, an attachment of another
/// tenant or without its message, an attachment id used twice in the write or already
/// used) stores no attachment, and no message either.
pub async fn a_failed_write_stores_no_attachment(store: S) {
    let (t, customer, agent) = seed_tenant(&store, "att-fail").await;
    let (other, _, _) = seed_tenant(&store, "att-fail-other").await;
    let ticket = create(&store, t.id, customer.id, "Broken", Priority::Low, 0)
        .await
        .ticket;

    // Stale version.
    let stale = note_with_file(&ticket, agent.id, 3, "stale.txt");
    let mut stale_write = stale.clone();
    stale_write.previous = None;
    stale_write.ticket.version = 8;
    assert!(matches!(
        store.update_ticket(7, &stale_write).await,
        Err(Error::Conflict { .. })
    ));

    // An attachment whose message is not in the write.
    let mut orphan = note_with_file(&ticket, agent.id, 4, "orphan.txt");
    orphan.attachments[0].message_id = Some(MessageId::new());
    assert!(matches!(
        store.update_ticket(1, &orphan).await,
        Err(Error::Validation { .. })
    ));

    // An attachment of another tenant.
    let mut foreign = note_with_file(&ticket, agent.id, 4, "foreign.txt");
    foreign.attachments[0].tenant_id = other.id;
    assert!(matches!(
        store.update_ticket(1, &foreign).await,
        Err(Error::Validation { .. })
    ));

    // A duplicate idempotency key on create.
    let mut keyed = new_ticket(t.id, customer.id, 0, "Keyed", Priority::Low, at(1));
    keyed.idempotency_key = Some("att-key".into());
    store.create_ticket(keyed).await.unwrap();
    let mut again = new_ticket(t.id, customer.id, 0, "Keyed again", Priority::Low, at(2));
    again.idempotency_key = Some("att-key".into());
    let dup_file = attachment(&again.messages[0], "again.txt", b"again");
    again.attachments.push(dup_file.clone());
    let again_ticket = again.ticket.id;
    assert_duplicate(
        store.create_ticket(again).await,
        DuplicateKind::IdempotencyKey,
    );
    assert_eq!(store.get_attachment(t.id, dup_file.id).await.unwrap(), None);
    assert!(
        store
            .list_attachments(t.id, again_ticket)
            .await
            .unwrap()
            .is_empty()
    );

    // Two attachments of one write with the same id.
    let mut twice = note_with_file(&ticket, agent.id, 4, "twice.txt");
    let copy = twice.attachments[0].clone();
    twice.attachments.push(copy);
    assert_duplicate(store.update_ticket(1, &twice).await, DuplicateKind::Id);

    // An attachment id already used: the whole write fails.
    let good = note_with_file(&ticket, agent.id, 5, "good.txt");
    store.update_ticket(1, &good).await.unwrap();
    let stored = store.get_ticket(t.id, ticket.id).await.unwrap().unwrap();
    let mut reused = note_with_file(&stored, agent.id, 6, "reused.txt");
    reused.attachments[0].id = good.attachments[0].id;
    assert_duplicate(store.update_ticket(2, &reused).await, DuplicateKind::Id);

    assert_eq!(
        store.list_attachments(t.id, ticket.id).await.unwrap(),
        good.attachments,
        "only the write that landed left an attachment"
    );
    let notes = store
        .list_messages(t.id, ticket.id, MessageFilter::All)
        .await
        .unwrap();
    assert_eq!(notes.len(), 2, "the first message and the one good note");
}
