//! Typed client for the Quay API (`/api/v1`). The only place that speaks
//! HTTP to Quay; it knows nothing of Kubernetes.

pub mod api;
mod client;
mod error;
pub mod retry;

pub use client::{
    CallCounters, CallObserver, ClientOptions, MAX_IN_FLIGHT, QuayClient, route_template,
};
pub use error::{ErrorKind, QuayError};
pub use retry::RetryPolicy;
