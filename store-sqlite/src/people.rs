//! Tenants, users and login sessions.

use async_trait::async_trait;
use helpdesk_core::domain::{AuthSession, PasswordHash, Role, Tenant, User};
use helpdesk_core::store::{RoutingStaff, TenantStore, UserStore};
use helpdesk_core::{DuplicateKind, Error, Result, TenantId, UserId};
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::codec::{Columns, json, ms};
use crate::error::{db, insert_err};
use crate::sql::Sql;
use crate::{SqliteStore, commit};

macro_rules! tenant_columns {
    () => {
        "id, name, slug, settings, created_at"
    };
}
// Without `password_hash`: only `login_credentials` reads it, so no user read carries it.
macro_rules! user_columns {
    () => {
        "id, tenant_id, email, name, role, skills, capacity, active, created_at"
    };
}

/// A tenant's users of one role, oldest first (index `users_role`, migration 3).
pub(crate) const USERS_OF_ROLE: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM helpdesk_users WHERE tenant_id = ? AND role = ? ORDER BY created_at, id"
);

/// Active agents then active admins of a tenant, oldest first, with their routing stamps
/// and open assigned tickets. The count's terms repeat the partial index `tickets_open_by_assignee`.
pub(crate) const ROUTING_STAFF: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", last_routed, (SELECT count(*) FROM helpdesk_tickets t WHERE t.tenant_id = u.tenant_id \
     AND t.assignee = u.id AND t.assignee IS NOT NULL \
     AND t.status NOT IN ('resolved', 'closed')) AS open_tickets \
     FROM helpdesk_users u WHERE tenant_id = ? AND role IN (?, ?) AND active = 1 \
     ORDER BY role = ? DESC, created_at, id"
);

/// Runs [`ROUTING_STAFF`].
pub(crate) async fn routing_staff(
    sql: &Sql,
    pool: &SqlitePool,
    tenant: TenantId,
) -> Result<Vec<RoutingStaff>> {
    sqlx::query(sql.text(ROUTING_STAFF))
        .bind(tenant.to_string())
        .bind(Role::Agent.as_str())
        .bind(Role::Admin.as_str())
        .bind(Role::Agent.as_str())
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(|row| {
            let open: i64 = row.try_get("open_tickets").map_err(db)?;
            let stamp: i64 = row.try_get("last_routed").map_err(db)?;
            Ok(RoutingStaff {
                user: user_from(row)?,
                open_tickets: open.unsigned_abs(),
                last_routed: stamp.unsigned_abs(),
            })
        })
        .collect()
}

fn tenant_from(row: &SqliteRow) -> Result<Tenant> {
    tenant_from_named(row, ["id", "name", "slug", "settings", "created_at"])
}

