//! The credentials Secret of kinds that log in to an external registry
//! (mirrors, proxy caches): which keys to read, and the values read.

use super::{Inputs, SecretKey};
use crate::crd::mirror::CredentialsSecretRef;
use crate::engine::credentials::RegistryCredentials;

/// The user-name and password keys of the referenced Secret.
pub(super) fn secret_keys(reference: Option<&CredentialsSecretRef>) -> Vec<SecretKey> {
    reference
        .into_iter()
        .flat_map(|r| {
            [&r.username_key, &r.password_key].map(|key| SecretKey {
                name: r.name.clone(),
                key: key.clone(),
            })
        })
        .collect()
}

/// The credentials with their Secret's version; `None` without a reference,
/// and while deleting when the Secret is gone (Secrets are then read best-effort).
pub(super) fn read(
    reference: Option<&CredentialsSecretRef>,
    values: &Inputs,
) -> Option<RegistryCredentials> {
    let r = reference?;
    Some(RegistryCredentials {
        username: values.get(&r.name, &r.username_key)?.to_owned(),
        password: values.get(&r.name, &r.password_key)?.to_owned(),
        version: values.version(&r.name)?.to_owned(),
    })
}
