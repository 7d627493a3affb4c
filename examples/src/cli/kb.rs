//! `import-kb` and `reindex`: markdown articles into the store and the search index.

use std::path::{Path, PathBuf};

use helpdesk_core::service::{ArticleInput, MAX_IMPORT_BYTES};
use indicatif::{ProgressBar, ProgressStyle};

use super::context::Context;
use super::error::{CliError, CliResult};
use crate::web::seed::parse_markdown_article;

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

/// Imports every `*.md` file of `dir` into the tenant `slug` as its first active admin
/// (each change is audited as theirs): an article with the same title is updated, others
/// are created; the helpdesk (re)indexes each. Fails naming the first invalid file before
/// anything is written.
pub(super) async fn import_kb(ctx: &Context, slug: &str, dir: &Path) -> CliResult<ImportReport> {
    let admin = ctx.admin(slug).await?;
    // Refuse up front, as before, when there is no index to import into.
    ctx.knowledge_base()?;
    let files = markdown_files(dir)?;
    let parsed = parse_all(&files)?;
    let total: usize = parsed.iter().map(|f| f.title.len() + f.body.len()).sum();
    if total > MAX_IMPORT_BYTES {
        return Err(helpdesk_core::Error::validation(
            dir.display().to_string(),
            format!(
                "{total} bytes of articles, at most {MAX_IMPORT_BYTES} bytes (1 MiB) per import"
            ),
        )
        .into());
    }
    let existing = ctx.helpdesk.list_articles(&admin).await?;
    let progress = bar(parsed.len(), "articles");
    let mut report = ImportReport::default();
    for file in parsed {
        let input = ArticleInput {
            title: file.title,
            body: file.body,
            tags: file.tags,
        };
        match existing.iter().find(|a| a.title == input.title) {
            Some(old) => {
                ctx.helpdesk
                    .update_article(&admin, old.id, old.version, input)
                    .await?;
                report.updated += 1;
            }
            None => {
                ctx.helpdesk.create_article(&admin, input).await?;
                report.created += 1;
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    // The helpdesk indexes in the background; the process must not exit before it is done.
    ctx.helpdesk.index_settled().await;
    Ok(report)
}

/// Re-embeds every stored article of the tenant `slug` and stores the chunks (every
/// instance's index follows the store); returns how many.
pub(super) async fn reindex(ctx: &Context, slug: &str) -> CliResult<usize> {
    let admin = ctx.admin(slug).await?;
    ctx.knowledge_base()?;
    let total = ctx.helpdesk.list_articles(&admin).await?.len();
    let progress = bar(total, "articles");
    let report = ctx
        .helpdesk
        .reindex_articles(&admin, |done, _| progress.set_position(done as u64))
        .await?;
    progress.finish_and_clear();
    Ok(report.articles)
}
