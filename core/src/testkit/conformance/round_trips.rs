//! What the main use cases cost the store, counted by [`CountingStore`] around the store
//! under test: round trips of latency (calls in flight together count once) and commits.
//! The limits are the design's: intake at most 3 round trips with one commit, an agent
//! reply at most 2 with one commit, a canned response sent as edited at most 3 with one
//! commit, a bulk change one read and one commit per ticket, a later chat turn the bot answers at most 4 with two
//! commits, and a handoff one commit. `BENCHMARKS.md` lists the figures.

use std::sync::Arc;

use super::S;
use crate::domain::{Actor, CannedActions, Role, TicketStatus};
use crate::service::{ArticleInput, CannedResponseInput, NewReply, NewTenant, NewTicket, NewUser};
use crate::testkit::{CountingStore, FakeEmbedder, InMemoryKnowledgeBase, StoreCost};
use crate::{Helpdesk, KnowledgeBase};

/// The answer the offline bot finds word for word in the knowledge base.
const ANSWER: &str = "To reset your password, open Settings, choose Security and press Reset.";

fn within(what: &str, cost: StoreCost, round_trips: u64, commits: u64) {
    println!(
        "{what}: {} round trips, {} calls, {} commits",
        cost.round_trips, cost.calls, cost.commits
    );
    assert!(
        cost.round_trips <= round_trips,
        "{what}: {cost:?}, at most {round_trips} round trips"
    );
    assert_eq!(cost.commits, commits, "{what}: {cost:?}");
}

/// Intake, an agent's reply, a chat turn the bot answers and a handoff, each within its
/// round trips and with its number of commits.
pub async fn use_cases_stay_within_their_round_trips(store: S) {
    let counted = Arc::new(CountingStore::new(store));
    let embedder = Arc::new(FakeEmbedder::new());
    let kb = Arc::new(InMemoryKnowledgeBase::new(embedder));
    let hd = Helpdesk::builder(counted.clone())
        .knowledge_base(kb.clone() as Arc<dyn KnowledgeBase>)
        .build()
        .unwrap();
    let (_, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Ada", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let agent = Actor::for_user(
        &hd.add_user(&admin, NewUser::new("agent@acme.test", "Bob", Role::Agent))
            .await
            .unwrap(),
    );
    let customer = Actor::for_user(
        &hd.add_user(
            &admin,
            NewUser::new("carl@customer.test", "Carl", Role::Customer),
        )
        .await
        .unwrap(),
    );
    hd.create_article(&admin, ArticleInput::new("Passwords", ANSWER))
        .await
        .unwrap();
    // Indexing runs in the background (and reads the article back): let it finish first.
    hd.index_settled().await;

    counted.take();
    let ticket = hd
        .open_ticket(
            &customer,
            NewTicket::new("Cannot log in", "My password fails."),
        )
        .await
        .unwrap()
        .ticket;
    within("intake", counted.take(), 3, 1);

    hd.reply(&agent, ticket.id, NewReply::new("Try a reset, please."))
        .await
        .unwrap();
    within("agent reply", counted.take(), 2, 1);

    let canned = hd
        .create_canned_response(
            &agent,
            CannedResponseInput {
                name: "Reset".into(),
                body: "Hi {{customer.first_name}}, try a reset.".into(),
                actions: CannedActions {
                    status: Some(TicketStatus::Pending),
                    ..CannedActions::default()
                },
                ..CannedResponseInput::default()
            },
        )
        .await
        .unwrap();
    counted.take();
    hd.apply_canned_response(&agent, ticket.id, canned.id, Some("Edited.".into()))
        .await
        .unwrap();
    within("canned response sent as edited", counted.take(), 3, 1);

    let second = hd
        .open_ticket(&customer, NewTicket::new("Also this", "And this."))
        .await
        .unwrap()
        .ticket;
    counted.take();
    let tags = CannedActions {
        add_tags: vec!["login".into()],
        ..CannedActions::default()
    };
    hd.bulk_change(&agent, &[ticket.id, second.id], tags)
        .await
        .unwrap();
    // The actor's check, then a read and a write per ticket.
    within("bulk change of two tickets", counted.take(), 5, 2);

    let session = hd.start_chat(&customer).await.unwrap();
    // The first turn opens the chat ticket; the bot answers it from the knowledge base.
    hd.chat_message(&customer, session.id, ANSWER)
        .await
        .unwrap();
    counted.take();
    let turn = hd
        .chat_message(&customer, session.id, ANSWER)
        .await
        .unwrap();
    assert!(
        matches!(turn.reply, crate::ai::ChatReply::Answered(_)),
        "{:?}",
        turn.reply
    );
    within("later chat turn answered by the bot", counted.take(), 4, 2);

    hd.request_human(&customer, session.id).await.unwrap();
    within("handoff (asking for a human)", counted.take(), 3, 1);
}
