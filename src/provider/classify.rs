//! The one place that decides what a provider outcome means for the
//! scheduler: every service code, service message, HTTP status and
//! transport failure maps to an [`ErrorClass`] here, and nowhere else,
//! together with what the user should do about it. Also the two response
//! headers every error carries along: `Retry-After` and `X-Tt-Logid`.
//!
//! The tables follow `tts-protocols.md`. Codes the documents do not list are
//! `Permanent`: retrying an unknown refusal wastes quota and time. Message
//! rules win over codes, whatever the code: the services report the same
//! condition under several codes (a used-up concurrency quota under 3003 or
//! 3001, a bad token as 3001 with `authenticate request: …`).

use std::time::{Duration, SystemTime};

use super::{ErrorClass, ProviderError};

/// What an outcome means: the class the scheduler acts on, and for the
/// user, what to do about it (empty when the message says it all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub class: ErrorClass,
    pub advice: &'static str,
}

const fn verdict(class: ErrorClass, advice: &'static str) -> Verdict {
    Verdict { class, advice }
}

use ErrorClass::{Fatal, Permanent, ProcessingTimeout, RateLimit, TooLong, Transient, Unspeakable};

/// Service messages that decide the class whatever the code came with,
/// matched case-insensitively as substrings, first match wins.
const MESSAGE_RULES: &[(&str, Verdict)] = &[
    (
        "authenticate request",
        verdict(
            Fatal,
            "check [voice.volcengine] appid and the token in the token_env variable",
        ),
    ),
    (
        "grant not found",
        verdict(
            Fatal,
            "check [voice.volcengine] appid and the token in the token_env variable",
        ),
    ),
    (
        "access denied",
        verdict(
            Fatal,
            "the app may not use this voice: buy the voice for the app or choose another",
        ),
    ),
    (
        "_lifetime",
        verdict(
            Fatal,
            "the account's trial quota is used up: buy the service or use another account",
        ),
    ),
    (
        "init engine instance failed",
        verdict(
            Fatal,
            "wrong voice_type or cluster: check [voice] voice and [voice.volcengine] cluster \
             (clone voices use volcano_icl)",
        ),
    ),
    (
        "concurrency",
        verdict(RateLimit, "the account's concurrency quota is in use"),
    ),
];

/// Volcengine openspeech v1 codes (section 4 of tts-protocols.md).
const VOLCENGINE_CODES: &[(i64, Verdict)] = &[
    (3001, verdict(Permanent, "")),
    (3003, verdict(RateLimit, "")),
    (3005, verdict(Transient, "")),
    (3006, verdict(Permanent, "")),
    (3010, verdict(TooLong, "")),
    (
        3011,
        verdict(
            Permanent,
            "the voice does not speak this language: set [voice.volcengine] explicit_language \
             or choose another voice",
        ),
    ),
    (3030, verdict(ProcessingTimeout, "")),
    (3031, verdict(Transient, "")),
    (3032, verdict(Transient, "")),
    (3040, verdict(Transient, "")),
    (
        3050,
        verdict(
            Permanent,
            "the voice_type does not exist: check [voice] voice",
        ),
    ),
];

/// Coze codes (section 0 of tts-protocols.md). The account-wide refusals
/// are fatal: every request of the job would get the same answer.
const COZE_CODES: &[(i64, Verdict)] = &[
    (3010, verdict(TooLong, "")),
    (4000, verdict(Permanent, "")),
    (
        4008,
        verdict(
            Fatal,
            "the account's daily usage limit is reached: run again tomorrow",
        ),
    ),
    (4009, verdict(RateLimit, "")),
    (
        4011,
        verdict(
            Fatal,
            "the Coze token balance is insufficient: top it up, then run again",
        ),
    ),
    (4013, verdict(RateLimit, "")),
    (
        4019,
        verdict(
            Fatal,
            "the Volcano pay-as-you-go account is in arrears: settle it, then run again",
        ),
    ),
    (4020, verdict(RateLimit, "")),
    (
        4022,
        verdict(
            Fatal,
            "the model (Ark) account is in arrears: settle it, then run again",
        ),
    ),
    (
        4027,
        verdict(Fatal, "the account is overdue: settle it, then run again"),
    ),
    (
        4028,
        verdict(
            Fatal,
            "the free credit is used up: buy a plan, then run again",
        ),
    ),
    (
        4100,
        verdict(
            Fatal,
            "the token is invalid or expired: export a valid one in the token_env variable",
        ),
    ),
    (
        4101,
        verdict(
            Fatal,
            "the token lacks the createSpeech permission: grant it to the token in the Coze \
             console",
        ),
    ),
    (4102, verdict(Transient, "")),
    (
        4200,
        verdict(
            Permanent,
            "the voice or resource was not found: check [voice] voice",
        ),
    ),
    (5000, verdict(Transient, "")),
];

