//! Suggested replies, summaries and related articles (in progress).
