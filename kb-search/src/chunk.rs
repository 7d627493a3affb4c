//! Splitting markdown articles into search chunks: by headings, then paragraphs, packed up
//! to a size limit, with an overlap between neighbouring chunks of the same section.

use sha2::{Digest, Sha256};

use helpdesk_core::ArticleId;

/// Chunk sizes, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// Longest chunk body (paragraphs are packed up to this; a longer paragraph is split).
    pub max_chars: usize,
    /// Characters of the previous chunk repeated at the start of the next one in a section.
    pub overlap_chars: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_chars: 800,
            overlap_chars: 120,
        }
    }
}

/// One piece of an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// `"{article_id}#{ordinal}-{hash}"`: the same for the same article content, so ids are
    /// stable across re-indexing of an unchanged article.
    pub id: String,
    /// Position in the article, from 0.
    pub ordinal: usize,
    /// The heading path the chunk sits under (`"Billing > Refunds"`), if any.
    pub heading: Option<String>,
    /// The chunk text (without title or heading).
    pub text: String,
}

impl Chunk {
    /// What gets embedded: title, heading and text, so a chunk carries its context.
    pub fn embedding_text(&self, title: &str) -> String {
        match &self.heading {
            Some(h) => format!("{title}\n{h}\n{}", self.text),
            None => format!("{title}\n{}", self.text),
        }
    }
}

struct Section {
    heading: Option<String>,
    paragraphs: Vec<String>,
}

fn sections(body: &str) -> Vec<Section> {
    let mut out = vec![Section {
        heading: None,
        paragraphs: Vec::new(),
    }];
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut para = String::new();
    let flush = |para: &mut String, out: &mut Vec<Section>| {
        let p = para.trim();
        if let Some(s) = out.last_mut().filter(|_| !p.is_empty()) {
            s.paragraphs.push(p.to_string());
        }
        para.clear();
    };
    let mut in_code = false;
    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_code = !in_code;
        }
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        let is_heading = !in_code
            && (1..=6).contains(&level)
            && trimmed[level..].starts_with(' ')
            && !trimmed[level..].trim().is_empty();
        if is_heading {
            flush(&mut para, &mut out);
            path.retain(|(l, _)| *l < level);
            path.push((
                level,
                trimmed[level..]
                    .trim()
                    .trim_end_matches('#')
                    .trim()
                    .to_string(),
            ));
            out.push(Section {
                heading: Some(
                    path.iter()
                        .map(|(_, h)| h.as_str())
                        .collect::<Vec<_>>()
                        .join(" > "),
                ),
                paragraphs: Vec::new(),
            });
        } else if line.trim().is_empty() && !in_code {
            flush(&mut para, &mut out);
        } else {
            if !para.is_empty() {
                para.push('\n');
            }
            para.push_str(line.trim_end());
        }
    }
    flush(&mut para, &mut out);
    out.retain(|s| !s.paragraphs.is_empty());
    out
}

/// Byte index of the largest char boundary <= `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Splits a long text into pieces of at most `max` bytes, cutting at whitespace when it can.
fn split_long(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while rest.len() > max {
        let cut = floor_boundary(rest, max);
        let at = rest[..cut]
            .rfind(char::is_whitespace)
            .filter(|&i| i > max / 2)
            .unwrap_or(cut);
        let at = if at == 0 {
            rest.ceil_char_boundary(1)
        } else {
            at
        };
        out.push(rest[..at].trim().to_string());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// The last `n` bytes of `text`, starting at a word boundary.
fn tail(text: &str, n: usize) -> &str {
    if text.len() <= n {
        return text;
    }
    let start = text.ceil_char_boundary(text.len() - n);
    let t = &text[start..];
    match t.find(char::is_whitespace) {
        Some(i) if i + 1 < t.len() => t[i..].trim_start(),
        _ => t,
    }
}

/// Splits an article body into chunks.
pub fn chunk_article(article: ArticleId, body: &str, options: ChunkOptions) -> Vec<Chunk> {
    let max = options.max_chars.max(64);
    let overlap = options.overlap_chars.min(max / 2);
    let mut chunks = Vec::new();
    for section in sections(body) {
        let mut pieces: Vec<String> = Vec::new();
        let mut current = String::new();
        for para in section.paragraphs {
            for part in split_long(&para, max) {
                if !current.is_empty() && current.len() + 2 + part.len() > max {
                    pieces.push(std::mem::take(&mut current));
                }
                if !current.is_empty() {
                    current.push_str("\n\n");
                }
                current.push_str(&part);
            }
        }
        if !current.is_empty() {
            pieces.push(current);
        }
        let mut previous: Option<String> = None;
        for piece in pieces {
            let text = match previous.as_deref() {
                Some(prev) if overlap > 0 => format!("{} {piece}", tail(prev, overlap)),
                _ => piece.clone(),
            };
            previous = Some(piece);
            let ordinal = chunks.len();
            let mut hasher = Sha256::new();
            hasher.update(section.heading.as_deref().unwrap_or_default().as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            let digest = hasher.finalize();
            let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
            chunks.push(Chunk {
                id: format!("{article}#{ordinal}-{hash}"),
                ordinal,
                heading: section.heading.clone(),
                text,
            });
        }
    }
    chunks
}