fn by_message(message: &str) -> Option<Verdict> {
    let message = message.to_ascii_lowercase();
    MESSAGE_RULES
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, verdict)| *verdict)
}

fn by_code(table: &[(i64, Verdict)], code: i64) -> Verdict {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(verdict(Permanent, ""), |(_, verdict)| *verdict)
}

/// A Volcengine `code` (HTTP body or binary error frame) with its message,
/// for a request that sent `text`. 3011 ("illegal input text") means a
/// pause only when the text has nothing speakable; any other 3011 is the
/// voice refusing the language, a failed segment.
pub fn volcengine(code: i64, message: &str, text: &str) -> Verdict {
    if let Some(verdict) = by_message(message) {
        return verdict;
    }
    if code == 3011 && !has_speakable(text) {
        return verdict(Unspeakable, "");
    }
    by_code(VOLCENGINE_CODES, code)
}

/// A Coze `code` from a JSON envelope or a WebSocket `error` event.
pub fn coze(code: i64, message: &str) -> Verdict {
    by_message(message).unwrap_or_else(|| by_code(COZE_CODES, code))
}

/// A service's refusal as an error: `{service} refused the request:
/// {message}; {advice}`, with the service's code.
pub fn refusal(service: &str, code: i64, message: &str, verdict: Verdict) -> ProviderError {
    let mut text = format!("{service} refused the request");
    let message = message.trim();
    if !message.is_empty() {
        text.push_str(": ");
        text.push_str(message);
    }
    if !verdict.advice.is_empty() {
        text.push_str("; ");
        text.push_str(verdict.advice);
    }
    ProviderError::new(verdict.class, text).with_code(code)
}

