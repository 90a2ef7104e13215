//! `plan` and `apply`: the engine's observe and apply modes over the
//! validated resources, in dependency order.

use serde::Serialize;

use super::connection::Endpoints;
use super::resources::Kind;
use super::validate::{Resource, Validated};
use crate::engine::{EngineError, FieldChange, Mode};

/// What `plan` found for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Missing in Quay: would be created.
    Create,
    /// Differs in Quay: would be updated.
    Update,
    /// Matches.
    InSync,
    /// `managementPolicy: ObserveOnly`: only observed, never changed.
    Observe,
    /// Quay could not be asked (e.g. the token lacks a permission).
    Error,
}

/// One resource of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanEntry {
    /// Its kind.
    pub kind: Kind,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// The Quay object, as the engine names it (e.g. `repository acme/app`).
    pub quay_object: String,
    /// What would happen.
    pub action: Action,
    /// The object exists in Quay.
    pub exists: bool,
    /// It exists and the operator has no record of it (no `status.origin`):
    /// it would be taken over.
    pub adopted: bool,
    /// The differences, field by field (secrets masked); for observe-only
    /// resources, the drift.
    pub changes: Vec<FieldChange>,
    /// What the creation waits for (something the plan creates first, or
    /// that must appear in Quay), e.g. `repository acme/app`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
    /// Quay's answer, when the resource could not be observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PlanEntry {
    /// `Kind/name`, plus the namespace when it is not `default`.
    pub fn label(&self) -> String {
        super::validate::label(self.kind, &self.namespace, &self.name)
    }
}

/// Counts of a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    /// Resources to create.
    pub create: usize,
    /// Resources to update.
    pub update: usize,
    /// Resources in sync.
    pub in_sync: usize,
    /// Observe-only resources.
    pub observed: usize,
    /// Resources that could not be observed.
    pub errors: usize,
}

/// What `plan` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// One entry per resource, in dependency order.
    pub resources: Vec<PlanEntry>,
    /// The counts.
    pub summary: PlanSummary,
}

impl Plan {
    /// Whether applying would change anything.
    pub fn has_changes(&self) -> bool {
        self.summary.create + self.summary.update > 0
    }

    /// The `--detailed-exitcode` code: 0 in sync, 2 changes pending, 1 error.
    pub fn exit_code(&self) -> u8 {
        match (self.summary.errors, self.has_changes()) {
            (0, false) => 0,
            (0, true) => 2,
            _ => 1,
        }
    }
}

/// Observes every resource (read calls only) and says what `apply` would do.
pub async fn plan(validated: &Validated, endpoints: &Endpoints) -> Plan {
    let mut resources = Vec::with_capacity(validated.resources.len());
    for (i, resource) in validated.resources.iter().enumerate() {
        resources.push(observe(resource, endpoints, i).await);
    }
    let mut summary = PlanSummary::default();
    for entry in &resources {
        match entry.action {
            Action::Create => summary.create += 1,
            Action::Update => summary.update += 1,
            Action::InSync => summary.in_sync += 1,
            Action::Observe => summary.observed += 1,
            Action::Error => summary.errors += 1,
        }
    }
    Plan { resources, summary }
}

async fn observe(resource: &Resource, endpoints: &Endpoints, i: usize) -> PlanEntry {
    let mut entry = PlanEntry {
        kind: resource.kind,
        namespace: resource.namespace.clone(),
        name: resource.name.clone(),
        file: resource.file.clone(),
        quay_object: resource.desired.describe(),
        action: Action::Create,
        exists: false,
        adopted: false,
        changes: Vec::new(),
        waits_for: None,
        error: None,
    };
    let quay = &endpoints.of(i).quay;
    // Quay answers an unknown token as if anonymous: without this check,
    // everything would look absent. One call per endpoint.
    if let Err(e) = quay.me().await {
        entry.action = Action::Error;
        entry.error = Some(format!("the token does not work: {e}"));
        return entry;
    }
    match resource.desired.reconcile(quay, Mode::Observe).await {
        Ok(outcome) => {
            entry.exists = outcome.existed;
            entry.adopted = outcome.existed && resource.origin.is_none();
            entry.action = match (resource.observe_only, outcome.existed) {
                (true, _) => Action::Observe,
                (false, false) => Action::Create,
                (false, true) if outcome.changes.is_empty() => Action::InSync,
                (false, true) => Action::Update,
            };
            entry.changes = outcome.changes;
        }
        // Its parent (an organization, a repository) does not exist yet.
        Err(EngineError::Waiting { what }) => {
            entry.action = match resource.observe_only {
                true => Action::Observe,
                false => Action::Create,
            };
            entry.waits_for = Some(what);
        }
        Err(e) => {
            entry.action = Action::Error;
            entry.error = Some(e.to_string());
        }
    }
    entry
}

