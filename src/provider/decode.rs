//! Audio bytes from a cloud service turned into a [`Clip`], checked: raw
//! PCM (s16le mono, what we always ask for) or a WAV file (in case a service
//! answers with one). Nothing a server sends can panic here.
//!
//! Classes: a body that looks cut short (odd PCM length, truncated WAV,
//! empty audio, broken base64) is `Transient`; audio in another format than
//! asked for (another rate, stereo, float) is `Permanent`.

use std::io::Cursor;

use base64::Engine;

use super::{Clip, ErrorClass, ProviderError};
use crate::audio::PcmFormat;

/// `bytes` as PCM, or as WAV when they start with a RIFF header.
pub(crate) fn audio(bytes: &[u8], sample_rate: u32) -> Result<Clip, ProviderError> {
    if bytes.starts_with(b"RIFF") {
        wav(bytes, sample_rate)
    } else {
        pcm(bytes, sample_rate)
    }
}

/// Raw signed 16-bit little-endian mono samples.
pub(crate) fn pcm(bytes: &[u8], sample_rate: u32) -> Result<Clip, ProviderError> {
    if bytes.is_empty() {
        return Err(ProviderError::new(
            ErrorClass::Transient,
            "the service returned no audio",
        ));
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(ProviderError::new(
            ErrorClass::Transient,
            format!(
                "the service returned {} bytes of 16-bit PCM, an odd count: the audio was cut short",
                bytes.len()
            ),
        ));
    }
    let samples = PcmFormat::samples_from_le(bytes).collect();
    Ok(Clip::new(sample_rate, samples))
}

/// A WAV file that must be mono 16-bit integer at `sample_rate`. Its
/// header is what the service says about the audio: at another rate, the
/// audio would last another time than read at ours, and the error names
/// both durations.
pub(crate) fn wav(bytes: &[u8], sample_rate: u32) -> Result<Clip, ProviderError> {
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(wav_error)?;
    let spec = reader.spec();
    // Mono 16-bit integer at any rate; another rate is told by durations below.
    if PcmFormat::of_wav(spec).is_none() {
        return Err(ProviderError::new(
            ErrorClass::Permanent,
            format!(
                "the service returned WAV audio of {}; expected {sample_rate} Hz mono 16-bit",
                PcmFormat::describe(spec)
            ),
        ));
    }
    let samples = reader
        .into_samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(wav_error)?;
    if samples.is_empty() {
        return Err(ProviderError::new(
            ErrorClass::Transient,
            "the service returned a WAV file without samples",
        ));
    }
    let clip = Clip::new(sample_rate, samples);
    if spec.sample_rate != sample_rate {
        let header_ms = clip.samples.len() as f64 * 1000.0 / f64::from(spec.sample_rate.max(1));
        return Err(duration_mismatch(
            &clip,
            header_ms,
            &format!("its WAV header ({} Hz) says", spec.sample_rate),
        ));
    }
    Ok(clip)
}

/// The share by which a clip's length may differ from what the service
/// says before it is an error: rounding, never a wrong sample rate.
const DURATION_TOLERANCE: f64 = 0.05;

/// Checks `clip` (read at its sample rate) against the duration the
/// service reports for it, in ms; `slack_ms` is audio the service may add
/// or leave out of its figure (requested trailing silence). Over 5 % off is
/// an error naming both figures: the audio is not at the rate we read it at.
pub(crate) fn check_duration(
    clip: &Clip,
    service_ms: f64,
    slack_ms: f64,
    source: &str,
) -> Result<(), ProviderError> {
    let ours = clip.duration_secs() * 1000.0;
    let within = |expected: f64| (ours - expected).abs() <= expected * DURATION_TOLERANCE + 1.0;
    if !service_ms.is_finite() || service_ms <= 0.0 || within(service_ms) {
        return Ok(());
    }
    if slack_ms > 0.0 && within(service_ms + slack_ms) {
        return Ok(());
    }
    Err(duration_mismatch(clip, service_ms, source))
}

fn duration_mismatch(clip: &Clip, service_ms: f64, source: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Permanent,
        format!(
            "the audio lasts {:.0} ms read at {} Hz, but {source} {service_ms:.0} ms; the \
             service did not answer at the requested sample rate",
            clip.duration_secs() * 1000.0,
            clip.sample_rate
        ),
    )
}

