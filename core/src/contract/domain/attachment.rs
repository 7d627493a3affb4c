//! Files attached to messages: the metadata the ticket store keeps (the bytes live in a
//! [`BlobStore`](crate::blob::BlobStore)), the content address, and the two rules applied
//! to every upload: the content type is sniffed from the bytes, and the file name is
//! sanitised.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256 as Sha256Hasher};

use crate::{AttachmentId, MessageId, TenantId, TicketId, UserId};

/// A file attached to a message, or to the ticket itself when it was opened (shown with its
/// description). Committed in the same [`TicketWrite`](crate::store::TicketWrite) as its
/// message (or as the ticket's creation); its bytes are in the blob store under
/// `(tenant_id, sha256)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Id.
    pub id: AttachmentId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The ticket of its message.
    pub ticket_id: TicketId,
    /// The message it came with; `None` for a file on the ticket itself (given when the
    /// ticket was opened, seen by whoever sees the ticket's description).
    pub message_id: Option<MessageId>,
    /// The file name, sanitised ([`sanitize_file_name`]).
    pub file_name: String,
    /// The content type sniffed from the bytes ([`sniff_content_type`]), never the
    /// client's claim.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes: the blob's content address.
    pub sha256: Sha256,
    /// Who uploaded it (none for files the helpdesk itself attaches).
    pub uploaded_by: Option<UserId>,
    /// When it was uploaded (its message's time).
    pub created_at: Timestamp,
}

impl Attachment {
    /// Whether the content type is a raster image a browser may show inline without
    /// running anything: PNG, JPEG, GIF or WebP (sniffed, so an HTML or SVG file never
    /// qualifies, whatever its name).
    pub fn is_safe_image(&self) -> bool {
        SAFE_IMAGE_TYPES.contains(&self.content_type.as_str())
    }
}

/// The raster image types served inline ([`Attachment::is_safe_image`]).
pub const SAFE_IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// A SHA-256 digest, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// The digest of `bytes` (runs on the calling thread: hash big inputs on a blocking
    /// thread).
    pub fn digest(bytes: &[u8]) -> Self {
        Self(Sha256Hasher::digest(bytes).into())
    }

    /// The 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for b in self.0 {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl FromStr for Sha256 {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || crate::Error::validation("sha256", format!("{s:?} is not a SHA-256"));
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return Err(invalid());
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(invalid)?;
            let lo = hex_value(pair[1]).ok_or_else(invalid)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The content type of `bytes`, sniffed from the bytes alone (the `infer` crate's magic
/// numbers); the client's claim and the file name are never consulted, so a renamed file
/// gets the type of what it is.
///
/// When no magic number matches: bytes that are valid UTF-8 without NUL or other control
/// characters (tab, CR and LF aside) are `text/plain`; anything else is
/// `application/octet-stream`. `infer` recognises some markup (`text/html`, `text/xml`);
/// SVG and scripts have no magic number and come out `text/plain`. Whatever the type, the
/// download routes serve everything but the safe raster images
/// ([`Attachment::is_safe_image`]) as an attachment with `nosniff`, and active types
/// (HTML, XML, SVG, JavaScript) as `application/octet-stream`.
pub fn sniff_content_type(bytes: &[u8]) -> &'static str {
    if let Some(kind) = infer::get(bytes) {
        return kind.mime_type();
    }
    match std::str::from_utf8(bytes) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
        {
            "text/plain"
        }
        _ => "application/octet-stream",
    }
}

/// The longest sanitised file name, in characters (the extension is kept when cutting).
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// A file name safe to store and to put in a header: the last path component only (both
/// `/` and `\` separate), control characters, quotes and the characters Windows forbids
/// (`<>:"/\|?*`) replaced by `_`, leading dots and surrounding spaces removed (no hidden
/// or relative names), cut to [`MAX_FILE_NAME_CHARS`] characters keeping the extension;
/// `file` when nothing is left.
pub fn sanitize_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '\'') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        return "file".into();
    }
    let count = trimmed.chars().count();
    if count <= MAX_FILE_NAME_CHARS {
        return trimmed.to_string();
    }
    // Keep a short extension: `very-long-name….pdf` stays a PDF for the reader.
    let ext = trimmed
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.chars().count() <= 10);
    match ext {
        Some(ext) => {
            let keep = MAX_FILE_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = trimmed.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => trimmed.chars().take(MAX_FILE_NAME_CHARS).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_ignores_names_and_falls_back_by_content() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
        ];
        assert_eq!(sniff_content_type(&png), "image/png");
        assert_eq!(sniff_content_type(b"<html><script>x</script>"), "text/html");
        assert_eq!(
            sniff_content_type(b"<svg><script>x</script></svg>"),
            "text/plain"
        );
        assert_eq!(sniff_content_type(b"plain words\r\n"), "text/plain");
        assert_eq!(
            sniff_content_type(&[0, 1, 2, 0xff]),
            "application/octet-stream"
        );
        assert_eq!(sniff_content_type(b""), "text/plain");
    }

    #[test]
    fn file_names_are_sanitised() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_file_name(".htaccess"), "htaccess");
        assert_eq!(sanitize_file_name("a\"b\r\nc.txt"), "a_b__c.txt");
        assert_eq!(sanitize_file_name("  "), "file");
        assert_eq!(sanitize_file_name("../"), "file");
        let long = format!("{}.pdf", "x".repeat(300));
        let cut = sanitize_file_name(&long);
        assert_eq!(cut.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(cut.ends_with(".pdf"));
    }

    #[test]
    fn digests_round_trip_through_hex() {
        let d = Sha256::digest(b"abc");
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.to_hex().parse::<Sha256>().ok(), Some(d));
        assert!("zz".parse::<Sha256>().is_err());
    }
}
