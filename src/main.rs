//! potoo binary
fn main() {}
