//! Out and back in: the mails we build thread in a client and the customer's answer to them
//! lands on the same ticket, whichever threading key the client kept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use helpdesk_core::{MessageId, TenantId, TicketId};
use helpdesk_mail::outbound::{MAX_REFERENCES, reply_message_id};
use helpdesk_mail::{
    AcknowledgementBuilder, BuildError, InboundMail, NoiseReason, OurMessageId, OutboundAttachment,
    OutboundMail, ParseLimits, QuotedMessage, ReplyMailBuilder, ReplyTokenKey, TenantSender,
    ThreadDecision, ThreadLookup, ThreadMatch, ThreadTicket, classify, decide,
    parse_our_message_id,
};

const FIRST: &str = "CAKx7Hq1vX=jane.first.4711@mail.gmail.com";

fn at(ts: &str) -> jiff::Timestamp {
    ts.parse().unwrap()
}

fn sender() -> TenantSender {
    TenantSender::new("support@acme.example", "Acme Support")
        .unwrap()
        .with_signature("Acme Support\nhttps://acme.example/help")
}

fn parse(raw: &[u8]) -> InboundMail {
    InboundMail::parse(raw, &ParseLimits::default()).unwrap()
}

/// The helpdesk side: what it recorded when sending, and its token key.
struct Desk {
    tenant: TenantId,
    key: ReplyTokenKey,
    sent: HashMap<String, ThreadTicket>,
    tickets: HashMap<u64, ThreadTicket>,
}

impl Desk {
    fn new(ticket: ThreadTicket) -> Self {
        Self {
            tenant: TenantId::new(),
            key: ReplyTokenKey::new(&[42u8; 32]).unwrap(),
            sent: HashMap::new(),
            tickets: HashMap::from([(ticket.number, ticket)]),
        }
    }

    fn record(&mut self, mail: &OutboundMail, number: u64) {
        let ticket = self.tickets[&number].clone();
        self.sent.insert(mail.message_id.clone(), ticket);
    }
}

impl ThreadLookup for Desk {
    fn ticket_for_message_id(&self, message_id: &str) -> Option<ThreadTicket> {
        self.sent.get(message_id).cloned()
    }

    fn ticket_for_reply_token(&self, token: &str) -> Option<ThreadTicket> {
        let number = self.key.verify(self.tenant, token)?;
        self.tickets.get(&number).cloned()
    }

    fn ticket_for_number(&self, number: u64) -> Option<ThreadTicket> {
        self.tickets.get(&number).cloned()
    }
}

/// What a mail client writes when its user presses "Reply" on `sent`.
struct ClientReply<'a> {
    from: &'a str,
    keep_threading_headers: bool,
    use_reply_to: bool,
    body: &'a str,
}

fn customer_reply(sent: &InboundMail, reply: &ClientReply<'_>) -> Vec<u8> {
    let to = match (&sent.reply_to, reply.use_reply_to) {
        (Some(reply_to), true) => reply_to.address.clone(),
        _ => sent.from.address.clone(),
    };
    let mut headers = vec![
        format!("From: Jane Doe <{}>", reply.from),
        format!("To: {to}"),
        format!("Subject: Re: {}", sent.subject),
        "Date: Wed, 10 Jan 2024 08:00:00 +0000".to_string(),
        "Message-ID: <client-answer-1@example.com>".to_string(),
    ];
    if !sent.cc.is_empty() {
        let cc: Vec<String> = sent.cc.iter().map(|m| m.address.clone()).collect();
        headers.push(format!("Cc: {}", cc.join(", ")));
    }
    if reply.keep_threading_headers {
        let own = sent.message_id.clone().unwrap();
        let mut references: Vec<String> = sent.references.clone();
        references.push(own.clone());
        let references: Vec<String> = references.iter().map(|id| format!("<{id}>")).collect();
        headers.push(format!("In-Reply-To: <{own}>"));
        headers.push(format!("References: {}", references.join("\r\n ")));
    }
    let quoted: Vec<String> = sent
        .body
        .text
        .lines()
        .map(|line| format!("> {line}"))
        .collect();
    format!(
        "{}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n\r\nOn Tue, 9 Jan 2024 at 14:30, Acme Support <{}> wrote:\r\n{}\r\n",
        headers.join("\r\n"),
        reply.body,
        sent.from.address,
        quoted.join("\r\n")
    )
    .into_bytes()
}

