//! An exact-search in-memory knowledge base for tests (in progress).
