//! Search in the web helpdesk: staff find a ticket by its internal note with the passage
//! marked, customers only their own tickets' public text, every text HTML-escaped, and a
//! refused filter shown next to its field with what was typed kept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::*;

#[tokio::test]
async fn staff_find_notes_customers_only_their_own_public_text() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let path = open_ticket(
        &app,
        &customer,
        "Projector <b>flickers</b>",
        "The projector flickers every few minutes.",
    )
    .await;
    let id = path.rsplit('/').next().unwrap();
    let noted = post(
        &app,
        &format!("/agent/tickets/{id}/note"),
        &agent.cookie,
        &[
            ("csrf", &agent.csrf),
            ("body", "Vendor says the lamp ballast is faulty"),
        ],
    )
    .await;
    assert_eq!(noted.status, StatusCode::SEE_OTHER, "{}", noted.body);

    let page = get(&app, "/search?q=ballast", &agent.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("/agent/tickets/{id}")),
        "{}",
        page.body
    );
    assert!(page.body.contains("In the internal note:"));
    assert!(page.body.contains("<mark>ballast</mark>"));
    // The subject is text, not markup.
    assert!(
        page.body
            .contains("Projector &#60;b&#62;flickers&#60;/b&#62;")
    );
    assert!(!page.body.contains("<b>flickers</b>"));
    let by_subject = get(&app, "/search?q=flick", &agent.cookie).await.body;
    assert!(by_subject.contains("In the subject:"));

    // The customer finds their ticket by its text, never by the note.
    let theirs = get(&app, "/search?q=projector+minutes", &customer.cookie)
        .await
        .body;
    assert!(
        theirs.contains(&format!("/portal/tickets/{id}")),
        "{theirs}"
    );
    let hidden = get(&app, "/search?q=ballast", &customer.cookie).await.body;
    assert!(hidden.contains("No tickets match."), "{hidden}");
    assert!(!hidden.contains("lamp"));
    // Staff-only filters are not offered to customers.
    assert!(!theirs.contains(r#"name="assignee""#));
}

#[tokio::test]
async fn a_refused_filter_is_shown_at_its_field_with_the_words_kept() {
    let (app, creds) = app().await;
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let bad = get(&app, "/search?q=refund&from=yesterday", &agent.cookie).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Use a date like"));
    assert!(bad.body.contains(r#"value="refund""#));
    assert!(bad.body.contains(r#"id="from-error""#));
    let words = get(&app, "/search?q=a+b+c+d+e+f+g+h+i", &agent.cookie).await;
    assert_eq!(words.status, StatusCode::BAD_REQUEST);
    assert!(words.body.contains(r#"id="q-error""#), "{}", words.body);
    let signed_out = get(&app, "/search?q=x", "").await;
    assert_ne!(signed_out.status, StatusCode::OK);
}
