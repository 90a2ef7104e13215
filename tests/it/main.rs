//! Integration tests, in one binary so the crate is linked once.

mod replay;
