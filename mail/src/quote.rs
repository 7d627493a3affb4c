//! Quoted history and signatures: what the sender wrote now, and what the desk folds away.
//!
//! The split is one cut between two lines: everything above is new, everything below is
//! folded, so `new_text` and `folded` together are always the full text (only blank lines
//! and trailing spaces at the cut are trimmed). The cut is the earliest of
//! - a *hard* marker, after which everything is history or signature whatever follows:
//!   Outlook's `-----Original Message-----` and its `From:`/`Sent:`/`To:` header block
//!   (with the line of underscores above it), an attribution line ("On ..., Jane wrote:")
//!   followed by unquoted text, the `-- ` signature delimiter, and a mobile client's
//!   "Sent from my iPhone" line;
//! - the start of the trailing run of `>` quoted lines (with its attribution line above it).
//!   Only the *trailing* run: an answer written between quoted lines (inline replying)
//!   stays new text, with the quotes it answers.
//!
//! When nothing would be left above the cut (a forwarded message, a mail that is all quote),
//! nothing is folded: the desk must never show an empty message.

/// A body split into the new text and the folded history. See the [module](self) docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuoteSplit {
    /// What the sender wrote in this message (trailing blank lines trimmed).
    pub new_text: String,
    /// Quoted history and signature below it (surrounding blank lines trimmed); empty when
    /// nothing was folded.
    pub folded: String,
    /// What starts the folded part, when there is one.
    pub folded_by: Option<FoldMarker>,
}

/// The kind of line where the folded part begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FoldMarker {
    /// Lines quoted with `>`, possibly below an attribution line.
    Quote,
    /// An attribution line ("On Mon, 8 Jan 2024, Jane wrote:") above unquoted history.
    Attribution,
    /// Outlook's `-----Original Message-----` or its `From:`/`Sent:` header block.
    OriginalMessage,
    /// The `-- ` signature delimiter.
    Signature,
    /// A mobile client's "Sent from my iPhone" line.
    MobileSignature,
}

