//! Integration tests, in one binary so the crate is linked once.

mod crds_in_sync;
