//! Evaluations behind `helpdesk-eval` that need the engine itself (the learned-classifier
//! evaluation lives in the binary: it needs only kb-search).
//!
//! - [`chatbot`]: the chatbot's first-turn decisions (answer, hand off, greet) on a labelled
//!   set of customer questions against the demo knowledge base, over a sweep of grounding
//!   thresholds.

pub mod chatbot;
