//! Conformance cases for the record of language-model usage: it commits with the ticket
//! write that carries it (and not when that write fails), can be recorded on its own, and
//! reads back added up per UTC day, use case and model, per tenant and within the range.

use super::{S, create, seed_tenant};
use crate::Error;
use crate::domain::{AiUseCase, EventKind, ModelUsage, ModelUsageDay, Priority};
use crate::store::TimeRange;
use crate::testkit::fixtures::{at, change, new_ticket};

const DAY: i64 = 24 * 60;

fn usage(minutes: i64, use_case: AiUseCase, model: &str, tokens: (u32, u32)) -> ModelUsage {
    ModelUsage::new(at(minutes), use_case, model, tokens.0, tokens.1)
}

fn whole(days: i64) -> TimeRange {
    TimeRange::new(at(-DAY), at(days * DAY)).unwrap()
}

/// Usage committed with a creating write, an update and on its own adds up per day, use
/// case and model exactly as [`ModelUsageDay::sum`] says; the range bounds it; another
/// tenant sees none of it.
pub async fn model_usage_commits_with_writes_and_adds_up_per_day(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, other, _) = seed_tenant(&store, "globex").await;
    let mut opening = new_ticket(a.id, customer.id, 0, "Usage", Priority::Medium, at(0));
    opening.model_usage = vec![
        usage(0, AiUseCase::Triage, "gemini-2.5-flash", (120, 30)),
        usage(0, AiUseCase::Triage, "llama-3.1-8b", (100, 20)),
    ];
    let created = store.create_ticket(opening.clone()).await.unwrap();
    let mut drafting = change(
        &created.ticket,
        vec![EventKind::TagsChanged {
            tags: vec!["ai".into()],
        }],
        at(DAY + 5),
        Some(agent.id),
    );
    drafting.model_usage = vec![
        usage(DAY + 5, AiUseCase::Draft, "gemini-2.5-flash", (900, 200)),
        usage(DAY + 6, AiUseCase::Draft, "gemini-2.5-flash", (1000, 250)),
    ];
    store.update_ticket(1, &drafting).await.unwrap();
    let alone = vec![
        usage(DAY + 7, AiUseCase::Summary, "gemini-2.5-flash", (700, 90)),
        usage(2 * DAY + 1, AiUseCase::Chat, "gemini-2.5-flash", (400, 60)),
    ];
    store.record_model_usage(a.id, &alone).await.unwrap();
    store.record_model_usage(a.id, &[]).await.unwrap();
    let elsewhere = new_ticket(b.id, other.id, 0, "Other", Priority::Low, at(3));
    let mut elsewhere = elsewhere;
    elsewhere.model_usage = vec![usage(3, AiUseCase::Triage, "gemini-2.5-flash", (5, 5))];
    store.create_ticket(elsewhere).await.unwrap();

    let mut all = opening.model_usage.clone();
    all.extend(drafting.model_usage.clone());
    all.extend(alone.clone());
    let days = store.model_usage_per_day(a.id, whole(3)).await.unwrap();
    assert_eq!(days, ModelUsageDay::sum(&all));
    assert_eq!(days.len(), 5, "{days:#?}");
    let drafts = days
        .iter()
        .find(|d| d.use_case == AiUseCase::Draft)
        .unwrap();
    assert_eq!(
        (drafts.calls, drafts.prompt_tokens, drafts.output_tokens),
        (2, 1900, 450)
    );
    assert!(days.windows(2).all(|w| w[0].day <= w[1].day));

    // The range is half-open and bounds what is read.
    let second_day = TimeRange::new(at(DAY), at(2 * DAY)).unwrap();
    let days = store.model_usage_per_day(a.id, second_day).await.unwrap();
    assert_eq!(
        days.iter().map(|d| d.use_case).collect::<Vec<_>>(),
        vec![AiUseCase::Draft, AiUseCase::Summary]
    );
    let b_days = store.model_usage_per_day(b.id, whole(3)).await.unwrap();
    assert_eq!(b_days.len(), 1);
    assert_eq!(b_days[0].prompt_tokens, 5);
}

/// A ticket write that fails (planned on a version another writer replaced) records none
/// of the usage it carried.
pub async fn a_failed_write_records_no_model_usage(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let w = create(&store, a.id, customer.id, "Stale", Priority::Low, 0).await;
    let tagging = |tag: &str| {
        change(
            &w.ticket,
            vec![EventKind::TagsChanged {
                tags: vec![tag.into()],
            }],
            at(1),
            Some(agent.id),
        )
    };
    store.update_ticket(1, &tagging("first")).await.unwrap();
    let mut stale = tagging("second");
    stale.model_usage = vec![usage(1, AiUseCase::Draft, "m", (10, 10))];
    let refused = store.update_ticket(1, &stale).await;
    assert!(
        matches!(refused, Err(Error::Conflict { .. })),
        "{refused:?}"
    );
    assert!(
        store
            .model_usage_per_day(a.id, whole(1))
            .await
            .unwrap()
            .is_empty()
    );
}
