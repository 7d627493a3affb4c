//! Tenants (companies) and their settings.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{AiAutonomy, Priority};
use crate::TenantId;

/// One company using the helpdesk. All data hangs off a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// URL-safe unique handle (`acme`).
    pub slug: String,
    /// Configuration.
    pub settings: TenantSettings,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// Per-tenant configuration. Every value that model output is checked against lives here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TenantSettings {
    /// Allowed ticket categories (lowercase identifiers such as `billing`).
    pub categories: Vec<String>,
    /// Category used when triage cannot decide; must be one of `categories`.
    pub default_category: String,
    /// Skills vocabulary agents and tickets are tagged with.
    pub skills: Vec<String>,
    /// Skills implied by each category (used when a classifier names only a category).
    pub category_skills: Vec<CategorySkills>,
    /// Priority used when triage cannot decide.
    pub default_priority: Priority,
    /// Keyword rules for the rule classifier.
    pub triage_rules: Vec<TriageRule>,
    /// Minimum confidence for a classifier result to be accepted by the chain.
    pub triage_confidence_threshold: f32,
    /// SLA targets per priority, in business minutes.
    pub sla: SlaPolicy,
    /// Business hours, timezone and holidays the SLA clock runs on.
    pub calendar: BusinessCalendar,
    /// Chat sessions idle longer than this are closed by the inactivity sweep.
    pub chat_inactivity_minutes: u32,
    /// How long after resolution a customer reply reopens the ticket (instead of creating a
    /// follow-up).
    pub reopen_window_hours: u32,
    /// How much the AI may do on its own.
    pub ai_autonomy: AiAutonomy,
    /// Minimum retrieval score for the chatbot to answer from the knowledge base. The
    /// default, 0.575, is chosen on the tune split of `helpdesk-eval chatbot` (offline bot,
    /// MiniLM): the highest coverage with wrong answers at most 5% of the answered ones
    /// (see BENCHMARKS.md).
    pub grounding_threshold: f32,
    /// Whether anyone may sign up as a customer of this tenant
    /// ([`crate::Helpdesk::register_customer`]); when false only admins add users. Open by
    /// default, as before the setting existed (stored settings without it stay open).
    pub self_registration: bool,
    /// The largest attachment accepted, in bytes (default 10 MiB; 1 ..= 1 GiB).
    pub attachment_max_bytes: u64,
    /// How many files one message may carry (default 10; 1 ..= 100).
    pub attachments_per_message: u32,
    /// The e-mail channel: support address, signature, acknowledgements and intake limits
    /// (off by default: no address; stored settings without it load with the defaults).
    pub email: EmailSettings,
    /// The custom fields of the tenant's tickets, in the order shown (none by default).
    pub custom_fields: Vec<super::CustomFieldDef>,
    /// Automation rules, run in this order (none by default).
    pub automations: Vec<super::AutomationRule>,
    /// Teams of agents, in the order shown (none by default).
    pub teams: Vec<super::Team>,
    /// The retention policy: tickets created more than this many months ago are closed
    /// and their personal data erased by the retention sweep
    /// ([`crate::Helpdesk::retention_sweep`]). `None` (the default): kept until erased
    /// on request. 1 ..= [`TenantSettings::MAX_RETENTION_MONTHS`].
    pub retention_months: Option<u32>,
}

impl TenantSettings {
    /// The longest retention period a tenant may set, in months (10 years).
    pub const MAX_RETENTION_MONTHS: u32 = 120;
}

/// A tenant's e-mail channel.
///
/// Which tenant a mail belongs to is known from its delivery route (the pipe's tenant, the
/// IMAP mailbox's configuration), never from the message itself; `address` is what mail
/// arrives at and is sent from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailSettings {
    /// The support address mail arrives at and is sent from; `None`: the channel is off.
    pub address: Option<String>,
    /// Name shown with it ("Acme Support"); empty: the tenant's name.
    pub display_name: String,
    /// Put under every reply mail (plain text, up to
    /// [`EmailSettings::MAX_SIGNATURE_CHARS`] characters).
    pub signature: String,
    /// Send "we received your request #123" on a ticket opened by e-mail (default true).
    pub acknowledge_new_tickets: bool,
    /// New tickets one sender may open by e-mail per hour before further mail is held in
    /// quarantine (default 20; 1 ..= 10,000).
    pub max_new_tickets_per_sender_per_hour: u32,
    /// Largest raw message accepted, in bytes (default 25 MiB; 1 KiB ..= 100 MiB).
    pub max_message_bytes: u64,
}

