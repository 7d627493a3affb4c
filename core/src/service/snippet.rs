//! The passage of a matched text shown with a search result: a window around the first
//! match, its matching words marked. Plain text in parts, so every page escapes it the way
//! it escapes any text and marks the hits its own way.

use serde::{Deserialize, Serialize};

use crate::store::SearchSource;

/// Characters of context kept before the first match.
const BEFORE: usize = 60;
/// The longest passage, in characters (before the ellipses).
const WINDOW: usize = 220;

/// One run of a snippet's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    /// The text (whitespace runs collapsed to one space).
    pub text: String,
    /// Whether it is a matching word.
    pub hit: bool,
}

/// A passage of a matched text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// The runs, in order.
    pub parts: Vec<SnippetPart>,
    /// Text was cut before the passage.
    pub cut_before: bool,
    /// Text was cut after it.
    pub cut_after: bool,
}

impl Snippet {
    /// The passage of `text` around its first word that `terms` match: a word that starts
    /// with a term, or (for the requester's name and e-mail, where terms match anywhere)
    /// contains one.
    pub fn of(text: &str, terms: &[String], source: SearchSource) -> Self {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let chars: Vec<char> = flat.chars().collect();
        let words = word_spans(&chars);
        let matches = |span: &(usize, usize)| {
            let word: String = chars[span.0..span.1]
                .iter()
                .collect::<String>()
                .to_lowercase();
            terms.iter().any(|t| {
                if source == SearchSource::Requester {
                    word.contains(t.as_str())
                } else {
                    word.starts_with(t.as_str())
                }
            })
        };
        let first = words.iter().find(|s| matches(s)).map_or(0, |s| s.0);
        let mut start = first.saturating_sub(BEFORE);
        // Start at a word's beginning, not inside one.
        if start > 0 {
            start = words
                .iter()
                .map(|s| s.0)
                .find(|&w| w >= start)
                .unwrap_or(start)
                .min(first);
        }
        let mut end = (start + WINDOW).min(chars.len());
        if end < chars.len() {
            // End after a whole word.
            if let Some(cut) = words
                .iter()
                .filter(|s| s.1 <= end && s.0 >= start)
                .map(|s| s.1)
                .next_back()
            {
                end = cut.max(first + 1).min(chars.len());
            }
        }
        let mut parts: Vec<SnippetPart> = Vec::new();
        let mut push = |text: String, hit: bool| {
            if text.is_empty() {
                return;
            }
            match parts.last_mut() {
                Some(last) if last.hit == hit => last.text.push_str(&text),
                _ => parts.push(SnippetPart { text, hit }),
            }
        };
        let mut at = start;
        for span in words.iter().filter(|s| s.0 >= start && s.1 <= end) {
            push(chars[at..span.0].iter().collect(), false);
            push(chars[span.0..span.1].iter().collect(), matches(span));
            at = span.1;
        }
        push(chars[at..end].iter().collect(), false);
        Self {
            parts,
            cut_before: start > 0,
            cut_after: end < chars.len(),
        }
    }

    /// The passage as plain text, with "…" where it was cut.
    pub fn plain(&self) -> String {
        let mut out = String::new();
        if self.cut_before {
            out.push('…');
        }
        for p in &self.parts {
            out.push_str(&p.text);
        }
        if self.cut_after {
            out.push('…');
        }
        out
    }
}

/// The `[start, end)` character ranges of the words (runs of letters and digits).
fn word_spans(chars: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in chars.iter().enumerate() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, chars.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn terms(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| (*s).to_string()).collect()
    }

    fn hits(s: &Snippet) -> Vec<&str> {
        s.parts
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect()
    }

    #[test]
    fn marks_every_word_starting_with_a_term() {
        let s = Snippet::of(
            "We  REFUNDED the\nduplicate charge; refund #2 follows.",
            &terms(&["refund", "dup"]),
            SearchSource::Message,
        );
        assert_eq!(
            s.plain(),
            "We REFUNDED the duplicate charge; refund #2 follows."
        );
        assert_eq!(hits(&s), ["REFUNDED", "duplicate", "refund"]);
        assert!(!s.cut_before && !s.cut_after);
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match_at_word_boundaries() {
        let text = format!(
            "{} the parcel was lost {}",
            "word ".repeat(100),
            "tail ".repeat(100)
        );
        let s = Snippet::of(&text, &terms(&["parcel"]), SearchSource::Note);
        assert!(s.cut_before && s.cut_after);
        let plain = s.plain();
        assert!(plain.starts_with("…word "), "{plain}");
        assert!(plain.ends_with("tail…"), "{plain}");
        assert!(plain.chars().count() <= WINDOW + 2);
        assert_eq!(hits(&s), ["parcel"]);
        let before = plain.find("parcel").unwrap_or(0);
        assert!(before <= BEFORE + 4, "{before}");
    }

    #[test]
    fn the_requester_matches_inside_words_and_markup_stays_text() {
        let s = Snippet::of(
            "Zoë <b>Quinn</b> <zoe@quinn-mail.test>",
            &terms(&["uinn"]),
            SearchSource::Requester,
        );
        assert_eq!(hits(&s), ["Quinn", "quinn"]);
        assert!(s.plain().contains("<b>"), "left to the page to escape");
    }

    #[test]
    fn a_text_without_a_match_shows_its_start() {
        let s = Snippet::of("nothing here", &terms(&["zzz"]), SearchSource::Subject);
        assert_eq!(s.plain(), "nothing here");
        assert!(hits(&s).is_empty());
    }
}
