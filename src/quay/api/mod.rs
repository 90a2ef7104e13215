//! Typed calls and models, one module per Quay API area.

pub mod application;
pub mod autoprune;
pub mod logs;
pub mod message;
pub mod mirror;
pub mod notification;
pub mod organization;
pub mod permission;
pub mod prototype;
pub mod proxycache;
pub mod quota;
pub mod repository;
pub mod robot;
pub mod team;
pub mod user;
