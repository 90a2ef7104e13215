//! Resolves the resources a spec references by name (a QuayRepository, a
//! QuayOrganization) to the Quay objects they manage, like Secrets are read.
//! The rules ([`repository_identity`], [`organization_identity`]) are shared
//! with the command line, which resolves references among manifest files.

use kube::{Api, Client, ResourceExt};

use super::kinds::{Inputs, ResourceRef};
use crate::crd::{QuayOrganization, QuayRepository, QuayRobotAccount};

/// What a `repositoryRef` to this QuayRepository resolves to: its Quay `namespace/name`.
pub fn repository_identity(repository: &QuayRepository) -> String {
    repository.spec.full_name(&repository.name_any())
}

/// What an `organizationRef` to this QuayOrganization resolves to: its Quay name.
pub fn organization_identity(organization: &QuayOrganization) -> String {
    organization.spec.quay_name(&organization.name_any())
}

/// `(kind, name)` of the resource a reference names.
pub fn referenced(reference: &ResourceRef) -> (&'static str, &str) {
    match reference {
        ResourceRef::Repository(n) => ("QuayRepository", n),
        ResourceRef::Organization(n) => ("QuayOrganization", n),
        ResourceRef::Robot(n) => ("QuayRobotAccount", n),
    }
}

/// Looks each reference up in `namespace` and records its Quay identity.
/// Returns the first missing one (`best_effort` skips missing ones instead).
pub async fn resolve(
    client: &Client,
    namespace: &str,
    refs: &[ResourceRef],
    values: &mut Inputs,
    best_effort: bool,
) -> Result<Result<(), String>, kube::Error> {
    for reference in refs {
        let identity = match reference {
            ResourceRef::Repository(name) => {
                let api: Api<QuayRepository> = Api::namespaced(client.clone(), namespace);
                api.get_opt(name).await?.map(|r| repository_identity(&r))
            }
            ResourceRef::Organization(name) => {
                let api: Api<QuayOrganization> = Api::namespaced(client.clone(), namespace);
                api.get_opt(name).await?.map(|o| organization_identity(&o))
            }
            ResourceRef::Robot(name) => {
                let api: Api<QuayRobotAccount> = Api::namespaced(client.clone(), namespace);
                api.get_opt(name).await?.and_then(|r| robot_full_name(&r))
            }
        };
        match identity {
            Some(identity) => values.insert_resolved(reference.clone(), identity),
            None if best_effort || matches!(reference, ResourceRef::Robot(_)) => {}
            None => {
                let (kind, name) = referenced(reference);
                return Ok(Err(format!("{kind} {name:?} in this namespace")));
            }
        }
    }
    Ok(Ok(()))
}

/// A QuayRobotAccount's Quay full name: from its status once reconciled, or
/// from its organization and name (a user robot's owner is known only then).
pub fn robot_full_name(robot: &QuayRobotAccount) -> Option<String> {
    let recorded = robot.status.as_ref().and_then(|s| s.full_name.clone());
    recorded.or_else(|| {
        let org = robot.spec.organization.as_ref()?;
        Some(format!(
            "{org}+{}",
            robot.spec.short_name(&robot.name_any())
        ))
    })
}
