//! helpdesk-store-sqlite (in progress).
