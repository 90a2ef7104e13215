//! quay-config-operator: declare Red Hat Quay configuration as Kubernetes
//! resources and keep the live registry in line with it.
#![forbid(unsafe_code)]

pub mod admin;
pub mod controller;
pub mod crd;
pub mod emulator;
pub mod engine;
pub mod gitops;
pub mod leader;
pub mod metrics;
pub mod quay;
pub mod workload;
