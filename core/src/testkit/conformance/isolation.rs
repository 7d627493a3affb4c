//! Conformance case for tenant isolation across every read and write.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Nothing of tenant A is visible, countable or changeable through tenant B.
pub async fn tenant_isolation(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, _, b_agent) = seed_tenant(&store, "beta").await;
    let w = create(&store, a.id, customer.id, "Secret", Priority::Urgent, 0).await;
    let c = change(
        &w.ticket,
        vec![EventKind::Assigned {
            from: None,
            to: Some(agent.id),
        }],
        at(1),
        None,
    );
    store.update_ticket(1, &c).await.unwrap();
    let article = Article {
        id: ArticleId::new(),
        tenant_id: a.id,
        title: "Secret article".into(),
        body: "body".into(),
        tags: vec![],
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    };
    store.create_article(&article).await.unwrap();
    let chat = ChatSession {
        ticket_id: Some(w.ticket.id),
        ..chat_activity::bot_session(a.id, customer.id)
    };
    store.create_chat_session(&chat).await.unwrap();

    assert_eq!(store.get_ticket(b.id, w.ticket.id).await.unwrap(), None);
    assert_eq!(
        store
            .get_ticket_by_number(b.id, w.ticket.number)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .list_tickets(b.id, &TicketQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        store
            .list_events(b.id, w.ticket.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_messages(b.id, w.ticket.id, MessageFilter::All)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.get_message(b.id, w.messages[0].id).await.unwrap(),
        None
    );
    assert!(store.open_ticket_counts(b.id).await.unwrap().is_empty());
    assert!(store.list_outbox(b.id).await.unwrap().is_empty());
    assert_eq!(store.get_article(b.id, article.id).await.unwrap(), None);
    assert!(store.list_articles(b.id).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_article(b.id, article.id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.get_chat_session(b.id, chat.id).await.unwrap(), None);
    assert!(
        store
            .list_chat_sessions(b.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .idle_chat_sessions(b.id, at(1000))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_users(b.id, None)
            .await
            .unwrap()
            .iter()
            .all(|u| u.tenant_id == b.id)
    );
    assert_eq!(store.get_user(b.id, agent.id).await.unwrap(), None);
    assert_eq!(store.get_user(a.id, b_agent.id).await.unwrap(), None);
    let range = TimeRange::new(at(-60), at(10_000)).unwrap();
    let stats = store.analytics(b.id, range, at(100)).await.unwrap();
    assert_eq!(stats.total, 0);
    assert_eq!(stats.backlog, 0);
    assert!(stats.agents.is_empty());
    let mut foreign_article = article.clone();
    foreign_article.tenant_id = b.id;
    assert!(matches!(
        store.update_article(1, &foreign_article).await,
        Err(Error::NotFound { .. })
    ));
    let mut foreign_chat = chat.clone();
    foreign_chat.tenant_id = b.id;
    foreign_chat.version = 2;
    assert!(matches!(
        store.update_chat_session(1, &foreign_chat).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        store.get_article(a.id, article.id).await.unwrap(),
        Some(article)
    );
    assert_eq!(
        store.get_chat_session(a.id, chat.id).await.unwrap(),
        Some(chat)
    );
}
