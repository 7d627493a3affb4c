//! The text filter (trigram full-text index + exact `instr` check) selects exactly what the
//! reference in-memory store selects, for ASCII, Unicode, wildcards and short needles, in
//! the listing and in the count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use helpdesk_core::domain::{Priority, Role};
use helpdesk_core::store::{MemoryStore, TicketQuery};
use helpdesk_core::testkit::fixtures::{at, new_ticket, tenant, user};
use helpdesk_core::{Store, TenantId};
use helpdesk_store_sqlite::SqliteStore;

const SUBJECTS: &[&str] = &[
    "Printer on FIRE",
    "printer offline",
    "100% broken",
    "snake_case_name",
    "a.b*c(d) [x]",
    "Résumé upload fails",
    "RÉSUMÉ TEMPLATE",
    "Straße gesperrt",
    "ΣΊΣΥΦΟΣ login",
    "İstanbul office VPN",
    "quote \"double\" and 'single'",
    "back\\slash path",
    "emoji 🔥 fire",
    "ab",
    "x",
    "   padded   ",
];

async fn subjects(store: &Arc<dyn Store>, tenant: TenantId, text: &str) -> Vec<String> {
    let q = TicketQuery {
        text: Some(text.to_string()),
        limit: 200,
        ..TicketQuery::default()
    };
    let mut v: Vec<String> = store
        .list_tickets(tenant, &q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.subject)
        .collect();
    v.sort();
    v
}

/// How many tickets `count_tickets` finds for the text (the listing's filter, counted).
async fn count(store: &Arc<dyn Store>, tenant: TenantId, text: &str) -> u64 {
    let q = TicketQuery {
        text: Some(text.to_string()),
        ..TicketQuery::default()
    };
    store.count_tickets(tenant, &q).await.unwrap()
}

#[tokio::test]
async fn text_filter_matches_the_reference_store() {
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::temporary().await.unwrap());
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let t = tenant("acme");
    let customer = user(&t, Role::Customer, "c@acme.test");
    for store in [&sqlite, &memory] {
        store.create_tenant(&t).await.unwrap();
        store.create_user(&customer).await.unwrap();
        for (i, s) in SUBJECTS.iter().enumerate() {
            let w = new_ticket(
                t.id,
                customer.id,
                i as u64 + 1,
                s,
                Priority::Low,
                at(i as i64),
            );
            store.create_ticket(w).await.unwrap();
        }
    }

    // Every substring (by characters) of every subject, as is, upper- and lower-cased,
    // plus needles that only a wildcard or a sloppy index would match.
    let mut needles: Vec<String> = vec![
        "%".into(),
        "_".into(),
        "*".into(),
        "\"".into(),
        "\"\"".into(),
        "' OR 1=1 --".into(),
        "NEAR(a b)".into(),
        "printer AND fire".into(),
        "p%r".into(),
        "s_ake".into(),
        "ss".into(),
        "STRASSE".into(),
        "σίσυφος".into(),
        "i̇stanbul".into(),
        "istanbul".into(),
        "resume".into(),
        "".into(),
        "   ".into(),
    ];
    let mut rng = common::Rng::from_env();
    for s in SUBJECTS {
        let chars: Vec<char> = s.chars().collect();
        for _ in 0..12 {
            let start = rng.below(chars.len() as u64) as usize;
            let len = 1 + rng.below(6) as usize;
            let piece: String = chars[start..(start + len).min(chars.len())]
                .iter()
                .collect();
            needles.push(piece.to_uppercase());
            needles.push(piece.to_lowercase());
            needles.push(piece);
        }
    }
    let mut checked = 0;
    for n in &needles {
        let want = subjects(&memory, t.id, n).await;
        let got = subjects(&sqlite, t.id, n).await;
        assert_eq!(got, want, "needle {n:?}");
        let counted = count(&sqlite, t.id, n).await;
        assert_eq!(counted, want.len() as u64, "count, needle {n:?}");
        checked += 1;
    }
    println!("{checked} needles agree");
}
