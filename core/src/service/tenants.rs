//! Tenants, users and settings.

use serde::{Deserialize, Serialize};

use super::Helpdesk;
use crate::auth::hash_password;
use crate::domain::{
    Actor, AuditEvent, AuditKind, PasswordHash, Role, RoleChange, Tenant, TenantSettings, User,
};
use crate::roles::Action;
use crate::service::automation;
use crate::store::{AdminChange, AdminWrite};
use crate::{Error, Result, StateError, TenantId, UserId, sla, validate};

/// A company registering itself, with its first admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTenant {
    /// Company name.
    pub name: String,
    /// Unique handle (`acme`).
    pub slug: String,
    /// The first admin.
    pub admin: NewUser,
    /// Settings; `None` for the defaults.
    pub settings: Option<TenantSettings>,
}

/// A new user.
#[derive(Clone, Serialize, Deserialize)]
pub struct NewUser {
    /// E-mail (lowercased, unique in the tenant).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role (ignored for self-registration, which always makes a customer).
    pub role: Role,
    /// Skills from the tenant vocabulary.
    pub skills: Vec<String>,
    /// Max open tickets (0 = unlimited).
    pub capacity: u32,
    /// Password for the built-in auth; `None` for hosts with their own auth.
    pub password: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("skills", &self.skills)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl NewUser {
    /// A user with no skills, no capacity limit and no password.
    pub fn new(email: &str, name: &str, role: Role) -> Self {
        Self {
            email: email.into(),
            name: name.into(),
            role,
            skills: Vec::new(),
            capacity: 0,
            password: None,
        }
    }

    /// With a password.
    pub fn with_password(mut self, password: &str) -> Self {
        self.password = Some(password.into());
        self
    }

    /// With skills.
    pub fn with_skills(mut self, skills: &[&str]) -> Self {
        self.skills = skills.iter().map(|s| (*s).to_string()).collect();
        self
    }

    /// With a capacity.
    pub fn with_capacity(mut self, capacity: u32) -> Self {
        self.capacity = capacity;
        self
    }
}

/// Changes to a user; `None` keeps the value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserPatch {
    /// New name.
    pub name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New skills.
    pub skills: Option<Vec<String>>,
    /// New capacity.
    pub capacity: Option<u32>,
    /// Activate or deactivate.
    pub active: Option<bool>,
}

