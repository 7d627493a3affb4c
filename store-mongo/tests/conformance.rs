//! The core storage conformance suite, run on `MongoStore` (one database per case).

mod common;

use common::fresh_store;

helpdesk_core::store_conformance_tests!(
    #[cfg_attr(
        not(mongodb_uri_set),
        ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
    )]
    setup = fresh_store
);
