//! The Kubernetes-free reconcile engine: observe the live Quay object, diff
//! it against the desired state, and carry out the changes. Controllers and
//! the command-line `plan`/`apply` both drive it; it knows nothing of
//! Kubernetes. Adding a kind means implementing [`Managed`] for its desired
//! state in a module of its own.

pub mod autoprune;
mod cache;
pub mod credentials;
mod driver;
mod error;
pub mod feed;
pub mod global_message;
pub mod mirror;
pub mod notification;
pub mod oauth_application;
pub mod organization;
pub mod permissions;
pub mod prototypes;
pub mod proxy_cache;
mod quay;
pub mod quota;
mod replace;
pub mod repository;
pub mod robot;
pub mod team;
pub mod user_namespace;

pub use driver::{FieldChange, Managed, Mode, Report, delete, reconcile};
pub use error::{EngineError, ErrorClass};
pub use quay::{DEFAULT_LIST_TTL, Quay};
