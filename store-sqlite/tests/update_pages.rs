//! A ticket update writes only the columns that changed, so a small change stays a small
//! write: SQLite rewrites every index whose columns are in an `UPDATE`'s `SET` list and
//! the full-text triggers fire on any `SET` of the subject (or description, or the
//! Details text of search), whatever the values.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use helpdesk_core::domain::{EventKind, Priority, Role};
use helpdesk_core::store::{TenantStore, TicketStore, UserStore};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_store_sqlite::SqliteStore;

/// Write-ahead log frames (pages) appended since the last call: a checkpoint reports the
/// log's size and copies all of it back (no reader is open), so the next write starts the
/// log over from its beginning.
async fn frames_in_log(store: &SqliteStore) -> i64 {
    let (_, log, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(store.pool())
        .await
        .unwrap();
    log
}

#[tokio::test]
async fn a_small_change_writes_few_pages_and_everything_reads_back() {
    let store = SqliteStore::temporary().await.unwrap();
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    // Enough tickets that the indexes span several pages.
    let mut tickets = Vec::new();
    for n in 1..=400 {
        let w = new_ticket(
            t.id,
            customer.id,
            n,
            &format!("Invoice question number {n}"),
            Priority::Medium,
            at(i64::try_from(n).unwrap()),
        );
        let w = store.create_ticket(w).await.unwrap();
        tickets.push(w.ticket);
    }
    let target = tickets[200].clone();

    frames_in_log(&store).await;
    let small = change(
        &target,
        vec![EventKind::CategoryChanged {
            to: Some("billing".into()),
        }],
        at(1_000),
        None,
    );
    store.update_ticket(1, &small).await.unwrap();
    let small_pages = frames_in_log(&store).await;

    let tagged = change(
        &small.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["vip".into()],
        }],
        at(1_000),
        None,
    );
    store.update_ticket(2, &tagged).await.unwrap();
    let tagged_pages = frames_in_log(&store).await;

    let mut big = change(
        &tagged.ticket,
        vec![EventKind::PriorityChanged {
            from: Priority::Medium,
            to: Priority::Urgent,
        }],
        at(1_001),
        None,
    );
    big.ticket.subject = "Renamed: invoice question".into();
    store.update_ticket(3, &big).await.unwrap();
    let big_pages = frames_in_log(&store).await;

    // The ticket row plus the event's table and index pages (6 or 7 here, depending on
    // where the rows fall on pages: a new column moved them); setting every column wrote
    // about 20 (every ticket index and the full-text entry).
    assert!(
        small_pages <= 8,
        "a category change wrote {small_pages} pages of log"
    );
    // New tags change the Details text of search, so its word index is written too: a new
    // segment, the index's structure record and a share of its incremental merging (3 pages
    // after most writes, up to about 8 when a merge step runs), and still no ticket index.
    assert!(
        tagged_pages <= small_pages + 8,
        "a tags change wrote {tagged_pages} pages of log (category only {small_pages})"
    );
    assert!(
        big_pages > small_pages,
        "a priority and subject change rewrites indexes and the text entry \
         ({big_pages} pages, tags only {small_pages})"
    );
    assert_eq!(
        store.get_ticket(t.id, target.id).await.unwrap(),
        Some(big.ticket.clone())
    );
    let found = store
        .list_tickets(
            t.id,
            &helpdesk_core::store::TicketQuery {
                text: Some("renamed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![target.id],
        "the subject change reached the full-text index"
    );
}
