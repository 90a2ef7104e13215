//! One Quay endpoint as the engine sees it: the client plus the list cache
//! shared by every object reconciled through it.

use std::sync::Arc;
use std::time::Duration;

use super::cache::ListCache;
use crate::quay::QuayClient;
use crate::quay::api::repository::Repository;

/// A Quay endpoint with its shared observation cache. Cheap to clone.
#[derive(Clone)]
pub struct Quay {
    /// The typed API client.
    pub client: QuayClient,
    cache: Arc<ListCache>,
}

impl std::fmt::Debug for Quay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quay")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// How long a list answer serves further objects of the same namespace.
pub const DEFAULT_LIST_TTL: Duration = Duration::from_secs(20);

impl Quay {
    /// Wraps a client; list answers are shared for `list_ttl`.
    pub fn new(client: QuayClient, list_ttl: Duration) -> Self {
        Quay {
            client,
            cache: Arc::new(ListCache::new(list_ttl)),
        }
    }

    /// Every repository of a namespace, from one (shared) list call.
    pub async fn repositories(
        &self,
        namespace: &str,
    ) -> Result<Arc<Vec<Repository>>, crate::quay::QuayError> {
        self.cache
            .get_or_fetch(&repositories_key(namespace), || {
                self.client.list_repositories(namespace)
            })
            .await
    }

    /// Records our own write of a repository in the shared list (`None` removes it).
    pub(crate) fn remember_repository(
        &self,
        namespace: &str,
        name: &str,
        repo: Option<Repository>,
    ) {
        self.cache
            .modify::<Vec<Repository>>(&repositories_key(namespace), |repos| {
                repos.retain(|r| r.name != name);
                repos.extend(repo);
            });
    }

    /// Forgets the shared list of a namespace (after a write whose result we cannot predict).
    pub(crate) fn forget_repositories(&self, namespace: &str) {
        self.cache.invalidate(&repositories_key(namespace));
    }
}

fn repositories_key(namespace: &str) -> String {
    format!("repositories/{namespace}")
}
