//! Who may read which attachment: staff of the tenant all of them; a customer those on
//! their own tickets, on the ticket itself or on messages they can see (never a note's or
//! a draft's); anything else, another tenant's included, is `NotFound` like an unknown id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attachments_common;

use helpdesk_core::domain::{Attachment, AuthorKind, Message, MessageKind, Sha256};
use helpdesk_core::service::{NewMessage, NewReply, NewTicket};
use helpdesk_core::store::{AttachmentStore, MessageFilter, TicketStore};
use helpdesk_core::testkit::fixtures::change;
use helpdesk_core::{AttachmentId, Error, MessageId, TicketId};

use attachments_common::{Desk, desk, file, is_not_found};

/// A ticket of the customer with a file on the ticket, on an agent reply, on a note and on
/// the customer's own reply; returns the ticket and the attachments by name.
async fn thread_with_files(d: &Desk) -> (TicketId, Vec<Attachment>) {
    let t =
        d.hd.open_ticket(
            &d.customer,
            NewTicket::new("Invoice", "Wrong total.")
                .with_attachments(vec![file("invoice.pdf", b"%PDF-1.4")]),
        )
        .await
        .unwrap()
        .ticket;
    d.hd.reply(
        &d.agent,
        t.id,
        NewReply::new("Corrected.").with_attachments(vec![file("fixed.pdf", b"%PDF-1.5")]),
    )
    .await
    .unwrap();
    d.hd.add_note(
        &d.agent,
        t.id,
        NewMessage::new("Internal").with_attachments(vec![file("margin.txt", b"secret margin")]),
    )
    .await
    .unwrap();
    d.hd.reply(
        &d.customer,
        t.id,
        NewReply::new("Thanks").with_attachments(vec![file("thanks.txt", b"thanks")]),
    )
    .await
    .unwrap();
    let files = d.hd.list_attachments(&d.agent, t.id).await.unwrap();
    (t.id, files)
}

fn named<'a>(files: &'a [Attachment], name: &str) -> &'a Attachment {
    files.iter().find(|f| f.file_name == name).unwrap()
}

fn names(files: &[Attachment]) -> Vec<&str> {
    files.iter().map(|f| f.file_name.as_str()).collect()
}

#[tokio::test]
async fn staff_see_every_file_and_customers_only_those_of_what_they_see() {
    let d = desk().await;
    let (ticket, files) = thread_with_files(&d).await;
    assert_eq!(
        names(&files),
        vec!["invoice.pdf", "fixed.pdf", "margin.txt", "thanks.txt"]
    );
    for staff in [&d.agent, &d.admin] {
        for f in &files {
            let got = d.hd.attachment(staff, f.id).await.unwrap();
            assert_eq!(&got.attachment, f);
        }
    }
    let seen = d.hd.list_attachments(&d.customer, ticket).await.unwrap();
    assert_eq!(names(&seen), vec!["invoice.pdf", "fixed.pdf", "thanks.txt"]);
    let note_file = named(&files, "margin.txt");
    let err =
        d.hd.attachment(&d.customer, note_file.id)
            .await
            .unwrap_err();
    assert!(is_not_found(&err, "attachment"), "a note's file: {err:?}");
    for f in &seen {
        let got = d.hd.attachment(&d.customer, f.id).await.unwrap();
        assert_eq!(&got.attachment, f);
        assert!(!got.bytes.is_empty());
    }
}

