//! Request counters of the emulated API (control calls are not counted).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many API calls the emulator served, in total, per HTTP method and per
/// route template (`"GET /api/v1/repository/{repository}"`; requests that match
/// no rule are counted as `"GET (unmatched)"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// All API calls.
    pub total: u64,
    /// Calls per method (`"GET"`, `"PUT"`, ...).
    pub by_method: BTreeMap<String, u64>,
    /// Calls per `"METHOD template"`.
    pub by_route: BTreeMap<String, u64>,
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

    /// Counts one call.
    pub(crate) fn record(&mut self, method: &str, route: String) {
        self.total += 1;
        *self.by_method.entry(method.to_string()).or_default() += 1;
        *self.by_route.entry(route).or_default() += 1;
    }
}
