//! Custom fields in the web helpdesk: the admin defines one (a refusal shown at its input),
//! the customer fills in the order number when raising a ticket, the agent sets the plan on
//! the ticket page (a value outside the options refused at the field, what was typed kept),
//! the customer never sees the internal plan, search filters on it and analytics counts it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::*;

#[tokio::test]
async fn fields_are_defined_filled_in_set_and_kept_from_customers() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/fields", &admin.cookie).await.body;
    assert!(
        page.contains("<code>plan</code>"),
        "the demo's fields are listed"
    );
    // A dropdown without options is refused at the options, with what was typed kept.
    let refused = post(
        &app,
        "/admin/fields",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("label", "Device"),
            ("key", "device"),
            ("kind", "dropdown"),
            ("options", "  "),
            ("customers", "editable"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains(r#"id="options-error""#),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"value="Device""#));
    let added = post(
        &app,
        "/admin/fields",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("label", "Device"),
            ("key", "device"),
            ("kind", "dropdown"),
            ("options", "Phone\nTablet\nLaptop"),
            ("customers", "editable"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let taken = post(
        &app,
        "/admin/fields",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("label", "Device again"),
            ("key", "device"),
            ("kind", "text"),
        ],
    )
    .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(taken.body.contains(r#"id="key-error""#));

    // The customer fills in the fields editable by customers, never the plan.
    let customer = browser(&app, &creds, &creds.customer).await;
    let form = get(&app, "/portal/new", &customer.cookie).await.body;
    assert!(form.contains(r#"name="f.order_number""#));
    assert!(form.contains(r#"name="f.device""#));
    assert!(!form.contains(r#"name="f.plan""#));
    let opened = post(
        &app,
        "/portal/tickets",
        &customer.cookie,
        &[
            ("csrf", &customer.csrf),
            ("subject", "Sync stopped"),
            ("description", "Notes no longer sync."),
            ("priority", ""),
            ("field_keys", "order_number"),
            ("f.order_number", "NN-2048"),
            ("field_keys", "device"),
            ("f.device", "Tablet"),
        ],
    )
    .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let path = opened
        .location
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let id = path.rsplit('/').next().unwrap().to_string();
    let mine = get(&app, &path, &customer.cookie).await.body;
    assert!(mine.contains(r#"value="NN-2048""#), "{mine}");
    // A customer posting the internal field is refused at the form, nothing changes.
    let sneaky = post(
        &app,
        &format!("/portal/tickets/{id}/fields"),
        &customer.cookie,
        &[
            ("csrf", &customer.csrf),
            ("field_keys", "plan"),
            ("f.plan", "Business"),
        ],
    )
    .await;
    assert_eq!(sneaky.status, StatusCode::BAD_REQUEST);

    // The agent sets the plan; a value outside the options is refused at the field.
    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let ticket = format!("/agent/tickets/{id}");
    let bad = post(
        &app,
        &format!("{ticket}/fields"),
        &agent.cookie,
        &[
            ("csrf", &agent.csrf),
            ("field_keys", "plan"),
            ("f.plan", "Gold"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains(r#"id="fields-plan-error""#),
        "{}",
        bad.body
    );
    let set = post(
        &app,
        &format!("{ticket}/fields"),
        &agent.cookie,
        &[
            ("csrf", &agent.csrf),
            ("field_keys", "plan"),
            ("f.plan", "Business"),
            ("field_keys", "order_number"),
            ("f.order_number", "NN-2048"),
        ],
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let page = get(&app, &ticket, &agent.cookie).await.body;
    assert!(
        page.contains(r#"<option value="Business" selected>"#),
        "{page}"
    );
    let theirs = get(&app, &path, &customer.cookie).await.body;
    assert!(!theirs.contains("Business"), "the plan is staff only");

    // Search filters on the plan; analytics counts it.
    let found = get(&app, "/search?q=sync&field=plan%3DBusiness", &agent.cookie)
        .await
        .body;
    assert!(found.contains(&ticket), "{found}");
    let none = get(&app, "/search?q=sync&field=plan%3DFree", &agent.cookie)
        .await
        .body;
    assert!(none.contains("No tickets match."));
    let by_device = get(&app, "/search?q=tablet", &agent.cookie).await.body;
    assert!(by_device.contains("In the tags and fields:"), "{by_device}");
    let analytics = get(&app, "/admin/analytics", &admin.cookie).await.body;
    assert!(analytics.contains("By Plan"));
    assert!(analytics.contains("By Device"));

    // Deleting asks first.
    let ask = get(&app, "/admin/fields/device/delete", &admin.cookie)
        .await
        .body;
    assert!(ask.contains("Delete the field"));
    let gone = post(
        &app,
        "/admin/fields/device/delete",
        &admin.cookie,
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(
        !get(&app, "/admin/fields", &admin.cookie)
            .await
            .body
            .contains("<code>device</code>")
    );
}
