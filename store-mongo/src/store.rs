//! The store handle: construction, collection access and small query helpers.

use bson::Document;
use futures_util::TryStreamExt;
use helpdesk_core::domain::{ChatSession, Tenant, Ticket, User};
use helpdesk_core::store::{
    ChatStore, RoutingStaff, Store, TenantStore, TicketStore, UserStore, WeakCommitSignal,
    with_open_loads,
};
use helpdesk_core::{ChatSessionId, Error, Result, TenantId, UserId};
use mongodb::{Client, Collection, Database};

use crate::error::{BACKEND, driver};
use crate::options::MongoStoreOptions;
use crate::upgrade;

/// Awaits a driver action inside `session` when there is one (an administrative change in
/// its transaction), else on its own.
macro_rules! in_session {
    ($session:expr, $action:expr) => {
        match $session.as_deref_mut() {
            Some(s) => $action.session(s).await,
            None => $action.await,
        }
    };
}
pub(crate) use in_session;

/// The MongoDB backend of the helpdesk store contract. See the [crate docs](crate) for the
/// document layout, the commit protocol and the guarantees it gives.
#[derive(Clone)]
pub struct MongoStore {
    db: Database,
    /// Put in front of every collection name (`helpdesk_`).
    prefix: std::sync::Arc<str>,
}

impl std::fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client's options may hold credentials: only the database name is shown.
        f.debug_struct("MongoStore")
            .field("database", &self.db.name())
            .field("collection_prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl MongoStore {
    /// A handle on `database` under `prefix` that neither checks nor upgrades the schema:
    /// what the upgrade itself works with.
    pub(crate) fn unopened(database: Database, prefix: &str) -> Self {
        Self {
            db: database,
            prefix: prefix.into(),
        }
    }

    /// A store on the host's database handle, with the default options (collections named
    /// `helpdesk_*`): see [`with_options`](Self::with_options).
    pub async fn new(database: Database) -> Result<Self> {
        Self::with_options(database, MongoStoreOptions::default()).await
    }

    /// A store on the host's database handle, its collections named with
    /// `options`' prefix next to the host's own. Creates the collections and indexes if
    /// they are missing (idempotent, safe to run from several instances at once) and
    /// records the schema version; a database of the unprefixed layout of earlier releases
    /// is moved under the prefix first (stop instances of the earlier release before).
    ///
    /// Fails with [`Error::SchemaTooNew`], writing nothing, when a newer engine has written
    /// the database.
    pub async fn with_options(database: Database, options: MongoStoreOptions) -> Result<Self> {
        upgrade::open(&database, options.prefix()).await?;
        Ok(Self::unopened(database, options.prefix()))
    }

    /// Connects to `uri` (a `mongodb://` or `mongodb+srv://` connection string) and opens
    /// the database `db_name` (1 to 63 bytes, none of `/\. "$` or NUL) with the default
    /// options.
    pub async fn connect(uri: &str, db_name: &str) -> Result<Self> {
        Self::connect_with(uri, db_name, MongoStoreOptions::default()).await
    }

    /// [`connect`](Self::connect) with `options` (see [`with_options`](Self::with_options)).
    pub async fn connect_with(
        uri: &str,
        db_name: &str,
        options: MongoStoreOptions,
    ) -> Result<Self> {
        validate_db_name(db_name)?;
        let client = Client::with_uri_str(uri)
            .await
            .map_err(|e| Error::Configuration {
                field: "uri".into(),
                message: describe_uri_error(&e),
            })?;
        Self::with_options(client.database(db_name), options).await
    }

    /// The database this store writes to (for host tools, backups and tests).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The client of the database (sessions and transactions start on it).
    pub(crate) fn client(&self) -> &Client {
        self.db.client()
    }

    /// The prefix in front of every collection name of this store.
    pub fn collection_prefix(&self) -> &str {
        &self.prefix
    }

    /// The server-side name of one of the store's collections (`"tickets"` gives
    /// `"helpdesk_tickets"` with the default prefix), for host tools and tests that read
    /// the documents directly.
    pub fn collection_name(&self, collection: &str) -> String {
        crate::schema::prefixed(&self.prefix, collection)
    }

    /// The store's collection `name` (a logical name of [`crate::schema`]).
    pub(crate) fn coll(&self, name: &str) -> Collection<Document> {
        self.db.collection::<Document>(&self.collection_name(name))
    }

    /// All documents matching `filter`, in `sort` order, at most `limit` (0 = no limit).
    pub(crate) async fn find_all(
        &self,
        collection: &str,
        filter: Document,
        sort: Document,
        limit: i64,
    ) -> Result<Vec<Document>> {
        let coll = self.coll(collection);
        let mut find = coll.find(filter).sort(sort);
        if limit > 0 {
            find = find.limit(limit);
        }
        find.await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)
    }

    /// One document matching `filter`.
    pub(crate) async fn find_one(
        &self,
        collection: &str,
        filter: Document,
    ) -> Result<Option<Document>> {
        self.coll(collection).find_one(filter).await.map_err(driver)
    }

    /// The documents an aggregation pipeline returns.
    pub(crate) async fn aggregate(
        &self,
        collection: &str,
        pipeline: Vec<Document>,
    ) -> Result<Vec<Document>> {
        self.coll(collection)
            .aggregate(pipeline)
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)
    }
}

