//! The figures of a chatbot evaluation at one grounding threshold, the sweep over
//! thresholds, and the rule that picks the default.
//!
//! Definitions (counts over the questions of one split):
//! - an answer is **correct** when it cites one of the question's labelled articles;
//!   every other answer is **wrong**: an unrelated article for an answerable question
//!   (`wrong_article`) or any answer to a question labelled `handoff` or `greeting`
//!   (`answered_unanswerable`);
//! - **precision** = correct / answered; **coverage** = correct / answerable (issue 21's
//!   `answerable_cited`: the offline bot cites exactly one passage, so "the right article
//!   and no unrelated one" is the same thing);
//! - **false handoffs** = answerable questions handed off; **unanswerable_handoff** =
//!   questions labelled `handoff` that were handed off, over all of them.
//!
//! The rule ([`choose`]): the threshold with the highest coverage among those whose wrong
//! answers are at most [`MAX_WRONG_SHARE`] of the answered ones. A wrong answer is worse
//! than a handoff: the customer leaves with a confident answer to another question (and
//! may act on it, or give up), nobody at the company sees it, and the mistake repeats for
//! everyone who asks alike; a handoff costs an agent a few minutes and the customer a
//! wait, and a person sees the question. Among thresholds tied on coverage and wrong
//! answers, the middle one of the tied run is taken, as far as possible from both edges.

use serde::Serialize;

use super::Expect;
use super::run::{Observation, Outcome};

/// The most wrong answers the rule allows, as a share of the answered questions.
pub const MAX_WRONG_SHARE: f64 = 0.05;

/// The figures at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// The grounding threshold.
    pub threshold: f32,
    /// Questions evaluated.
    pub questions: usize,
    /// Questions labelled `answer`.
    pub answerable: usize,
    /// Questions labelled `handoff`.
    pub unanswerable: usize,
    /// Questions labelled `greeting`.
    pub greetings: usize,
    /// Rows: labelled answer, handoff, greeting; columns: answered, handed off, greeted.
    pub confusion: [[usize; 3]; 3],
    /// Questions answered.
    pub answered: usize,
    /// Answers citing a labelled article.
    pub correct: usize,
    /// Answerable questions answered with an unrelated article.
    pub wrong_article: usize,
    /// Questions labelled `handoff` or `greeting` that were answered.
    pub answered_unanswerable: usize,
    /// `wrong_article + answered_unanswerable`.
    pub wrong: usize,
    /// Answerable questions handed off.
    pub false_handoffs: usize,
    /// correct / answered (1 when nothing was answered).
    pub precision: f64,
    /// correct / answerable.
    pub coverage: f64,
    /// wrong / answered (0 when nothing was answered).
    pub wrong_share: f64,
    /// Questions labelled `handoff` handed off / unanswerable.
    pub unanswerable_handoff: f64,
    /// Questions labelled `greeting` greeted / greetings.
    pub greeted: f64,
}

fn ratio(n: usize, d: usize, empty: f64) -> f64 {
    if d == 0 { empty } else { n as f64 / d as f64 }
}

/// The figures of `observations` at `threshold`.
pub fn figures(observations: &[Observation], threshold: f32) -> Figures {
    let mut confusion = [[0usize; 3]; 3];
    let (mut correct, mut wrong_article, mut answered_unanswerable) = (0, 0, 0);
    for o in observations {
        let row = match o.expect {
            Expect::Answer => 0,
            Expect::Handoff => 1,
            Expect::Greeting => 2,
        };
        let outcome = o.outcome_at(threshold);
        let col = match &outcome {
            Outcome::Answered { .. } => 0,
            Outcome::HandedOff => 1,
            Outcome::Greeted => 2,
        };
        confusion[row][col] += 1;
        if let Outcome::Answered { article } = outcome {
            match o.expect {
                Expect::Answer if o.articles.contains(&article) => correct += 1,
                Expect::Answer => wrong_article += 1,
                Expect::Handoff | Expect::Greeting => answered_unanswerable += 1,
            }
        }
    }
    let count = |e: Expect| observations.iter().filter(|o| o.expect == e).count();
    let (answerable, unanswerable, greetings) = (
        count(Expect::Answer),
        count(Expect::Handoff),
        count(Expect::Greeting),
    );
    let answered = confusion[0][0] + confusion[1][0] + confusion[2][0];
    let wrong = wrong_article + answered_unanswerable;
    Figures {
        threshold,
        questions: observations.len(),
        answerable,
        unanswerable,
        greetings,
        confusion,
        answered,
        correct,
        wrong_article,
        answered_unanswerable,
        wrong,
        false_handoffs: confusion[0][1],
        precision: ratio(correct, answered, 1.0),
        coverage: ratio(correct, answerable, 0.0),
        wrong_share: ratio(wrong, answered, 0.0),
        unanswerable_handoff: ratio(confusion[1][1], unanswerable, 0.0),
        greeted: ratio(confusion[2][2], greetings, 0.0),
    }
}

/// The thresholds of the sweep: 0.00 to 0.90 in steps of 0.025.
pub fn sweep_thresholds() -> Vec<f32> {
    (0..=36).map(|i| i as f32 * 25.0 / 1000.0).collect()
}

