//! What the copilot writes without a language model (none configured, AI autonomy off, or
//! the model failed): the template draft and the extractive summary.
//!
//! Both are built only from this ticket's own facts (its number, subject, requester's name,
//! thread) and the tenant's knowledge base, never from another ticket: a resolved ticket's
//! reply can claim an action nobody took here ("I have refunded the duplicate charge") and
//! carry another customer's details. Both start with a visible label that says where they
//! came from. Everything here is deterministic: the same input gives the same text.

use super::output;
use super::types::{SummarySource, TicketSummary};
use crate::domain::{AuthorKind, DraftSource, Message, Ticket};
use crate::kb::ScoredChunk;

/// The longest knowledge-base passage quoted in a template draft, in characters.
const MAX_QUOTE_CHARS: usize = 1200;
/// How many sentences of the description an extractive summary keeps.
const SUMMARY_SENTENCES: usize = 2;

/// The label line that starts a draft written without a model; `strip_label` in the draft
/// service removes it before sending (it starts with `[Suggested from ` and ends the line).
pub(crate) fn draft_label(source: DraftSource, article: Option<&str>) -> String {
    match (source, article) {
        (DraftSource::KbPassage, Some(title)) => format!(
            "[Suggested from a template and the knowledge-base article \"{title}\", no \
             language model: check it before sending]"
        ),
        (DraftSource::CannedResponse, Some(name)) => format!(
            "[Suggested from the canned response \"{name}\", filled in for this ticket, no \
             language model: check it before sending]"
        ),
        _ => "[Suggested from a template, no language model and no matching knowledge-base \
              article: check it before sending]"
            .to_string(),
    }
}

/// The label line of a model's draft that started from a canned response, naming it (and
/// the customer's language when it is not English).
pub(crate) fn canned_model_label(name: &str, language: Option<&str>) -> String {
    match language {
        Some(tag) => format!(
            "[Suggested from the language model in the customer's language ({tag}), starting \
             from the canned response \"{name}\": check it before sending]"
        ),
        None => format!(
            "[Suggested from the language model, starting from the canned response \"{name}\": \
             check it before sending]"
        ),
    }
}

/// A draft built without a model from the canned response `name` that matches the
/// request, `text` being it filled in for the ticket: labelled, otherwise as written.
pub(crate) fn canned_draft(name: &str, text: &str) -> String {
    format!(
        "{}\n\n{text}",
        draft_label(DraftSource::CannedResponse, Some(name))
    )
}

/// The label line that starts a model's draft written in the customer's language (not
/// English), so the agent knows before reading it; removed before sending like the others.
pub(crate) fn language_label(tag: &str) -> String {
    format!(
        "[Suggested from the language model in the customer's language ({tag}): check it \
         before sending]"
    )
}

/// A draft reply built without a model: a greeting with the requester's name, this
/// ticket's number and subject, and, when the knowledge base has a passage for it, that
/// passage quoted with its article's title. Returns the labelled body and its source
/// ([`DraftSource::KbPassage`] with a passage, else [`DraftSource::Template`]).
///
/// It promises nothing beyond what the passage says: no action is claimed as done.
pub(crate) fn template_draft(
    ticket: &Ticket,
    customer_name: Option<&str>,
    passage: Option<&ScoredChunk>,
) -> (String, DraftSource) {
    let name = customer_name
        .map(|n| output::bounded(n, 80))
        .filter(|n| !n.is_empty());
    let greeting = match name {
        Some(name) => format!("Hi {name},"),
        None => "Hello,".to_string(),
    };
    let about = format!(
        "Thank you for contacting us about \"{}\" (ticket #{}).",
        output::bounded(&ticket.subject, 200),
        ticket.number
    );
    match passage {
        Some(chunk) => {
            let quote: String = output::bounded(&chunk.text, MAX_QUOTE_CHARS)
                .lines()
                .map(|l| format!("> {l}"))
                .collect::<Vec<_>>()
                .join("\n");
            let body = format!(
                "{label}\n\n{greeting}\n\n{about} Our help article \"{title}\" covers this:\n\n\
                 {quote}\n\nIf this does not solve it, reply here and we will look into it \
                 further.",
                label = draft_label(DraftSource::KbPassage, Some(&chunk.title)),
                title = chunk.title,
            );
            (body, DraftSource::KbPassage)
        }
        None => {
            let body = format!(
                "{label}\n\n{greeting}\n\n{about} We have your message and will reply here \
                 as soon as we have looked into it.",
                label = draft_label(DraftSource::Template, None),
            );
            (body, DraftSource::Template)
        }
    }
}

