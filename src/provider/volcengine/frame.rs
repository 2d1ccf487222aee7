//! The Volcengine `ws_binary` framing (`tts-protocols.md` section 6): a
//! 4-byte header (version and header size, message type and flags,
//! serialization and compression), then big-endian fields by type. Encoding
//! the one client request and decoding every server frame live here, so the
//! byte-level rules are tested on their own.
//!
//! Decoding never panics and never slices out of bounds: a length field
//! larger than the frame, a header cut short or a payload that does not
//! gunzip is a [`FrameError`].

use std::fmt;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

const VERSION_AND_HEADER_SIZE: u8 = 0x11;
const FULL_CLIENT_REQUEST: u8 = 0x1;
const AUDIO_ONLY_RESPONSE: u8 = 0xB;
const FRONTEND_RESPONSE: u8 = 0xC;
const ERROR_RESPONSE: u8 = 0xF;
const SERIALIZATION_RAW: u8 = 0x0;
const SERIALIZATION_JSON: u8 = 0x1;
const COMPRESSION_NONE: u8 = 0x0;
const COMPRESSION_GZIP: u8 = 0x1;
/// A gunzipped payload larger than this is refused, not allocated.
const MAX_INFLATED: u64 = 16 * 1024 * 1024;

/// A frame that does not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError(pub String);

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed frame: {}", self.0)
    }
}

impl std::error::Error for FrameError {}

fn malformed(what: impl Into<String>) -> FrameError {
    FrameError(what.into())
}

/// One decoded server frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFrame {
    /// Audio-only with flags 0: the server took the request.
    Ack,
    /// An audio chunk; `last` when the sequence is negative (flags 2 or 3).
    Audio {
        sequence: i32,
        payload: Vec<u8>,
        last: bool,
    },
    /// Frontend (timestamp) JSON, already gunzipped.
    Frontend(Vec<u8>),
    /// An error: the frame's code (3xxx) and its message, gunzipped.
    Error { code: u32, message: String },
    /// Any other message type (e.g. the deprecated 0x9), skipped.
    Other { message_type: u8 },
}

/// The one client request: JSON, gzip-compressed when `gzip`.
pub fn encode_request(json: &[u8], gzip: bool) -> Vec<u8> {
    let (compression, payload) = if gzip {
        (COMPRESSION_GZIP, gzip_bytes(json))
    } else {
        (COMPRESSION_NONE, json.to_vec())
    };
    let header = [
        VERSION_AND_HEADER_SIZE,
        FULL_CLIENT_REQUEST << 4,
        (SERIALIZATION_JSON << 4) | compression,
        0x00,
    ];
    frame_with_size(header, &[], &payload)
}

/// The JSON of a client request frame (the simulator's side, and tests).
pub fn decode_request(frame: &[u8]) -> Result<Vec<u8>, FrameError> {
    let (header, body) = split_header(frame)?;
    if header.message_type != FULL_CLIENT_REQUEST {
        return Err(malformed(format!(
            "expected a full client request, got message type {:#x}",
            header.message_type
        )));
    }
    let (payload, _) = sized(body, 0)?;
    header.inflate(payload)
}

/// Decodes one server frame.
pub fn decode_server(frame: &[u8]) -> Result<ServerFrame, FrameError> {
    let (header, body) = split_header(frame)?;
    match header.message_type {
        AUDIO_ONLY_RESPONSE => audio_frame(header.flags, body),
        FRONTEND_RESPONSE => {
            let (payload, _) = sized(body, 0)?;
            Ok(ServerFrame::Frontend(header.inflate(payload)?))
        }
        ERROR_RESPONSE => {
            let code = read_u32(body, 0)?;
            let (payload, _) = sized(body, 4)?;
            let message = header.inflate(payload)?;
            Ok(ServerFrame::Error {
                code,
                message: String::from_utf8_lossy(&message).into_owned(),
            })
        }
        message_type => Ok(ServerFrame::Other { message_type }),
    }
}

/// Audio-only: flags 0 is the ACK (4 bytes, or 8 with a zero size: both
/// seen); flags 1 carries a chunk; flags 2/3 (or a negative sequence) the last.
fn audio_frame(flags: u8, body: &[u8]) -> Result<ServerFrame, FrameError> {
    if flags == 0 {
        return Ok(ServerFrame::Ack);
    }
    let sequence = read_u32(body, 0)? as i32;
    let (payload, _) = sized(body, 4)?;
    Ok(ServerFrame::Audio {
        sequence,
        payload: payload.to_vec(),
        last: flags & 0b0010 != 0 || sequence < 0,
    })
}

struct Header {
    message_type: u8,
    flags: u8,
    compression: u8,
}

