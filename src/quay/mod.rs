//! Typed client for the Quay API (`/api/v1`).
