//! Shared set-up: a fresh database per test on the server named by `MONGODB_URI`.
#![allow(clippy::expect_used, dead_code)]

pub(crate) mod tickets;

use std::sync::Arc;

use helpdesk_store_mongo::MongoStore;

/// Why the tests are ignored without a server.
pub(crate) const NEEDS_SERVER: &str = "set MONGODB_URI (see scripts/start-mongo.sh)";

/// A unique database name for one test.
pub(crate) fn fresh_db_name() -> String {
    format!("hdtest_{}", uuid::Uuid::now_v7().simple())
}

/// A store on a fresh database of the `MONGODB_URI` server.
pub(crate) async fn fresh_mongo() -> MongoStore {
    let uri =
        std::env::var("MONGODB_URI").expect("MONGODB_URI is set (see scripts/start-mongo.sh)");
    MongoStore::connect(&uri, &fresh_db_name())
        .await
        .expect("connect to MONGODB_URI")
}

/// [`fresh_mongo`] as a shared contract handle.
pub(crate) async fn fresh_store() -> Arc<dyn helpdesk_core::Store> {
    Arc::new(fresh_mongo().await)
}

/// A small deterministic pseudo-random sequence (xorshift64*), seeded from the clock
/// unless `HELPDESK_TEST_SEED` is set; the seed is printed so a failure can be replayed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn from_env() -> Self {
        let seed = std::env::var("HELPDESK_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        println!("HELPDESK_TEST_SEED={seed}");
        Self(seed | 1)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// The commands a store sent, as the driver reports them when it sends them.
#[derive(Clone, Default)]
pub(crate) struct Commands(Arc<std::sync::Mutex<Vec<(String, bson::Document)>>>);

impl Commands {
    /// The commands (name, command document) sent since the last call, in order.
    pub(crate) fn take(&self) -> Vec<(String, bson::Document)> {
        std::mem::take(&mut *self.0.lock().expect("the command log"))
    }
}

/// [`fresh_mongo`] whose commands are recorded.
pub(crate) async fn watched_mongo() -> (MongoStore, Commands) {
    use mongodb::event::EventHandler;
    use mongodb::event::command::CommandEvent;

    let uri =
        std::env::var("MONGODB_URI").expect("MONGODB_URI is set (see scripts/start-mongo.sh)");
    let mut options = mongodb::options::ClientOptions::parse(&uri)
        .await
        .expect("a valid MONGODB_URI");
    let commands = Commands::default();
    let log = commands.0.clone();
    options.command_event_handler = Some(EventHandler::callback(move |e| {
        if let CommandEvent::Started(s) = e {
            log.lock()
                .expect("the command log")
                .push((s.command_name, s.command));
        }
    }));
    let client = mongodb::Client::with_options(options).expect("a client");
    let store = MongoStore::new(client.database(&fresh_db_name()))
        .await
        .expect("open the store");
    commands.take();
    (store, commands)
}

/// The index names of every IXSCAN in an explain's plans (the winning one and the
/// rejected ones): the indexes the server's planner can use for a filter.
pub(crate) async fn usable_indexes(
    db: &mongodb::Database,
    collection: &str,
    filter: bson::Document,
) -> Vec<String> {
    let explained = db
        .run_command(bson::doc! {
            "explain": { "find": collection, "filter": filter },
            "verbosity": "queryPlanner",
        })
        .await
        .expect("explain");
    let mut names = Vec::new();
    if let Ok(planner) = explained.get_document("queryPlanner") {
        for key in ["winningPlan", "rejectedPlans"] {
            if let Some(plan) = planner.get(key) {
                index_names(plan, &mut names);
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

fn index_names(plan: &bson::Bson, into: &mut Vec<String>) {
    match plan {
        bson::Bson::Document(d) => {
            if d.get_str("stage") == Ok("IXSCAN")
                && let Ok(name) = d.get_str("indexName")
            {
                into.push(name.to_owned());
            }
            for value in d.values() {
                index_names(value, into);
            }
        }
        bson::Bson::Array(items) => items.iter().for_each(|i| index_names(i, into)),
        _ => {}
    }
}

/// Whether the server bounds an index with an anchored regular expression on an array of
/// strings (MongoDB does; SecantusDB 0.7 reads the collection for any `$regex`), probed on
/// a collection of its own in `db`.
pub(crate) async fn bounds_anchored_regexes(db: &mongodb::Database) -> bool {
    let probe = db.collection::<bson::Document>("probe_regex_bounds");
    probe
        .create_index(
            mongodb::IndexModel::builder()
                .keys(bson::doc! { "t": 1, "w": 1 })
                .build(),
        )
        .await
        .expect("create the probe's index");
    probe
        .insert_one(bson::doc! { "t": "x", "w": ["abc", "def"] })
        .await
        .expect("insert the probe");
    let filter = bson::doc! { "t": "x", "w": { "$regex": "^ab" } };
    !usable_indexes(db, "probe_regex_bounds", filter)
        .await
        .is_empty()
}
