//! Tenant isolation as a property: three tenants on one store and one knowledge base, and
//! random sequences of operations by their admins, agents and customers (open ticket, reply,
//! note, transition, assign, list with filters, get ticket, search the knowledge base,
//! related articles, analytics), each aimed at any ticket or user of any tenant.
//!
//! After every operation:
//! * nothing returned belongs to another tenant (tickets, messages, events, chunks,
//!   analytics agents), and listings and analytics count exactly the caller's own tickets;
//! * an id of another tenant (or, for a customer, of another customer) is reported as
//!   `NotFound`, and the foreign ticket is left byte-for-byte unchanged;
//! * the store itself answers `None`/empty for a foreign id under the caller's tenant.
//!
//! Run on `MemoryStore` with core's `InMemoryKnowledgeBase`, on `SqliteStore` (a temporary
//! file per case) with kb-search's `KbIndex` (a temporary folder per case, `FakeEmbedder`,
//! no model needed), on `MongoStore` (a database per case, dropped afterwards) when
//! `MONGODB_URI` is set, and on `PostgresStore` (likewise) when `HELPDESK_POSTGRES_URL` is
//! set; without them those variants are reported as ignored with the reason.
//! Case counts are bounded (override with `HELPDESK_ISOLATION_CASES`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod pg;

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use helpdesk_core::domain::{Actor, Article, Role, Ticket, TicketStatus};
use helpdesk_core::service::{NewReply, NewTenant, NewTicket, NewUser};
use helpdesk_core::store::{AssigneeFilter, MemoryStore, MessageFilter, TicketQuery, TimeRange};
use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase, ManualClock};
use helpdesk_core::{ArticleId, Error, Helpdesk, KnowledgeBase, Store, TenantId, TicketId, UserId};
use helpdesk_kb_search::{KbIndex, KbIndexOptions};
use helpdesk_store_sqlite::SqliteStore;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};

/// Operations run, and operations on a ticket the actor may not see (reported at the end,
/// so a run that never tried a foreign id would show it).
static OPS: AtomicUsize = AtomicUsize::new(0);
static HIDDEN: AtomicUsize = AtomicUsize::new(0);

const TENANTS: usize = 3;
const CUSTOMERS: usize = 2;
const WORDS: &[&str] = &["refund", "password", "crash", "invoice", "login", "export"];
const STATUSES: &[TicketStatus] = &[
    TicketStatus::Open,
    TicketStatus::InProgress,
    TicketStatus::Pending,
    TicketStatus::Escalated,
    TicketStatus::Resolved,
    TicketStatus::Closed,
];

/// Who acts, within the chosen tenant.
#[derive(Debug, Clone, Copy)]
enum Who {
    Admin,
    Agent,
    Customer(usize),
}

/// A user of some tenant, by position.
#[derive(Debug, Clone, Copy)]
struct UserRef {
    tenant: usize,
    who: Who,
}

/// One random operation. `ticket` picks among every ticket created so far, in any tenant.
#[derive(Debug, Clone)]
enum Op {
    Open {
        tenant: usize,
        who: Who,
        word: usize,
        on_behalf: Option<UserRef>,
    },
    Reply {
        tenant: usize,
        who: Who,
        ticket: Index,
    },
    Note {
        tenant: usize,
        staff: Who,
        ticket: Index,
    },
    Transition {
        tenant: usize,
        who: Who,
        ticket: Index,
        to: usize,
    },
    Assign {
        tenant: usize,
        staff: Who,
        ticket: Index,
        to: Option<UserRef>,
    },
    List {
        tenant: usize,
        who: Who,
        statuses: Vec<usize>,
        assignee: Option<Option<UserRef>>,
        requester: Option<UserRef>,
        word: Option<usize>,
        category: Option<usize>,
    },
    Get {
        tenant: usize,
        who: Who,
        ticket: Index,
    },
    SearchKb {
        tenant: usize,
        word: usize,
    },
    Related {
        tenant: usize,
        staff: Who,
        ticket: Index,
    },
    Analytics {
        tenant: usize,
    },
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        Just(Who::Admin),
        Just(Who::Agent),
        (0..CUSTOMERS).prop_map(Who::Customer),
    ]
}

