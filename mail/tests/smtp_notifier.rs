//! `MailNotifier` through the outbox into a real SMTP server (`scripts/smtp_sink.py`, which
//! needs `aiosmtpd` from the project's venv: `scripts/python-env.sh`; `make test` makes it).
//! Without that Python every test prints why it did not run and passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "live/smtp_sink.rs"]
mod smtp_sink;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::blob::BlobStore;
use helpdesk_core::domain::{
    Actor, AuthorKind, Channel, EmailHeaders, Message, MessageKind, NotificationKind, OutboxEntry,
    Role, Tenant, TenantSettings, Ticket,
};
use helpdesk_core::service::{NewAttachment, NewReply, NewTenant, NewTicket, NewUser};
use helpdesk_core::store::MemoryStore;
use helpdesk_core::store::{OutboxStore as _, TicketStore as _};
use helpdesk_core::testkit::{ManualClock, MemoryBlobStore, fixtures};
use helpdesk_core::{BoxError, Helpdesk, MessageId, Notifier, TicketId};
use helpdesk_mail::{InboundMail, MailNotifier, ParseLimits, ReplyTokenKey};
use smtp_sink::{SmtpSink, free_port};

const CUSTOMER_MAIL_ID: &str = "CAF-jane-first.4711@mail.example.com";

/// The staff notifications the mail notifier passed on.
#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<OutboxEntry>>);

#[async_trait]
impl Notifier for Recorded {
    async fn deliver(&self, _tenant: &Tenant, entry: &OutboxEntry) -> Result<(), BoxError> {
        self.0.lock().unwrap().push(entry.clone());
        Ok(())
    }
}

struct World {
    hd: Helpdesk,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    tenant: Tenant,
    agent: Actor,
    customer: Actor,
    staff: Arc<Recorded>,
}