impl EmailSettings {
    /// Longest signature, in characters.
    pub const MAX_SIGNATURE_CHARS: usize = 2_000;
    /// Longest display name, in characters.
    pub const MAX_DISPLAY_NAME_CHARS: usize = 200;
    /// Bounds of [`EmailSettings::max_new_tickets_per_sender_per_hour`].
    pub const NEW_TICKETS_PER_HOUR: std::ops::RangeInclusive<u32> = 1..=10_000;
    /// Bounds of [`EmailSettings::max_message_bytes`].
    pub const MESSAGE_BYTES: std::ops::RangeInclusive<u64> = 1024..=100 * 1024 * 1024;
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            address: None,
            display_name: String::new(),
            signature: String::new(),
            acknowledge_new_tickets: true,
            max_new_tickets_per_sender_per_hour: 20,
            max_message_bytes: 25 * 1024 * 1024,
        }
    }
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            categories: ["account", "billing", "technical", "other"]
                .map(String::from)
                .to_vec(),
            default_category: "other".into(),
            skills: ["billing", "technical", "account"]
                .map(String::from)
                .to_vec(),
            category_skills: vec![
                CategorySkills::new("billing", ["billing"]),
                CategorySkills::new("technical", ["technical"]),
                CategorySkills::new("account", ["account"]),
            ],
            default_priority: Priority::Medium,
            triage_rules: TriageRule::defaults(),
            triage_confidence_threshold: 0.5,
            sla: SlaPolicy::default(),
            calendar: BusinessCalendar::default(),
            chat_inactivity_minutes: 30,
            reopen_window_hours: 7 * 24,
            ai_autonomy: AiAutonomy::AutoReply,
            grounding_threshold: 0.575,
            self_registration: true,
            attachment_max_bytes: 10 * 1024 * 1024,
            attachments_per_message: 10,
            email: EmailSettings::default(),
            custom_fields: Vec::new(),
            automations: Vec::new(),
            teams: Vec::new(),
            retention_months: None,
        }
    }
}

impl TenantSettings {
    /// The team with this key.
    pub fn team(&self, key: &str) -> Option<&super::Team> {
        self.teams.iter().find(|t| t.key == key)
    }

    /// The team that handles `category`'s tickets, if one does.
    pub fn team_for_category(&self, category: &str) -> Option<&super::Team> {
        self.teams
            .iter()
            .find(|t| t.categories.iter().any(|c| c == category))
    }
}

/// The skills a category implies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategorySkills {
    /// Category name.
    pub category: String,
    /// Skills needed to work tickets of that category.
    pub skills: Vec<String>,
}

impl CategorySkills {
    /// Builds a mapping.
    pub fn new<const N: usize>(category: &str, skills: [&str; N]) -> Self {
        Self {
            category: category.into(),
            skills: skills.iter().map(|s| (*s).to_string()).collect(),
        }
    }
}

/// A keyword rule: when any phrase occurs in the subject or description (case-insensitive,
/// on word boundaries), the rule votes for its priority, category and skills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageRule {
    /// Phrases such as `"not working"`, `"refund"`.
    pub phrases: Vec<String>,
    /// Priority the rule sets, if any (the highest matching priority wins).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Category the rule votes for, if any.
    #[serde(default)]
    pub category: Option<String>,
    /// Skills the rule adds.
    #[serde(default)]
    pub skills: Vec<String>,
}

