//! The operator's health endpoints: `/healthz` (the process runs), `/readyz`
//! (the API answers and the CRDs were found; a standby replica waiting for the
//! leader Lease is ready too) and `/metrics` (OpenMetrics text, see [`crate::metrics`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::metrics::Metrics;

/// Flipped to ready once the controllers run.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks the operator ready.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the operator is ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Whether this replica holds the leader Lease (always, without leader election).
#[derive(Clone, Default)]
pub struct Leadership(Arc<AtomicBool>);

impl Leadership {
    /// Records whether this replica leads.
    pub fn set_leader(&self, leading: bool) {
        self.0.store(leading, Ordering::SeqCst);
    }

    /// Whether this replica leads.
    pub fn is_leader(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct AdminState {
    ready: Readiness,
    leadership: Leadership,
    counters: Arc<Metrics>,
}

impl axum::extract::FromRef<AdminState> for Readiness {
    fn from_ref(state: &AdminState) -> Self {
        state.ready.clone()
    }
}

async fn metrics(State(state): State<AdminState>) -> impl axum::response::IntoResponse {
    state
        .counters
        .set_state(state.ready.is_ready(), state.leadership.is_leader());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.counters.render(),
    )
}

async fn readyz(State(ready): State<Readiness>) -> (StatusCode, &'static str) {
    if ready.is_ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}

/// Serves the health and metrics endpoints until the process ends.
pub async fn serve(
    addr: SocketAddr,
    ready: Readiness,
    leadership: Leadership,
    counters: Arc<Metrics>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(AdminState {
            ready,
            leadership,
            counters,
        });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}
