//! The domain model shared by adapters, index, engines and renderers.

pub mod constraint;
pub mod details;
pub mod finding;
pub mod remediation;
pub mod report;
pub mod selector;

pub use constraint::{
    Constraint, ConstraintType, Details, Effect, Scope, Severity, SourceReference,
};
pub use selector::LabelSelector;
