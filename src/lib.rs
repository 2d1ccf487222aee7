//! `audiobook`: a batch renderer that turns manuscripts into audiobooks.
//!
//! A TOML job file describes one book. The pipeline runs one way, each stage in
//! its own module, and a stage uses only the stages before it and the modules
//! beside the pipeline, with two deliberate exceptions: `render` drives the
//! stages after it (it calls `audio` to stitch and `report` to write the
//! manifest and run report), and `job` borrows the value type
//! `segment::Limits` for the limits it validates.
//!
//! ```text
//! job ──► manuscript ──► segment ──► store ──► render ──► audio ──► report
//!  │          │             │          │          │          │         │
//!  TOML,      files,        sentences  SQLite     scheduler  stitched  manifest,
//!  validated  encodings,    within     plan and   over a     chapter   exit code
//!  into Job   chapters,     the limits segment    Synthesizer and book
//!             paragraphs               states                WAVs
//! ```
//!
//! Beside the pipeline:
//! - [`provider`]: the `Synthesizer` contract and its implementations (the
//!   embedded eSpeak NG engine in [`provider::local`]; the Coze and
//!   Volcengine cloud clients in [`provider::coze`] and
//!   [`provider::volcengine`], each split by transport, sharing their HTTP
//!   and WebSocket plumbing in `provider::net`, their outcomes classified in
//!   one place, [`provider::classify`]; the voice list in
//!   [`provider::voices`]).
//! - [`cache`]: finished clips stored by content key, written atomically.
//! - [`pacing`]: the adaptive concurrency window the scheduler sends through.
//! - [`lock`]: one `render` at a time per state database.
//! - [`redact`]: tokens masked in every log line, whatever writes it.
//! - [`sim`]: a loopback simulator of the Coze and Volcengine TTS APIs
//!   (HTTP and WebSocket) for tests and `audiobook sim`.
//! - [`cli`]: the command line (`render`, `plan`, `status`, `retry-failed`,
//!   `validate`, `voices`, `segment`, `sim`), which maps every outcome to an
//!   exit code in one place.

mod atomic;
pub mod audio;
pub mod cache;
pub mod cli;
pub mod job;
pub mod lock;
pub mod manuscript;
pub mod pacing;
pub mod provider;
pub mod redact;
pub mod render;
pub mod report;
pub mod segment;
pub mod sim;
pub mod store;
