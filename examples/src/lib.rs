//! Example binaries (in progress).
