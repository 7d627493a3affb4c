//! A small server-sent-events decoder fed arbitrary byte chunks.
//!
//! Lines end with CRLF, LF or CR (a CR at the end of a chunk waits for the next byte); a
//! blank line ends an event; `:` lines are comments; only `data` fields are kept
//! (multi-line data joined with `\n`); a last event the body ends without its blank line
//! is still returned.
//!
//! [`SseParser::with_raw_json`] also returns what Gemini sends mid-stream: a line starting
//! with `{` or `[` outside an event is a raw, possibly multi-line, error object, collected
//! until its brackets balance and returned as [`SseItem::Raw`]. OpenAI-compatible servers
//! frame everything as `data:` events, so [`SseParser::new`] ignores such lines.

/// The longest line (or raw error object) kept while waiting for its end.
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// Why the byte stream is not a valid event stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line was not UTF-8.
    #[error("the response stream was not valid UTF-8")]
    Utf8(#[from] std::str::Utf8Error),
    /// A line or raw object grew past [`MAX_LINE_BYTES`].
    #[error("a response stream line exceeded {MAX_LINE_BYTES} bytes")]
    LineTooLong,
}

/// One decoded item.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SseItem {
    /// The `data` of one event (multi-line data joined with `\n`).
    Data(String),
    /// A raw JSON value that was not `data:`-framed (only [`SseParser::with_raw_json`]).
    Raw(String),
}

/// Incremental decoder state.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    data: Option<String>,
    raw: Option<String>,
    raw_json: bool,
}

impl SseParser {
    /// A decoder of `data` events only.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder that also returns the raw JSON objects sent outside of events.
    pub fn with_raw_json() -> Self {
        Self {
            raw_json: true,
            ..Self::default()
        }
    }

    /// Feeds a chunk and returns the items it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseItem>, SseError> {
        self.buffer.extend_from_slice(chunk);
        let mut items = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < self.buffer.len() {
            let end = match self.buffer[i] {
                b'\n' => i + 1,
                b'\r' if i + 1 < self.buffer.len() => {
                    if self.buffer[i + 1] == b'\n' {
                        i + 2
                    } else {
                        i + 1
                    }
                }
                // A CR at the end: the LF of a CRLF may be in the next chunk.
                b'\r' => break,
                _ => {
                    i += 1;
                    continue;
                }
            };
            let line = std::str::from_utf8(&self.buffer[start..i])?.to_owned();
            self.line(&line, &mut items);
            start = end;
            i = end;
        }
        self.buffer.drain(..start);
        let pending_raw = self.raw.as_ref().map_or(0, String::len);
        if self.buffer.len() + pending_raw > MAX_LINE_BYTES {
            return Err(SseError::LineTooLong);
        }
        Ok(items)
    }

    /// Ends the input: a last line without terminator and any pending event are returned.
    pub fn finish(&mut self) -> Result<Vec<SseItem>, SseError> {
        let mut items = Vec::new();
        let rest = std::mem::take(&mut self.buffer);
        let rest = std::str::from_utf8(&rest)?;
        let rest = rest.strip_suffix('\r').unwrap_or(rest);
        if !rest.is_empty() {
            self.line(rest, &mut items);
        }
        if let Some(data) = self.data.take() {
            items.push(SseItem::Data(data));
        }
        if let Some(raw) = self.raw.take() {
            items.push(SseItem::Raw(raw));
        }
        Ok(items)
    }

    fn line(&mut self, line: &str, items: &mut Vec<SseItem>) {
        if let Some(raw) = &mut self.raw {
            raw.push('\n');
            raw.push_str(line);
            if brackets_balanced(raw) {
                items.extend(self.raw.take().map(SseItem::Raw));
            }
            return;
        }
        if line.is_empty() {
            items.extend(self.data.take().map(SseItem::Data));
            return;
        }
        if line.starts_with(':') {
            return;
        }
        if self.raw_json && self.data.is_none() && (line.starts_with('{') || line.starts_with('['))
        {
            if brackets_balanced(line) {
                items.push(SseItem::Raw(line.to_owned()));
            } else {
                self.raw = Some(line.to_owned());
            }
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field == "data" {
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            }
        }
    }
}

