//! The binary frames of the Volcengine WebSocket as the simulator reads
//! and writes them: the client's full request (plain or gzip, with header
//! extensions), the ACK, audio, frontend and error frames.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::Value;

use super::VolcError;

/// A decompressed request larger than this is refused (gzip bombs).
const MAX_PAYLOAD_BYTES: u64 = 1 << 20;

// ---------------------------------------------------------------- frames

/// The payload of a full client request, decompressed.
#[derive(Debug)]
pub(super) struct ClientFrame {
    pub gzip: bool,
    pub payload: Vec<u8>,
}

/// Parses `ver|hsize, type|flags, ser|comp, reserved, [ext…], u32 size, payload`.
pub(super) fn parse_client_frame(bytes: &[u8]) -> Result<ClientFrame, VolcError> {
    let bad = |why: &str| VolcError::invalid(format!("invalid request frame: {why}"));
    if bytes.len() < 4 {
        return Err(bad("shorter than its 4-byte header"));
    }
    if bytes[0] >> 4 != 0b0001 {
        return Err(bad("unknown protocol version"));
    }
    let header_len = usize::from(bytes[0] & 0x0F) * 4;
    if header_len < 4 {
        return Err(bad("header size below 4 bytes"));
    }
    if bytes[1] >> 4 != 0x1 {
        return Err(bad("expected a full client request (message type 0x1)"));
    }
    let compression = bytes[2] & 0x0F;
    if !matches!(compression, 0 | 1) {
        return Err(bad("unsupported compression"));
    }
    let rest = bytes
        .get(header_len..)
        .ok_or_else(|| bad("shorter than its header size"))?;
    let (size, payload) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| bad("missing the payload size"))?;
    if u32::from_be_bytes(*size) as usize != payload.len() {
        return Err(bad("payload size does not match the frame"));
    }
    let gzip = compression == 1;
    let payload = if gzip {
        gunzip(payload).map_err(|e| bad(&format!("cannot gunzip the payload: {e}")))?
    } else {
        payload.to_vec()
    };
    Ok(ClientFrame { gzip, payload })
}

pub(super) fn ack_frame(len: u8) -> Vec<u8> {
    let mut frame = vec![0x11, 0xB0, 0x00, 0x00];
    if len == 8 {
        frame.extend_from_slice(&0u32.to_be_bytes());
    }
    frame
}

/// Audio-only response: flags 0b0001 with a positive sequence, 0b0011 for
/// the last frame (negative sequence).
pub(super) fn audio_frame(seq: i32, payload: &[u8]) -> Vec<u8> {
    let flags = if seq < 0 { 0b0011 } else { 0b0001 };
    let mut frame = vec![0x11, 0xB0 | flags, 0x00, 0x00];
    frame.extend_from_slice(&seq.to_be_bytes());
    frame.extend_from_slice(&payload_len(payload).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// An error (0xF0, with `code`) or frontend (0xC0) frame carrying JSON.
pub(super) fn json_frame(type_byte: u8, code: Option<u32>, message: &Value, gzip: bool) -> Vec<u8> {
    let raw = message.to_string().into_bytes();
    let payload = if gzip { gzip_bytes(&raw) } else { raw };
    let mut frame = vec![0x11, type_byte, 0x10 | u8::from(gzip), 0x00];
    if let Some(code) = code {
        frame.extend_from_slice(&code.to_be_bytes());
    }
    frame.extend_from_slice(&payload_len(&payload).to_be_bytes());
    frame.extend_from_slice(&payload);
    frame
}

fn payload_len(payload: &[u8]) -> u32 {
    u32::try_from(payload.len()).unwrap_or(u32::MAX)
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(data)
        .take(MAX_PAYLOAD_BYTES + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > MAX_PAYLOAD_BYTES {
        return Err(std::io::Error::other("payload over 1 MiB"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sim_frames_have_the_documented_bytes() {
        assert_eq!(ack_frame(8), [0x11, 0xB0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(ack_frame(4), [0x11, 0xB0, 0, 0]);
        assert_eq!(
            &audio_frame(-5, &[1, 2])[..12],
            [0x11, 0xB3, 0, 0, 0xFF, 0xFF, 0xFF, 0xFB, 0, 0, 0, 2]
        );
        assert_eq!(&audio_frame(1, &[])[..4], [0x11, 0xB1, 0, 0]);
        let error = json_frame(0xF0, Some(3050), &json!({}), false);
        assert_eq!(
            &error[..12],
            [0x11, 0xF0, 0x10, 0, 0, 0, 0x0B, 0xEA, 0, 0, 0, 2]
        );
    }

    #[test]
    fn sim_client_frames_parse_plain_gzip_and_extended_headers() {
        let body = br#"{"a":1}"#;
        let mut plain = vec![0x11, 0x10, 0x10, 0x00];
        plain.extend_from_slice(&(body.len() as u32).to_be_bytes());
        plain.extend_from_slice(body);
        assert_eq!(
            parse_client_frame(&plain).map(|f| f.payload),
            Ok(body.to_vec())
        );

        let zipped = gzip_bytes(body);
        let mut gz = vec![0x12, 0x10, 0x11, 0x00, 0xAA, 0xBB, 0xCC, 0xDD];
        gz.extend_from_slice(&(zipped.len() as u32).to_be_bytes());
        gz.extend_from_slice(&zipped);
        let parsed = parse_client_frame(&gz).map(|f| (f.gzip, f.payload));
        assert_eq!(parsed, Ok((true, body.to_vec())));

        let mut wrong = plain.clone();
        wrong[7] += 1;
        assert!(parse_client_frame(&wrong).is_err());
        assert!(parse_client_frame(&[0x1F, 0x10]).is_err());
        assert!(parse_client_frame(&[0x1F, 0x10, 0x10, 0x00, 0, 0]).is_err());
    }
}
