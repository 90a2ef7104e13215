//! The operator's Prometheus metrics, through the Prometheus project's client
//! crate, with the names controller-runtime users know
//! (`controller_runtime_reconcile_total`, `..._errors_total`,
//! `..._time_seconds`) plus the error reasons and the Quay API calls (the
//! cost that matters on a real Quay) by method, route template and status.
//! Labels never hold object names, so cardinality stays bounded.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::quay::CallObserver;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    controller: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    controller: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

/// Histogram buckets from 5 ms to about 80 s.
#[derive(Clone)]
struct Seconds;

impl MetricConstructor<Histogram> for Seconds {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.005, 2.0, 15))
    }
}

/// The metrics of the running operator.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ResultLabels, Counter>,
    errors: Family<ControllerLabels, Counter>,
    reasons: Family<ReasonLabels, Counter>,
    reconcile_time: Family<ControllerLabels, Histogram, Seconds>,
    quay_requests: Family<CallLabels, Counter>,
    quay_time: Family<RouteLabels, Histogram, Seconds>,
    ready: Gauge,
    leader: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let reconciles = Family::<ResultLabels, Counter>::default();
        registry.register(
            "controller_runtime_reconcile",
            "Finished reconciles by controller (kind) and result",
            reconciles.clone(),
        );
        let errors = Family::<ControllerLabels, Counter>::default();
        registry.register(
            "controller_runtime_reconcile_errors",
            "Failed reconciles by controller (kind)",
            errors.clone(),
        );
        let reasons = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "quay_config_operator_reconcile_errors",
            "Failed reconciles by controller (kind) and condition reason",
            reasons.clone(),
        );
        let reconcile_time = Family::new_with_constructor(Seconds);
        registry.register_with_unit(
            "controller_runtime_reconcile_time",
            "Time of one reconcile, by controller (kind)",
            Unit::Seconds,
            reconcile_time.clone(),
        );
        let quay_requests = Family::<CallLabels, Counter>::default();
        registry.register(
            "quay_api_requests",
            "Requests sent to the Quay API by method, route template and status (error: no answer)",
            quay_requests.clone(),
        );
        let quay_time = Family::new_with_constructor(Seconds);
        registry.register_with_unit(
            "quay_api_request_duration",
            "Time until Quay's answer, by method and route template",
            Unit::Seconds,
            quay_time.clone(),
        );
        let build = Family::<VersionLabels, Gauge>::default();
        build
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "quay_config_operator_build_info",
            "The operator's version",
            build,
        );
        let ready = Gauge::default();
        registry.register(
            "quay_config_operator_ready",
            "Whether this replica is ready (1) or starting (0)",
            ready.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "quay_config_operator_leader",
            "Whether this replica holds the leader Lease and runs the controllers (1) or waits (0)",
            leader.clone(),
        );
        Metrics {
            registry,
            reconciles,
            errors,
            reasons,
            reconcile_time,
            quay_requests,
            quay_time,
            ready,
            leader,
        }
    }
}

impl Metrics {
    /// Counts one finished reconcile of `kind` that took `elapsed`; `reason`
    /// is set when it failed.
    pub fn reconciled(&self, kind: &str, reason: Option<&str>, elapsed: Duration) {
        let controller = kind.to_owned();
        let result = if reason.is_some() { "error" } else { "success" };
        self.reconciles
            .get_or_create(&ResultLabels {
                controller: controller.clone(),
                result,
            })
            .inc();
        self.reconcile_time
            .get_or_create(&ControllerLabels {
                controller: controller.clone(),
            })
            .observe(elapsed.as_secs_f64());
        if let Some(reason) = reason {
            self.errors
                .get_or_create(&ControllerLabels {
                    controller: controller.clone(),
                })
                .inc();
            self.reasons
                .get_or_create(&ReasonLabels {
                    controller,
                    reason: reason.to_owned(),
                })
                .inc();
        }
    }

    /// Sets whether this replica is ready and whether it leads.
    pub fn set_state(&self, ready: bool, leader: bool) {
        self.ready.set(i64::from(ready));
        self.leader.set(i64::from(leader));
    }

    /// Everything in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl CallObserver for Metrics {
    fn observe(&self, method: &str, route: &str, status: Option<u16>, elapsed: Duration) {
        let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        self.quay_requests
            .get_or_create(&CallLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.quay_time
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_calls_and_state_render_with_controller_runtime_names() {
        let m = Metrics::default();
        m.reconciled("QuayRepository", None, Duration::from_millis(20));
        m.reconciled("QuayRepository", None, Duration::from_millis(20));
        m.reconciled(
            "QuayRepository",
            Some("QuayRejected"),
            Duration::from_millis(20),
        );
        m.observe(
            "GET",
            "/repository/{}/{}",
            Some(200),
            Duration::from_millis(3),
        );
        m.observe("PUT", "/repository/{}/{}", None, Duration::from_millis(3));
        m.set_state(true, false);
        let text = m.render();
        for line in [
            "controller_runtime_reconcile_total{controller=\"QuayRepository\",result=\"success\"} 2\n",
            "controller_runtime_reconcile_total{controller=\"QuayRepository\",result=\"error\"} 1\n",
            "controller_runtime_reconcile_errors_total{controller=\"QuayRepository\"} 1\n",
            "quay_config_operator_reconcile_errors_total{controller=\"QuayRepository\",reason=\"QuayRejected\"} 1\n",
            "controller_runtime_reconcile_time_seconds_count{controller=\"QuayRepository\"} 3\n",
            "quay_api_requests_total{method=\"GET\",route=\"/repository/{}/{}\",status=\"200\"} 1\n",
            "quay_api_requests_total{method=\"PUT\",route=\"/repository/{}/{}\",status=\"error\"} 1\n",
            "quay_api_request_duration_seconds_count{method=\"GET\",route=\"/repository/{}/{}\"} 1\n",
            "quay_config_operator_ready 1\n",
            "quay_config_operator_leader 0\n",
        ] {
            assert!(text.contains(line), "{line}in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn routes_keep_quay_words_and_hide_names() {
        use crate::quay::route_template;
        assert_eq!(
            route_template("/repository/acme/app/notification/"),
            "/repository/{}/{}/notification/"
        );
        assert_eq!(
            route_template("/organization/acme/robots/bot?token=true"),
            "/organization/{}/robots/{}"
        );
        assert_eq!(route_template("/user/"), "/user/");
    }
}
