//! `audiobook`: a batch renderer that turns manuscripts into audiobooks.
//!
//! A TOML job file describes one book. The pipeline runs one way, each stage
//! in its own module; a stage uses only the stages before it and the modules
//! beside the pipeline. One deliberate exception: [`render`] drives the
//! stages after it for one job (it calls [`stitch`] and then [`deliver`],
//! which call [`audio`] and [`report`]), so a caller renders a job with one
//! call.
//!
//! ```text
//! job ─► manuscript ─► segment ─► plan ─► store ─► render ─► stitch ─► deliver ─► report
//!  │        │             │         │       │        │         │         │          │
//!  TOML,    files,        sentences content SQLite  scheduler chapter   MP3, M4B,  manifest,
//!  checked  encodings,    within    keys,   plan,   retries,  layouts,  FLAC, WAV, run
//!  into a   chapters,     the       finger- states, the       streams   tags,      report
//!  Job      paragraphs    limits    prints  runs    window    (audio)   subtitles
//! ```
//!
//! The stages:
//! - [`job`]: the job file, parsed and validated into a [`job::Job`].
//! - [`manuscript`]: reading files (EPUB, DOCX, Markdown, plain text),
//!   encodings, chapters and paragraphs, and what documented rules removed.
//! - [`segment`]: sentence segments within the limits (Chinese and English).
//! - [`plan`]: the segments with their content keys, made a paragraph at a
//!   time as they are read ([`plan::Plan`], with the digest of its inputs
//!   that lets an unchanged job skip planning), so no command holds a book's
//!   segments; the one place that says what a clip is
//!   ([`plan::Fingerprint`], [`plan::ContentKey`]) and whether a chapter
//!   file is up to date (stitch keys). It applies the pronunciation
//!   [`lexicon`] to what is sent, so the key is of the text as spoken.
//! - [`store`]: the state database: plan (recorded as it streams, rolled
//!   back when a stop is asked for), segment states, clips, runs, and the
//!   one pass over a book's segments and clips that a render's clip check
//!   makes every chapter's stitch key in.
//! - [`render`]: the scheduler that runs pending segments through a
//!   [`provider::Synthesizer`] in the adaptive window, retries waiting in a
//!   delay queue, states committed in groups by the store's writer task;
//!   each chapter stitched and delivered as soon as it is complete, while
//!   the later ones are still being synthesised.
//! - [`stitch`]: which chapters are complete (an unchanged one settled by
//!   the small summary recorded beside its layout), their trimmed layout, gain
//!   and QA measurement (in parallel across cores), stitch keys, a
//!   chapter's mastered samples as a stream, and the manifest's chapters;
//!   a chapter's per-segment data is recorded as soon as it is measured
//!   and read back a chapter at a time ([`stitch::record`]), so no stage
//!   holds a book's segments.
//! - [`deliver`]: the files a publisher uploads, encoded in parallel from
//!   the mastered chapter streams: MP3, M4B, FLAC, WAV, with tags, cover and
//!   chapter marks; subtitles, `proof.csv` and `manifest.json` written a
//!   chapter at a time; the QA files, each MP3 and M4B
//!   judged as decoded; the delivery keys that make reruns encode only what
//!   changed.
//! - [`audio`]: the one owner of the PCM/WAV format ([`audio::PcmFormat`]);
//!   clip edges ([`audio::edges`]), the trimmed chapter layout
//!   ([`audio::layout`]), the chapter stream, and audio files read back
//!   for measuring ([`audio::decode`]: WAV, FLAC, MP3, M4B).
//! - [`master`]: measuring and mastering a chapter stream to a profile
//!   (gain, true-peak limiter, room tone; [`master::meter`],
//!   [`master::limiter`]) and the QA verdict per file ([`master::qa`]),
//!   which `audiobook check` shares.
//! - [`report`]: `manifest.json` and `report.json`, and run outcomes.
//!
//! Beside the pipeline (any stage may use them; of the stages they use
//! only `job`'s configuration types and [`audio::PcmFormat`]):
//! - [`provider`]: the `Synthesizer` contract and its implementations (the
//!   embedded eSpeak NG engine in [`provider::local`], which normalises
//!   numbers and notes first in [`provider::local::normalize`]; the Coze and
//!   Volcengine cloud clients in [`provider::coze`] and
//!   [`provider::volcengine`], each split by transport, sharing their HTTP
//!   and WebSocket plumbing in `provider::net`, their outcomes classified in
//!   one table, [`provider::classify`]; resampling to the job's rate in
//!   `provider::resample`; the voice list in [`provider::voices`]).
//! - [`cache`]: finished clips stored by content key, written atomically, as
//!   FLAC (older WAV clips still read); [`cache::ClipReader`] is the one way
//!   to read a clip's samples.
//! - [`pacing`]: the adaptive concurrency window the scheduler sends through.
//! - [`lock`]: one `render` at a time per state database.
//! - [`redact`]: tokens masked in every log line, whatever writes it.
//! - `atomic`: the one way a file is replaced (temp file, fsync, rename).
//! - [`numerals`]: Roman numerals, read one way (chapter checks, the
//!   embedded engine's normaliser).
//! - [`lexicon`]: the pronunciation lexicon (CSV), matched whole-word;
//!   parsed and checked by `job`, applied by `plan`.
//! - [`workers`]: the rayon pool of CPU workers (measuring, mastering,
//!   encoding), built when first needed, nicer than the runtime's threads,
//!   which send the requests.
//!
//! Outside it: [`sim`], a loopback simulator of the Coze and Volcengine TTS
//! APIs (HTTP and WebSocket) for tests and `audiobook sim`; and [`cli`], the
//! command line (one file per command), which wires the stages together and
//! maps every outcome to an exit code in one place.

mod atomic;
pub mod audio;
pub mod cache;
pub mod cli;
pub mod deliver;
pub mod job;
pub mod lexicon;
pub mod lock;
pub mod manuscript;
pub mod master;
pub mod numerals;
pub mod pacing;
pub mod plan;
pub mod provider;
pub mod redact;
pub mod render;
pub mod report;
pub mod segment;
pub mod sim;
pub mod stitch;
pub mod store;
pub mod workers;
