//! Conversions of the access lists (permissions, default permissions,
//! auto-prune policies) from spec form to the engine's.

use super::{Inputs, ResourceRef};
use crate::crd::{AutoPrunePolicySpec, DefaultPermission, GranteeKind, RepositoryPermission};
use crate::engine::permissions::DesiredPermission;
use crate::engine::prototypes::DesiredPrototype;
use crate::quay::api::autoprune::PruneRule;
use crate::quay::api::permission::Grantee;

/// A robot's full name: `name` as given when it has a `+`; else the robot
/// of the QuayRobotAccount of that name, when one exists; else the robot
/// `namespace+name`.
pub fn robot_full_name(namespace: &str, name: &str, inputs: &Inputs) -> String {
    if name.contains('+') {
        return name.to_owned();
    }
    match inputs.resolved(&ResourceRef::Robot(name.to_owned())) {
        Some(full) => full.to_owned(),
        None => format!("{namespace}+{name}"),
    }
}

/// The optional robot references of robot names without a `+`.
pub fn robot_refs<'a>(names: impl Iterator<Item = &'a str>) -> Vec<ResourceRef> {
    names
        .filter(|n| !n.contains('+'))
        .map(|n| ResourceRef::Robot(n.to_owned()))
        .collect()
}

/// Repository permissions, robots expanded to their full names. A grantee
/// listed twice is an error (the two roles would fight at every reconcile).
pub fn permissions(
    namespace: &str,
    list: &[RepositoryPermission],
    inputs: &Inputs,
) -> Result<Vec<DesiredPermission>, String> {
    let desired: Vec<DesiredPermission> = list
        .iter()
        .map(|p| {
            let (grantee, name) = match p.kind {
                GranteeKind::User => (Grantee::User, p.name.clone()),
                GranteeKind::Robot => (Grantee::User, robot_full_name(namespace, &p.name, inputs)),
                GranteeKind::Team => (Grantee::Team, p.name.clone()),
            };
            DesiredPermission {
                grantee,
                name,
                role: p.role.as_str().to_owned(),
            }
        })
        .collect();
    for (i, p) in desired.iter().enumerate() {
        if desired[..i]
            .iter()
            .any(|q| q.grantee == p.grantee && q.name == p.name)
        {
            return Err(format!(
                "spec.permissions lists {} twice; keep one entry",
                p.name
            ));
        }
    }
    Ok(desired)
}

/// Default permissions; robots are delegates of kind `user` in Quay.
pub fn default_permissions(
    org: &str,
    list: &[DefaultPermission],
    inputs: &Inputs,
) -> Vec<DesiredPrototype> {
    list.iter()
        .map(|p| {
            let (kind, name) = match p.delegate.kind {
                GranteeKind::User => ("user", p.delegate.name.clone()),
                GranteeKind::Robot => ("user", robot_full_name(org, &p.delegate.name, inputs)),
                GranteeKind::Team => ("team", p.delegate.name.clone()),
            };
            DesiredPrototype {
                delegate_kind: kind.to_owned(),
                delegate_name: name,
                role: p.role.as_str().to_owned(),
                activating_user: p.activating_user.clone(),
            }
        })
        .collect()
}

/// Auto-prune policies in Quay's form.
pub fn prune_rules(list: &[AutoPrunePolicySpec]) -> Vec<PruneRule> {
    list.iter()
        .map(|p| {
            let (method, value) = p.method_and_value();
            PruneRule {
                method: method.to_owned(),
                value,
                tag_pattern: p.tag_pattern.clone(),
                tag_pattern_matches: p.tag_pattern_matches,
            }
        })
        .collect()
}
