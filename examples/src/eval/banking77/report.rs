//! The figures of the BANKING77 chatbot evaluation: what the offline bot does at a grounding
//! threshold (from each query's best passage), the sweep over thresholds, the rules that
//! pick one, and the text rendering of a report.
//!
//! Definitions (over the queries of one split):
//! - a query is **answerable** when its intent's article is in the help centre, else
//!   **unanswerable** (its intent is one of the [`HELD_OUT`](super::HELD_OUT));
//! - an answer is **cited** (right) when every passage it cites is from the query's own
//!   article; **answerable_cited** = answerable queries answered rightly / answerable;
//!   **unanswerable_handoff** = unanswerable queries handed off / unanswerable;
//! - **wrong** = answers citing another article (answerable) plus any answer to an
//!   unanswerable query; **precision** = right answers / answers.

use serde::Serialize;

use super::Banking77Report;

/// The best passage the hybrid search found for one query (what the offline bot answers
/// with when its score reaches the threshold).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// The query.
    pub text: String,
    /// Its labelled intent.
    pub intent: String,
    /// Whether its intent's article is in the help centre.
    pub answerable: bool,
    /// The intent of the best passage's article and the passage's score (cosine), if any.
    pub best: Option<(String, f32)>,
    /// The intents of the top passages' articles, best first (for recall).
    pub ranked: Vec<String>,
}

impl Observation {
    /// The intent the offline bot answers with at `threshold` (`None`: it hands off).
    pub fn answer_at(&self, threshold: f32) -> Option<&str> {
        self.best
            .as_ref()
            .filter(|(_, score)| *score >= threshold)
            .map(|(intent, _)| intent.as_str())
    }
}

/// What the bot did with the queries at one threshold (or, for a provider, as asked).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// The grounding threshold.
    pub threshold: f32,
    /// Answerable queries.
    pub answerable: usize,
    /// Unanswerable queries.
    pub unanswerable: usize,
    /// Answerable queries answered citing their own article only.
    pub cited: usize,
    /// Answerable queries answered citing another article.
    pub wrong_article: usize,
    /// Answerable queries handed off (or greeted).
    pub answerable_handed_off: usize,
    /// Unanswerable queries handed off.
    pub unanswerable_handed_off: usize,
    /// Unanswerable queries answered (or greeted).
    pub unanswerable_answered: usize,
    /// cited / answerable.
    pub answerable_cited: f64,
    /// unanswerable_handed_off / unanswerable.
    pub unanswerable_handoff: f64,
    /// cited / all answers (1 when nothing was answered).
    pub precision: f64,
    /// The smaller of `answerable_cited` and `unanswerable_handoff` (what the balanced
    /// rule maximises; both goals are 90%).
    pub lower: f64,
}

pub(crate) fn ratio(n: usize, d: usize, empty: f64) -> f64 {
    if d == 0 { empty } else { n as f64 / d as f64 }
}

/// Counts of what the bot did with queries, added one at a time ([`Tally::add`]).
#[derive(Debug, Clone, Copy)]
pub struct Tally {
    answerable: usize,
    unanswerable: usize,
    cited: usize,
    wrong_article: usize,
    unanswerable_handed_off: usize,
}

impl Tally {
    /// Nothing counted yet.
    pub fn new() -> Self {
        Self {
            answerable: 0,
            unanswerable: 0,
            cited: 0,
            wrong_article: 0,
            unanswerable_handed_off: 0,
        }
    }

    /// Counts one query of `intent`: `answered` is `None` for a handoff (or anything but an
    /// answer), else the intents of the articles the answer cites.
    pub fn add(&mut self, answerable: bool, intent: &str, answered: Option<&[&str]>) {
        match (answerable, answered) {
            (true, Some(cited)) if !cited.is_empty() && cited.iter().all(|c| *c == intent) => {
                self.answerable += 1;
                self.cited += 1;
            }
            (true, Some(_)) => {
                self.answerable += 1;
                self.wrong_article += 1;
            }
            (true, None) => self.answerable += 1,
            (false, Some(_)) => self.unanswerable += 1,
            (false, None) => {
                self.unanswerable += 1;
                self.unanswerable_handed_off += 1;
            }
        }
    }

