//! The entries of the tenant's settings that admins manage one by one under a key (custom
//! fields, automation rules): the question before deleting one, and deleting it as a
//! change of the settings (checked and audited by core).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use helpdesk_core::domain::TenantSettings;

use super::app::AppState;
use super::error::WebResult;
use super::form::FormError;
use super::session::{AdminUser, Ctx};
use super::views::{Page, html};

/// The question before deleting an entry.
#[derive(Template)]
#[template(path = "admin_keyed_delete.html")]
struct DeletePage {
    page: Page,
    /// "the field", "the rule".
    what: &'static str,
    name: String,
    key: String,
    /// Where the form posts.
    action: String,
    /// The list page.
    back: &'static str,
    /// What happens to the past.
    note: &'static str,
}

/// One kind of keyed entry.
pub(crate) struct Keyed<T: 'static> {
    /// The entity in errors (`custom_field`).
    pub(crate) entity: &'static str,
    /// "the field".
    pub(crate) what: &'static str,
    /// The list page (`/admin/fields`).
    pub(crate) page: &'static str,
    /// What deleting leaves behind, for the question.
    pub(crate) note: &'static str,
    /// The list in the settings.
    pub(crate) list: fn(&mut TenantSettings) -> &mut Vec<T>,
    /// An entry's key and name.
    pub(crate) key_name: fn(&T) -> (&str, &str),
}

impl<T: 'static> Keyed<T> {
    /// "field" of "the field".
    fn noun(&self) -> &'static str {
        self.what.trim_start_matches("the ")
    }

    /// Adds `entry` to `list` of the settings, refused at the form's `key` when an entry
    /// with its key is there already.
    pub(crate) fn insert(&self, list: &mut Vec<T>, entry: T) -> Result<(), FormError> {
        let key = (self.key_name)(&entry).0;
        if list.iter().any(|e| (self.key_name)(e).0 == key) {
            return Err(FormError::new(
                "key",
                format!("A {} with this key exists already.", self.noun()),
            ));
        }
        list.push(entry);
        Ok(())
    }

    /// Puts `entry` in the place of the entry `key` of `list`, refused when that entry was
    /// deleted meanwhile.
    pub(crate) fn replace(&self, list: &mut [T], key: &str, entry: T) -> Result<(), FormError> {
        let slot = list
            .iter_mut()
            .find(|e| (self.key_name)(e).0 == key)
            .ok_or_else(|| {
                FormError::general(format!("This {} was deleted meanwhile.", self.noun()))
            })?;
        *slot = entry;
        Ok(())
    }

    /// The routes of deleting an entry (admins): `GET <page>/{key}/delete` asks first,
    /// `POST` deletes it and goes back to `done` (the list with its notice).
    pub(crate) fn delete_routes(&'static self, done: &'static str) -> Router<AppState> {
        let confirm = move |State(state): State<AppState>,
                            AdminUser(ctx): AdminUser,
                            Path(key): Path<String>| async move {
            self.confirm(&state, &ctx, &key).await
        };
        let delete = move |State(state): State<AppState>,
                           AdminUser(ctx): AdminUser,
                           Path(key): Path<String>| async move {
            self.delete(&state, &ctx, &key).await?;
            WebResult::Ok(Redirect::to(done).into_response())
        };
        Router::new().route(
            &format!("{}/{{key}}/delete", self.page),
            get(confirm).post(delete),
        )
    }

    /// The question before deleting the entry `key` (not found: an error page).
    pub(crate) async fn confirm(
        &self,
        state: &AppState,
        ctx: &Ctx,
        key: &str,
    ) -> WebResult<Response> {
        let mut settings = state.helpdesk().get_tenant(&ctx.actor).await?.settings;
        let name = (self.list)(&mut settings)
            .iter()
            .map(self.key_name)
            .find(|(k, _)| *k == key)
            .map(|(_, n)| n.to_string())
            .ok_or_else(|| helpdesk_core::Error::not_found(self.entity, key))?;
        html(&DeletePage {
            page: ctx.page(state, &format!("Delete {}", self.what)),
            what: self.what,
            name,
            key: key.to_string(),
            action: format!("{}/{key}/delete", self.page),
            back: self.page,
            note: self.note,
        })
    }

    /// Deletes the entry `key` (not found: an error page).
    pub(crate) async fn delete(&self, state: &AppState, ctx: &Ctx, key: &str) -> WebResult<()> {
        let helpdesk = state.helpdesk();
        let mut settings = helpdesk.get_tenant(&ctx.actor).await?.settings;
        let list = (self.list)(&mut settings);
        let before = list.len();
        list.retain(|e| (self.key_name)(e).0 != key);
        if list.len() == before {
            return Err(helpdesk_core::Error::not_found(self.entity, key).into());
        }
        helpdesk.update_settings(&ctx.actor, settings).await?;
        Ok(())
    }
}
