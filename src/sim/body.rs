//! HTTP response bodies the simulator needs besides plain ones: streamed in
//! slow chunks, cut short under a promised Content-Length, or failing at once
//! so the connection is aborted. Each keeps the quota slot until it is done.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::stream;

use super::gate::SlotGuard;

/// Long enough for a loopback write to leave the server.
const FLUSH_PAUSE: Duration = Duration::from_millis(20);

/// The bytes in `chunk`-sized pieces with `delay` before each after the first.
/// The slot is held until the last piece is sent (or the client leaves).
pub(crate) fn slow(data: Vec<u8>, chunk: usize, delay: Duration, slot: SlotGuard) -> Body {
    let pieces: Vec<Bytes> = data
        .chunks(chunk.max(1))
        .map(Bytes::copy_from_slice)
        .collect();
    let stream = stream::unfold(
        (pieces.into_iter(), slot, true),
        move |(mut pieces, slot, first)| async move {
            let piece = pieces.next()?;
            if !first {
                tokio::time::sleep(delay).await;
            }
            Some((Ok::<_, io::Error>(piece), (pieces, slot, false)))
        },
    );
    Body::from_stream(stream)
}

/// The first half of `data` and then the end. Sent under a Content-Length
/// for the whole, so the client sees the connection close early. The pause
/// lets the head and the half reach the client before the server gives up.
pub(crate) fn cut_short(data: &[u8]) -> Body {
    let half = Bytes::copy_from_slice(&data[..data.len() / 2]);
    let stream = stream::unfold(Some(half), |half| async move {
        match half {
            Some(half) => Some((Ok::<_, io::Error>(half), None)),
            None => {
                tokio::time::sleep(FLUSH_PAUSE).await;
                None
            }
        }
    });
    Body::from_stream(stream)
}

/// A body that fails before its first byte: the server aborts the connection.
pub(crate) fn aborted() -> Body {
    Body::from_stream(stream::iter([Err::<Bytes, _>(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "simulator: injected connection drop",
    ))]))
}