#[tokio::test]
async fn a_drafts_file_is_never_the_customers() {
    let d = desk().await;
    let (ticket, _) = thread_with_files(&d).await;
    let tenant = d.customer.tenant_id;
    // No use case attaches files to drafts; a write that did must still not leak them.
    let stored = d.store.get_ticket(tenant, ticket).await.unwrap().unwrap();
    let mut write = change(&stored, Vec::new(), stored.updated_at, None);
    let draft = Message {
        id: MessageId::new(),
        tenant_id: tenant,
        ticket_id: ticket,
        author: None,
        author_kind: AuthorKind::Bot,
        kind: MessageKind::Draft,
        body: "draft".into(),
        created_at: stored.updated_at,
        citations: Vec::new(),
        email: None,
        draft: None,
    };
    let file = Attachment {
        id: AttachmentId::new(),
        tenant_id: tenant,
        ticket_id: ticket,
        message_id: Some(draft.id),
        file_name: "draft.txt".into(),
        content_type: "text/plain".into(),
        size: 5,
        sha256: Sha256::digest(b"draft"),
        uploaded_by: None,
        created_at: stored.updated_at,
    };
    write.messages.push(draft);
    write.attachments.push(file.clone());
    d.store.update_ticket(stored.version, &write).await.unwrap();

    let err = d.hd.attachment(&d.customer, file.id).await.unwrap_err();
    assert!(is_not_found(&err, "attachment"), "{err:?}");
    let seen = d.hd.list_attachments(&d.customer, ticket).await.unwrap();
    assert!(seen.iter().all(|f| f.id != file.id));
    let staff = d.hd.list_attachments(&d.agent, ticket).await.unwrap();
    assert!(staff.iter().any(|f| f.id == file.id));
}

#[tokio::test]
async fn another_customers_file_is_not_found() {
    let d = desk().await;
    let (ticket, files) = thread_with_files(&d).await;
    for f in &files {
        let err = d.hd.attachment(&d.customer2, f.id).await.unwrap_err();
        assert!(is_not_found(&err, "attachment"), "{err:?}");
    }
    let err =
        d.hd.list_attachments(&d.customer2, ticket)
            .await
            .unwrap_err();
    assert!(is_not_found(&err, "ticket"), "{err:?}");
}

#[tokio::test]
async fn another_tenants_file_is_not_found_exactly_like_an_unknown_one() {
    let d = desk().await;
    let (ticket, files) = thread_with_files(&d).await;
    let unknown = AttachmentId::new();
    let shape = |e: Error, id: AttachmentId| match e {
        Error::NotFound { entity, id: said } => {
            assert_eq!(said, id.to_string(), "names only the id asked for");
            entity
        }
        other => panic!("{other:?}"),
    };
    let for_unknown = shape(
        d.hd.attachment(&d.other_admin, unknown).await.unwrap_err(),
        unknown,
    );
    for f in &files {
        let for_foreign = shape(
            d.hd.attachment(&d.other_admin, f.id).await.unwrap_err(),
            f.id,
        );
        assert_eq!(for_foreign, for_unknown);
    }
    let err =
        d.hd.list_attachments(&d.other_admin, ticket)
            .await
            .unwrap_err();
    assert!(is_not_found(&err, "ticket"), "{err:?}");
    // The other tenant's own listing never shows them either.
    let stored = d
        .store
        .list_attachments(d.other_admin.tenant_id, ticket)
        .await
        .unwrap();
    assert!(stored.is_empty());
}

#[tokio::test]
async fn a_customer_reads_the_files_of_their_chat() {
    let d = desk().await;
    let session = d.hd.start_chat(&d.customer).await.unwrap();
    let turn =
        d.hd.chat_message(
            &d.customer,
            session.id,
            NewMessage::new("Look at this").with_attachments(vec![file("shot.txt", b"shot")]),
        )
        .await
        .unwrap();
    let ticket = turn.session.ticket_id.unwrap();
    let files = d.hd.list_attachments(&d.customer, ticket).await.unwrap();
    assert_eq!(files.len(), 1);
    let got = d.hd.attachment(&d.customer, files[0].id).await.unwrap();
    assert_eq!(got.bytes, b"shot");
    let thread = d
        .store
        .list_messages(d.customer.tenant_id, ticket, MessageFilter::CustomerVisible)
        .await
        .unwrap();
    assert!(thread.iter().any(|m| Some(m.id) == files[0].message_id));
}
