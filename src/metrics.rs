//! The operator's Prometheus metrics: reconcile outcomes per kind, their
//! error reasons, and the Quay API calls made (the cost that matters on a
//! real Quay). Labels never hold object names, so cardinality stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::quay::CallCounters;

/// Counters of the running operator.
#[derive(Debug, Default)]
pub struct Metrics {
    reconciles: Mutex<BTreeMap<(String, &'static str), u64>>,
    errors: Mutex<BTreeMap<(String, String), u64>>,
    /// Quay API calls, fed by the clients the operator builds.
    pub quay: Arc<CallCounters>,
}

impl Metrics {
    /// Counts one finished reconcile of `kind`; `reason` is set when it failed.
    pub fn reconciled(&self, kind: &str, reason: Option<&str>) {
        let result = if reason.is_some() { "error" } else { "success" };
        *self
            .reconciles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((kind.to_owned(), result))
            .or_default() += 1;
        if let Some(reason) = reason {
            *self
                .errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry((kind.to_owned(), reason.to_owned()))
                .or_default() += 1;
        }
    }

    /// The counters in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP quay_config_operator_reconcile_total Finished reconciles by kind and result.\n",
        );
        out.push_str("# TYPE quay_config_operator_reconcile_total counter\n");
        for ((kind, result), n) in self
            .reconciles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "quay_config_operator_reconcile_total{{kind=\"{kind}\",result=\"{result}\"}} {n}"
            );
        }
        out.push_str("# HELP quay_config_operator_reconcile_errors_total Failed reconciles by kind and reason.\n");
        out.push_str("# TYPE quay_config_operator_reconcile_errors_total counter\n");
        for ((kind, reason), n) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                out,
                "quay_config_operator_reconcile_errors_total{{kind=\"{kind}\",reason=\"{reason}\"}} {n}"
            );
        }
        let requests = self.quay.requests.load(Ordering::Relaxed);
        let writes = self.quay.writes.load(Ordering::Relaxed);
        out.push_str(
            "# HELP quay_api_requests_total Requests sent to the Quay API, by kind of call.\n",
        );
        out.push_str("# TYPE quay_api_requests_total counter\n");
        let _ = writeln!(
            out,
            "quay_api_requests_total{{call=\"read\"}} {}",
            requests - writes.min(requests)
        );
        let _ = writeln!(out, "quay_api_requests_total{{call=\"write\"}} {writes}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_calls_render_as_prometheus_counters() {
        let m = Metrics::default();
        m.reconciled("QuayRepository", None);
        m.reconciled("QuayRepository", None);
        m.reconciled("QuayRepository", Some("QuayRejected"));
        m.quay.requests.fetch_add(5, Ordering::Relaxed);
        m.quay.writes.fetch_add(2, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains(
            "quay_config_operator_reconcile_total{kind=\"QuayRepository\",result=\"success\"} 2\n"
        ));
        assert!(text.contains(
            "quay_config_operator_reconcile_total{kind=\"QuayRepository\",result=\"error\"} 1\n"
        ));
        assert!(text.contains("quay_config_operator_reconcile_errors_total{kind=\"QuayRepository\",reason=\"QuayRejected\"} 1\n"));
        assert!(text.contains("quay_api_requests_total{call=\"read\"} 3\n"));
        assert!(text.contains("quay_api_requests_total{call=\"write\"} 2\n"));
    }
}
