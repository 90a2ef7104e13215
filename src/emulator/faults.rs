//! Fault injection: rules that make matching API calls slow, fail with a status
//! (optionally with `Retry-After`) or lose their connection.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fault rule as posted to `POST /__emulator/faults`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Status code of the injected error response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Adds `Retry-After: N` to the injected response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// Delay before answering (or before the injected error / drop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Close the TCP connection without any HTTP response.
    #[serde(default)]
    pub drop_connection: bool,
    /// Strike after Quay has done the request: the change is made and the
    /// answer is lost (the status, latency or dropped connection replaces it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after: bool,
    /// Applies to the next N matching requests (then the rule is removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Applies to this fraction (0.0-1.0) of matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// Only requests with this method (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose path starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
}

impl FaultRule {
    /// Checks the rule's values.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(status) = self.status
            && !(100..=599).contains(&status)
        {
            return Err(format!("invalid status {status}"));
        }
        if let Some(f) = self.fraction
            && !(0.0..=1.0).contains(&f)
        {
            return Err(format!("fraction {f} is not between 0.0 and 1.0"));
        }
        if self.count.is_some() && self.fraction.is_some() {
            return Err("give either count or fraction, not both".to_string());
        }
        if self.status.is_none() && self.latency_ms.is_none() && !self.drop_connection {
            return Err("a fault needs status, latency_ms or drop_connection".to_string());
        }
        Ok(())
    }

    fn applies_to(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}

/// What to do to one request.
#[derive(Clone, Debug, Default)]
pub struct Fault {
    pub after: bool,
    pub latency: Option<Duration>,
    pub drop_connection: bool,
    pub status: Option<u16>,
    pub retry_after_s: Option<u64>,
}

/// The active fault rules.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The rules (with their remaining counts).
    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    /// The fault for a request: the first rule that matches and fires.
    /// Consumes one use of a counted rule.
    pub fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let index = self.rules.iter().position(|rule| {
            rule.applies_to(method, path)
                && match (rule.count, rule.fraction) {
                    (Some(n), _) => n > 0,
                    (None, Some(f)) => rand::random::<f64>() < f,
                    (None, None) => true,
                }
        })?;
        let rule = self.rules[index].clone();
        if let Some(n) = rule.count {
            if n <= 1 {
                self.rules.remove(index);
            } else {
                self.rules[index].count = Some(n - 1);
            }
        }
        Some(Fault {
            after: rule.after,
            latency: rule.latency_ms.map(Duration::from_millis),
            drop_connection: rule.drop_connection,
            status: rule.status,
            retry_after_s: rule.retry_after_s,
        })
    }
}
