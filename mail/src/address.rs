//! E-mail addresses as the helpdesk compares them, and the support mailboxes a tenant owns.

use std::fmt;

/// An address with its display name, as read from a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// The address, trimmed, with its domain lower-cased (`Jane.Doe@example.com`).
    pub address: String,
    /// The display name, decoded (`Jane Doe`), when the header had one.
    pub name: Option<String>,
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => f.write_str(&self.address),
        }
    }
}

/// Normalises an address for storing and comparing: trims spaces and angle brackets and
/// lower-cases the domain. `None` when it is not `local@domain`.
///
/// The local part keeps its case (RFC 5321 leaves it to the receiving host); use
/// [`same_address`] to compare two addresses the way every real mail host does.
pub fn normalize_address(raw: &str) -> Option<String> {
    let trimmed = raw
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let (local, domain) = trimmed.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.');
    let valid = !local.is_empty()
        && !domain.is_empty()
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    valid.then(|| format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// Whether two addresses name the same mailbox, ignoring case (mail hosts treat local parts
/// case-insensitively in practice, and customers type them every which way).
pub fn same_address(a: &str, b: &str) -> bool {
    match (normalize_address(a), normalize_address(b)) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(&b),
        _ => false,
    }
}

/// Splits a plus-address: `support+k3x@acme.example` -> (`support@acme.example`, `k3x`).
/// `None` when the address has no `+tag`.
pub fn split_plus_address(address: &str) -> Option<(String, String)> {
    let normalized = normalize_address(address)?;
    let (local, domain) = normalized.rsplit_once('@')?;
    let (base, tag) = local.split_once('+')?;
    if base.is_empty() || tag.is_empty() {
        return None;
    }
    Some((format!("{base}@{domain}"), tag.to_string()))
}

/// The addresses and domains that are the helpdesk's own, for one tenant (or for the whole
/// deployment, when every tenant's mail goes through the same domains).
///
/// Inbound mail is checked against it twice: mail *from* one of these addresses or carrying a
/// Message-ID under one of these domains is our own mail come back (a loop), and a
/// `support+<token>@` recipient counts only when `support@` is one of these addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OurMailboxes {
    addresses: Vec<String>,
    message_id_domains: Vec<String>,
}

impl OurMailboxes {
    /// Nothing of ours yet; add with [`with_address`](Self::with_address) and
    /// [`with_message_id_domain`](Self::with_message_id_domain).
    pub fn new() -> Self {
        Self::default()
    }

    /// A support address (`support@acme.example`) of the tenant. Invalid addresses are
    /// ignored (a configuration check belongs where the setting is saved).
    #[must_use]
    pub fn with_address(mut self, address: &str) -> Self {
        if let Some(address) = normalize_address(address) {
            self.addresses.push(address);
        }
        self
    }

    /// A domain under which the helpdesk generates Message-IDs (`acme.example`).
    #[must_use]
    pub fn with_message_id_domain(mut self, domain: &str) -> Self {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if !domain.is_empty() {
            self.message_id_domains.push(domain);
        }
        self
    }

    /// The support addresses, normalised.
    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// The Message-ID domains, lower-case.
    pub fn message_id_domains(&self) -> &[String] {
        &self.message_id_domains
    }

    /// Whether `address` is one of ours, with or without a `+tag`.
    pub fn is_ours(&self, address: &str) -> bool {
        let base = split_plus_address(address).map(|(base, _)| base);
        let candidate = base.as_deref().unwrap_or(address);
        self.addresses
            .iter()
            .any(|own| same_address(own, candidate))
    }

    /// The reply token of `address` when it is `<one of ours, local part>+<token>@<domain>`.
    pub fn reply_token_in(&self, address: &str) -> Option<String> {
        let (base, tag) = split_plus_address(address)?;
        self.addresses
            .iter()
            .any(|own| same_address(own, &base))
            .then_some(tag)
    }

    /// Whether a Message-ID (with or without angle brackets) was generated under one of our
    /// domains.
    pub fn is_our_message_id(&self, message_id: &str) -> bool {
        let id = message_id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>');
        id.rsplit_once('@').is_some_and(|(_, domain)| {
            let domain = domain.to_ascii_lowercase();
            self.message_id_domains.contains(&domain)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn normalizes_domain_case_and_brackets() {
        assert_eq!(
            normalize_address(" <Jane.Doe@Example.COM> ").as_deref(),
            Some("Jane.Doe@example.com")
        );
        assert_eq!(normalize_address("no-at-sign"), None);
        assert_eq!(normalize_address("a b@example.com"), None);
        assert_eq!(normalize_address("@example.com"), None);
        assert!(same_address("JANE@example.com", "jane@EXAMPLE.com"));
    }

    #[test]
    fn plus_addresses_split_only_with_a_tag() {
        assert_eq!(
            split_plus_address("Support+abc-12@Acme.Example"),
            Some(("Support@acme.example".into(), "abc-12".into()))
        );
        assert_eq!(split_plus_address("support@acme.example"), None);
        assert_eq!(split_plus_address("support+@acme.example"), None);
        assert_eq!(split_plus_address("+tag@acme.example"), None);
    }

    #[test]
    fn tokens_count_only_on_our_own_addresses() {
        let ours = OurMailboxes::new()
            .with_address("support@acme.example")
            .with_message_id_domain("Mail.Acme.Example");
        assert_eq!(
            ours.reply_token_in("SUPPORT+t0k@acme.example").as_deref(),
            Some("t0k")
        );
        assert_eq!(ours.reply_token_in("sales+t0k@acme.example"), None);
        assert_eq!(ours.reply_token_in("support+t0k@other.example"), None);
        assert!(ours.is_ours("support+x@acme.example"));
        assert!(!ours.is_ours("jane@example.com"));
        assert!(ours.is_our_message_id("<abc@mail.acme.example>"));
        assert!(!ours.is_our_message_id("<abc@acme.example.evil.test>"));
        assert!(!ours.is_our_message_id("no-domain"));
    }
}
