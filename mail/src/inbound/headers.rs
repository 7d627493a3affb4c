//! Header values read the helpdesk's way: addresses normalised, ids bare, text on one line.

use mail_parser::{Address, HeaderValue, Message, MimeHeaders};

use crate::address::{Mailbox, normalize_address};

/// Longest Message-ID kept (RFC 5322's line limit); longer ones are garbage or an attack.
const MAX_MESSAGE_ID_LEN: usize = 998;

/// The headers that tell automatic mail (auto-replies, bounces, lists, our own) from a
/// person's, as raw trimmed text. Read by [`classify`](crate::classify).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeaderSignals {
    /// `Auto-Submitted` (RFC 3834): anything but `no` is automatic.
    pub auto_submitted: Option<String>,
    /// `Precedence`: `bulk`, `junk` and `list` are not a person writing.
    pub precedence: Option<String>,
    /// `X-Autoreply` (Exim, many vacation scripts).
    pub x_autoreply: Option<String>,
    /// `X-Autorespond` (older responders).
    pub x_autorespond: Option<String>,
    /// `List-Id` (RFC 2919).
    pub list_id: Option<String>,
    /// `List-Unsubscribe` (RFC 2369; newsletters and bulk senders).
    pub list_unsubscribe: Option<String>,
    /// The top-level content type, lower-case (`multipart/report`).
    pub content_type: Option<String>,
    /// The `report-type` parameter of a `multipart/report` (`delivery-status`,
    /// `disposition-notification`).
    pub report_type: Option<String>,
    /// `Return-Path` as the final MTA recorded it; `Some("")` is the null sender `<>` of
    /// bounces and well-behaved auto-replies.
    pub return_path: Option<String>,
    /// `X-Failed-Recipients` (Exim and Postfix bounces).
    pub failed_recipients: Option<String>,
    /// Every `X-Loop` value (procmail, RT and the helpdesk's own outbound mail).
    pub x_loop: Vec<String>,
}

impl HeaderSignals {
    pub(crate) fn read(message: &Message<'_>) -> Self {
        let raw = |name: &str| {
            message
                .header_raw(name)
                .map(unfold)
                .filter(|v| !v.is_empty())
        };
        let content_type = message.parts.first().and_then(|root| root.content_type());
        Self {
            auto_submitted: raw("Auto-Submitted"),
            precedence: raw("Precedence"),
            x_autoreply: raw("X-Autoreply"),
            x_autorespond: raw("X-Autorespond"),
            list_id: raw("List-Id"),
            list_unsubscribe: raw("List-Unsubscribe"),
            content_type: content_type.map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            }),
            report_type: content_type
                .and_then(|ct| ct.attribute("report-type"))
                .map(|v| v.trim().to_ascii_lowercase()),
            return_path: message.header_raw("Return-Path").map(|v| {
                let v = unfold(v);
                v.trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim()
                    .to_string()
            }),
            failed_recipients: raw("X-Failed-Recipients"),
            x_loop: message
                .headers()
                .iter()
                .filter(|h| h.name().eq_ignore_ascii_case("X-Loop"))
                .filter_map(|h| {
                    message
                        .raw_message()
                        .get(h.offset_start() as usize..h.offset_end() as usize)
                })
                .filter_map(|bytes| std::str::from_utf8(bytes).ok())
                .map(unfold)
                .collect(),
        }
    }
}

/// A raw header value on one line: folding undone, surrounding space trimmed.
fn unfold(raw: &str) -> String {
    raw.split(['\r', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text for one line of display: control characters (CR, LF, TAB, NUL, ...) become spaces,
/// runs of spaces collapse, the ends are trimmed.
pub(crate) fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every mailbox with a usable address in an address header (groups flattened).
pub(crate) fn mailboxes(address: &Address<'_>) -> Vec<Mailbox> {
    address
        .iter()
        .filter_map(|addr| {
            let address = normalize_address(addr.address.as_deref()?)?;
            let name = addr
                .name
                .as_deref()
                .map(one_line)
                .filter(|name| !name.is_empty() && !name.eq_ignore_ascii_case(&address));
            Some(Mailbox { address, name })
        })
        .collect()
}

/// A Message-ID without angle brackets; `None` when it is empty, too long, or contains
/// spaces or control characters.
pub(crate) fn clean_message_id(raw: &str) -> Option<String> {
    let id = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let usable = !id.is_empty()
        && id.len() <= MAX_MESSAGE_ID_LEN
        && !id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    usable.then(|| id.to_string())
}

/// The Message-IDs of an `In-Reply-To` or `References` header, in order, without repeats.
pub(crate) fn message_ids(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    };
    let mut ids: Vec<String> = Vec::new();
    for id in raw.into_iter().filter_map(clean_message_id) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn message_ids_are_bare_and_checked() {
        assert_eq!(clean_message_id(" <a.b@c> ").as_deref(), Some("a.b@c"));
        assert_eq!(clean_message_id("<>"), None);
        assert_eq!(clean_message_id("<a b@c>"), None);
        assert_eq!(clean_message_id(&"x".repeat(2000)), None);
    }

    #[test]
    fn one_line_removes_controls() {
        assert_eq!(one_line(" Hello\r\n\tworld\u{0}!  "), "Hello world !");
        assert_eq!(unfold(" bulk\r\n  x "), "bulk x");
    }
}
