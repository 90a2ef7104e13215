//! GitOps without a cluster: `plan` and `apply` run the controllers' engine
//! on manifest files against a Quay, and `demo` shows it on the examples
//! against an in-process emulator.
//!
//! The steps: [`manifests::load`] reads the files; [`validate::validate`]
//! checks every document against its CRD (schema and CEL rules), resolves
//! the references between them and builds each resource's desired state with
//! the controllers' own conversion; [`connection::connect`] finds Quay; then
//! [`plan::plan`] observes and [`plan::apply`] writes, through the engine.
//! Nothing touches Quay unless every input is valid. [`export`] goes the
//! other way: from a live Quay to manifest files.

pub mod connection;
pub mod demo;
pub mod export;
pub mod manifests;
pub mod output;
pub mod plan;
pub mod resources;
mod schema;
pub mod validate;

use std::io::Write;
use std::path::PathBuf;

use secrecy::SecretString;

use connection::{ConnectionSettings, Endpoints, Token};
use output::Format;
use validate::Validated;

/// Why an input cannot be used: the file, the resource (`Kind/name`), the
/// field (a dotted path such as `spec.permissions[0].role`) and the message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputError {
    /// The file (empty for a problem of the command line or environment).
    pub file: String,
    /// The resource, when the problem is in one.
    pub resource: Option<String>,
    /// The field, when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl InputError {
    /// A problem with a whole file.
    pub fn file(file: String, message: String) -> Self {
        InputError {
            file,
            resource: None,
            field: None,
            message,
        }
    }

    /// A problem with the command line or environment.
    pub fn general(message: String) -> Self {
        InputError::file(String::new(), message)
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            Some(self.file.as_str()).filter(|f| !f.is_empty()),
            self.resource.as_deref(),
            self.field.as_deref(),
        ];
        for part in parts.into_iter().flatten() {
            write!(f, "{part}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// How to reach Quay, from flags and environment.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConnectionArgs {
    /// Quay's base URL. Without it, the QuayConnection manifests in the inputs
    /// say where Quay is.
    #[arg(long, env = "QUAY_URL", value_name = "URL")]
    pub quay_url: Option<String>,
    /// File holding the API token. Default: the QUAY_TOKEN environment
    /// variable, else the Secret manifest a QuayConnection names.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM file of CA certificates to trust (in addition to the system's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Skip verification of Quay's TLS certificate (testing only).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

impl ConnectionArgs {
    /// Reads the token and CA files (and QUAY_TOKEN).
    pub fn settings(&self) -> Result<ConnectionSettings, InputError> {
        let read = |path: &PathBuf, what: &str| {
            std::fs::read(path).map_err(|e| {
                InputError::general(format!("cannot read {what} {}: {e}", path.display()))
            })
        };
        let token = match &self.token_file {
            Some(path) => {
                let bytes = read(path, "--token-file")?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    InputError::general(format!("--token-file {} is not text", path.display()))
                })?;
                Some(Token {
                    value: SecretString::from(text.trim().to_owned()),
                    source: format!("--token-file {}", path.display()),
                })
            }
            None => std::env::var("QUAY_TOKEN")
                .ok()
                .filter(|t| !t.trim().is_empty())
                .map(|t| Token {
                    value: SecretString::from(t.trim().to_owned()),
                    source: "QUAY_TOKEN".to_owned(),
                }),
        };
        Ok(ConnectionSettings {
            url: self.quay_url.clone().filter(|u| !u.is_empty()),
            token,
            ca_pem: self
                .ca_file
                .as_ref()
                .map(|p| read(p, "--ca-file"))
                .transpose()?,
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
        })
    }
}

/// Arguments of `plan`.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// Manifest files or folders (searched recursively for *.yaml, *.yml, *.json).
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    pub output: Format,
    /// Exit 0 when in sync, 2 when changes are pending, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// Arguments of `apply`.
#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// Manifest files or folders (searched recursively for *.yaml, *.yml, *.json).
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    pub output: Format,
}

/// Loads, validates, connects and checks the token; on invalid inputs,
/// prints the errors to stderr. Notes on skipped documents go to stderr too.
/// Returns the inputs, the endpoints and a header naming them.
async fn prepare(
    paths: &[PathBuf],
    connection: &ConnectionArgs,
    not_done: &str,
) -> Option<(Validated, Endpoints, String)> {
    let validated = manifests::load(paths).and_then(validate::validate);
    if let Ok(validated) = &validated {
        for note in &validated.notes {
            eprintln!("note: {note}");
        }
    }
    let result = match validated {
        Ok(validated) => {
            let endpoints = connection
                .settings()
                .map_err(|e| vec![e])
                .and_then(|settings| connection::connect(&settings, &validated));
            match endpoints {
                Ok(endpoints) => match endpoints.check().await {
                    Ok(lines) => Ok((validated, endpoints, header(&lines))),
                    Err(errors) => Err(errors),
                },
                Err(errors) => Err(errors),
            }
        }
        Err(errors) => Err(errors),
    };
    match result {
        Ok(prepared) => Some(prepared),
        Err(errors) => {
            eprint!("{}", output::errors_text(&errors, not_done));
            None
        }
    }
}

/// `Quay: URL as USER (token from SOURCE)`, one line per endpoint.
fn header(lines: &[String]) -> String {
    lines.iter().map(|l| format!("Quay: {l}\n")).collect()
}

/// The call count line: `12 Quay API calls (0 writes).`
fn calls_line(endpoints: &Endpoints) -> String {
    let (calls, writes) = endpoints.calls();
    format!("{calls} Quay API calls ({writes} writes).\n")
}

fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("plans serialize to JSON")
    );
}

/// `quay-config-operator plan`: prints what `apply` would change; returns
/// the exit code.
pub async fn plan_command(args: PlanArgs) -> u8 {
    let Some((validated, endpoints, header)) =
        prepare(&args.paths, &args.connection, "nothing was planned").await
    else {
        return 1;
    };
    let plan = plan::plan(&validated, &endpoints).await;
    match args.output {
        Format::Text => print!(
            "{header}\n{}{}",
            output::plan_text(&plan),
            calls_line(&endpoints)
        ),
        Format::Json => print_json(&plan),
    }
    match (args.detailed_exitcode, plan.exit_code()) {
        (_, 1) => 1,
        (true, code) => code,
        (false, _) => 0,
    }
}

/// `quay-config-operator apply`: carries the plan out; returns the exit code.
pub async fn apply_command(args: ApplyArgs) -> u8 {
    let Some((validated, endpoints, header)) =
        prepare(&args.paths, &args.connection, "nothing was applied").await
    else {
        return 1;
    };
    let report = plan::apply(&validated, &endpoints).await;
    match args.output {
        Format::Text => print!(
            "{header}\n{}{}",
            output::apply_text(&report),
            calls_line(&endpoints)
        ),
        Format::Json => print_json(&report),
    }
    u8::from(report.failed())
}

/// `quay-config-operator demo`: returns the exit code.
pub async fn demo_command() -> u8 {
    let mut stdout = std::io::stdout();
    match demo::run(&mut stdout).await {
        Ok(_) => 0,
        Err(e) => {
            let _ = stdout.flush();
            eprintln!("error: {e}");
            1
        }
    }
}
