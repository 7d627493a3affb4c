//! Chunking of markdown articles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use helpdesk_core::ArticleId;
use helpdesk_kb_search::chunk::{ChunkOptions, chunk_article};

const BODY: &str = "Intro paragraph before any heading.\n\n# Billing\n\nFirst billing paragraph.\n\nSecond billing paragraph.\n\n## Refunds\n\nRefunds take five days.\n\n```\n# not a heading inside code\n```\n\n# Account\n\nAccount text.";

#[test]
fn splits_by_headings_with_heading_paths() {
    let chunks = chunk_article(ArticleId::new(), BODY, ChunkOptions::default());
    let headings: Vec<Option<&str>> = chunks.iter().map(|c| c.heading.as_deref()).collect();
    assert_eq!(
        headings,
        [
            None,
            Some("Billing"),
            Some("Billing > Refunds"),
            Some("Account")
        ]
    );
    assert!(chunks[1].text.contains("First billing") && chunks[1].text.contains("Second billing"));
    assert!(chunks[2].text.contains("# not a heading inside code"));
    assert_eq!(
        chunks.iter().map(|c| c.ordinal).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(
        chunks[2].embedding_text("Help"),
        format!("Help\nBilling > Refunds\n{}", chunks[2].text)
    );
}

#[test]
fn ids_are_stable_and_change_with_content() {
    let id = ArticleId::new();
    let a = chunk_article(id, BODY, ChunkOptions::default());
    let b = chunk_article(id, BODY, ChunkOptions::default());
    assert_eq!(a, b);
    let edited = BODY.replace("five days", "ten days");
    let c = chunk_article(id, &edited, ChunkOptions::default());
    assert_eq!(a[1].id, c[1].id);
    assert_ne!(a[2].id, c[2].id);
    assert!(a.iter().all(|ch| ch.id.starts_with(&id.to_string())));
}

#[test]
fn long_sections_are_packed_with_overlap() {
    let para =
        |i: usize| format!("Paragraph {i} says something useful about topic {i} in a few words.");
    let body: String = (0..40).map(para).collect::<Vec<_>>().join("\n\n");
    let options = ChunkOptions {
        max_chars: 300,
        overlap_chars: 60,
    };
    let chunks = chunk_article(ArticleId::new(), &body, options);
    assert!(chunks.len() > 5);
    for pair in chunks.windows(2) {
        let (prev, next) = (&pair[0].text, &pair[1].text);
        // The next chunk starts with words from the end of the previous one.
        let first_word = next.split_whitespace().next().unwrap();
        assert!(
            prev[prev.len().saturating_sub(80)..].contains(first_word),
            "{prev:?} / {next:?}"
        );
    }
    for c in &chunks {
        assert!(
            c.text.len() <= options.max_chars + options.overlap_chars + 2,
            "{}",
            c.text.len()
        );
    }
    // Every paragraph is somewhere.
    for i in 0..40 {
        assert!(
            chunks.iter().any(|c| c.text.contains(&para(i))),
            "paragraph {i} lost"
        );
    }
}

#[test]
fn one_huge_paragraph_is_split_at_char_boundaries() {
    let body = "é".repeat(2000) + " " + &"word ".repeat(500);
    let chunks = chunk_article(
        ArticleId::new(),
        &body,
        ChunkOptions {
            max_chars: 200,
            overlap_chars: 0,
        },
    );
    assert!(chunks.len() >= 10);
    assert!(
        chunks
            .iter()
            .all(|c| c.text.len() <= 200 && !c.text.is_empty())
    );
}

#[test]
fn empty_bodies_give_no_chunks() {
    assert!(chunk_article(ArticleId::new(), "", ChunkOptions::default()).is_empty());
    assert!(
        chunk_article(
            ArticleId::new(),
            "\n\n# Heading only\n\n",
            ChunkOptions::default()
        )
        .is_empty()
    );
}
