//! The corpus: every `tests/corpus/*.eml` is parsed, classified, threaded and split, and
//! checked against the `.json` beside it (format in `tests/corpus/README.md`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use helpdesk_core::TicketId;
use helpdesk_mail::{
    InboundMail, OurMailboxes, ParseError, ParseLimits, PrefetchedLookup, ThreadDecision,
    ThreadKeys, ThreadMatch, ThreadTicket, classify, decide,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The fixed world every expected outcome is written against.
mod world {
    pub(crate) const SUPPORT: &str = "support@acme.example";
    pub(crate) const DOMAIN: &str = "acme.example";
    /// Our reply on #12 and the acknowledgement of #12.
    pub(crate) const REPLY_12: &str = "msg.0190e5a1b2c37d4e8f90a1b2c3d4e5f6@acme.example";
    pub(crate) const ACK_12: &str = "ack.0190e5a0aa117c2d9e3f4a5b6c7d8e9f@acme.example";
    /// Our reply on #7, which is closed.
    pub(crate) const REPLY_7: &str = "msg.0190d0000000700a8000000000000007@acme.example";
    pub(crate) const TOKEN_12: &str = "12-5f0c9e1d2a7b3c4d6e8f";
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    shape: String,
    #[serde(default)]
    max_message_bytes: Option<usize>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message_id: Option<Option<String>>,
    #[serde(default)]
    in_reply_to: Option<Vec<String>>,
    #[serde(default)]
    references: Option<Vec<String>>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    from_name: Option<Option<String>>,
    #[serde(default)]
    to: Option<Vec<String>>,
    #[serde(default)]
    cc: Option<Vec<String>>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    date: Option<Option<String>>,
    #[serde(default)]
    body_source: Option<String>,
    #[serde(default)]
    body_contains: Vec<String>,
    #[serde(default)]
    body_excludes: Vec<String>,
    #[serde(default)]
    html_kept: Option<bool>,
    #[serde(default)]
    new_text: Option<String>,
    #[serde(default)]
    new_text_contains: Vec<String>,
    #[serde(default)]
    new_text_excludes: Vec<String>,
    #[serde(default)]
    folded_by: Option<Option<String>>,
    #[serde(default)]
    folded_contains: Vec<String>,
    #[serde(default)]
    attachments: Option<Vec<ExpectedAttachment>>,
    #[serde(default)]
    noise: Option<Option<String>>,
    #[serde(default)]
    keys: Option<ExpectedKeys>,
    #[serde(default)]
    decision: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedAttachment {
    name: Option<String>,
    content_type: String,
    inline: bool,
    #[serde(default)]
    size: Option<usize>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    starts_with: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedKeys {
    message_ids: Vec<String>,
    reply_tokens: Vec<String>,
    ticket_numbers: Vec<u64>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn ours() -> OurMailboxes {
    OurMailboxes::new()
        .with_address(world::SUPPORT)
        .with_message_id_domain(world::DOMAIN)
}

fn lookup() -> PrefetchedLookup {
    let t12 = ThreadTicket::new(TicketId::new(), 12, "jane@example.com")
        .with_participants(["tom@example.com"]);
    let t7 = ThreadTicket::new(TicketId::new(), 7, "jane@example.com").closed(true);
    let t31 = ThreadTicket::new(TicketId::new(), 31, "kenji@example.jp");
    let t40 = ThreadTicket::new(TicketId::new(), 40, "marie@example.fr");
    PrefetchedLookup::new()
        .with_message_id(world::REPLY_12, t12.clone())
        .with_message_id(world::ACK_12, t12.clone())
        .with_message_id(world::REPLY_7, t7.clone())
        .with_reply_token(world::TOKEN_12, t12.clone())
        .with_ticket(t12)
        .with_ticket(t7)
        .with_ticket(t31)
        .with_ticket(t40)
}

fn decision_text(decision: &ThreadDecision) -> String {
    let via = |m: &ThreadMatch| match m {
        ThreadMatch::MessageId(_) => "message_id",
        ThreadMatch::ReplyToken(_) => "reply_token",
        ThreadMatch::SubjectTag(_) => "subject_tag",
        _ => "other",
    };
    match decision {
        ThreadDecision::NewTicket { ignored_tag: None } => "new_ticket".into(),
        ThreadDecision::NewTicket {
            ignored_tag: Some(n),
        } => format!("new_ticket ignoring #{n}"),
        ThreadDecision::Reply { ticket, matched_by } => {
            format!("reply #{} via {}", ticket.number, via(matched_by))
        }
        ThreadDecision::FollowUp { closed, matched_by } => {
            format!("follow_up #{} via {}", closed.number, via(matched_by))
        }
        ThreadDecision::Ignore { reason } => format!("ignore {}", reason.code()),
        _ => "unknown".into(),
    }
}

fn error_code(error: &ParseError) -> String {
    match error {
        ParseError::TooLarge { .. } => "too_large".into(),
        ParseError::Malformed { .. } => "malformed".into(),
        ParseError::MissingHeader { field } => format!("missing_header:{field}"),
        ParseError::TooManyParts { .. } => "too_many_parts".into(),
        _ => "other".into(),
    }
}

/// Compares one message with its expectations; returns the mismatches.
fn check(name: &str, raw: &[u8], expected: &Expected) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("{name}: {what}"));
        }
    };
    let mut limits = ParseLimits::default();
    if let Some(max) = expected.max_message_bytes {
        limits = limits.with_max_message_bytes(max);
    }
    let mail = match InboundMail::parse(raw, &limits) {
        Ok(mail) => {
            expect(
                expected.error.is_none(),
                format!("parsed, but expected error {:?}", expected.error),
            );
            mail
        }
        Err(error) => {
            let code = error_code(&error);
            expect(
                expected.error.as_deref() == Some(code.as_str()),
                format!("error {code} ({error}), expected {:?}", expected.error),
            );
            assert!(!error.to_string().is_empty());
            return problems;
        }
    };
    macro_rules! field {
        ($exp:expr, $actual:expr, $label:literal) => {
            if let Some(want) = &$exp {
                let got = $actual;
                expect(
                    *want == got,
                    format!("{}: got {:?}, expected {:?}", $label, got, want),
                );
            }
        };
    }
    field!(expected.message_id, mail.message_id.clone(), "message_id");
    field!(
        expected.in_reply_to,
        mail.in_reply_to.clone(),
        "in_reply_to"
    );
    field!(expected.references, mail.references.clone(), "references");
    field!(expected.from, mail.from.address.clone(), "from");
    field!(expected.from_name, mail.from.name.clone(), "from_name");
    let addresses = |list: &[helpdesk_mail::Mailbox]| -> Vec<String> {
        list.iter().map(|m| m.address.clone()).collect()
    };
    field!(expected.to, addresses(&mail.to), "to");
    field!(expected.cc, addresses(&mail.cc), "cc");
    field!(expected.subject, mail.subject.clone(), "subject");
    field!(expected.date, mail.date.map(|d| d.to_string()), "date");
    field!(
        expected.body_source,
        format!("{:?}", mail.body.source).to_lowercase(),
        "body_source"
    );
    for want in &expected.body_contains {
        expect(
            mail.body.text.contains(want.as_str()),
            format!("body lacks {want:?}:\n{}", mail.body.text),
        );
    }
    for unwanted in &expected.body_excludes {
        expect(
            !mail.body.text.contains(unwanted.as_str()),
            format!("body has {unwanted:?}:\n{}", mail.body.text),
        );
    }
    field!(expected.html_kept, mail.body.html.is_some(), "html_kept");
    let split = &mail.body.split;
    field!(expected.new_text, split.new_text.clone(), "new_text");
    for want in &expected.new_text_contains {
        expect(
            split.new_text.contains(want.as_str()),
            format!("new text lacks {want:?}:\n{}", split.new_text),
        );
    }
    for unwanted in &expected.new_text_excludes {
        expect(
            !split.new_text.contains(unwanted.as_str()),
            format!("new text has {unwanted:?}:\n{}", split.new_text),
        );
    }
    field!(
        expected.folded_by,
        split.folded_by.map(|m| snake(&format!("{m:?}"))),
        "folded_by"
    );
    for want in &expected.folded_contains {
        expect(
            split.folded.contains(want.as_str()),
            format!("folded part lacks {want:?}:\n{}", split.folded),
        );
    }
    if let Some(want) = &expected.attachments {
        expect(
            want.len() == mail.attachments.len(),
            format!(
                "{} attachments, expected {}: {:?}",
                mail.attachments.len(),
                want.len(),
                mail.attachments
            ),
        );
        for (want, got) in want.iter().zip(&mail.attachments) {
            expect(
                want.name == got.file_name,
                format!(
                    "attachment name {:?}, expected {:?}",
                    got.file_name, want.name
                ),
            );
            expect(
                want.content_type == got.content_type,
                format!(
                    "attachment type {:?}, expected {:?}",
                    got.content_type, want.content_type
                ),
            );
            expect(
                want.inline == got.inline,
                format!(
                    "attachment {:?} inline {}, expected {}",
                    got.file_name, got.inline, want.inline
                ),
            );
            if let Some(size) = want.size {
                expect(
                    size == got.bytes.len(),
                    format!(
                        "attachment {:?} size {}, expected {size}",
                        got.file_name,
                        got.bytes.len()
                    ),
                );
            }
            if let Some(hash) = &want.sha256 {
                let got_hash = hex(&Sha256::digest(&got.bytes));
                expect(
                    *hash == got_hash,
                    format!(
                        "attachment {:?} sha256 {got_hash}, expected {hash}",
                        got.file_name
                    ),
                );
            }
            if let Some(prefix) = &want.starts_with {
                expect(
                    got.bytes.starts_with(prefix.as_bytes()),
                    format!(
                        "attachment {:?} does not start with {prefix:?}",
                        got.file_name
                    ),
                );
            }
        }
    }
    let ours = ours();
    field!(
        expected.noise,
        classify(&mail, &ours).map(|r| r.code().to_string()),
        "noise"
    );
    if let Some(want) = &expected.keys {
        let keys = ThreadKeys::extract(&mail, &ours);
        expect(
            want.message_ids == keys.message_ids,
            format!(
                "key message_ids {:?}, expected {:?}",
                keys.message_ids, want.message_ids
            ),
        );
        expect(
            want.reply_tokens == keys.reply_tokens,
            format!(
                "key reply_tokens {:?}, expected {:?}",
                keys.reply_tokens, want.reply_tokens
            ),
        );
        expect(
            want.ticket_numbers == keys.ticket_numbers,
            format!(
                "key ticket_numbers {:?}, expected {:?}",
                keys.ticket_numbers, want.ticket_numbers
            ),
        );
    }
    let decision = decision_text(&decide(&mail, &ours, &lookup()));
    field!(expected.decision, decision, "decision");
    // The fold never loses text.
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    expect(
        squeeze(&format!("{}{}", split.new_text, split.folded)) == squeeze(&mail.body.text),
        "new text + folded != full text".into(),
    );
    problems
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn corpus_messages_have_their_expected_outcomes() {
    let mut entries: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let emls: Vec<&PathBuf> = entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    let jsons = entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .count();
    assert!(
        emls.len() >= 30,
        "the corpus needs at least 30 shapes, has {}",
        emls.len()
    );
    assert_eq!(
        emls.len(),
        jsons,
        "every .eml needs exactly one .json and back"
    );
    let mut problems = Vec::new();
    let mut shapes = Vec::new();
    for eml in emls {
        let name = eml.file_name().unwrap().to_string_lossy().to_string();
        let raw = fs::read(eml).unwrap();
        let json = fs::read_to_string(eml.with_extension("json"))
            .unwrap_or_else(|e| panic!("{name}: no expected outcome: {e}"));
        let expected: Expected =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}.json: {e}"));
        assert!(
            expected.decision.is_some() || expected.error.is_some(),
            "{name}: an expected outcome needs a decision or an error"
        );
        shapes.push(expected.shape.clone());
        problems.extend(check(&name, &raw, &expected));
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
    shapes.sort();
    shapes.dedup();
    assert!(shapes.len() >= 30, "shapes must differ");
}
