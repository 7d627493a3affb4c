//! The demo tenant: "Nimbus Notes", a fictional note-taking SaaS, with its knowledge base,
//! an admin, two agents with different skills, a customer and a few tickets.

use std::sync::Arc;

use helpdesk_core::domain::{
    Actor, CannedActions, CustomFieldDef, FieldKind, Priority, Role, TenantSettings, TicketStatus,
};
use helpdesk_core::service::{
    ArticleInput, CannedResponseInput, NewReply, NewTenant, NewTicket, NewUser,
};
use helpdesk_core::{Error, Helpdesk, KnowledgeBase, Result};

/// The tenant slug of the demo company.
pub const DEMO_TENANT: &str = "nimbus";
/// The demo company's support address.
pub const DEMO_SUPPORT_ADDRESS: &str = "support@nimbusnotes.example";

/// The knowledge-base articles of the demo tenant: a short name (the file name without its
/// number, which the chatbot evaluation set cites) and the markdown (`# Title`, `Tags: a, b`).
pub const DEMO_ARTICLES: &[(&str, &str)] = &[
    (
        "getting-started",
        include_str!("seed/01-getting-started.md"),
    ),
    ("reset-password", include_str!("seed/02-reset-password.md")),
    ("two-factor", include_str!("seed/03-two-factor.md")),
    ("locked-account", include_str!("seed/04-locked-account.md")),
    (
        "plans-and-pricing",
        include_str!("seed/05-plans-and-pricing.md"),
    ),
    ("refunds", include_str!("seed/06-refunds.md")),
    (
        "update-payment-method",
        include_str!("seed/07-update-payment-method.md"),
    ),
    ("invoices", include_str!("seed/08-invoices.md")),
    (
        "cancel-subscription",
        include_str!("seed/09-cancel-subscription.md"),
    ),
    (
        "sync-not-working",
        include_str!("seed/10-sync-not-working.md"),
    ),
    ("sync-conflicts", include_str!("seed/11-sync-conflicts.md")),
    ("desktop-crash", include_str!("seed/12-desktop-crash.md")),
    ("offline-mode", include_str!("seed/13-offline-mode.md")),
    ("attachments", include_str!("seed/14-attachments.md")),
    ("export-notes", include_str!("seed/15-export-notes.md")),
    ("import-notes", include_str!("seed/16-import-notes.md")),
    ("sharing", include_str!("seed/17-sharing.md")),
    ("teams-admin", include_str!("seed/18-teams-admin.md")),
    ("delete-account", include_str!("seed/19-delete-account.md")),
    (
        "privacy-security",
        include_str!("seed/20-privacy-security.md"),
    ),
    ("search-tips", include_str!("seed/21-search-tips.md")),
];

/// One demo login.
#[derive(Clone)]
pub struct DemoLogin {
    /// Display name.
    pub name: String,
    /// E-mail (the login name).
    pub email: String,
    /// The generated password.
    pub password: String,
}

impl std::fmt::Debug for DemoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoLogin")
            .field("name", &self.name)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// The logins of the demo tenant (passwords are random per seed).
#[derive(Debug, Clone)]
pub struct DemoCredentials {
    /// The tenant slug to sign in with.
    pub tenant_slug: String,
    /// The admin.
    pub admin: DemoLogin,
    /// The billing and account agent.
    pub billing_agent: DemoLogin,
    /// The technical agent.
    pub technical_agent: DemoLogin,
    /// The customer.
    pub customer: DemoLogin,
}

impl DemoCredentials {
    /// The credentials as printed at start.
    pub fn describe(&self) -> String {
        let line = |role: &str, l: &DemoLogin| {
            format!("  {role:<16} {:<28} password: {}\n", l.email, l.password)
        };
        format!(
            "demo company: {} (sign in with company \"{}\")\n{}{}{}{}",
            "Nimbus Notes",
            self.tenant_slug,
            line("admin", &self.admin),
            line("agent (billing)", &self.billing_agent),
            line("agent (tech)", &self.technical_agent),
            line("customer", &self.customer),
        )
    }
}

