//! Files on every kind of message: each commits in its message's one ticket write, is
//! checked against the tenant's limits first, stored once per tenant by content, sniffed
//! and renamed safely; failures store no metadata.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attachments_common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use helpdesk_core::blob::{BlobError, BlobKey, BlobStore};
use helpdesk_core::domain::{EventKind, Sha256, TenantSettings, TicketStatus};
use helpdesk_core::service::{NewMessage, NewReply, NewTicket};
use helpdesk_core::store::{MessageFilter, TicketStore};
use helpdesk_core::testkit::MemoryBlobStore;
use helpdesk_core::testkit::fixtures::change;
use helpdesk_core::{Error, Store, TicketId};

use attachments_common::{PNG, desk, desk_on, desk_with, file, invalid_field};

#[tokio::test]
async fn files_on_a_new_ticket_commit_with_it_sniffed_and_renamed() {
    let d = desk().await;
    let big = vec![b'a'; 100 * 1024];
    let new = NewTicket::new("Broken screen", "See the photo.").with_attachments(vec![
        file("../../photo.txt", &PNG),
        file("notes\r\n.png", b"<html><script>alert(1)</script></html>"),
        file("big.log", &big),
    ]);
    let opened = d.hd.open_ticket(&d.customer, new).await.unwrap();
    assert_eq!(
        d.store.take().commits,
        1,
        "the ticket and its files: one write"
    );

    let files =
        d.hd.list_attachments(&d.customer, opened.ticket.id)
            .await
            .unwrap();
    assert_eq!(files.len(), 3);
    let by_name = |name: &str| files.iter().find(|f| f.file_name == name).unwrap();
    let photo = by_name("photo.txt");
    assert_eq!(photo.content_type, "image/png", "sniffed, not the name");
    assert!(photo.is_safe_image());
    let page = by_name("notes__.png");
    assert_eq!(page.content_type, "text/html");
    assert!(!page.is_safe_image(), "an HTML file named .png is no image");
    let log = by_name("big.log");
    assert_eq!(log.size, 100 * 1024);
    assert_eq!(log.sha256, Sha256::digest(&big), "hashed off the runtime");
    for f in &files {
        assert_eq!(f.message_id, None, "on the ticket itself");
        assert_eq!(f.ticket_id, opened.ticket.id);
        assert_eq!(f.uploaded_by, Some(d.customer.user_id));
        assert_eq!(f.created_at, opened.ticket.created_at);
    }
    let download = d.hd.attachment(&d.customer, log.id).await.unwrap();
    assert_eq!(download.bytes, big);
    assert_eq!(&download.attachment, log);
}

