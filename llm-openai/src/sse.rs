//! A small server-sent-events parser fed arbitrary byte chunks: lines end with CRLF, LF or
//! CR (a CR at the end of a chunk waits for the next byte), a blank line ends an event, `:`
//! lines are comments, only `data` fields are kept (multi-line data joined with `\n`).
//!
//! llm-gemini has its own parser, which also collects the raw (unframed) error objects
//! Gemini sends; OpenAI-compatible servers frame everything as `data:` events.

/// The longest line kept while waiting for its end.
pub(crate) const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// Why the byte stream is not a valid event stream.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SseError {
    /// A line was not UTF-8.
    #[error("the response stream was not valid UTF-8")]
    Utf8(#[from] std::str::Utf8Error),
    /// A line grew past [`MAX_LINE_BYTES`].
    #[error("a response stream line exceeded {MAX_LINE_BYTES} bytes")]
    LineTooLong,
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
    data: Option<String>,
}

impl SseParser {
    /// Feeds a chunk and returns the `data` of the events it completed.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<Vec<String>, SseError> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
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
            self.line(&line, &mut events);
            start = end;
            i = end;
        }
        self.buffer.drain(..start);
        if self.buffer.len() > MAX_LINE_BYTES {
            return Err(SseError::LineTooLong);
        }
        Ok(events)
    }

    /// Ends the input: a last line without terminator and a pending event are returned.
    pub(crate) fn finish(&mut self) -> Result<Vec<String>, SseError> {
        let mut events = Vec::new();
        let rest = std::mem::take(&mut self.buffer);
        let rest = std::str::from_utf8(&rest)?;
        let rest = rest.strip_suffix('\r').unwrap_or(rest);
        if !rest.is_empty() {
            self.line(rest, &mut events);
        }
        events.extend(self.data.take());
        Ok(events)
    }

    fn line(&mut self, line: &str, events: &mut Vec<String>) {
        if line.is_empty() {
            events.extend(self.data.take());
            return;
        }
        if line.starts_with(':') {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn parse_in_pieces(input: &[u8], piece: usize) -> Vec<String> {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for chunk in input.chunks(piece) {
            events.extend(parser.push(chunk).unwrap());
        }
        events.extend(parser.finish().unwrap());
        events
    }

    #[test]
    fn every_separator_and_every_split_point() {
        for sep in ["\r\n\r\n", "\n\n", "\r\r"] {
            let eol = &sep[..sep.len() / 2];
            let input = format!(
                ": keep-alive{sep}data: {{\"a\": 1}}{sep}event: x{eol}data: {{\"b\": \"é\"}}{sep}data: [DONE]{sep}"
            );
            for piece in 1..=input.len() {
                assert_eq!(
                    parse_in_pieces(input.as_bytes(), piece),
                    ["{\"a\": 1}", "{\"b\": \"é\"}", "[DONE]"],
                    "separator {sep:?}, piece {piece}"
                );
            }
        }
    }

    #[test]
    fn multi_line_data_and_unterminated_last_event() {
        let events = parse_in_pieces(b"data: a\ndata:b\n\ndata: last", 3);
        assert_eq!(events, ["a\nb", "last"]);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(SseParser::default().push(b"data: \xff\xfe\n\n").is_err());
        let mut parser = SseParser::default();
        let chunk = vec![b'x'; 1024 * 1024];
        let failed = (0..9).filter(|_| parser.push(&chunk).is_err()).count();
        assert_eq!(failed, 1);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), piece in 1usize..64) {
            let mut parser = SseParser::default();
            for chunk in bytes.chunks(piece) {
                let _ = parser.push(chunk);
            }
            let _ = parser.finish();
        }
    }
}