/// Splits `text` (lines separated by `\n`) into new text and folded history.
pub fn split_quoted(text: &str) -> QuoteSplit {
    let lines: Vec<&str> = text.split('\n').collect();
    let hard = hard_marker(&lines);
    let region_end = hard.map_or(lines.len(), |(at, _)| at);
    let (cut, marker) = match trailing_quote_start(&lines[..region_end]) {
        Some(start) => (start, Some(FoldMarker::Quote)),
        None => (region_end, hard.map(|(_, marker)| marker)),
    };
    let new_lines = &lines[..cut];
    if marker.is_none() || new_lines.iter().all(|line| line.trim().is_empty()) {
        return QuoteSplit {
            new_text: text.trim_end().to_string(),
            folded: String::new(),
            folded_by: None,
        };
    }
    QuoteSplit {
        new_text: new_lines.join("\n").trim_end().to_string(),
        folded: lines[cut..]
            .join("\n")
            .trim_matches(['\n', ' ', '\t'])
            .to_string(),
        folded_by: marker,
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_quote(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// The first line from which everything is history or signature.
fn hard_marker(lines: &[&str]) -> Option<(usize, FoldMarker)> {
    (0..lines.len()).find_map(|i| {
        let line = lines.get(i)?;
        if is_signature_delimiter(line) {
            return Some((i, FoldMarker::Signature));
        }
        if is_mobile_signature(line) {
            return Some((i, FoldMarker::MobileSignature));
        }
        if is_original_message(line) {
            return Some((i, FoldMarker::OriginalMessage));
        }
        if is_header_block(lines, i) && !below_forward_marker(lines, i) {
            return Some((underscore_line_above(lines, i), FoldMarker::OriginalMessage));
        }
        // An attribution above unquoted text: the client did not quote the history. Only a
        // full "On <date>, <name> wrote:" counts here, never a bare "... wrote:" (a customer
        // citing what a manual "wrote:" is new text).
        if let Some(start) = attribution_start(lines, i, Attribution::Full) {
            let next = lines.iter().skip(i + 1).find(|line| !is_blank(line));
            if next.is_some_and(|line| !is_quote(line)) {
                return Some((start, FoldMarker::Attribution));
            }
        }
        None
    })
}

/// Where the trailing run of quoted lines (blank lines and its attribution included)
/// starts, when the region ends with one.
fn trailing_quote_start(lines: &[&str]) -> Option<usize> {
    let mut start = lines.len();
    let mut quoted = false;
    while start > 0
        && lines
            .get(start - 1)
            .is_some_and(|l| is_blank(l) || is_quote(l))
    {
        quoted |= lines.get(start - 1).is_some_and(|l| is_quote(l));
        start -= 1;
    }
    if !quoted {
        return None;
    }
    if start > 0
        && let Some(attribution) = attribution_start(lines, start - 1, Attribution::BareAllowed)
    {
        start = attribution;
    }
    Some(start)
}

fn is_signature_delimiter(line: &str) -> bool {
    line == "-- " || line.trim_end() == "--"
}

const MOBILE_SIGNATURES: &[&str] = &[
    "sent from my ",
    "sent from mail for windows",
    "sent from outlook",
    "sent from yahoo mail",
    "get outlook for ios",
    "get outlook for android",
    "von meinem iphone gesendet",
    "envoyé de mon iphone",
];

fn is_mobile_signature(line: &str) -> bool {
    let line = line.trim().to_lowercase();
    line.len() <= 60
        && MOBILE_SIGNATURES
            .iter()
            .any(|start| line.starts_with(start))
}

fn is_original_message(line: &str) -> bool {
    let trimmed = line.trim();
    if !trimmed.starts_with("--") || !trimmed.ends_with("--") {
        return false;
    }
    let inner = trimmed.trim_matches('-').trim().to_lowercase();
    [
        "original message",
        "ursprüngliche nachricht",
        "message d'origine",
        "mensaje original",
        "messaggio originale",
    ]
    .contains(&inner.as_str())
}

/// The header a mail client writes above the history it does not quote (Outlook): a
/// `From:` line followed within five lines by a date line and a `To:` or `Subject:` line.
fn is_header_block(lines: &[&str], at: usize) -> bool {
    let starts = |line: &str, names: &[&str]| {
        let line = line.trim_start().trim_start_matches('*').to_lowercase();
        names.iter().any(|name| line.starts_with(name))
    };
    let Some(first) = lines.get(at) else {
        return false;
    };
    if !starts(first, &["from:", "von:", "de :", "de:", "van:"]) {
        return false;
    }
    let next: Vec<&str> = lines.iter().skip(at + 1).take(5).copied().collect();
    let dated = next.iter().any(|l| {
        starts(
            l,
            &[
                "sent:",
                "date:",
                "gesendet:",
                "datum:",
                "envoyé :",
                "envoyé:",
                "enviado:",
                "verzonden:",
            ],
        )
    });
    let addressed = next.iter().any(|l| {
        starts(
            l,
            &[
                "to:",
                "subject:",
                "an:",
                "betreff:",
                "à :",
                "objet :",
                "para:",
                "asunto:",
                "aan:",
                "onderwerp:",
            ],
        )
    });
    dated && addressed
}

/// A forwarded message's header block is the content of the mail, not history to fold.
fn below_forward_marker(lines: &[&str], at: usize) -> bool {
    lines[..at]
        .iter()
        .rev()
        .find(|line| !is_blank(line))
        .is_some_and(|line| {
            let line = line.to_lowercase();
            [
                "forwarded message",
                "begin forwarded message",
                "weitergeleitete nachricht",
            ]
            .iter()
            .any(|marker| line.contains(marker))
        })
}

/// Outlook draws a line of underscores above its header block; fold from there.
fn underscore_line_above(lines: &[&str], at: usize) -> usize {
    let mut i = at;
    while i > 0 && lines.get(i - 1).is_some_and(|l| is_blank(l)) {
        i -= 1;
    }
    match lines.get(i.wrapping_sub(1)) {
        Some(line) if i > 0 && is_rule(line) => i - 1,
        _ => at,
    }
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 10 && t.chars().all(|c| c == '_' || c == '-' || c == '=')
}

const ATTRIBUTION_ENDS: &[&str] = &[
    "wrote:",
    "writes:",
    "schrieb:",
    "a écrit :",
    "a écrit:",
    "escribió:",
    "schreef:",
    "ha scritto:",
    "escreveu:",
];
const ATTRIBUTION_STARTS: &[&str] = &["on ", "am ", "le ", "el ", "op ", "il ", "em "];

/// Which attribution lines count.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Attribution {
    /// "On <date or address> ... wrote:" only.
    Full,
    /// Also a bare "Jane Doe <jane@example.com> wrote:" (above a quote, where it is safe).
    BareAllowed,
}

/// When line `at` ends an attribution ("... wrote:"), the line it starts on: the same line,
/// or up to two lines above when a client wrapped it ("On Mon, ... Jane Doe <" /
/// "jane@example.com> wrote:"). A full attribution names a date or an address.
fn attribution_start(lines: &[&str], at: usize, kind: Attribution) -> Option<usize> {
    let line = lines.get(at)?.trim().to_lowercase();
    if line.len() > 400 || !ATTRIBUTION_ENDS.iter().any(|end| line.ends_with(end)) {
        return None;
    }
    let opens = |l: &str| {
        let l = l.trim_start().to_lowercase();
        ATTRIBUTION_STARTS.iter().any(|start| l.starts_with(start))
    };
    let specific = |from: usize| {
        lines.get(from..=at).is_some_and(|ls| {
            ls.iter()
                .any(|l| l.contains('@') || l.bytes().any(|b| b.is_ascii_digit()))
        })
    };
    if opens(&line) && specific(at) {
        return Some(at);
    }
    for back in 1..=2 {
        let Some(i) = at.checked_sub(back) else { break };
        let above = lines.get(i)?;
        if is_blank(above) || is_quote(above) {
            break;
        }
        if opens(above) && specific(i) {
            return Some(i);
        }
    }
    // "Jane Doe <jane@example.com> wrote:" with no "On": an attribution above a quote.
    (kind == Attribution::BareAllowed).then_some(at)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn split(text: &str) -> (String, String, Option<FoldMarker>) {
        let s = split_quoted(text);
        (s.new_text, s.folded, s.folded_by)
    }

    #[test]
    fn gmail_top_post_folds_attribution_and_quote() {
        let text = "Thanks, that worked!\n\nOn Mon, Jan 8, 2024 at 9:14 AM Acme Support <\nsupport@acme.example> wrote:\n\n> Try restarting.\n>\n> Bob\n";
        let (new, folded, by) = split(text);
        assert_eq!(new, "Thanks, that worked!");
        assert!(folded.starts_with("On Mon, Jan 8"));
        assert!(folded.ends_with("> Bob"));
        assert_eq!(by, Some(FoldMarker::Quote));
    }

    #[test]
    fn inline_answers_stay_new() {
        let text = "On Tue, Bob wrote:\n> Which version?\n3.2\n> Which OS?\nLinux\n\n> Bob\n> Acme";
        let (new, folded, _) = split(text);
        assert!(new.contains("3.2") && new.contains("Linux"));
        assert_eq!(folded, "> Bob\n> Acme");
    }

    #[test]
    fn outlook_header_block_and_rule() {
        let text = "Still broken.\n\nJane\n\n________________________________\nFrom: Acme Support <support@acme.example>\nSent: Monday, January 8, 2024 9:14 AM\nTo: Jane Doe <jane@example.com>\nSubject: RE: Printer [#12]\n\nTry restarting.";
        let (new, folded, by) = split(text);
        assert_eq!(new, "Still broken.\n\nJane");
        assert!(folded.starts_with("_____"));
        assert_eq!(by, Some(FoldMarker::OriginalMessage));
    }

    #[test]
    fn original_message_signature_and_mobile() {
        let (new, _, by) = split("Yes.\n-----Original Message-----\nFrom: x\nold");
        assert_eq!(
            (new.as_str(), by),
            ("Yes.", Some(FoldMarker::OriginalMessage))
        );
        let (new, folded, by) = split("Hi,\nplease call me.\n-- \nJane Doe\n+1 555 0100");
        assert_eq!(new, "Hi,\nplease call me.");
        assert_eq!(folded, "-- \nJane Doe\n+1 555 0100");
        assert_eq!(by, Some(FoldMarker::Signature));
        let (new, _, by) = split("OK\n\nSent from my iPhone\n\n> On Jan 8, Bob wrote:\n> hi");
        assert_eq!(
            (new.as_str(), by),
            ("OK", Some(FoldMarker::MobileSignature))
        );
    }

    #[test]
    fn nothing_left_means_nothing_folded() {
        let text = "> only a quote\n> here";
        let s = split_quoted(text);
        assert_eq!(s.new_text, text);
        assert_eq!(s.folded, "");
        assert_eq!(s.folded_by, None);
        assert_eq!(split_quoted("").new_text, "");
        let forward = "---------- Forwarded message ---------\nFrom: Jane <j@example.com>\nDate: Mon\nSubject: X\nTo: a@b\n\nbody";
        assert_eq!(split_quoted(forward).new_text, forward);
    }

    #[test]
    fn sentences_that_look_like_markers_stay_new() {
        let text =
            "Hi,\nthis is what the manual wrote:\nPress reset for 10 seconds.\nIt does not work.";
        assert_eq!(split_quoted(text).folded_by, None);
        let text = "Sent from my phone, because the laptop is broken.\nPlease help.";
        assert_eq!(split_quoted(text).folded_by, None);
        let text = "On Monday the technician wrote:\nall fixed. But it is not.";
        assert_eq!(split_quoted(text).folded_by, None);
        let (new, _, by) = split("Yes.\n\nJane Doe <jane@example.com> wrote:\n> question");
        assert_eq!((new.as_str(), by), ("Yes.", Some(FoldMarker::Quote)));
    }

    #[test]
    fn unquoted_attribution_is_a_hard_cut() {
        let (new, folded, by) =
            split("Done.\n\nOn 8 Jan 2024, at 09:14, Bob wrote:\n\nPlease try again.");
        assert_eq!(new, "Done.");
        assert!(folded.ends_with("Please try again."));
        assert_eq!(by, Some(FoldMarker::Attribution));
    }
}
