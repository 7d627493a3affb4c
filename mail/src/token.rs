//! Reply tokens: `support+<token>@acme.example` addresses that lead back to one ticket.
//!
//! A token is `<ticket number>-<20 hex digits of HMAC-SHA256(key, tenant, number)>`, so
//! checking one needs the key and no stored state, a token of one tenant never verifies for
//! another, and guessing one for a ticket takes about 2^80 tries. Lower-case hex survives
//! mail hosts that fold local parts to lower case.

use std::fmt;

use helpdesk_core::TenantId;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::BuildError;
use crate::inbound::hex;

type HmacSha256 = Hmac<Sha256>;

/// Keys shorter than this are refused: a short key is a guessable key.
const MIN_KEY_BYTES: usize = 16;
/// Bytes of the MAC kept in a token (80 bits).
const TAG_BYTES: usize = 10;
/// Domain separation, so the same key used elsewhere never yields a valid token.
const CONTEXT: &[u8] = b"helpdesk-mail reply token v1";

/// The secret reply tokens are made and checked with (one per deployment or per tenant).
#[derive(Clone)]
pub struct ReplyTokenKey {
    mac: HmacSha256,
}

impl fmt::Debug for ReplyTokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTokenKey").finish_non_exhaustive()
    }
}

impl ReplyTokenKey {
    /// A key from secret bytes (at least 16; 32 random bytes is right).
    pub fn new(secret: &[u8]) -> Result<Self, BuildError> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(BuildError::InvalidValue {
                field: "reply_token_key",
                message: format!("must be at least {MIN_KEY_BYTES} bytes"),
            });
        }
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| BuildError::InvalidValue {
            field: "reply_token_key",
            message: "not usable as an HMAC key".into(),
        })?;
        Ok(Self { mac })
    }

    fn tag(&self, tenant: TenantId, number: u64) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(CONTEXT);
        mac.update(tenant.as_uuid().as_bytes());
        mac.update(&number.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The token for ticket `number` of `tenant`.
    pub fn token(&self, tenant: TenantId, number: u64) -> String {
        let tag = self.tag(tenant, number);
        format!("{number}-{}", hex(tag.get(..TAG_BYTES).unwrap_or(&tag)))
    }

    /// The ticket number a token was made for, when it is genuine for `tenant`. The MAC is
    /// compared in constant time.
    pub fn verify(&self, tenant: TenantId, token: &str) -> Option<u64> {
        let (number, tag_hex) = token.trim().split_once('-')?;
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number: u64 = number.parse().ok()?;
        let claimed = unhex(tag_hex)?;
        if claimed.len() != TAG_BYTES {
            return None;
        }
        let mut mac = self.mac.clone();
        mac.update(CONTEXT);
        mac.update(tenant.as_uuid().as_bytes());
        mac.update(&number.to_be_bytes());
        mac.verify_truncated_left(&claimed).ok().map(|()| number)
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn tokens_verify_only_for_their_tenant_and_number() {
        let key = ReplyTokenKey::new(&[7u8; 32]).unwrap();
        let (acme, other) = (TenantId::new(), TenantId::new());
        let token = key.token(acme, 123);
        assert!(token.starts_with("123-"));
        assert_eq!(token.len(), 4 + 2 * TAG_BYTES);
        assert_eq!(key.verify(acme, &token), Some(123));
        assert_eq!(key.verify(acme, &token.to_uppercase()), Some(123));
        assert_eq!(key.verify(other, &token), None);
        let forged = token.replacen("123-", "124-", 1);
        assert_eq!(key.verify(acme, &forged), None);
        assert_eq!(key.verify(acme, "123-zz"), None);
        assert_eq!(key.verify(acme, "123"), None);
        assert_eq!(key.verify(acme, "-00"), None);
        let other_key = ReplyTokenKey::new(&[8u8; 32]).unwrap();
        assert_eq!(other_key.verify(acme, &token), None);
        assert!(ReplyTokenKey::new(b"short").is_err());
        assert_eq!(format!("{key:?}"), "ReplyTokenKey { .. }");
    }
}
