//! helpdesk-llm-gemini (in progress).
