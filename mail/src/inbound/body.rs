//! The body to show: the text/plain part, or the HTML converted to safe plain text.

use mail_parser::{Message, PartType};

use crate::quote::{QuoteSplit, split_quoted};

/// Width the HTML is laid out at. Wide, so sentences stay on one line (the desk wraps), and
/// an "On ... wrote:" attribution is not split over lines.
const HTML_TEXT_WIDTH: usize = 200;

/// Where [`MailBody::text`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodySource {
    /// The message's text/plain part(s).
    Plain,
    /// Converted from the text/html part(s): the message had no usable text part.
    Html,
    /// The message has no text at all (only attachments, or nothing).
    Empty,
}

/// A message's body: the text the desk shows and threads on, with the quoted history and
/// signature told apart, and the original HTML when the message had any.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailBody {
    /// The full text, line endings as `\n`. HTML is converted with html2text: scripts,
    /// styles and markup are gone, entities decoded, link targets listed as footnotes.
    pub text: String,
    /// Where `text` came from.
    pub source: BodySource,
    /// The original HTML, as sent (never rendered by this crate; a desk that shows it must
    /// sanitise it first).
    pub html: Option<String>,
    /// `text` split into what the sender wrote now and the quoted history and signature
    /// folded below it.
    pub split: QuoteSplit,
}

pub(super) fn read(message: &Message<'_>) -> MailBody {
    let parts_of = |ids: &[u32], want_html: bool| -> Vec<String> {
        ids.iter()
            .filter_map(|id| message.parts.get(*id as usize))
            .filter_map(|part| match (&part.body, want_html) {
                (PartType::Text(text), false) | (PartType::Html(text), true) => {
                    Some(text.to_string())
                }
                _ => None,
            })
            .collect()
    };
    let plain = normalize_newlines(&parts_of(&message.text_body, false).join("\n"));
    let html_parts = parts_of(&message.html_body, true);
    let html = (!html_parts.is_empty()).then(|| html_parts.join("\n"));

    let (text, source) = if !plain.trim().is_empty() {
        (plain, BodySource::Plain)
    } else if let Some(html) = html.as_deref().filter(|h| !h.trim().is_empty()) {
        (html_to_text(html), BodySource::Html)
    } else {
        (String::new(), BodySource::Empty)
    };
    let split = split_quoted(&text);
    MailBody {
        text,
        source,
        html,
        split,
    }
}

/// HTML to plain text with html2text; if it fails (it reports errors instead of panicking),
/// mail-parser's simpler converter, so a message is never lost for its markup.
pub(crate) fn html_to_text(html: &str) -> String {
    let converted = html2text::config::plain_no_decorate()
        .link_footnotes(true)
        .no_table_borders()
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), HTML_TEXT_WIDTH);
    let text = match converted {
        Ok(text) => text,
        Err(_) => mail_parser::decoders::html::html_to_text(html),
    };
    let normalized = normalize_newlines(&text);
    let lines: Vec<&str> = normalized.lines().map(str::trim_end).collect();
    lines.join("\n").trim_matches('\n').to_string()
}

/// `\r\n` and lone `\r` to `\n`.
pub(crate) fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}
