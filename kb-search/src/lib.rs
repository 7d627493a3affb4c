//! helpdesk-kb-search (in progress).
