//! The store's schema and its statements.
//!
//! Every statement and migration of this crate names its tables in the default schema
//! (`helpdesk.tickets`, `helpdesk.users`, ...). A store in the default schema runs that text
//! as is. A store in another schema runs it with `helpdesk.` replaced by its own (quoted)
//! schema name, rewritten once per statement and schema and kept for the life of the
//! process, so a call costs one map lookup instead of a new string, and sqlx's
//! per-connection statement cache sees the same text every time. Tables are always named
//! with their schema, so the store never depends on the connection's `search_path` and
//! shares the host's pool without changing it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use helpdesk_core::{Error, Result};

/// The schema of the helpdesk's tables unless the host chooses another.
pub(crate) const DEFAULT_SCHEMA: &str = "helpdesk";

/// How the templates name the default schema.
const TEMPLATE_QUALIFIER: &str = "helpdesk.";

/// The longest schema name accepted (PostgreSQL truncates identifiers at 63 bytes).
const MAX_SCHEMA_LEN: usize = 63;

/// Statements rewritten for a custom schema, by schema, then by the template's address and
/// length (a template is a `'static` string of this crate, so its address and length name
/// its text). The rewritten text is leaked on purpose: one per (schema, statement) pair,
/// the statements are a fixed set and a process uses one schema or a few, so the total is
/// bounded and a `&'static str` can be handed to sqlx without copying.
type Rewritten = HashMap<String, HashMap<(usize, usize), &'static str>>;

fn rewritten() -> &'static RwLock<Rewritten> {
    static CACHE: OnceLock<RwLock<Rewritten>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(HashMap::new()))
}

/// The schema of a store and the statements written for it. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    schema: Arc<str>,
}

impl Default for Sql {
    fn default() -> Self {
        Self {
            schema: Arc::from(DEFAULT_SCHEMA),
        }
    }
}

impl Sql {
    /// The statements for `schema`, after checking it is a valid schema name.
    pub(crate) fn new(schema: &str) -> Result<Self> {
        validate_schema(schema)?;
        Ok(Self {
            schema: Arc::from(schema),
        })
    }

    /// The schema name.
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    fn is_default(&self) -> bool {
        &*self.schema == DEFAULT_SCHEMA
    }

    /// The schema as a quoted identifier (`"helpdesk"`).
    pub(crate) fn quoted_schema(&self) -> String {
        format!("\"{}\"", self.schema)
    }

    /// The qualified name of one of the helpdesk's tables (`tickets` -> `"helpdesk".tickets`).
    pub(crate) fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.quoted_schema())
    }

    /// `template` (written with the default schema) for this store's schema.
    pub(crate) fn text(&self, template: &'static str) -> &'static str {
        if self.is_default() {
            return template;
        }
        let key = (template.as_ptr() as usize, template.len());
        let found = rewritten()
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&*self.schema)
            .and_then(|by_template| by_template.get(&key).copied());
        if let Some(text) = found {
            return text;
        }
        let mut cache = rewritten().write().unwrap_or_else(PoisonError::into_inner);
        let by_template = cache.entry(self.schema.to_string()).or_default();
        by_template
            .entry(key)
            .or_insert_with(|| Box::leak(self.rewrite(template).into_boxed_str()))
    }

    /// `template` for this store's schema, rewritten on every call: for text that runs once
    /// (migrations) and is not worth keeping.
    pub(crate) fn rewrite(&self, template: &str) -> String {
        if self.is_default() {
            return template.to_owned();
        }
        template.replace(TEMPLATE_QUALIFIER, &format!("{}.", self.quoted_schema()))
    }
}

/// A schema name is 1 to 63 characters of `a-z`, `0-9` and `_`, not starting with a digit
/// nor with `pg_` (PostgreSQL's own schemas), and not `public` or `information_schema`:
/// the helpdesk's tables go into a schema of their own, never among the host's.
fn validate_schema(schema: &str) -> Result<()> {
    let problem = if schema.is_empty() {
        Some("must not be empty".to_owned())
    } else if schema.len() > MAX_SCHEMA_LEN {
        Some(format!("longer than {MAX_SCHEMA_LEN} characters"))
    } else if let Some(c) = schema
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!("{c:?} is not one of a-z, 0-9 and _"))
    } else if schema.starts_with(|c: char| c.is_ascii_digit()) {
        Some("must not start with a digit".to_owned())
    } else if schema.starts_with("pg_") {
        Some("names starting with pg_ are reserved by PostgreSQL".to_owned())
    } else if schema == "public" || schema == "information_schema" {
        Some("the helpdesk needs a schema of its own, not a shared one".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::Configuration {
            field: "schema".into(),
            message: format!("{schema:?}: {message}"),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_default_schema_runs_the_template_itself() {
        let sql = Sql::default();
        let template = "SELECT id FROM helpdesk.tickets";
        assert!(std::ptr::eq(sql.text(template), template));
        assert_eq!(sql.table("tickets"), "\"helpdesk\".tickets");
    }

    #[test]
    fn a_custom_schema_is_rewritten_once_and_reused() {
        let sql = Sql::new("support").unwrap();
        let template = "SELECT t.id FROM helpdesk.tickets t JOIN helpdesk.users u";
        let first = sql.text(template);
        assert_eq!(
            first,
            "SELECT t.id FROM \"support\".tickets t JOIN \"support\".users u"
        );
        assert!(std::ptr::eq(first, sql.text(template)), "the same text");
        assert!(std::ptr::eq(
            first,
            Sql::new("support").unwrap().text(template)
        ));
    }

    #[test]
    fn invalid_schemas_are_configuration_errors_naming_the_field() {
        for bad in [
            "", "Support", "a-b", "a b", "1hd", "pg_hd", "public", "a\"b", "a.b",
        ] {
            let err = Sql::new(bad).unwrap_err();
            let Error::Configuration { field, message } = &err else {
                panic!("{bad:?}: {err:?}");
            };
            assert_eq!(field, "schema");
            assert!(message.contains(&format!("{bad:?}")), "{message}");
        }
        assert!(Sql::new(&"a".repeat(64)).is_err());
        for good in ["helpdesk", "hd", "_hd_", "support2", &"a".repeat(63)] {
            assert_eq!(Sql::new(good).unwrap().schema(), good);
        }
    }
}
