//! Ticket input validation: arbitrary bytes as the JSON body of a "new ticket" API call
//! (deserialised into `NewTicket`), and arbitrary strings into every validator.
//!
//! Properties: no panic; every rejection is a `Validation` error naming its field; what is
//! accepted keeps the documented limits (lengths, one line, no control characters, tags
//! deduplicated) and validating it again gives the same value.
#![no_main]

use arbitrary::Arbitrary;
use helpdesk_core::service::NewTicket;
use helpdesk_core::{Error, validate};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Input {
    Json(Vec<u8>),
    Fields {
        subject: String,
        description: String,
        tags: Vec<String>,
        other: String,
    },
}

fn named<T>(result: &Result<T, Error>, field: &str) {
    match result {
        Ok(_) => {}
        Err(Error::Validation { field: f, message }) => {
            assert!(f.starts_with(field), "{f} vs {field}");
            assert!(!message.is_empty());
        }
        Err(e) => panic!("untyped error {e:?}"),
    }
}

fn check_ticket(t: &NewTicket) {
    let subject = validate::subject(&t.subject);
    named(&subject, "subject");
    if let Ok(s) = &subject {
        assert!(!s.is_empty() && s.chars().count() <= validate::MAX_SUBJECT_CHARS);
        assert!(!s.contains('\n') && s.trim() == s);
        assert!(!s.chars().any(|c| c.is_control() && c != '\t'));
        assert_eq!(validate::subject(s).ok().as_ref(), Some(s));
    }
    for required in [true, false] {
        let body = validate::body("description", &t.description, required);
        named(&body, "description");
        if let Ok(b) = &body {
            assert!(b.chars().count() <= validate::MAX_BODY_CHARS);
            assert!(!required || !b.trim().is_empty());
            assert_eq!(
                validate::body("description", b, required).ok().as_ref(),
                Some(b)
            );
        }
    }
    let tags = validate::tags(&t.tags);
    named(&tags, "tags");
    if let Ok(tags) = &tags {
        assert!(tags.len() <= validate::MAX_TAGS);
        for (i, tag) in tags.iter().enumerate() {
            assert!(!tag.is_empty() && tag.chars().count() <= validate::MAX_TAG_CHARS);
            assert!(!tags[..i].contains(tag));
        }
    }
    if let Some(key) = &t.idempotency_key {
        named(
            &validate::required_line("idempotency_key", key, 200),
            "idempotency_key",
        );
    }
}

fuzz_target!(|input: Input| {
    match input {
        Input::Json(bytes) => {
            if let Ok(t) = serde_json::from_slice::<NewTicket>(&bytes) {
                check_ticket(&t);
            }
        }
        Input::Fields {
            subject,
            description,
            tags,
            other,
        } => {
            check_ticket(&NewTicket {
                tags,
                ..NewTicket::new(&subject, &description)
            });
            let email = validate::email(&other);
            named(&email, "email");
            if let Ok(e) = &email {
                assert!(e.contains('@') && !e.chars().any(char::is_whitespace));
                assert_eq!(validate::email(e).ok().as_ref(), Some(e));
            }
            let slug = validate::slug(&other);
            named(&slug, "slug");
            if let Ok(s) = &slug {
                assert_eq!(validate::slug(s).ok().as_ref(), Some(s));
            }
            named(&validate::identifier("category", &other), "category");
            named(&validate::no_control_chars("text", &other), "text");
        }
    }
});
