//! The one place that decides what a provider outcome means for the
//! scheduler: every service code, HTTP status and transport failure maps to
//! an [`ErrorClass`] here, and nowhere else. Also the two response headers
//! every error carries along: `Retry-After` and `X-Tt-Logid`.
//!
//! The tables follow `tts-protocols.md`. Codes the documents do not list are
//! `Permanent`: retrying an unknown refusal wastes quota and time.

use std::time::{Duration, SystemTime};

use super::ErrorClass;

/// Volcengine openspeech v1 `code` (HTTP body or binary error frame) and
/// its message. Auth messages win over the code: the service reports a bad
/// token as 3001 with `authenticate request: … grant not found`.
///
/// 3030 (processing timeout) is `Transient`; the documents advise "retry once,
/// then treat as permanent", which is the scheduler's attempt policy to apply.
pub fn volcengine_code(code: i64, message: &str) -> ErrorClass {
    if let Some(class) = volcengine_message(message) {
        return class;
    }
    match code {
        3003 => ErrorClass::RateLimit,
        3005 | 3030 | 3031 | 3032 | 3040 => ErrorClass::Transient,
        3010 => ErrorClass::TooLong,
        3011 => ErrorClass::Unspeakable,
        // 3001 invalid request, 3006 reused reqid, 3050 unknown voice_type.
        _ => ErrorClass::Permanent,
    }
}

/// The message-only errors Volcengine reports. `None` when the message says
/// nothing the code does not.
fn volcengine_message(message: &str) -> Option<ErrorClass> {
    let message = message.to_ascii_lowercase();
    let auth = ["authenticate request", "access denied", "grant not found"];
    if auth.iter().any(|needle| message.contains(needle)) {
        return Some(ErrorClass::Fatal);
    }
    // A used-up trial (`quota exceeded for types: …_lifetime`) fails every
    // request of the account, so the job stops rather than burning attempts.
    if message.contains("quota exceeded") && message.contains("lifetime") {
        return Some(ErrorClass::Fatal);
    }
    None
}

/// Coze `code` from a JSON envelope or a WebSocket `error` event.
pub fn coze_code(code: i64) -> ErrorClass {
    match code {
        4009 | 4013 | 4020 => ErrorClass::RateLimit,
        4102 | 5000 => ErrorClass::Transient,
        4100 => ErrorClass::Fatal,
        3010 => ErrorClass::TooLong,
        3011 => ErrorClass::Unspeakable,
        // 4000, 4008, 4011, 4019, 4022, 4027, 4028, 4101, 4200 and the unknown.
        _ => ErrorClass::Permanent,
    }
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
    use ErrorClass::*;

    #[test]
    fn volcengine_table() {
        let table = [
            (3001, Permanent),
            (3003, RateLimit),
            (3005, Transient),
            (3006, Permanent),
            (3010, TooLong),
            (3011, Unspeakable),
            (3030, Transient),
            (3031, Transient),
            (3032, Transient),
            (3040, Transient),
            (3050, Permanent),
            (9999, Permanent),
        ];
        for (code, class) in table {
            assert_eq!(volcengine_code(code, "whatever"), class, "code {code}");
        }
    }

    #[test]
    fn volcengine_messages_override_the_code() {
        let fatal = [
            "authenticate request: load grant: requested grant not found",
            "extract request resource id: get resource id: access denied",
            "{\"message\":\"Access Denied\"}",
            "quota exceeded for types: tts_lifetime",
        ];
        for message in fatal {
            assert_eq!(volcengine_code(3001, message), Fatal, "{message}");
        }
        assert_eq!(
            volcengine_code(3003, "quota exceeded for types: concurrency"),
            RateLimit
        );
        assert_eq!(
            volcengine_code(
                3001,
                "Fail to feed text, reason Init Engine Instance failed"
            ),
            Permanent
        );
    }

    #[test]
    fn coze_table() {
        let table = [
            (4000, Permanent),
            (4008, Permanent),
            (4009, RateLimit),
            (4011, Permanent),
            (4013, RateLimit),
            (4019, Permanent),
            (4020, RateLimit),
            (4022, Permanent),
            (4027, Permanent),
            (4028, Permanent),
            (4100, Fatal),
            (4101, Permanent),
            (4102, Transient),
            (4200, Permanent),
            (3010, TooLong),
            (5000, Transient),
            (1, Permanent),
        ];
        for (code, class) in table {
            assert_eq!(coze_code(code), class, "code {code}");
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
