//! AI use-cases: LLM triage, prompts, drafts and the grounded chatbot (in progress).