/// Whether `text` has anything to speak: a letter or a digit. Text without
/// one (punctuation, emoji) is what a service may refuse as unspeakable.
pub fn has_speakable(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// An HTTP status without a service code to go by (a non-JSON error body,
/// a refused WebSocket handshake).
pub fn http_status(status: u16) -> ErrorClass {
    match status {
        429 => ErrorClass::RateLimit,
        401 | 403 => ErrorClass::Fatal,
        408 | 500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

/// An answer whose body is not what the service sends: on a success status
/// it was cut short (worth another attempt), otherwise its status decides.
pub fn unexpected_body(status: u16) -> ErrorClass {
    if (200..300).contains(&status) {
        ErrorClass::Transient
    } else {
        http_status(status)
    }
}

/// A failed HTTP exchange: connection refused or reset, timeouts and bodies
/// cut short are all worth another attempt; a request that cannot even be
/// built (a bad URL) is not.
pub fn transport(err: &reqwest::Error) -> ErrorClass {
    if let Some(status) = err.status() {
        return http_status(status.as_u16());
    }
    if err.is_builder() {
        return ErrorClass::Permanent;
    }
    ErrorClass::Transient
}

/// A failed WebSocket exchange. A refused handshake is judged by its status;
/// a bad URL is permanent; closed sockets, I/O, TLS and protocol errors are
/// transient.
pub fn websocket(err: &tokio_tungstenite::tungstenite::Error) -> ErrorClass {
    use tokio_tungstenite::tungstenite::Error;
    match err {
        Error::Http(response) => http_status(response.status().as_u16()),
        Error::Url(_) | Error::HttpFormat(_) => ErrorClass::Permanent,
        _ => ErrorClass::Transient,
    }
}

/// `Retry-After` as delta-seconds or an HTTP date (relative to `now`); a
/// date in the past means "now". `None` when unparsable.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `Retry-After` from response headers.
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    retry_after(value, SystemTime::now())
}

/// `X-Tt-Logid` from response headers (header names are case-insensitive).
pub fn log_id_header(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let value = headers.get("x-tt-logid")?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volcengine_table() {
        let table = [
            (3001, Permanent),
            (3003, RateLimit),
            (3005, Transient),
            (3006, Permanent),
            (3010, TooLong),
            (3011, Permanent),
            (3030, ProcessingTimeout),
            (3031, Transient),
            (3032, Transient),
            (3040, Transient),
            (3050, Permanent),
            (9999, Permanent),
        ];
        for (code, class) in table {
            assert_eq!(
                volcengine(code, "whatever", "speakable text").class,
                class,
                "code {code}"
            );
        }
    }

    /// Regression (issue 11): a 3011 for text in the wrong language was
    /// turned into silence; only text with nothing to speak is a pause.
    #[test]
    fn volcengine_3011_is_a_pause_only_for_unspeakable_text() {
        assert_eq!(
            volcengine(3011, "illegal input text!", "。！？…").class,
            Unspeakable
        );
        let wrong_language = volcengine(3011, "illegal input text!", "Hello there.");
        assert_eq!(wrong_language.class, Permanent);
        assert!(
            wrong_language.advice.contains("explicit_language"),
            "{wrong_language:?}"
        );
    }

    #[test]
    fn volcengine_messages_override_the_code() {
        let fatal = [
            "authenticate request: load grant: requested grant not found",
            "extract request resource id: get resource id: access denied",
            "{\"message\":\"Access Denied\"}",
            "quota exceeded for types: tts_lifetime",
            "Fail to feed text, reason Init Engine Instance failed",
        ];
        for message in fatal {
            let verdict = volcengine(3001, message, "text");
            assert_eq!(verdict.class, Fatal, "{message}");
            assert!(!verdict.advice.is_empty(), "{message}: says what to do");
        }
        // The concurrency quota is a rate limit whatever the code.
        for code in [3003, 3001, 3050, 4000] {
            assert_eq!(
                volcengine(code, "quota exceeded for types: concurrency", "text").class,
                RateLimit,
                "{code}"
            );
            assert_eq!(
                coze(code, "quota exceeded for types: concurrency").class,
                RateLimit,
                "coze {code}"
            );
        }
    }

    #[test]
    fn coze_table() {
        let table = [
            (4000, Permanent),
            (4008, Fatal),
            (4009, RateLimit),
            (4011, Fatal),
            (4013, RateLimit),
            (4019, Fatal),
            (4020, RateLimit),
            (4022, Fatal),
            (4027, Fatal),
            (4028, Fatal),
            (4100, Fatal),
            (4101, Fatal),
            (4102, Transient),
            (4200, Permanent),
            (3010, TooLong),
            (3011, Permanent),
            (5000, Transient),
            (1, Permanent),
        ];
        for (code, class) in table {
            let verdict = coze(code, "m");
            assert_eq!(verdict.class, class, "code {code}");
            if class == Fatal {
                assert!(!verdict.advice.is_empty(), "{code} says what to do");
            }
        }
    }

    #[test]
    fn http_table() {
        let table = [
            (400, Permanent),
            (401, Fatal),
            (403, Fatal),
            (404, Permanent),
            (408, Transient),
            (429, RateLimit),
            (500, Transient),
            (502, Transient),
            (503, Transient),
            (504, Transient),
            (302, Permanent),
        ];
        for (status, class) in table {
            assert_eq!(http_status(status), class, "status {status}");
        }
    }

    #[test]
    fn websocket_errors() {
        use tokio_tungstenite::tungstenite::Error;
        use tokio_tungstenite::tungstenite::error::{ProtocolError, UrlError};
        assert_eq!(websocket(&Error::ConnectionClosed), Transient);
        assert_eq!(websocket(&Error::AlreadyClosed), Transient);
        assert_eq!(
            websocket(&Error::Protocol(
                ProtocolError::ResetWithoutClosingHandshake
            )),
            Transient
        );
        assert_eq!(websocket(&Error::Url(UrlError::NoHostName)), Permanent);
        let refused = |status: u16| {
            let response = tokio_tungstenite::tungstenite::http::Response::builder()
                .status(status)
                .body(None)
                .expect("response");
            Error::Http(Box::new(response))
        };
        assert_eq!(websocket(&refused(401)), Fatal);
        assert_eq!(websocket(&refused(403)), Fatal);
        assert_eq!(websocket(&refused(503)), Transient);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-1", now), None);
    }

    #[test]
    fn headers() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("X-Tt-Logid", "20250101ABC".parse().expect("value"));
        headers.insert("retry-after", "7".parse().expect("value"));
        assert_eq!(log_id_header(&headers).as_deref(), Some("20250101ABC"));
        assert_eq!(retry_after_header(&headers), Some(Duration::from_secs(7)));
        assert_eq!(log_id_header(&reqwest::header::HeaderMap::new()), None);
    }
}
