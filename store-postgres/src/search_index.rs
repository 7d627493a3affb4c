//! What full-text search indexes (migration 8): the words of each searchable text, computed
//! here with core's [`search_words`] and written by the store in the ticket write that
//! changes the text, and the step that indexes the rows a database already had.
//!
//! A text's words are stored as one `text` column of distinct words joined by single
//! spaces (`tickets.search_subject`, `tickets.search_details`, `messages.search_body`), and
//! a GIN index covers [`words_tsvector!`] of the column: PostgreSQL's `array_to_tsvector`
//! takes the words as lexemes unchanged, so no text-search parser, dictionary or database
//! locale decides what a word is; core does. A query term `t` becomes the prefix lexeme
//! `'t':*`, which matches a word exactly when the word starts with `t`: the contract's
//! word-start rule.

use std::collections::HashSet;

use helpdesk_core::domain::{Message, MessageKind, Ticket};
use helpdesk_core::store::{MAX_TERM_CHARS, details_text, search_words, subject_text};
use helpdesk_core::{Error, Result};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::codec::enum_str;
use crate::migrate::failed;
use crate::sql::Sql;
use crate::tickets::{ticket_columns, ticket_from};

/// The `tsvector` of a words column (`$col`, a column name with or without its table's
/// alias): the expression the GIN indexes of migration 8 cover, so every statement that
/// searches must write it exactly so.
macro_rules! words_tsvector {
    ($col:literal) => {
        concat!("array_to_tsvector(string_to_array(", $col, ", ' '))")
    };
}
pub(crate) use words_tsvector;

/// The migration that adds the words columns: [`reindex`] runs once the migrations that
/// were pending with it are applied.
pub(crate) const INDEXED_SINCE: i64 = 8;

/// Most bytes of words kept for one text. A `tsvector` addresses its lexemes with 20-bit
/// offsets and `array_to_tsvector` does not check them, so a text with more than 1 MiB of
/// distinct words would make a broken value; half of that leaves room to spare.
pub(crate) const MAX_WORDS_BYTES: usize = 512 * 1024;

/// The messages search looks at (AI drafts are never searched, so never indexed).
pub(crate) const INDEXED_KINDS: [MessageKind; 3] =
    [MessageKind::Reply, MessageKind::Chat, MessageKind::Note];

/// The words column of `text`: its distinct [`search_words`] in order of first
/// appearance, each cut to [`MAX_TERM_CHARS`] characters (a term is at most that long, so
/// whether it starts a word is decided by the word's first characters; this also keeps
/// every lexeme far below GIN's key size limit), joined by single spaces, at most
/// [`MAX_WORDS_BYTES`].
pub(crate) fn words_column(text: &str) -> String {
    let mut seen: HashSet<String> = HashSet::new();
    let mut column = String::new();
    for word in search_words(text) {
        let word: String = match word.char_indices().nth(MAX_TERM_CHARS) {
            Some((end, _)) => word[..end].to_owned(),
            None => word,
        };
        if seen.contains(&word) {
            continue;
        }
        if column.len() + word.len() + 1 > MAX_WORDS_BYTES {
            break;
        }
        if !column.is_empty() {
            column.push(' ');
        }
        column.push_str(&word);
        seen.insert(word);
    }
    column
}

/// `tickets.search_subject`: the words of [`subject_text`].
pub(crate) fn subject_words(ticket: &Ticket) -> String {
    words_column(&subject_text(ticket))
}

/// `tickets.search_details`: the words of [`details_text`] (the tags and the custom field
/// values, as core joins them; rewritten by every write that changes either).
pub(crate) fn details_words(ticket: &Ticket) -> String {
    words_column(&details_text(ticket))
}

/// `messages.search_body`: the words of a reply, chat turn or note; `None` for a draft.
pub(crate) fn message_words(message: &Message) -> Option<String> {
    INDEXED_KINDS
        .contains(&message.kind)
        .then(|| words_column(&message.body))
}

/// Tickets, and messages, read and rewritten per batch of [`reindex`].
const TICKET_BATCH: i64 = 500;
const MESSAGE_BATCH: i64 = 200;

