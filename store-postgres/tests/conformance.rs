//! The core storage conformance suite on PostgreSQL, each case on a brand-new database.

mod common;

use common::fresh_store;

helpdesk_core::store_conformance_tests!(
    #[cfg_attr(
        not(postgres_url_set),
        ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
    )]
    setup = fresh_store
);
