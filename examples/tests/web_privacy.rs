//! Exporting a customer's data from the users page: a JSON download of everything about
//! them (not cached), for admins only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use support::*;

#[tokio::test]
async fn an_admin_downloads_a_customers_data() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let users = get(&app, "/admin/users", &admin.cookie).await.body;
    // The link sits in the customer's row, after their address.
    let row = users
        .split(&creds.customer.email)
        .nth(1)
        .expect("the customer is listed");
    let link = row
        .split("href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert!(link.ends_with("/export"), "{link}");

    let export = get(&app, &link, &admin.cookie).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(export.headers["content-type"], "application/json");
    assert!(
        export.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"customer-")
    );
    assert_eq!(export.headers["cache-control"], "no-store");
    let json: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(json["customer"]["email"], creds.customer.email.as_str());
    let tickets = json["tickets"].as_array().unwrap();
    assert!(!tickets.is_empty(), "the demo customer has tickets");
    assert!(
        tickets
            .iter()
            .all(|t| t["ticket"]["requester"] == json["customer"]["id"])
    );

    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let refused = get(&app, &link, &agent.cookie).await;
    assert_ne!(refused.status, StatusCode::OK);
    assert!(!refused.body.contains(&creds.customer.email));
}

#[tokio::test]
async fn an_admin_erases_a_customer_after_confirming() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let portal = get(&app, "/portal", &customer.cookie).await;
    assert_eq!(portal.status, StatusCode::OK);
    let users = get(&app, "/admin/users", &admin.cookie).await.body;
    let row = users
        .split(&creds.customer.email)
        .nth(1)
        .expect("the customer is listed");
    let link = row
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|l| l.ends_with("/erase")))
        .expect("an erase link in the customer's row")
        .to_string();

    let question = get(&app, &link, &admin.cookie).await;
    assert_eq!(question.status, StatusCode::OK, "{}", question.body);
    assert!(question.body.contains(&creds.customer.email));
    assert!(question.body.contains("cannot be undone"));
    // Without the confirmation it only asks again.
    let unconfirmed = post(&app, &link, &admin.cookie, &[("csrf", admin.csrf.as_str())]).await;
    assert_eq!(unconfirmed.status, StatusCode::SEE_OTHER);
    assert_eq!(unconfirmed.headers["location"], link.as_str());
    assert!(
        get(&app, "/admin/users", &admin.cookie)
            .await
            .body
            .contains(&creds.customer.email)
    );

    let agent = browser(&app, &creds, &creds.billing_agent).await;
    let refused = post(
        &app,
        &link,
        &agent.cookie,
        &[("csrf", agent.csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER);

    let erased = post(
        &app,
        &link,
        &admin.cookie,
        &[("csrf", admin.csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(erased.status, StatusCode::SEE_OTHER, "{}", erased.body);
    assert_eq!(
        erased.headers["location"],
        "/admin/users?done=customer-erased"
    );
    let users = get(&app, "/admin/users?done=customer-erased", &admin.cookie)
        .await
        .body;
    assert!(users.contains("personal data was erased"));
    assert!(!users.contains(&creds.customer.email));
    assert!(users.contains("Erased customer"));
    // Their session is gone with their account.
    let portal = get(&app, "/portal", &customer.cookie).await;
    assert_ne!(portal.status, StatusCode::OK);
}
