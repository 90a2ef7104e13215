//! Conditions and status patches, following the Kubernetes conventions:
//! `lastTransitionTime` moves only when a condition's status flips,
//! `observedGeneration` is set on each condition and at the top level, and
//! a patch that would change nothing but timestamps is not sent.
//!
//! Beside `Ready`, the kstatus conditions (what `kubectl wait`, Flux and
//! cli-utils read): `Reconciling=True` while the operator is still working
//! towards the spec (retrying, waiting for a dependency), `Stalled=True`
//! when only a person can unblock it. Both are left out otherwise, as
//! kstatus's "abnormal-true" conditions should be.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Builds the next condition list from the previous one.
pub struct Conditions {
    generation: Option<i64>,
    previous: Vec<Condition>,
    next: Vec<Condition>,
}

impl Conditions {
    /// Starts from the object's current conditions.
    pub fn new(previous: &[Condition], generation: Option<i64>) -> Self {
        Conditions {
            generation,
            previous: previous.to_vec(),
            next: Vec::new(),
        }
    }

    /// Sets a condition (`status` true/false).
    pub fn set(
        &mut self,
        type_: &str,
        status: bool,
        reason: &str,
        message: impl Into<String>,
    ) -> &mut Self {
        let status = if status { "True" } else { "False" }.to_owned();
        let last_transition_time = self
            .previous
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_else(now);
        self.next.retain(|c| c.type_ != type_);
        self.next.push(Condition {
            type_: type_.to_owned(),
            status,
            reason: reason.to_owned(),
            message: message.into(),
            observed_generation: self.generation,
            last_transition_time,
        });
        self
    }

    /// Sets `Ready` and, when not ready, `Reconciling` or `Stalled` with the
    /// same reason and message.
    pub fn set_ready(
        &mut self,
        progress: Progress,
        reason: &str,
        message: impl Into<String>,
    ) -> &mut Self {
        let message = message.into();
        self.set(
            "Ready",
            progress == Progress::Ready,
            reason,
            message.clone(),
        );
        match progress {
            Progress::Ready => self,
            Progress::Reconciling => self.set("Reconciling", true, reason, message),
            Progress::Stalled => self.set("Stalled", true, reason, message),
        }
    }

    /// The Ready condition of the previous list, if any.
    pub fn previous_ready(&self) -> Option<&Condition> {
        self.previous.iter().find(|c| c.type_ == "Ready")
    }

    /// The finished list.
    pub fn into_vec(self) -> Vec<Condition> {
        self.next
    }
}

/// Where a resource stands after a reconcile, in kstatus terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Quay matches the spec (`Ready=True`).
    Ready,
    /// Not yet: the operator retries or waits for something that resolves
    /// itself (`Ready=False`, `Reconciling=True`).
    Reconciling,
    /// Only a person can unblock it: the spec, a grant, a token, a conflict
    /// (`Ready=False`, `Stalled=True`).
    Stalled,
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// Whether the Ready condition changes reason or message (worth an Event).
pub fn ready_changed(previous: Option<&Condition>, next: &[Condition]) -> bool {
    let next = next.iter().find(|c| c.type_ == "Ready");
    match (previous, next) {
        (Some(p), Some(n)) => {
            p.status != n.status || p.reason != n.reason || p.message != n.message
        }
        (None, None) => false,
        _ => true,
    }
}

fn strip_times(mut status: Value) -> Value {
    if let Some(conditions) = status.get_mut("conditions").and_then(Value::as_array_mut) {
        for c in conditions {
            if let Some(map) = c.as_object_mut() {
                map.remove("lastTransitionTime");
            }
        }
    }
    status
}

/// Writes `status` unless it equals the current one apart from timestamps.
/// Returns whether a patch was sent.
pub async fn patch_status<K>(
    api: &Api<K>,
    obj: &K,
    status: &impl Serialize,
) -> Result<bool, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let next = serde_json::to_value(status).map_err(kube::Error::SerdeError)?;
    let current = serde_json::to_value(obj)
        .ok()
        .and_then(|v| v.get("status").cloned())
        .unwrap_or(Value::Null);
    if strip_times(current.clone()) == strip_times(next.clone()) {
        return Ok(false);
    }
    // A merge patch keeps fields it does not mention: clear the ones the new
    // status no longer has (an emptied drift list, a forgotten id).
    let mut patch = next;
    if let (Some(current), Some(patch)) = (current.as_object(), patch.as_object_mut()) {
        for key in current.keys() {
            patch.entry(key.clone()).or_insert(Value::Null);
        }
    }
    api.patch_status(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": patch })),
    )
    .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let mut first = Conditions::new(&[], Some(1));
        first.set("Ready", false, "QuayRejected", "bad");
        let first = first.into_vec();
        let mut same = Conditions::new(&first, Some(2));
        same.set("Ready", false, "QuayRejected", "still bad");
        let same = same.into_vec();
        assert_eq!(same[0].last_transition_time, first[0].last_transition_time);
        assert_eq!(same[0].observed_generation, Some(2));
        std::thread::sleep(std::time::Duration::from_millis(2));
        let mut flipped = Conditions::new(&same, Some(2));
        flipped.set("Ready", true, "Reconciled", "ok");
        assert_ne!(
            flipped.into_vec()[0].last_transition_time,
            first[0].last_transition_time
        );
    }

    #[test]
    fn kstatus_conditions_accompany_ready_false_and_go_with_ready_true() {
        let types = |c: &[Condition]| {
            c.iter()
                .map(|c| format!("{}={}", c.type_, c.status))
                .collect::<Vec<_>>()
        };
        let mut stalled = Conditions::new(&[], Some(1));
        stalled.set_ready(Progress::Stalled, "InvalidSpec", "bad name");
        let stalled = stalled.into_vec();
        assert_eq!(types(&stalled), ["Ready=False", "Stalled=True"]);
        assert_eq!(stalled[1].reason, "InvalidSpec");
        let mut retrying = Conditions::new(&stalled, Some(2));
        retrying.set_ready(Progress::Reconciling, "ServerError", "500");
        assert_eq!(
            types(&retrying.into_vec()),
            ["Ready=False", "Reconciling=True"]
        );
        let mut ready = Conditions::new(&stalled, Some(2));
        ready.set_ready(Progress::Ready, "Updated", "ok");
        assert_eq!(types(&ready.into_vec()), ["Ready=True"]);
    }

    #[test]
    fn events_only_on_ready_changes() {
        let mut a = Conditions::new(&[], None);
        a.set("Ready", true, "Reconciled", "ok");
        let a = a.into_vec();
        assert!(!ready_changed(a.first(), &a));
        let mut b = Conditions::new(&a, None);
        b.set("Ready", true, "Updated", "changed");
        assert!(ready_changed(a.first(), &b.into_vec()));
        assert!(ready_changed(None, &a));
    }
}