/// A markdown article split into title, tags and body. The title is the first `# ` line
/// (required); an optional `Tags:` line right after it gives comma-separated tags.
pub fn parse_markdown_article(text: &str) -> Result<(String, Vec<String>, String)> {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let title = lines
        .next()
        .and_then(|l| l.trim().strip_prefix("# "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::validation("markdown", "must start with a `# Title` line"))?;
    let rest: Vec<&str> = lines.skip_while(|l| l.trim().is_empty()).collect();
    let (tags, body_lines) = match rest.split_first() {
        Some((first, tail)) if first.trim_start().starts_with("Tags:") => {
            let tags = first
                .trim_start()
                .trim_start_matches("Tags:")
                .split(',')
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty())
                .collect();
            (tags, tail)
        }
        _ => (Vec::new(), rest.as_slice()),
    };
    let body = body_lines.join("\n").trim().to_string();
    if body.is_empty() {
        return Err(Error::validation("markdown", "the article has no body"));
    }
    Ok((title, tags, body))
}

fn password() -> Result<String> {
    // 64 hex characters from the OS RNG; 16 are plenty for a demo login.
    Ok(helpdesk_core::auth::new_token()?.chars().take(16).collect())
}

fn login(name: &str, email: &str) -> Result<DemoLogin> {
    Ok(DemoLogin {
        name: name.into(),
        email: email.into(),
        password: password()?,
    })
}

async fn user(
    helpdesk: &Helpdesk,
    admin: &Actor,
    l: &DemoLogin,
    role: Role,
    skills: &[&str],
) -> Result<Actor> {
    let new = NewUser::new(&l.email, &l.name, role)
        .with_password(&l.password)
        .with_skills(skills);
    Ok(Actor::for_user(&helpdesk.add_user(admin, new).await?))
}

/// Creates the demo tenant with its users, articles (stored and indexed in
/// `knowledge_base`) and sample tickets. Fails with `Duplicate` if it exists already.
pub async fn seed_demo(
    helpdesk: &Helpdesk,
    knowledge_base: Option<&Arc<dyn KnowledgeBase>>,
) -> Result<DemoCredentials> {
    let creds = DemoCredentials {
        tenant_slug: DEMO_TENANT.into(),
        admin: login("Grace Kim", "grace@nimbusnotes.example")?,
        billing_agent: login("Maya Patel", "maya@nimbusnotes.example")?,
        technical_agent: login("Leo Novak", "leo@nimbusnotes.example")?,
        customer: login("Carlos Rivera", "carlos@example.com")?,
    };
    let (tenant, admin) = helpdesk
        .register_tenant(NewTenant {
            name: "Nimbus Notes".into(),
            slug: DEMO_TENANT.into(),
            settings: Some(demo_settings()),
            admin: NewUser::new(&creds.admin.email, &creds.admin.name, Role::Admin)
                .with_password(&creds.admin.password),
        })
        .await?;
    let admin = Actor::for_user(&admin);
    let maya = user(
        helpdesk,
        &admin,
        &creds.billing_agent,
        Role::Agent,
        &["billing", "account"],
    )
    .await?;
    let leo = user(
        helpdesk,
        &admin,
        &creds.technical_agent,
        Role::Agent,
        &["technical"],
    )
    .await?;
    let carlos = user(helpdesk, &admin, &creds.customer, Role::Customer, &[]).await?;

    let mut articles = Vec::with_capacity(DEMO_ARTICLES.len());
    for (_, text) in DEMO_ARTICLES {
        let (title, tags, body) = parse_markdown_article(text)?;
        let input = ArticleInput { title, body, tags };
        articles.push(helpdesk.create_article(&admin, input).await?);
    }
    // Indexing runs in the background: the demo's chat must find them from the start.
    helpdesk.index_settled().await;
    // The helpdesk indexes what it stores in its own knowledge base; another one is
    // built here.
    if let Some(kb) = knowledge_base
        && !helpdesk
            .knowledge_base()
            .is_some_and(|own| Arc::ptr_eq(own, kb))
    {
        kb.rebuild(tenant.id, &articles).await?;
    }

    seed_canned_responses(helpdesk, &admin).await?;
    seed_tickets(helpdesk, &carlos, &maya, &leo).await?;
    Ok(creds)
}

