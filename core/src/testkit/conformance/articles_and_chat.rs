//! Conformance cases for knowledge-base articles and chat sessions.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Articles: create, update with version check, delete, list by title.
pub async fn articles_crud_and_conflict(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let mk = |title: &str| Article {
        id: ArticleId::new(),
        tenant_id: a.id,
        title: title.into(),
        body: format!("# {title}\n\nBody of {title}."),
        tags: vec!["howto".into()],
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    };
    let x = mk("Zeta");
    let y = mk("Alpha");
    store.create_article(&x).await.unwrap();
    store.create_article(&y).await.unwrap();
    assert_eq!(
        store.get_article(a.id, x.id).await.unwrap(),
        Some(x.clone())
    );
    let titles: Vec<String> = store
        .list_articles(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.title)
        .collect();
    assert_eq!(titles, vec!["Alpha", "Zeta"]);

    let mut x2 = x.clone();
    x2.body = "new body".into();
    x2.version = 2;
    x2.updated_at = at(5);
    store.update_article(1, &x2).await.unwrap();
    assert_eq!(
        store.get_article(a.id, x.id).await.unwrap(),
        Some(x2.clone())
    );
    let mut stale = x.clone();
    stale.version = 2;
    assert!(matches!(
        store.update_article(1, &stale).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(store.get_article(a.id, x.id).await.unwrap(), Some(x2));

    store.delete_article(a.id, x.id).await.unwrap();
    assert_eq!(store.get_article(a.id, x.id).await.unwrap(), None);
    assert!(matches!(
        store.delete_article(a.id, x.id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.list_articles(a.id).await.unwrap().len(), 1);
}

/// Chat sessions: create, versioned update, list newest first, idle selection.
pub async fn chat_sessions_crud_conflict_and_idle(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let other = user(&a, Role::Customer, "other@acme.test");
    store.create_user(&other).await.unwrap();
    let mk = |who: UserId, minutes: i64| ChatSession {
        id: ChatSessionId::new(),
        tenant_id: a.id,
        customer: who,
        ticket_id: None,
        state: ChatState::Bot,
        handoff_reason: None,
        resolved_by_bot: false,
        created_at: at(minutes),
        last_activity_at: at(minutes),
        closed_at: None,
        version: 1,
    };
    let s1 = mk(customer.id, 0);
    let s2 = mk(other.id, 10);
    let s3 = mk(customer.id, 20);
    for s in [&s1, &s2, &s3] {
        store.create_chat_session(s).await.unwrap();
    }
    assert_eq!(
        store.get_chat_session(a.id, s1.id).await.unwrap(),
        Some(s1.clone())
    );
    let ids: Vec<ChatSessionId> = store
        .list_chat_sessions(a.id, None)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![s3.id, s2.id, s1.id]);
    let mine: Vec<ChatSessionId> = store
        .list_chat_sessions(a.id, Some(customer.id))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(mine, vec![s3.id, s1.id]);

    let mut s1b = s1.clone();
    s1b.state = ChatState::Human;
    s1b.handoff_reason = Some("asked".into());
    s1b.last_activity_at = at(40);
    s1b.version = 2;
    store.update_chat_session(1, &s1b).await.unwrap();
    let mut stale = s1.clone();
    stale.version = 2;
    stale.state = ChatState::Closed;
    assert!(matches!(
        store.update_chat_session(1, &stale).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(
        store.get_chat_session(a.id, s1.id).await.unwrap(),
        Some(s1b.clone())
    );

    let mut s2c = s2.clone();
    s2c.state = ChatState::Closed;
    s2c.closed_at = Some(at(12));
    s2c.version = 2;
    store.update_chat_session(1, &s2c).await.unwrap();
    let idle: Vec<ChatSessionId> = store
        .idle_chat_sessions(a.id, at(30))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(idle, vec![s3.id], "s1 active at 40, s2 closed");
    let idle: Vec<ChatSessionId> = store
        .idle_chat_sessions(a.id, at(41))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(idle, vec![s3.id, s1.id], "oldest activity first");
    assert!(
        store
            .idle_chat_sessions(a.id, at(20))
            .await
            .unwrap()
            .is_empty(),
        "strictly before"
    );
}
