//! The e-mail quarantine's use cases: raw mail kept in the blob store with its row, seen,
//! downloaded, released and discarded by admins only, never across tenants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attachments_common;

use std::sync::Arc;

use helpdesk_core::domain::{Actor, TenantSettings};
use helpdesk_core::service::NewTicket;
use helpdesk_core::store::{QuarantineReason, QuarantineStatus};
use helpdesk_core::{Error, TicketId};

use attachments_common::{Desk, desk, desk_with, is_not_found};

async fn portal_ticket(d: &Desk, customer: &Actor) -> TicketId {
    d.hd.open_ticket(customer, NewTicket::new("Printer", "It jams."))
        .await
        .unwrap()
        .ticket
        .id
}

#[tokio::test]
async fn quarantine_round_trip_for_admins_only() {
    let d = desk().await;
    let raw: Arc<[u8]> = Arc::from(&b"Subject: broken\r\n\r\n\xff\xfe"[..]);
    let held =
        d.hd.quarantine_email(
            d.admin.tenant_id,
            raw.clone(),
            QuarantineReason::Malformed,
            "no From header",
            "pipe",
            None,
            Some("broken"),
        )
        .await
        .unwrap();
    assert!(held.is_held());
    assert_eq!(held.size, raw.len() as u64);

    let list = d.hd.list_quarantine(&d.admin, true, 50).await.unwrap();
    assert_eq!(list, std::slice::from_ref(&held));
    let (mail, bytes) = d.hd.quarantined_mail(&d.admin, held.id).await.unwrap();
    assert_eq!((mail, &bytes[..]), (held.clone(), &raw[..]));

    for actor in [&d.agent, &d.customer] {
        let e = d.hd.list_quarantine(actor, false, 50).await.unwrap_err();
        assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
        let e = d.hd.quarantined_mail(actor, held.id).await.unwrap_err();
        assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
        let e = d.hd.discard_quarantined(actor, held.id).await.unwrap_err();
        assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    }
    let e =
        d.hd.quarantined_mail(&d.other_admin, held.id)
            .await
            .unwrap_err();
    assert!(is_not_found(&e, "quarantine"), "{e:?}");

    let ticket = portal_ticket(&d, &d.customer).await;
    let released =
        d.hd.release_quarantined(&d.admin, held.id, Some(ticket))
            .await
            .unwrap();
    assert!(matches!(
        released.status,
        QuarantineStatus::Released { ticket: Some(t), .. } if t == ticket
    ));
    assert!(
        d.hd.list_quarantine(&d.admin, true, 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        d.hd.list_quarantine(&d.admin, false, 50)
            .await
            .unwrap()
            .len(),
        1
    );

    let other =
        d.hd.quarantine_email(
            d.admin.tenant_id,
            Arc::from(&b"x"[..]),
            QuarantineReason::RateLimited,
            "too many",
            "imap:INBOX",
            Some("a@b.test"),
            None,
        )
        .await
        .unwrap();
    let discarded = d.hd.discard_quarantined(&d.admin, other.id).await.unwrap();
    assert!(matches!(
        discarded.status,
        QuarantineStatus::Discarded { .. }
    ));
}

#[tokio::test]
async fn quarantine_without_a_blob_store_names_it() {
    let d = desk_with(TenantSettings::default(), false).await;
    let e =
        d.hd.quarantine_email(
            d.admin.tenant_id,
            Arc::from(&b"x"[..]),
            QuarantineReason::Failed,
            "",
            "pipe",
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Configuration { field, .. } if field == "blob_store"),
        "{e:?}"
    );
}
