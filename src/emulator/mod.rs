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
//!   superuser), the configured feature flag, zero stats, no faults (the
//!   cost model and the outside-DNS setting stay as they are).
//! - `POST /__emulator/config` `{"superusers_full_access"?: bool,
//!   "mailing"?: bool, "outside_dns"?: bool, "workers"?: int, "request_cost"?:
//!   "190ms"}` → 200 with the resulting `{"superusers_full_access", "mailing",
//!   "outside_dns", "workers", "request_cost"}` (`null`s without a cost model);
//!   fields left out keep their value, `"workers": 0` or
//!   `"request_cost": "0s"` removes the cost model.
//! - `POST /__emulator/users` `{"username", "email"?, "superuser"?: bool}` → 201.
//! - `POST /__emulator/tokens` `{"username", "scopes"?: [...] (default all),
//!   "expires_in_s"?: int}` → 201 `{"token", "expires_at"}`; stands in for
//!   Quay's session sign-in and OAuth token minting.
//! - `POST /__emulator/faults` adds a rule `{"status"?, "retry_after_s"?,
//!   "latency_ms"?, "drop_connection"?: bool, "count"? | "fraction"?,
//!   "method"?, "path_prefix"?}`; `GET` lists the rules, `DELETE` clears them.
//!   Injected 5xx are Quay's HTML error page, 4xx (e.g. 429) a problem JSON.
//!
//! # FEATURE_SUPERUSERS_FULL_ACCESS
//!
//! Off by default, like Quay (`--superusers-full-access`,
//! [`EmulatorConfig::superusers_full_access`] or `POST /__emulator/config`).
//! When it is on, a superuser token with super:user passes every permission
//! check, and for organizations and repositories that do not exist the
//! emulator answers what Quay 3.18 answers then (observed in
//! `superuser-full-access.md`): empty lists (`{"notifications": []}`,
//! `{"permissions": {}}`, `{"robots": []}`, `{"policies": []}`), `200 null`
//! from changevisibility, a 500 with an empty body for a notification created
//! on a missing repository, Quay's HTML 500 page for a repository created in,
//! or deleted from, a missing namespace and for a repository permission set on
//! a missing repository, 400 `Organization does not exist: X` for robots and
//! teams created in a missing organization, and 404 elsewhere.
//!
//! # FEATURE_MAILING
//!
//! Off by default ([`EmulatorConfig::mailing`], `--mailing` or
//! `POST /__emulator/config`). Off, as recorded: `PUT`/`DELETE
//! /organization/{org}/team/{team}/invite/{email}` answer Quay's 405 HTML page
//! for any team, and a user is added to a team directly. On, as Quay's source
//! does it: the invite resource creates and deletes e-mail invitations,
//! `PUT .../members/{user}` invites (`"invited": true`) a user who is in no
//! team of the organization (robots are always added), `DELETE
//! .../members/{user}` withdraws a user's pending invitation first, and
//! `GET .../members?includePending=true` lists pending invitations after the
//! members for an organization admin. Accepting an invitation is not
//! reproduced (it needs the invitee's e-mailed code).
//!
//! # Cost model
//!
//! On a real Quay every call with a token costs 0.2–0.5 s of server CPU (a
//! bcrypt check) on one of a few workers, while the emulator answers in
//! microseconds. A [`CostModel`] makes each API call that carries a token the
//! emulator knows wait for one of `workers` workers and occupy it for
//! `request_cost` before it is handled. Calls without a known token,
//! redirects and other answers of Quay's router, injected faults and the
//! control API do not pay. Set it with `quay-config-operator emulator
//! --workers 2 --request-cost 190ms`, [`Emulator::set_cost_model`] or
//! `POST /__emulator/config`; the default is no cost. [`Stats`] records the
//! peak number of calls in the emulator at once (`peak_in_flight`: waiting for
//! a worker or being served) and of calls holding a worker (`peak_served`),
//! plus the calls answered with 4xx and 5xx.
//!
//! # Audit logs
//!
//! Every write the emulator supports appends the entry Quay 3.18 records for
//! it (same kind, same metadata keys, the three `oauth_token_*` keys of the
//! caller's token, the caller as performer, the client's IP), readable at once
//! through `/organization/{org}/logs`, `/repository/{repo}/logs`, `/user/logs`
//! and their `aggregatelogs`, with Quay's paging, date windows and errors. All
//! emulator tokens belong to the user's OAuth application "automation" (the one
//! `user/initialize` mints from). A deleted namespace takes its entries along.
//!
//! # Not reproduced
//!
//! Anything outside the API areas the operator uses (builds, tags, manifests,
//! log exports, sign-in, minting tokens from an OAuth application: the
//! applications are emulated, emulator tokens come from `/__emulator/tokens`),
//! workers (mirror syncs, notification delivery, garbage collection), and
//! storage (quota usage is always 0 bytes).

