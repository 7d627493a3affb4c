//! Shared test helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use helpdesk_core::domain::{Article, Tenant, TenantSettings};
use helpdesk_core::{ArticleId, TenantId};

/// A fixed timestamp.
pub(crate) fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_750_000_000).unwrap()
}

/// An article of `tenant`.
pub(crate) fn article(tenant: TenantId, title: &str, body: &str) -> Article {
    Article {
        id: ArticleId::new(),
        tenant_id: tenant,
        title: title.into(),
        body: body.into(),
        tags: Vec::new(),
        created_at: now(),
        updated_at: now(),
        version: 1,
    }
}

/// A tenant with default settings.
pub(crate) fn tenant(slug: &str) -> Tenant {
    Tenant {
        id: TenantId::new(),
        name: slug.into(),
        slug: slug.into(),
        settings: TenantSettings::default(),
        created_at: now(),
    }
}

/// A small help centre.
pub(crate) fn help_centre(tenant: TenantId) -> Vec<Article> {
    vec![
        article(
            tenant,
            "Resetting your password",
            "# Forgotten password\n\nOpen the sign-in page and choose *Forgot password*. We e-mail a reset link that works for 30 minutes.\n\n## Locked account\n\nAfter five failed sign-in attempts the account is locked for an hour. Contact support to unlock it sooner.",
        ),
        article(
            tenant,
            "Refund policy",
            "# Refunds\n\nRefunds go back to the original payment card within 5 business days. Annual plans are refunded pro rata.\n\n## Disputed charges\n\nIf you see a charge you do not recognise, tell us before opening a dispute with your bank.",
        ),
        article(
            tenant,
            "Shipping times",
            "# Delivery\n\nOrders ship within two days. Tracking numbers arrive by e-mail once the parcel leaves our warehouse. International delivery takes up to three weeks.",
        ),
        article(
            tenant,
            "Uploading photos in the app",
            "# Photo uploads\n\nPhotos up to 20 MB in JPEG or PNG are accepted. If the app crashes during an upload, update it to the latest version and restart the phone.",
        ),
    ]
}
