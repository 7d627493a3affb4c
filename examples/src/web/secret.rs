//! [`WebSecret`]: the keys the web app signs with, derived from the app's one secret
//! ([`super::smtp::app_secret`]).
//!
//! Everything the app hands a browser and later checks is signed, not remembered: form
//! tokens (CSRF), sign-up links and the idle-session stamp. So a request may reach any
//! instance behind a load balancer, or an instance started after the page was served, and
//! it is checked the same way, as long as every instance has the same secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Fewest secret bytes accepted.
const MIN_SECRET_BYTES: usize = 32;

/// The web app's signing secret. `Debug` never shows it.
#[derive(Clone)]
pub struct WebSecret {
    mac: HmacSha256,
}

impl std::fmt::Debug for WebSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSecret").finish_non_exhaustive()
    }
}

impl WebSecret {
    /// A secret from at least 32 bytes (a `Validation` error on `web_secret` otherwise).
    pub fn new(secret: &[u8]) -> helpdesk_core::Result<Self> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(helpdesk_core::Error::validation(
                "web_secret",
                format!("{} bytes, at least {MIN_SECRET_BYTES} needed", secret.len()),
            ));
        }
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| {
            helpdesk_core::Error::validation("web_secret", "not usable as an HMAC key")
        })?;
        Ok(Self { mac })
    }

    /// A fresh random secret: for one instance whose signed values need not survive a
    /// restart (the in-memory demo, tests).
    pub fn random() -> helpdesk_core::Result<Self> {
        let seed = helpdesk_core::auth::new_token()?;
        let bytes = <Sha256 as sha2::Digest>::digest(seed.as_bytes());
        Self::new(&bytes)
    }

    fn mac_for(&self, purpose: &str, message: &[u8]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        // The purpose and the message are told apart by the purpose's length, so no
        // message of one purpose signs as another.
        mac.update(b"helpdesk-web\0");
        mac.update(&(purpose.len() as u64).to_be_bytes());
        mac.update(purpose.as_bytes());
        mac.update(message);
        mac
    }

    /// The tag of `message` for `purpose`, as 64 hex digits.
    pub(crate) fn sign(&self, purpose: &str, message: &[u8]) -> String {
        hex::encode(self.mac_for(purpose, message).finalize().into_bytes())
    }

    /// Whether `tag` (hex) is `message`'s tag for `purpose`, compared in constant time.
    pub(crate) fn verify(&self, purpose: &str, message: &[u8], tag: &str) -> bool {
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        self.mac_for(purpose, message).verify_slice(&tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn tags_check_per_purpose_and_secret() {
        let secret = WebSecret::new(&[7u8; 32]).unwrap();
        let tag = secret.sign("csrf", b"anchor");
        assert!(secret.verify("csrf", b"anchor", &tag));
        assert!(!secret.verify("signup", b"anchor", &tag), "another purpose");
        assert!(!secret.verify("csrf", b"anchor2", &tag), "another message");
        assert!(!secret.verify("csrf", b"anchor", "zz"), "not hex");
        assert!(!secret.verify("csrf", b"anchor", &tag[..10]), "cut short");
        let same = WebSecret::new(&[7u8; 32]).unwrap();
        assert!(
            same.verify("csrf", b"anchor", &tag),
            "another instance, same secret"
        );
        let other = WebSecret::new(&[8u8; 32]).unwrap();
        assert!(!other.verify("csrf", b"anchor", &tag), "another secret");
        // The purpose's length is part of the message: ("ab", "c") is not ("a", "bc").
        assert_ne!(secret.sign("ab", b"c"), secret.sign("a", b"bc"));
        assert!(WebSecret::new(&[1u8; 16]).is_err());
        assert!(!format!("{secret:?}").contains('7'));
    }
}
