//! Namespace storage quotas and their thresholds.
//!
//! Quay has two quota paths: `/organization/{org}/quota`, whose writes need a
//! superuser token *and* `FEATURE_SUPERUSERS_FULL_ACCESS`, and
//! `/superuser/{organization,users}/{ns}/quota`, which any superuser may use
//! but which has no threshold calls. The engine tries the organization path
//! and falls back to the superuser one; when neither can do what the spec
//! asks, it says which Quay setting is missing instead of retrying. The
//! thresholds are made exactly the listed set, touching only what differs.

use super::driver::{FieldChange, Managed};
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::api::quota::{Quota, QuotaLimit, QuotaScope};
use crate::quay::{ErrorKind, QuayError};

/// Whose quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaNamespace {
    /// An organization.
    Organization(String),
    /// A user namespace (superuser endpoints only).
    User(String),
}

impl QuotaNamespace {
    /// The namespace name.
    pub fn name(&self) -> &str {
        match self {
            QuotaNamespace::Organization(n) | QuotaNamespace::User(n) => n,
        }
    }
}

/// A threshold: `Warning` or `Reject` at a percentage.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold {
    /// `Warning` or `Reject`.
    pub kind: String,
    /// Percent of the quota.
    pub percent: u32,
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}%", self.kind, self.percent)
    }
}

/// The desired quota of a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredQuota {
    /// Whose quota.
    pub namespace: QuotaNamespace,
    /// The quota in bytes.
    pub limit_bytes: u64,
    /// The complete threshold set; not managed when `None`.
    pub limits: Option<Vec<Threshold>>,
}

/// A quota as observed.
#[derive(Debug, Clone)]
pub struct LiveQuota {
    /// Whose quota.
    pub namespace: QuotaNamespace,
    /// The quota with its thresholds.
    pub quota: Quota,
    /// Bytes used, as Quay reports them (organizations only).
    pub usage_bytes: Option<u64>,
}

const FULL_ACCESS_HINT: &str = "Quay refuses quota writes on the organization endpoint unless the token is a superuser's \
     (with the super:user scope) and Quay runs with FEATURE_SUPERUSERS_FULL_ACCESS: true";

fn forbidden(e: &QuayError) -> bool {
    e.kind == ErrorKind::Forbidden
}

