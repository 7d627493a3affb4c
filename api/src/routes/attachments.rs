//! Attachments: a ticket's files as its caller may see them, downloads, and the documented
//! shape of the multipart bodies that upload files (see `crate::upload`).

use axum::extract::State;
use axum::response::Response;
use helpdesk_core::{AttachmentId, TicketId};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::chat::ChatMessageRequest;
use super::ticket_actions::{NoteRequest, ReplyRequest};
use super::tickets::OpenTicketRequest;
use crate::ApiState;
use crate::auth::Caller;
use crate::download::{Disposition, attachment_response};
use crate::extract::Path;
use crate::problem::ApiResult;
use crate::resources::AttachmentResource;

/// A ticket's files.
///
/// The files the caller may see, oldest first: all of them for staff; for the customer
/// whose ticket it is, those on the ticket itself and on replies and chat turns (never an
/// internal note's).
#[utoipa::path(get, path = "/tickets/{id}/attachments", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id")),
    responses(
        (status = 200, body = Vec<AttachmentResource>),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn list_attachments(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
) -> ApiResult<axum::Json<Vec<AttachmentResource>>> {
    let files = state.helpdesk().list_attachments(&actor, id).await?;
    Ok(axum::Json(files.into_iter().map(Into::into).collect()))
}

/// Download a file.
///
/// It is always sent as a download (`Content-Disposition: attachment`,
/// the name in `filename*`), with `X-Content-Type-Options: nosniff`,
/// `Content-Security-Policy: default-src 'none'; sandbox` and
/// `Cache-Control: private, no-store`; its type is the sniffed one for PNG, JPEG, GIF and
/// WebP images and `application/octet-stream` for everything else (HTML and SVG
/// included). A file the caller may not see (another tenant's, or an internal note's for
/// a customer) is 404 exactly like an unknown id.
#[utoipa::path(get, path = "/attachments/{id}", tag = "tickets",
    params(("id" = AttachmentId, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file's bytes",
            content(
                (FilePart = "application/octet-stream"),
                (FilePart = "image/png"),
                (FilePart = "image/jpeg"),
                (FilePart = "image/gif"),
                (FilePart = "image/webp"),
            ),
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"…\"; filename*=UTF-8''…`"),
                ("X-Content-Type-Options" = String, description = "`nosniff`"),
                ("Content-Security-Policy" = String, description = "`default-src 'none'; sandbox`"),
            )),
        (status = 404, description = "Not found (another tenant's, or not visible to the caller)"),
    ))]
pub(crate) async fn download(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<AttachmentId>,
) -> ApiResult<Response> {
    let download = state.helpdesk().attachment(&actor, id).await?;
    Ok(attachment_response(download, Disposition::Attachment))
}

/// A file in a multipart body, or a downloaded file: bytes.
pub(crate) struct FilePart;

impl PartialSchema for FilePart {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .content_media_type("application/octet-stream")
            .description(Some("The file's bytes; its part's `filename` names it."))
            .into()
    }
}

impl ToSchema for FilePart {}

// The multipart bodies, for the document only: the handlers read them with
// `crate::upload::WithFiles`, which never builds these.

/// A new ticket with files: the `json` part is the JSON body of `POST /tickets`, each
/// `attachments` part a file (within the tenant's limits on size and count).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct OpenTicketUpload {
    json: OpenTicketRequest,
    #[schema(max_items = 100, required = false)]
    attachments: Vec<FilePart>,
}

/// A reply with files: the `json` part is the JSON body, each `attachments` part a file.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ReplyUpload {
    json: ReplyRequest,
    #[schema(max_items = 100, required = false)]
    attachments: Vec<FilePart>,
}

/// A note with files: the `json` part is the JSON body, each `attachments` part a file.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct NoteUpload {
    json: NoteRequest,
    #[schema(max_items = 100, required = false)]
    attachments: Vec<FilePart>,
}

/// A chat message with files: the `json` part is the JSON body, each `attachments` part
/// a file.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ChatMessageUpload {
    json: ChatMessageRequest,
    #[schema(max_items = 100, required = false)]
    attachments: Vec<FilePart>,
}
