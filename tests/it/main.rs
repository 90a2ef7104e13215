//! Integration tests, in one binary so the crate is linked once.

mod apiserver;
mod chart;
mod contract;
mod controller;
mod crd_rules;
mod crds_in_sync;
mod e2e;
mod emulator_control;
mod emulator_full_access;
mod emulator_logs;
mod engine;
mod export;
mod gitops;
mod hostile;
mod logs;
mod replay;
mod soak;
