//! Resolves the resources a spec references by name (a QuayRepository, a
//! QuayOrganization) to the Quay objects they manage, like Secrets are read.

use kube::{Api, Client, ResourceExt};

use super::kinds::{Inputs, ResourceRef};
use crate::crd::{QuayOrganization, QuayRepository};

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
                api.get_opt(name)
                    .await?
                    .map(|r| r.spec.full_name(&r.name_any()))
            }
            ResourceRef::Organization(name) => {
                let api: Api<QuayOrganization> = Api::namespaced(client.clone(), namespace);
                api.get_opt(name)
                    .await?
                    .map(|o| o.spec.quay_name(&o.name_any()))
            }
        };
        match identity {
            Some(identity) => values.insert_resolved(reference.clone(), identity),
            None if best_effort => {}
            None => {
                let (kind, name) = match reference {
                    ResourceRef::Repository(n) => ("QuayRepository", n),
                    ResourceRef::Organization(n) => ("QuayOrganization", n),
                };
                return Ok(Err(format!("{kind} {name:?} in this namespace")));
            }
        }
    }
    Ok(Ok(()))
}
