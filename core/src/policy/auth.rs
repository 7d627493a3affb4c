//! Optional password authentication: argon2id hashes and random session tokens stored only
//! as SHA-256 hashes.

use argon2::Argon2;
use argon2::password_hash::{self, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::domain::PasswordHash;
use crate::{Error, Result};

/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password (bounds hashing cost).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<PasswordHash> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(Error::validation(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(Error::validation(
            "password",
            format!("at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::backend("os-random", true, e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(argon2_error)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| PasswordHash::new(h.to_string()))
        .map_err(argon2_error)
}

/// An argon2 failure, kept as the error's source rather than flattened into a message.
fn argon2_error(e: password_hash::Error) -> Error {
    Error::backend("argon2", false, e)
}

/// Whether `password` matches a stored PHC hash (false for a malformed hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match password_hash::PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new random bearer token (256 bits, hex).
pub fn new_token() -> Result<String> {
    let bytes: [u8; 32] = new_random_bytes()?;
    Ok(to_hex(&bytes))
}

/// `N` bytes from the operating system's random source (keys, secrets).
pub fn new_random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::backend("os-random", true, e.to_string()))?;
    Ok(bytes)
}

/// The stored form of a token: hex SHA-256.
pub fn hash_token(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(!format!("{h:?}").contains("argon2"), "Debug hides the hash");
        let h = h.as_str();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", h));
        assert!(!verify_password("wrong horse!", h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn argon2_errors_keep_their_source() {
        let e = argon2_error(password_hash::Error::SaltInvalid(
            password_hash::errors::InvalidValue::TooShort,
        ));
        let source = std::error::Error::source(&e).unwrap();
        assert!(matches!(
            source.downcast_ref::<password_hash::Error>(),
            Some(password_hash::Error::SaltInvalid(_))
        ));
        // The chain reaches argon2's own cause.
        assert!(source.source().is_some());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
    }
}