fn staff() -> impl Strategy<Value = Who> {
    prop_oneof![Just(Who::Admin), Just(Who::Agent)]
}

fn user_ref() -> impl Strategy<Value = UserRef> {
    (0..TENANTS, who()).prop_map(|(tenant, who)| UserRef { tenant, who })
}

fn op() -> impl Strategy<Value = Op> {
    let t = || 0..TENANTS;
    prop_oneof![
        3 => (t(), who(), 0..WORDS.len(), proptest::option::of(user_ref())).prop_map(
            |(tenant, who, word, on_behalf)| Op::Open { tenant, who, word, on_behalf }
        ),
        2 => (t(), who(), any::<Index>())
            .prop_map(|(tenant, who, ticket)| Op::Reply { tenant, who, ticket }),
        1 => (t(), staff(), any::<Index>())
            .prop_map(|(tenant, staff, ticket)| Op::Note { tenant, staff, ticket }),
        2 => (t(), who(), any::<Index>(), 0..STATUSES.len())
            .prop_map(|(tenant, who, ticket, to)| Op::Transition { tenant, who, ticket, to }),
        1 => (t(), staff(), any::<Index>(), proptest::option::of(user_ref()))
            .prop_map(|(tenant, staff, ticket, to)| Op::Assign { tenant, staff, ticket, to }),
        2 => (
            t(),
            who(),
            proptest::collection::vec(0..STATUSES.len(), 0..3),
            proptest::option::of(proptest::option::of(user_ref())),
            proptest::option::of(user_ref()),
            proptest::option::of(0..WORDS.len()),
            proptest::option::of(0..4usize),
        )
            .prop_map(|(tenant, who, statuses, assignee, requester, word, category)| Op::List {
                tenant, who, statuses, assignee, requester, word, category
            }),
        2 => (t(), who(), any::<Index>())
            .prop_map(|(tenant, who, ticket)| Op::Get { tenant, who, ticket }),
        1 => (t(), 0..WORDS.len()).prop_map(|(tenant, word)| Op::SearchKb { tenant, word }),
        1 => (t(), staff(), any::<Index>())
            .prop_map(|(tenant, staff, ticket)| Op::Related { tenant, staff, ticket }),
        1 => t().prop_map(|tenant| Op::Analytics { tenant }),
    ]
}

fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 1..max)
}

const CATEGORIES: &[&str] = &["billing", "technical", "account", "other"];

struct TenantUsers {
    id: TenantId,
    admin: Actor,
    agent: Actor,
    customers: Vec<Actor>,
    articles: BTreeSet<ArticleId>,
}

impl TenantUsers {
    fn actor(&self, who: Who) -> &Actor {
        match who {
            Who::Admin => &self.admin,
            Who::Agent => &self.agent,
            Who::Customer(i) => &self.customers[i % self.customers.len()],
        }
    }
}

/// What the test knows about a ticket it created.
#[derive(Debug, Clone, Copy)]
struct Known {
    tenant: usize,
    id: TicketId,
    requester: UserId,
}

struct Case {
    hd: Helpdesk,
    store: Arc<dyn Store>,
    kb: Arc<dyn KnowledgeBase>,
    clock: Arc<ManualClock>,
    tenants: Vec<TenantUsers>,
    tickets: Vec<Known>,
}

fn day() -> TimeRange {
    TimeRange::new(
        "2026-03-01T00:00:00Z".parse().unwrap(),
        "2026-03-05T00:00:00Z".parse().unwrap(),
    )
    .unwrap()
}

