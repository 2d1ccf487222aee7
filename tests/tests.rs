//! The integration tests: one binary, shared helpers in `util`. They run the
//! real `audiobook` binary or the library against real files in temporary
//! folders, a real SQLite database and the real embedded engine.

mod cli;
mod cloud;
mod deliver;
mod faults;
mod manuscripts;
mod master;
mod notify;
mod pinned;
mod qa;
mod render;
mod rules;
mod schedule;
mod subtitles;
mod tags;
mod util;
mod ux;
mod voice;
