//! In-memory emulator of Red Hat Quay's `/api/v1` (as observed on Quay 3.18):
//! stateful, with Quay's status codes, JSON bodies, error shapes, trailing-slash
//! and permission quirks, plus a control API under `/__emulator/` for tests
//! (stats, reset, feature flag, users and tokens, fault injection).
//!
//! Use it in-process with [`Emulator::start`] or as a server with
//! `quay-config-operator emulator` ([`serve`]).
//!
//! # Control API (not part of Quay, not counted in [`Stats`])
//!
//! - `GET /__emulator/stats` → [`Stats`] as JSON.
//! - `POST /__emulator/reset` → 204: empty database (plus the `--token`
//!   superuser), the configured feature flag, zero stats, no faults.
//! - `POST /__emulator/config` `{"superusers_full_access": bool}`.
//! - `POST /__emulator/users` `{"username", "email"?, "superuser"?: bool}` → 201.
//! - `POST /__emulator/tokens` `{"username", "scopes"?: [...] (default all),
//!   "expires_in_s"?: int}` → 201 `{"token", "expires_at"}`; stands in for
//!   Quay's session sign-in and OAuth token minting.
//! - `POST /__emulator/faults` adds a rule `{"status"?, "retry_after_s"?,
//!   "latency_ms"?, "drop_connection"?: bool, "count"? | "fraction"?,
//!   "method"?, "path_prefix"?}`; `GET` lists the rules, `DELETE` clears them.
//!   Injected 5xx are Quay's HTML error page, 4xx (e.g. 429) a problem JSON.
//!
//! # Not reproduced
//!
//! Anything outside the API areas the operator uses (builds, tags, manifests,
//! logs, OAuth applications, sign-in), workers (mirror syncs, notification
//! delivery, garbage collection), and storage (quota usage is always 0 bytes).

mod auth;
mod control;
mod dispatch;
mod errors;
mod faults;
mod quota_units;
mod request;
mod routes;
mod routing;
mod schema;
mod server;
mod state;
mod stats;
mod views;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use stats::Stats;

use auth::ScopeSet;
use faults::Faults;
use routing::Route;
use state::State;

/// Command-line arguments of `quay-config-operator emulator`.
#[derive(clap::Args, Debug)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Pre-create superuser `quayadmin` whose API token is TOKEN (all scopes, no expiry).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Behave as Quay with FEATURE_SUPERUSERS_FULL_ACCESS: true (default false, like Quay).
    #[arg(long)]
    pub superusers_full_access: bool,
}

/// Configuration of an emulator instance.
#[derive(Clone, Debug, Default)]
pub struct EmulatorConfig {
    /// Pre-create superuser `quayadmin` with this API token (all scopes, no expiry).
    /// Without it the database starts empty and `POST /api/v1/user/initialize` works.
    pub token: Option<String>,
    /// FEATURE_SUPERUSERS_FULL_ACCESS.
    pub superusers_full_access: bool,
}

/// Username of the superuser created for [`EmulatorConfig::token`].
pub const PRECREATED_SUPERUSER: &str = "quayadmin";

/// Everything the request handlers share.
pub(crate) struct Shared {
    state: Mutex<State>,
    stats: Mutex<Stats>,
    faults: Mutex<Faults>,
    config: EmulatorConfig,
    routes: Vec<Route>,
}

impl Shared {
    fn new(config: EmulatorConfig) -> Shared {
        Shared {
            state: Mutex::new(initial_state(&config)),
            stats: Mutex::new(Stats::default()),
            faults: Mutex::new(Faults::default()),
            routes: routes::table(),
            config,
        }
    }

    /// Back to the state right after start: empty database (plus the configured
    /// token's superuser), configured feature flag, zero stats, no faults.
    fn reset(&self) {
        *lock(&self.state) = initial_state(&self.config);
        *lock(&self.stats) = Stats::default();
        lock(&self.faults).clear();
    }
}

fn initial_state(config: &EmulatorConfig) -> State {
    let mut state = State::new(config.superusers_full_access);
    if let Some(token) = &config.token {
        state.create_user(
            PRECREATED_SUPERUSER,
            Some(format!("{PRECREATED_SUPERUSER}@example.com")),
            true,
        );
        state.add_token(token.clone(), PRECREATED_SUPERUSER, ScopeSet::all(), None);
    }
    state
}

/// Locks a mutex, recovering the data if a previous holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn app(shared: Arc<Shared>) -> Router {
    control::router().fallback(dispatch::api).with_state(shared)
}

/// A running in-process emulator; its server stops when this is dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` with an ephemeral port.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        Emulator::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts an emulator on `addr`.
    pub async fn start_on(config: EmulatorConfig, addr: SocketAddr) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(server::run(listener, app(shared.clone()), receiver));
        Ok(Emulator {
            addr,
            shared,
            shutdown,
            task,
        })
    }

    /// Base URL, like `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Request counters (same data as `GET /__emulator/stats`).
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Zeroes the request counters.
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = Stats::default();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

/// Serves the emulator on `args.listen` until Ctrl-C or SIGTERM.
pub async fn serve(args: EmulatorArgs) -> std::io::Result<()> {
    let config = EmulatorConfig {
        token: args.token,
        superusers_full_access: args.superusers_full_access,
    };
    let listener = TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(config));
    tracing::info!(
        "Quay emulator listening on http://{addr} (superusers_full_access: {})",
        shared.config.superusers_full_access
    );
    let (shutdown, receiver) = watch::channel(false);
    let server = tokio::spawn(server::run(listener, app(shared), receiver));
    shutdown_signal().await?;
    tracing::info!("Quay emulator shutting down");
    let _ = shutdown.send(true);
    let _ = server.await;
    Ok(())
}

async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