fn agent_reply(desk: &Desk, message: MessageId, thread: &[String]) -> OutboundMail {
    ReplyMailBuilder::new(&sender())
        .message(message)
        .ticket(12, "Printer on the 3rd floor is on fire")
        .to("jane@example.com", Some("Jane Doe"))
        .cc("tom@example.com", Some("Tom Baker"))
        .cc("support@acme.example", None)
        .cc("JANE@example.com", None)
        .body("Hello Jane,\r\n\r\nthe technician replaced the fuser unit.")
        .thread(thread)
        .quote(QuotedMessage {
            author: "Jane Doe".into(),
            sent_at: Some(at("2024-01-08T09:02:03Z")),
            text: "the printer on the 3rd floor prints every page twice.".into(),
        })
        .reply_token(&desk.key.token(desk.tenant, 12))
        .date(at("2024-01-09T14:30:00Z"))
        .build()
        .unwrap()
}

#[test]
fn a_customer_answer_to_our_reply_lands_on_the_same_ticket() {
    let ticket = ThreadTicket::new(TicketId::new(), 12, "jane@example.com")
        .with_participants(["tom@example.com"]);
    let mut desk = Desk::new(ticket.clone());
    let ours = sender().our_mailboxes();

    // The acknowledgement of the new ticket, threaded under the customer's first mail.
    let ack = AcknowledgementBuilder::new(&sender())
        .ticket(ticket.id, 12, "Printer on the 3rd floor is on fire")
        .to("jane@example.com", Some("Jane Doe"))
        .in_reply_to(FIRST)
        .reply_token(&desk.key.token(desk.tenant, 12))
        .date(at("2024-01-08T09:02:10Z"))
        .build()
        .unwrap();
    desk.record(&ack, 12);
    let ack_in = parse(&ack.formatted());
    assert_eq!(
        ack_in.signals.auto_submitted.as_deref(),
        Some("auto-replied")
    );
    assert_eq!(ack_in.in_reply_to, vec![FIRST.to_string()]);
    assert_eq!(
        ack_in.subject,
        "Re: Printer on the 3rd floor is on fire [#12]"
    );
    assert!(ack_in.body.text.contains("we received your request #12"));
    assert_eq!(
        parse_our_message_id(&ack.message_id, &ours),
        Some(OurMessageId::Acknowledgement(ticket.id))
    );
    // Were it delivered back to us, it would be recognised and ignored.
    assert!(matches!(
        classify(&ack_in, &ours),
        Some(NoiseReason::OwnMessage { .. })
    ));

    // The agent's reply.
    let message = MessageId::new();
    let thread = vec![FIRST.to_string(), ack.message_id.clone()];
    let sent = agent_reply(&desk, message, &thread);
    desk.record(&sent, 12);
    assert_eq!(sent.message_id, reply_message_id(message, "acme.example"));
    assert_eq!(sent.in_reply_to.as_deref(), Some(ack.message_id.as_str()));
    assert_eq!(sent.references, thread);

    let sent_in = parse(&sent.formatted());
    assert_eq!(
        sent_in.message_id.as_deref(),
        Some(sent.message_id.as_str())
    );
    assert_eq!(sent_in.in_reply_to, vec![ack.message_id.clone()]);
    assert_eq!(sent_in.references, thread);
    assert_eq!(
        sent_in.subject,
        "Re: Printer on the 3rd floor is on fire [#12]"
    );
    assert_eq!(sent_in.from.name.as_deref(), Some("Acme Support"));
    assert_eq!(
        sent_in
            .to
            .iter()
            .map(|m| m.address.as_str())
            .collect::<Vec<_>>(),
        ["jane@example.com"]
    );
    // Our own address and a second spelling of the requester are not copied.
    assert_eq!(
        sent_in
            .cc
            .iter()
            .map(|m| m.address.as_str())
            .collect::<Vec<_>>(),
        ["tom@example.com"]
    );
    let reply_to = sent_in.reply_to.clone().unwrap();
    assert_eq!(
        reply_to.address,
        format!("support+{}@acme.example", desk.key.token(desk.tenant, 12))
    );
    assert_eq!(
        sent_in.signals.auto_submitted, None,
        "a person's reply is not automatic"
    );
    assert_eq!(
        sent_in.signals.x_loop,
        vec!["support@acme.example".to_string()]
    );
    let body = &sent_in.body.text;
    assert!(body.starts_with(
        "Hello Jane,\n\nthe technician replaced the fuser unit.\n\n-- \nAcme Support\n"
    ));
    assert!(body.contains("On Mon, 8 Jan 2024 at 09:02 UTC, Jane Doe wrote:\n> the printer on the 3rd floor prints every page twice."));
    assert!(!body.contains('\r'));

    // 1. A client that keeps the threading headers: found by our Message-ID.
    let answer = parse(&customer_reply(
        &sent_in,
        &ClientReply {
            from: "jane@example.com",
            keep_threading_headers: true,
            use_reply_to: true,
            body: "Thanks, it works again.",
        },
    ));
    assert_eq!(answer.body.split.new_text, "Thanks, it works again.");
    assert_eq!(
        decide(&answer, &ours, &desk),
        ThreadDecision::Reply {
            ticket: ticket.clone(),
            matched_by: ThreadMatch::MessageId(sent.message_id.clone()),
        }
    );
    // The id it matched is one we can read back without having stored it.
    assert_eq!(
        parse_our_message_id(&sent.message_id, &ours),
        Some(OurMessageId::Reply(message))
    );

    // 2. A webmail that drops In-Reply-To/References but answers to Reply-To: the token.
    let answer = parse(&customer_reply(
        &sent_in,
        &ClientReply {
            from: "jane@example.com",
            keep_threading_headers: false,
            use_reply_to: true,
            body: "Thanks!",
        },
    ));
    assert!(matches!(
        decide(&answer, &ours, &desk),
        ThreadDecision::Reply {
            matched_by: ThreadMatch::ReplyToken(_),
            ..
        }
    ));

    // 3. A client that drops both (answers From:): the subject tag, checked on the sender.
    let answer = parse(&customer_reply(
        &sent_in,
        &ClientReply {
            from: "jane@example.com",
            keep_threading_headers: false,
            use_reply_to: false,
            body: "Thanks!",
        },
    ));
    assert_eq!(
        decide(&answer, &ours, &desk),
        ThreadDecision::Reply {
            ticket: ticket.clone(),
            matched_by: ThreadMatch::SubjectTag(12)
        }
    );
    let stranger = parse(&customer_reply(
        &sent_in,
        &ClientReply {
            from: "mallory@evil.example",
            keep_threading_headers: false,
            use_reply_to: false,
            body: "Let me in",
        },
    ));
    assert_eq!(
        decide(&stranger, &ours, &desk),
        ThreadDecision::NewTicket {
            ignored_tag: Some(12)
        }
    );

    // 4. Once the ticket is closed, the same answer opens a follow-up.
    desk.sent.values_mut().for_each(|t| t.closed = true);
    let answer = parse(&customer_reply(
        &sent_in,
        &ClientReply {
            from: "jane@example.com",
            keep_threading_headers: true,
            use_reply_to: true,
            body: "It broke again.",
        },
    ));
    assert!(matches!(
        decide(&answer, &ours, &desk),
        ThreadDecision::FollowUp { closed, matched_by: ThreadMatch::MessageId(_) } if closed.number == 12
    ));
}

