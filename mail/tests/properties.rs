//! Properties over generated input: reading untrusted bytes never panics, and folding never
//! loses text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use helpdesk_core::TicketId;
use helpdesk_mail::{
    InboundMail, OurMailboxes, ParseLimits, PrefetchedLookup, ThreadTicket, classify, decide,
    split_quoted, subject_tags,
};
use proptest::prelude::*;

fn ours() -> OurMailboxes {
    OurMailboxes::new()
        .with_address("support@acme.example")
        .with_message_id_domain("acme.example")
}

fn lookup() -> PrefetchedLookup {
    PrefetchedLookup::new().with_ticket(ThreadTicket::new(TicketId::new(), 12, "jane@example.com"))
}

/// Whatever parses is usable all the way: classified, threaded, split, without panicking,
/// and with the fold keeping every word.
fn exercise(raw: &[u8]) {
    let Ok(mail) = InboundMail::parse(raw, &ParseLimits::default()) else {
        return;
    };
    let _ = classify(&mail, &ours());
    let _ = decide(&mail, &ours(), &lookup());
    let _ = mail.dedup_key();
    assert_fold_keeps_text(&mail.body.text);
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect()
}

fn assert_fold_keeps_text(text: &str) {
    let split = split_quoted(text);
    assert_eq!(
        squeeze(&format!("{}{}", split.new_text, split.folded)),
        squeeze(text),
        "fold lost text of {text:?}"
    );
    if !text.trim().is_empty() {
        assert!(
            !split.new_text.trim().is_empty(),
            "nothing new left of {text:?}"
        );
    }
    assert_eq!(split.folded.is_empty(), split.folded_by.is_none());
}

/// Lines that trip the folding rules, mixed with ordinary text.
fn body_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("> quoted".to_string()),
        Just(">".to_string()),
        Just("  > indented quote".to_string()),
        Just("On Mon, 8 Jan 2024, Jane Doe <jane@example.com> wrote:".to_string()),
        Just("On Mon, 8 Jan 2024 at 09:14, Jane Doe <".to_string()),
        Just("jane@example.com> wrote:".to_string()),
        Just("Am 08.01.2024 um 09:14 schrieb Jane:".to_string()),
        Just("-- ".to_string()),
        Just("--".to_string()),
        Just("Sent from my iPhone".to_string()),
        Just("-----Original Message-----".to_string()),
        Just("________________________________".to_string()),
        Just("From: Acme Support <support@acme.example>".to_string()),
        Just("Sent: Monday, January 8, 2024 9:14 AM".to_string()),
        Just("To: Jane".to_string()),
        Just("Subject: RE: x".to_string()),
        Just("---------- Forwarded message ---------".to_string()),
        "[a-zA-Z0-9 ,.:>-]{0,40}",
        "\\PC{0,20}",
    ]
}

/// A message-shaped input: headers from a pool (some broken), a MIME structure, a body.
fn mail_like() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just("From: Jane Doe <jane@example.com>".to_string()),
        Just("From: =?utf-8?B?SsOkbmU=?= <jane@example.com>".to_string()),
        Just("From: broken <".to_string()),
        Just("To: support+12-abc@acme.example, x@y".to_string()),
        Just("Subject: Re: x [#12]".to_string()),
        Just("Subject: =?ISO-2022-JP?B?GyRCJDMbKEI=?=".to_string()),
        Just("Message-ID: <a@example.com>".to_string()),
        Just("In-Reply-To: <msg.x@acme.example> <".to_string()),
        Just("References: <a@b> <c@d>".to_string()),
        Just("Auto-Submitted: auto-replied".to_string()),
        Just("Return-Path: <>".to_string()),
        Just("Content-Transfer-Encoding: base64".to_string()),
        Just("Content-Transfer-Encoding: quoted-printable".to_string()),
        Just("Content-Type: text/html; charset=shift_jis".to_string()),
        Just("Content-Type: multipart/mixed; boundary=b".to_string()),
        Just("Content-Type: multipart/report; report-type=delivery-status; boundary=b".to_string()),
        Just("Content-Type: message/rfc822".to_string()),
        "[A-Za-z-]{1,12}: [ -~]{0,30}",
    ];
    let part = prop_oneof![
        Just("--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n".to_string()),
        Just("--b\r\nContent-Type: text/html\r\n\r\n<p>hi<blockquote>q</blockquote>\r\n".to_string()),
        Just("--b\r\nContent-Type: image/png; name=x.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K=\r\n".to_string()),
        Just("--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\ninner\r\n--c--\r\n".to_string()),
        Just("--b--\r\n".to_string()),
        "[ -~\r\n]{0,60}",
    ];
    (
        prop::collection::vec(header, 0..10),
        prop::collection::vec(part, 0..6),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(headers, parts, tail)| {
            let mut raw = headers.join("\r\n").into_bytes();
            raw.extend_from_slice(b"\r\n\r\n");
            raw.extend(parts.concat().into_bytes());
            raw.extend(tail);
            raw
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&raw);
    }

    #[test]
    fn message_shaped_bytes_never_panic(raw in mail_like()) {
        exercise(&raw);
    }

    #[test]
    fn folding_never_loses_text(lines in prop::collection::vec(body_line(), 0..40)) {
        assert_fold_keeps_text(&lines.join("\n"));
    }

    #[test]
    fn subject_tags_never_panic(subject in "\\PC{0,80}", number in 0u64..1_000_000) {
        let _ = subject_tags(&subject);
        let tagged = format!("{subject} [#{number}]");
        prop_assert_eq!(subject_tags(&tagged).first().copied(), Some(number));
    }
}

#[test]
fn deeply_nested_html_is_converted_without_overflowing_the_stack() {
    for tag in ["div", "blockquote", "table><tr><td", "ul><li"] {
        let open = format!("<{tag}>").repeat(5_000);
        let raw = format!(
            "From: a@example.com\r\nContent-Type: text/html\r\n\r\n<html><body>{open}deep text</body></html>"
        );
        // A thread with a small stack, as a Tokio worker's blocking thread might have.
        let handle = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                InboundMail::parse(raw.as_bytes(), &ParseLimits::default()).map(|m| m.body.text)
            })
            .unwrap();
        let text = handle.join().expect("no stack overflow or panic").unwrap();
        assert!(text.contains("deep text"), "{tag}: {text:.200}");
    }
}

#[test]
fn deeply_nested_mime_is_bounded() {
    let mut raw = String::from("From: a@example.com\r\n");
    for depth in 0..200 {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=b{depth}\r\n\r\n--b{depth}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\nbottom\r\n");
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || exercise(raw.as_bytes()))
        .unwrap();
    handle.join().expect("no stack overflow or panic");
}

#[test]
fn too_many_parts_is_a_typed_error() {
    let mut raw =
        String::from("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
    for _ in 0..20 {
        raw.push_str("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n");
    }
    raw.push_str("--b--\r\n");
    let limits = ParseLimits::default().with_max_parts(10);
    let error = InboundMail::parse(raw.as_bytes(), &limits).unwrap_err();
    assert!(
        matches!(
            error,
            helpdesk_mail::ParseError::TooManyParts {
                count: 21,
                limit: 10
            }
        ),
        "{error:?}"
    );
    assert!(InboundMail::parse(raw.as_bytes(), &ParseLimits::default()).is_ok());
}