impl Header {
    fn inflate(&self, payload: &[u8]) -> Result<Vec<u8>, FrameError> {
        match self.compression {
            COMPRESSION_NONE => Ok(payload.to_vec()),
            COMPRESSION_GZIP => gunzip(payload),
            other => Err(malformed(format!("unknown compression {other:#x}"))),
        }
    }
}

/// The header and what follows it; the header-size nibble counts 4-byte
/// words, so extensions are skipped.
fn split_header(frame: &[u8]) -> Result<(Header, &[u8]), FrameError> {
    if frame.len() < 4 {
        return Err(malformed(format!(
            "{} bytes, shorter than a header",
            frame.len()
        )));
    }
    let header_size = usize::from(frame[0] & 0x0F) * 4;
    if header_size < 4 {
        return Err(malformed("header size 0"));
    }
    let body = frame
        .get(header_size..)
        .ok_or_else(|| malformed(format!("header size {header_size} exceeds the frame")))?;
    let header = Header {
        message_type: frame[1] >> 4,
        flags: frame[1] & 0x0F,
        compression: frame[2] & 0x0F,
    };
    Ok((header, body))
}

fn read_u32(body: &[u8], at: usize) -> Result<u32, FrameError> {
    let bytes = body
        .get(at..at + 4)
        .ok_or_else(|| malformed(format!("frame ends before the field at byte {at}")))?;
    Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// A `u32` size at `at` and the payload it announces; bytes after it are
/// returned too (and ignored by callers).
fn sized(body: &[u8], at: usize) -> Result<(&[u8], &[u8]), FrameError> {
    let size = read_u32(body, at)? as usize;
    let start = at + 4;
    let rest = &body[start.min(body.len())..];
    if size > rest.len() {
        return Err(malformed(format!(
            "size field says {size} bytes, the frame has {}",
            rest.len()
        )));
    }
    Ok(rest.split_at(size))
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|e| malformed(format!("payload does not gunzip: {e}")))?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(malformed("gunzipped payload over 16 MiB"));
    }
    Ok(out)
}

