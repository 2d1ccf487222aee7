//! Test helper: a loopback TCP listener that answers exactly one HTTP
//! request with canned bytes and hands back the request it read. Enough to
//! check headers on the wire, `Retry-After` and bodies cut short; the real
//! end-to-end tests run against the simulator.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as read off the socket.
pub(crate) struct Captured {
    pub head: String,
    pub body: Vec<u8>,
}

impl Captured {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// Binds `127.0.0.1:0`, answers one request with `response` and closes.
/// Returns the base URL and the captured request.
pub(crate) async fn one_shot(response: Vec<u8>) -> (String, JoinHandle<Captured>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let captured = read_request(&mut socket).await;
        socket.write_all(&response).await.expect("write");
        socket.shutdown().await.ok();
        captured
    });
    (format!("http://{addr}"), task)
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Captured {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.expect("read");
        assert!(n > 0, "client closed before sending a request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut captured = Captured {
        head,
        body: buf[head_end..].to_vec(),
    };
    let length: usize = captured
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while captured.body.len() < length {
        let n = socket.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "client closed mid-body");
        captured.body.extend_from_slice(&chunk[..n]);
    }
    captured
}

/// An HTTP/1.1 response with the given status line, headers and body.
pub(crate) fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Accepts one WebSocket handshake and returns the socket and the
/// `Authorization` header the client sent.
pub(crate) async fn accept_ws(
    stream: tokio::net::TcpStream,
) -> (
    tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    Option<String>,
) {
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    let mut auth = None;
    // The callback's error type is tungstenite's, large by design.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| {
        auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(resp)
    };
    let ws = tokio_tungstenite::accept_hdr_async(stream, callback)
        .await
        .expect("handshake");
    (ws, auth)
}
