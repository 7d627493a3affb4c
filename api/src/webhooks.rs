//! Webhook delivery: the tenant's events posted to the endpoints its admins registered,
//! signed per the Standard Webhooks specification, at least once, with retries and backoff.
//!
//! Each endpoint keeps its own place in the tenant's event feed (the store's event log),
//! so deliveries survive restarts and any instance can make them; one instance at a time
//! does (a store lease). For an endpoint that is due, the sender reads the next page of
//! events after its cursor, posts those of the kinds it wants in order (and the events of
//! automation rules that call it, whatever their kind), and records:
//!
//! - every post answered 2xx: the cursor moves past the page and failures reset;
//! - a post refused or unanswered: nothing moves, the next attempt waits a backoff that
//!   doubles per failure (from `first_retry` up to `max_retry`), and after
//!   `disable_after` failures in a row the endpoint is disabled with the reason shown to
//!   admins. The page is posted again from its start on the next attempt, so a receiver
//!   may see an event twice: its `webhook-id` (the event's id) is the same each time.
//!
//! Each post is `{"type": "ticket.<kind>", "timestamp": ..., "data": <LiveEvent>}` with the
//! headers `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,<HMAC-SHA256>`;
//! during the grace period after a secret rotation, signed with both secrets).

use std::time::Duration;

use helpdesk_core::domain::{EventKind, WebhookEndpoint, WebhookOutcome};
use helpdesk_core::service::{FeedCursor, FeedItem};
use helpdesk_core::{Error, Helpdesk};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use standardwebhooks::Webhook;

use crate::resources::LiveEvent;

/// How webhooks are delivered. The defaults suit production; tests shorten the times.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// How often the sender looks for due endpoints.
    pub poll: Duration,
    /// How long one post may take.
    pub timeout: Duration,
    /// The wait after the first failure; it doubles with each further one.
    pub first_retry: Duration,
    /// The longest wait between attempts.
    pub max_retry: Duration,
    /// Failures in a row after which the endpoint is disabled.
    pub disable_after: u32,
    /// How long after a rotation deliveries are also signed with the previous secret.
    pub rotation_grace: Duration,
    /// Events read per page.
    pub page: u32,
}

impl Default for WebhookDelivery {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(10),
            max_retry: Duration::from_secs(3600),
            disable_after: 12,
            rotation_grace: Duration::from_secs(24 * 3600),
            page: 50,
        }
    }
}

/// What one round of deliveries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// Whether this instance held the delivery lease (another may have).
    pub ran: bool,
    /// Events posted and acknowledged.
    pub delivered: u64,
    /// Endpoints whose attempt failed.
    pub failed: u64,
    /// Endpoints disabled for failing.
    pub disabled: u64,
}

/// Delivers the tenant events of every endpoint that is due.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    helpdesk: Helpdesk,
    client: reqwest::Client,
    delivery: WebhookDelivery,
}

/// How long a round waits after a commit signal for more writes to batch with.
const BATCHING: Duration = Duration::from_millis(50);

/// The store lease that lets one instance deliver at a time.
const LEASE: &str = "webhook-delivery";
/// Endpoints handled per round.
const ENDPOINTS_PER_ROUND: u32 = 100;
/// Pages posted to one endpoint per round, so one busy endpoint cannot hold the lease.
const PAGES_PER_ENDPOINT: usize = 10;

impl WebhookSender {
    /// A sender for `helpdesk`'s endpoints.
    pub fn new(helpdesk: Helpdesk, delivery: WebhookDelivery) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(delivery.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("helpdesk-rs-webhooks")
            .build()
            .map_err(|e| Error::Configuration {
                field: "webhook http client".into(),
                message: e.to_string(),
            })?;
        Ok(Self {
            helpdesk,
            client,
            delivery,
        })
    }

    /// Delivers forever (spawn it on the runtime; abort the task to stop): a round after
    /// each commit signal ([`Helpdesk::commit_waiter`]; other instances' commits too on a
    /// store that relays them), after a 50 ms pause so a burst of writes goes out in
    /// one round, and a round every `poll` in any case (retries fall due with
    /// time, and a store may not relay). Failures of a round are logged and the next round
    /// tries again.
    pub async fn run(self) {
        let mut waiter = self.helpdesk.commit_waiter().await;
        loop {
            if let Err(error) = self.deliver_due().await {
                tracing::warn!(%error, "webhook delivery round failed");
            }
            if waiter.wait_any(self.delivery.poll).await {
                tokio::time::sleep(BATCHING.min(self.delivery.poll)).await;
            }
        }
    }

