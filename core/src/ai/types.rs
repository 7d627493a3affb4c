//! Values returned by the copilot and chatbot use-cases.

use serde::{Deserialize, Serialize};

use crate::domain::{ChatSession, Message, Ticket};

/// What an agent does with an AI draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "body", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DraftDecision {
    /// Send the draft as is (state Accepted).
    Send,
    /// Send this edited text instead (state Edited; Accepted if the text is unchanged).
    SendEdited(String),
    /// Throw the draft away (state Discarded).
    Discard,
}

/// The result of [`Helpdesk::decide_draft`](crate::Helpdesk::decide_draft).
#[derive(Debug, Clone, PartialEq)]
pub struct DraftOutcome {
    /// The draft with its decision recorded.
    pub draft: Message,
    /// The public reply it became, when sent.
    pub reply: Option<Message>,
    /// The ticket after the decision.
    pub ticket: Ticket,
}

/// Where a summary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SummarySource {
    /// Written by the language model.
    Llm,
    /// Sentences picked from the thread without a model (no model, autonomy off, or the
    /// model failed).
    Extractive,
}

/// A short summary of a ticket for agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketSummary {
    /// The summary (an extractive one starts with a visible label).
    pub summary: String,
    /// Questions the customer asked that are still open.
    pub open_questions: Vec<String>,
    /// Where it came from.
    pub source: SummarySource,
}

/// How the bot (or the helpdesk) answered one customer chat turn.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChatReply {
    /// The bot answered from the knowledge base (the message carries its citations).
    Answered(Message),
    /// The customer only greeted ("hello"): the bot greeted back and asked for the
    /// question, without a knowledge-base search and without handing off.
    Greeted(Message),
    /// The conversation was handed to a human; the message tells the customer so.
    HandedOff {
        /// Why.
        reason: String,
        /// The notice shown to the customer.
        notice: Message,
    },
    /// A human is handling the session; the bot stayed silent.
    WaitingForAgent,
}

/// The result of one customer chat turn.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTurnOutcome {
    /// The session after the turn.
    pub session: ChatSession,
    /// The customer's stored turn.
    pub customer_message: Message,
    /// What happened next.
    pub reply: ChatReply,
}

/// What a chat inactivity sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatSweepReport {
    /// Sessions closed.
    pub closed: u64,
    /// Tickets resolved because their idle session was closed.
    pub resolved: u64,
    /// False when another process held the lease and nothing was done.
    pub ran: bool,
}
