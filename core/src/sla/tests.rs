//! Unit tests of the SLA business-time arithmetic.