/// Whether the JSON text's brackets (outside strings) are closed.
fn brackets_balanced(text: &str) -> bool {
    let mut depth = 0i64;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth <= 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn parse_in_pieces(mut parser: SseParser, input: &[u8], piece: usize) -> Vec<SseItem> {
        let mut items = Vec::new();
        for chunk in input.chunks(piece) {
            items.extend(parser.push(chunk).unwrap());
        }
        items.extend(parser.finish().unwrap());
        items
    }

    fn data(texts: &[&str]) -> Vec<SseItem> {
        texts.iter().map(|t| SseItem::Data((*t).into())).collect()
    }

    #[test]
    fn every_separator_and_every_split_point() {
        for sep in ["\r\n\r\n", "\n\n", "\r\r"] {
            let eol = &sep[..sep.len() / 2];
            let input = format!(
                ": keep-alive{sep}data: {{\"a\": 1}}{sep}event: x{eol}data: {{\"b\": \"é\"}}{sep}data: [DONE]{sep}"
            );
            for piece in 1..=input.len() {
                for parser in [SseParser::new(), SseParser::with_raw_json()] {
                    assert_eq!(
                        parse_in_pieces(parser, input.as_bytes(), piece),
                        data(&["{\"a\": 1}", "{\"b\": \"é\"}", "[DONE]"]),
                        "separator {sep:?}, piece {piece}"
                    );
                }
            }
        }
    }

    #[test]
    fn multi_line_data_and_unterminated_last_event() {
        let items = parse_in_pieces(SseParser::new(), b"data: a\ndata:b\n\ndata: last", 3);
        assert_eq!(items, data(&["a\nb", "last"]));
    }

    #[test]
    fn raw_multi_line_error_after_events() {
        let input = "data: {\"x\":1}\r\n\r\n{\r\n  \"error\": {\r\n    \"code\": 500,\r\n    \"message\": \"a } in text\"\r\n  }\r\n}\r\n";
        for piece in [1, 2, 7, input.len()] {
            let items = parse_in_pieces(SseParser::with_raw_json(), input.as_bytes(), piece);
            assert_eq!(items.len(), 2);
            let SseItem::Raw(raw) = &items[1] else {
                panic!("{items:?}")
            };
            let v: serde_json::Value = serde_json::from_str(raw).unwrap();
            assert_eq!(v["error"]["code"], 500);
            // Without raw JSON, the unframed object is not an event.
            let items = parse_in_pieces(SseParser::new(), input.as_bytes(), piece);
            assert_eq!(items, data(&["{\"x\":1}"]));
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), piece in 1usize..64, raw in proptest::prelude::any::<bool>()) {
            let mut parser = if raw { SseParser::with_raw_json() } else { SseParser::new() };
            for chunk in bytes.chunks(piece) {
                let _ = parser.push(chunk);
            }
            let _ = parser.finish();
        }

        #[test]
        fn chunking_does_not_change_the_events(
            texts in proptest::collection::vec("[a-z {}\":,]{0,20}", 1..6),
            sep in proptest::sample::select(vec!["\r\n\r\n", "\n\n", "\r\r"]),
            piece in 1usize..40,
        ) {
            let input: String = texts.iter().map(|t| format!("data: x{t}{sep}")).collect();
            let whole = parse_in_pieces(SseParser::with_raw_json(), input.as_bytes(), input.len());
            proptest::prop_assert_eq!(whole.len(), texts.len());
            proptest::prop_assert_eq!(
                parse_in_pieces(SseParser::with_raw_json(), input.as_bytes(), piece),
                whole
            );
        }
    }

    #[test]
    fn an_endless_line_is_an_error() {
        for mut parser in [SseParser::new(), SseParser::with_raw_json()] {
            let chunk = vec![b'x'; 1024 * 1024];
            let results: Vec<_> = (0..9).map(|_| parser.push(&chunk).is_ok()).collect();
            assert_eq!(results.iter().filter(|ok| !**ok).count(), 1);
            assert!(!results[8]);
        }
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert!(SseParser::new().push(b"data: \xff\xfe\n\n").is_err());
    }
}
