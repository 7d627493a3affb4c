//! The customer chatbot (in progress).
