//! Helpers shared by this crate's integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

/// An error and all its sources, joined with ": ".
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A small deterministic pseudo-random sequence (xorshift64*), seeded from the clock
/// unless `HELPDESK_TEST_SEED` is set; the seed is printed so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn from_env() -> Self {
        let seed = std::env::var("HELPDESK_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        println!("HELPDESK_TEST_SEED={seed}");
        Self(seed | 1)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// The subjects and sources of a search's hits.
pub async fn search(
    store: &helpdesk_store_sqlite::SqliteStore,
    tenant: helpdesk_core::TenantId,
    terms: &[&str],
    staff: bool,
) -> Vec<(String, helpdesk_core::store::SearchSource)> {
    use helpdesk_core::store::{SearchQuery, SearchStore};

    let query = SearchQuery {
        terms: terms.iter().map(|t| (*t).to_owned()).collect(),
        staff,
        ..SearchQuery::default()
    };
    let page = store.search_tickets(tenant, &query).await.unwrap();
    page.items
        .into_iter()
        .map(|h| (h.ticket.subject, h.source))
        .collect()
}