#[tokio::test]
async fn replies_and_notes_commit_their_files_in_their_one_write() {
    let d = desk().await;
    let ticket =
        d.hd.open_ticket(&d.customer, NewTicket::new("Printer", "It jams."))
            .await
            .unwrap()
            .ticket;
    d.store.take();

    let reply =
        d.hd.reply(
            &d.agent,
            ticket.id,
            NewReply::new("Try this driver.")
                .with_attachments(vec![file("driver.bin", b"\x00\x01")]),
        )
        .await
        .unwrap();
    let note =
        d.hd.add_note(
            &d.agent,
            ticket.id,
            NewMessage::new("Known bug.").with_attachments(vec![file("trace.txt", b"trace")]),
        )
        .await
        .unwrap();
    let answer =
        d.hd.reply(
            &d.customer,
            ticket.id,
            NewReply::new("Still jams.").with_attachments(vec![file("jam.txt", b"jam")]),
        )
        .await
        .unwrap();
    let cost = d.store.take();
    assert_eq!(cost.commits, 3, "one write per message, files included");

    let files = d.hd.list_attachments(&d.agent, ticket.id).await.unwrap();
    let on = |name: &str| files.iter().find(|f| f.file_name == name).unwrap().clone();
    assert_eq!(on("driver.bin").message_id, Some(reply.message.id));
    assert_eq!(on("driver.bin").content_type, "application/octet-stream");
    assert_eq!(on("trace.txt").message_id, Some(note.id));
    assert_eq!(on("trace.txt").uploaded_by, Some(d.agent.user_id));
    assert_eq!(on("jam.txt").message_id, Some(answer.message.id));
    assert_eq!(on("jam.txt").uploaded_by, Some(d.customer.user_id));
    // Plain text still works as a note.
    d.hd.add_note(&d.agent, ticket.id, "no files")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reply_to_a_closed_ticket_takes_its_files_to_the_follow_up() {
    let d = desk().await;
    let ticket =
        d.hd.open_ticket(&d.customer, NewTicket::new("Login", "Cannot log in."))
            .await
            .unwrap()
            .ticket;
    for to in [TicketStatus::Resolved, TicketStatus::Closed] {
        d.hd.transition(&d.admin, ticket.id, to).await.unwrap();
    }
    let out =
        d.hd.reply(
            &d.customer,
            ticket.id,
            NewReply::new("Again.").with_attachments(vec![file("again.txt", b"again")]),
        )
        .await
        .unwrap();
    assert_eq!(out.follow_up_of, Some(ticket.id));
    let files =
        d.hd.list_attachments(&d.customer, out.ticket.id)
            .await
            .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].message_id, Some(out.message.id));
    assert!(
        d.hd.list_attachments(&d.customer, ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn chat_turns_of_customers_and_agents_carry_their_files() {
    let d = desk().await;
    let session = d.hd.start_chat(&d.customer).await.unwrap();
    let first =
        d.hd.chat_message(
            &d.customer,
            session.id,
            NewMessage::new("My screen flickers").with_attachments(vec![file("a.png", &PNG)]),
        )
        .await
        .unwrap();
    let later =
        d.hd.chat_message(
            &d.customer,
            session.id,
            NewMessage::new("And here is the log").with_attachments(vec![file("b.txt", b"log")]),
        )
        .await
        .unwrap();
    let ticket = later.session.ticket_id.unwrap();
    let agent =
        d.hd.agent_chat_reply(
            &d.agent,
            session.id,
            NewMessage::new("Try this").with_attachments(vec![file("c.txt", b"fix")]),
        )
        .await
        .unwrap();
    let files = d.hd.list_attachments(&d.customer, ticket).await.unwrap();
    let ids: Vec<_> = files
        .iter()
        .map(|f| (f.file_name.as_str(), f.message_id))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("a.png", Some(first.customer_message.id)),
            ("b.txt", Some(later.customer_message.id)),
            ("c.txt", Some(agent.id)),
        ]
    );
}

#[tokio::test]
async fn the_same_bytes_are_stored_once_per_tenant() {
    let d = desk().await;
    let bytes = b"the same screenshot";
    let t =
        d.hd.open_ticket(
            &d.customer,
            NewTicket::new("One", "x").with_attachments(vec![file("a.txt", bytes)]),
        )
        .await
        .unwrap()
        .ticket;
    d.hd.add_note(
        &d.agent,
        t.id,
        NewMessage::new("same").with_attachments(vec![file("b.txt", bytes), file("c.txt", bytes)]),
    )
    .await
    .unwrap();
    assert_eq!(
        d.hd.list_attachments(&d.agent, t.id).await.unwrap().len(),
        3
    );
    assert_eq!(d.blobs.len(), 1, "one blob for three attachments");
    d.hd.open_ticket(
        &d.other_admin,
        NewTicket::new("Other", "x").with_attachments(vec![file("a.txt", bytes)]),
    )
    .await
    .unwrap();
    assert_eq!(d.blobs.len(), 2, "another tenant's copy is its own");
}

#[tokio::test]
async fn files_over_the_limits_are_refused_before_anything_is_stored() {
    let settings = TenantSettings {
        attachments_per_message: 2,
        attachment_max_bytes: 10,
        ..TenantSettings::default()
    };
    let d = desk_with(settings, true).await;
    let three = vec![file("a", b"1"), file("b", b"2"), file("c", b"3")];
    let cases = [
        (three, "attachments"),
        (
            vec![file("a", b"1"), file("big", &[7; 11])],
            "attachments[1]",
        ),
        (vec![file("empty.txt", b"")], "attachments[0]"),
    ];
    for (files, field) in cases {
        let err =
            d.hd.open_ticket(
                &d.customer,
                NewTicket::new("S", "d").with_attachments(files.clone()),
            )
            .await
            .unwrap_err();
        assert_eq!(invalid_field(err), field);
        let ticket =
            d.hd.open_ticket(&d.customer, NewTicket::new("Fine", "d"))
                .await
                .unwrap()
                .ticket;
        d.store.take();
        let err =
            d.hd.add_note(
                &d.agent,
                ticket.id,
                NewMessage::new("n").with_attachments(files),
            )
            .await
            .unwrap_err();
        assert_eq!(invalid_field(err), field);
        assert_eq!(d.store.take().commits, 0);
    }
    assert!(d.blobs.is_empty(), "no blob of a refused file");
    let tickets =
        d.hd.list_tickets(&d.agent, Default::default())
            .await
            .unwrap();
    assert_eq!(tickets.items.len(), 3, "only the tickets without files");
}

