//! Form refusals shown in place (issue 16, item 9): a refused form comes back as the same
//! page, with what was typed, the message next to the field it is about and the field
//! marked `aria-invalid`, never as a bare error card.
//!
//! Every form struct gives its fields `#[serde(default)]` (text fields as `String`, numbers
//! parsed by the handler), so that a missing or malformed field reaches the handler and is
//! refused here like any other mistake instead of as the framework's raw 422 text.

use axum::http::StatusCode;
use axum::response::Response;
use helpdesk_core::Error as CoreError;

use super::error::WebResult;

/// Why a form was refused and which field it is about (empty: the form as a whole).
#[derive(Debug, Clone, Default)]
pub(crate) struct FormError {
    field: String,
    message: String,
}

impl FormError {
    /// A refusal of `field` (empty for the whole form).
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The form as a whole is refused.
    pub(crate) fn general(message: impl Into<String>) -> Self {
        Self::new("", message)
    }

    /// The refusal meant for the user of a core error, `None` for failures that are not
    /// the user's to fix (they become the generic error page). A validation error names
    /// its field (`tags[2]` counts as `tags`); `labels` maps the fields of this form to the
    /// words the page uses for them, and a field the form does not show is refused as a
    /// whole.
    pub(crate) fn from_core(e: &CoreError, labels: &[(&str, &str)]) -> Option<Self> {
        match e {
            CoreError::Validation { field, message } => {
                let unprefixed = field.strip_prefix("settings.").unwrap_or(field);
                let unprefixed = unprefixed.strip_prefix("calendar.").unwrap_or(unprefixed);
                let base = unprefixed.split('[').next().unwrap_or_default();
                Some(match labels.iter().find(|(f, _)| *f == base) {
                    Some((f, label)) => Self::new(*f, format!("{label}: {message}")),
                    None => Self::general(e.to_string()),
                })
            }
            CoreError::IllegalTransition { .. }
            | CoreError::InvalidState(_)
            | CoreError::TicketClosed { .. }
            | CoreError::Duplicate { .. } => Some(Self::general(e.to_string())),
            CoreError::Conflict { .. } => Some(Self::general(
                "Someone else changed this at the same time; reload and try again.",
            )),
            _ => None,
        }
    }

    /// The field it is about (empty: the form).
    pub(crate) fn field(&self) -> &str {
        &self.field
    }

    /// The message.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// Whether anything was refused.
    pub(crate) fn is_set(&self) -> bool {
        !self.message.is_empty()
    }

    /// Whether `field` is the refused one.
    pub(crate) fn is(&self, field: &str) -> bool {
        !self.message.is_empty() && self.field == field
    }

    /// The message as a note to put next to `field` (escaped HTML, empty when `field` is
    /// fine). `{{ error.note("subject")|safe }}` in a template.
    pub(crate) fn note(&self, field: &str) -> String {
        if self.is(field) {
            alert(
                &format!("{}-error", id_part(field)),
                &self.message,
                "field-error",
            )
        } else {
            String::new()
        }
    }

    /// The message of a refusal of the whole form, for above the form (escaped HTML).
    pub(crate) fn form_note(&self) -> String {
        self.note("")
    }

    /// The attributes of a refused `field`'s input: ` aria-invalid="true"
    /// aria-describedby="…" autofocus`, empty when it is fine.
    pub(crate) fn attrs(&self, field: &str) -> String {
        if self.is(field) && !field.is_empty() {
            format!(
                r#" aria-invalid="true" aria-describedby="{}-error" autofocus"#,
                id_part(field)
            )
        } else {
            String::new()
        }
    }
}

/// `field` as a piece of an element id (letters, digits, `_` and `-`).
fn id_part(field: &str) -> String {
    if field.is_empty() {
        return "form".into();
    }
    field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `<p class="alert …" role="alert" id="…">message</p>`, the message escaped.
fn alert(id: &str, message: &str, class: &str) -> String {
    format!(
        r#"<p class="alert {class}" role="alert" id="{id}">{}</p>"#,
        escape(message)
    )
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A rendered form page answering a refused post: 400 Bad Request.
pub(crate) fn refused(page: WebResult<Response>) -> WebResult<Response> {
    page.map(|mut r| {
        *r.status_mut() = StatusCode::BAD_REQUEST;
        r
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_note_is_escaped_and_only_at_its_field() {
        let e = FormError::new("subject", "<b>bad</b> \"x\"");
        assert_eq!(e.note("description"), "");
        assert_eq!(e.form_note(), "");
        let note = e.note("subject");
        assert!(
            note.contains("&lt;b&gt;bad&lt;/b&gt; &quot;x&quot;"),
            "{note}"
        );
        assert!(note.contains(r#"id="subject-error""#));
        assert!(e.attrs("subject").contains(r#"aria-invalid="true""#));
        assert_eq!(e.attrs("other"), "");
        assert_eq!(FormError::default().note(""), "");
        assert!(FormError::general("no").form_note().contains("no"));
    }

    #[test]
    fn core_validation_errors_name_the_form_field() {
        let e = CoreError::validation("tags[2]", "too long");
        let f = FormError::from_core(&e, &[("tags", "Tags")]).unwrap();
        assert!(f.is("tags"));
        assert_eq!(f.message(), "Tags: too long");
        let f = FormError::from_core(&e, &[("title", "Title")]).unwrap();
        assert!(f.is(""));
        let e = CoreError::validation("settings.calendar.timezone", "unknown");
        let f = FormError::from_core(&e, &[("timezone", "Time zone")]).unwrap();
        assert!(f.is("timezone"));
    }
}
