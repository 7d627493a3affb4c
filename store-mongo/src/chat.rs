//! Chatbot sessions.

use async_trait::async_trait;
use bson::doc;
use helpdesk_core::domain::{ChatSession, ChatState};
use helpdesk_core::store::ChatStore;
use helpdesk_core::{ChatSessionId, DuplicateKind, Error, Result, TenantId, UserId};
use jiff::Timestamp;

use crate::codec::{date, int, serde_name};
use crate::error::{driver, is_duplicate_key};
use crate::mapping::{chat_doc, chat_from};
use crate::schema::CHAT_SESSIONS;
use crate::store::MongoStore;

#[async_trait]
impl ChatStore for MongoStore {
    async fn create_chat_session(&self, session: &ChatSession) -> Result<()> {
        match self
            .coll(CHAT_SESSIONS)
            .insert_one(chat_doc(session)?)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: session.id.to_string(),
            }),
            Err(e) => Err(driver(e)),
        }
    }

    async fn get_chat_session(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<ChatSession>> {
        self.find_one(
            CHAT_SESSIONS,
            doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() },
        )
        .await?
        .map(|d| chat_from(&d))
        .transpose()
    }

    async fn update_chat_session(
        &self,
        expected_version: u64,
        session: &ChatSession,
    ) -> Result<()> {
        let id = session.id.to_string();
        let tenant = session.tenant_id.to_string();
        let guard = doc! {
            "_id": &id,
            "tenant_id": &tenant,
            "version": int(expected_version, "expected_version")?,
        };
        let result = self
            .coll(CHAT_SESSIONS)
            .replace_one(guard, chat_doc(session)?)
            .await
            .map_err(driver)?;
        if result.matched_count == 1 {
            return Ok(());
        }
        match self
            .find_one(CHAT_SESSIONS, doc! { "_id": &id, "tenant_id": &tenant })
            .await?
        {
            None => Err(Error::not_found("chat_session", session.id)),
            Some(_) => Err(Error::Conflict {
                entity: "chat_session",
                id,
                expected: expected_version,
            }),
        }
    }

    async fn list_chat_sessions(
        &self,
        tenant: TenantId,
        customer: Option<UserId>,
    ) -> Result<Vec<ChatSession>> {
        let mut filter = doc! { "tenant_id": tenant.to_string() };
        if let Some(c) = customer {
            filter.insert("customer", c.to_string());
        }
        self.find_all(
            CHAT_SESSIONS,
            filter,
            doc! { "created_at": -1, "_id": -1 },
            0,
        )
        .await?
        .iter()
        .map(chat_from)
        .collect()
    }

    async fn idle_chat_sessions(
        &self,
        tenant: TenantId,
        idle_before: Timestamp,
    ) -> Result<Vec<ChatSession>> {
        let filter = doc! {
            "tenant_id": tenant.to_string(),
            "state": { "$ne": serde_name(&ChatState::Closed, "chat state")? },
            "last_activity_at": { "$lt": date(idle_before) },
        };
        self.find_all(
            CHAT_SESSIONS,
            filter,
            doc! { "last_activity_at": 1, "_id": 1 },
            0,
        )
        .await?
        .iter()
        .map(chat_from)
        .collect()
    }
}
