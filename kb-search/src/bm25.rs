//! BM25 over chunks, kept up to date on insert and remove.

use std::collections::HashMap;

const K1: f32 = 1.2;
const B: f32 = 0.75;

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "for", "from", "how", "i", "if", "in",
    "is", "it", "me", "my", "of", "on", "or", "so", "that", "the", "this", "to", "was", "what",
    "when", "with", "you", "your", "can", "we", "our", "not", "has", "have", "where", "why",
    "will", "am", "there", "which", "who", "yet", "get", "its", "been", "does", "did",
];

/// Lowercased alphanumeric terms, stop words dropped.
pub(crate) fn terms(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(String::from)
        .collect()
}

/// A BM25 index over documents identified by a `u64` slot.
#[derive(Debug, Default)]
pub(crate) struct Bm25 {
    postings: HashMap<String, HashMap<u64, u32>>,
    /// Each document's terms (for its length, and to remove it).
    documents: HashMap<u64, Vec<String>>,
    total_length: u64,
}

impl Bm25 {
    /// Adds (or replaces) a document.
    pub(crate) fn insert(&mut self, slot: u64, text: &str) {
        self.remove(slot);
        let terms = terms(text);
        self.total_length += terms.len() as u64;
        for t in &terms {
            *self
                .postings
                .entry(t.clone())
                .or_default()
                .entry(slot)
                .or_default() += 1;
        }
        self.documents.insert(slot, terms);
    }

    /// Removes a document.
    pub(crate) fn remove(&mut self, slot: u64) {
        let Some(terms) = self.documents.remove(&slot) else {
            return;
        };
        self.total_length -= terms.len() as u64;
        for t in terms {
            if let Some(p) = self.postings.get_mut(&t) {
                p.remove(&slot);
                if p.is_empty() {
                    self.postings.remove(&t);
                }
            }
        }
    }

    /// Number of documents.
    pub(crate) fn len(&self) -> usize {
        self.documents.len()
    }

    /// Documents sharing a term with `query`, best BM25 first, at most `limit`, each with
    /// its BM25 score and its coverage: the share of the query's IDF mass it matches (terms
    /// unseen in the index count with the highest IDF), so one common word matched out of a
    /// long query counts for little.
    pub(crate) fn search(&self, query: &str, limit: usize) -> Vec<(u64, f32, f32)> {
        let n = self.len() as f32;
        if n == 0.0 {
            return Vec::new();
        }
        let avg = self.total_length as f32 / n;
        let mut q = terms(query);
        q.sort_unstable();
        q.dedup();
        let idf_of = |df: f32| ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
        let mut scores: HashMap<u64, (f32, f32)> = HashMap::new();
        let mut idf_total = 0.0;
        for t in &q {
            let Some(p) = self.postings.get(t) else {
                idf_total += idf_of(0.0);
                continue;
            };
            let df = p.len() as f32;
            let idf = idf_of(df);
            idf_total += idf;
            for (&slot, &tf) in p {
                let len = self.documents.get(&slot).map_or(0, Vec::len) as f32;
                let tf = tf as f32;
                let s = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg.max(1e-6)));
                let e = scores.entry(slot).or_default();
                e.0 += s;
                e.1 += idf;
            }
        }
        let mut out: Vec<(u64, f32, f32)> = scores
            .into_iter()
            .map(|(slot, (s, matched))| {
                (
                    slot,
                    s,
                    if idf_total > 0.0 {
                        matched / idf_total
                    } else {
                        0.0
                    },
                )
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ranks_rare_terms_and_forgets_removed_documents() {
        let mut bm = Bm25::default();
        bm.insert(1, "refund to the card");
        bm.insert(2, "card delivery card tracking");
        bm.insert(3, "password reset link");
        let hits = bm.search("refund card", 10);
        assert_eq!(hits[0].0, 1);
        assert_eq!(hits.len(), 2);
        assert!(bm.search("the and of", 10).is_empty());
        bm.remove(1);
        assert_eq!(bm.len(), 2);
        assert!(bm.search("refund", 10).is_empty());
        bm.insert(2, "password");
        assert!(bm.search("tracking", 10).is_empty());
        let partial = bm.search("password zebra", 1);
        assert!(partial[0].2 > 0.0 && partial[0].2 < 0.5, "{partial:?}");
        assert!((bm.search("password", 1)[0].2 - 1.0).abs() < 1e-6);
        assert_eq!(bm.search("password", 1).len(), 1);
    }
}
