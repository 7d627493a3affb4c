//! Input validation. Every error names the field; nothing is written on a rejected call.
//!
//! Text is normalised before it is checked: Windows (`\r\n`) and old Mac (`\r`) line
//! breaks become `\n`, as browsers submit textareas and e-mail bodies arrive that way, so a
//! host never has to normalise first. Required text must contain something visible:
//! whitespace and invisible format characters (zero-width spaces, BOM, bidi controls) alone
//! count as empty.

use std::borrow::Cow;

use crate::domain::EmailSettings;
use crate::{Error, Result};

/// Longest subject, in characters, after trimming.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest description or message body, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// Most tags on a ticket.
pub const MAX_TAGS: usize = 20;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 50;
/// Longest name (user, tenant, article title), in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// `value` with every `\r\n` and lone `\r` turned into `\n` (borrowed when it has none).
pub fn normalize_line_breaks(value: &str) -> Cow<'_, str> {
    if !value.contains('\r') {
        return Cow::Borrowed(value);
    }
    Cow::Owned(value.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Whether `c` renders as nothing: a Unicode format character (general category Cf, such
/// as zero-width spaces, joiners, the BOM, bidi controls and tag characters) or one of the
/// blank letters that display as empty space (Hangul fillers, braille blank).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Whether `value` has at least one character that is neither whitespace nor
/// [invisible](is_invisible).
pub fn has_visible_text(value: &str) -> bool {
    value
        .chars()
        .any(|c| !c.is_whitespace() && !is_invisible(c))
}

/// Rejects control characters other than newline and tab.
pub fn no_control_chars(field: &str, value: &str) -> Result<()> {
    if let Some((i, c)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(Error::validation(
            field.to_string(),
            format!("control character U+{:04X} at position {i}", c as u32),
        ));
    }
    Ok(())
}

/// A required single-line text of 1..=max characters after trimming, with visible text;
/// returns it trimmed.
pub fn required_line(field: &str, value: &str, max: usize) -> Result<String> {
    let value = normalize_line_breaks(value);
    let trimmed = value.trim();
    if !has_visible_text(trimmed) {
        return Err(Error::validation(
            field.to_string(),
            "must not be empty (or only invisible characters)",
        ));
    }
    let n = trimmed.chars().count();
    if n > max {
        return Err(Error::validation(
            field.to_string(),
            format!("{n} characters, at most {max} allowed"),
        ));
    }
    no_control_chars(field, trimmed)?;
    if trimmed.contains('\n') {
        return Err(Error::validation(
            field.to_string(),
            "must be a single line",
        ));
    }
    Ok(trimmed.to_string())
}

/// The ticket subject: 1..=200 characters after trimming, one line.
pub fn subject(value: &str) -> Result<String> {
    required_line("subject", value, MAX_SUBJECT_CHARS)
}

/// A body (description, message): up to 20,000 characters after line breaks are
/// normalised to `\n`; `required` rejects text without anything visible.
pub fn body(field: &str, value: &str, required: bool) -> Result<String> {
    let value = normalize_line_breaks(value);
    let value = value.as_ref();
    let n = value.chars().count();
    if n > MAX_BODY_CHARS {
        return Err(Error::validation(
            field.to_string(),
            format!("{n} characters, at most {MAX_BODY_CHARS} allowed"),
        ));
    }
    no_control_chars(field, value)?;
    if required && !has_visible_text(value) {
        return Err(Error::validation(
            field.to_string(),
            "must not be empty (or only invisible characters)",
        ));
    }
    Ok(value.trim_end().to_string())
}

/// Tags: at most 20, each 1..=50 characters, one line; trimmed, lowercased, deduplicated.
pub fn tags(values: &[String]) -> Result<Vec<String>> {
    if values.len() > MAX_TAGS {
        return Err(Error::validation(
            "tags",
            format!("{} tags, at most {MAX_TAGS} allowed", values.len()),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (i, tag) in values.iter().enumerate() {
        let tag = required_line(&format!("tags[{i}]"), tag, MAX_TAG_CHARS)?.to_lowercase();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// An e-mail address: one `@`, a non-empty local part and a dotted domain, no spaces;
/// returned lowercased.
pub fn email(value: &str) -> Result<String> {
    let v = value.trim().to_lowercase();
    let ok = v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(v.split_once('@'), Some((local, domain))
            if !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.'));
    if ok {
        Ok(v)
    } else {
        Err(Error::validation(
            "email",
            format!("{value:?} is not an e-mail address"),
        ))
    }
}

/// A tenant's e-mail settings, checked and normalised: the address (when set) a valid
/// address, lowercased; the display name one line; the signature within its length; the
/// limits within their bounds. Errors name the field (`settings.email.address`, ...).
pub fn email_settings(s: &EmailSettings) -> Result<EmailSettings> {
    let mut out = s.clone();
    out.address = match s.address.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(address) => Some(email(address).map_err(|_| {
            Error::validation(
                "settings.email.address",
                format!("{address:?} is not an e-mail address"),
            )
        })?),
    };
    out.display_name = s.display_name.trim().to_string();
    if out.display_name.chars().count() > EmailSettings::MAX_DISPLAY_NAME_CHARS {
        return Err(Error::validation(
            "settings.email.display_name",
            format!(
                "at most {} characters",
                EmailSettings::MAX_DISPLAY_NAME_CHARS
            ),
        ));
    }
    // It goes into a From header: one line, no control characters at all.
    if out.display_name.chars().any(char::is_control) {
        return Err(Error::validation(
            "settings.email.display_name",
            "one line without control characters",
        ));
    }
    out.signature = normalize_line_breaks(&s.signature).into_owned();
    if out.signature.chars().count() > EmailSettings::MAX_SIGNATURE_CHARS {
        return Err(Error::validation(
            "settings.email.signature",
            format!("at most {} characters", EmailSettings::MAX_SIGNATURE_CHARS),
        ));
    }
    if !EmailSettings::NEW_TICKETS_PER_HOUR.contains(&s.max_new_tickets_per_sender_per_hour) {
        return Err(Error::validation(
            "settings.email.max_new_tickets_per_sender_per_hour",
            "must be 1 to 10,000",
        ));
    }
    if !EmailSettings::MESSAGE_BYTES.contains(&s.max_message_bytes) {
        return Err(Error::validation(
            "settings.email.max_message_bytes",
            "must be 1 KiB to 100 MiB",
        ));
    }
    Ok(out)
}

/// A tenant slug: 2..=40 of `a-z`, `0-9` and `-`, not starting or ending with `-`.
pub fn slug(value: &str) -> Result<String> {
    let v = value.trim().to_lowercase();
    let ok = (2..=40).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(v)
    } else {
        Err(Error::validation(
            "slug",
            "2 to 40 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        ))
    }
}

/// A vocabulary entry (category, skill): 1..=50 of `a-z`, `0-9`, `-`, `_`; lowercased.
pub fn identifier(field: &str, value: &str) -> Result<String> {
    let v = value.trim().to_lowercase();
    let ok = (1..=50).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(v)
    } else {
        Err(Error::validation(
            field.to_string(),
            format!("{value:?}: use 1 to 50 characters of a-z, 0-9, '-' and '_'"),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn field_of(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field.into_owned(),
            other => format!("not a validation error: {other}"),
        }
    }

    #[test]
    fn subject_bounds() {
        assert_eq!(subject("  hi  ").ok().as_deref(), Some("hi"));
        assert_eq!(field_of(subject("   ").unwrap_err()), "subject");
        assert!(subject(&"x".repeat(200)).is_ok());
        assert!(subject(&"é".repeat(200)).is_ok());
        assert_eq!(field_of(subject(&"x".repeat(201)).unwrap_err()), "subject");
        assert!(subject("a\u{7}b").is_err());
        assert!(subject("a\nb").is_err());
    }

    #[test]
    fn body_bounds() {
        assert!(body("description", &"x".repeat(20_000), true).is_ok());
        assert_eq!(
            field_of(body("description", &"x".repeat(20_001), true).unwrap_err()),
            "description"
        );
        assert!(body("body", "line\n\tindented", true).is_ok());
        assert!(body("body", "nul\0", true).is_err());
        assert!(body("body", "  ", true).is_err());
        assert!(body("description", "", false).is_ok());
    }

    #[test]
    fn windows_and_old_mac_line_breaks_become_newlines() {
        assert_eq!(
            body("body", "first\r\nsecond\rthird\r\n", true)
                .ok()
                .as_deref(),
            Some("first\nsecond\nthird")
        );
        assert_eq!(
            body("description", "a\r\n\r\nb", false).ok().as_deref(),
            Some("a\n\nb")
        );
        // A subject is one line: a CRLF in it is a line break, refused as such.
        let e = subject("a\r\nb").unwrap_err();
        assert!(e.to_string().contains("single line"), "{e}");
        assert_eq!(subject("trailing\r\n").ok().as_deref(), Some("trailing"));
        // Other control characters are still refused.
        assert!(body("body", "bell\u{7}\r\n", true).is_err());
    }

    #[test]
    fn invisible_only_text_is_empty() {
        for blank in [
            "\u{200B}",
            "\u{FEFF}\u{200B} \u{200D}",
            "\u{202E}\u{2066}\u{2069}",
            "\u{00A0}\u{3164}",
            "\u{E0041}\u{E007F}",
        ] {
            assert_eq!(
                field_of(subject(blank).unwrap_err()),
                "subject",
                "{blank:?}"
            );
            assert_eq!(field_of(body("body", blank, true).unwrap_err()), "body");
            assert!(tags(&[blank.to_string()]).is_err(), "{blank:?}");
        }
        // Invisible characters next to visible text are kept, not refused.
        assert_eq!(
            subject("\u{200B}Login fails").ok().as_deref(),
            Some("\u{200B}Login fails")
        );
        assert!(body("body", "ok\u{200D}", true).is_ok());
    }

    #[test]
    fn tag_rules() {
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(field_of(tags(&many).unwrap_err()), "tags");
        let long = vec!["ok".to_string(), "x".repeat(51)];
        assert_eq!(field_of(tags(&long).unwrap_err()), "tags[1]");
        let dup = vec!["A".to_string(), "a".to_string()];
        assert_eq!(tags(&dup).ok(), Some(vec!["a".to_string()]));
    }

    #[test]
    fn emails_and_slugs() {
        assert_eq!(
            email(" Ann@Example.COM ").ok().as_deref(),
            Some("ann@example.com")
        );
        for bad in ["", "a", "a@b", "@b.c", "a b@c.d", "a@b@c.d", "a@.c"] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(slug("acme-2").is_ok());
        for bad in ["a", "-a", "a-", "a_b", "Ä"] {
            assert!(slug(bad).is_err(), "{bad}");
        }
    }
}
