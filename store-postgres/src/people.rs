//! Tenants, users and login sessions.

use async_trait::async_trait;
use helpdesk_core::domain::{AuthSession, PasswordHash, Role, Tenant, User};
use helpdesk_core::store::{RoutingStaff, TenantStore, UserStore};
use helpdesk_core::{DuplicateKind, Error, Result, TenantId, UserId};
use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::codec::{Columns, json, ms};
use crate::error::{constraint, db, insert_err, is_unique_violation};
use crate::sql::Sql;
use crate::{PostgresStore, commit};

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

/// A tenant's users of one role, oldest first (index `users_role`).
pub(crate) const USERS_OF_ROLE: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM helpdesk.users WHERE tenant_id = $1 AND role = $2 ORDER BY created_at, id"
);

/// Active agents then active admins of a tenant, oldest first, with their routing stamps
/// and open assigned tickets. The count's terms repeat the partial index `tickets_open_by_assignee`.
pub(crate) const ROUTING_STAFF: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", last_routed, (SELECT count(*) FROM helpdesk.tickets t WHERE t.tenant_id = u.tenant_id \
     AND t.assignee = u.id AND t.assignee IS NOT NULL \
     AND t.status NOT IN ('resolved', 'closed')) AS open_tickets \
     FROM helpdesk.users u WHERE tenant_id = $1 AND role IN ($2, $3) AND active \
     ORDER BY role = $2 DESC, created_at, id"
);

/// Runs [`ROUTING_STAFF`].
pub(crate) async fn routing_staff(
    sql: &Sql,
    pool: &PgPool,
    tenant: TenantId,
) -> Result<Vec<RoutingStaff>> {
    sqlx::query(sql.text(ROUTING_STAFF))
        .bind(tenant.as_uuid())
        .bind(Role::Agent.as_str())
        .bind(Role::Admin.as_str())
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

fn tenant_from(row: &PgRow) -> Result<Tenant> {
    tenant_from_named(row, ["id", "name", "slug", "settings", "created_at"])
}

/// A tenant from columns with these names (id, name, slug, settings, created_at).
fn tenant_from_named(row: &PgRow, names: [&'static str; 5]) -> Result<Tenant> {
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
     FROM helpdesk.users u JOIN helpdesk.tenants t ON t.id = u.tenant_id \
     WHERE u.tenant_id = $1 AND u.id = $2";

/// Runs [`USER_WITH_TENANT`].
pub(crate) async fn user_with_tenant(
    sql: &Sql,
    pool: &PgPool,
    tenant: TenantId,
    user: UserId,
) -> Result<Option<(Tenant, User)>> {
    let Some(row) = sqlx::query(sql.text(USER_WITH_TENANT))
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
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

fn user_from(row: &PgRow) -> Result<User> {
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

fn session_from(row: &PgRow) -> Result<AuthSession> {
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
impl TenantStore for PostgresStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        insert_tenant(&self.sql, &mut conn, tenant).await
    }

    async fn get_tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM helpdesk.tenants WHERE id = $1"
        )))
        .bind(id.as_uuid())
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
            " FROM helpdesk.tenants WHERE slug = $1"
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
            " FROM helpdesk.tenants ORDER BY created_at, id"
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
impl UserStore for PostgresStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        insert_user(&self.sql, &mut conn, user, None).await
    }

    async fn create_user_with_password(&self, user: &User, hash: &PasswordHash) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        insert_user(&self.sql, &mut conn, user, Some(hash)).await
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
            ", password_hash FROM helpdesk.users WHERE tenant_id = $1 AND email = $2"
        )))
        .bind(tenant.as_uuid())
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
            " FROM helpdesk.users WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
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
            " FROM helpdesk.users WHERE tenant_id = $1 AND email = $2"
        )))
        .bind(tenant.as_uuid())
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        let mut tx = self.tx().await?;
        update_user(&self.sql, &mut tx, user).await?;
        commit(tx).await
    }

    async fn list_users(&self, tenant: TenantId, role: Option<Role>) -> Result<Vec<User>> {
        let query = match role {
            Some(role) => sqlx::query(self.sql.text(USERS_OF_ROLE))
                .bind(tenant.as_uuid())
                .bind(role.as_str()),
            None => sqlx::query(self.sql.text(concat!(
                "SELECT ",
                user_columns!(),
                " FROM helpdesk.users WHERE tenant_id = $1 ORDER BY created_at, id"
            )))
            .bind(tenant.as_uuid()),
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
            "INSERT INTO helpdesk.auth_sessions (token_hash, tenant_id, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        ))
        .bind(&session.token_hash)
        .bind(session.tenant_id.as_uuid())
        .bind(session.user_id.as_uuid())
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
             FROM helpdesk.auth_sessions WHERE token_hash = $1",
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
                .text("DELETE FROM helpdesk.auth_sessions WHERE token_hash = $1"),
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
                .text("DELETE FROM helpdesk.auth_sessions WHERE expires_at <= $1"),
        )
        .bind(ms(now))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }
}

