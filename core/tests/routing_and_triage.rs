//! Routing strategies and classifier-chain fallbacks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::domain::{Priority, Role, Tenant, TriageSource};
use helpdesk_core::llm::UsageTally;
use helpdesk_core::routing::{
    Candidate, LeastLoaded, RoundRobin, Router, RouterChain, SkillsMatch,
};
use helpdesk_core::testkit::fixtures::{new_ticket, t0, tenant, user};
use helpdesk_core::triage::{
    Classification, Classifier, ClassifierChain, ClassifyError, ClassifyInput, RuleClassifier,
};
use helpdesk_core::{ModelError, UserId};

fn staff(t: &Tenant, role: Role, skills: &[&str], capacity: u32, open: u64) -> Candidate {
    let mut u = user(t, role, &format!("{}@x.test", UserId::new()));
    u.skills = skills.iter().map(|s| (*s).to_string()).collect();
    u.capacity = capacity;
    Candidate::new(u, open)
}

fn ticket_needing(t: &Tenant, skills: &[&str]) -> helpdesk_core::domain::Ticket {
    let mut w = new_ticket(t.id, UserId::new(), 1, "x", Priority::Low, t0());
    w.ticket.required_skills = skills.iter().map(|s| (*s).to_string()).collect();
    w.ticket
}

#[tokio::test]
async fn least_loaded_respects_capacity_and_eligibility() {
    let t = tenant("acme");
    let busy = staff(&t, Role::Agent, &[], 2, 2); // full
    let light = staff(&t, Role::Agent, &[], 5, 3);
    let lighter = staff(&t, Role::Agent, &[], 0, 4); // unlimited but more loaded
    let mut inactive = staff(&t, Role::Agent, &[], 0, 0);
    inactive.user.active = false;
    let customer = Candidate::new(user(&t, Role::Customer, "c@x.test"), 0);
    let foreign = staff(&tenant("other"), Role::Agent, &[], 0, 0);
    let cands = vec![busy, light.clone(), lighter, inactive, customer, foreign];
    let ticket = ticket_needing(&t, &[]);
    assert_eq!(
        LeastLoaded.route(&ticket, &cands).await,
        Some(light.user.id)
    );
}

#[tokio::test]
async fn round_robin_picks_the_eligible_agent_routed_longest_ago() {
    let t = tenant("acme");
    let a = staff(&t, Role::Agent, &[], 0, 0);
    let b = staff(&t, Role::Agent, &[], 0, 9);
    let full = staff(&t, Role::Agent, &[], 1, 1);
    let mut cands = vec![a.clone(), b.clone(), full];
    let rr = RoundRobin;
    let ticket = ticket_needing(&t, &[]);
    // Stateless: the stamps decide, and each pick (stamped as the store would) moves the
    // picked agent to the back, so the picks alternate between the two with room.
    let mut picks = Vec::new();
    for stamp in 1..=4 {
        let pick = rr.route(&ticket, &cands).await.unwrap();
        picks.push(pick);
        let c = cands.iter_mut().find(|c| c.user.id == pick).unwrap();
        c.last_routed = stamp;
    }
    assert_eq!(picks[0], picks[2]);
    assert_eq!(picks[1], picks[3]);
    assert_ne!(picks[0], picks[1]);
    assert!(picks.iter().all(|p| *p == a.user.id || *p == b.user.id));
    // The same read gives the same pick (no hidden turn counter).
    assert_eq!(
        rr.route(&ticket, &cands).await,
        rr.route(&ticket, &cands).await
    );
    // Never-routed first, whatever the load; ties to the earliest id.
    let fresh = staff(&t, Role::Agent, &[], 0, 50);
    let routed_before = a.clone().routed_at(3);
    assert_eq!(
        rr.route(&ticket, &[routed_before, fresh.clone()]).await,
        Some(fresh.user.id)
    );
    // Another tenant's ticket only ever goes to that tenant's agents.
    let t2 = tenant("beta");
    let c = staff(&t2, Role::Agent, &[], 0, 0);
    assert_eq!(
        rr.route(&ticket_needing(&t2, &[]), &[a, c.clone()]).await,
        Some(c.user.id)
    );
}

#[tokio::test]
async fn skills_match_prefers_skilled_then_falls_back_to_anyone() {
    let t = tenant("acme");
    let billing = staff(&t, Role::Agent, &["billing"], 0, 10);
    let tech = staff(&t, Role::Agent, &["technical"], 0, 0);
    let router = SkillsMatch::new(LeastLoaded);
    let cands = vec![billing.clone(), tech.clone()];
    assert_eq!(
        router
            .route(&ticket_needing(&t, &["billing"]), &cands)
            .await,
        Some(billing.user.id)
    );
    assert_eq!(
        router.route(&ticket_needing(&t, &["legal"]), &cands).await,
        Some(tech.user.id),
        "nobody has the skill: least loaded of all"
    );
}