    /// One round: every due endpoint, if this instance gets the delivery lease.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, Error> {
        let now = self.helpdesk.now();
        let round = async {
            let mut report = DeliveryReport {
                ran: true,
                ..DeliveryReport::default()
            };
            let due = self
                .helpdesk
                .store()
                .due_webhooks(now, ENDPOINTS_PER_ROUND)
                .await?;
            for endpoint in due {
                self.deliver_to(endpoint, &mut report).await?;
            }
            Ok(report)
        };
        Ok(self
            .helpdesk
            .with_lease(LEASE, now, round)
            .await?
            .unwrap_or_default())
    }

    async fn deliver_to(
        &self,
        mut endpoint: WebhookEndpoint,
        report: &mut DeliveryReport,
    ) -> Result<(), Error> {
        let mut cursor = match &endpoint.cursor {
            Some(text) => FeedCursor::decode(text)?,
            // A new endpoint gets what happens from its registration on.
            None => FeedCursor::from_time(endpoint.created_at),
        };
        for _ in 0..PAGES_PER_ENDPOINT {
            let page = self
                .helpdesk
                .tenant_event_feed(endpoint.tenant_id, Some(&cursor), self.delivery.page)
                .await?;
            let wanted = page.items.into_iter().filter(|item| {
                endpoint.event_types.is_empty()
                    || endpoint.event_types.iter().any(|t| t == item.kind)
                    || called_by_rule(&endpoint, item)
            });
            for item in wanted {
                if let Err(reason) = self.post(&endpoint, item).await {
                    self.record_failure(&endpoint, reason, report).await?;
                    return Ok(());
                }
                report.delivered += 1;
            }
            if page.cursor != cursor || endpoint.consecutive_failures > 0 {
                let outcome = WebhookOutcome::Delivered {
                    cursor: page.cursor.encode(),
                };
                self.helpdesk
                    .store()
                    .record_webhook_delivery(endpoint.tenant_id, endpoint.id, &outcome)
                    .await?;
                endpoint.consecutive_failures = 0;
            }
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        Ok(())
    }

    /// Posts one event; `Err` with a reason for admins when it was not acknowledged.
    async fn post(&self, endpoint: &WebhookEndpoint, item: FeedItem) -> Result<(), String> {
        let id = item.id.to_string();
        let body = serde_json::to_vec(&WebhookPayload {
            kind: format!("ticket.{}", item.kind),
            timestamp: item.at,
            data: LiveEvent::new(item, true),
        })
        .map_err(|e| format!("could not encode the event: {e}"))?;
        let now = self.helpdesk.now();
        let signature = self.signature(endpoint, &id, now.as_second(), &body)?;
        let response = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", now.as_second().to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!("no answer within {} s", self.delivery.timeout.as_secs())
                } else {
                    format!("could not connect: {}", root_cause(&e))
                }
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("answered HTTP {}", status.as_u16()))
        }
    }

    /// `v1,<sig>`, plus the previous secret's `v1,<sig>` during the rotation grace period.
    fn signature(
        &self,
        endpoint: &WebhookEndpoint,
        id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Result<String, String> {
        let sign = |secret: &str| {
            Webhook::new(secret)
                .and_then(|w| w.sign(id, timestamp, body))
                .map_err(|e| format!("the endpoint's secret cannot sign: {e}"))
        };
        let mut signature = sign(endpoint.secret.as_str())?;
        let in_grace = endpoint.rotated_at.is_some_and(|at| {
            SignedDuration::try_from(self.delivery.rotation_grace)
                .ok()
                .and_then(|grace| at.checked_add(grace).ok())
                .is_some_and(|until| self.helpdesk.now() < until)
        });
        if let (true, Some(previous)) = (in_grace, &endpoint.previous_secret) {
            signature.push(' ');
            signature.push_str(&sign(previous.as_str())?);
        }
        Ok(signature)
    }

    async fn record_failure(
        &self,
        endpoint: &WebhookEndpoint,
        reason: String,
        report: &mut DeliveryReport,
    ) -> Result<(), Error> {
        let failures = endpoint.consecutive_failures.saturating_add(1);
        let wait = self
            .delivery
            .first_retry
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(20)))
            .min(self.delivery.max_retry);
        let next_attempt_at = SignedDuration::try_from(wait)
            .ok()
            .and_then(|wait| self.helpdesk.now().checked_add(wait).ok())
            .unwrap_or_else(|| self.helpdesk.now());
        let disable = (failures >= self.delivery.disable_after).then(|| {
            format!("disabled after {failures} failed deliveries in a row; the last {reason}")
        });
        tracing::warn!(
            endpoint = %endpoint.id,
            tenant = %endpoint.tenant_id,
            failures,
            %reason,
            disabled = disable.is_some(),
            "webhook delivery failed"
        );
        report.failed += 1;
        if disable.is_some() {
            report.disabled += 1;
        }
        let outcome = WebhookOutcome::Failed {
            next_attempt_at,
            disable,
        };
        self.helpdesk
            .store()
            .record_webhook_delivery(endpoint.tenant_id, endpoint.id, &outcome)
            .await
    }
}

/// The body of a webhook post.
#[derive(Debug, Serialize)]
struct WebhookPayload {
    /// `ticket.<kind>`.
    #[serde(rename = "type")]
    kind: String,
    /// When the event happened.
    timestamp: Timestamp,
    /// The event.
    data: LiveEvent,
}

/// The innermost cause of a transport error ("Connection refused"), without the URL.
/// Whether `item` is an automation rule's event that calls `endpoint` (its
/// `call_webhook` action), which the endpoint gets whatever kinds it subscribed to.
fn called_by_rule(endpoint: &WebhookEndpoint, item: &FeedItem) -> bool {
    matches!(
        &item.event.kind,
        EventKind::AutomationApplied { webhooks, .. } if webhooks.contains(&endpoint.id)
    )
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
