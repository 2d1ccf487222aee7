//! Keeps tokens out of every log line, whatever the level, format or
//! library that writes it: the tokens in use are registered once (when read
//! from the environment), and the log writer masks each of them, in the
//! spellings a formatter may give it (as is, JSON-escaped, Debug-escaped),
//! before a byte reaches stderr. (The WebSocket library logs whole
//! handshake requests, `Authorization` header included, at trace level.)

use std::io::{self, Write};
use std::sync::{PoisonError, RwLock};

use tracing_subscriber::fmt::MakeWriter;

/// What a token is replaced with.
const MASK: &str = "***";

/// Every spelling of every registered token.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a token so no log line shows it. Empty values are ignored.
pub fn register(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    let debug = format!("{secret:?}").trim_matches('"').to_owned();
    let mut secrets = SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    for spelling in [secret.to_owned(), json, debug] {
        if !spelling.is_empty() && !secrets.contains(&spelling) {
            secrets.push(spelling);
        }
    }
    // Longest first, so a spelling that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered token masked.
pub fn redact(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = text.to_owned();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// The log writer: stderr, each event masked before it is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactedStderr;

impl<'a> MakeWriter<'a> for RedactedStderr {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter(Vec::new())
    }
}

/// One event's bytes, masked and written to stderr as a whole when dropped
/// (a token is never split across two writes).
#[derive(Debug)]
pub struct EventWriter(Vec<u8>);

impl Write for EventWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = redact(&String::from_utf8_lossy(&self.0));
        // A log line that cannot be written has nowhere else to go.
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_registered_token_is_masked() {
        register("tok-\"quoted\"-SECRET-9f1");
        let line = format!(
            "raw tok-\"quoted\"-SECRET-9f1 json {} debug {:?}",
            serde_json::to_string("tok-\"quoted\"-SECRET-9f1").unwrap_or_default(),
            "Authorization: Bearer tok-\"quoted\"-SECRET-9f1",
        );
        let masked = redact(&line);
        assert!(!masked.contains("SECRET"), "{masked}");
        assert_eq!(masked.matches(MASK).count(), 3, "{masked}");
        register("");
        assert_eq!(redact("nothing to hide"), "nothing to hide");
    }
}