/// Splits text into sentences (ending at `.`, `!`, `?` or a line break), trimmed.
pub(crate) fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if ch == '\n' {
            if !current.trim().is_empty() {
                out.push(current.trim().to_string());
            }
            current.clear();
            continue;
        }
        current.push(ch);
        if matches!(ch, '.' | '!' | '?') {
            if !current.trim().is_empty() {
                out.push(current.trim().to_string());
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// The lower-case words of a sentence (letters, digits and apostrophes).
fn words(sentence: &str) -> Vec<String> {
    sentence
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
        .collect()
}

/// Whether a sentence is only a greeting, a pleasantry or a sign-off ("Hello,", "Hi team",
/// "I hope you are well", "Thanks in advance", "Kind regards", "Sent from my phone"): it
/// says nothing about the problem.
fn is_filler(sentence: &str) -> bool {
    const GREETINGS: &[&str] = &["hi", "hello", "hey", "dear", "greetings", "good", "hiya"];
    const SIGN_OFFS: &[&str] = &[
        "thanks",
        "thank",
        "many thanks",
        "regards",
        "kind regards",
        "best regards",
        "best",
        "cheers",
        "sincerely",
        "yours",
        "sent from my",
        "i hope you",
        "hope you",
        "hope this",
        "have a nice",
        "have a good",
    ];
    let w = words(sentence);
    let Some(first) = w.first() else {
        return true;
    };
    if GREETINGS.contains(&first.as_str()) && w.len() <= 4 {
        return true;
    }
    let joined = w.join(" ");
    SIGN_OFFS
        .iter()
        .any(|p| joined == *p || joined.starts_with(&format!("{p} ")))
        && w.len() <= 8
}

/// How much a sentence says about the customer's problem: problem words (errors,
/// failures, money, access), a question, numbers (codes, amounts, dates) and words shared
/// with the subject. Fillers score nothing.
fn score(sentence: &str, subject_words: &[String]) -> u32 {
    /// Word stems that mark a problem.
    const PROBLEM: &[&str] = &[
        "error",
        "fail",
        "crash",
        "broken",
        "bug",
        "issue",
        "problem",
        "wrong",
        "missing",
        "lost",
        "unable",
        "cannot",
        "can't",
        "couldn't",
        "won't",
        "doesn't",
        "didn't",
        "isn't",
        "not",
        "never",
        "stuck",
        "locked",
        "denied",
        "declined",
        "reject",
        "timeout",
        "time out",
        "charged",
        "charge",
        "twice",
        "double",
        "refund",
        "invoice",
        "payment",
        "bill",
        "slow",
        "freez",
        "down",
        "outage",
        "disappear",
        "stopped",
        "urgent",
        "blocked",
    ];
    if is_filler(sentence) {
        return 0;
    }
    let w = words(sentence);
    let mut points = 0;
    let problem_hits = w
        .iter()
        .filter(|word| {
            PROBLEM.iter().any(|p| {
                // Short stems ("not", "bug") match whole words only ("note" is no problem).
                if p.len() >= 4 {
                    word.starts_with(p)
                } else {
                    word.as_str() == *p || word.strip_suffix('s') == Some(p)
                }
            })
        })
        .count();
    points += 3 * problem_hits.min(2) as u32;
    if sentence.trim_end().ends_with('?') {
        points += 2;
    }
    if w.iter()
        .any(|word| word.chars().any(|c| c.is_ascii_digit()))
    {
        points += 1;
    }
    let shared = w
        .iter()
        .filter(|word| word.len() > 3 && subject_words.contains(word))
        .count();
    points += shared.min(3) as u32;
    if w.len() >= 4 {
        points += 1;
    }
    points
}

/// Up to `n` sentences of `text` that carry the problem, in their original order: the
/// best scoring ones, earlier first on a tie. When nothing scores, the first sentence
/// that is not a filler.
fn key_sentences(text: &str, subject_words: &[String], n: usize) -> Vec<String> {
    let all = sentences(text);
    let mut ranked: Vec<(u32, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, s)| (score(s, subject_words), i))
        .filter(|(points, _)| *points > 1)
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut picked: Vec<usize> = ranked.into_iter().take(n).map(|(_, i)| i).collect();
    picked.sort_unstable();
    if picked.is_empty() {
        return all.into_iter().filter(|s| !is_filler(s)).take(1).collect();
    }
    picked
        .into_iter()
        .filter_map(|i| all.get(i).cloned())
        .collect()
}

/// The extractive summary used without a model: the sentences of the description that
/// carry the problem (greetings and sign-offs skipped), the key sentence of the latest
/// customer message, and the customer's questions asked after the last agent message.
pub(crate) fn extractive_summary(ticket: &Ticket, thread: &[Message]) -> TicketSummary {
    let subject_words = words(ticket.subject.trim_start_matches("Chat:"));
    let key = key_sentences(&ticket.description, &subject_words, SUMMARY_SENTENCES).join(" ");
    let mut summary = format!(
        "[Extractive summary, no language model] #{} \"{}\": {}",
        ticket.number,
        output::bounded(&ticket.subject, 200),
        output::bounded(&key, 400)
    );
    let customer = |m: &&Message| m.author_kind == AuthorKind::Customer;
    if let Some(latest) = thread.iter().rev().find(customer) {
        let line = key_sentences(&latest.body, &subject_words, 1).join(" ");
        let line = output::bounded(&line, 300);
        if !line.is_empty() && !summary.contains(&line) {
            summary.push_str(&format!(" Latest from the customer: {line}"));
        }
    }
    let last_agent = thread
        .iter()
        .rposition(|m| matches!(m.author_kind, AuthorKind::Agent | AuthorKind::Bot));
    let mut texts: Vec<&str> = Vec::new();
    if last_agent.is_none() {
        texts.push(&ticket.description);
    }
    let from = last_agent.map_or(0, |i| i + 1);
    texts.extend(
        thread[from..]
            .iter()
            .filter(customer)
            .map(|m| m.body.as_str()),
    );
    let mut open_questions: Vec<String> = Vec::new();
    for q in texts
        .into_iter()
        .flat_map(sentences)
        .filter(|s| s.ends_with('?') && !is_filler(s))
    {
        let q = output::bounded(&q, 300);
        if !open_questions.contains(&q) {
            open_questions.push(q);
        }
    }
    open_questions.truncate(5);
    TicketSummary {
        summary,
        open_questions,
        source: SummarySource::Extractive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_on_punctuation_and_lines() {
        assert_eq!(
            sentences("Hi. Can you help?\nThanks"),
            ["Hi.", "Can you help?", "Thanks"]
        );
    }

    #[test]
    fn fillers_are_recognised() {
        for filler in [
            "Hello,",
            "Hi team,",
            "Dear support team,",
            "Good morning!",
            "I hope you are well.",
            "Thanks in advance for your help!",
            "Kind regards,",
            "Best,",
            "Sent from my iPhone",
        ] {
            assert!(is_filler(filler), "{filler}");
        }
        for problem in [
            "Hello, my invoice shows the wrong amount and I was charged twice.",
            "Thanks to your update the app crashes at start.",
            "The export fails with error 500.",
        ] {
            assert!(!is_filler(problem), "{problem}");
        }
    }

    #[test]
    fn the_problem_sentences_win_over_the_first_line() {
        let subject = words("Charged twice for March");
        let text = "Hello,\n\nI hope you are well. I have been a customer for years. \
                    This month I was charged twice for my subscription (2 x 49 EUR). \
                    Could you refund the second payment?\n\nThanks in advance,\nCarl";
        assert_eq!(
            key_sentences(text, &subject, 2),
            [
                "This month I was charged twice for my subscription (2 x 49 EUR).",
                "Could you refund the second payment?"
            ]
        );
    }
}