/// A tenant from columns with these names (id, name, slug, settings, created_at).
fn tenant_from_named(row: &SqliteRow, names: [&'static str; 5]) -> Result<Tenant> {
    let c = Columns(row);
    let [id, name, slug, settings, created_at] = names;
    Ok(Tenant {
        id: c.id(id)?,
        name: c.text(name)?,
        slug: c.text(slug)?,
        settings: c.json(settings)?,
        created_at: c.ts(created_at)?,
    })
}

/// A user with its tenant in one statement (the tenant's columns renamed).
const USER_WITH_TENANT: &str = "SELECT u.id, u.tenant_id, u.email, u.name, \
     u.role, u.skills, u.capacity, u.active, u.created_at, \
     t.id AS tenant_key, t.name AS tenant_name, \
     t.slug AS tenant_slug, t.settings AS tenant_settings, \
     t.created_at AS tenant_created_at \
     FROM helpdesk_users u JOIN helpdesk_tenants t ON t.id = u.tenant_id \
     WHERE u.tenant_id = ? AND u.id = ?";

/// Runs [`USER_WITH_TENANT`].
pub(crate) async fn user_with_tenant(
    sql: &Sql,
    pool: &SqlitePool,
    tenant: TenantId,
    user: UserId,
) -> Result<Option<(Tenant, User)>> {
    let Some(row) = sqlx::query(sql.text(USER_WITH_TENANT))
        .bind(tenant.to_string())
        .bind(user.to_string())
        .fetch_optional(pool)
        .await
        .map_err(db)?
    else {
        return Ok(None);
    };
    let tenant = tenant_from_named(
        &row,
        [
            "tenant_key",
            "tenant_name",
            "tenant_slug",
            "tenant_settings",
            "tenant_created_at",
        ],
    )?;
    Ok(Some((tenant, user_from(&row)?)))
}

fn user_from(row: &SqliteRow) -> Result<User> {
    let c = Columns(row);
    Ok(User {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        email: c.text("email")?,
        name: c.text("name")?,
        role: c.parsed("role")?,
        skills: c.json("skills")?,
        capacity: c.u32("capacity")?,
        active: c.bool("active")?,
        created_at: c.ts("created_at")?,
    })
}

fn session_from(row: &SqliteRow) -> Result<AuthSession> {
    let c = Columns(row);
    Ok(AuthSession {
        token_hash: c.text("token_hash")?,
        tenant_id: c.id("tenant_id")?,
        user_id: c.id("user_id")?,
        created_at: c.ts("created_at")?,
        expires_at: c.ts("expires_at")?,
    })
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let mut tx = self.write_tx().await?;
        insert_tenant(&self.sql, &mut tx, tenant).await?;
        commit(tx).await
    }

    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM helpdesk_tenants WHERE id = ?"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(tenant_from)
        .transpose()
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM helpdesk_tenants WHERE slug = ?"
        )))
        .bind(slug)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(tenant_from)
        .transpose()
    }

    async fn update_tenant(&self, tenant: &Tenant) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        update_tenant(&self.sql, &mut conn, tenant).await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM helpdesk_tenants ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(tenant_from)
        .collect()
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        self.insert_user(user, None).await
    }

    async fn create_user_with_password(&self, user: &User, hash: &PasswordHash) -> Result<()> {
        self.insert_user(user, Some(hash)).await
    }

    async fn set_password_hash(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &PasswordHash,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        set_password(&self.sql, &mut conn, tenant, user, hash).await
    }

    async fn login_credentials(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Option<(User, Option<PasswordHash>)>> {
        let Some(row) = sqlx::query(self.sql.text(concat!(
            "SELECT ",
            user_columns!(),
            ", password_hash FROM helpdesk_users WHERE tenant_id = ? AND email = ?"
        )))
        .bind(tenant.to_string())
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        else {
            return Ok(None);
        };
        let hash = Columns(&row).opt_text("password_hash")?;
        Ok(Some((user_from(&row)?, hash.map(PasswordHash::new))))
    }

    async fn get_user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            user_columns!(),
            " FROM helpdesk_users WHERE tenant_id = ? AND id = ?"
        )))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    async fn get_user_by_email(&self, tenant: TenantId, email: &str) -> Result<Option<User>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            user_columns!(),
            " FROM helpdesk_users WHERE tenant_id = ? AND email = ?"
        )))
        .bind(tenant.to_string())
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        let mut tx = self.write_tx().await?;
        update_user(&self.sql, &mut tx, user).await?;
        commit(tx).await
    }

    async fn list_users(&self, tenant: TenantId, role: Option<Role>) -> Result<Vec<User>> {
        // Two statements rather than `(? IS NULL OR role = ?)`, which SQLite cannot answer
        // from the `users_role` index: routing lists the staff roles on every intake.
        let query = match role {
            Some(role) => sqlx::query(self.sql.text(USERS_OF_ROLE))
                .bind(tenant.to_string())
                .bind(role.as_str()),
            None => sqlx::query(self.sql.text(concat!(
                "SELECT ",
                user_columns!(),
                " FROM helpdesk_users WHERE tenant_id = ? ORDER BY created_at, id"
            )))
            .bind(tenant.to_string()),
        };
        query
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(user_from)
            .collect()
    }

    async fn create_session(&self, session: &AuthSession) -> Result<()> {
        sqlx::query(self.sql.text(
            "INSERT INTO helpdesk_auth_sessions (token_hash, tenant_id, user_id, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?)",
        ))
        .bind(&session.token_hash)
        .bind(session.tenant_id.to_string())
        .bind(session.user_id.to_string())
        .bind(ms(session.created_at))
        .bind(ms(session.expires_at))
        .execute(&self.pool)
        .await
        .map_err(insert_err("session"))?;
        Ok(())
    }

    async fn get_session(&self, token_hash: &str) -> Result<Option<AuthSession>> {
        sqlx::query(self.sql.text(
            "SELECT token_hash, tenant_id, user_id, created_at, expires_at \
             FROM helpdesk_auth_sessions WHERE token_hash = ?",
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(session_from)
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query(
            self.sql
                .text("DELETE FROM helpdesk_auth_sessions WHERE token_hash = ?"),
        )
        .bind(token_hash)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query(
            self.sql
                .text("DELETE FROM helpdesk_auth_sessions WHERE expires_at <= ?"),
        )
        .bind(ms(now))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }
}

impl SqliteStore {
    /// Inserts a user with its password hash, if any, in one transaction.
    async fn insert_user(&self, user: &User, password: Option<&PasswordHash>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        insert_user(&self.sql, &mut tx, user, password).await?;
        commit(tx).await
    }
}

/// Inserts a user with its password hash, if any, after the unique check on the e-mail;
/// run it in a write transaction.
/// Inserts a tenant on `conn` (inside the caller's transaction): a taken slug is
/// `Duplicate { kind: TenantSlug }`.
pub(crate) async fn insert_tenant(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: &Tenant,
) -> Result<()> {
    let slug_taken: bool = sqlx::query_scalar(
        sql.text("SELECT EXISTS (SELECT 1 FROM helpdesk_tenants WHERE slug = ?)"),
    )
    .bind(&tenant.slug)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if slug_taken {
        return Err(Error::Duplicate {
            kind: DuplicateKind::TenantSlug,
            value: tenant.slug.clone(),
        });
    }
    sqlx::query(sql.text(
        "INSERT INTO helpdesk_tenants (id, name, slug, settings, created_at) VALUES (?, ?, ?, ?, ?)",
    ))
    .bind(tenant.id.to_string())
    .bind(&tenant.name)
    .bind(&tenant.slug)
    .bind(json(&tenant.settings, "tenant settings")?)
    .bind(ms(tenant.created_at))
    .execute(&mut *conn)
    .await
    .map_err(insert_err(tenant.id))?;
    Ok(())
}

pub(crate) async fn insert_user(
    sql: &Sql,
    conn: &mut SqliteConnection,
    user: &User,
    password: Option<&PasswordHash>,
) -> Result<()> {
    let email_taken: bool = sqlx::query_scalar(
        sql.text("SELECT EXISTS (SELECT 1 FROM helpdesk_users WHERE tenant_id = ? AND email = ?)"),
    )
    .bind(user.tenant_id.to_string())
    .bind(&user.email)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if email_taken {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Email,
            value: user.email.clone(),
        });
    }
    sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk_users (",
        user_columns!(),
        ", password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(user.id.to_string())
    .bind(user.tenant_id.to_string())
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(json(&user.skills, "user skills")?)
    .bind(i64::from(user.capacity))
    .bind(user.active)
    .bind(ms(user.created_at))
    .bind(password.map(PasswordHash::as_str))
    .execute(&mut *conn)
    .await
    .map_err(insert_err(user.id))?;
    Ok(())
}

