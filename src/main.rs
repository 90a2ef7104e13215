//! Command-line entry point: the operator, the Quay emulator and the tools around them.
#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use quay_config_operator::{admin, controller, crd, emulator, gitops, leader};

#[derive(Parser)]
#[command(name = "quay-config-operator", version, about)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the operator: watch the custom resources and keep Quay in line.
    Run(RunArgs),
    /// Run the in-memory Quay emulator (for tests, demos and local development).
    Emulator(emulator::EmulatorArgs),
    /// Print the CustomResourceDefinitions as multi-document YAML (for `kubectl apply -f -`).
    #[command(visible_alias = "crds")]
    Crd,
    /// Show what applying manifest files would change in Quay (no cluster needed).
    Plan(gitops::PlanArgs),
    /// Bring Quay in line with manifest files (no cluster needed).
    Apply(gitops::ApplyArgs),
    /// Plan and apply the examples against an in-process Quay emulator.
    Demo,
    /// Write the manifests that manage organizations of a live Quay (to adopt it).
    Export(gitops::export::ExportArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Watch only these namespaces, comma-separated (default: all namespaces).
    #[arg(
        long = "namespace",
        env = "WATCH_NAMESPACE",
        value_name = "NS[,NS...]",
        value_delimiter = ','
    )]
    namespaces: Vec<String>,
    /// How often in-sync resources are checked against Quay for drift (e.g. 10m, 1h)
    /// when no change feed covers their organization.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration, env = "RESYNC_INTERVAL")]
    resync_interval: Duration,
    /// How often each managed organization's audit log is read for changes made by
    /// others, which are then observed and reverted (0s: no change feed).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, env = "CHANGE_FEED_INTERVAL")]
    change_feed_interval: Duration,
    /// How often resources whose organization has a working change feed are still
    /// checked in full (the safety net).
    #[arg(long, default_value = "6h", value_parser = humantime::parse_duration, env = "FULL_RESYNC_INTERVAL")]
    full_resync_interval: Duration,
    /// The operator's own namespace, where the token Secrets of ClusterQuayConnections live.
    #[arg(long, env = "POD_NAMESPACE")]
    operator_namespace: Option<String>,
    /// How long one Quay list answer is shared between resources of the same namespace.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    list_ttl: Duration,
    /// Parallel reconciles per kind.
    #[arg(long, default_value_t = 4)]
    concurrency: u16,
    /// Address of the /healthz, /readyz and /metrics endpoints.
    #[arg(long, default_value = "0.0.0.0:8081", env = "HEALTH_ADDR")]
    health_addr: SocketAddr,
    #[command(flatten)]
    leader_election: leader::LeaderElectionArgs,
}

