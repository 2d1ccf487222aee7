//! The embedded offline engine (eSpeak NG, pure Rust).