#[test]
fn a_resend_is_the_same_mail() {
    let desk = Desk::new(ThreadTicket::new(TicketId::new(), 12, "jane@example.com"));
    let message = MessageId::new();
    let thread = vec![FIRST.to_string()];
    let first = agent_reply(&desk, message, &thread);
    let again = agent_reply(&desk, message, &thread);
    assert_eq!(first.message_id, again.message_id);
    assert_eq!(first.formatted(), again.formatted());
    let other = agent_reply(&desk, MessageId::new(), &thread);
    assert_ne!(first.message_id, other.message_id);
}

#[test]
fn long_threads_keep_the_first_and_latest_references() {
    let desk = Desk::new(ThreadTicket::new(TicketId::new(), 12, "jane@example.com"));
    let thread: Vec<String> = (0..35)
        .map(|i| format!("m{i}.abcdefghijklmnop@example.com"))
        .collect();
    let sent = agent_reply(&desk, MessageId::new(), &thread);
    let parsed = parse(&sent.formatted());
    assert_eq!(parsed.references.len(), MAX_REFERENCES);
    assert_eq!(parsed.references.first(), thread.first());
    assert_eq!(parsed.references.last(), thread.last());
    assert_eq!(parsed.in_reply_to, vec![thread[34].clone()]);
}

