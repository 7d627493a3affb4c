//! A parsed mail as the engine takes it: [`InboundEmail`] with its text, headers and files.

use helpdesk_core::service::{EmailRoute, InboundEmail, NewAttachment};
use helpdesk_core::validate::{MAX_BODY_CHARS, MAX_SUBJECT_CHARS};

use crate::inbound::{BodySource, InboundMail};

/// What a ticket or reply says when the mail had no text at all (only files, or nothing):
/// the engine needs a body, and an empty one would read as a lost message.
const NO_TEXT: &str = "(This e-mail has no text.)";
/// Shown at the end of a text cut to the engine's limit; the whole text is attached.
const CUT_NOTE: &str =
    "\n\n[The e-mail is longer than a message can be: its full text is attached as message.txt.]";
/// Most Cc addresses and Message-IDs kept on a message (the engine bounds them too).
const MAX_CC: usize = 50;
const MAX_REFERENCES: usize = 20;

/// `mail` as an [`InboundEmail`] routed to `route`.
///
/// The body is the full text (the desk folds quotes and signatures when it shows it); a
/// text longer than a message may be is cut at a line break with a note and kept whole as
/// `message.txt`. An HTML-only mail also keeps its original HTML as `message.html` (served
/// as a download, never rendered in the desk). Files keep their declared names (the engine
/// sanitises them and sniffs their type); an unnamed part is named after its type.
pub(crate) fn inbound_email(mail: &InboundMail, route: EmailRoute) -> InboundEmail {
    let mut files: Vec<NewAttachment> = Vec::new();
    let text = mail.body.text.trim();
    let body = if text.is_empty() {
        NO_TEXT.to_string()
    } else if text.chars().count() > MAX_BODY_CHARS {
        files.push(NewAttachment::new("message.txt", text.as_bytes().to_vec()));
        cut(text, MAX_BODY_CHARS - CUT_NOTE.chars().count()) + CUT_NOTE
    } else {
        text.to_string()
    };
    if mail.body.source == BodySource::Html
        && let Some(html) = &mail.body.html
    {
        files.push(NewAttachment::new("message.html", html.as_bytes().to_vec()));
    }
    for (index, part) in mail.attachments.iter().enumerate() {
        let name = part
            .file_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| unnamed(index + 1, &part.content_type));
        files.push(NewAttachment::new(name, part.bytes.clone()));
    }
    let subject = match mail.subject.trim() {
        "" => "(no subject)".to_string(),
        s => s.chars().take(MAX_SUBJECT_CHARS).collect(),
    };
    let mut references: Vec<String> = Vec::new();
    for id in mail.in_reply_to.iter().chain(mail.references.iter().rev()) {
        if !references.contains(id) && references.len() < MAX_REFERENCES {
            references.push(id.clone());
        }
    }
    let cc = mail
        .cc
        .iter()
        .take(MAX_CC)
        .map(|m| m.address.clone())
        .collect();
    InboundEmail::new(mail.dedup_key(), mail.from.address.clone(), route)
        .with_from_name(mail.from.name.clone().unwrap_or_default())
        .with_cc(cc)
        .with_references(references)
        .with_subject(subject)
        .with_body(body)
        .with_attachments(files)
}

/// The first `max` characters of `text`, ending at the last line break among them when
/// there is one in the second half (a cut mid-sentence reads as a bug).
fn cut(text: &str, max: usize) -> String {
    let head: String = text.chars().take(max).collect();
    match head.rfind('\n') {
        Some(at) if at > head.len() / 2 => head[..at].trim_end().to_string(),
        _ => head,
    }
}

/// A name for a part without one: `attachment-2.png`.
fn unnamed(index: usize, content_type: &str) -> String {
    let extension = match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        "text/calendar" => "ics",
        "message/rfc822" => "eml",
        "application/ms-tnef" | "application/vnd.ms-tnef" => "dat",
        _ => "bin",
    };
    format!("attachment-{index}.{extension}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn cut_prefers_a_line_break_in_the_second_half() {
        let text = format!("{}\n{}", "a".repeat(80), "b".repeat(40));
        assert_eq!(cut(&text, 100), "a".repeat(80));
        assert_eq!(cut(&"x".repeat(50), 10), "x".repeat(10));
        let early_break = format!("ab\n{}", "c".repeat(50));
        assert_eq!(cut(&early_break, 20).chars().count(), 20);
    }

    #[test]
    fn unnamed_parts_are_named_after_their_type() {
        assert_eq!(unnamed(2, "image/png"), "attachment-2.png");
        assert_eq!(unnamed(1, "application/x-unknown"), "attachment-1.bin");
    }
}
