//! Where the time goes when a ~200 KB article is indexed with the real model (issue 16
//! item 15), and what a concurrent search waits meanwhile. Ignored: it needs the model
//! (`eval "$(scripts/setup-model.sh)"`) and takes a while. Run it in both profiles:
//!
//! ```text
//! cargo test -p helpdesk-kb-search --test timing -- --ignored --nocapture
//! cargo test -p helpdesk-kb-search --release --test timing -- --ignored --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use helpdesk_core::{EmbedKind, Embedder, KnowledgeBase, TenantId};
use helpdesk_kb_search::chunk::{ChunkOptions, chunk_article};
use helpdesk_kb_search::{FastembedEmbedder, KbIndex, KbIndexOptions};

/// A markdown article of about `bytes` bytes: sections of varied paragraphs.
fn big_body(bytes: usize) -> String {
    let words = [
        "invoice",
        "refund",
        "password",
        "sync",
        "offline",
        "device",
        "account",
        "billing",
        "export",
        "import",
        "calendar",
        "team",
        "permission",
        "upload",
        "photo",
        "report",
        "dashboard",
        "webhook",
        "token",
        "plan",
        "annual",
        "monthly",
        "support",
        "error",
    ];
    let mut out = String::new();
    let mut i = 0usize;
    let mut section = 0;
    while out.len() < bytes {
        section += 1;
        out.push_str(&format!("\n## Section {section}\n\n"));
        for _ in 0..4 {
            for _ in 0..60 {
                i = i.wrapping_mul(1_103_515_245).wrapping_add(12_345) % 2_147_483_648;
                out.push_str(words[i % words.len()]);
                out.push(if i.is_multiple_of(11) { '.' } else { ' ' });
            }
            out.push_str("\n\n");
        }
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the model; prints timings"]
async fn time_a_200_kb_article() {
    let embedder = FastembedEmbedder::from_env().expect("load the model in HELPDESK_MODEL_DIR");
    let tenant = TenantId::new();
    let body = big_body(199 * 1024);
    let article = common::article(tenant, "Big manual", &body);

    let t = Instant::now();
    let chunks = chunk_article(article.id, &article.body, ChunkOptions::default());
    let chunking = t.elapsed();
    let texts: Vec<String> = chunks
        .iter()
        .map(|c| c.embedding_text(&article.title))
        .collect();
    println!(
        "body {} bytes -> {} chunks; chunking {}",
        body.len(),
        chunks.len(),
        ms(chunking)
    );

    let t = Instant::now();
    let mut batches = Vec::new();
    for batch in texts.chunks(64) {
        let b = Instant::now();
        embedder.embed(batch, EmbedKind::Document).await.unwrap();
        batches.push(b.elapsed());
    }
    let embedding = t.elapsed();
    println!(
        "embedding {} ({} batches of <= 64, first {}, last {})",
        ms(embedding),
        batches.len(),
        ms(batches[0]),
        ms(*batches.last().unwrap())
    );

    // The whole upsert (chunk + embed + HNSW/BM25 insert + persist), with a second tenant
    // searching meanwhile the way a chat turn does.
    let dir = tempfile::tempdir().unwrap();
    let kb = KbIndex::open(
        dir.path(),
        Arc::new(embedder.clone()),
        KbIndexOptions::default(),
    )
    .unwrap();
    let other = TenantId::new();
    kb.rebuild(other, &common::help_centre(other))
        .await
        .unwrap();
    let upsert = {
        let kb = kb.clone();
        let article = article.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            kb.upsert_article(&article).await.unwrap();
            t.elapsed()
        })
    };
    let mut waits = Vec::new();
    while !upsert.is_finished() {
        let s = Instant::now();
        kb.search(other, "how do I get a refund", 3).await.unwrap();
        waits.push(s.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let upsert = upsert.await.unwrap();
    let stats = kb.stats(tenant).await.unwrap();
    waits.sort();
    println!(
        "upsert {} (so insert + persist ~ {}); {} chunks indexed",
        ms(upsert),
        ms(upsert.saturating_sub(chunking + embedding)),
        stats.chunks
    );
    if let (Some(first), Some(last)) = (waits.first(), waits.last()) {
        println!(
            "concurrent searches of another tenant: {} searches, min {}, median {}, max {}",
            waits.len(),
            ms(*first),
            ms(waits[waits.len() / 2]),
            ms(*last)
        );
    }

    // The index write alone: re-insert the same vectors into a fresh tenant's index via a
    // rebuild with a model already warm (embedding dominates; this separates persist).
    let t = Instant::now();
    kb.compact(tenant).await.unwrap();
    println!("compact + persist of that tenant {}", ms(t.elapsed()));
}