fn validate_skills(settings: &TenantSettings, skills: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (i, s) in skills.iter().enumerate() {
        let s = validate::identifier(&format!("skills[{i}]"), s)?;
        if !settings.skills.contains(&s) {
            return Err(Error::validation(
                format!("skills[{i}]"),
                format!("{s:?} is not in the tenant's skills vocabulary"),
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Checks tenant settings: vocabularies are identifiers without duplicates, every
/// reference points into them, thresholds are in 0..=1, the calendar is valid.
pub(crate) fn validate_settings(s: &TenantSettings) -> Result<TenantSettings> {
    let mut s = s.clone();
    let vocab = |field: &str, list: &[String]| -> Result<Vec<String>> {
        if list.is_empty() {
            return Err(Error::validation(field.to_string(), "must not be empty"));
        }
        if list.len() > 100 {
            return Err(Error::validation(field.to_string(), "at most 100 entries"));
        }
        let mut out: Vec<String> = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let v = validate::identifier(&format!("{field}[{i}]"), v)?;
            if out.contains(&v) {
                return Err(Error::validation(
                    format!("{field}[{i}]"),
                    format!("{v:?} listed twice"),
                ));
            }
            out.push(v);
        }
        Ok(out)
    };
    s.categories = vocab("settings.categories", &s.categories)?;
    s.custom_fields = crate::fields::check_definitions(&s.custom_fields)?;
    s.automations =
        crate::automation::check_rules(&s.automations, &s.categories, &s.custom_fields)?;
    s.skills = vocab("settings.skills", &s.skills)?;
    s.teams = crate::teams::check_teams(&s.teams, &s.categories)?;
    if !s.categories.contains(&s.default_category) {
        return Err(Error::validation(
            "settings.default_category",
            format!("{:?} is not one of the categories", s.default_category),
        ));
    }
    for (i, m) in s.category_skills.iter().enumerate() {
        if !s.categories.contains(&m.category) {
            return Err(Error::validation(
                format!("settings.category_skills[{i}].category"),
                format!("{:?} is not one of the categories", m.category),
            ));
        }
        if let Some(bad) = m.skills.iter().find(|k| !s.skills.contains(k)) {
            return Err(Error::validation(
                format!("settings.category_skills[{i}].skills"),
                format!("{bad:?} is not one of the skills"),
            ));
        }
    }
    if s.triage_rules.len() > 200 {
        return Err(Error::validation(
            "settings.triage_rules",
            "at most 200 rules",
        ));
    }
    for (i, r) in s.triage_rules.iter().enumerate() {
        if r.phrases.is_empty()
            || r.phrases
                .iter()
                .any(|p| p.trim().is_empty() || p.len() > 100)
        {
            return Err(Error::validation(
                format!("settings.triage_rules[{i}].phrases"),
                "1 or more phrases of 1 to 100 characters",
            ));
        }
        if let Some(c) = &r.category
            && !s.categories.contains(c)
        {
            return Err(Error::validation(
                format!("settings.triage_rules[{i}].category"),
                format!("{c:?} is not one of the categories"),
            ));
        }
        if let Some(bad) = r.skills.iter().find(|k| !s.skills.contains(k)) {
            return Err(Error::validation(
                format!("settings.triage_rules[{i}].skills"),
                format!("{bad:?} is not one of the skills"),
            ));
        }
    }
    for (field, v) in [
        (
            "settings.triage_confidence_threshold",
            s.triage_confidence_threshold,
        ),
        ("settings.grounding_threshold", s.grounding_threshold),
    ] {
        if !v.is_finite() || !(0.0..=1.0).contains(&v) {
            return Err(Error::validation(field, "must be between 0 and 1"));
        }
    }
    if !(1..=7 * 24 * 60).contains(&s.chat_inactivity_minutes) {
        return Err(Error::validation(
            "settings.chat_inactivity_minutes",
            "must be 1 minute to 7 days",
        ));
    }
    if !(1..=1024 * 1024 * 1024).contains(&s.attachment_max_bytes) {
        return Err(Error::validation(
            "settings.attachment_max_bytes",
            "must be 1 byte to 1 GiB",
        ));
    }
    if s.retention_months
        .is_some_and(|m| !(1..=TenantSettings::MAX_RETENTION_MONTHS).contains(&m))
    {
        return Err(Error::validation(
            "settings.retention_months",
            format!(
                "must be 1 to {} months (or none: keep tickets)",
                TenantSettings::MAX_RETENTION_MONTHS
            ),
        ));
    }
    if !(1..=100).contains(&s.attachments_per_message) {
        return Err(Error::validation(
            "settings.attachments_per_message",
            "must be 1 to 100",
        ));
    }
    s.email = validate::email_settings(&s.email)?;
    if s.reopen_window_hours > 365 * 24 {
        return Err(Error::validation(
            "settings.reopen_window_hours",
            "at most one year",
        ));
    }
    for (i, t) in s.sla.targets.iter().enumerate() {
        if t.first_response_minutes == 0 || t.resolution_minutes < t.first_response_minutes {
            return Err(Error::validation(
                format!("settings.sla.targets[{i}]"),
                "first response must be positive and not after resolution",
            ));
        }
        if s.sla.targets[..i].iter().any(|o| o.priority == t.priority) {
            return Err(Error::validation(
                format!("settings.sla.targets[{i}].priority"),
                format!("{} listed twice", t.priority),
            ));
        }
    }
    sla::validate_calendar(&s.calendar)?;
    Ok(s)
}

/// The `UserChanged` audit record of `before` becoming `after`, `None` when nothing
/// differs.
fn user_changes(before: &User, after: &User) -> Option<AuditKind> {
    let mut fields = Vec::new();
    for (name, changed) in [
        ("name", before.name != after.name),
        ("skills", before.skills != after.skills),
        ("capacity", before.capacity != after.capacity),
        ("role", before.role != after.role),
        ("active", before.active != after.active),
    ] {
        if changed {
            fields.push(name.to_string());
        }
    }
    if fields.is_empty() {
        return None;
    }
    Some(AuditKind::UserChanged {
        user: after.id,
        fields,
        role: (before.role != after.role).then_some(RoleChange {
            from: before.role,
            to: after.role,
        }),
        active: (before.active != after.active).then_some(after.active),
    })
}

/// The names of the top-level settings that differ between `before` and `after`, in the
/// order they serialize.
fn settings_changes(before: &TenantSettings, after: &TenantSettings) -> Result<Vec<String>> {
    let as_map = |s: &TenantSettings| match serde_json::to_value(s) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::validation("settings", "must serialize as an object")),
        Err(e) => Err(Error::validation("settings", e.to_string())),
    };
    let (before, after) = (as_map(before)?, as_map(after)?);
    Ok(after
        .iter()
        .filter(|(key, value)| before.get(*key) != Some(*value))
        .map(|(key, _)| key.clone())
        .collect())
}

/// Hashes a password on a blocking thread (argon2id is deliberately slow).
pub(crate) async fn hash_off_thread(password: String) -> Result<PasswordHash> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::backend("argon2", false, e))?
}