mod audit;
mod auth;
mod control;
mod cost;
mod dispatch;
mod errors;
mod faults;
mod federation_token;
mod quota_units;
mod request;
mod routes;
mod routing;
mod schema;
mod server;
mod state;
mod stats;
mod views;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use cost::CostModel;
pub use faults::FaultRule;
pub use stats::Stats;

use auth::ScopeSet;
use cost::Gate;
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
    /// Behave as Quay with FEATURE_MAILING: true (team invitations by e-mail; default false).
    #[arg(long)]
    pub mailing: bool,
    /// Behave as a Quay without outside DNS: proxy-cache upstreams never resolve
    /// ("Cannot resolve hostname"), as on the host the recordings were made on.
    #[arg(long)]
    pub no_outside_dns: bool,
    /// Cost model: calls served at once; each call with a known token holds one
    /// worker for --request-cost before it is answered (default: no cost).
    #[arg(long, value_name = "N", requires = "request_cost", value_parser = parse_workers)]
    pub workers: Option<usize>,
    /// Cost model: time one call with a known token occupies a worker (e.g.
    /// 190ms; a real Quay spends 0.2-0.5 s on its bcrypt token check).
    #[arg(long, value_name = "DURATION", requires = "workers", value_parser = humantime::parse_duration)]
    pub request_cost: Option<Duration>,
}

impl EmulatorArgs {
    /// The cost model the flags ask for, if any.
    pub fn cost_model(&self) -> Option<CostModel> {
        let (workers, request_cost) = (self.workers?, self.request_cost?);
        CostModel {
            workers,
            request_cost,
        }
        .effective()
    }
}

