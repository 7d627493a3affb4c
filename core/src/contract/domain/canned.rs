//! Canned responses (macros): a reply text with placeholders an agent picks in the reply
//! box, and the changes applied with it (status, priority, tags, assignee) in the same
//! ticket change.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Priority, TicketStatus};
use crate::{CannedResponseId, TenantId, UserId};

/// A canned response of one tenant: shared with every agent (no `owner`) or one agent's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponse {
    /// Id (time ordered).
    pub id: CannedResponseId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The agent it belongs to; `None` when it is shared with the tenant's staff (only
    /// admins change those).
    pub owner: Option<UserId>,
    /// What agents search for in the reply box; unique (case-insensitively) among the
    /// tenant's shared responses, and among one agent's own.
    pub name: String,
    /// The text, with [`Placeholder`]s (`{{customer.name}}`).
    pub body: String,
    /// Posted as an internal note instead of a public reply.
    pub internal: bool,
    /// Changes applied together with the text.
    pub actions: CannedActions,
    /// Who created it.
    pub created_by: UserId,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

impl CannedResponse {
    /// Its name folded for uniqueness and search (lower case, trimmed).
    pub fn folded_name(&self) -> String {
        fold_name(&self.name)
    }
}

/// A name folded for uniqueness and search: trimmed and lower-cased.
pub fn fold_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Changes a canned response applies to the ticket with its text, each through the same
/// checks as the single change (a status the lifecycle does not allow from the ticket's
/// status refuses the whole change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CannedActions {
    /// Move the ticket to this status.
    pub status: Option<TicketStatus>,
    /// Set this priority (SLA due times are recomputed).
    pub priority: Option<Priority>,
    /// Tags to add.
    pub add_tags: Vec<String>,
    /// Tags to remove.
    pub remove_tags: Vec<String>,
    /// Assign the ticket.
    pub assign: Option<CannedAssign>,
}

impl CannedActions {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Whom a canned response assigns the ticket to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum CannedAssign {
    /// The agent who applies it.
    Me,
    /// This agent or admin of the tenant (active when the response is applied).
    User {
        /// The user.
        id: UserId,
    },
    /// Nobody: the ticket goes back to the queue.
    Nobody,
}

/// A value a canned response's text may name as `{{name}}`. Besides these, `{{field.<key>}}`
/// names the ticket's custom field `key` ([`TemplatePart::Field`]). The text is filled in
/// one pass: a value that itself contains `{{...}}` stays as it is, so a customer's name
/// cannot smuggle in another placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placeholder {
    /// `customer.name`: the requester's display name.
    CustomerName,
    /// `customer.first_name`: the first word of it.
    CustomerFirstName,
    /// `customer.email`.
    CustomerEmail,
    /// `ticket.number`.
    TicketNumber,
    /// `ticket.subject`.
    TicketSubject,
    /// `agent.name`: the agent who applies the response.
    AgentName,
    /// `agent.first_name`.
    AgentFirstName,
    /// `company.name`: the tenant's name.
    CompanyName,
}