impl Helpdesk {
    /// Registers a company: creates the tenant and its first admin. Public (no actor):
    /// this is the sign-up door.
    pub async fn register_tenant(&self, new: NewTenant) -> Result<(Tenant, User)> {
        let name = validate::required_line("name", &new.name, validate::MAX_NAME_CHARS)?;
        let slug = validate::slug(&new.slug)?;
        let settings = validate_settings(&new.settings.unwrap_or_default())?;
        let now = self.now();
        let tenant = Tenant {
            id: TenantId::new(),
            name,
            slug,
            settings,
            created_at: now,
        };
        let (admin, password) = self
            .build_user(&tenant, new.admin, Some(Role::Admin))
            .await?;
        // One write: the tenant, its first admin and the audit event land together, so a
        // tenant never exists without an admin. Nobody is signed in yet: the event has no
        // actor.
        let kind = AuditKind::UserAdded {
            user: admin.id,
            email: admin.email.clone(),
            role: admin.role,
        };
        let change = AdminChange::RegisterTenant {
            tenant: tenant.clone(),
            admin: admin.clone(),
            password,
        };
        self.commit_admin(None, tenant.id, change, kind).await?;
        tracing::info!(tenant = %tenant.slug, "tenant registered");
        Ok((tenant, admin))
    }

    /// A validated new user and the hash of its initial password, if it has one.
    pub(super) async fn build_user(
        &self,
        tenant: &Tenant,
        new: NewUser,
        force_role: Option<Role>,
    ) -> Result<(User, Option<PasswordHash>)> {
        let email = validate::email(&new.email)?;
        let name = validate::required_line("name", &new.name, validate::MAX_NAME_CHARS)?;
        let role = force_role.unwrap_or(new.role);
        let skills = validate_skills(&tenant.settings, &new.skills)?;
        if new.capacity > 10_000 {
            return Err(Error::validation("capacity", "at most 10000"));
        }
        let password_hash = match new.password {
            Some(password) => Some(hash_off_thread(password).await?),
            None => None,
        };
        let user = User {
            id: UserId::new(),
            tenant_id: tenant.id,
            email,
            name,
            role,
            skills,
            capacity: new.capacity,
            active: true,
            created_at: self.now(),
        };
        Ok((user, password_hash))
    }

    /// Stores a new user with its initial password hash, if any, and its `UserAdded` audit
    /// event by `actor`, in one write.
    pub(super) async fn insert_user(
        &self,
        actor: Option<&Actor>,
        user: &User,
        password: Option<PasswordHash>,
    ) -> Result<()> {
        let kind = AuditKind::UserAdded {
            user: user.id,
            email: user.email.clone(),
            role: user.role,
        };
        let change = AdminChange::CreateUser {
            user: user.clone(),
            password,
        };
        self.commit_admin(actor, user.tenant_id, change, kind).await
    }

    /// Commits an administrative change with its audit event by `actor` (one write).
    pub(crate) async fn commit_admin(
        &self,
        actor: Option<&Actor>,
        tenant: TenantId,
        change: AdminChange,
        kind: AuditKind,
    ) -> Result<()> {
        let audit = AuditEvent::new(tenant, self.now(), actor.map(|a| a.user_id), kind);
        self.inner
            .store
            .commit_admin_change(&AdminWrite::new(change, audit))
            .await
    }