/// What `apply` did to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "message")]
pub enum Applied {
    /// Created in Quay.
    Created,
    /// Updated (and adopted, when the plan said so).
    Updated,
    /// Nothing to do.
    InSync,
    /// Observe-only: looked at, not changed.
    Observed,
    /// Not done; Quay's message, or what it still waits for.
    Failed(String),
}

/// One resource of an apply run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyEntry {
    /// The plan for it, made just before (its changes are the ones written).
    pub plan: PlanEntry,
    /// What was done.
    pub applied: Applied,
    /// What it waited for (e.g. `team acme/developers`) in earlier passes.
    pub waited_for: Vec<String>,
}

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// One entry per resource, in dependency order.
    pub resources: Vec<ApplyEntry>,
    /// How many passes over the resources waiting for others it took.
    pub passes: usize,
    /// Controller work not done because it needs a cluster.
    pub skipped: Vec<Skipped>,
}

/// Controller work not done for one resource because it needs a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// `Kind/name`.
    pub resource: String,
    /// What was not done, e.g. `credentials Secret ci-pusher-robot`.
    pub work: Vec<String>,
}

impl ApplyReport {
    /// Whether anything failed.
    pub fn failed(&self) -> bool {
        self.resources
            .iter()
            .any(|r| matches!(r.applied, Applied::Failed(_)))
    }

    /// How many resources ended in `applied`'s variant.
    pub fn count(&self, matches: impl Fn(&Applied) -> bool) -> usize {
        self.resources
            .iter()
            .filter(|r| matches(&r.applied))
            .count()
    }
}

/// Plans, then carries out the creates and updates in dependency order. A
/// resource waiting for another (e.g. an organization's default permission
/// naming a team created after it) is retried in a later pass, as long as
/// passes make progress.
pub async fn apply(validated: &Validated, endpoints: &Endpoints) -> ApplyReport {
    let plan = plan(validated, endpoints).await;
    let mut entries: Vec<ApplyEntry> = plan
        .resources
        .into_iter()
        .map(|plan| {
            let applied = match plan.action {
                Action::InSync => Applied::InSync,
                Action::Observe => Applied::Observed,
                Action::Error => Applied::Failed(plan.error.clone().unwrap_or_default()),
                // Set by the first pass below.
                Action::Create | Action::Update => Applied::Failed("not attempted".to_owned()),
            };
            ApplyEntry {
                plan,
                applied,
                waited_for: Vec::new(),
            }
        })
        .collect();
    let mut pending: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.plan.action, Action::Create | Action::Update))
        .map(|(i, _)| i)
        .collect();
    let mut passes = 0;
    let mut last_waits: Vec<String> = Vec::new();
    while !pending.is_empty() {
        passes += 1;
        let mut still = Vec::new();
        let mut waits = Vec::new();
        let before = pending.len();
        for &i in &pending {
            let resource = &validated.resources[i];
            let quay = &endpoints.of(i).quay;
            let entry = &mut entries[i];
            match resource.desired.reconcile(quay, Mode::Apply).await {
                Ok(outcome) => {
                    entry.applied = match entry.plan.action {
                        Action::Create => Applied::Created,
                        _ if outcome.applied || !entry.waited_for.is_empty() => Applied::Updated,
                        _ => Applied::InSync,
                    };
                }
                Err(e) => match e.waiting_for() {
                    Some(what) => {
                        let what = what.to_owned();
                        entry.applied = Applied::Failed(format!("waiting for {what}"));
                        if entry.waited_for.last() != Some(&what) {
                            entry.waited_for.push(what.clone());
                        }
                        waits.push(what);
                        still.push(i);
                    }
                    None => entry.applied = Applied::Failed(e.to_string()),
                },
            }
        }
        // No resource got done and each waits for the same as before: stop
        // (and never loop longer than one pass per resource).
        if (still.len() == before && waits == last_waits) || passes > validated.resources.len() {
            break;
        }
        last_waits = waits;
        pending = still;
    }
    let skipped = validated
        .resources
        .iter()
        .filter(|r| !r.cluster_only.is_empty() && !r.observe_only)
        .map(|r| Skipped {
            resource: r.label(),
            work: r.cluster_only.clone(),
        })
        .collect();
    ApplyReport {
        resources: entries,
        passes,
        skipped,
    }
}
