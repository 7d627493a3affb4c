//! Learned triage in the web helpdesk (issue 22): the app builds kb-search's learned
//! classifier into the chain, the analytics page says when it will train, the training job
//! trains the demo company once it has enough resolved tickets, the page then shows the
//! model's held-out accuracy, and new tickets are triaged by it until the customer whose
//! tickets it learned from is erased.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use helpdesk_core::Helpdesk;
use helpdesk_core::domain::{Actor, Role, TicketStatus, TriageSource};
use helpdesk_core::service::{NewTicket, NewUser, TicketPatch};
use helpdesk_examples::web::seed::{DemoCredentials, seed_demo};
use helpdesk_examples::web::{AppState, Backends, WebOptions, router};
use support::*;

async fn demo() -> (axum::Router, Helpdesk, DemoCredentials) {
    let backends = Backends::offline_demo();
    let hd = backends.build().unwrap();
    let creds = seed_demo(&hd, backends.knowledge_base.as_ref())
        .await
        .unwrap();
    let options = WebOptions {
        mode_notice: backends.mode_notice(),
        ..WebOptions::default()
    };
    let state = AppState::new(hd.clone(), backends.knowledge_base.clone(), options).unwrap();
    (router(state), hd, creds)
}

async fn actor(hd: &Helpdesk, creds: &DemoCredentials, email: &str) -> Actor {
    let store = hd.store();
    let tenant = store
        .get_tenant_by_slug(&creds.tenant_slug)
        .await
        .unwrap()
        .unwrap();
    let user = store
        .get_user_by_email(tenant.id, email)
        .await
        .unwrap()
        .unwrap();
    Actor::for_user(&user)
}

/// Ticket texts of three categories, each with its own words, varied per ticket.
fn text(category: &str, i: usize) -> (String, String) {
    let n = i * 7 + 3;
    match category {
        "billing" => (
            format!("Invoice {n} charged twice"),
            format!("My card was charged twice for invoice {n}; please refund the payment."),
        ),
        "account" => (
            format!("Cannot log in to account {n}"),
            format!("The password reset e-mail for login {n} never arrives; I am locked out."),
        ),
        _ => (
            format!("App crashes on sync {n}"),
            format!("The desktop app crashes with error {n} whenever notes sync."),
        ),
    }
}

#[tokio::test]
async fn the_demo_company_is_trained_and_triaged_by_its_own_tickets() {
    let (app, hd, creds) = demo().await;
    assert!(hd.learned_triage_enabled());
    let admin = browser(&app, &creds, &creds.admin).await;
    let page = get(&app, "/admin/analytics", &admin.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"id="learned-triage""#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("once 100 have been resolved"),
        "{}",
        page.body
    );

    let customer = actor(&hd, &creds, &creds.customer.email).await;
    let agent = actor(&hd, &creds, &creds.billing_agent.email).await;
    assert_eq!(agent.role, Role::Agent);
    let categories = ["billing", "account", "technical"];
    for i in 0..105 {
        let category = categories[i % categories.len()];
        let (subject, description) = text(category, i);
        let ticket = hd
            .open_ticket(&customer, NewTicket::new(&subject, &description))
            .await
            .unwrap()
            .ticket;
        hd.update_ticket(
            &agent,
            ticket.id,
            TicketPatch {
                category: Some(category.into()),
                ..TicketPatch::default()
            },
        )
        .await
        .unwrap();
        hd.transition(&agent, ticket.id, TicketStatus::Resolved)
            .await
            .unwrap();
    }
    let report = hd.train_triage_models().await.unwrap();
    let [model] = report.trained.as_slice() else {
        panic!("the demo company is trained: {report:?}");
    };
    assert!(model.holdout_tickets > 0);
    let accuracy = model.accuracy().unwrap();
    assert!(accuracy >= 0.9, "held-out accuracy {accuracy}");
    assert_eq!(model.categories, ["account", "billing", "technical"]);

    let page = get(&app, "/admin/analytics", &admin.cookie).await;
    let expected = format!(
        "{:.1}% ({} of {})",
        accuracy * 100.0,
        model.holdout_correct,
        model.holdout_tickets
    );
    assert!(page.body.contains(&expected), "{}", page.body);
    assert!(page.body.contains("account, billing, technical"));
    assert!(!page.body.contains("Not trained yet"));

    // A new ticket through the portal form is triaged by the learned model (no language
    // model in the demo, so it comes before the rules).
    let (subject, description) = text("account", 1000);
    let ticket = hd
        .open_ticket(&customer, NewTicket::new(&subject, &description))
        .await
        .unwrap()
        .ticket;
    let triage = ticket.triage.unwrap();
    assert_eq!(triage.source, TriageSource::Learned, "{triage:?}");
    assert_eq!(ticket.category.as_deref(), Some("account"));

    // Agents do not see the section (the page is admins').
    let agent_browser = browser(&app, &creds, &creds.billing_agent).await;
    let refused = get(&app, "/admin/analytics", &agent_browser.cookie).await;
    assert_ne!(refused.status, StatusCode::OK);
    assert!(page.body.contains("<td>In service</td>"), "{}", page.body);

    // The customer whose tickets it learned from is erased: the model is retired (shown
    // with the time), new tickets go to the rules, and nothing is left to retrain from.
    let admin_actor = actor(&hd, &creds, &creds.admin.email).await;
    let erased = hd
        .erase_customer(&admin_actor, customer.user_id)
        .await
        .unwrap();
    assert_eq!(erased.triage_models_retired, 1);
    let page = get(&app, "/admin/analytics", &admin.cookie).await;
    assert!(page.body.contains("<td>Retired 20"), "{}", page.body);
    assert!(!page.body.contains("<td>In service</td>"), "{}", page.body);
    let other = hd
        .add_user(
            &admin_actor,
            NewUser {
                email: "dana@example.test".into(),
                name: "Dana".into(),
                role: Role::Customer,
                skills: Vec::new(),
                capacity: 0,
                password: None,
            },
        )
        .await
        .unwrap();
    let other = Actor::for_user(&other);
    let (subject, description) = text("account", 2000);
    let ticket = hd
        .open_ticket(&other, NewTicket::new(&subject, &description))
        .await
        .unwrap()
        .ticket;
    assert_ne!(ticket.triage.unwrap().source, TriageSource::Learned);
    let report = hd.train_triage_models().await.unwrap();
    assert!(report.trained.is_empty(), "{report:?}");
}
