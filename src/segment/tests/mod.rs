//! Unit tests for the segmenter: one file per kind of proof.

mod corpus;
mod golden;
mod props;
mod rules;