fn wav_error(e: hound::Error) -> ProviderError {
    let class = match &e {
        hound::Error::IoError(_) => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    };
    ProviderError::new(
        class,
        format!("the service returned a broken WAV file: {e}"),
    )
}

/// Standard base64, as both services send audio in JSON.
pub(crate) fn base64(text: &str) -> Result<Vec<u8>, ProviderError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| {
            ProviderError::new(
                ErrorClass::Transient,
                format!("the service returned audio that is not valid base64: {e}"),
            )
        })
}

/// At most `max` characters of a server body, on one line, for messages.
pub(crate) fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    let flat = flat.trim().to_owned();
    if text.chars().count() > max {
        format!("{flat}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut out, spec).expect("writer");
        for s in samples {
            writer.write_sample(*s).expect("sample");
        }
        writer.finalize().expect("finalize");
        out.into_inner()
    }

    #[test]
    fn pcm_is_little_endian() {
        let clip = pcm(&[0x01, 0x00, 0xff, 0xff, 0x00, 0x80], 16_000).expect("pcm");
        assert_eq!(clip.sample_rate, 16_000);
        assert_eq!(clip.samples, vec![1, -1, i16::MIN]);
    }

    #[test]
    fn odd_and_empty_pcm_are_transient() {
        let err = pcm(&[1, 2, 3], 24_000).expect_err("odd");
        assert_eq!(err.class, ErrorClass::Transient);
        assert!(err.message.contains("odd"), "{err}");
        assert_eq!(
            pcm(&[], 24_000).expect_err("empty").class,
            ErrorClass::Transient
        );
    }

    #[test]
    fn wav_at_the_right_rate() {
        let clip = audio(&wav_bytes(24_000, 1, &[5, -5]), 24_000).expect("wav");
        assert_eq!(clip.samples, vec![5, -5]);
    }

    #[test]
    fn wav_at_another_rate_or_stereo_is_permanent() {
        let err = audio(&wav_bytes(16_000, 1, &[5; 1600]), 24_000).expect_err("rate");
        assert_eq!(err.class, ErrorClass::Permanent);
        assert!(err.message.contains("16000 Hz"), "{err}");
        // Both durations: 1600 samples are 67 ms at 24 kHz, 100 ms at 16 kHz.
        assert!(
            err.message.contains("67 ms") && err.message.contains("100 ms"),
            "{err}"
        );
        let err = audio(&wav_bytes(24_000, 2, &[5, 5]), 24_000).expect_err("stereo");
        assert_eq!(err.class, ErrorClass::Permanent);
    }

    #[test]
    fn durations_within_five_percent_pass_and_beyond_name_both_figures() {
        let clip = Clip::new(24_000, vec![0; 24_000]);
        assert!(check_duration(&clip, 1000.0, 0.0, "the service says").is_ok());
        assert!(check_duration(&clip, 1040.0, 0.0, "the service says").is_ok());
        assert!(
            check_duration(&clip, 500.0, 500.0, "x").is_ok(),
            "trailing silence"
        );
        // 24 kHz audio read as 44.1 kHz: the book would be 1.84 times too fast.
        let fast = Clip::new(44_100, vec![0; 24_000]);
        let err = check_duration(&fast, 1000.0, 0.0, "the service says").expect_err("fast");
        assert_eq!(err.class, ErrorClass::Permanent);
        assert!(
            err.message.contains("544 ms") && err.message.contains("1000 ms"),
            "{err}"
        );
        assert!(err.message.contains("44100 Hz"), "{err}");
    }

    #[test]
    fn truncated_wav_is_an_error_not_a_panic() {
        let bytes = wav_bytes(24_000, 1, &[1, 2, 3, 4]);
        for cut in [12, 30, 44, bytes.len() - 1] {
            assert!(audio(&bytes[..cut], 24_000).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn invalid_base64() {
        assert_eq!(
            base64("AAABAP//AgA=").expect("valid"),
            vec![0, 0, 1, 0, 255, 255, 2, 0]
        );
        let err = base64("not base64!").expect_err("invalid");
        assert_eq!(err.class, ErrorClass::Transient);
    }

    #[test]
    fn snippets_are_short_and_flat() {
        assert_eq!(snippet(b"bad\ngateway", 100), "bad gateway");
        assert_eq!(snippet(b"abcdef", 3), "abc…");
    }
}