#[test]
fn non_ascii_names_subjects_and_attachments_survive_the_trip() {
    let sender = TenantSender::new("support@acme.example", "Acme Kundendienst – Büro").unwrap();
    let pdf = b"%PDF-1.4 fake but fine".to_vec();
    let sent = ReplyMailBuilder::new(&sender)
        .message(MessageId::new())
        .ticket(40, "Türklingel defekt – dringend")
        .to("juergen@example.de", Some("Jürgen Müller"))
        .body("Grüß Gott, anbei die Rechnung.")
        .attachment(OutboundAttachment {
            file_name: "Rechnung März.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: pdf.clone(),
        })
        .date(at("2024-01-18T09:00:00Z"))
        .build()
        .unwrap();
    let parsed = parse(&sent.formatted());
    assert_eq!(parsed.subject, "Re: Türklingel defekt – dringend [#40]");
    assert_eq!(
        parsed.from.name.as_deref(),
        Some("Acme Kundendienst – Büro")
    );
    assert_eq!(parsed.to[0].name.as_deref(), Some("Jürgen Müller"));
    assert_eq!(parsed.body.split.new_text, "Grüß Gott, anbei die Rechnung.");
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(
        parsed.attachments[0].file_name.as_deref(),
        Some("Rechnung März.pdf")
    );
    assert_eq!(parsed.attachments[0].content_type, "application/pdf");
    assert_eq!(parsed.attachments[0].bytes, pdf);
    assert!(parsed.reply_to.is_none());
    assert!(parsed.in_reply_to.is_empty());
}

#[test]
fn builders_name_the_field_at_fault() {
    let date = at("2024-01-18T09:00:00Z");
    let complete = || {
        ReplyMailBuilder::new(&sender())
            .message(MessageId::new())
            .ticket(1, "x")
            .to("jane@example.com", None)
            .body("hi")
            .date(date)
    };
    assert!(complete().build().is_ok());
    let field = |result: Result<OutboundMail, BuildError>| match result {
        Err(BuildError::Missing { field })
        | Err(BuildError::InvalidAddress { field, .. })
        | Err(BuildError::InvalidValue { field, .. }) => field.to_string(),
        Err(BuildError::InvalidContentType { .. }) => "attachments".into(),
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(field(ReplyMailBuilder::new(&sender()).build()), "message");
    let no_to = ReplyMailBuilder::new(&sender())
        .message(MessageId::new())
        .ticket(1, "x")
        .body("hi")
        .date(date);
    assert_eq!(field(no_to.build()), "to");
    assert_eq!(field(complete().to("not an address", None).build()), "to");
    assert_eq!(field(complete().cc("a@b@c", None).build()), "cc");
    assert_eq!(
        field(complete().thread(["no brackets allowed <x@y>"]).build()),
        "thread"
    );
    assert_eq!(
        field(complete().reply_token("bad token").build()),
        "reply_token"
    );
    let bad_type = OutboundAttachment {
        file_name: "a".into(),
        content_type: "not a type".into(),
        bytes: vec![1],
    };
    assert_eq!(
        field(complete().attachment(bad_type).build()),
        "attachments"
    );
    let error = complete().cc("a@b@c", None).build().unwrap_err();
    assert!(error.to_string().starts_with("cc: "), "{error}");
    assert!(
        std::error::Error::source(&error).is_some(),
        "the cause is kept"
    );

    assert_eq!(
        field(AcknowledgementBuilder::new(&sender()).build()),
        "ticket"
    );
    let ack_without_date = AcknowledgementBuilder::new(&sender())
        .ticket(TicketId::new(), 1, "x")
        .to("jane@example.com", None);
    assert_eq!(field(ack_without_date.build()), "date");
}

#[test]
fn the_acknowledgement_uses_the_tenant_wording() {
    let sender = sender();
    let ack = AcknowledgementBuilder::new(&sender)
        .ticket(TicketId::new(), 77, "Re: Fwd: {number} trick [#77]")
        .to("jane@example.com", None)
        .body("Danke! Ihre Anfrage #{number} ({subject}) ist eingegangen.")
        .date(at("2024-01-18T09:00:00Z"))
        .build()
        .unwrap();
    let parsed = parse(&ack.formatted());
    assert_eq!(parsed.subject, "Re: {number} trick [#77]");
    assert!(
        parsed.body.text.starts_with(
            "Danke! Ihre Anfrage #77 ({number} trick) ist eingegangen.\n\n-- \nAcme Support"
        ),
        "{}",
        parsed.body.text
    );
    assert_eq!(
        parsed.signals.auto_submitted.as_deref(),
        Some("auto-replied")
    );
    assert!(parsed.reply_to.is_none() && parsed.in_reply_to.is_empty());
}
