//! Evaluations behind `helpdesk-eval` that need the engine itself (the learned-classifier
//! evaluation lives in the binary: it needs only kb-search).
//!
//! - [`chatbot`]: the chatbot's first-turn decisions (answer, hand off, greet) on a labelled
//!   set of customer questions against the demo knowledge base, over a sweep of grounding
//!   thresholds.
//! - [`banking77`]: the chatbot on BANKING77's customer queries against a bank's help
//!   centre written for it, with 20 intents' articles held out (issue 21).
//! - [`fitz_gov`]: the offline grounding guard's answer-or-hand-off decision on fitz-gov's
//!   questions with passages.
//! - [`embed_cache`]: an embedder that embeds each text once.

pub mod banking77;
pub mod chatbot;
pub mod embed_cache;
pub mod fitz_gov;
