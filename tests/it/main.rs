//! Integration tests, in one binary so the crate is linked once.

mod emulator_control;
mod replay;
