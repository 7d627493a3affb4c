//! Mail fetched from an IMAP mailbox into one tenant's helpdesk, configured from the
//! environment (the web app polls in the background; `helpdesk poll-imap` polls from the
//! shell):
//!
//! | variable | meaning |
//! |---|---|
//! | `IMAP_HOST` | the server; unset: no polling |
//! | `IMAP_USER`, `IMAP_PASSWORD` | the account (the password never goes on a command line) |
//! | `IMAP_SECURITY` | `tls` (default, port 993), `starttls` (143) or `plain` (loopback only) |
//! | `IMAP_PORT` | another port |
//! | `IMAP_MAILBOX` | the mailbox read (default `INBOX`); processed mail moves to `Processed` |
//! | `IMAP_TENANT` | the tenant slug the mailbox belongs to (default the demo company) |
//! | `IMAP_POLL_SECONDS` | seconds between polls when the server has no IDLE (default 60) |

use std::time::Duration;

use helpdesk_mail::imap::{ImapConfig, ImapSecurity};

use super::seed::DEMO_TENANT;

/// Why the IMAP settings in the environment cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImapEnvError {
    /// A variable is missing or malformed.
    #[error("{variable}: {message}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// What is wrong (never its value: it may be a password).
        message: String,
    },
}

/// The mailbox to poll and its tenant's slug, or `None` when `IMAP_HOST` is not set.
pub fn imap_from_env() -> Result<Option<(ImapConfig, String)>, ImapEnvError> {
    imap_from(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

/// [`imap_from_env`] reading variables through `var` (tests pass a map).
pub fn imap_from(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<(ImapConfig, String)>, ImapEnvError> {
    let Some(host) = var("IMAP_HOST") else {
        return Ok(None);
    };
    let required = |variable: &'static str| {
        var(variable).ok_or(ImapEnvError::Invalid {
            variable,
            message: "must be set when IMAP_HOST is".into(),
        })
    };
    let security = match var("IMAP_SECURITY").as_deref().map(str::to_ascii_lowercase) {
        None => ImapSecurity::Tls,
        Some(s) if s == "tls" => ImapSecurity::Tls,
        Some(s) if s == "starttls" => ImapSecurity::StartTls,
        Some(s) if s == "plain" => ImapSecurity::Plain,
        Some(_) => {
            return Err(ImapEnvError::Invalid {
                variable: "IMAP_SECURITY",
                message: "must be tls, starttls or plain".into(),
            });
        }
    };
    let mut config = ImapConfig::new(
        host.trim(),
        required("IMAP_USER")?,
        required("IMAP_PASSWORD")?,
    )
    .with_security(security);
    if let Some(port) = var("IMAP_PORT") {
        let port = port.trim().parse().map_err(|_| ImapEnvError::Invalid {
            variable: "IMAP_PORT",
            message: "must be a port number".into(),
        })?;
        config = config.with_port(port);
    }
    if let Some(mailbox) = var("IMAP_MAILBOX") {
        config = config.with_mailbox(mailbox.trim());
    }
    if let Some(seconds) = var("IMAP_POLL_SECONDS") {
        let seconds: u64 =
            seconds
                .trim()
                .parse()
                .ok()
                .filter(|s| *s > 0)
                .ok_or(ImapEnvError::Invalid {
                    variable: "IMAP_POLL_SECONDS",
                    message: "must be a whole number of seconds above 0".into(),
                })?;
        config = config.with_poll_interval(Duration::from_secs(seconds));
    }
    let tenant = var("IMAP_TENANT").unwrap_or_else(|| DEMO_TENANT.to_owned());
    Ok(Some((config, tenant)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Option<(ImapConfig, String)>, ImapEnvError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        imap_from(|name| map.get(name).cloned())
    }

    #[test]
    fn without_a_host_nothing_is_polled_and_with_one_the_account_is_required() {
        assert!(from(&[]).unwrap().is_none());
        let err = from(&[("IMAP_HOST", "imap.example.com")]).unwrap_err();
        assert!(err.to_string().starts_with("IMAP_USER"), "{err}");
        let (config, tenant) = from(&[
            ("IMAP_HOST", "imap.example.com"),
            ("IMAP_USER", "support"),
            ("IMAP_PASSWORD", "secret-value"),
            ("IMAP_SECURITY", "starttls"),
            ("IMAP_PORT", "1143"),
            ("IMAP_TENANT", "acme"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            (config.port, config.security),
            (1143, ImapSecurity::StartTls)
        );
        assert_eq!(tenant, "acme");
        assert!(
            !format!("{config:?}").contains("secret-value"),
            "no password in Debug"
        );
    }

    #[test]
    fn a_bad_security_or_port_names_the_variable_not_its_value() {
        let base = [
            ("IMAP_HOST", "h"),
            ("IMAP_USER", "u"),
            ("IMAP_PASSWORD", "p"),
        ];
        let mut bad = base.to_vec();
        bad.push(("IMAP_SECURITY", "ssl3"));
        assert!(
            from(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("IMAP_SECURITY")
        );
        let mut bad = base.to_vec();
        bad.push(("IMAP_PORT", "imap"));
        assert!(from(&bad).unwrap_err().to_string().starts_with("IMAP_PORT"));
    }
}