fn frame_with_size(header: [u8; 4], fields: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(12 + fields.len() + payload.len());
    frame.extend_from_slice(&header);
    frame.extend_from_slice(fields);
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// The ACK as the simulator should send it (8 bytes) or the short form.
pub fn encode_ack(with_size: bool) -> Vec<u8> {
    let mut frame = vec![
        VERSION_AND_HEADER_SIZE,
        AUDIO_ONLY_RESPONSE << 4,
        0x00,
        0x00,
    ];
    if with_size {
        frame.extend_from_slice(&0u32.to_be_bytes());
    }
    frame
}

/// An audio chunk; a negative sequence marks the last one (flags 0b0011,
/// as real servers send).
pub fn encode_audio(sequence: i32, payload: &[u8]) -> Vec<u8> {
    let flags = if sequence < 0 { 0b0011 } else { 0b0001 };
    let header = [
        VERSION_AND_HEADER_SIZE,
        (AUDIO_ONLY_RESPONSE << 4) | flags,
        SERIALIZATION_RAW << 4,
        0x00,
    ];
    frame_with_size(header, &sequence.to_be_bytes(), payload)
}

/// An error frame with a JSON message, gzip-compressed when `gzip`.
pub fn encode_error(code: u32, message: &str, gzip: bool) -> Vec<u8> {
    let (compression, payload) = compress(message.as_bytes(), gzip);
    let header = [
        VERSION_AND_HEADER_SIZE,
        ERROR_RESPONSE << 4,
        (SERIALIZATION_JSON << 4) | compression,
        0x00,
    ];
    frame_with_size(header, &code.to_be_bytes(), &payload)
}

/// A frontend (timestamp) frame.
pub fn encode_frontend(json: &[u8], gzip: bool) -> Vec<u8> {
    let (compression, payload) = compress(json, gzip);
    let header = [
        VERSION_AND_HEADER_SIZE,
        FRONTEND_RESPONSE << 4,
        (SERIALIZATION_JSON << 4) | compression,
        0x00,
    ];
    frame_with_size(header, &[], &payload)
}

fn compress(bytes: &[u8], gzip: bool) -> (u8, Vec<u8>) {
    if gzip {
        (COMPRESSION_GZIP, gzip_bytes(bytes))
    } else {
        (COMPRESSION_NONE, bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_header_and_round_trip() {
        let json = br#"{"request":{"operation":"submit"}}"#;
        let frame = encode_request(json, true);
        assert_eq!(&frame[..4], &[0x11, 0x10, 0x11, 0x00]);
        let size = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) as usize;
        assert_eq!(size, frame.len() - 8, "size is after compression");
        assert_eq!(decode_request(&frame).expect("decode"), json.to_vec());
        let plain = encode_request(json, false);
        assert_eq!(&plain[..4], &[0x11, 0x10, 0x10, 0x00]);
        assert_eq!(&plain[8..], json);
        assert_eq!(decode_request(&plain).expect("decode"), json.to_vec());
    }

    #[test]
    fn ack_of_four_or_eight_bytes() {
        assert_eq!(decode_server(&encode_ack(true)), Ok(ServerFrame::Ack));
        assert_eq!(decode_server(&encode_ack(false)), Ok(ServerFrame::Ack));
        assert_eq!(encode_ack(true), vec![0x11, 0xB0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn audio_chunks_and_the_last_one() {
        let chunk = [0x11, 0xB1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0xAA, 0xBB];
        assert_eq!(
            decode_server(&chunk),
            Ok(ServerFrame::Audio {
                sequence: 1,
                payload: vec![0xAA, 0xBB],
                last: false
            })
        );
        // The composed example of the protocol notes: seq -5, flags 0b0011.
        let mut last = vec![0x11, 0xB3, 0, 0, 0xFF, 0xFF, 0xFF, 0xFB, 0, 0, 0, 3];
        last.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            decode_server(&last),
            Ok(ServerFrame::Audio {
                sequence: -5,
                payload: vec![1, 2, 3],
                last: true
            })
        );
        for sequence in [1, 7, -8] {
            let frame = encode_audio(sequence, &[9; 10]);
            match decode_server(&frame).expect("decode") {
                ServerFrame::Audio {
                    sequence: s, last, ..
                } => {
                    assert_eq!(s, sequence);
                    assert_eq!(last, sequence < 0);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // Flags 2 with an empty payload ends the stream too.
        let empty_last = [0x11, 0xB2, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];
        assert!(matches!(
            decode_server(&empty_last),
            Ok(ServerFrame::Audio { last: true, ref payload, .. }) if payload.is_empty()
        ));
    }

    #[test]
    fn error_frames_raw_and_gzip() {
        let message = r#"{"reqid":"r","code":3050,"message":"voice_type not found"}"#;
        for gzip in [false, true] {
            let frame = encode_error(3050, message, gzip);
            assert_eq!(
                decode_server(&frame),
                Ok(ServerFrame::Error {
                    code: 3050,
                    message: message.to_owned()
                }),
                "gzip {gzip}"
            );
        }
        let raw = encode_error(3050, "x", false);
        assert_eq!(&raw[..8], &[0x11, 0xF0, 0x10, 0x00, 0x00, 0x00, 0x0B, 0xEA]);
    }

    #[test]
    fn frontend_frames_decode_and_other_types_pass() {
        let json = br#"{"frontend":"{\"words\":[]}"}"#;
        for gzip in [false, true] {
            assert_eq!(
                decode_server(&encode_frontend(json, gzip)),
                Ok(ServerFrame::Frontend(json.to_vec()))
            );
        }
        let deprecated = [0x11, 0x90, 0x10, 0x00, 0, 0, 0, 0];
        assert_eq!(
            decode_server(&deprecated),
            Ok(ServerFrame::Other { message_type: 0x9 })
        );
    }

    #[test]
    fn header_size_nibble_skips_extensions() {
        // Header size 2 words: 4 extension bytes before the fields.
        let frame = [
            0x12, 0xB1, 0, 0, 0xEE, 0xEE, 0xEE, 0xEE, 0, 0, 0, 1, 0, 0, 0, 1, 7,
        ];
        assert_eq!(
            decode_server(&frame),
            Ok(ServerFrame::Audio {
                sequence: 1,
                payload: vec![7],
                last: false
            })
        );
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let cases: &[&[u8]] = &[
            &[],
            &[0x11, 0xB1],
            &[0x10, 0xB1, 0, 0],                               // header size 0
            &[0x1F, 0xB1, 0, 0, 0, 0],                         // header larger than frame
            &[0x11, 0xB1, 0, 0, 0, 0, 0],                      // sequence cut short
            &[0x11, 0xB1, 0, 0, 0, 0, 0, 1, 0, 0],             // size cut short
            &[0x11, 0xB1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2], // size beyond the frame
            &[0x11, 0xB1, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF], // huge size
            &[0x11, 0xF0, 0x10, 0, 0, 0, 0x0B],                // error code cut short
            &[0x11, 0xF0, 0x10, 0, 0, 0, 0x0B, 0xEA, 0, 0, 0, 5, b'x'], // message cut short
            &[0x11, 0xF0, 0x11, 0, 0, 0, 0x0B, 0xEA, 0, 0, 0, 2, 1, 2], // not gzip
            &[0x11, 0xC0, 0x10, 0, 0, 0, 1, 0],                // frontend size beyond
            &[0x11, 0xC0, 0x1E, 0, 0, 0, 0, 0],                // unknown compression
        ];
        for frame in cases {
            let err = decode_server(frame).expect_err("malformed");
            assert!(err.to_string().starts_with("malformed frame"), "{err}");
        }
        assert!(decode_request(&[0x11, 0xB0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