/// Inserts a tenant on `conn` (alone or inside the caller's transaction): a taken slug is
/// `Duplicate { kind: TenantSlug }`, a taken id `Duplicate { kind: Id }`. The unique
/// constraints decide (no lookup first), so two racing registrations cannot both win.
pub(crate) async fn insert_tenant(
    sql: &Sql,
    conn: &mut PgConnection,
    tenant: &Tenant,
) -> Result<()> {
    sqlx::query(sql.text(
        "INSERT INTO helpdesk.tenants (id, name, slug, settings, created_at) VALUES ($1, $2, $3, $4, $5)",
    ))
    .bind(tenant.id.as_uuid())
    .bind(&tenant.name)
    .bind(&tenant.slug)
    .bind(json(&tenant.settings, "tenant settings")?)
    .bind(ms(tenant.created_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) && constraint(&e) == Some("tenants_slug_key") {
            Error::Duplicate {
                kind: DuplicateKind::TenantSlug,
                value: tenant.slug.clone(),
            }
        } else {
            insert_err(tenant.id)(e)
        }
    })?;
    Ok(())
}

/// Inserts a user with its password hash, if any: a taken e-mail (per tenant) is
/// `Duplicate { kind: Email }`, decided by the unique constraint.
pub(crate) async fn insert_user(
    sql: &Sql,
    conn: &mut PgConnection,
    user: &User,
    password: Option<&PasswordHash>,
) -> Result<()> {
    sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk.users (",
        user_columns!(),
        ", password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(user.id.as_uuid())
    .bind(user.tenant_id.as_uuid())
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
    .map_err(|e| email_taken(e, &user.email).unwrap_or_else(insert_err(user.id)))?;
    Ok(())
}

/// A unique violation of the per-tenant e-mail as `Duplicate { kind: Email }`.
fn email_taken(e: sqlx::Error, email: &str) -> std::result::Result<Error, sqlx::Error> {
    if is_unique_violation(&e) && constraint(&e) == Some("users_tenant_id_email_key") {
        Ok(Error::Duplicate {
            kind: DuplicateKind::Email,
            value: email.to_owned(),
        })
    } else {
        Err(e)
    }
}

/// Replaces a user (not its password hash): `NotFound` when it is not the tenant's, then
/// `Duplicate` when its e-mail is another user's.
pub(crate) async fn update_user(sql: &Sql, conn: &mut PgConnection, user: &User) -> Result<()> {
    let done = sqlx::query(sql.text(
        "UPDATE helpdesk.users SET email = $1, name = $2, role = $3, skills = $4, capacity = $5, \
         active = $6, created_at = $7 WHERE tenant_id = $8 AND id = $9",
    ))
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(json(&user.skills, "user skills")?)
    .bind(i64::from(user.capacity))
    .bind(user.active)
    .bind(ms(user.created_at))
    .bind(user.tenant_id.as_uuid())
    .bind(user.id.as_uuid())
    .execute(&mut *conn)
    .await
    .map_err(|e| email_taken(e, &user.email).unwrap_or_else(db))?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("user", user.id));
    }
    Ok(())
}

/// Replaces a user's password hash (`NotFound` when the user is not the tenant's).
pub(crate) async fn set_password(
    sql: &Sql,
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    hash: &PasswordHash,
) -> Result<()> {
    let done = sqlx::query(
        sql.text("UPDATE helpdesk.users SET password_hash = $1 WHERE tenant_id = $2 AND id = $3"),
    )
    .bind(hash.as_str())
    .bind(tenant.as_uuid())
    .bind(user.as_uuid())
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
    conn: &mut PgConnection,
    tenant: &Tenant,
) -> Result<()> {
    let done =
        sqlx::query(sql.text("UPDATE helpdesk.tenants SET name = $1, settings = $2 WHERE id = $3"))
            .bind(&tenant.name)
            .bind(json(&tenant.settings, "tenant settings")?)
            .bind(tenant.id.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("tenant", tenant.id));
    }
    Ok(())
}