/// Fills the words columns of every ticket and message already in the database, inside the
/// migration's transaction (so an upgraded database answers searches over its whole
/// history, with the same words as rows the store writes). Reads in primary-key order, a
/// batch at a time, and writes each batch back with one `UPDATE ... FROM unnest(...)`.
pub(crate) async fn reindex(tx: &mut Transaction<'static, Postgres>, sql: &Sql) -> Result<()> {
    let step = "migration 8 (indexing the texts for search)";
    let mut after = Uuid::nil();
    loop {
        let rows = sqlx::query(&sql.rewrite(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM helpdesk.tickets WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(TICKET_BATCH)
        .fetch_all(&mut **tx)
        .await
        .map_err(failed(sql, step))?;
        let tickets = rows.iter().map(ticket_from).collect::<Result<Vec<_>>>()?;
        let Some(last) = tickets.last() else { break };
        after = last.id.as_uuid();
        let ids: Vec<Uuid> = tickets.iter().map(|t| t.id.as_uuid()).collect();
        let subjects: Vec<String> = tickets.iter().map(subject_words).collect();
        let details: Vec<String> = tickets.iter().map(details_words).collect();
        sqlx::query(&sql.rewrite(
            "UPDATE helpdesk.tickets t SET search_subject = v.subject, search_details = v.details \
             FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v (id, subject, details) \
             WHERE t.id = v.id",
        ))
        .bind(ids)
        .bind(subjects)
        .bind(details)
        .execute(&mut **tx)
        .await
        .map_err(failed(sql, step))?;
    }
    let kinds = INDEXED_KINDS
        .iter()
        .map(|k| enum_str(k, "kind"))
        .collect::<Result<Vec<_>>>()?;
    let mut after = Uuid::nil();
    loop {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(&sql.rewrite(
            "SELECT id, body FROM helpdesk.messages WHERE id > $1 AND kind = ANY($2) \
             ORDER BY id LIMIT $3",
        ))
        .bind(after)
        .bind(&kinds)
        .bind(MESSAGE_BATCH)
        .fetch_all(&mut **tx)
        .await
        .map_err(failed(sql, step))?;
        let Some((last, _)) = rows.last() else { break };
        after = *last;
        let (ids, bodies): (Vec<Uuid>, Vec<String>) = rows
            .iter()
            .map(|(id, body)| (*id, words_column(body)))
            .unzip();
        sqlx::query(&sql.rewrite(
            "UPDATE helpdesk.messages m SET search_body = v.body \
             FROM unnest($1::uuid[], $2::text[]) AS v (id, body) WHERE m.id = v.id",
        ))
        .bind(ids)
        .bind(bodies)
        .execute(&mut **tx)
        .await
        .map_err(failed(sql, step))?;
    }
    Ok(())
}

/// The tsquery of checked terms: each a quoted prefix lexeme (`'refund':*`), all required
/// (`&`). Terms reach this only after `SearchQuery::check_terms` (single lowercase words
/// of letters and digits), and are quoted and escaped anyway (a quote or backslash
/// doubled), so no term can be read as tsquery syntax. Bound as one parameter.
pub(crate) fn prefix_tsquery(terms: &[String]) -> Result<String> {
    if terms.is_empty() {
        return Err(Error::validation("terms", "at least one term"));
    }
    let lexemes: Vec<String> = terms
        .iter()
        .map(|t| format!("'{}':*", t.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    Ok(lexemes.join(" & "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn words_are_core_words_distinct_and_cut_to_the_longest_term() {
        assert_eq!(
            words_column("Refund-policy: REFUND alice@Example.com, 2 × Größe"),
            "refund policy alice example com 2 größe"
        );
        assert_eq!(words_column(" -- "), "");
        let long = "é".repeat(MAX_TERM_CHARS + 10);
        assert_eq!(
            words_column(&format!("a {long} b")),
            format!("a {} b", "é".repeat(MAX_TERM_CHARS))
        );
    }

    #[test]
    fn words_stop_before_the_byte_limit() {
        let text: Vec<String> = (0..200_000).map(|i| format!("w{i:07}")).collect();
        let column = words_column(&text.join(" "));
        assert!(column.len() <= MAX_WORDS_BYTES);
        assert!(column.len() > MAX_WORDS_BYTES - 10);
        assert!(column.starts_with("w0000000 w0000001 "));
    }

    #[test]
    fn drafts_are_not_indexed() {
        let mut m = Message {
            id: helpdesk_core::MessageId::new(),
            tenant_id: helpdesk_core::TenantId::new(),
            ticket_id: helpdesk_core::TicketId::new(),
            author: None,
            author_kind: helpdesk_core::domain::AuthorKind::Agent,
            kind: MessageKind::Draft,
            body: "Refund".into(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            citations: Vec::new(),
            email: None,
            draft: None,
        };
        assert_eq!(message_words(&m), None);
        m.kind = MessageKind::Note;
        assert_eq!(message_words(&m).as_deref(), Some("refund"));
    }

    #[test]
    fn tsquery_quotes_and_escapes_every_term() {
        let terms = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            prefix_tsquery(&terms(&["refund", "größe"])).unwrap(),
            "'refund':* & 'größe':*"
        );
        assert_eq!(
            prefix_tsquery(&terms(&["a'b\\c"])).unwrap(),
            "'a''b\\\\c':*"
        );
        assert!(prefix_tsquery(&[]).is_err());
    }
}