#[tokio::test]
async fn chain_falls_back_to_an_admin_and_never_to_ineligible_users() {
    let t = tenant("acme");
    let full = staff(&t, Role::Agent, &["billing"], 1, 1);
    let admin = staff(&t, Role::Admin, &[], 1, 5); // over capacity, still the fallback
    let chain = RouterChain::standard();
    let ticket = ticket_needing(&t, &["billing"]);
    assert_eq!(
        chain.route(&ticket, &[full.clone(), admin.clone()]).await,
        Some(admin.user.id)
    );
    assert_eq!(
        RouterChain::standard()
            .without_admin_fallback()
            .route(&ticket, &[full.clone(), admin])
            .await,
        None
    );
    let mut inactive_admin = staff(&t, Role::Admin, &[], 0, 0);
    inactive_admin.user.active = false;
    assert_eq!(chain.route(&ticket, &[full, inactive_admin]).await, None);

    /// A buggy router that returns a customer.
    #[derive(Debug)]
    struct Rogue(UserId);
    #[async_trait]
    impl Router for Rogue {
        async fn route(
            &self,
            _: &helpdesk_core::domain::Ticket,
            _: &[Candidate],
        ) -> Option<UserId> {
            Some(self.0)
        }
    }
    let customer = Candidate::new(user(&t, Role::Customer, "c@x.test"), 0);
    let agent = staff(&t, Role::Agent, &[], 0, 0);
    let chain = RouterChain::new()
        .with(Rogue(customer.user.id))
        .with(LeastLoaded);
    assert_eq!(
        chain.route(&ticket, &[customer, agent.clone()]).await,
        Some(agent.user.id)
    );
}

/// A classifier with a canned behaviour.
#[derive(Debug)]
struct Canned {
    source: TriageSource,
    behaviour: Behaviour,
}

#[derive(Debug, Clone)]
enum Behaviour {
    Answer(Classification),
    Fail(fn() -> ClassifyError),
    Hang,
}

#[async_trait]
impl Classifier for Canned {
    fn source(&self) -> TriageSource {
        self.source
    }
    async fn classify(&self, _: &ClassifyInput<'_>) -> Result<Classification, ClassifyError> {
        match &self.behaviour {
            Behaviour::Answer(c) => Ok(c.clone()),
            Behaviour::Fail(f) => Err(f()),
            Behaviour::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Err(ClassifyError::NoMatch)
            }
        }
    }
}

fn canned(source: TriageSource, behaviour: Behaviour) -> Arc<dyn Classifier> {
    Arc::new(Canned { source, behaviour })
}

fn answer(category: &str, priority: Priority, confidence: f32) -> Behaviour {
    Behaviour::Answer(Classification {
        summary: Some("summary".into()),
        category: Some(category.into()),
        priority: Some(priority),
        required_skills: vec!["billing".into(), "juggling".into()],
        confidence,
        ..Classification::default()
    })
}

#[tokio::test(start_paused = true)]
async fn each_failure_falls_through_with_its_reason_recorded() {
    let t = tenant("acme");
    let input = ClassifyInput {
        tenant: &t,
        subject: "I want a refund",
        description: "charged twice",
        usage: &UsageTally::new(),
    };
    let chain = ClassifierChain::new()
        .per_classifier_timeout(Duration::from_secs(2))
        .with(canned(TriageSource::Llm, Behaviour::Hang))
        .with(canned(
            TriageSource::Llm,
            Behaviour::Fail(|| {
                ClassifyError::Model(ModelError::RateLimited {
                    retry_after: None,
                    message: "quota".into(),
                })
            }),
        ))
        .with(canned(
            TriageSource::Llm,
            Behaviour::Fail(|| {
                ClassifyError::Model(ModelError::MalformedOutput {
                    message: "missing field `category`".into(),
                })
            }),
        ))
        .with(canned(
            TriageSource::Llm,
            answer("lottery", Priority::Urgent, 0.99),
        ))
        .with(canned(
            TriageSource::Learned,
            answer("billing", Priority::High, 0.2),
        ))
        .with(canned(
            TriageSource::Learned,
            Behaviour::Fail(|| ClassifyError::NotTrained),
        ))
        .with(Arc::new(RuleClassifier::new()));
    let out = chain.run(&input).await;
    assert_eq!(out.triage.source, TriageSource::Rules);
    assert_eq!(out.classification.category.as_deref(), Some("billing"));
    assert_eq!(
        out.classification.required_skills,
        vec!["billing".to_string()]
    );
    let reasons: Vec<String> = out
        .triage
        .fallbacks
        .iter()
        .map(|f| f.reason.clone())
        .collect();
    assert_eq!(
        reasons,
        vec![
            "timeout",
            "rate_limited",
            "malformed_output: missing field `category`",
            "invalid: unknown category \"lottery\"",
            "low_confidence 0.20",
            "not_trained",
        ]
    );
}

