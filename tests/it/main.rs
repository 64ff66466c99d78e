//! One integration-test binary: the CLI end to end, weights, the zoo, and conformance against
//! the official code's reference tensors (when ../shared/reference is present).

mod util;

mod conformance;
mod engine;
mod linking;
mod meta;
mod weights;
mod zoo;
