//! Contract tests of the Quay client. By default they run against an
//! in-process emulator; with `QUAY_TEST_URL` and `QUAY_TEST_TOKEN` set (a
//! superuser's token) the same tests run against that real Quay, with
//! unique names per run and cleanup. Assertions are about what a real Quay
//! does, so these tests are also how the emulator's fidelity is checked.

mod applications;
mod autoprune;
mod errors;
mod export;
mod full_access;
mod logs;
mod messages;
mod mirror;
mod notifications;
mod organizations;
mod permissions;
mod proxycache;
mod quota;
mod repositories;
mod robots;
mod teams;
mod user_namespace;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::quay::{ClientOptions, QuayClient};
use secrecy::SecretString;

/// Token of the emulator's pre-created superuser `quayadmin`.
pub const EMULATOR_TOKEN: &str = "contract-test-token";

/// A Quay to test against: the emulator, or a real one from the environment.
pub struct Target {
    /// Client with a superuser token.
    pub client: QuayClient,
    /// The emulator, when one runs (kept alive for the test).
    pub emulator: Option<Emulator>,
    run_id: String,
}

impl Target {
    /// The real Quay from `QUAY_TEST_URL`/`QUAY_TEST_TOKEN`, else a fresh emulator.
    pub async fn new() -> Target {
        Target::with_config(EmulatorConfig {
            token: Some(EMULATOR_TOKEN.to_owned()),
            superusers_full_access: false,
            mailing: false,
        })
        .await
    }

    /// Like [`Target::new`], with a given emulator configuration.
    pub async fn with_config(config: EmulatorConfig) -> Target {
        let run_id = format!("{:x}", rand_suffix());
        if let (Ok(url), Ok(token)) = (
            std::env::var("QUAY_TEST_URL"),
            std::env::var("QUAY_TEST_TOKEN"),
        ) {
            let client = QuayClient::new(ClientOptions::new(url, SecretString::from(token)))
                .expect("client");
            return Target {
                client,
                emulator: None,
                run_id,
            };
        }
        let token = config.token.clone().unwrap_or_default();
        let emulator = Emulator::start(config).await.expect("start emulator");
        let client = QuayClient::new(ClientOptions::new(
            emulator.url(),
            SecretString::from(token),
        ))
        .expect("client");
        Target {
            client,
            emulator: Some(emulator),
            run_id,
        }
    }

    /// Whether the tests run against a real Quay.
    pub fn is_real(&self) -> bool {
        self.emulator.is_none()
    }

    /// A name unique to this run (Quay names: lower case, digits, `_`, `-`, `.`).
    pub fn name(&self, base: &str) -> String {
        format!("qco{base}{}", self.run_id)
    }

    /// A client for the same Quay with another token.
    pub fn client_with_token(&self, token: &str) -> QuayClient {
        QuayClient::new(ClientOptions::new(
            self.client.base_url(),
            SecretString::from(token.to_owned()),
        ))
        .expect("client")
    }

    /// Creates a fresh organization for one test.
    pub async fn org(&self, base: &str) -> String {
        let name = self.name(base);
        self.client
            .create_organization(&name, Some("contract@example.com"))
            .await
            .expect("create organization");
        name
    }

    /// Deletes an organization created by [`Target::org`].
    pub async fn cleanup(&self, org: &str) {
        self.client
            .delete_organization(org)
            .await
            .expect("delete organization");
    }

    /// POSTs to the emulator's control API.
    pub async fn control(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let url = format!("{}{path}", self.emulator.as_ref().expect("emulator").url());
        let response = reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("control call");
        assert!(
            response.status().is_success(),
            "control call {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(serde_json::Value::Null)
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    nanos ^ std::process::id().rotate_left(16)
}