enum Op<'a> {
    Update(&'a QuotaLimit, &'a Threshold),
    Create(&'a Threshold),
    Delete(&'a QuotaLimit),
}

fn live_threshold(l: &QuotaLimit) -> Threshold {
    Threshold {
        kind: l.kind.clone(),
        percent: l.limit_percent,
    }
}

/// Identical thresholds are kept; the others are updated pairwise, then
/// created or deleted.
fn ops<'a>(desired: &'a [Threshold], live: &'a [QuotaLimit]) -> Vec<Op<'a>> {
    let mut unmatched_desired: Vec<&Threshold> = desired.iter().collect();
    let mut unmatched_live = Vec::new();
    for l in live {
        match unmatched_desired
            .iter()
            .position(|d| **d == live_threshold(l))
        {
            Some(i) => {
                unmatched_desired.remove(i);
            }
            None => unmatched_live.push(l),
        }
    }
    let mut ops = Vec::new();
    let mut live_iter = unmatched_live.into_iter();
    for d in unmatched_desired {
        match live_iter.next() {
            Some(l) => ops.push(Op::Update(l, d)),
            None => ops.push(Op::Create(d)),
        }
    }
    ops.extend(live_iter.map(Op::Delete));
    ops
}

impl DesiredQuota {
    fn org(&self) -> Option<&str> {
        match &self.namespace {
            QuotaNamespace::Organization(o) => Some(o),
            QuotaNamespace::User(_) => None,
        }
    }

    /// The write paths to try, in order.
    fn scopes(&self) -> Vec<QuotaScope> {
        match &self.namespace {
            QuotaNamespace::Organization(o) => vec![
                QuotaScope::Organization(o.clone()),
                QuotaScope::SuperuserOrganization(o.clone()),
            ],
            QuotaNamespace::User(u) => vec![QuotaScope::SuperuserUser(u.clone())],
        }
    }

    fn refused(&self, what: &str) -> EngineError {
        EngineError::Rejected(match &self.namespace {
            QuotaNamespace::Organization(o) => format!(
                "cannot {what} for organization {o}: {FULL_ACCESS_HINT}; the superuser endpoint \
                 (any superuser token) was refused too"
            ),
            QuotaNamespace::User(u) => format!(
                "cannot {what} for user namespace {u}: only a superuser token may (through \
                 /api/v1/superuser/users/{u}/quota)"
            ),
        })
    }

    fn forget(&self, quay: &Quay) {
        if let Some(org) = self.org() {
            quay.forget_organization(org);
        }
    }

    /// Runs a quota write on the first path Quay allows.
    async fn write<F, Fut>(&self, what: &str, call: F) -> Result<(), EngineError>
    where
        F: Fn(QuotaScope) -> Fut,
        Fut: std::future::Future<Output = Result<(), QuayError>>,
    {
        for scope in self.scopes() {
            match call(scope).await {
                Err(e) if forbidden(&e) => continue,
                other => return Ok(other?),
            }
        }
        Err(self.refused(what))
    }

    /// Makes the thresholds exactly `desired`; only the organization path has threshold calls.
    async fn apply_limits(
        &self,
        quay: &Quay,
        quota_id: i64,
        live: &[QuotaLimit],
    ) -> Result<(), EngineError> {
        let Some(desired) = &self.limits else {
            return Ok(());
        };
        let Some(org) = self.org() else {
            return Err(EngineError::Rejected(
                "Quay has no API for the thresholds of a user namespace quota".to_owned(),
            ));
        };
        let client = &quay.client;
        for op in ops(desired, live) {
            let result = match op {
                Op::Update(l, d) => {
                    client
                        .update_quota_limit(org, quota_id, l.id, &d.kind, d.percent)
                        .await
                }
                Op::Create(d) => {
                    client
                        .create_quota_limit(org, quota_id, &d.kind, d.percent)
                        .await
                }
                Op::Delete(l) => match client.delete_quota_limit(org, quota_id, l.id).await {
                    Err(e) if e.is_not_found() => Ok(()),
                    other => other,
                },
            };
            self.forget(quay);
            match result {
                Err(e) if forbidden(&e) => {
                    return Err(EngineError::Rejected(format!(
                        "cannot change the quota thresholds of organization {org}: {FULL_ACCESS_HINT} \
                         (thresholds have no superuser endpoint)"
                    )));
                }
                other => other?,
            }
        }
        Ok(())
    }

    async fn read(&self, quay: &Quay) -> Result<Option<LiveQuota>, EngineError> {
        match &self.namespace {
            QuotaNamespace::Organization(org) => {
                let view = quay.organization(org).await?;
                let Some(view) = view.as_ref() else {
                    return Err(EngineError::Waiting {
                        what: format!("organization {org}"),
                    });
                };
                Ok(view.quotas.first().map(|q| LiveQuota {
                    namespace: self.namespace.clone(),
                    quota: q.clone(),
                    usage_bytes: view.quota_report.as_ref().and_then(|r| r.quota_bytes),
                }))
            }
            QuotaNamespace::User(user) => {
                if !quay.me().await?.super_user {
                    return Err(self.refused("read the quota"));
                }
                let quotas = quay
                    .client
                    .list_quotas(&QuotaScope::SuperuserUser(user.clone()))
                    .await
                    // An unknown user: 404 here (Quay's create would answer a
                    // bare 500), so nothing is written until the user exists.
                    .map_err(|e| match e.is_not_found() {
                        true => EngineError::Waiting {
                            what: format!(
                                "Quay user {user:?}, which does not exist (the operator does not create users)"
                            ),
                        },
                        false => e.into(),
                    })?;
                Ok(quotas.into_iter().next().map(|quota| LiveQuota {
                    namespace: self.namespace.clone(),
                    quota,
                    usage_bytes: None,
                }))
            }
        }
    }
}

/// `10737418240` as `10 GiB` (exact binary units when possible).
fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes;
    let mut unit = 0;
    while unit < UNITS.len() - 1 && value >= 1024 && value.is_multiple_of(1024) {
        value /= 1024;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} bytes"),
        _ => format!("{value} {} ({bytes} bytes)", UNITS[unit]),
    }
}

impl LiveQuota {
    /// The quota as Quay shows it now (after a change).
    pub async fn refresh(&self, quay: &Quay) -> Result<Option<LiveQuota>, EngineError> {
        DesiredQuota {
            namespace: self.namespace.clone(),
            limit_bytes: 0,
            limits: None,
        }
        .read(quay)
        .await
    }

    /// Usage in percent of the quota, when Quay reports usage.
    pub fn usage_percent(&self) -> Option<u32> {
        let used = self.usage_bytes?;
        (self.quota.limit_bytes > 0).then(|| {
            (used.saturating_mul(100) / self.quota.limit_bytes).min(u32::MAX as u64) as u32
        })
    }
}