/// The figures at each threshold.
pub fn sweep(observations: &[Observation], thresholds: &[f32]) -> Vec<Figures> {
    thresholds
        .iter()
        .map(|t| figures(observations, *t))
        .collect()
}

/// Whether figures meet the rule's bound: something answered and wrong answers at most
/// [`MAX_WRONG_SHARE`] of the answered.
pub fn meets_bound(f: &Figures) -> bool {
    f.answered > 0 && f.wrong_share <= MAX_WRONG_SHARE
}

/// The rule (see the module documentation): among the sweep's figures (in threshold
/// order) that meet [`meets_bound`], the highest coverage, then the fewest wrong answers;
/// of the thresholds tied on both that lie next to each other, the middle one (the lower
/// middle for an even run). `None` when no threshold meets the bound.
pub fn choose(sweep: &[Figures]) -> Option<&Figures> {
    let key = |f: &Figures| (f.correct, std::cmp::Reverse(f.wrong));
    let best = sweep.iter().filter(|f| meets_bound(f)).map(key).max()?;
    // The first run of adjacent thresholds with the best key.
    let start = sweep
        .iter()
        .position(|f| meets_bound(f) && key(f) == best)?;
    let len = sweep[start..]
        .iter()
        .take_while(|f| meets_bound(f) && key(f) == best)
        .count();
    sweep.get(start + (len - 1) / 2)
}

/// The figures as text lines: one line of counts and shares.
pub fn line(f: &Figures) -> String {
    format!(
        "{:>5.3}  {:>4} {:>4} {:>4}   {:>4} {:>4}   {:>5.1}% {:>5.1}% {:>5.1}%  {:>5.1}% {:>5.1}%",
        f.threshold,
        f.answered,
        f.correct,
        f.wrong,
        f.false_handoffs,
        f.confusion[1][1],
        f.precision * 100.0,
        f.coverage * 100.0,
        f.wrong_share * 100.0,
        f.unanswerable_handoff * 100.0,
        f.greeted * 100.0,
    )
}

/// The header of [`line()`].
pub const LINE_HEADER: &str =
    "thres  answ corr wrong  fhnd hnd+   precis  cover  wrong%  unans-h greet";

/// The confusion matrix as text lines.
pub fn confusion_lines(f: &Figures) -> Vec<String> {
    let names = ["answer", "handoff", "greeting"];
    let mut out = vec![format!(
        "{:<18}{:>9} {:>11} {:>8}",
        "label \\ outcome", "answered", "handed off", "greeted"
    )];
    for (name, row) in names.iter().zip(f.confusion) {
        out.push(format!(
            "{:<18}{:>9} {:>11} {:>8}",
            name, row[0], row[1], row[2]
        ));
    }
    out
}

/// The report as text.
pub fn render(r: &super::ChatbotReport) -> String {
    let mut out = vec![format!(
        "chatbot ({} split): {} questions ({} answerable, {} handoff, {} greeting); embedder {}",
        r.split,
        r.questions,
        r.at_threshold.answerable,
        r.at_threshold.unanswerable,
        r.at_threshold.greetings,
        r.embedder
    )];
    if !r.sweep.is_empty() {
        out.push(String::new());
        out.push(LINE_HEADER.into());
        out.extend(r.sweep.iter().map(line));
    }
    if let Some(chosen) = &r.chosen {
        out.push(String::new());
        out.push(format!("rule: {}", chosen.rule));
        match &chosen.figures {
            Some(f) => {
                out.push(format!("chosen threshold {:.3}:", f.threshold));
                out.push(LINE_HEADER.into());
                out.push(line(f));
                out.extend(confusion_lines(f));
            }
            None => out.push("no threshold meets the bound".into()),
        }
    }
    out.push(String::new());
    out.push(format!("at threshold {:.3}:", r.threshold));
    out.push(LINE_HEADER.into());
    out.push(line(&r.at_threshold));
    out.extend(confusion_lines(&r.at_threshold));
    out.push(format!(
        "answerable_cited {:.3}  unanswerable_handoff {:.3}",
        r.answerable_cited, r.unanswerable_handoff
    ));
    if !r.checked_thresholds.is_empty() {
        let list: Vec<String> = r
            .checked_thresholds
            .iter()
            .map(|t| format!("{t:.3}"))
            .collect();
        out.push(format!(
            "checked through the real bot at {}: every outcome as predicted",
            list.join(", ")
        ));
    }
    for o in &r.observations {
        let outcome = match o.outcome_at(r.threshold) {
            Outcome::Answered { article } => format!("answered {article}"),
            Outcome::HandedOff => "handed off".into(),
            Outcome::Greeted => "greeted".into(),
        };
        let score = match &o.decision {
            super::run::Decision::Passage { article, score } => format!("{score:.3} {article}"),
            super::run::Decision::HandedOff { reason } => format!("- ({reason})"),
            super::run::Decision::Greeted => "-".into(),
        };
        out.push(format!(
            "{} {:<8} {:<28} best {:<30} {}",
            o.id,
            format!("{:?}", o.expect).to_lowercase(),
            outcome,
            score,
            o.text
        ));
    }
    out.join("\n")
}
