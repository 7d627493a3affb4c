//! Ticket documents.

use bson::{Bson, Document, doc};
use helpdesk_core::Result;
use helpdesk_core::domain::{Csat, SlaState, Ticket, field_tokens};

use crate::codec::{Reader, date, int, opt_date, opt_string, to_bson};
use crate::fields::{CUSTOM_FIELDS, FIELD_TOKENS, fields_doc, fields_from};
use crate::schema::TICKETS;
use crate::search::words::{DETAILS_WORDS, SUBJECT_WORDS, details_words, subject_words};

/// Every stored field of a ticket except `_id` (used for inserts and `$set` updates),
/// with what is derived from it for filters and search: the custom field tokens and the
/// words of the subject and of the details. Every ticket write sets them all, so they are
/// never behind the ticket they come from.
pub(crate) fn ticket_body(t: &Ticket) -> Result<Document> {
    let sla = &t.sla;
    Ok(doc! {
        "tenant_id": t.tenant_id.to_string(),
        "number": int(t.number, "number")?,
        "requester": t.requester.to_string(),
        "assignee": opt_string(t.assignee),
        "subject": &t.subject,
        "description": &t.description,
        "status": t.status.as_str(),
        "priority": t.priority.as_str(),
        "priority_rank": i32::from(t.priority.rank()),
        "category": t.category.as_deref().map_or(Bson::Null, |c| Bson::String(c.to_string())),
        "team": t.team.as_deref().map_or(Bson::Null, |k| Bson::String(k.to_string())),
        "erased_at": opt_date(t.erased_at),
        "tags": &t.tags,
        "required_skills": &t.required_skills,
        "sentiment": opt_string(t.sentiment.map(|s| s.as_str())),
        "language": t.language.as_deref().map_or(Bson::Null, |l| Bson::String(l.to_string())),
        "channel": t.channel.as_str(),
        "created_at": date(t.created_at),
        "updated_at": date(t.updated_at),
        "first_response_at": opt_date(t.first_response_at),
        "resolved_at": opt_date(t.resolved_at),
        "closed_at": opt_date(t.closed_at),
        "sla": {
            "first_response_due": opt_date(sla.first_response_due),
            "resolution_due": opt_date(sla.resolution_due),
            "first_response_breached": sla.first_response_breached,
            "resolution_breached": sla.resolution_breached,
            "paused_since": opt_date(sla.paused_since),
        },
        "triage": match &t.triage {
            Some(triage) => to_bson(triage, "triage")?,
            None => Bson::Null,
        },
        "merged_into": opt_string(t.merged_into),
        "follow_up_of": opt_string(t.follow_up_of),
        "csat": match &t.csat {
            Some(c) => Bson::Document(doc! {
                "score": i32::from(c.score),
                "comment": c.comment.as_deref().map_or(Bson::Null, |s| Bson::String(s.to_string())),
                "at": date(c.at),
            }),
            None => Bson::Null,
        },
        CUSTOM_FIELDS: fields_doc(&t.custom_fields),
        FIELD_TOKENS: field_tokens(&t.custom_fields),
        SUBJECT_WORDS: subject_words(t),
        DETAILS_WORDS: details_words(t),
        "version": int(t.version, "version")?,
    })
}

/// Reads a ticket document.
pub(crate) fn ticket_from(d: &Document) -> Result<Ticket> {
    let r = Reader::new(d, TICKETS);
    let sla = r.doc("sla")?;
    let csat = match r.opt_doc("csat")? {
        Some(c) => Some(Csat {
            score: u8::try_from(c.u64("score")?).map_err(|_| {
                crate::error::malformed(TICKETS, "csat.score", crate::codec::FieldError::OutOfRange)
            })?,
            comment: c.opt_string("comment")?,
            at: c.time("at")?,
        }),
        None => None,
    };
    Ok(Ticket {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        number: r.u64("number")?,
        requester: r.parse("requester")?,
        assignee: r.opt_parse("assignee")?,
        subject: r.str("subject")?.to_string(),
        description: r.str("description")?.to_string(),
        status: r.parse("status")?,
        priority: r.parse("priority")?,
        category: r.opt_string("category")?,
        tags: r.strings("tags")?,
        required_skills: r.strings("required_skills")?,
        sentiment: r.opt_parse("sentiment")?,
        language: r.opt_string("language")?,
        channel: r.parse("channel")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        first_response_at: r.opt_time("first_response_at")?,
        resolved_at: r.opt_time("resolved_at")?,
        closed_at: r.opt_time("closed_at")?,
        sla: SlaState {
            first_response_due: sla.opt_time("first_response_due")?,
            resolution_due: sla.opt_time("resolution_due")?,
            first_response_breached: sla.bool("first_response_breached")?,
            resolution_breached: sla.bool("resolution_breached")?,
            paused_since: sla.opt_time("paused_since")?,
        },
        triage: r.opt_serde("triage")?,
        merged_into: r.opt_parse("merged_into")?,
        follow_up_of: r.opt_parse("follow_up_of")?,
        csat,
        custom_fields: fields_from(d, TICKETS)?,
        // Absent on documents written before teams: no team.
        team: r.opt_string("team")?,
        // Absent on documents written before erasure existed: not erased.
        erased_at: r.opt_time("erased_at")?,
        version: r.u64("version")?,
    })
}