    /// The figures, labelled with `threshold`.
    pub fn figures(&self, threshold: f32) -> Figures {
        let answered =
            self.cited + self.wrong_article + self.unanswerable - self.unanswerable_handed_off;
        let answerable_cited = ratio(self.cited, self.answerable, 0.0);
        let unanswerable_handoff = ratio(self.unanswerable_handed_off, self.unanswerable, 0.0);
        Figures {
            threshold,
            answerable: self.answerable,
            unanswerable: self.unanswerable,
            cited: self.cited,
            wrong_article: self.wrong_article,
            answerable_handed_off: self.answerable - self.cited - self.wrong_article,
            unanswerable_handed_off: self.unanswerable_handed_off,
            unanswerable_answered: self.unanswerable - self.unanswerable_handed_off,
            answerable_cited,
            unanswerable_handoff,
            precision: ratio(self.cited, answered, 1.0),
            lower: answerable_cited.min(unanswerable_handoff),
        }
    }
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

/// The offline bot's figures on `observations` at `threshold`.
pub fn figures(observations: &[Observation], threshold: f32) -> Figures {
    let mut tally = Tally::new();
    for o in observations {
        let answer = o.answer_at(threshold);
        let cited: Option<[&str; 1]> = answer.map(|a| [a]);
        tally.add(o.answerable, &o.intent, cited.as_ref().map(|c| &c[..]));
    }
    tally.figures(threshold)
}

/// The thresholds of the sweep: 0.00 to 0.90 in steps of 0.01.
pub fn sweep_thresholds() -> Vec<f32> {
    (0..=90).map(|i| i as f32 / 100.0).collect()
}

/// The figures at each threshold.
pub fn sweep(observations: &[Observation], thresholds: &[f32]) -> Vec<Figures> {
    thresholds
        .iter()
        .map(|t| figures(observations, *t))
        .collect()
}

/// The most wrong answers the precision-first rule allows, as a share of the answers (the
/// demo evaluation's rule, [`crate::eval::chatbot::report::MAX_WRONG_SHARE`]).
pub const MAX_WRONG_SHARE: f64 = crate::eval::chatbot::report::MAX_WRONG_SHARE;

/// The balanced rule (the one the evaluation reports at): the threshold with the highest
/// [`Figures::lower`], i.e. as close to both goals as one threshold gets; of a run of
/// adjacent thresholds tied on it, the middle one (the lower middle for an even run).
pub fn choose_balanced(sweep: &[Figures]) -> Option<&Figures> {
    middle_of_best(sweep, |f| Some(f.lower))
}

/// The precision-first rule of the demo evaluation: the highest share of answerable
/// queries cited among the thresholds whose wrong answers are at most
/// [`MAX_WRONG_SHARE`] of all answers; ties as in [`choose_balanced`].
pub fn choose_precision_first(sweep: &[Figures]) -> Option<&Figures> {
    middle_of_best(sweep, |f| {
        let answers = f.cited + f.wrong_article + f.unanswerable_answered;
        let wrong = f.wrong_article + f.unanswerable_answered;
        (answers > 0 && ratio(wrong, answers, 0.0) <= MAX_WRONG_SHARE).then_some(f.answerable_cited)
    })
}

fn middle_of_best(sweep: &[Figures], key: impl Fn(&Figures) -> Option<f64>) -> Option<&Figures> {
    let best = sweep
        .iter()
        .filter_map(&key)
        .fold(None, |acc: Option<f64>, k| {
            Some(acc.map_or(k, |a| a.max(k)))
        })?;
    let start = sweep.iter().position(|f| key(f) == Some(best))?;
    let len = sweep[start..]
        .iter()
        .take_while(|f| key(f) == Some(best))
        .count();
    sweep.get(start + (len.max(1) - 1) / 2)
}

/// Recall of the right article among the first 1 and 5 passages' articles, over the
/// answerable observations.
pub fn recall(observations: &[Observation]) -> (f64, f64) {
    let answerable: Vec<&Observation> = observations.iter().filter(|o| o.answerable).collect();
    let at = |k: usize| {
        let hits = answerable
            .iter()
            .filter(|o| o.ranked.iter().take(k).any(|i| *i == o.intent))
            .count();
        ratio(hits, answerable.len(), 0.0)
    };
    (at(1), at(5))
}

/// One line of figures.
pub fn line(label: &str, f: &Figures) -> String {
    format!(
        "{label:<22} {:>5.3}  {:>5.1}% {:>5.1}%  {:>5.1}%  {:>5} {:>5} {:>5} {:>5}",
        f.threshold,
        f.answerable_cited * 100.0,
        f.unanswerable_handoff * 100.0,
        f.precision * 100.0,
        f.cited,
        f.wrong_article,
        f.answerable_handed_off,
        f.unanswerable_answered,
    )
}

/// The header of [`line()`].
pub const LINE_HEADER: &str =
    "                       thres  cited  unans-h  precis  right wrong fhand answ-u";

/// The report as text.
pub fn render(r: &Banking77Report) -> String {
    let mut out = vec![format!(
        "banking77 chatbot: {} articles in the help centre, {} intents held out; embedder {}",
        r.articles_indexed,
        r.held_out.len(),
        r.embedder
    )];
    out.push(format!(
        "test: {} queries ({} answerable, {} unanswerable); train: {} queries",
        r.test_queries, r.answerable, r.unanswerable, r.train_queries
    ));
    out.push(String::new());
    out.push("retrieval (test, answerable queries, the passages the bot is given):".into());
    for m in &r.retrieval {
        out.push(format!(
            "  {:<8} recall@1 {:>5.1}%  recall@5 {:>5.1}%",
            m.mode,
            m.recall_at_1 * 100.0,
            m.recall_at_5 * 100.0
        ));
    }
    if let Some(t) = &r.tuning {
        out.push(String::new());
        out.push(format!("train sweep ({} queries):", t.queries));
        out.push(LINE_HEADER.into());
        for f in t.sweep.iter().filter(|f| {
            let step = (f.threshold * 100.0).round() as i32;
            step % 5 == 0 && (30..=80).contains(&step)
        }) {
            out.push(line("", f));
        }
        out.push(format!("balanced rule: {}", t.rule));
        if let Some(f) = &t.balanced {
            out.push(line("  chosen on train", f));
        }
        if let Some(f) = &t.precision_first {
            out.push(line("  precision-first", f));
        }
        out.push(line("  tenant default", &t.at_default));
    }
    out.push(String::new());
    out.push(format!(
        "offline bot on test, derived from the searches (threshold {:.3} {}):",
        r.threshold, r.threshold_source
    ));
    out.push(LINE_HEADER.into());
    for (label, f) in &r.test_derived {
        out.push(line(label, f));
    }
    out.push(String::new());
    out.push("through Helpdesk::chat_message (first turns, SQLite store):".into());
    out.push(LINE_HEADER.into());
    for p in &r.providers {
        out.push(line(&p.provider, &p.figures));
        out.push(format!(
            "  {} turns in {:.1} s ({:.1} ms a turn){}{}",
            p.turns,
            p.seconds,
            p.ms_per_turn,
            if p.model_failures > 0 {
                format!(", {} model failures", p.model_failures)
            } else {
                String::new()
            },
            p.note
                .as_deref()
                .map(|n| format!("; {n}"))
                .unwrap_or_default()
        ));
    }
    for note in &r.notes {
        out.push(format!("note: {note}"));
    }
    out.push(format!(
        "offline checked against the searches: {} of {} outcomes as predicted",
        r.offline_checked - r.prediction_mismatches,
        r.offline_checked
    ));
    out.push(format!(
        "answerable_cited {:.3}  unanswerable_handoff {:.3}  recall_at_1 {:.3}  recall_at_5 {:.3}",
        r.answerable_cited, r.unanswerable_handoff, r.recall_at_1, r.recall_at_5
    ));
    out.join("\n")
}
