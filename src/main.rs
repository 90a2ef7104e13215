//! Command-line entry point: the operator, the Quay emulator and the tools around them.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use quay_config_operator::{admin, controller, crd, emulator};

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
}

#[derive(clap::Args)]
struct RunArgs {
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "WATCH_NAMESPACE")]
    namespace: Option<String>,
    /// How often in-sync resources are checked against Quay for drift (e.g. 10m, 1h).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration, env = "RESYNC_INTERVAL")]
    resync_interval: Duration,
    /// How long one Quay list answer is shared between resources of the same namespace.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    list_ttl: Duration,
    /// Parallel reconciles per kind.
    #[arg(long, default_value_t = 4)]
    concurrency: u16,
    /// Address of the /healthz and /readyz endpoints.
    #[arg(long, default_value = "0.0.0.0:8081", env = "HEALTH_ADDR")]
    health_addr: SocketAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let result = match cli.command {
        Command::Run(args) => run(args).await,
        Command::Emulator(args) => emulator::serve(args).await.map_err(|e| e.to_string()),
        Command::Crd => print_crds().map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(args: RunArgs) -> Result<(), String> {
    let ready = admin::Readiness::default();
    let health = tokio::spawn(admin::serve(args.health_addr, ready.clone()));
    let client = kube::Client::try_default()
        .await
        .map_err(|e| format!("cannot reach the Kubernetes API: {e}"))?;
    controller::check_crds(&client).await?;
    let config = controller::RunConfig {
        namespace: args.namespace,
        resync: args.resync_interval,
        list_ttl: args.list_ttl,
        concurrency: args.concurrency,
    };
    tracing::info!(namespace = ?config.namespace, resync = ?config.resync, "starting controllers");
    ready.set_ready();
    controller::run(client, config).await;
    health.abort();
    Ok(())
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
