//! Command-line entry point: the operator, the Quay emulator and the tools around them.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "quay-config-operator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the in-memory Quay emulator (for tests, demos and local development).
    Emulator(quay_config_operator::emulator::EmulatorArgs),
    /// Print the CustomResourceDefinitions as multi-document YAML (for `kubectl apply -f -`).
    #[command(visible_alias = "crds")]
    Crd,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Emulator(args) => quay_config_operator::emulator::serve(args).await,
        Command::Crd => print_crds(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Write every CRD to stdout; a closed pipe (`| head`) is not an error.
fn print_crds() -> std::io::Result<()> {
    use std::io::Write;
    let yaml = quay_config_operator::crd::to_yaml(&quay_config_operator::crd::all_crds());
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(yaml.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
