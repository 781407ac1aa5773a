//! potoo: every constraint acting on a Kubernetes workload, and why. `run` dispatches to `cmd/*`.

pub mod model;
pub mod source;
