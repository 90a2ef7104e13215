//! The cost model: on a real Quay every call with a token costs one bcrypt
//! check (0.2–0.5 s of server CPU) on one of a few workers. With a cost model
//! each such call waits for one of `workers` permits and holds it for
//! `request_cost` before it is answered, so benchmarks see queueing like a
//! real Quay's. Calls without a (known) token, and the control API, are free.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::stats::Stats;
use super::{Shared, lock};

/// What an authenticated API call costs the emulated server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CostModel {
    /// Calls served at once (Quay's worker processes).
    pub workers: usize,
    /// Time one call occupies a worker before it is answered.
    pub request_cost: Duration,
}

impl CostModel {
    /// `None` when the model costs nothing (no workers or a zero cost).
    pub fn effective(self) -> Option<CostModel> {
        (self.workers > 0 && !self.request_cost.is_zero()).then_some(self)
    }
}

/// A cost model with its workers.
#[derive(Clone, Debug)]
pub(crate) struct Gate {
    pub model: CostModel,
    workers: Arc<Semaphore>,
}

impl Gate {
    pub fn new(model: CostModel) -> Gate {
        Gate {
            model,
            workers: Arc::new(Semaphore::new(model.workers)),
        }
    }

    /// Waits for a worker and occupies it for the request cost; the returned
    /// guard keeps the worker until the call is answered.
    pub async fn serve(&self, shared: &Shared) -> Worker {
        // The semaphore is never closed, so acquiring only fails in theory.
        let permit = self.workers.clone().acquire_owned().await.ok();
        let gauge = Gauge::enter(shared, &shared.serving, |stats| &mut stats.peak_served);
        tokio::time::sleep(self.model.request_cost).await;
        Worker {
            _gauge: gauge,
            _permit: permit,
        }
    }
}

/// A worker held by one call, until this is dropped.
pub(crate) struct Worker {
    // Dropped in this order: the call stops counting as served, then frees the worker.
    _gauge: Gauge,
    _permit: Option<OwnedSemaphorePermit>,
}

/// Counts a call in a gauge while it lives, raising the gauge's peak in the stats.
pub(crate) struct Gauge {
    counter: Arc<AtomicU64>,
}

impl Gauge {
    pub fn enter(
        shared: &Shared,
        counter: &Arc<AtomicU64>,
        peak: fn(&mut Stats) -> &mut u64,
    ) -> Gauge {
        let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let mut stats = lock(&shared.stats);
        let peak = peak(&mut stats);
        *peak = (*peak).max(now);
        Gauge {
            counter: counter.clone(),
        }
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}
