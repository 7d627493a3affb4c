//! Attachments over the API: multipart uploads on tickets, replies, notes and chat
//! messages; the list and download with the visibility rules; the download's safety
//! headers; the OpenAPI document of both. (Limits and malformed bodies:
//! `attachment_limits.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use common::api;
use common::uploads::*;

#[tokio::test]
async fn files_come_with_tickets_replies_and_notes_and_customers_never_see_a_notes() {
    let api = api().await;
    let ticket = open_with(
        &api,
        &[("screen.png", PNG), ("../../etc/passwd", b"root:x:0:0")],
    )
    .await;
    let reply = post_multipart(
        &api,
        &format!("/tickets/{ticket}/replies"),
        &api.agent,
        upload(
            &json!({"body": "Here is the fixed export.", "status_after": "pending"}),
            &[("export.csv", b"id,amount\n1,4.99\n")],
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["ticket"]["status"], "pending");
    let reply_id = reply.json["message"]["id"].as_str().unwrap().to_string();
    let note = post_multipart(
        &api,
        &format!("/tickets/{ticket}/notes"),
        &api.agent,
        upload(
            &json!({"body": "Stack trace attached."}),
            &[("trace.txt", b"panic at 42")],
        ),
    )
    .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.json);
    assert_eq!(note.json["kind"], "note");

    // Staff see all four, oldest first, with the sniffed type and the sanitised name.
    let all = list(&api, &ticket, &api.agent).await;
    assert_eq!(
        names(&all),
        ["screen.png", "passwd", "export.csv", "trace.txt"]
    );
    assert_eq!(all[0]["content_type"], "image/png");
    assert_eq!(all[0]["image"], true);
    assert_eq!(all[0]["size"], PNG.len());
    assert_eq!(all[0]["message_id"], Value::Null);
    assert_eq!(all[1]["content_type"], "text/plain");
    assert_eq!(all[1]["image"], false);
    assert_eq!(all[2]["message_id"], reply_id.as_str());
    assert_eq!(all[3]["message_id"], note.json["id"]);
    assert_eq!(all[0]["sha256"].as_str().unwrap().len(), 64);

    // The customer sees the ticket's and the reply's files, not the note's.
    let theirs = list(&api, &ticket, &api.customer).await;
    assert_eq!(names(&theirs), ["screen.png", "passwd", "export.csv"]);
    let csv = download(&api, id_of(&theirs, "export.csv"), &api.customer).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.bytes, b"id,amount\n1,4.99\n");

    // The note's file is a 404 for the customer, exactly like an id that does not exist.
    let note_file = id_of(&all, "trace.txt");
    let hidden = api
        .call(
            Method::GET,
            &format!("/attachments/{note_file}"),
            Some(&api.customer),
            None,
        )
        .await;
    let missing = api
        .call(
            Method::GET,
            &format!("/attachments/{}", helpdesk_core::AttachmentId::new()),
            Some(&api.customer),
            None,
        )
        .await;
    hidden.assert_problem(404, "not_found");
    assert_eq!(hidden.json, missing.json);
    assert_eq!(
        download(&api, note_file, &api.agent).await.bytes,
        b"panic at 42"
    );

    // Another customer of the same tenant sees neither the list nor the files.
    let other = api
        .call(
            Method::GET,
            &format!("/tickets/{ticket}/attachments"),
            Some(&api.customer2),
            None,
        )
        .await;
    other.assert_problem(404, "not_found");
    let png = id_of(&all, "screen.png");
    let theirs = api
        .call(
            Method::GET,
            &format!("/attachments/{png}"),
            Some(&api.customer2),
            None,
        )
        .await;
    theirs.assert_problem(404, "not_found");
    assert_eq!(theirs.json, missing.json);
}

