//! The store's table prefix and its statements.
//!
//! Every statement and migration of this crate is written with the default prefix
//! (`helpdesk_tickets`, `helpdesk_users`, ...). A store with the default prefix runs that
//! text as is: no formatting, no lookup. A store with another prefix runs the text with
//! `helpdesk_` replaced by its prefix, rewritten once per statement and prefix and kept for
//! the life of the process, so a call costs one map lookup instead of a new string, and
//! sqlx's per-connection statement cache sees the same text every time.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use helpdesk_core::{Error, Result};

/// The prefix of the helpdesk's tables unless the host chooses another.
pub(crate) const DEFAULT_PREFIX: &str = "helpdesk_";

/// The longest prefix accepted (a table name stays readable and well under any limit).
const MAX_PREFIX_LEN: usize = 32;

/// Statements rewritten for a custom prefix, by prefix, then by the template's address
/// and length. A template is a `'static` string of this crate, so its address and length
/// name its text; the same text at two addresses is just two entries. The rewritten text
/// is leaked on purpose: there is one per (prefix, statement) pair, the statements are a
/// fixed set, and a process uses one prefix or a few, so the total is bounded (tens of
/// kilobytes per prefix) and a `&'static str` can be handed to sqlx without copying.
type Rewritten = HashMap<String, HashMap<(usize, usize), &'static str>>;

fn rewritten() -> &'static RwLock<Rewritten> {
    static CACHE: OnceLock<RwLock<Rewritten>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(HashMap::new()))
}

/// The table prefix of a store and the statements written for it. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    prefix: Arc<str>,
}

impl Default for Sql {
    fn default() -> Self {
        Self {
            prefix: Arc::from(DEFAULT_PREFIX),
        }
    }
}

impl Sql {
    /// The statements for `prefix`, after checking it is a valid prefix.
    pub(crate) fn new(prefix: &str) -> Result<Self> {
        validate_prefix(prefix)?;
        Ok(Self {
            prefix: Arc::from(prefix),
        })
    }

    /// The prefix.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    fn is_default(&self) -> bool {
        &*self.prefix == DEFAULT_PREFIX
    }

    /// The full name of one of the helpdesk's tables (`tickets` -> `helpdesk_tickets`).
    pub(crate) fn table(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// `template` (written with the default prefix) for this store's prefix.
    pub(crate) fn text(&self, template: &'static str) -> &'static str {
        if self.is_default() {
            return template;
        }
        let key = (template.as_ptr() as usize, template.len());
        let found = rewritten()
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&*self.prefix)
            .and_then(|by_template| by_template.get(&key).copied());
        if let Some(text) = found {
            return text;
        }
        let mut cache = rewritten().write().unwrap_or_else(PoisonError::into_inner);
        let by_template = cache.entry(self.prefix.to_string()).or_default();
        by_template
            .entry(key)
            .or_insert_with(|| Box::leak(self.rewrite(template).into_boxed_str()))
    }

    /// `template` for this store's prefix, rewritten on every call: for text that runs
    /// once (migrations) and is not worth keeping.
    pub(crate) fn rewrite(&self, template: &str) -> String {
        template.replace(DEFAULT_PREFIX, &self.prefix)
    }
}

/// A prefix is 1 to 32 characters of `a-z`, `0-9` and `_`, not starting with a digit (so
/// every table name is a plain SQL identifier) nor with `sqlite_` (SQLite's own names).
fn validate_prefix(prefix: &str) -> Result<()> {
    let problem = if prefix.is_empty() {
        Some("must not be empty".to_owned())
    } else if prefix.len() > MAX_PREFIX_LEN {
        Some(format!("longer than {MAX_PREFIX_LEN} characters"))
    } else if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!("{c:?} is not one of a-z, 0-9 and _"))
    } else if prefix.starts_with(|c: char| c.is_ascii_digit()) {
        Some("must not start with a digit".to_owned())
    } else if prefix.starts_with("sqlite_") {
        Some("names starting with sqlite_ are reserved by SQLite".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::Configuration {
            field: "table_prefix".into(),
            message: format!("{prefix:?}: {message}"),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_default_prefix_runs_the_template_itself() {
        let sql = Sql::default();
        let template = "SELECT id FROM helpdesk_tickets";
        assert!(std::ptr::eq(sql.text(template), template));
    }

    #[test]
    fn a_custom_prefix_is_rewritten_once_and_reused() {
        let sql = Sql::new("acme_").unwrap();
        let template = "SELECT t.id FROM helpdesk_tickets t JOIN helpdesk_users u";
        let first = sql.text(template);
        assert_eq!(first, "SELECT t.id FROM acme_tickets t JOIN acme_users u");
        assert!(std::ptr::eq(first, sql.text(template)), "the same text");
        assert!(std::ptr::eq(
            first,
            Sql::new("acme_").unwrap().text(template)
        ));
        assert_eq!(
            Sql::new("other").unwrap().text(template),
            "SELECT t.id FROM othertickets t JOIN otherusers u"
        );
    }

    #[test]
    fn invalid_prefixes_are_configuration_errors_naming_the_field() {
        for bad in [
            "",
            "Acme_",
            "acme-",
            "acme tickets",
            "1acme",
            "sqlite_x",
            "a\"b",
        ] {
            let err = Sql::new(bad).unwrap_err();
            let Error::Configuration { field, message } = &err else {
                panic!("{bad:?}: {err:?}");
            };
            assert_eq!(field, "table_prefix");
            assert!(message.contains(&format!("{bad:?}")), "{message}");
        }
        assert!(Sql::new(&"a".repeat(33)).is_err());
        for good in ["helpdesk_", "hd", "_hd_", "support2_", &"a".repeat(32)] {
            assert_eq!(Sql::new(good).unwrap().prefix(), good);
        }
    }
}
