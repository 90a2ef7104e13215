//! Engine tests: the Kubernetes-free reconcile loop against the emulator.

mod access;
mod cost;
pub mod feed;
mod global_message;
mod mirror;
mod notification;
mod oauth_application;
mod organization;
mod proxy_cache;
mod quota;
mod repository;
mod robot_team;
mod team_invites;
mod user_namespace;
mod workload;

use std::time::Duration;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::engine::Quay;
use quay_config_operator::quay::{ClientOptions, QuayClient, RetryPolicy};
use secrecy::SecretString;

const TOKEN: &str = "engine-test-token";

/// An emulator and an engine endpoint for it.
pub struct Setup {
    pub emulator: Emulator,
    pub quay: Quay,
}

impl Setup {
    pub async fn new() -> Setup {
        let emulator = Emulator::start(EmulatorConfig {
            token: Some(TOKEN.to_owned()),
            superusers_full_access: false,
            mailing: false,
        })
        .await
        .expect("emulator");
        let quay = Setup::quay_for(&emulator);
        Setup { emulator, quay }
    }

    /// A fresh endpoint (own list cache) for the same emulator, as after a restart.
    pub fn quay_for(emulator: &Emulator) -> Quay {
        let mut options = ClientOptions::new(emulator.url(), SecretString::from(TOKEN.to_owned()));
        options.retry = RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(10),
            max_retry_after: Duration::from_secs(1),
        };
        Quay::new(
            QuayClient::new(options).expect("client"),
            Duration::from_secs(60),
        )
    }

    pub fn client(&self) -> &QuayClient {
        &self.quay.client
    }

    /// Posts to the emulator's control API (`/__emulator/{what}`).
    pub async fn control(&self, what: &str, body: serde_json::Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/__emulator/{what}", self.emulator.url()))
            .json(&body)
            .send()
            .await
            .expect("control call");
        assert!(
            response.status().is_success(),
            "{what}: {}",
            response.status()
        );
    }

    /// Injects a fault through the emulator's control API.
    pub async fn fault(&self, body: serde_json::Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/__emulator/faults", self.emulator.url()))
            .json(&body)
            .send()
            .await
            .expect("fault");
        assert!(response.status().is_success());
    }
}
