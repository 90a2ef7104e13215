//! `export`: reads organizations from a live Quay and writes the manifests
//! that manage them, ready to commit: `plan` of the result against the same
//! Quay finds everything in sync (once the Secrets export cannot fill, the
//! webhook URLs and mirror credentials, are filled in).
//!
//! [`read`] asks Quay (list calls, through the engine's shared views);
//! [`convert`] turns that into resources with [`names`] for Kubernetes;
//! before anything is written, every manifest is validated as `plan` would,
//! and what does not pass is left out with a note.

pub mod convert;
pub mod manifest;
pub mod names;
pub mod read;
mod repository;

use std::collections::BTreeSet;
use std::path::PathBuf;

use convert::Target;
use manifest::{Group, Manifest};
use read::Skip;

use super::connection::{self, Endpoints};
use super::validate::{Validated, validate};
use super::{ConnectionArgs, InputError};
use crate::engine::Quay;
use crate::quay::ErrorKind;

/// Arguments of `export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// An organization to export (repeat for several).
    #[arg(long = "org", value_name = "ORG", required_unless_present = "all")]
    pub organizations: Vec<String>,
    /// Export every organization the token can see: all of them with a
    /// superuser token (scope super:user), else those its user belongs to.
    #[arg(long, conflicts_with = "organizations")]
    pub all: bool,
    /// Write one file per resource into this folder, `<kind>-<name>.yaml`
    /// (default: one multi-document stream on stdout).
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Kubernetes namespace written into every manifest (default: none, the
    /// current one of kubectl; `default` for plan).
    #[arg(long, value_name = "K8S_NS")]
    pub namespace: Option<String>,
    /// QuayConnection the resources use, written as spec.connectionRef
    /// (default: none, the connection named `default`).
    #[arg(long, value_name = "NAME")]
    pub connection: Option<String>,
    /// Lists to leave unmanaged, saving their requests: permissions,
    /// auto-prune, members, federation (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub skip: Vec<Skip>,
    #[command(flatten)]
    pub quay: ConnectionArgs,
}

/// Which organizations to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// These.
    Named(Vec<String>),
    /// Every organization the token can see.
    All,
}

/// What to export, and where the resources go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The organizations.
    pub organizations: Selection,
    /// Lists left unmanaged.
    pub skip: Vec<Skip>,
    /// Namespace and connection of the resources.
    pub target: Target,
}

/// What an export produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The manifests in dependency order, each resource's Secrets before it.
    pub manifests: Vec<Manifest>,
    /// How many of them are custom resources (the others are Secrets to fill in).
    pub resources: usize,
    /// What was left out, and why (never a value).
    pub notes: Vec<String>,
}

impl Export {
    /// Every manifest as one multi-document YAML stream.
    pub fn stream(&self) -> String {
        self.manifests
            .iter()
            .map(Manifest::text)
            .collect::<Vec<_>>()
            .join("---\n")
    }

    /// Writes one file per manifest into `dir` (created if needed).
    pub fn write_to(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for manifest in &self.manifests {
            std::fs::write(dir.join(manifest.file_name()), manifest.text())?;
        }
        Ok(())
    }
}

/// Reads the organizations from Quay and builds their manifests.
pub async fn export(quay: &Quay, request: &Request) -> Result<Export, String> {
    let mut notes = Vec::new();
    let all = request.organizations == Selection::All;
    let mut states = Vec::new();
    for name in organizations(quay, &request.organizations, &mut notes).await? {
        match read::organization(quay, &name, &request.skip).await {
            Ok(Some(state)) => states.push(state),
            Ok(None) if all => notes.push(format!("organization {name}: gone while exporting")),
            Ok(None) => {
                return Err(format!(
                    "organization {name:?} does not exist, or the token cannot see it"
                ));
            }
            // With --all, an organization the token may not administer is skipped.
            Err(crate::engine::EngineError::Quay(e)) if all && e.kind == ErrorKind::Forbidden => {
                notes.push(format!(
                    "organization {name}: skipped, the token may not read it all: {e}"
                ));
            }
            Err(e) => return Err(format!("cannot read organization {name}: {e}")),
        }
    }
    let (groups, converted_notes) = convert::convert(&states, &request.target);
    notes.extend(converted_notes);
    let groups = checked(groups, &mut notes)?;
    Ok(Export {
        resources: groups.len(),
        manifests: groups.into_iter().flat_map(|g| g.manifests).collect(),
        notes,
    })
}