impl RunArgs {
    /// The namespaces to watch, without blanks and repeats; `[None]` means all.
    fn watched_namespaces(&self) -> Vec<Option<String>> {
        let mut namespaces: Vec<String> = self
            .namespaces
            .iter()
            .map(|ns| ns.trim().to_owned())
            .filter(|ns| !ns.is_empty())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        if namespaces.is_empty() {
            vec![None]
        } else {
            namespaces.into_iter().map(Some).collect()
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command_line = matches!(
        cli.command,
        Command::Plan(_) | Command::Apply(_) | Command::Demo | Command::Export(_)
    );
    init_tracing(cli.log_format, command_line);
    let result = match cli.command {
        Command::Run(args) => run(args).await,
        Command::Emulator(args) => emulator::serve(args).await.map_err(|e| e.to_string()),
        Command::Crd => print_crds().map_err(|e| e.to_string()),
        Command::Plan(args) => return ExitCode::from(gitops::plan_command(args).await),
        Command::Apply(args) => return ExitCode::from(gitops::apply_command(args).await),
        Command::Demo => return ExitCode::from(gitops::demo_command().await),
        Command::Export(args) => return ExitCode::from(gitops::export::export_command(args).await),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stdout for the operator and the emulator; the command-line
/// tools keep stdout for their output and log warnings only, to stderr.
fn init_tracing(format: LogFormat, command_line: bool) {
    let default = if command_line { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only for a person at a terminal: files, pipes and log collectors get
    // plain text (and `NO_COLOR` turns colours off everywhere).
    let terminal = match command_line {
        true => std::io::stderr().is_terminal(),
        false => std::io::stdout().is_terminal(),
    };
    let colour = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_ansi(colour)
        .with_env_filter(filter)
        .with_writer(move || -> Box<dyn std::io::Write> {
            match command_line {
                true => Box::new(std::io::stderr()),
                false => Box::new(std::io::stdout()),
            }
        });
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(args: RunArgs) -> Result<(), String> {
    let ready = admin::Readiness::default();
    let leadership = admin::Leadership::default();
    let metrics = std::sync::Arc::new(quay_config_operator::metrics::Metrics::default());
    let health = tokio::spawn(admin::serve(
        args.health_addr,
        ready.clone(),
        leadership.clone(),
        metrics.clone(),
    ));
    let result = operate(&args, &ready, &leadership, &metrics).await;
    health.abort();
    result
}

/// Checks the CRDs, waits for the leader Lease when leader election is on,
/// then runs the controllers until SIGTERM/Ctrl-C (they shut down gracefully,
/// then the Lease is released) or until the Lease is lost (an error: exit).
///
/// The replica reports ready once the API answers and the CRDs exist, before
/// it holds the Lease: readiness means "healthy and able to lead", so a standby
/// is neither restarted nor holding up a rolling update while it waits.
async fn operate(
    args: &RunArgs,
    ready: &admin::Readiness,
    leadership: &admin::Leadership,
    metrics: &std::sync::Arc<quay_config_operator::metrics::Metrics>,
) -> Result<(), String> {
    let kube_config = kube::Config::infer()
        .await
        .map_err(|e| format!("cannot load the Kubernetes client configuration: {e}"))?;
    let client = kube::Client::try_from(kube_config.clone())
        .map_err(|e| format!("cannot reach the Kubernetes API: {e}"))?;
    let namespaces = args.watched_namespaces();
    for namespace in &namespaces {
        controller::check_crds(&client, namespace.as_deref()).await?;
    }
    let elector = if args.leader_election.enabled {
        let namespace = args
            .leader_election
            .namespace
            .clone()
            .unwrap_or_else(|| client.default_namespace().to_owned());
        let lease_client = leader::lease_client(kube_config)
            .map_err(|e| format!("cannot build the Lease client: {e}"))?;
        let elector = leader::Elector::new(
            lease_client,
            &namespace,
            leader::identity_from_env(),
            leader::LeaseTiming::default(),
        )
        .await
        .map_err(|e| error_chain(&e))?;
        Some(elector)
    } else {
        None
    };
    ready.set_ready();
    if let Some(elector) = &elector {
        tracing::info!(
            identity = elector.identity(),
            lease = leader::LEASE_NAME,
            "waiting for the leader Lease"
        );
        tokio::select! {
            () = elector.acquire() => {}
            () = shutdown_signal() => {
                tracing::info!("shutting down before acquiring the leader Lease");
                return Ok(());
            }
        }
    }
    leadership.set_leader(true);

    let settings = |namespace: Option<String>| controller::RunConfig {
        namespace,
        resync: args.resync_interval,
        list_ttl: args.list_ttl,
        concurrency: args.concurrency,
        change_feed: (!args.change_feed_interval.is_zero()).then_some(args.change_feed_interval),
        full_resync: args.full_resync_interval,
        operator_namespace: args.operator_namespace.clone(),
        metrics: metrics.clone(),
    };
    tracing::info!(namespaces = ?namespaces, resync = ?args.resync_interval, "starting controllers");
    let controllers = futures::future::join_all(
        namespaces
            .into_iter()
            .map(|namespace| controller::run(client.clone(), settings(namespace))),
    );
    let controllers = async {
        controllers.await;
    };
    match &elector {
        None => {
            controllers.await;
            Ok(())
        }
        Some(elector) => elector.lead(controllers).await.map_err(|lost| {
            format!("stepping down as leader ({lost}); exiting so that another replica takes over")
        }),
    }
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT). As PID 1 in a container the process
/// gets no default handling of SIGTERM, so a standby waiting for the Lease must
/// listen for it itself.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// An error with its sources, `outer: inner: ...`.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Write every CRD to stdout; a closed pipe (`| head`) is not an error.
fn print_crds() -> std::io::Result<()> {
    use std::io::Write;
    let yaml = crd::to_yaml(&crd::all_crds());
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(yaml.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn run_args(args: &[&str]) -> RunArgs {
        let argv = ["quay-config-operator", "run"].iter().chain(args);
        match Cli::try_parse_from(argv).expect("valid arguments").command {
            Command::Run(args) => args,
            _ => unreachable!("run"),
        }
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn namespaces_are_a_comma_separated_list() {
        let args = run_args(&["--namespace", "team-b,team-a, ,team-a"]);
        assert_eq!(
            args.watched_namespaces(),
            [Some("team-a".to_owned()), Some("team-b".to_owned())]
        );
        let args = run_args(&["--namespace", "team-a", "--namespace", "team-c"]);
        assert_eq!(args.watched_namespaces().len(), 2);
    }

    #[test]
    fn no_namespace_means_all() {
        assert_eq!(run_args(&[]).watched_namespaces(), [None]);
        assert_eq!(run_args(&["--namespace", ""]).watched_namespaces(), [None]);
    }

    #[test]
    fn leader_election_is_off_unless_asked_for() {
        assert!(!run_args(&[]).leader_election.enabled);
        let args = run_args(&[
            "--leader-election",
            "--leader-election-namespace",
            "operators",
        ]);
        assert!(args.leader_election.enabled);
        assert_eq!(args.leader_election.namespace.as_deref(), Some("operators"));
    }
}
