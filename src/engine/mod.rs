//! Engines compute answers from a Snapshot and its constraints; they do no I/O.

pub mod query;
pub mod status;
