//! Query-plan checks live in `tests/plans.rs` (they need a server).