#[tokio::test]
async fn files_without_a_blob_store_are_a_configuration_error() {
    let d = desk_with(TenantSettings::default(), false).await;
    let err =
        d.hd.open_ticket(
            &d.customer,
            NewTicket::new("S", "d").with_attachments(vec![file("a.txt", b"a")]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Configuration { field, .. } if field == "blob_store"),
        "{err:?}"
    );
    assert_eq!(d.store.take().commits, 0, "no ticket without its files");
    // Everything without files works as before.
    let t =
        d.hd.open_ticket(&d.customer, NewTicket::new("S", "d"))
            .await
            .unwrap()
            .ticket;
    d.hd.add_note(&d.agent, t.id, "fine").await.unwrap();
    assert!(
        d.hd.list_attachments(&d.agent, t.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A blob store that closes a ticket behind the service's back while a file is being put,
/// as another instance could: the reply planned on the open ticket then fails to commit.
#[derive(Debug)]
struct ClosingBlobs {
    inner: Arc<MemoryBlobStore>,
    close: Mutex<Option<ToClose>>,
}

/// The store, tenant and ticket [`ClosingBlobs`] closes on its next put.
type ToClose = (Arc<dyn Store>, helpdesk_core::TenantId, TicketId);

#[async_trait]
impl BlobStore for ClosingBlobs {
    async fn put(&self, key: BlobKey, bytes: Arc<[u8]>) -> Result<(), BlobError> {
        self.inner.put(key, bytes).await?;
        let target = self.close.lock().unwrap().take();
        if let Some((store, tenant, id)) = target {
            let t = store.get_ticket(tenant, id).await.unwrap().unwrap();
            let closing = change(
                &t,
                vec![EventKind::StatusChanged {
                    from: t.status,
                    to: TicketStatus::Closed,
                }],
                t.updated_at,
                None,
            );
            store.update_ticket(t.version, &closing).await.unwrap();
        }
        Ok(())
    }
    async fn get(&self, key: BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        self.inner.get(key).await
    }
    async fn delete(&self, key: BlobKey) -> Result<bool, BlobError> {
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_commit_that_fails_after_the_blob_put_leaves_no_metadata() {
    let memory = Arc::new(MemoryBlobStore::new());
    let blobs = Arc::new(ClosingBlobs {
        inner: memory.clone(),
        close: Mutex::new(None),
    });
    let d = desk_on(TenantSettings::default(), Some(blobs.clone()), memory).await;
    let ticket =
        d.hd.open_ticket(&d.customer, NewTicket::new("Printer", "It jams."))
            .await
            .unwrap()
            .ticket;
    let tenant = d.agent.tenant_id;
    *blobs.close.lock().unwrap() = Some((d.store.clone(), tenant, ticket.id));
    d.store.take();

    let err =
        d.hd.reply(
            &d.agent,
            ticket.id,
            NewReply::new("Here you go").with_attachments(vec![file("fix.txt", b"fix")]),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TicketClosed { .. }), "{err:?}");
    assert!(
        d.store.take().commits >= 2,
        "the closing write, then the reply's write refused on its stale version"
    );
    assert!(
        d.hd.list_attachments(&d.agent, ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    let thread = d
        .store
        .list_messages(tenant, ticket.id, MessageFilter::All)
        .await
        .unwrap();
    assert!(thread.is_empty(), "no reply either");
    assert_eq!(
        d.blobs.len(),
        1,
        "the blob stays, unreferenced (never a dangling reference)"
    );
}