/// Replaces a user (not its password hash): `NotFound` when it is not the tenant's, then
/// `Duplicate` when its e-mail is another user's; run it in a write transaction.
pub(crate) async fn update_user(sql: &Sql, conn: &mut SqliteConnection, user: &User) -> Result<()> {
    let (tenant, id) = (user.tenant_id.to_string(), user.id.to_string());
    let exists: bool = sqlx::query_scalar(
        sql.text("SELECT EXISTS (SELECT 1 FROM helpdesk_users WHERE tenant_id = ? AND id = ?)"),
    )
    .bind(&tenant)
    .bind(&id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if !exists {
        return Err(Error::not_found("user", user.id));
    }
    let email_taken: bool = sqlx::query_scalar(sql.text(
        "SELECT EXISTS (SELECT 1 FROM helpdesk_users WHERE tenant_id = ? AND email = ? AND id <> ?)",
    ))
    .bind(&tenant)
    .bind(&user.email)
    .bind(&id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if email_taken {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Email,
            value: user.email.clone(),
        });
    }
    sqlx::query(sql.text(
        "UPDATE helpdesk_users SET email = ?, name = ?, role = ?, skills = ?, capacity = ?, \
         active = ?, created_at = ? WHERE tenant_id = ? AND id = ?",
    ))
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(json(&user.skills, "user skills")?)
    .bind(i64::from(user.capacity))
    .bind(user.active)
    .bind(ms(user.created_at))
    .bind(&tenant)
    .bind(&id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Replaces a user's password hash (`NotFound` when the user is not the tenant's).
pub(crate) async fn set_password(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: TenantId,
    user: UserId,
    hash: &PasswordHash,
) -> Result<()> {
    let done = sqlx::query(
        sql.text("UPDATE helpdesk_users SET password_hash = ? WHERE tenant_id = ? AND id = ?"),
    )
    .bind(hash.as_str())
    .bind(tenant.to_string())
    .bind(user.to_string())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("user", user));
    }
    Ok(())
}

/// Replaces a tenant's name and settings (`NotFound` when missing).
pub(crate) async fn update_tenant(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: &Tenant,
) -> Result<()> {
    let done =
        sqlx::query(sql.text("UPDATE helpdesk_tenants SET name = ?, settings = ? WHERE id = ?"))
            .bind(&tenant.name)
            .bind(json(&tenant.settings, "tenant settings")?)
            .bind(tenant.id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("tenant", tenant.id));
    }
    Ok(())
}