/// Two canned responses shared with every agent, so the reply box has something to pick.
async fn seed_canned_responses(helpdesk: &Helpdesk, admin: &Actor) -> Result<()> {
    let shared = [
        (
            "Ask for details",
            "Hi {{customer.first_name}},\n\nThanks for writing in. So we can look into it, \
             could you tell us which device and app version you use, and what you see when it \
             happens?\n\n{{agent.first_name}}, {{company.name}} support",
            CannedActions {
                status: Some(TicketStatus::Pending),
                add_tags: vec!["needs-info".into()],
                ..CannedActions::default()
            },
        ),
        (
            "Solved, thanks",
            "Glad this is sorted, {{customer.first_name}}! If anything else comes up, just \
             reply to this message.\n\n{{agent.first_name}}, {{company.name}} support",
            CannedActions {
                status: Some(TicketStatus::Resolved),
                ..CannedActions::default()
            },
        ),
    ];
    for (name, body, actions) in shared {
        let input = CannedResponseInput {
            name: name.into(),
            body: body.into(),
            actions,
            shared: true,
            ..CannedResponseInput::default()
        };
        helpdesk.create_canned_response(admin, input).await?;
    }
    Ok(())
}

async fn seed_tickets(
    helpdesk: &Helpdesk,
    customer: &Actor,
    billing: &Actor,
    tech: &Actor,
) -> Result<()> {
    let resolved: [(&str, &str, &Actor, &str); 3] = [
        (
            "I was charged twice this month",
            "My card shows two charges of $4.99 for the Plus plan on the same day. Can you refund one?",
            billing,
            "Sorry about that! I can see the duplicate charge and have refunded it in full. \
             It usually shows on your statement within 5 to 10 business days.",
        ),
        (
            "Notes not syncing between my phone and laptop",
            "Edits I make on my phone never show up on my laptop. Both say they are signed in.",
            tech,
            "Thanks for the details. Your laptop was on version 4.1, which can no longer sync. \
             Please update to the latest version from nimbusnotes.example/download and press \
             Ctrl+R to force a sync; your notes will appear.",
        ),
        (
            "Need an invoice with our VAT number",
            "Our accounting needs the last invoice with our company VAT number on it.",
            billing,
            "I have reissued the invoice with your company name and VAT number; you will find \
             it in Settings → Billing → Invoices.",
        ),
    ];
    for (i, (subject, body, agent, answer)) in resolved.into_iter().enumerate() {
        let ticket = helpdesk
            .open_ticket(customer, NewTicket::new(subject, body))
            .await?
            .ticket;
        let mut reply = NewReply::new(answer);
        reply.status_after = Some(TicketStatus::Resolved);
        helpdesk.reply(agent, ticket.id, reply).await?;
        if i < 2 {
            helpdesk
                .record_csat(customer, ticket.id, 5 - i as u8, None)
                .await?;
        }
    }
    let open: [(&str, &str, Option<Priority>); 3] = [
        (
            "Desktop app crashes on start after the update",
            "Since this morning's update the Windows app closes right after opening. I get no error.",
            None,
        ),
        (
            "How do I export all my notes?",
            "I want a backup of everything in Markdown. Is there a way to export all notebooks at once?",
            Some(Priority::Low),
        ),
        (
            "Locked out of my account",
            "I tried my password a few times and now it says too many attempts. I need my notes for a meeting.",
            Some(Priority::High),
        ),
    ];
    for (subject, body, priority) in open {
        let mut new = NewTicket::new(subject, body);
        new.priority = priority;
        helpdesk.open_ticket(customer, new).await?;
    }
    Ok(())
}

/// The demo company's settings: the defaults, with its e-mail channel on (mail to
/// `support@nimbusnotes.example` piped into `helpdesk ingest-email --tenant nimbus`).
fn demo_settings() -> TenantSettings {
    let mut settings = TenantSettings::default();
    settings.email.address = Some(DEMO_SUPPORT_ADDRESS.into());
    settings.email.display_name = "Nimbus Notes Support".into();
    settings.email.signature = "Nimbus Notes Support\nhttps://nimbusnotes.example/help".into();
    // Two custom fields: the plan (staff only; triage by a language model fills it in) and
    // the order number customers give when they raise a ticket.
    settings.custom_fields = vec![
        CustomFieldDef {
            key: "plan".into(),
            label: "Plan".into(),
            kind: FieldKind::Dropdown {
                options: ["Free", "Pro", "Business"].map(String::from).to_vec(),
            },
            required_to_resolve: false,
            customer_visible: false,
            customer_editable: false,
        },
        CustomFieldDef {
            key: "order_number".into(),
            label: "Order number".into(),
            kind: FieldKind::Text,
            required_to_resolve: false,
            customer_visible: true,
            customer_editable: true,
        },
    ];
    settings
}