async fn world(smtp_port: u16) -> World {
    let store = Arc::new(MemoryStore::new());
    let blobs = Arc::new(MemoryBlobStore::new());
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let staff = Arc::new(Recorded::default());
    let key = ReplyTokenKey::new(&[7u8; 32]).unwrap();
    let notifier = MailNotifier::from_url(
        &format!("smtp://127.0.0.1:{smtp_port}"),
        store.clone() as helpdesk_core::DynStore,
        key,
        staff.clone(),
    )
    .unwrap()
    .with_blob_store(blobs.clone() as Arc<dyn BlobStore>);
    let hd = Helpdesk::builder(store.clone() as helpdesk_core::DynStore)
        .clock(clock.clone())
        .blob_store(blobs as Arc<dyn BlobStore>)
        .notifier(Arc::new(notifier))
        .build()
        .unwrap();
    let mut settings = TenantSettings::default();
    settings.email.address = Some("support@acme.test".into());
    settings.email.display_name = "Acme Support".into();
    settings.email.signature = "The Acme team".into();
    let (tenant, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Admin", Role::Admin),
            settings: Some(settings),
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let add = async |email: &str, name: &str, role: Role| {
        Actor::for_user(
            &hd.add_user(&admin, NewUser::new(email, name, role))
                .await
                .unwrap(),
        )
    };
    let agent = add("agent@acme.test", "Alex Agent", Role::Agent).await;
    let customer = add("jane@customer.test", "Jane Doe", Role::Customer).await;
    World {
        hd,
        store,
        clock,
        tenant,
        agent,
        customer,
        staff,
    }
}

impl World {
    /// A ticket of `channel` opened by the customer.
    async fn ticket(&self, channel: Channel) -> Ticket {
        let mut new = NewTicket::new("Printer on fire", "It burns.");
        new.channel = Some(channel);
        let ticket = self
            .hd
            .open_ticket(&self.customer, new)
            .await
            .unwrap()
            .ticket;
        assert_eq!(ticket.channel, channel);
        ticket
    }

    async fn current(&self, id: TicketId) -> Ticket {
        self.store
            .get_ticket(self.tenant.id, id)
            .await
            .unwrap()
            .unwrap()
    }

    /// The customer's mail on the ticket, as the e-mail intake stores it (with headers).
    async fn customer_mail(&self, id: TicketId, body: &str) {
        let ticket = self.current(id).await;
        let now = self.hd.now();
        let mut write = fixtures::change(&ticket, vec![], now, Some(self.customer.user_id));
        write.messages.push(Message {
            id: MessageId::new(),
            tenant_id: self.tenant.id,
            ticket_id: id,
            author: Some(self.customer.user_id),
            author_kind: AuthorKind::Customer,
            kind: MessageKind::Reply,
            body: body.into(),
            created_at: now,
            citations: vec![],
            draft: None,
            email: Some(
                EmailHeaders::new(CUSTOMER_MAIL_ID, "jane@customer.test")
                    .with_cc(["boss@customer.test", "support@acme.test"]),
            ),
        });
        self.store
            .update_ticket(ticket.version, &write)
            .await
            .unwrap();
    }

    /// Queues `kind` for the requester directly (as the intake's write would).
    async fn queue(&self, id: TicketId, kind: NotificationKind) {
        let ticket = self.current(id).await;
        let now = self.hd.now();
        let mut write = fixtures::change(&ticket, vec![], now, None);
        write.outbox.push(fixtures::outbox_entry(
            &ticket,
            vec![ticket.requester],
            kind,
            now,
        ));
        self.store
            .update_ticket(ticket.version, &write)
            .await
            .unwrap();
    }

    fn mails_to_staff(&self) -> Vec<OutboxEntry> {
        self.staff.0.lock().unwrap().clone()
    }
}

fn parse(mail: &serde_json::Value) -> InboundMail {
    let data = mail["data"].as_str().unwrap();
    InboundMail::parse(data.as_bytes(), &ParseLimits::default()).unwrap()
}

#[tokio::test]
async fn an_agent_reply_is_mailed_threaded_to_the_requester() {
    let Some(sink) = SmtpSink::start(0) else {
        return;
    };
    let w = world(sink.port).await;
    let ticket = w.ticket(Channel::Email).await;
    w.customer_mail(
        ticket.id,
        "Still burning!\n\nOn Mon, Acme wrote:\n> old text",
    )
    .await;
    w.clock.advance(Duration::from_secs(60));
    let reply =
        w.hd.reply(
            &w.agent,
            ticket.id,
            NewReply::new("We are sending a technician.").with_attachments(vec![
                NewAttachment::new("notes.txt", b"bring an extinguisher".to_vec()),
            ]),
        )
        .await
        .unwrap();
    let report = w.hd.dispatch_outbox().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");

    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["mail_from"], "support@acme.test");
    let mut rcpt: Vec<_> = mails[0]["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    rcpt.sort();
    assert_eq!(
        rcpt,
        ["boss@customer.test", "jane@customer.test"],
        "our own address is no CC"
    );
    let mail = parse(&mails[0]);
    let ours = format!("msg.{}@acme.test", reply.message.id.as_uuid().simple());
    assert_eq!(mail.message_id.as_deref(), Some(ours.as_str()));
    assert_eq!(mail.in_reply_to, [CUSTOMER_MAIL_ID]);
    assert!(
        mail.references.iter().any(|r| r == CUSTOMER_MAIL_ID),
        "{:?}",
        mail.references
    );
    assert_eq!(
        mail.subject,
        format!("Re: Printer on fire [#{}]", ticket.number)
    );
    assert_eq!(mail.from.address, "support@acme.test");
    assert_eq!(mail.from.name.as_deref(), Some("Acme Support"));
    let reply_to = mail.reply_to.as_ref().unwrap().address.clone();
    assert!(
        reply_to.starts_with("support+") && reply_to.ends_with("@acme.test"),
        "{reply_to}"
    );
    let text = &mail.body.text;
    assert!(text.contains("We are sending a technician."), "{text}");
    assert!(
        text.contains("Still burning!"),
        "the customer's last mail is quoted: {text}"
    );
    assert!(text.contains("The Acme team"), "signature: {text}");
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!(mail.attachments[0].file_name.as_deref(), Some("notes.txt"));
    assert!(w.mails_to_staff().iter().all(|e| !matches!(
        e.notification.kind,
        NotificationKind::Replied {
            message_id: Some(_)
        }
    )));
}

#[tokio::test]
async fn received_sends_the_acknowledgement() {
    let Some(sink) = SmtpSink::start(0) else {
        return;
    };
    let w = world(sink.port).await;
    let ticket = w.ticket(Channel::Email).await;
    w.customer_mail(ticket.id, "My printer is on fire.").await;
    w.queue(ticket.id, NotificationKind::Received).await;
    w.hd.dispatch_outbox().await.unwrap();

    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = parse(&mails[0]);
    assert_eq!(mail.signals.auto_submitted.as_deref(), Some("auto-replied"));
    assert_eq!(mail.in_reply_to, [CUSTOMER_MAIL_ID]);
    assert!(
        mail.body.text.contains(&format!("#{}", ticket.number)),
        "{}",
        mail.body.text
    );
    assert_eq!(mail.to[0].address, "jane@customer.test");
}

#[tokio::test]
async fn an_internal_note_sends_nothing() {
    let Some(sink) = SmtpSink::start(0) else {
        return;
    };
    let w = world(sink.port).await;
    let ticket = w.ticket(Channel::Email).await;
    let note =
        w.hd.add_note(&w.agent, ticket.id, "internal: the customer is rude")
            .await
            .unwrap();
    // The engine queues nothing for the requester about a note...
    let entries = w.store.list_outbox(w.tenant.id).await.unwrap();
    assert!(
        !entries
            .iter()
            .any(|e| e.notification.recipients.contains(&ticket.requester)
                && matches!(e.notification.kind, NotificationKind::Replied { .. })),
        "{entries:?}"
    );
    // ... and an entry naming a note (a bug elsewhere) is not mailed either.
    w.queue(
        ticket.id,
        NotificationKind::Replied {
            message_id: Some(note.id),
        },
    )
    .await;
    let report = w.hd.dispatch_outbox().await.unwrap();
    assert_eq!(report.failed, 0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.mails().is_empty(), "{:?}", sink.mails());
}

#[tokio::test]
async fn other_tickets_and_kinds_go_to_the_fallback() {
    let Some(sink) = SmtpSink::start(0) else {
        return;
    };
    let w = world(sink.port).await;
    let ticket = w.ticket(Channel::Form).await;
    w.hd.reply(&w.agent, ticket.id, NewReply::new("Hello from the web"))
        .await
        .unwrap();
    w.hd.dispatch_outbox().await.unwrap();
    assert!(
        sink.mails().is_empty(),
        "a web ticket's reply is not a reply mail"
    );
    assert!(w.mails_to_staff().iter().any(|e| matches!(
        e.notification.kind,
        NotificationKind::Replied { .. }
    ) && e.notification.recipients
        == [ticket.requester]));
}

#[tokio::test]
async fn a_down_smtp_server_keeps_the_mail_queued_until_it_is_back() {
    let Some(_python) = SmtpSink::python() else {
        eprintln!("skipped: no Python venv with aiosmtpd (run scripts/python-env.sh)");
        return;
    };
    let port = free_port();
    let w = world(port).await;
    let ticket = w.ticket(Channel::Email).await;
    w.customer_mail(ticket.id, "Hello?").await;
    w.hd.reply(&w.agent, ticket.id, NewReply::new("Here we are."))
        .await
        .unwrap();

    let down = w.hd.dispatch_outbox().await.unwrap();
    assert!(down.failed >= 1, "{down:?}");
    let queued = w.store.list_outbox(w.tenant.id).await.unwrap();
    let entry = queued
        .iter()
        .find(|e| {
            matches!(
                e.notification.kind,
                NotificationKind::Replied {
                    message_id: Some(_)
                }
            )
        })
        .unwrap();
    assert_eq!((entry.attempts, entry.delivered_at), (1, None));
    assert!(
        entry
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains(&format!("#{}", ticket.number))
    );

    let sink = SmtpSink::start(port).unwrap();
    w.clock.advance(Duration::from_secs(3600));
    let back = w.hd.dispatch_outbox().await.unwrap();
    assert_eq!(back.failed, 0, "{back:?}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(parse(&mails[0]).body.text.contains("Here we are."));
}
