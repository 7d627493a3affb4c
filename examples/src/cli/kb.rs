//! `import-kb` and `reindex`: markdown articles into the store and the search index.

use std::path::{Path, PathBuf};

use helpdesk_core::domain::Article;
use indicatif::{ProgressBar, ProgressStyle};

use super::context::Context;
use super::error::{CliError, CliResult};
use crate::web::seed::{new_article, parse_markdown_article};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Articles created.
    pub created: usize,
    /// Existing articles (same title) updated.
    pub updated: usize,
}

/// One parsed markdown file.
struct ParsedFile {
    title: String,
    tags: Vec<String>,
    body: String,
}

/// The `*.md` files of `dir`, sorted by name.
fn markdown_files(dir: &Path) -> CliResult<Vec<PathBuf>> {
    let read = |source| CliError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(CliError::NoArticles(dir.to_path_buf()));
    }
    Ok(files)
}

/// Reads and validates every file first, so an invalid file imports nothing.
fn parse_all(files: &[PathBuf]) -> CliResult<Vec<ParsedFile>> {
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
                path: path.clone(),
                source,
            })?;
            let (title, tags, body) =
                parse_markdown_article(&text).map_err(|source| CliError::Article {
                    path: path.clone(),
                    source,
                })?;
            Ok(ParsedFile { title, tags, body })
        })
        .collect()
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "[{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {what} ({{eta}})"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Imports every `*.md` file of `dir` into the tenant `slug`: an article with the same
/// title is updated, others are created; each is (re)indexed. Fails naming the first
/// invalid file before anything is written.
pub(super) async fn import_kb(ctx: &Context, slug: &str, dir: &Path) -> CliResult<ImportReport> {
    let tenant = ctx.tenant(slug).await?;
    let kb = ctx.knowledge_base()?;
    let files = markdown_files(dir)?;
    let parsed = parse_all(&files)?;
    let store = ctx.helpdesk.store();
    let existing = store.list_articles(tenant.id).await?;
    let progress = bar(parsed.len(), "articles");
    let mut report = ImportReport::default();
    for file in parsed {
        let article = match existing.iter().find(|a| a.title == file.title) {
            Some(old) => {
                let mut article = old.clone();
                article.tags = file.tags;
                article.body = file.body;
                article.version = old.version + 1;
                article.updated_at = ctx.helpdesk.now();
                store.update_article(old.version, &article).await?;
                report.updated += 1;
                article
            }
            None => {
                let article =
                    new_article(&ctx.helpdesk, tenant.id, file.title, file.tags, file.body);
                store.create_article(&article).await?;
                report.created += 1;
                article
            }
        };
        kb.upsert_article(&article).await?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(report)
}

/// Re-embeds every stored article of the tenant `slug`; returns how many.
pub(super) async fn reindex(ctx: &Context, slug: &str) -> CliResult<usize> {
    let tenant = ctx.tenant(slug).await?;
    let kb = ctx.knowledge_base()?;
    let articles: Vec<Article> = ctx.helpdesk.store().list_articles(tenant.id).await?;
    let progress = bar(articles.len(), "articles");
    for article in &articles {
        kb.upsert_article(article).await?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(articles.len())
}
