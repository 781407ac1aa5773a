//! Engines compute answers from a Snapshot and its constraints; they do no I/O.

pub mod admission;
pub mod cel;
pub mod explain;
pub mod network;
pub mod query;
pub mod status;
pub mod test_suite;
