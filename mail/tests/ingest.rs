//! `MailIngest` end to end on the memory store: raw mail in, tickets, replies and the
//! quarantine out, and the whole corpus through the real door.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use helpdesk_core::blob::BlobStore;
use helpdesk_core::domain::{
    Actor, Channel, MessageKind, NotificationKind, Role, TenantSettings, TicketStatus,
};
use helpdesk_core::service::{EmailDisposition, NewReply, NewTenant, NewUser};
use helpdesk_core::store::{MemoryStore, MessageFilter, QuarantineReason, QuarantineStatus};
use helpdesk_core::testkit::{ManualClock, MemoryBlobStore};
use helpdesk_core::{Helpdesk, Store, TenantId, TicketId};
use helpdesk_mail::{IngestError, IngestOutcome, MailIngest, ReplyTokenKey, ThreadMatch};

const SUPPORT: &str = "support@acme.example";
const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

struct Desk {
    hd: Helpdesk,
    ingest: MailIngest,
    tenant: TenantId,
    admin: Actor,
    agent: Actor,
}

async fn desk_with(edit: impl FnOnce(&mut TenantSettings)) -> Desk {
    let mut settings = TenantSettings::default();
    settings.email.address = Some(SUPPORT.into());
    edit(&mut settings);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let hd = Helpdesk::builder(store)
        .clock(clock)
        .blob_store(Arc::new(MemoryBlobStore::new()) as Arc<dyn BlobStore>)
        .build()
        .unwrap();
    let (tenant, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.example", "Admin", Role::Admin),
            settings: Some(settings),
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let agent = hd
        .add_user(
            &admin,
            NewUser::new("agent@acme.example", "Agent", Role::Agent),
        )
        .await
        .unwrap();
    let ingest = MailIngest::new(hd.clone()).with_reply_token_key(ReplyTokenKey::new(KEY).unwrap());
    Desk {
        hd,
        ingest,
        tenant: tenant.id,
        admin,
        agent: Actor::for_user(&agent),
    }
}

async fn desk() -> Desk {
    desk_with(|_| {}).await
}

/// A plain message from `from` with extra header lines.
fn mail(from: &str, message_id: &str, subject: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Someone <{from}>\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\n\
         Message-ID: <{message_id}>\r\nDate: Mon, 2 Mar 2026 08:00:00 +0000\r\n{headers}\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn delivered(outcome: &IngestOutcome) -> (TicketId, u64, EmailDisposition) {
    match outcome {
        IngestOutcome::Delivered {
            ticket,
            number,
            disposition,
            ..
        } => (*ticket, *number, *disposition),
        other => panic!("expected a delivery, got {other:?}"),
    }
}

fn quarantined(outcome: &IngestOutcome) -> (helpdesk_core::QuarantineId, QuarantineReason) {
    match outcome {
        IngestOutcome::Quarantined { id, reason } => (*id, *reason),
        other => panic!("expected quarantine, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_mail_opens_a_ticket_for_a_registered_sender_and_queues_the_acknowledgement() {
    let d = desk().await;
    let raw = mail(
        "jane@example.com",
        "first@example.com",
        "Printer on fire",
        "",
        "It smokes.",
    );
    let outcome = d.ingest.ingest(d.tenant, raw, "pipe").await.unwrap();
    let (id, number, disposition) = delivered(&outcome);
    assert_eq!(disposition, EmailDisposition::Opened);
    let store = d.hd.store();
    let ticket = store.get_ticket(d.tenant, id).await.unwrap().unwrap();
    assert_eq!((ticket.number, ticket.channel), (number, Channel::Email));
    assert_eq!(ticket.subject, "Printer on fire");
    let jane = store
        .get_user_by_email(d.tenant, "jane@example.com")
        .await
        .unwrap()
        .expect("the sender is registered");
    assert_eq!((ticket.requester, jane.role), (jane.id, Role::Customer));
    let messages = store
        .list_messages(d.tenant, id, MessageFilter::All)
        .await
        .unwrap();
    let headers = messages
        .iter()
        .find_map(|m| m.email.clone())
        .expect("the mail's headers are kept");
    assert_eq!(headers.message_id, "first@example.com");
    let outbox = store.list_outbox(d.tenant).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|e| e.notification.kind == NotificationKind::Received
                && e.notification.recipients == vec![jane.id]),
        "the acknowledgement is queued to the requester: {outbox:?}"
    );
}

#[tokio::test]
async fn the_same_message_delivered_twice_is_stored_once() {
    let d = desk().await;
    let raw = mail(
        "jane@example.com",
        "twice@example.com",
        "Twice",
        "",
        "Hello",
    );
    let first = d
        .ingest
        .ingest(d.tenant, raw.clone(), "imap:INBOX")
        .await
        .unwrap();
    let again = d.ingest.ingest(d.tenant, raw, "imap:INBOX").await.unwrap();
    let (id, _, _) = delivered(&first);
    let (same, _, disposition) = delivered(&again);
    assert_eq!((same, disposition), (id, EmailDisposition::Duplicate));
    let page =
        d.hd.list_tickets(&d.admin, Default::default())
            .await
            .unwrap();
    assert_eq!(page.items.len(), 1);
}

#[tokio::test]
async fn the_customers_answer_to_our_reply_threads_by_message_id_then_token_then_tag() {
    let d = desk().await;
    let opened = d
        .ingest
        .ingest(
            d.tenant,
            mail("jane@example.com", "q@example.com", "Sync", "", "Broken"),
            "pipe",
        )
        .await
        .unwrap();
    let (id, number, _) = delivered(&opened);
    let ours =
        d.hd.reply(&d.agent, id, NewReply::new("Try again now."))
            .await
            .unwrap()
            .message;
    let our_id = format!("msg.{}@acme.example", ours.id.as_uuid().simple());
    let answer = mail(
        "jane@example.com",
        "a1@example.com",
        "Re: Sync",
        &format!("In-Reply-To: <{our_id}>\r\nReferences: <q@example.com> <{our_id}>\r\n"),
        "Works, thanks!\r\n\r\nOn Mon, Acme wrote:\r\n> Try again now.",
    );
    let outcome = d.ingest.ingest(d.tenant, answer, "pipe").await.unwrap();
    assert_eq!(delivered(&outcome), (id, number, EmailDisposition::Replied));
    assert!(matches!(
        outcome,
        IngestOutcome::Delivered { matched_by: Some(ThreadMatch::MessageId(ref m)), .. } if *m == our_id
    ));

    let token = ReplyTokenKey::new(KEY).unwrap().token(d.tenant, number);
    let by_token = format!(
        "From: jane@example.com\r\nTo: support+{token}@acme.example\r\nSubject: more\r\n\
         Message-ID: <a2@example.com>\r\n\r\nOne more thing.\r\n"
    );
    let outcome = d
        .ingest
        .ingest(d.tenant, by_token.into_bytes(), "pipe")
        .await
        .unwrap();
    assert_eq!(delivered(&outcome).0, id);
    assert!(matches!(
        outcome,
        IngestOutcome::Delivered {
            matched_by: Some(ThreadMatch::ReplyToken(_)),
            ..
        }
    ));

    let tagged = mail(
        "jane@example.com",
        "a3@example.com",
        &format!("Still [#{number}]"),
        "",
        "x",
    );
    let outcome = d.ingest.ingest(d.tenant, tagged, "pipe").await.unwrap();
    assert_eq!(delivered(&outcome).0, id);

    // A stranger quoting the tag gets a ticket of their own, never Jane's thread.
    let stranger = mail(
        "mallory@evil.example",
        "s1@evil.example",
        &format!("Re [#{number}]"),
        "",
        "x",
    );
    let outcome = d.ingest.ingest(d.tenant, stranger, "pipe").await.unwrap();
    let (other, _, disposition) = delivered(&outcome);
    assert_ne!(other, id);
    assert_eq!(disposition, EmailDisposition::Opened);

    let view = d.hd.get_ticket(&d.admin, id).await.unwrap();
    let from_mail = view
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::Reply && m.email.is_some())
        .count();
    assert_eq!(
        from_mail, 4,
        "the opening mail and three answers on Jane's ticket"
    );
}

#[tokio::test]
async fn a_forged_reply_token_does_not_thread() {
    let d = desk().await;
    let opened = d
        .ingest
        .ingest(
            d.tenant,
            mail("jane@example.com", "t@example.com", "A", "", "x"),
            "pipe",
        )
        .await
        .unwrap();
    let (id, number, _) = delivered(&opened);
    let forged = format!(
        "From: mallory@evil.example\r\nTo: support+{number}-00000000000000000000@acme.example\r\n\
         Subject: hi\r\nMessage-ID: <f@evil.example>\r\n\r\nLet me in.\r\n"
    );
    let outcome = d
        .ingest
        .ingest(d.tenant, forged.into_bytes(), "pipe")
        .await
        .unwrap();
    assert_ne!(delivered(&outcome).0, id);
}

#[tokio::test]
async fn an_answer_to_a_closed_ticket_opens_a_follow_up_with_its_text() {
    let d = desk().await;
    let opened = d
        .ingest
        .ingest(
            d.tenant,
            mail("jane@example.com", "c@example.com", "Old", "", "x"),
            "pipe",
        )
        .await
        .unwrap();
    let (id, _, _) = delivered(&opened);
    for status in [TicketStatus::Resolved, TicketStatus::Closed] {
        d.hd.transition(&d.agent, id, status).await.unwrap();
    }
    let answer = mail(
        "jane@example.com",
        "c2@example.com",
        "Re: Old",
        "In-Reply-To: <c@example.com>\r\n",
        "It broke again.",
    );
    let outcome = d.ingest.ingest(d.tenant, answer, "pipe").await.unwrap();
    let (follow_up, _, disposition) = delivered(&outcome);
    assert_eq!(disposition, EmailDisposition::FollowUp { of: id });
    let view = d.hd.get_ticket(&d.admin, follow_up).await.unwrap();
    assert!(
        view.messages
            .iter()
            .any(|m| m.body.contains("It broke again."))
    );
}

#[tokio::test]
async fn automatic_mail_is_quarantined_and_an_admin_can_take_it_in() {
    let d = desk().await;
    let raw = mail(
        "jane@example.com",
        "auto@example.com",
        "Out of office",
        "Auto-Submitted: auto-replied\r\n",
        "I am away.",
    );
    let outcome = d
        .ingest
        .ingest(d.tenant, raw.clone(), "pipe")
        .await
        .unwrap();
    let (entry, reason) = quarantined(&outcome);
    assert_eq!(reason, QuarantineReason::Ignored);
    let page =
        d.hd.list_tickets(&d.admin, Default::default())
            .await
            .unwrap();
    assert!(page.items.is_empty(), "no ticket for an auto-reply");

    let (kept, bytes) = d.hd.quarantined_mail(&d.admin, entry).await.unwrap();
    assert_eq!(bytes, raw, "the raw bytes are kept exactly");
    assert_eq!(kept.from.as_deref(), Some("jane@example.com"));
    assert!(
        d.ingest.reingest(&d.agent, entry).await.is_err(),
        "agents may not"
    );

    let outcome = d.ingest.reingest(&d.admin, entry).await.unwrap();
    let (ticket, _, _) = delivered(&outcome);
    let (kept, _) = d.hd.quarantined_mail(&d.admin, entry).await.unwrap();
    assert!(matches!(
        kept.status,
        QuarantineStatus::Released { ticket: Some(t), .. } if t == ticket
    ));
    assert!(
        d.hd.list_quarantine(&d.admin, true, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn unreadable_and_oversized_mail_is_quarantined_with_the_reason() {
    let d = desk_with(|s| s.email.max_message_bytes = 2048).await;
    let outcome = d
        .ingest
        .ingest(d.tenant, b"this is not an e-mail".to_vec(), "pipe")
        .await
        .unwrap();
    assert_eq!(quarantined(&outcome).1, QuarantineReason::Malformed);
    let big = mail(
        "jane@example.com",
        "big@example.com",
        "Big",
        "",
        &"x".repeat(4000),
    );
    let outcome = d.ingest.ingest(d.tenant, big, "pipe").await.unwrap();
    let (id, reason) = quarantined(&outcome);
    assert_eq!(reason, QuarantineReason::Oversized);
    let err = d.ingest.reingest(&d.admin, id).await.unwrap_err();
    assert!(matches!(
        err,
        IngestError::StillRefused {
            reason: QuarantineReason::Oversized,
            ..
        }
    ));
    assert_eq!(
        d.hd.list_quarantine(&d.admin, true, 50)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_mail_storm_from_one_sender_is_held_after_the_hourly_limit() {
    let d = desk_with(|s| s.email.max_new_tickets_per_sender_per_hour = 2).await;
    let mut outcomes = Vec::new();
    for n in 0..3 {
        let raw = mail(
            "storm@example.com",
            &format!("s{n}@example.com"),
            &format!("S{n}"),
            "",
            "x",
        );
        outcomes.push(d.ingest.ingest(d.tenant, raw, "pipe").await.unwrap());
    }
    delivered(&outcomes[0]);
    delivered(&outcomes[1]);
    let (held, reason) = quarantined(&outcomes[2]);
    assert_eq!(reason, QuarantineReason::RateLimited);
    // Another sender is not affected.
    let other = mail("calm@example.com", "c@example.com", "Calm", "", "x");
    delivered(&d.ingest.ingest(d.tenant, other, "pipe").await.unwrap());
    // The admin takes the held one in on purpose.
    delivered(&d.ingest.reingest(&d.admin, held).await.unwrap());
}

#[tokio::test]
async fn unknown_senders_are_held_when_the_tenant_does_not_register_customers() {
    let d = desk_with(|s| s.self_registration = false).await;
    let raw = mail("new@example.com", "n@example.com", "Hi", "", "x");
    let outcome = d.ingest.ingest(d.tenant, raw, "pipe").await.unwrap();
    assert_eq!(quarantined(&outcome).1, QuarantineReason::SenderRefused);
    assert!(
        d.hd.store()
            .get_user_by_email(d.tenant, "new@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_tenant_without_a_support_address_refuses_mail_as_a_configuration_error() {
    let d = desk_with(|s| s.email.address = None).await;
    let raw = mail("jane@example.com", "x@example.com", "Hi", "", "x");
    let err = d.ingest.ingest(d.tenant, raw, "pipe").await.unwrap_err();
    assert!(matches!(err, IngestError::ChannelOff { .. }), "{err}");
    assert!(!err.is_temporary());
    let err = d
        .ingest
        .ingest(TenantId::new(), b"From: a@b.c\r\n\r\nx".to_vec(), "pipe")
        .await
        .unwrap_err();
    assert!(matches!(err, IngestError::UnknownTenant { .. }));
}

#[tokio::test]
async fn files_and_html_only_mail_keep_their_content() {
    let d = desk().await;
    // The first bytes of a 1x1 PNG, base64.
    let encoded = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ";
    let raw = format!(
        "From: jane@example.com\r\nTo: {SUPPORT}\r\nSubject: Screenshot\r\nMessage-ID: <p@example.com>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n\
         --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <b>this</b><script>alert(1)</script></p>\r\n\
         --b1\r\nContent-Type: image/png; name=shot.png\r\nContent-Disposition: attachment; filename=shot.png\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b1--\r\n"
    );
    let outcome = d
        .ingest
        .ingest(d.tenant, raw.into_bytes(), "pipe")
        .await
        .unwrap();
    let (id, _, _) = delivered(&outcome);
    let files = d.hd.list_attachments(&d.admin, id).await.unwrap();
    let mut names: Vec<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["message.html", "shot.png"]);
    let view = d.hd.get_ticket(&d.admin, id).await.unwrap();
    let text = &view.messages[0].body;
    assert!(text.contains("See") && !text.contains("alert"), "{text}");
}

/// Every corpus message through the real door into a fresh desk: automatic mail is held as
/// ignored, unreadable mail as malformed or oversized, everything else is delivered, and
/// nothing is an error.
#[tokio::test]
async fn the_whole_corpus_goes_through_the_door() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        let limit = expected["max_message_bytes"].as_u64();
        let d = desk_with(|s| {
            if let Some(limit) = limit {
                s.email.max_message_bytes = limit.max(1024);
            }
        })
        .await;
        let raw = std::fs::read(&path).unwrap();
        let size = raw.len() as u64;
        let outcome = d
            .ingest
            .ingest(d.tenant, raw, "pipe")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let noise = expected["noise"].as_str();
        match (&outcome, expected["error"].as_str(), noise) {
            (IngestOutcome::Quarantined { reason, .. }, Some(error), _) => {
                let want = if error == "too_large" || limit.is_some_and(|l| size > l.max(1024)) {
                    QuarantineReason::Oversized
                } else {
                    QuarantineReason::Malformed
                };
                assert_eq!(*reason, want, "{}", path.display());
            }
            (IngestOutcome::Quarantined { reason, .. }, None, Some(_)) => {
                assert_eq!(*reason, QuarantineReason::Ignored, "{}", path.display());
            }
            (IngestOutcome::Delivered { .. }, None, None) => {}
            (other, error, noise) => panic!(
                "{}: {other:?} but the corpus says error {error:?}, noise {noise:?}",
                path.display()
            ),
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} corpus messages");
}
