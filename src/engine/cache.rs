//! A short-lived cache of Quay list answers, shared by every object of one
//! connection, so that N objects in one namespace cost one list call, and
//! concurrent reconciles wait for one call in flight instead of each sending
//! their own.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

type Value = Arc<dyn Any + Send + Sync>;

struct Entry {
    created: Instant,
    /// How long the entry serves: the cache's TTL for fetched answers, longer for
    /// what the operator knows from its own writes.
    ttl: Duration,
    cell: Arc<OnceCell<Value>>,
}

/// Keyed list answers, each valid for `ttl` after it was fetched.
pub(crate) struct ListCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl ListCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        ListCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached value for `key`, or the result of `fetch` (stored when it succeeds).
    pub(crate) async fn get_or_fetch<T, E, F, Fut>(&self, key: &str, fetch: F) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let fresh = entries
                .get(key)
                .filter(|e| e.created.elapsed() < e.ttl || !e.cell.initialized());
            match fresh {
                Some(entry) => entry.cell.clone(),
                None => {
                    let cell = Arc::new(OnceCell::new());
                    entries.insert(
                        key.to_owned(),
                        Entry {
                            created: Instant::now(),
                            ttl: self.ttl,
                            cell: cell.clone(),
                        },
                    );
                    cell
                }
            }
        };
        let value = cell
            .get_or_try_init(|| async { fetch().await.map(|v| Arc::new(v) as Value) })
            .await?;
        Ok(value
            .clone()
            .downcast::<T>()
            .unwrap_or_else(|_| panic!("cache key {key} holds another type")))
    }

    /// Applies our own write to a cached value, so later readers see it
    /// without another list call. Does nothing when nothing is cached; a
    /// list still being fetched may have been answered before the write, so
    /// it is forgotten (later readers fetch afresh).
    pub(crate) fn modify<T: Clone + Send + Sync + 'static>(
        &self,
        key: &str,
        change: impl FnOnce(&mut T),
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = entries.get(key) else {
            return;
        };
        let Some(current) = entry.cell.get().cloned() else {
            entries.remove(key);
            return;
        };
        let Ok(current) = current.downcast::<T>() else {
            return;
        };
        let mut value = (*current).clone();
        change(&mut value);
        let cell = OnceCell::new_with(Some(Arc::new(value) as Value));
        if let Some(entry) = entries.get_mut(key) {
            entry.cell = Arc::new(cell);
        }
    }

    /// Stores a value the operator knows without asking (e.g. the empty
    /// notification list of a repository it has just created), serving for
    /// `lifetime` or the cache's TTL, whichever is longer.
    pub(crate) fn insert<T: Send + Sync + 'static>(&self, key: &str, value: T, lifetime: Duration) {
        let cell = OnceCell::new_with(Some(Arc::new(value) as Value));
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                key.to_owned(),
                Entry {
                    created: Instant::now(),
                    ttl: lifetime.max(self.ttl),
                    cell: Arc::new(cell),
                },
            );
    }

    /// Forgets every cached value whose key starts with `prefix`.
    pub(crate) fn invalidate_prefix(&self, prefix: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|key, _| !key.starts_with(prefix));
    }

    /// Forgets a cached value.
    pub(crate) fn invalidate(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn one_fetch_serves_concurrent_and_later_readers() {
        let cache = ListCache::new(Duration::from_secs(60));
        let calls = AtomicU32::new(0);
        let fetch = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, ()>(vec![1, 2])
        };
        let (a, b) = tokio::join!(
            cache.get_or_fetch("k", fetch),
            cache.get_or_fetch("k", fetch)
        );
        assert_eq!(*a.unwrap(), vec![1, 2]);
        assert_eq!(*b.unwrap(), vec![1, 2]);
        cache.get_or_fetch("k", fetch).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_entries_expire() {
        let cache = ListCache::new(Duration::from_millis(30));
        assert!(
            cache
                .get_or_fetch::<u8, _, _, _>("k", || async { Err("down") })
                .await
                .is_err()
        );
        assert_eq!(
            *cache
                .get_or_fetch("k", || async { Ok::<_, ()>(1u8) })
                .await
                .unwrap(),
            1
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            *cache
                .get_or_fetch("k", || async { Ok::<_, ()>(2u8) })
                .await
                .unwrap(),
            2
        );
    }

    #[tokio::test]
    async fn own_writes_update_the_cached_value() {
        let cache = ListCache::new(Duration::from_secs(60));
        cache
            .get_or_fetch("k", || async { Ok::<_, ()>(vec![1u8]) })
            .await
            .unwrap();
        cache.modify::<Vec<u8>>("k", |v| v.push(2));
        let v = cache
            .get_or_fetch("k", || async { Ok::<_, ()>(vec![9u8]) })
            .await
            .unwrap();
        assert_eq!(*v, vec![1, 2]);
        cache.invalidate("k");
        let v = cache
            .get_or_fetch("k", || async { Ok::<_, ()>(vec![9u8]) })
            .await
            .unwrap();
        assert_eq!(*v, vec![9]);
    }

    #[tokio::test]
    async fn a_write_during_a_fetch_makes_the_next_reader_fetch_afresh() {
        let cache = ListCache::new(Duration::from_secs(60));
        let (answered, answer) = tokio::sync::oneshot::channel::<()>();
        // A list asked before our write, answered (without it) after it.
        let early = cache.get_or_fetch("k", || async {
            answer.await.unwrap();
            Ok::<_, ()>(vec![1u8])
        });
        let write = async {
            tokio::task::yield_now().await;
            cache.modify::<Vec<u8>>("k", |v| v.push(2));
            answered.send(()).unwrap();
        };
        let (early, ()) = tokio::join!(early, write);
        assert_eq!(*early.unwrap(), vec![1]);
        let later = cache
            .get_or_fetch("k", || async { Ok::<_, ()>(vec![1u8, 2]) })
            .await
            .unwrap();
        assert_eq!(*later, vec![1, 2]);
    }
}