async fn setup(store: Arc<dyn Store>, kb: Arc<dyn KnowledgeBase>) -> Case {
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let hd = Helpdesk::builder(store.clone())
        .clock(clock.clone())
        .knowledge_base(kb.clone())
        .build()
        .unwrap();
    let mut tenants = Vec::new();
    for i in 0..TENANTS {
        let (tenant, admin) = hd
            .register_tenant(NewTenant {
                name: format!("Tenant {i}"),
                slug: format!("tenant-{i}"),
                admin: NewUser::new(&format!("admin@t{i}.test"), "Admin", Role::Admin),
                settings: None,
            })
            .await
            .unwrap();
        let admin = Actor::for_user(&admin);
        let agent = Actor::for_user(
            &hd.add_user(
                &admin,
                NewUser::new(&format!("agent@t{i}.test"), "Agent", Role::Agent).with_skills(&[
                    "billing",
                    "technical",
                    "account",
                ]),
            )
            .await
            .unwrap(),
        );
        let mut customers = Vec::new();
        for c in 0..CUSTOMERS {
            customers.push(Actor::for_user(
                &hd.add_user(
                    &admin,
                    NewUser::new(&format!("c{c}@t{i}.test"), "Customer", Role::Customer),
                )
                .await
                .unwrap(),
            ));
        }
        // Every tenant's articles share their words, so a leak would be found by search.
        let mut articles = BTreeSet::new();
        for (n, (title, body)) in [
            (
                "Reset your password",
                "Click Forgot password on the login page to reset your password.",
            ),
            (
                "Refunds and invoices",
                "A refund shows on your invoice within five days. Export invoices as PDF.",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let now = hd.now();
            let article = Article {
                id: ArticleId::new(),
                tenant_id: tenant.id,
                title: format!("{title} (tenant {i}, {n})"),
                body: body.into(),
                tags: vec![],
                created_at: now,
                updated_at: now,
                version: 1,
            };
            store.create_article(&article).await.unwrap();
            kb.upsert_article(&article).await.unwrap();
            articles.insert(article.id);
        }
        tenants.push(TenantUsers {
            id: tenant.id,
            admin,
            agent,
            customers,
            articles,
        });
    }
    Case {
        hd,
        store,
        kb,
        clock,
        tenants,
        tickets: Vec::new(),
    }
}

fn is_not_found(result: &Result<impl std::fmt::Debug, Error>, entity: &str) -> bool {
    matches!(result, Err(Error::NotFound { entity: e, .. }) if *e == entity)
}

impl Case {
    fn user(&self, r: UserRef) -> &Actor {
        self.tenants[r.tenant].actor(r.who)
    }

    fn pick(&self, index: &Index) -> Known {
        if self.tickets.is_empty() {
            // No ticket yet: an id nobody has.
            return Known {
                tenant: 0,
                id: TicketId::new(),
                requester: UserId::new(),
            };
        }
        self.tickets[index.index(self.tickets.len())]
    }

    /// Whether `actor` (of tenant `tenant`) may see `target`.
    fn visible(&self, tenant: usize, actor: &Actor, target: &Known) -> bool {
        let exists = self.tickets.iter().any(|k| k.id == target.id);
        exists && target.tenant == tenant && (actor.is_staff() || target.requester == actor.user_id)
    }

    /// The stored ticket, read with its own tenant (for before/after comparisons).
    async fn stored(&self, target: &Known) -> Option<Ticket> {
        self.store
            .get_ticket(self.tenants[target.tenant].id, target.id)
            .await
            .unwrap()
    }

    fn check_ticket(&self, tenant: usize, actor: &Actor, t: &Ticket, what: &str) {
        assert_eq!(
            t.tenant_id, self.tenants[tenant].id,
            "{what}: foreign ticket"
        );
        if !actor.is_staff() {
            assert_eq!(
                t.requester, actor.user_id,
                "{what}: another customer's ticket"
            );
        }
        assert!(
            self.tickets
                .iter()
                .any(|k| k.id == t.id && k.tenant == tenant),
            "{what}: unknown ticket {t:?}"
        );
    }

    /// An operation on a ticket the actor must not see: `NotFound`, and nothing changed.
    async fn expect_hidden<T: std::fmt::Debug>(
        &self,
        before: &Option<Ticket>,
        target: &Known,
        result: Result<T, Error>,
        what: &str,
    ) {
        assert!(
            is_not_found(&result, "ticket"),
            "{what}: expected NotFound for a ticket the actor cannot see, got {result:?}"
        );
        assert_eq!(&self.stored(target).await, before, "{what}: changed");
        HIDDEN.fetch_add(1, Ordering::Relaxed);
    }

    async fn run(&mut self, op: &Op) {
        OPS.fetch_add(1, Ordering::Relaxed);
        let what = format!("{op:?}");
        self.clock.advance(Duration::from_secs(60));
        match op {
            Op::Open {
                tenant,
                who,
                word,
                on_behalf,
            } => {
                let actor = self.tenants[*tenant].actor(*who).clone();
                let w = WORDS[*word];
                let mut new = NewTicket::new(
                    &format!("Trouble with {w} number {}", self.tickets.len()),
                    &format!("Please help with my {w}."),
                );
                let target = on_behalf.filter(|_| actor.is_staff());
                new.requester = target.map(|r| self.user(r).user_id);
                let result = self.hd.open_ticket(&actor, new).await;
                match target {
                    Some(r) if r.tenant != *tenant => {
                        assert!(is_not_found(&result, "user"), "{what}: {result:?}");
                    }
                    _ => {
                        let t = result.unwrap().ticket;
                        assert_eq!(t.tenant_id, actor.tenant_id, "{what}");
                        let requester = target.map_or(actor.user_id, |r| self.user(r).user_id);
                        assert_eq!(t.requester, requester, "{what}");
                        if let Some(a) = t.assignee {
                            let staff = &self.tenants[*tenant];
                            assert!(
                                a == staff.admin.user_id || a == staff.agent.user_id,
                                "{what}: routed to a foreign user"
                            );
                        }
                        self.tickets.push(Known {
                            tenant: *tenant,
                            id: t.id,
                            requester,
                        });
                    }
                }
            }
            Op::Reply {
                tenant,
                who,
                ticket,
            } => {
                let actor = self.tenants[*tenant].actor(*who).clone();
                let target = self.pick(ticket);
                let before = self.stored(&target).await;
                let count = self.tickets.len();
                let result = self
                    .hd
                    .reply(&actor, target.id, NewReply::new("Any news on this?"))
                    .await;
                if !self.visible(*tenant, &actor, &target) {
                    self.expect_hidden(&before, &target, result, &what).await;
                    assert_eq!(self.tickets.len(), count);
                    return;
                }
                match result {
                    Ok(out) => {
                        assert_eq!(out.message.tenant_id, actor.tenant_id, "{what}");
                        if out.follow_up_of.is_some() {
                            self.tickets.push(Known {
                                tenant: *tenant,
                                id: out.ticket.id,
                                requester: out.ticket.requester,
                            });
                        }
                        self.check_ticket(*tenant, &actor, &out.ticket, &what);
                    }
                    Err(e) => assert!(!matches!(e, Error::NotFound { .. }), "{what}: {e:?}"),
                }
            }
            Op::Note {
                tenant,
                staff,
                ticket,
            } => {
                let actor = self.tenants[*tenant].actor(*staff).clone();
                let target = self.pick(ticket);
                let before = self.stored(&target).await;
                let result = self
                    .hd
                    .add_note(&actor, target.id, "Internal: checking.")
                    .await;
                if !self.visible(*tenant, &actor, &target) {
                    return self.expect_hidden(&before, &target, result, &what).await;
                }
                match result {
                    Ok(m) => {
                        assert_eq!(m.tenant_id, actor.tenant_id, "{what}");
                        assert_eq!(m.ticket_id, target.id, "{what}");
                    }
                    Err(e) => assert!(!matches!(e, Error::NotFound { .. }), "{what}: {e:?}"),
                }
            }
            Op::Transition {
                tenant,
                who,
                ticket,
                to,
            } => {
                let actor = self.tenants[*tenant].actor(*who).clone();
                let target = self.pick(ticket);
                let before = self.stored(&target).await;
                let result = self.hd.transition(&actor, target.id, STATUSES[*to]).await;
                if !self.visible(*tenant, &actor, &target) {
                    return self.expect_hidden(&before, &target, result, &what).await;
                }
                match result {
                    Ok(t) => {
                        self.check_ticket(*tenant, &actor, &t, &what);
                        assert_eq!(t.status, STATUSES[*to], "{what}");
                    }
                    Err(e) => assert!(!matches!(e, Error::NotFound { .. }), "{what}: {e:?}"),
                }
            }
            Op::Assign {
                tenant,
                staff,
                ticket,
                to,
            } => {
                let actor = self.tenants[*tenant].actor(*staff).clone();
                let target = self.pick(ticket);
                let before = self.stored(&target).await;
                let assignee = to.map(|r| self.user(r).user_id);
                let result = self.hd.assign(&actor, target.id, assignee).await;
                if !self.visible(*tenant, &actor, &target) {
                    return self.expect_hidden(&before, &target, result, &what).await;
                }
                match to {
                    Some(r) if r.tenant != *tenant => {
                        assert!(is_not_found(&result, "user"), "{what}: {result:?}");
                        assert_eq!(self.stored(&target).await, before, "{what}: changed");
                    }
                    _ => match result {
                        Ok(t) => {
                            self.check_ticket(*tenant, &actor, &t, &what);
                            assert_eq!(t.assignee, assignee, "{what}");
                        }
                        Err(e) => {
                            assert!(!matches!(e, Error::NotFound { .. }), "{what}: {e:?}");
                        }
                    },
                }
            }
            Op::List {
                tenant,
                who,
                statuses,
                assignee,
                requester,
                word,
                category,
            } => {
                let actor = self.tenants[*tenant].actor(*who).clone();
                let query = TicketQuery {
                    statuses: statuses.iter().map(|s| STATUSES[*s]).collect(),
                    assignee: assignee.map(|a| match a {
                        None => AssigneeFilter::Unassigned,
                        Some(r) => AssigneeFilter::User(self.user(r).user_id),
                    }),
                    requester: requester.map(|r| self.user(r).user_id),
                    text: word.map(|w| WORDS[w].to_string()),
                    category: category.map(|c| CATEGORIES[c].to_string()),
                    limit: TicketQuery::MAX_LIMIT,
                    ..TicketQuery::default()
                };
                let page = self.hd.list_tickets(&actor, query.clone()).await.unwrap();
                assert!(page.next_cursor.is_none(), "{what}: one page");
                for t in &page.items {
                    self.check_ticket(*tenant, &actor, t, &what);
                }
                // Exactly the caller's own tickets that match, computed from the ground
                // truth of the tenant's own tickets.
                let mut expected = BTreeSet::new();
                for k in self.tickets.iter().filter(|k| k.tenant == *tenant) {
                    if !actor.is_staff() && k.requester != actor.user_id {
                        continue;
                    }
                    let t = self.stored(k).await.unwrap();
                    // Customers are always restricted to themselves by the service.
                    let requester_ok =
                        !actor.is_staff() || query.requester.is_none_or(|r| r == t.requester);
                    let ok = (query.statuses.is_empty() || query.statuses.contains(&t.status))
                        && match query.assignee {
                            None => true,
                            Some(AssigneeFilter::Unassigned) => t.assignee.is_none(),
                            Some(AssigneeFilter::User(u)) => t.assignee == Some(u),
                        }
                        && requester_ok
                        && query
                            .text
                            .as_ref()
                            .is_none_or(|w| t.subject.to_lowercase().contains(w.as_str()))
                        && query
                            .category
                            .as_ref()
                            .is_none_or(|c| t.category.as_ref() == Some(c));
                    if ok {
                        expected.insert(t.id);
                    }
                }
                let got: BTreeSet<TicketId> = page.items.iter().map(|t| t.id).collect();
                assert_eq!(got.len(), page.items.len(), "{what}: duplicates");
                assert_eq!(got, expected, "{what}");
            }
            Op::Get {
                tenant,
                who,
                ticket,
            } => {
                let actor = self.tenants[*tenant].actor(*who).clone();
                let target = self.pick(ticket);
                let before = self.stored(&target).await;
                let result = self.hd.get_ticket(&actor, target.id).await;
                if target.tenant != *tenant {
                    // The store itself finds nothing of another tenant's ticket.
                    let store = &self.store;
                    let mine = actor.tenant_id;
                    assert_eq!(store.get_ticket(mine, target.id).await.unwrap(), None);
                    assert!(
                        store
                            .list_messages(mine, target.id, MessageFilter::All)
                            .await
                            .unwrap()
                            .is_empty()
                    );
                    assert!(store.list_events(mine, target.id).await.unwrap().is_empty());
                }
                if !self.visible(*tenant, &actor, &target) {
                    return self.expect_hidden(&before, &target, result, &what).await;
                }
                let view = result.unwrap();
                self.check_ticket(*tenant, &actor, &view.ticket, &what);
                assert!(
                    view.messages
                        .iter()
                        .all(|m| m.tenant_id == actor.tenant_id && m.ticket_id == target.id),
                    "{what}: foreign message"
                );
                assert!(
                    view.events
                        .iter()
                        .all(|e| e.tenant_id == actor.tenant_id && e.ticket_id == target.id),
                    "{what}: foreign event"
                );
            }
            Op::SearchKb { tenant, word } => {
                let own = &self.tenants[*tenant];
                let query = format!("{} password refund invoice", WORDS[*word]);
                let hits = self.kb.search(own.id, &query, 10).await.unwrap();
                assert!(
                    !hits.is_empty(),
                    "{what}: the tenant's own articles are found"
                );
                for h in &hits {
                    assert!(own.articles.contains(&h.article_id), "{what}: leaked {h:?}");
                    assert!(h.title.contains(&format!("tenant {tenant},")), "{what}");
                }
            }
            Op::Related {
                tenant,
                staff,
                ticket,
            } => {
                let actor = self.tenants[*tenant].actor(*staff).clone();
                let target = self.pick(ticket);
                let before = self.stored(&target).await;
                let result = self.hd.related_articles(&actor, target.id, 10).await;
                if !self.visible(*tenant, &actor, &target) {
                    return self.expect_hidden(&before, &target, result, &what).await;
                }
                for h in result.unwrap() {
                    assert!(
                        self.tenants[*tenant].articles.contains(&h.article_id),
                        "{what}: leaked {h:?}"
                    );
                }
            }
            Op::Analytics { tenant } => {
                let own = &self.tenants[*tenant];
                let report = self.hd.analytics(&own.admin, day()).await.unwrap();
                let a = &report.analytics;
                let mine = self.tickets.iter().filter(|k| k.tenant == *tenant).count();
                assert_eq!(a.total, mine as u64, "{what}: counts only its own tickets");
                assert_eq!(
                    a.by_status.iter().map(|(_, n)| n).sum::<u64>(),
                    mine as u64,
                    "{what}"
                );
                assert!(a.backlog <= mine as u64, "{what}");
                let staff = [own.admin.user_id, own.agent.user_id];
                assert!(
                    a.agents.iter().all(|s| staff.contains(&s.user_id)),
                    "{what}: foreign agent in {:?}",
                    a.agents
                );
            }
        }
    }

    /// After the sequence: each tenant's full listing is exactly its own tickets, and its
    /// outbox holds only its own notifications.
    async fn check_totals(&self) {
        for (i, t) in self.tenants.iter().enumerate() {
            let page = self
                .store
                .list_tickets(
                    t.id,
                    &TicketQuery {
                        limit: TicketQuery::MAX_LIMIT,
                        ..TicketQuery::default()
                    },
                )
                .await
                .unwrap();
            let got: BTreeSet<TicketId> = page.items.iter().map(|t| t.id).collect();
            let expected: BTreeSet<TicketId> = self
                .tickets
                .iter()
                .filter(|k| k.tenant == i)
                .map(|k| k.id)
                .collect();
            assert_eq!(got, expected, "tenant {i}: listing");
            let outbox = self.store.list_outbox(t.id).await.unwrap();
            assert!(
                outbox.iter().all(|o| o.tenant_id == t.id),
                "tenant {i}: outbox"
            );
        }
    }
}

async fn run_case(store: Arc<dyn Store>, kb: Arc<dyn KnowledgeBase>, ops: &[Op]) {
    let mut case = setup(store, kb).await;
    for op in ops {
        case.run(op).await;
    }
    case.check_totals().await;
}

fn cases(default: u32) -> u32 {
    std::env::var("HELPDESK_ISOLATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Work to do after a case (remove its database or folder).
type Cleanup = Pin<Box<dyn Future<Output = ()> + Send>>;

fn no_cleanup() -> Cleanup {
    Box::pin(async {})
}

/// Runs the property with `cases` cases of up to `max_ops` operations, each case on a
/// fresh store and knowledge base from `fresh`.
fn check_isolation<F, Fut>(cases: u32, max_ops: usize, fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = (Arc<dyn Store>, Arc<dyn KnowledgeBase>, Cleanup)>,
{
    let rt = runtime();
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let (ops_before, hidden_before) = (OPS.load(Ordering::Relaxed), HIDDEN.load(Ordering::Relaxed));
    runner
        .run(&ops(max_ops), |ops| {
            rt.block_on(async {
                let (store, kb, cleanup) = fresh().await;
                run_case(store, kb, &ops).await;
                cleanup.await;
            });
            Ok(())
        })
        .unwrap();
    let ops = OPS.load(Ordering::Relaxed) - ops_before;
    let hidden = HIDDEN.load(Ordering::Relaxed) - hidden_before;
    println!(
        "tenant isolation: {cases} cases, {ops} operations ({hidden} on tickets the actor may \
         not see) in {:?}",
        started.elapsed()
    );
    assert!(
        hidden * 10 >= ops,
        "too few foreign-id operations: {hidden} of {ops}"
    );
}

#[test]
fn isolation_on_memory_store_with_in_memory_kb() {
    check_isolation(cases(256), 40, || async {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let kb: Arc<dyn KnowledgeBase> =
            Arc::new(InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new())));
        (store, kb, no_cleanup())
    });
}

#[test]
fn isolation_on_sqlite_store_with_kb_search_index() {
    check_isolation(cases(32), 40, || async {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("helpdesk.db"))
            .await
            .unwrap();
        let kb = KbIndex::open(
            dir.path().join("kb"),
            Arc::new(FakeEmbedder::new()),
            KbIndexOptions::default(),
        )
        .unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let kb: Arc<dyn KnowledgeBase> = Arc::new(kb);
        let cleanup: Cleanup = Box::pin(async move { drop(dir) });
        (store, kb, cleanup)
    });
}

#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "NOT RUN: the MongoDB variant needs MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[test]
fn isolation_on_mongo_store_with_in_memory_kb() {
    let Ok(uri) = std::env::var("MONGODB_URI") else {
        panic!(
            "MONGODB_URI was set at build time but is not set now: the Mongo variant cannot run"
        );
    };
    check_isolation(cases(10), 30, || {
        let uri = uri.clone();
        async move {
            let db = format!("hdiso_{}", TenantId::new()).replace('-', "");
            let store = helpdesk_store_mongo::MongoStore::connect(&uri, &db)
                .await
                .unwrap();
            let database = store.database().clone();
            let store: Arc<dyn Store> = Arc::new(store);
            let kb: Arc<dyn KnowledgeBase> =
                Arc::new(InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new())));
            let cleanup: Cleanup = Box::pin(async move {
                database.drop().await.unwrap();
            });
            (store, kb, cleanup)
        }
    });
}

#[cfg_attr(
    not(postgres_url_set),
    ignore = "NOT RUN: the PostgreSQL variant needs HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
#[test]
fn isolation_on_postgres_store_with_in_memory_kb() {
    let _ = pg::server_url();
    check_isolation(cases(10), 30, || async {
        let db = pg::Database::create().await;
        let store = db.store().await;
        let handle = store.clone();
        let store: Arc<dyn Store> = Arc::new(store);
        let kb: Arc<dyn KnowledgeBase> =
            Arc::new(InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new())));
        let cleanup: Cleanup = Box::pin(db.drop_with(handle));
        (store, kb, cleanup)
    });
}
