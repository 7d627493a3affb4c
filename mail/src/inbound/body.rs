//! The body to show: the text/plain part, or the HTML converted to safe plain text.

use mail_parser::{Message, PartType};

use crate::quote::{QuoteSplit, split_quoted};

/// Width the HTML is laid out at, plus room for the nesting. Wide, so sentences stay on
/// one line (the desk wraps) and an "On ... wrote:" attribution is not split over lines.
const HTML_TEXT_WIDTH: usize = 200;
/// Columns each nesting level may take (`> ` per blockquote, list indents). html2text drops
/// text that does not fit beside its prefixes, and a long Gmail thread nests a blockquote per
/// message: the width grows with the depth so nothing is lost.
const COLUMNS_PER_LEVEL: usize = 4;
/// Past this depth the HTML is not a real thread but an attack or a broken generator: it is
/// flattened with mail-parser's converter instead (no structure, every word kept).
const MAX_HTML_DEPTH: usize = 1_000;

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
    let depth = nesting_depth(html);
    let converted = if depth > MAX_HTML_DEPTH {
        None
    } else {
        html2text::config::plain_no_decorate()
            .link_footnotes(true)
            .no_table_borders()
            .allow_width_overflow()
            .string_from_read(html.as_bytes(), HTML_TEXT_WIDTH + COLUMNS_PER_LEVEL * depth)
            .ok()
    };
    let text = match converted {
        Some(text) => text,
        None => mail_parser::decoders::html::html_to_text(html),
    };
    let normalized = normalize_newlines(&text);
    let lines: Vec<&str> = normalized.lines().map(str::trim_end).collect();
    lines.join("\n").trim_matches('\n').to_string()
}

/// Elements that never have content, so never nest.
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// An upper bound of the element nesting depth: opening tags count up, closing tags down.
/// Unclosed `<p>` or `<li>` make it larger than the real depth, which only widens the
/// layout.
fn nesting_depth(html: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for tag in html.split('<').skip(1) {
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let self_closing = tag.split('>').next().is_some_and(|t| t.ends_with('/'));
        if name.is_empty() || VOID_ELEMENTS.contains(&name.as_str()) || self_closing {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

/// `\r\n` and lone `\r` to `\n`.
pub(crate) fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn nesting_depth_counts_open_elements() {
        assert_eq!(nesting_depth("<p>a</p><p>b</p>"), 1);
        assert_eq!(
            nesting_depth("<div><blockquote><br><img src=x/><b>x</b></blockquote></div>"),
            3
        );
        assert_eq!(nesting_depth("<!-- c --><br/>text"), 0);
        assert_eq!(nesting_depth(&"<blockquote>".repeat(30)), 30);
    }

    #[test]
    fn a_long_quoted_thread_keeps_every_word() {
        for depth in [1, 99, 150, 999, 1_001, 5_000] {
            let html = format!("top{}deep text", "<blockquote>".repeat(depth));
            let text = html_to_text(&html);
            assert!(
                text.contains("top") && text.contains("deep text"),
                "depth {depth}"
            );
        }
    }
}
