//! The e-mail channel end to end on real servers: a customer's mail arrives in a Dovecot
//! mailbox, the IMAP poller takes it into the engine, the acknowledgement and the agent's
//! reply go out through the outbox to a real SMTP server, and the customer's answer, built
//! from the headers of the mail they received, comes back through IMAP onto the same
//! ticket. A crash between the commit and the IMAP move stores nothing twice.
//!
//! Needs `make test`'s Dovecot (`HELPDESK_IMAP_HOST`) and Python venv (for the SMTP sink);
//! without them it prints why it did not run and passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "live/dovecot.rs"]
mod dovecot;
#[path = "live/smtp_sink.rs"]
mod smtp_sink;

use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::blob::BlobStore;
use helpdesk_core::domain::{Actor, Channel, MessageKind, Role, TenantSettings};
use helpdesk_core::notify::LogNotifier;
use helpdesk_core::service::{NewReply, NewTenant, NewUser};
use helpdesk_core::store::{MemoryStore, MessageFilter};
use helpdesk_core::testkit::MemoryBlobStore;
use helpdesk_core::{Helpdesk, TenantId, TicketId};
use helpdesk_mail::imap::{ImapConfig, ImapPoller, ImapSecurity};
use helpdesk_mail::{
    InboundMail, MailIngest, MailNotifier, ParseLimits, ReplyTokenKey, TenantMailbox,
};
use smtp_sink::SmtpSink;

const SUPPORT: &str = "support@acme.test";

struct World {
    hd: Helpdesk,
    tenant: TenantId,
    agent: Actor,
    poller: ImapPoller,
    server: dovecot::Server,
    inbox: String,
    sink: SmtpSink,
}

async fn world() -> Option<World> {
    let server = dovecot::server()?;
    let sink = SmtpSink::start(0)?;
    let key = ReplyTokenKey::new(&[9u8; 32]).unwrap();
    let store: helpdesk_core::DynStore = Arc::new(MemoryStore::new());
    let blobs: Arc<dyn BlobStore> = Arc::new(MemoryBlobStore::new());
    let notifier = MailNotifier::from_url(
        &format!("smtp://127.0.0.1:{}", sink.port),
        store.clone(),
        key.clone(),
        Arc::new(LogNotifier),
    )
    .unwrap()
    .with_blob_store(blobs.clone());
    let hd = Helpdesk::builder(store)
        .blob_store(blobs)
        .notifier(Arc::new(notifier))
        .build()
        .unwrap();
    let mut settings = TenantSettings::default();
    settings.email.address = Some(SUPPORT.into());
    settings.email.display_name = "Acme Support".into();
    let (tenant, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Admin", Role::Admin),
            settings: Some(settings),
        })
        .await
        .unwrap();
    let agent = hd
        .add_user(
            &Actor::for_user(&admin),
            NewUser::new("agent@acme.test", "Alex", Role::Agent),
        )
        .await
        .unwrap();
    let inbox = format!("support-{}", uuid::Uuid::now_v7().simple());
    let ingest = MailIngest::new(hd.clone()).with_reply_token_key(key);
    let config = ImapConfig::new(&server.host, &server.user, &server.password)
        .with_security(ImapSecurity::Plain)
        .with_port(server.port)
        .with_mailbox(&inbox)
        .with_processed_mailbox(format!("{inbox}-done"))
        .with_io_timeout(Duration::from_secs(20));
    let poller = ImapPoller::new(config, Arc::new(TenantMailbox::new(ingest, tenant.id))).unwrap();
    Some(World {
        hd,
        tenant: tenant.id,
        agent: Actor::for_user(&agent),
        poller,
        server,
        inbox,
        sink,
    })
}

impl World {
    async fn arrive(&self, raw: &[u8]) {
        let mut session = dovecot::client(&self.server).await;
        dovecot::append(&mut session, &self.inbox, raw).await;
        let _ = session.logout().await;
    }