/// The URI parse error's category, without echoing the URI (it may hold a password).
fn describe_uri_error(e: &mongodb::error::Error) -> String {
    match e.kind.as_ref() {
        mongodb::error::ErrorKind::InvalidArgument { .. } => {
            "not a valid MongoDB connection string".to_string()
        }
        mongodb::error::ErrorKind::DnsResolve { .. } => {
            "the SRV/TXT records of the host could not be resolved".to_string()
        }
        _ => "the connection string could not be used".to_string(),
    }
}

fn validate_db_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 63 {
        return Err(Error::validation("db_name", "must be 1 to 63 bytes"));
    }
    if let Some(c) = name.chars().find(|c| "/\\. \"$\0".contains(*c)) {
        return Err(Error::validation(
            "db_name",
            format!("{c:?} is not allowed in a MongoDB database name"),
        ));
    }
    Ok(())
}

#[async_trait::async_trait]
impl Store for MongoStore {
    fn backend_name(&self) -> &'static str {
        BACKEND
    }

    /// The user and the tenant are read concurrently: one round trip of latency, not two.
    async fn user_with_tenant(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<(Tenant, User)>> {
        let (user, tenant) =
            tokio::try_join!(self.get_user(tenant, user), self.get_tenant(tenant))?;
        Ok(user.zip(tenant).map(|(u, t)| (t, u)))
    }

    /// Two reads in a row (the ticket's id is in the session).
    async fn chat_session_with_ticket(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<(ChatSession, Option<Ticket>)>> {
        let Some(session) = self.get_chat_session(tenant, id).await? else {
            return Ok(None);
        };
        let ticket = match session.ticket_id {
            Some(ticket) => self.get_ticket(tenant, ticket).await?,
            None => None,
        };
        Ok(Some((session, ticket)))
    }

    /// The staff and the open-ticket counts are read concurrently (two queries in flight
    /// instead of three in a row).
    async fn routing_staff(&self, tenant: TenantId) -> Result<Vec<RoutingStaff>> {
        let (staff, counts) =
            tokio::try_join!(self.staff_of(tenant), self.open_ticket_counts(tenant))?;
        Ok(with_open_loads(staff, &counts))
    }

    /// Not relayed: change streams would carry other instances' commits, but they need a
    /// replica set and are not offered by every MongoDB-wire server; readers of the event
    /// feed see other instances' events when they next poll.
    async fn relay_commits(&self, _signal: WeakCommitSignal) -> Result<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn database_names_are_validated() {
        assert!(validate_db_name("helpdesk").is_ok());
        for bad in ["", "a.b", "a/b", "a b", "a$b", "a\"b", &"x".repeat(64)] {
            match validate_db_name(bad) {
                Err(Error::Validation { field, .. }) => assert_eq!(field, "db_name"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