impl Placeholder {
    /// Every placeholder, with its name.
    pub const ALL: [(&'static str, Self); 8] = [
        ("customer.name", Self::CustomerName),
        ("customer.first_name", Self::CustomerFirstName),
        ("customer.email", Self::CustomerEmail),
        ("ticket.number", Self::TicketNumber),
        ("ticket.subject", Self::TicketSubject),
        ("agent.name", Self::AgentName),
        ("agent.first_name", Self::AgentFirstName),
        ("company.name", Self::CompanyName),
    ];

    /// The placeholder of a name (`"customer.name"`), if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }
}

/// A piece of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart<'a> {
    /// Text as written.
    Text(&'a str),
    /// A placeholder to fill.
    Value(Placeholder),
    /// `{{field.<key>}}`: the ticket's custom field `key`, as people read it (empty when
    /// the ticket has no value). Whether the key is defined is the caller's check.
    Field(&'a str),
}

/// The prefix of a custom field placeholder (`{{field.plan}}`).
pub const FIELD_PLACEHOLDER_PREFIX: &str = "field.";

/// Why a template does not parse: the byte offset and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset of the `{{` at fault.
    pub at: usize,
    /// What is wrong (names the placeholder).
    pub reason: String,
}

/// Splits a template into text and placeholders. `{{ name }}` (spaces allowed inside the
/// braces) must name a [`Placeholder`]; an unknown name or a `{{` without `}}` is an error,
/// so a typo is caught when the response is saved, not when a customer reads it.
pub fn parse_template(template: &str) -> Result<Vec<TemplatePart<'_>>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(TemplatePart::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| TemplateError {
            at: offset + open,
            reason: "a placeholder opened with {{ is not closed with }}".into(),
        })?;
        let name = after[..close].trim();
        let field = name
            .strip_prefix(FIELD_PLACEHOLDER_PREFIX)
            .filter(|key| !key.is_empty() && !key.contains(char::is_whitespace));
        let part = match (field, Placeholder::from_name(name)) {
            (Some(key), _) => TemplatePart::Field(key),
            (None, Some(value)) => TemplatePart::Value(value),
            (None, None) => {
                return Err(TemplateError {
                    at: offset + open,
                    reason: format!(
                        "unknown placeholder {{{{{name}}}}} (known: {}, {FIELD_PLACEHOLDER_PREFIX}<key> \
                         of a custom field)",
                        Placeholder::ALL.map(|(n, _)| n).join(", ")
                    ),
                });
            }
        };
        parts.push(part);
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest));
    }
    Ok(parts)
}

/// Fills a template's placeholders in one pass (see [`Placeholder`]): each with `value`,
/// each custom field placeholder with `field` of its key.
pub fn render_template(
    template: &str,
    value: impl Fn(Placeholder) -> String,
    field: impl Fn(&str) -> String,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    for part in parse_template(template)? {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Value(p) => out.push_str(&value(p)),
            TemplatePart::Field(key) => out.push_str(&field(key)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fill(p: Placeholder) -> String {
        match p {
            Placeholder::CustomerName => "Ana {{agent.name}}".into(),
            Placeholder::TicketNumber => "42".into(),
            _ => "x".into(),
        }
    }

    #[test]
    fn fills_in_one_pass() {
        let out = render_template("Hi {{ customer.name }}, #{{ticket.number}}.", fill, |_| {
            String::new()
        });
        assert_eq!(out.as_deref(), Ok("Hi Ana {{agent.name}}, #42."));
    }

    #[test]
    fn fills_custom_fields_by_key() {
        let out = render_template(
            "Plan: {{ field.plan }}, order {{field.order_no}}.",
            fill,
            |key| match key {
                "plan" => "Pro {{customer.name}}".into(),
                _ => String::new(),
            },
        );
        assert_eq!(out.as_deref(), Ok("Plan: Pro {{customer.name}}, order ."));
        assert_eq!(
            parse_template("{{field.}}").map_err(|e| e.at),
            Err(0),
            "a field placeholder needs a key"
        );
        assert!(parse_template("{{field.a b}}").is_err());
    }

    #[test]
    fn refuses_unknown_and_unclosed_placeholders() {
        let err = parse_template("ok {{customer.nmae}}").unwrap_err();
        assert_eq!(err.at, 3);
        assert!(err.reason.contains("{{customer.nmae}}"), "{}", err.reason);
        let err = parse_template("a {{ticket.number").unwrap_err();
        assert_eq!(err.at, 2);
        assert!(err.reason.contains("not closed"));
        assert_eq!(
            parse_template("no braces } here { ok"),
            Ok(vec![TemplatePart::Text("no braces } here { ok")])
        );
    }

    #[test]
    fn offsets_count_from_the_start() {
        let err = parse_template("{{ticket.number}} and {{nope}}").unwrap_err();
        assert_eq!(err.at, 22);
    }
}