impl Managed for DesiredQuota {
    type Live = LiveQuota;

    fn describe(&self) -> String {
        match &self.namespace {
            QuotaNamespace::Organization(o) => format!("quota of organization {o}"),
            QuotaNamespace::User(u) => format!("quota of user namespace {u}"),
        }
    }

    async fn observe(&self, quay: &Quay) -> Result<Option<LiveQuota>, EngineError> {
        self.read(quay).await
    }

    fn diff(&self, live: &LiveQuota) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        if live.quota.limit_bytes != self.limit_bytes {
            changes.push(FieldChange::new(
                "limit",
                human(live.quota.limit_bytes),
                human(self.limit_bytes),
            ));
        }
        if let Some(desired) = &self.limits {
            for op in ops(desired, &live.quota.limits) {
                changes.push(match op {
                    Op::Update(l, d) => FieldChange::new("limits", live_threshold(l), d),
                    Op::Create(d) => FieldChange::new("limits", "none", d),
                    Op::Delete(l) => FieldChange::new("limits", live_threshold(l), "none"),
                });
            }
        }
        changes
    }

    async fn create(&self, quay: &Quay) -> Result<Option<LiveQuota>, EngineError> {
        let result = self
            .write("create the quota", |scope| async move {
                quay.client.create_quota(&scope, self.limit_bytes).await
            })
            .await;
        self.forget(quay);
        result?;
        if self.limits.as_ref().is_some_and(|l| !l.is_empty()) {
            // Quay's create returns no id: read the new quota to add the thresholds.
            let created = self.read(quay).await?.ok_or_else(|| {
                EngineError::Rejected(format!("{} vanished after creation", self.describe()))
            })?;
            self.apply_limits(quay, created.quota.id, &created.quota.limits)
                .await?;
        }
        self.read(quay).await
    }

    async fn update(
        &self,
        quay: &Quay,
        live: &LiveQuota,
        changes: &[FieldChange],
    ) -> Result<(), EngineError> {
        let id = live.quota.id;
        if changes.iter().any(|c| c.field == "limit") {
            let result = self
                .write("change the quota", |scope| async move {
                    quay.client
                        .update_quota(&scope, id, self.limit_bytes)
                        .await
                        .map(|_| ())
                })
                .await;
            self.forget(quay);
            result?;
        }
        if changes.iter().any(|c| c.field == "limits") {
            self.apply_limits(quay, id, &live.quota.limits).await?;
        }
        Ok(())
    }

    async fn delete(&self, quay: &Quay, _live: &Self::Live) -> Result<(), EngineError> {
        let Some(live) = self.read(quay).await? else {
            return Ok(());
        };
        let id = live.quota.id;
        let result = self
            .write("delete the quota", |scope| async move {
                match quay.client.delete_quota(&scope, id).await {
                    Err(e) if e.is_not_found() => Ok(()),
                    other => other,
                }
            })
            .await;
        self.forget(quay);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(kind: &str, percent: u32) -> Threshold {
        Threshold {
            kind: kind.into(),
            percent,
        }
    }

    fn l(id: i64, kind: &str, percent: u32) -> QuotaLimit {
        QuotaLimit {
            id,
            kind: kind.into(),
            limit_percent: percent,
        }
    }

    #[test]
    fn only_differing_thresholds_are_touched() {
        let live = [l(1, "Warning", 80), l(2, "Reject", 100)];
        assert!(ops(&[t("Reject", 100), t("Warning", 80)], &live).is_empty());
        let desired = [t("Warning", 80), t("Reject", 95)];
        let changed = ops(&desired, &live);
        assert!(matches!(changed.as_slice(), [Op::Update(l, d)] if l.id == 2 && d.percent == 95));
        let desired = [t("Warning", 70), t("Warning", 80), t("Reject", 100)];
        let grown = ops(&desired, &live);
        assert!(matches!(grown.as_slice(), [Op::Create(d)] if d.percent == 70));
        let desired = [t("Reject", 100)];
        let shrunk = ops(&desired, &live);
        assert!(matches!(shrunk.as_slice(), [Op::Delete(l)] if l.id == 1));
    }

    #[test]
    fn limits_render_in_binary_units() {
        assert_eq!(human(10 * 1024 * 1024 * 1024), "10 GiB (10737418240 bytes)");
        assert_eq!(human(1000), "1000 bytes");
    }
}
