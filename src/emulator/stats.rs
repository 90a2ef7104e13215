//! Request counters of the emulated API (control calls are not counted).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many API calls the emulator served, in total, per HTTP method and per
/// route template (`"GET /api/v1/repository/{repository}"`; requests that match
/// no rule are counted as `"GET (unmatched)"`), how many failed, and how many
/// were in the emulator at once (see the cost model in [`super`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// All API calls.
    pub total: u64,
    /// Calls per method (`"GET"`, `"PUT"`, ...).
    pub by_method: BTreeMap<String, u64>,
    /// Calls per `"METHOD template"`.
    pub by_route: BTreeMap<String, u64>,
    /// Calls answered with a status from 400 to 499 (injected faults included).
    #[serde(default)]
    pub client_errors: u64,
    /// Calls answered with a status of 500 or more (injected faults included).
    #[serde(default)]
    pub server_errors: u64,
    /// Most calls in the emulator at once: waiting for a worker of the cost
    /// model or being served.
    #[serde(default)]
    pub peak_in_flight: u64,
    /// Most calls holding a worker of the cost model at once (at most its
    /// `workers`; 0 without a cost model).
    #[serde(default)]
    pub peak_served: u64,
}

impl Stats {
    /// All non-GET API calls.
    pub fn writes(&self) -> u64 {
        self.by_method
            .iter()
            .filter(|(method, _)| method.as_str() != "GET")
            .map(|(_, n)| n)
            .sum()
    }

    /// Calls answered with a status of 400 or more.
    pub fn errors(&self) -> u64 {
        self.client_errors + self.server_errors
    }

    /// Counts the status of one answer.
    pub(crate) fn record_status(&mut self, status: u16) {
        match status {
            400..=499 => self.client_errors += 1,
            500.. => self.server_errors += 1,
            _ => {}
        }
    }

    /// Counts one call.
    pub(crate) fn record(&mut self, method: &str, route: String) {
        self.total += 1;
        *self.by_method.entry(method.to_string()).or_default() += 1;
        *self.by_route.entry(route).or_default() += 1;
    }
}
