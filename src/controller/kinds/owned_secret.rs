//! Secrets the operator writes for a resource and owns (a robot's
//! credentials, an OAuth application's client id and secret): labelled,
//! owned by the resource (so deleted with it), rewritten only when their
//! content differs, moved when the resource names another Secret.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::StepError;
use crate::controller::context::{Context, MANAGER};
use crate::engine::EngineError;

/// Label on every Secret the operator writes.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", MANAGER);

/// A Secret named `name` of type `type_` holding `data` (string values),
/// owned by `owner`, in its namespace.
pub fn owned_secret<K: Resource<DynamicType = ()>>(
    owner: &K,
    name: &str,
    type_: &str,
    data: &[(&str, &str)],
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: owner.namespace(),
            labels: Some(BTreeMap::from([(
                MANAGED_BY.0.to_owned(),
                MANAGED_BY.1.to_owned(),
            )])),
            owner_references: owner.controller_owner_ref(&()).map(|r| vec![r]),
            ..ObjectMeta::default()
        },
        type_: Some(type_.to_owned()),
        data: Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                .collect(),
        ),
        ..Secret::default()
    }
}

/// Writes `secret` unless it already holds exactly this, and removes the
/// Secret `previous` (the one a former spec named) when the owner owns it.
/// A Secret of that name the owner does not own is left alone: an error.
pub async fn ensure_owned_secret<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    owner: &K,
    secret: Secret,
    previous: Option<&str>,
) -> Result<(), StepError> {
    let api: Api<Secret> =
        Api::namespaced(ctx.client.clone(), &owner.namespace().unwrap_or_default());
    let name = secret.name_any();
    let current = api.get_opt(&name).await?;
    let owned = |s: &Secret| {
        s.owner_references()
            .iter()
            .any(|r| Some(&r.uid) == owner.uid().as_ref())
    };
    if let Some(c) = &current
        && !owned(c)
    {
        return Err(StepError::Quay(EngineError::Rejected(format!(
            "Secret {name:?} exists and is not owned by this {}; choose another spec.secretName \
             or delete that Secret",
            K::kind(&())
        ))));
    }
    let up_to_date = current
        .as_ref()
        .is_some_and(|c| c.data == secret.data && c.type_ == secret.type_);
    if !up_to_date {
        let params = PatchParams::apply(MANAGER).force();
        api.patch(&name, &params, &Patch::Apply(&secret)).await?;
    }
    if let Some(previous) = previous.filter(|p| *p != name)
        && let Some(old) = api.get_opt(previous).await?
        && owned(&old)
    {
        api.delete(previous, &Default::default()).await?;
    }
    Ok(())
}

/// Merges `fields` into the owner's status at once: what a rotation did must
/// be recorded even when writing its Secret failed, or the next attempt
/// would rotate again.
pub async fn record_in_status<K>(
    ctx: &Context,
    owner: &K,
    fields: serde_json::Value,
) -> Result<(), StepError>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &owner.namespace().unwrap_or_default());
    let patch = Patch::Merge(serde_json::json!({ "status": fields }));
    api.patch_status(&owner.name_any(), &PatchParams::default(), &patch)
        .await?;
    Ok(())
}
