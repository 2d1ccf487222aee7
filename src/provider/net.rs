//! The HTTP and WebSocket plumbing both cloud clients share: the reqwest
//! client with its timeouts, the `Authorization` header marked sensitive,
//! failed exchanges turned into classified [`ProviderError`]s, and the
//! WebSocket connect with its handshake errors, and the two helpers both
//! build request JSON with. Neither client imports the other; both import
//! this.

use std::time::Duration;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::decode::snippet;
use super::{ErrorClass, ProviderError, Secret, classify, install_crypto_provider};

/// Connecting gets its own short limit, within the request's: a dead host
/// should fail fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Characters of a non-JSON error body quoted in a message.
pub(crate) const SNIPPET_CHARS: usize = 200;

/// A client WebSocket, plain or TLS.
pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The HTTP client for one provider: rustls (ring), a whole-request
/// timeout and a short connect timeout.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, ProviderError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .build()
        .map_err(|e| {
            ProviderError::new(
                ErrorClass::Fatal,
                format!("cannot build the HTTP client: {e}"),
            )
        })
}

/// An HTTP client built at its first request, not before: building one
/// loads the system's TLS roots (tens of milliseconds), and a render with
/// nothing to synthesize sends no request at all.
#[derive(Debug)]
pub(crate) struct LazyClient {
    timeout: Duration,
    client: std::sync::OnceLock<reqwest::Client>,
}

impl LazyClient {
    pub(crate) fn new(timeout: Duration) -> LazyClient {
        LazyClient {
            timeout,
            client: std::sync::OnceLock::new(),
        }
    }

    /// The client, built now if this is the first request. A client that
    /// cannot be built is a fatal error of the request (and of the job).
    pub(crate) fn get(&self) -> Result<&reqwest::Client, ProviderError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let built = http_client(self.timeout)?;
        // Two first requests at once may both build one; either is kept.
        Ok(self.client.get_or_init(|| built))
    }
}

/// A header value marked sensitive, so neither reqwest nor tungstenite shows
/// it in `Debug` (both use the same `http` crate).
pub(crate) fn sensitive(value: &str) -> Result<reqwest::header::HeaderValue, ProviderError> {
    let mut header = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
        ProviderError::new(
            ErrorClass::Fatal,
            "the token contains characters not allowed in an HTTP header; check the token \
             variable",
        )
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// A failed HTTP exchange, with its cause chain (reqwest's own message is
/// only "error sending request").
pub(crate) fn http_failure(service: &str, e: &reqwest::Error, token: &Secret) -> ProviderError {
    let mut message = format!("{service} request failed: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    ProviderError::new(classify::transport(e), token.redact(&message))
}

/// Opens a WebSocket with an `Authorization` header, within `timeout` (the
/// job's `timeout_secs`, which covers connecting too). Returns the socket
/// and the handshake's `X-Tt-Logid`; a refused handshake is classified by
/// its status and carries the log id it came with.
pub(crate) async fn ws_connect(
    url: &str,
    authorization: &str,
    service: &str,
    token: &Secret,
    timeout: Duration,
) -> Result<(Socket, Option<String>), ProviderError> {
    install_crypto_provider();
    let mut request = url.into_client_request().map_err(|e| {
        ProviderError::new(
            classify::websocket(&e),
            format!("{service}: bad WebSocket URL {url}: {e}"),
        )
    })?;
    request
        .headers_mut()
        .insert("authorization", sensitive(authorization)?);
    let connect = tokio_tungstenite::connect_async(request);
    match tokio::time::timeout(timeout, connect).await {
        Err(_) => Err(ProviderError::new(
            ErrorClass::Transient,
            format!(
                "{service}: WebSocket connect to {url} timed out after {} s (timeout_secs)",
                timeout.as_secs_f64()
            ),
        )),
        Ok(Err(e)) => Err(handshake_error(service, &e, token)),
        Ok(Ok((socket, response))) => {
            let log_id = response
                .headers()
                .get("x-tt-logid")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            Ok((socket, log_id))
        }
    }
}

fn handshake_error(
    service: &str,
    e: &tokio_tungstenite::tungstenite::Error,
    token: &Secret,
) -> ProviderError {
    use tokio_tungstenite::tungstenite::Error;
    let class = classify::websocket(e);
    match e {
        Error::Http(response) => {
            let log_id = response
                .headers()
                .get("x-tt-logid")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response
                .body()
                .as_deref()
                .map(|b| token.redact(&snippet(b, SNIPPET_CHARS)))
                .unwrap_or_default();
            let status = response.status().as_u16();
            ProviderError::new(
                class,
                format!(
                    "{service}: server rejected the WebSocket connection: HTTP {status} {body}"
                )
                .trim_end()
                .to_owned(),
            )
            .with_log_id(log_id)
        }
        _ => ProviderError::new(
            class,
            format!(
                "{service}: WebSocket connect failed: {}",
                token.redact(&e.to_string())
            ),
        ),
    }
}

/// Sets `key` in a JSON object when there is a value: optional request
/// fields are left out rather than sent as `null`.
pub(crate) fn insert_some(
    object: &mut serde_json::Value,
    key: &str,
    value: Option<serde_json::Value>,
) {
    if let (Some(map), Some(value)) = (object.as_object_mut(), value) {
        map.insert(key.to_owned(), value);
    }
}

/// A factor as a short decimal for JSON: `1.1f32` would print
/// 1.100000023841858.
pub(crate) fn decimal(value: f32) -> f64 {
    (f64::from(value) * 1000.0).round() / 1000.0
}