#[tokio::test]
async fn another_tenants_attachments_are_404_exactly_like_missing_ones() {
    let api = api().await;
    let ticket = open_with(&api, &[("screen.png", PNG)]).await;
    let files = list(&api, &ticket, &api.admin).await;
    let id = id_of(&files, "screen.png");
    for token in [&api.other_admin, &api.other_customer] {
        let file = api
            .call(
                Method::GET,
                &format!("/attachments/{id}"),
                Some(token),
                None,
            )
            .await;
        file.assert_problem(404, "not_found");
        let missing = api
            .call(
                Method::GET,
                &format!("/attachments/{}", helpdesk_core::AttachmentId::new()),
                Some(token),
                None,
            )
            .await;
        assert_eq!(file.json, missing.json);
        api.call(
            Method::GET,
            &format!("/tickets/{ticket}/attachments"),
            Some(token),
            None,
        )
        .await
        .assert_problem(404, "not_found");
    }
    // Not an id at all: 404 too; no credentials: 401.
    api.call(
        Method::GET,
        "/attachments/not-an-id",
        Some(&api.admin),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    api.call(Method::GET, &format!("/attachments/{id}"), None, None)
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn downloads_are_attachments_and_only_raster_images_keep_their_type() {
    let api = api().await;
    let ticket = open_with(
        &api,
        &[
            ("screen.png", PNG),
            ("page.html", HTML),
            ("logo.svg", SVG),
            ("Übersicht – März.txt", b"plain words"),
        ],
    )
    .await;
    let files = list(&api, &ticket, &api.agent).await;
    let png = download(&api, id_of(&files, "screen.png"), &api.agent).await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.bytes, PNG);
    assert_eq!(png.header("content-type"), "image/png");
    for name in ["page.html", "logo.svg"] {
        let file = download(&api, id_of(&files, name), &api.customer).await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(
            file.header("content-type"),
            "application/octet-stream",
            "{name}"
        );
        assert_eq!(
            file.header("content-disposition"),
            format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}")
        );
    }
    let text = download(&api, id_of(&files, "Übersicht – März.txt"), &api.agent).await;
    assert_eq!(
        text.header("content-disposition"),
        "attachment; filename=\"_bersicht _ M_rz.txt\"; \
         filename*=UTF-8''%C3%9Cbersicht%20%E2%80%93%20M%C3%A4rz.txt"
    );
    for file in [&png, &text] {
        assert!(
            file.header("content-disposition")
                .starts_with("attachment;")
        );
        assert_eq!(file.header("x-content-type-options"), "nosniff");
        assert_eq!(
            file.header("content-security-policy"),
            "default-src 'none'; sandbox"
        );
        assert_eq!(file.header("cache-control"), "private, no-store");
    }
}

#[tokio::test]
async fn chat_messages_carry_files_from_the_customer_and_the_agent() {
    let api = api().await;
    let session = api
        .call(Method::POST, "/chats", Some(&api.customer), None)
        .await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.json);
    let id = session.json["id"].as_str().unwrap().to_string();
    let turn = post_multipart(
        &api,
        &format!("/chats/{id}/messages"),
        &api.customer,
        upload(
            &json!({"text": "My export shows this error"}),
            &[("error.png", PNG)],
        ),
    )
    .await;
    assert_eq!(turn.status, StatusCode::OK, "{}", turn.json);
    let ticket = turn.json["session"]["ticket_id"]
        .as_str()
        .unwrap()
        .to_string();
    let handoff = api
        .call(
            Method::POST,
            &format!("/chats/{id}/handoff"),
            Some(&api.customer),
            None,
        )
        .await;
    assert!(handoff.status.is_success(), "{}", handoff.json);
    let answer = post_multipart(
        &api,
        &format!("/chats/{id}/agent-messages"),
        &api.agent,
        upload(&json!({"text": "Try this file"}), &[("fix.txt", b"steps")]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
    let files = list(&api, &ticket, &api.customer).await;
    assert_eq!(names(&files), ["error.png", "fix.txt"]);
    assert_eq!(files[0]["message_id"], turn.json["customer_message"]["id"]);
    assert_eq!(files[1]["message_id"], answer.json["id"]);
}

/// The demo tenant's limits made small: 1,000 bytes a file, two files a message.
#[tokio::test]
async fn the_document_describes_the_multipart_bodies_and_the_download() {
    let doc = serde_json::to_value(helpdesk_api::openapi()).unwrap();
    for (path, method) in [
        ("/tickets", "post"),
        ("/tickets/{id}/replies", "post"),
        ("/tickets/{id}/notes", "post"),
        ("/chats/{id}/messages", "post"),
        ("/chats/{id}/agent-messages", "post"),
    ] {
        let content = &doc["paths"][path][method]["requestBody"]["content"];
        assert!(content["application/json"].is_object(), "{path}");
        let form = &content["multipart/form-data"]["schema"];
        assert!(form.is_object(), "{path}: {content}");
        assert!(
            doc["paths"][path][method]["responses"]["413"].is_object(),
            "{path}"
        );
    }
    let upload = &doc["components"]["schemas"]["ReplyUpload"]["properties"];
    assert_eq!(upload["json"]["$ref"], "#/components/schemas/ReplyRequest");
    assert_eq!(
        upload["attachments"]["items"]["$ref"],
        "#/components/schemas/FilePart"
    );
    let required = &doc["components"]["schemas"]["ReplyUpload"]["required"];
    assert_eq!(required, &json!(["json"]), "files are optional");
    let file = &doc["components"]["schemas"]["FilePart"];
    assert_eq!(file["format"], "binary");
    assert_eq!(file["contentMediaType"], "application/octet-stream");
    let download = &doc["paths"]["/attachments/{id}"]["get"]["responses"]["200"];
    for media in ["application/octet-stream", "image/png", "image/webp"] {
        assert!(download["content"][media].is_object(), "{download}");
    }
    assert!(download["headers"]["Content-Disposition"].is_object());
    assert!(doc["paths"]["/tickets/{id}/attachments"]["get"]["responses"]["200"].is_object());
}
