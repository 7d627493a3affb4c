//! Files on tickets in the pages: the downloads, and how a thread shows each message's
//! files (raster images as thumbnails, everything else as a link with its size).
//!
//! `/attachments/{id}` always downloads; `/attachments/{id}/view` shows PNG, JPEG, GIF and
//! WebP images inline (the thumbnails' source) and downloads anything else, SVG and HTML
//! included. Both send the API's download headers (`helpdesk_api::attachment_response`:
//! `nosniff`, `Content-Security-Policy: default-src 'none'; sandbox`,
//! `Cache-Control: private, no-store`) and both go through `Helpdesk::attachment`, so a
//! customer gets only the files of their own tickets that are not on internal notes, and
//! anything else is the same 404 as an unknown id.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use helpdesk_api::{Disposition, attachment_response};
use helpdesk_core::domain::Attachment;
use helpdesk_core::{AttachmentId, Error as CoreError};

use super::app::AppState;
use super::error::WebResult;
use super::session::{AnyUser, Ctx};
use super::upload::human_size;
use super::views::MessageView;

/// The download routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/attachments/{id}", get(download))
        .route("/attachments/{id}/view", get(view))
}

/// An id from the path; one that does not parse names nothing, like an unknown one.
fn attachment_id(raw: &str) -> WebResult<AttachmentId> {
    raw.parse()
        .map_err(|_| CoreError::not_found("attachment", raw).into())
}

async fn download(
    State(state): State<AppState>,
    AnyUser(ctx): AnyUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    serve(&state, &ctx, &id, Disposition::Attachment).await
}

async fn view(
    State(state): State<AppState>,
    AnyUser(ctx): AnyUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    serve(&state, &ctx, &id, Disposition::InlineImage).await
}

/// The attachment `id` as the actor may fetch it, served with `disposition`.
async fn serve(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    disposition: Disposition,
) -> WebResult<Response> {
    let download = state
        .helpdesk()
        .attachment(&ctx.actor, attachment_id(id)?)
        .await?;
    Ok(attachment_response(download, disposition))
}

/// A file as a thread shows it.
#[derive(Debug, Clone)]
pub(crate) struct AttachmentView {
    pub(crate) id: String,
    pub(crate) name: String,
    /// `12 KB`.
    pub(crate) size: String,
    /// Shown as a thumbnail (a raster image the browser may render).
    pub(crate) image: bool,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.file_name.clone(),
            size: human_size(a.size),
            image: a.is_safe_image(),
        }
    }
}

/// Puts each file on its message's view and returns the files on the ticket itself
/// (given when it was opened). A file whose message is not shown (a proposed draft's) is
/// left out.
pub(crate) fn attach(messages: &mut [MessageView], files: &[Attachment]) -> Vec<AttachmentView> {
    let mut by_message: HashMap<String, Vec<AttachmentView>> = HashMap::new();
    let mut on_ticket = Vec::new();
    for file in files {
        match file.message_id {
            None => on_ticket.push(AttachmentView::from(file)),
            Some(m) => by_message
                .entry(m.to_string())
                .or_default()
                .push(AttachmentView::from(file)),
        }
    }
    for message in messages {
        if let Some(files) = by_message.remove(&message.id) {
            message.files = files;
        }
    }
    on_ticket
}