/// The organizations to export, sorted.
async fn organizations(
    quay: &Quay,
    selection: &Selection,
    notes: &mut Vec<String>,
) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = match selection {
        Selection::Named(names) => names.clone(),
        Selection::All => {
            let me = quay.me().await.map_err(|e| e.to_string())?;
            let listed = match me.super_user {
                true => match quay.client.list_all_organizations().await {
                    Ok(all) => Some(all),
                    Err(e) if matches!(e.kind, ErrorKind::Forbidden | ErrorKind::Unauthorized) => {
                        notes.push(format!(
                            "the superuser organization list was refused ({e}): exporting the \
                             organizations {} belongs to",
                            me.username
                        ));
                        None
                    }
                    Err(e) => return Err(format!("cannot list the organizations: {e}")),
                },
                false => None,
            };
            listed
                .unwrap_or_else(|| me.organizations.clone())
                .into_iter()
                .map(|o| o.name)
                .collect()
        }
    };
    names.sort();
    names.dedup();
    Ok(names)
}

/// Validates every manifest as `plan` would and leaves out, with a note,
/// each resource that does not pass (and then what refers to it).
fn checked(mut groups: Vec<Group>, notes: &mut Vec<String>) -> Result<Vec<Group>, String> {
    loop {
        let documents = groups
            .iter()
            .flat_map(|g| g.manifests.iter().flat_map(Manifest::stand_in))
            .collect();
        let errors: Vec<InputError> = match validate(documents) {
            Ok(Validated { .. }) => return Ok(groups),
            Err(errors) => errors,
        };
        let files: BTreeSet<&str> = errors.iter().map(|e| e.file.as_str()).collect();
        let before = groups.len();
        groups.retain(|g| {
            !g.manifests
                .iter()
                .any(|m| files.contains(m.file_name().as_str()))
        });
        if groups.len() == before {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(format!("the export is not valid: {}", errors.join("; ")));
        }
        notes.extend(errors.iter().map(|e| format!("not exported: {e}")));
    }
}

/// Checks a name given on the command line: a DNS label (namespaces) or
/// subdomain (connections).
fn check_name(flag: &str, name: &str, max: usize) -> Result<(), InputError> {
    let valid = !name.is_empty()
        && name.len() <= max
        && name.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with('-')
                && !part.ends_with('-')
                && part
                    .chars()
                    .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
        })
        && (max > 63 || !name.contains('.'));
    match valid {
        true => Ok(()),
        false => Err(InputError::general(format!(
            "{flag} {name:?} is not a valid Kubernetes name"
        ))),
    }
}

/// Quay from the flags (`--quay-url` is required: there are no manifests to
/// say where it is), with its token checked. Prints the `Quay: ...` line to stderr.
async fn endpoint(args: &ConnectionArgs) -> Result<Endpoints, Vec<InputError>> {
    let settings = args.settings().map_err(|e| vec![e])?;
    if settings.url.is_none() {
        return Err(vec![InputError::general(
            "give Quay's URL: --quay-url or QUAY_URL".to_owned(),
        )]);
    }
    let endpoints = connection::connect(&settings, &Validated::default())?;
    for line in endpoints.check().await? {
        eprintln!("Quay: {line}");
    }
    Ok(endpoints)
}

/// `quay-config-operator export`: returns the exit code.
pub async fn export_command(args: ExportArgs) -> u8 {
    let checks = [
        args.namespace
            .as_deref()
            .map(|n| check_name("--namespace", n, 63)),
        args.connection
            .as_deref()
            .map(|n| check_name("--connection", n, 253)),
    ];
    let mut errors: Vec<InputError> = checks
        .into_iter()
        .flatten()
        .filter_map(Result::err)
        .collect();
    let endpoints = match errors.is_empty() {
        true => endpoint(&args.quay)
            .await
            .map_err(|e| errors.extend(e))
            .ok(),
        false => None,
    };
    let Some(endpoints) = endpoints else {
        eprint!(
            "{}",
            super::output::errors_text(&errors, "nothing was exported")
        );
        return 1;
    };
    let request = Request {
        organizations: match args.all {
            true => Selection::All,
            false => Selection::Named(args.organizations),
        },
        skip: args.skip,
        target: Target {
            namespace: args.namespace,
            connection: args.connection,
        },
    };
    let export = match export(&endpoints.all()[0].quay, &request).await {
        Ok(export) => export,
        Err(e) => {
            eprintln!("error: {e}; nothing was exported");
            return 1;
        }
    };
    for note in &export.notes {
        eprintln!("note: {note}");
    }
    let written = match &args.output_dir {
        Some(dir) => export
            .write_to(dir)
            .map_err(|e| format!("cannot write to {}: {e}", dir.display())),
        None => {
            print!("{}", export.stream());
            Ok(())
        }
    };
    if let Err(e) = written {
        eprintln!("error: {e}");
        return 1;
    }
    let to_fill = export.manifests.len() - export.resources;
    if to_fill > 0 {
        eprintln!(
            "{to_fill} Secret{} to fill in before plan or apply (see their comments)",
            if to_fill == 1 { "" } else { "s" }
        );
    }
    eprintln!(
        "exported {} resources with {} requests to Quay",
        export.resources,
        endpoints.calls().0
    );
    0
}