    /// Delivers the outbox and waits for the SMTP server to have `n` mails.
    async fn sent(&self, n: usize) -> Vec<InboundMail> {
        self.hd.dispatch_outbox().await.unwrap();
        for _ in 0..100 {
            let mails = self.sink.mails();
            if mails.len() >= n {
                return mails
                    .iter()
                    .map(|m| {
                        let raw = m["data"].as_str().unwrap().as_bytes();
                        InboundMail::parse(raw, &ParseLimits::default()).unwrap()
                    })
                    .collect();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the SMTP server did not get {n} mails: {:?}",
            self.sink.mails()
        );
    }

    async fn messages(&self, ticket: TicketId) -> Vec<helpdesk_core::domain::Message> {
        self.hd
            .store()
            .list_messages(self.tenant, ticket, MessageFilter::All)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_customer_mail_a_reply_and_the_customers_answer_thread_on_one_ticket() {
    let Some(w) = world().await else { return };
    let first = b"From: Jane Doe <jane@customer.test>\r\nTo: support@acme.test\r\n\
        Subject: Printer on fire\r\nMessage-ID: <jane-1@customer.test>\r\n\
        Date: Mon, 2 Mar 2026 08:00:00 +0000\r\n\r\nIt smokes since this morning.\r\n";
    w.arrive(first).await;
    let report = w.poller.poll_once().await.unwrap();
    assert_eq!((report.fetched, report.accepted), (1, 1), "{report:?}");
    let page =
        w.hd.store()
            .list_tickets(w.tenant, &Default::default())
            .await
            .unwrap();
    assert_eq!(page.items.len(), 1);
    let ticket = page.items[0].clone();
    assert_eq!(ticket.channel, Channel::Email);

    // The acknowledgement threads under the customer's mail.
    let ack = w.sent(1).await.remove(0);
    assert_eq!(ack.to[0].address, "jane@customer.test");
    assert_eq!(ack.in_reply_to, ["jane-1@customer.test"]);
    assert!(
        ack.subject.contains(&format!("[#{}]", ticket.number)),
        "{}",
        ack.subject
    );

    // The agent answers; an internal note never leaves.
    w.hd.add_note(&w.agent, ticket.id, "Jane is a VIP")
        .await
        .unwrap();
    w.hd.reply(
        &w.agent,
        ticket.id,
        NewReply::new("A technician is on the way."),
    )
    .await
    .unwrap();
    let sent = w.sent(2).await;
    assert_eq!(
        sent.len(),
        2,
        "the acknowledgement and the reply, never the note"
    );
    let reply = &sent[1];
    assert!(reply.body.text.contains("A technician is on the way."));
    assert!(!reply.body.text.contains("VIP"));
    assert!(
        reply
            .references
            .contains(&"jane-1@customer.test".to_string())
    );
    let reply_id = reply.message_id.clone().unwrap();
    let reply_to = reply.reply_to.as_ref().unwrap().address.clone();
    assert!(reply_to.starts_with("support+"), "{reply_to}");

    // Jane answers from her mail client: her client threads on what she received.
    let mut references: Vec<String> = reply.references.clone();
    references.push(reply_id.clone());
    let refs: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
    let answer = format!(
        "From: Jane Doe <jane@customer.test>\r\nTo: {reply_to}\r\nSubject: Re: {}\r\n\
         Message-ID: <jane-2@customer.test>\r\nIn-Reply-To: <{reply_id}>\r\nReferences: {}\r\n\r\n\
         Thanks, he is here.\r\n\r\nOn Mon, Acme Support wrote:\r\n> A technician is on the way.\r\n",
        reply.subject,
        refs.join(" ")
    );
    w.arrive(answer.as_bytes()).await;
    // A crash after the commit and before the move: the message is fetched again.
    let crashed = w.poller.poll_once_without_move().await.unwrap();
    assert_eq!(crashed.accepted, 1);
    let report = w.poller.poll_once().await.unwrap();
    assert_eq!(
        report.accepted, 1,
        "the second delivery is accepted and moved"
    );

    let messages = w.messages(ticket.id).await;
    let answers: Vec<_> = messages
        .iter()
        .filter(|m| m.body.contains("Thanks, he is here."))
        .collect();
    assert_eq!(answers.len(), 1, "stored once though delivered twice");
    assert_eq!(answers[0].kind, MessageKind::Reply);
    let tickets =
        w.hd.store()
            .list_tickets(w.tenant, &Default::default())
            .await
            .unwrap();
    assert_eq!(
        tickets.items.len(),
        1,
        "no new ticket: the answer is on #{}",
        ticket.number
    );
    let mut session = dovecot::client(&w.server).await;
    session.select(&w.inbox).await.unwrap();
    assert!(
        session.uid_search("NOT DELETED").await.unwrap().is_empty(),
        "the inbox is empty"
    );
}