    /// Self-registration of a customer on a tenant's portal (always role Customer, a
    /// password is required). Refused with [`StateError::RegistrationClosed`] when the
    /// tenant's settings close self-registration.
    pub async fn register_customer(&self, tenant_slug: &str, new: NewUser) -> Result<User> {
        let tenant = self
            .inner
            .store
            .get_tenant_by_slug(tenant_slug)
            .await?
            .ok_or_else(|| Error::not_found("tenant", tenant_slug))?;
        if !tenant.settings.self_registration {
            return Err(StateError::RegistrationClosed.into());
        }
        if new.password.is_none() {
            return Err(Error::validation("password", "required to register"));
        }
        let (user, password) = self.build_user(&tenant, new, Some(Role::Customer)).await?;
        // The customer registers itself: its own audit event's actor.
        self.insert_user(Some(&Actor::for_user(&user)), &user, password)
            .await?;
        Ok(user)
    }

    /// Adds a user (admins only).
    pub async fn add_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        let (tenant, _) = self.check(actor, Action::ManageUsers).await?;
        let (user, password) = self.build_user(&tenant, new, None).await?;
        self.insert_user(Some(actor), &user, password).await?;
        Ok(user)
    }

    /// Changes a user (admins only). The last active admin cannot be demoted or
    /// deactivated.
    pub async fn update_user(&self, actor: &Actor, id: UserId, patch: UserPatch) -> Result<User> {
        let (tenant, _) = self.check(actor, Action::ManageUsers).await?;
        let before = self
            .inner
            .store
            .get_user(tenant.id, id)
            .await?
            .ok_or_else(|| Error::not_found("user", id))?;
        let mut user = before.clone();
        if let Some(name) = patch.name {
            user.name = validate::required_line("name", &name, validate::MAX_NAME_CHARS)?;
        }
        if let Some(skills) = patch.skills {
            user.skills = validate_skills(&tenant.settings, &skills)?;
        }
        if let Some(capacity) = patch.capacity {
            if capacity > 10_000 {
                return Err(Error::validation("capacity", "at most 10000"));
            }
            user.capacity = capacity;
        }
        let was_admin = user.role == Role::Admin && user.active;
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(active) = patch.active {
            user.active = active;
        }
        if was_admin && !(user.role == Role::Admin && user.active) {
            let admins = self
                .inner
                .store
                .list_users(tenant.id, Some(Role::Admin))
                .await?;
            if admins
                .iter()
                .filter(|a| a.active && a.id != user.id)
                .count()
                == 0
            {
                return Err(StateError::LastAdmin.into());
            }
        }
        let Some(kind) = user_changes(&before, &user) else {
            // Nothing differs: nothing to write or record.
            return Ok(user);
        };
        self.commit_admin(
            Some(actor),
            tenant.id,
            AdminChange::UpdateUser(user.clone()),
            kind,
        )
        .await?;
        Ok(user)
    }

    /// Lists the tenant's users (staff), optionally of one role.
    pub async fn list_users(&self, actor: &Actor, role: Option<Role>) -> Result<Vec<User>> {
        self.check(actor, Action::ViewQueue).await?;
        self.inner.store.list_users(actor.tenant_id, role).await
    }

    /// Replaces the tenant's settings (admins only), validated.
    pub async fn update_settings(&self, actor: &Actor, settings: TenantSettings) -> Result<Tenant> {
        let (mut tenant, _) = self.check(actor, Action::ManageTenant).await?;
        let settings = validate_settings(&settings)?;
        if !settings.teams.is_empty() {
            let users = self.inner.store.list_users(tenant.id, None).await?;
            crate::teams::check_members(&settings.teams, &users)?;
        }
        if automation::has_references(&settings.automations) {
            let store = &self.inner.store;
            let (canned, webhooks) = futures_util::future::try_join(
                store.list_canned_responses(tenant.id),
                store.list_webhooks(tenant.id),
            )
            .await?;
            automation::check_references(&settings.automations, &canned, &webhooks)?;
        }
        let fields = settings_changes(&tenant.settings, &settings)?;
        if fields.is_empty() {
            return Ok(tenant);
        }
        tenant.settings = settings;
        self.commit_admin(
            Some(actor),
            tenant.id,
            AdminChange::UpdateTenant(tenant.clone()),
            AuditKind::TenantSettingsChanged { fields },
        )
        .await?;
        Ok(tenant)
    }

    /// The actor's tenant.
    pub async fn get_tenant(&self, actor: &Actor) -> Result<Tenant> {
        self.check(actor, Action::ViewTicket).await.map(|(t, _)| t)
    }
}