#[tokio::test]
async fn accepted_results_are_checked_against_the_tenant() {
    let t = tenant("acme");
    let input = ClassifyInput {
        tenant: &t,
        subject: "s",
        description: "d",
        usage: &UsageTally::new(),
    };
    let chain = ClassifierChain::new().with(canned(
        TriageSource::Llm,
        answer("BILLING ", Priority::High, 0.9),
    ));
    let out = chain.run(&input).await;
    assert_eq!(out.triage.source, TriageSource::Llm);
    assert_eq!(out.priority, Priority::High);
    assert_eq!(out.classification.category.as_deref(), Some("billing"));
    assert_eq!(
        out.classification.required_skills,
        vec!["billing".to_string()],
        "unknown skill dropped"
    );
}

#[tokio::test]
async fn nothing_accepted_gives_tenant_defaults_and_llm_obeys_autonomy() {
    let mut t = tenant("acme");
    t.settings.ai_autonomy = helpdesk_core::domain::AiAutonomy::Suggest;
    let input = ClassifyInput {
        tenant: &t,
        subject: "hello",
        description: "just saying hi",
        usage: &UsageTally::new(),
    };
    let chain = ClassifierChain::new()
        .with(canned(
            TriageSource::Llm,
            answer("billing", Priority::Urgent, 0.99),
        ))
        .with(Arc::new(RuleClassifier::new()));
    let out = chain.run(&input).await;
    assert_eq!(out.triage.source, TriageSource::Default);
    assert_eq!(out.priority, t.settings.default_priority);
    assert_eq!(out.classification.category.as_deref(), Some("other"));
    let reasons: Vec<&str> = out
        .triage
        .fallbacks
        .iter()
        .map(|f| f.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        vec!["disabled: ai autonomy is suggest", "no_match"]
    );
}

#[tokio::test]
async fn rules_pick_highest_priority_and_majority_category() {
    let t = tenant("acme");
    let input = ClassifyInput {
        tenant: &t,
        subject: "URGENT: app not working",
        description: "It crashes with an error after login and my invoice is wrong",
        usage: &UsageTally::new(),
    };
    let c = RuleClassifier::new().classify(&input).await.unwrap();
    assert_eq!(c.priority, Some(Priority::Urgent));
    assert_eq!(c.category.as_deref(), Some("technical"));
    assert!(c.required_skills.contains(&"technical".to_string()));
    assert!(c.confidence > 0.5 && c.confidence <= 0.9);
    let none = ClassifyInput {
        tenant: &t,
        subject: "Hello",
        description: "Nice day",
        usage: &UsageTally::new(),
    };
    assert!(matches!(
        RuleClassifier::new().classify(&none).await,
        Err(ClassifyError::NoMatch)
    ));
}

#[tokio::test]
async fn rules_see_keywords_next_to_typographic_punctuation() {
    let t = tenant("acme");
    for subject in [
        "Total outage—nothing loads",
        "Outage… since noon",
        "Big\u{a0}outage\u{a0}today",
        "«Outage» in Paris",
    ] {
        let input = ClassifyInput {
            tenant: &t,
            subject,
            description: "",
            usage: &UsageTally::new(),
        };
        let c = RuleClassifier::new().classify(&input).await.unwrap();
        assert_eq!(c.priority, Some(Priority::Urgent), "{subject}");
    }
}

#[tokio::test]
async fn admins_are_a_fallback_not_a_peer_of_free_agents() {
    let t = tenant("acme");
    // The admin is idle and created first (lower id, which wins ties); the agent is busy but
    // has room: the agent still gets the ticket.
    let admin = staff(&t, Role::Admin, &[], 0, 0);
    let busy_agent = staff(&t, Role::Agent, &[], 0, 3);
    let chain = RouterChain::standard();
    let plain = ticket_needing(&t, &[]);
    assert_eq!(
        chain
            .route(&plain, &[admin.clone(), busy_agent.clone()])
            .await,
        Some(busy_agent.user.id)
    );
    // Equal loads: the agent, not the earlier admin.
    let idle_agent = staff(&t, Role::Agent, &[], 0, 0);
    assert_eq!(
        chain
            .route(&plain, &[admin.clone(), idle_agent.clone()])
            .await,
        Some(idle_agent.user.id)
    );
    // A skill only the admin has: agents without it still come first (a generalist agent
    // beats an admin), and the admin is the fallback when no agent has room.
    let mut skilled_admin = admin.clone();
    skilled_admin.user.skills = vec!["legal".into()];
    let legal = ticket_needing(&t, &["legal"]);
    assert_eq!(
        chain
            .route(&legal, &[skilled_admin.clone(), idle_agent.clone()])
            .await,
        Some(idle_agent.user.id)
    );
    let full_agent = staff(&t, Role::Agent, &[], 2, 2);
    assert_eq!(
        chain
            .route(&legal, &[skilled_admin.clone(), full_agent])
            .await,
        Some(skilled_admin.user.id)
    );
}