fn parse_workers(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("at least 1 worker is needed".to_string()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}

/// Configuration of an emulator instance.
#[derive(Clone, Debug, Default)]
pub struct EmulatorConfig {
    /// Pre-create superuser `quayadmin` with this API token (all scopes, no expiry).
    /// Without it the database starts empty and `POST /api/v1/user/initialize` works.
    pub token: Option<String>,
    /// FEATURE_SUPERUSERS_FULL_ACCESS.
    pub superusers_full_access: bool,
    /// FEATURE_MAILING: team invitations by e-mail exist, and adding a user who
    /// is not yet in the organization to a team invites them (Quay's default
    /// FEATURE_REQUIRE_TEAM_INVITE).
    pub mailing: bool,
}

/// Username of the superuser created for [`EmulatorConfig::token`].
pub const PRECREATED_SUPERUSER: &str = "quayadmin";

/// Everything the request handlers share.
pub(crate) struct Shared {
    state: Mutex<State>,
    stats: Mutex<Stats>,
    faults: Mutex<Faults>,
    /// Tokens revoked by [`Emulator::set_token_revoked`], kept to be restored.
    revoked_tokens: Mutex<HashMap<String, state::Token>>,
    /// The cost model with its workers (`None`: calls cost nothing).
    cost: Mutex<Option<Gate>>,
    /// API calls in the emulator now (waiting for a worker or being served).
    in_flight: Arc<AtomicU64>,
    /// API calls holding a worker of the cost model now.
    serving: Arc<AtomicU64>,
    config: EmulatorConfig,
    routes: Vec<Route>,
}

impl Shared {
    fn new(config: EmulatorConfig) -> Shared {
        Shared {
            state: Mutex::new(initial_state(&config)),
            stats: Mutex::new(Stats::default()),
            faults: Mutex::new(Faults::default()),
            revoked_tokens: Mutex::new(HashMap::new()),
            cost: Mutex::new(None),
            in_flight: Arc::new(AtomicU64::new(0)),
            serving: Arc::new(AtomicU64::new(0)),
            routes: routes::table(),
            config,
        }
    }

    /// Replaces the cost model; calls already waiting keep the old workers.
    fn set_cost_model(&self, model: Option<CostModel>) {
        *lock(&self.cost) = model.and_then(CostModel::effective).map(Gate::new);
    }

    fn cost_model(&self) -> Option<CostModel> {
        lock(&self.cost).as_ref().map(|gate| gate.model)
    }

    /// Back to the state right after start: empty database (plus the configured
    /// token's superuser), configured feature flag, zero stats, no faults (the
    /// outside-DNS setting stays, like the cost model).
    fn reset(&self) {
        let mut state = lock(&self.state);
        let outside_dns = state.outside_dns;
        *state = initial_state(&self.config);
        state.outside_dns = outside_dns;
        drop(state);
        *lock(&self.stats) = Stats::default();
        lock(&self.faults).clear();
        lock(&self.revoked_tokens).clear();
    }
}

fn initial_state(config: &EmulatorConfig) -> State {
    let mut state = State::new(config.superusers_full_access);
    state.mailing = config.mailing;
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

/// The emulator as an HTTP service without a listener: requests go straight
/// to its router (the fuzz target drives it this way).
pub fn service(config: EmulatorConfig) -> Router {
    app(Arc::new(Shared::new(config)))
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

    /// Restarts the server as a Quay restart does: open connections close,
    /// nothing answers for `down`, then the same address serves the same
    /// state (Quay's database survives its restarts).
    pub async fn restart(&mut self, down: Duration) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.abort();
        tokio::time::sleep(down).await;
        let listener = TcpListener::bind(self.addr).await?;
        let (shutdown, receiver) = watch::channel(false);
        self.shutdown = shutdown;
        self.task = tokio::spawn(server::run(listener, app(self.shared.clone()), receiver));
        Ok(())
    }

    /// Adds a fault rule (as `POST /__emulator/faults` does); an invalid
    /// one is refused with the reason.
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), String> {
        rule.validate()?;
        lock(&self.shared.faults).add(rule);
        Ok(())
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Revokes an API token (calls with it get 401) or, with `revoked`
    /// false, restores one revoked before. Returns whether it did anything.
    pub fn set_token_revoked(&self, token: &str, revoked: bool) -> bool {
        let mut state = lock(&self.shared.state);
        let mut parked = lock(&self.shared.revoked_tokens);
        match revoked {
            true => state
                .tokens
                .remove(token)
                .map(|t| parked.insert(token.to_owned(), t))
                .is_some(),
            false => parked
                .remove(token)
                .map(|t| state.tokens.insert(token.to_owned(), t))
                .is_some(),
        }
    }

    /// Sets the cost model (`None`, or a model with 0 workers or a zero cost:
    /// calls cost nothing, the default). Calls already waiting for a worker
    /// keep waiting for one of the previous model's workers.
    pub fn set_cost_model(&self, model: Option<CostModel>) {
        self.shared.set_cost_model(model);
    }

    /// The cost model in force.
    pub fn cost_model(&self) -> Option<CostModel> {
        self.shared.cost_model()
    }

    /// Whether upstream registry names resolve (default true). `false` makes
    /// the proxy-cache calls answer as a Quay without outside DNS does
    /// ("Cannot resolve hostname"); a reset keeps the setting.
    pub fn set_outside_dns(&self, resolves: bool) {
        lock(&self.shared.state).outside_dns = resolves;
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
    let cost_model = args.cost_model();
    let config = EmulatorConfig {
        token: args.token,
        superusers_full_access: args.superusers_full_access,
        mailing: args.mailing,
    };
    let listener = TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(config));
    shared.set_cost_model(cost_model);
    lock(&shared.state).outside_dns = !args.no_outside_dns;
    let cost = match cost_model {
        Some(model) => format!(
            "{} workers, {} per call with a token",
            model.workers,
            humantime::format_duration(model.request_cost)
        ),
        None => "none".to_string(),
    };
    tracing::info!(
        "Quay emulator listening on http://{addr} (superusers_full_access: {}, cost model: {cost})",
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    fn parse(args: &[&str]) -> Result<EmulatorArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("emulator").chain(args.iter().copied()))
            .map(|cli| cli.args)
    }

    #[test]
    fn cost_model_flags() {
        let args = parse(&["--workers", "2", "--request-cost", "190ms"]).expect("flags");
        assert_eq!(
            args.cost_model(),
            Some(CostModel {
                workers: 2,
                request_cost: Duration::from_millis(190),
            })
        );
        assert_eq!(parse(&[]).expect("no flags").cost_model(), None);
        assert_eq!(
            parse(&["--workers", "1", "--request-cost", "0s"])
                .expect("zero cost")
                .cost_model(),
            None
        );
        assert!(parse(&["--workers", "2"]).is_err(), "needs --request-cost");
        assert!(parse(&["--request-cost", "1s"]).is_err(), "needs --workers");
        assert!(parse(&["--workers", "0", "--request-cost", "1s"]).is_err());
        assert!(parse(&["--workers", "2", "--request-cost", "soon"]).is_err());
    }
}
