//! Unit tests for the segmenter: one file per kind of proof.

mod golden;
mod props;
mod rules;
mod corpus;
