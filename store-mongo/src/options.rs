//! Options of a store: where in the host's database its collections live.

use helpdesk_core::{Error, Result};

/// The collection prefix a store uses unless told otherwise.
pub const DEFAULT_COLLECTION_PREFIX: &str = "helpdesk_";

/// The longest prefix accepted: a database name (at most 63 bytes), the dot, the prefix and
/// the longest collection name (13 bytes) stay within the 120-byte namespace limit of older
/// MongoDB servers.
const MAX_PREFIX_BYTES: usize = 40;

/// How a [`MongoStore`](crate::MongoStore) lays itself out in the host's database.
///
/// ```
/// use helpdesk_store_mongo::MongoStoreOptions;
///
/// let options = MongoStoreOptions::default().collection_prefix("support_")?;
/// assert_eq!(options.prefix(), "support_");
/// # Ok::<(), helpdesk_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MongoStoreOptions {
    prefix: String,
}

impl Default for MongoStoreOptions {
    /// The prefix [`DEFAULT_COLLECTION_PREFIX`] (`helpdesk_`).
    fn default() -> Self {
        Self {
            prefix: DEFAULT_COLLECTION_PREFIX.to_string(),
        }
    }
}

impl MongoStoreOptions {
    /// Puts `prefix` in front of every collection name (`helpdesk_` gives
    /// `helpdesk_tickets`), so the store shares the host's database without touching the
    /// host's own collections.
    ///
    /// At most 40 bytes of ASCII letters, digits, `_`, `-` and `.`, starting with a letter
    /// or `_`, and not `system.`; or empty, which is the unprefixed layout of the releases
    /// before prefixes (for a database the helpdesk has to itself). Anything else is a
    /// [`Validation`](Error::Validation) error for `collection_prefix`.
    pub fn collection_prefix(mut self, prefix: impl Into<String>) -> Result<Self> {
        let prefix = prefix.into();
        validate_prefix(&prefix)?;
        self.prefix = prefix;
        Ok(self)
    }

    /// The collection prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

fn validate_prefix(prefix: &str) -> Result<()> {
    const FIELD: &str = "collection_prefix";
    if prefix.is_empty() {
        return Ok(());
    }
    if prefix.len() > MAX_PREFIX_BYTES {
        return Err(Error::validation(
            FIELD,
            format!("must be at most {MAX_PREFIX_BYTES} bytes"),
        ));
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-.".contains(*c)))
    {
        return Err(Error::validation(
            FIELD,
            format!("{c:?} is not allowed (ASCII letters, digits, `_`, `-` and `.` are)"),
        ));
    }
    if !prefix.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(Error::validation(
            FIELD,
            "must start with an ASCII letter or `_`",
        ));
    }
    // The server reserves `system.*` for itself.
    if prefix.starts_with("system.") {
        return Err(Error::validation(FIELD, "must not start with `system.`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_default_prefix_is_helpdesk() {
        assert_eq!(MongoStoreOptions::default().prefix(), "helpdesk_");
    }

    #[test]
    fn good_prefixes_are_kept() {
        for good in ["", "helpdesk_", "hd.", "Support-", "_x", &"a".repeat(40)] {
            let options = MongoStoreOptions::default()
                .collection_prefix(good)
                .unwrap();
            assert_eq!(options.prefix(), good);
        }
    }

    #[test]
    fn bad_prefixes_name_the_field() {
        for bad in [
            "a$b",
            "a b",
            "a/b",
            "a\0",
            "é_",
            "1abc",
            ".abc",
            "-abc",
            "system.",
            &"a".repeat(41),
        ] {
            match MongoStoreOptions::default().collection_prefix(bad) {
                Err(Error::Validation { field, .. }) => {
                    assert_eq!(field, "collection_prefix", "{bad:?}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
