//! helpdesk-store-mongo (in progress).
