//! Issue 22, proved with real processes on MongoDB: three `helpdesk-web` processes on one
//! database of the `MONGODB_URI` server (SecantusDB in `make test`), driven together; one
//! is killed with SIGKILL mid-delivery and restarted (`instances_support::scenario` says
//! what is checked). Without `MONGODB_URI` (or the Python venv of the SMTP sink) when the
//! test was built, it is listed as ignored with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod instances_support;

use instances_support::Backend;

#[cfg_attr(
    not(all(mongodb_uri_set, helpdesk_venv)),
    ignore = "NOT RUN: needs MONGODB_URI (scripts/start-mongo.sh) and the venv (scripts/python-env.sh) at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_one_mongodb_database() {
    instances_support::scenario::three_processes(Backend::Mongo).await;
}
