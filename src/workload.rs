//! The registry the Ansible collection `infra.quay_configuration` was measured on,
//! as custom resources, and its phases (first convergence, restart in sync, ten
//! changed descriptions, one resync), driven the way the controllers drive them:
//! every resource applied at once, each kind reconciled by its own worker pool,
//! each object turned into its desired state by its controller
//! ([`ManagedResource::desired`]) and reconciled by the engine, a resource that
//! waits for another retried after a delay. Only the Kubernetes side (watches,
//! status writes) is left out: Quay sees the same requests.
//!
//! Used by the request budgets in `tests/it` and by `cargo bench`.

use std::time::Duration;

use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::controller::{Inputs, ManagedResource};
use crate::crd::{
    QuayNotification, QuayOrganization, QuayQuota, QuayRepository, QuayRobotAccount, QuayTeam,
};
use crate::engine::{EngineError, ErrorClass, Mode, Quay, reconcile};

/// The shape of the registry: `organizations` organizations, each with a 10 GiB
/// quota (Warning 80 %, Reject 95 %), `robots` robots, `teams` teams and
/// `repositories` private repositories with a description and one `repo_push`
/// notification (method `quay_notification`) each.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Organizations.
    pub organizations: usize,
    /// Repositories per organization (each with one notification).
    pub repositories: usize,
    /// Robots per organization.
    pub robots: usize,
    /// Teams per organization.
    pub teams: usize,
}

impl Workload {
    /// The Ansible benchmark: 1 organization, 100 repositories, 5 robots, 2 teams.
    pub const ANSIBLE: Workload = Workload {
        organizations: 1,
        repositories: 100,
        robots: 5,
        teams: 2,
    };

    /// The custom resources of the workload; `generation` goes into the
    /// descriptions of the first `changed` repositories of the first organization.
    pub fn resources(&self, changed: usize, generation: u32) -> Resources {
        let mut r = Resources::default();
        for o in 0..self.organizations {
            let org = format!("bench{o:03}");
            r.organizations.push(object(
                "QuayOrganization",
                &org,
                json!({"email": format!("{org}@example.com")}),
            ));
            r.quotas.push(object(
                "QuayQuota",
                &org,
                json!({"organization": org, "limit": "10Gi", "limits": [
                    {"type": "Warning", "percent": 80}, {"type": "Reject", "percent": 95}]}),
            ));
            for i in 0..self.robots {
                r.robots.push(object(
                    "QuayRobotAccount",
                    &format!("{org}-bot{i}"),
                    json!({"organization": org, "name": format!("bot{i}"), "description": "CI"}),
                ));
            }
            for i in 0..self.teams {
                r.teams.push(object(
                    "QuayTeam",
                    &format!("{org}-team{i}"),
                    json!({"organization": org, "name": format!("team{i}"),
                           "description": format!("team {i}")}),
                ));
            }
            for i in 0..self.repositories {
                let name = format!("app{i:05}");
                let description = match o == 0 && i < changed {
                    true => format!("application {i}, revision {generation}"),
                    false => format!("application {i}"),
                };
                r.repositories.push(object(
                    "QuayRepository",
                    &format!("{org}-{name}"),
                    json!({"namespace": org, "name": name, "visibility": "private",
                           "description": description}),
                ));
                r.notifications.push(object(
                    "QuayNotification",
                    &format!("{org}-{name}-push"),
                    json!({"repository": format!("{org}/{name}"), "event": "repo_push",
                           "method": "quay_notification", "title": "push",
                           "config": {"target": {"kind": "org", "name": org}}}),
                ));
            }
        }
        r
    }
}

/// The custom resources of a [`Workload`], by kind.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// Organizations.
    pub organizations: Vec<QuayOrganization>,
    /// One quota per organization.
    pub quotas: Vec<QuayQuota>,
    /// Robot accounts.
    pub robots: Vec<QuayRobotAccount>,
    /// Teams.
    pub teams: Vec<QuayTeam>,
    /// Repositories.
    pub repositories: Vec<QuayRepository>,
    /// One notification per repository.
    pub notifications: Vec<QuayNotification>,
}

impl Resources {
    /// Every resource.
    pub fn len(&self) -> usize {
        self.organizations.len()
            + self.quotas.len()
            + self.robots.len()
            + self.teams.len()
            + self.repositories.len()
            + self.notifications.len()
    }

    /// Whether there is no resource.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn object<K: DeserializeOwned>(kind: &str, name: &str, spec: serde_json::Value) -> K {
    serde_json::from_value(json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": kind,
        "metadata": {"name": name, "namespace": "bench", "generation": 1}, "spec": spec
    }))
    .expect("a workload resource deserializes")
}

/// How resources are reconciled: workers per kind (the controllers'
/// `--concurrency`) and the delay before a waiting resource is tried again.
#[derive(Debug, Clone, Copy)]
pub struct Drive {
    /// Reconciles of one kind in flight at once.
    pub concurrency: usize,
    /// Delay before a resource waiting for another is reconciled again.
    pub retry_after: Duration,
    /// Reconciles of one resource before giving up.
    pub attempts: u32,
}

/// Reconciles every resource of `resources` at once, as the controllers do after
/// `kubectl apply`: all kinds concurrently, each with `drive.concurrency` workers.
/// Returns the resources that did not converge, with their last error.
pub async fn converge(resources: &Resources, quay: &Quay, drive: Drive) -> Vec<(String, String)> {
    let (a, b, c, d, e, f) = tokio::join!(
        kind(&resources.organizations, quay, drive),
        kind(&resources.quotas, quay, drive),
        kind(&resources.robots, quay, drive),
        kind(&resources.teams, quay, drive),
        kind(&resources.repositories, quay, drive),
        kind(&resources.notifications, quay, drive),
    );
    [a, b, c, d, e, f].into_iter().flatten().collect()
}

async fn kind<K: ManagedResource>(
    objects: &[K],
    quay: &Quay,
    drive: Drive,
) -> Vec<(String, String)> {
    futures::stream::iter(objects)
        .map(|o| one(o, quay, drive))
        .buffer_unordered(drive.concurrency.max(1))
        .filter_map(|r| async move { r.err() })
        .collect()
        .await
}

async fn one<K: ManagedResource>(
    object: &K,
    quay: &Quay,
    drive: Drive,
) -> Result<(), (String, String)> {
    let name = format!("{}/{}", K::kind(&()), kube::ResourceExt::name_any(object));
    let desired = object
        .desired(&Inputs::default())
        .map_err(|e| (name.clone(), e))?;
    let mut last: Option<EngineError> = None;
    for attempt in 0..drive.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(drive.retry_after).await;
        }
        match reconcile(&desired, quay, Mode::Apply).await {
            Ok(_) => return Ok(()),
            Err(e) if e.class() == ErrorClass::Terminal => return Err((name, e.to_string())),
            Err(e) => last = Some(e),
        }
    }
    Err((name, last.map(|e| e.to_string()).unwrap_or_default()))
}