impl TriageRule {
    /// Sensible rules for a new tenant with the default categories.
    pub fn defaults() -> Vec<Self> {
        fn rule(
            phrases: &[&str],
            priority: Option<Priority>,
            category: Option<&str>,
            skills: &[&str],
        ) -> TriageRule {
            TriageRule {
                phrases: phrases.iter().map(|s| (*s).to_string()).collect(),
                priority,
                category: category.map(String::from),
                skills: skills.iter().map(|s| (*s).to_string()).collect(),
            }
        }
        vec![
            rule(
                &[
                    "urgent",
                    "asap",
                    "emergency",
                    "outage",
                    "down for everyone",
                    "data loss",
                ],
                Some(Priority::Urgent),
                None,
                &[],
            ),
            rule(
                &[
                    "not working",
                    "broken",
                    "crash",
                    "crashes",
                    "error",
                    "bug",
                    "fails",
                ],
                Some(Priority::High),
                Some("technical"),
                &["technical"],
            ),
            rule(
                &[
                    "refund",
                    "invoice",
                    "charge",
                    "charged",
                    "billing",
                    "payment",
                    "subscription",
                ],
                None,
                Some("billing"),
                &["billing"],
            ),
            rule(
                &[
                    "password",
                    "login",
                    "log in",
                    "sign in",
                    "locked out",
                    "account",
                    "2fa",
                ],
                None,
                Some("account"),
                &["account"],
            ),
            rule(
                &[
                    "question",
                    "how do i",
                    "how to",
                    "feature request",
                    "suggestion",
                ],
                Some(Priority::Low),
                None,
                &[],
            ),
        ]
    }
}

/// SLA targets per priority in business minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// One target per priority; a priority without a target has no SLA.
    pub targets: Vec<SlaTarget>,
}

impl SlaPolicy {
    /// The target for a priority, if the policy has one.
    pub fn target(&self, priority: Priority) -> Option<&SlaTarget> {
        self.targets.iter().find(|t| t.priority == priority)
    }
}

impl Default for SlaPolicy {
    fn default() -> Self {
        let t = |priority, first_response_minutes, resolution_minutes| SlaTarget {
            priority,
            first_response_minutes,
            resolution_minutes,
        };
        Self {
            targets: vec![
                t(Priority::Urgent, 60, 4 * 60),
                t(Priority::High, 4 * 60, 2 * 8 * 60),
                t(Priority::Medium, 8 * 60, 5 * 8 * 60),
                t(Priority::Low, 2 * 8 * 60, 10 * 8 * 60),
            ],
        }
    }
}

/// First-response and resolution targets for one priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    /// The priority.
    pub priority: Priority,
    /// Business minutes until the first agent reply is due.
    pub first_response_minutes: u32,
    /// Business minutes until resolution is due.
    pub resolution_minutes: u32,
}

/// Business hours in a timezone, with holidays. The SLA clock only runs inside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    /// IANA timezone name (`Europe/Paris`).
    pub timezone: String,
    /// Opening hours per ISO weekday; a weekday without an entry is closed.
    pub weekly_hours: Vec<DayHours>,
    /// Whole days the business is closed, in local dates.
    pub holidays: Vec<Date>,
}

impl BusinessCalendar {
    /// Open all day, every day, in UTC (SLA in wall-clock time).
    pub fn always_open() -> Self {
        Self {
            timezone: "UTC".into(),
            weekly_hours: (1..=7)
                .map(|weekday| DayHours {
                    weekday,
                    open_minute: 0,
                    close_minute: 24 * 60,
                })
                .collect(),
            holidays: Vec::new(),
        }
    }

    /// Monday to Friday, `open_hour` to `close_hour`, in `timezone`.
    pub fn weekdays(timezone: &str, open_hour: u16, close_hour: u16) -> Self {
        Self {
            timezone: timezone.into(),
            weekly_hours: (1..=5)
                .map(|weekday| DayHours {
                    weekday,
                    open_minute: open_hour * 60,
                    close_minute: close_hour * 60,
                })
                .collect(),
            holidays: Vec::new(),
        }
    }
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        Self::weekdays("UTC", 9, 17)
    }
}

/// Opening hours for one weekday, in local minutes since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    /// ISO weekday: 1 = Monday .. 7 = Sunday.
    pub weekday: u8,
    /// Opening time, minutes after local midnight (0..1440).
    pub open_minute: u16,
    /// Closing time, minutes after local midnight (open_minute < close_minute <= 1440).
    pub close_minute: u16,
}
