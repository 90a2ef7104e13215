//! Hostile values at the door: names with slashes, `..`, unicode and control
//! characters, 10 MB strings, negative and huge numbers, URLs with credentials
//! or `file://`. Each is refused by the CRD schema and rules (what `plan`,
//! `apply` and the apiserver check) with a message naming the field; nothing
//! reaches Quay and no secret is echoed.

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::gitops::InputError;
use quay_config_operator::gitops::manifests::parse;
use quay_config_operator::gitops::validate::validate;
use serde_json::{Value, json};

/// A manifest of `kind` whose spec is `spec`.
fn manifest(kind: &str, spec: Value) -> String {
    let document = json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": kind,
        "metadata": {"name": "hostile"}, "spec": spec
    });
    // JSON is YAML: no quoting surprises for control characters.
    serde_json::to_string(&document).unwrap()
}

fn errors(text: &str) -> Vec<InputError> {
    match parse("hostile.yaml", text) {
        Err(e) => vec![e],
        Ok(documents) => validate(documents).err().unwrap_or_default(),
    }
}

const TEN_MB: usize = 10 * 1024 * 1024;

/// (kind, spec, field the error names).
fn table() -> Vec<(&'static str, Value, &'static str)> {
    let repo = |field: &str, value: Value| {
        let mut spec = json!({"namespace": "acme", "name": "app"});
        spec[field] = value;
        spec
    };
    let huge = "a".repeat(TEN_MB);
    vec![
        (
            "QuayRepository",
            repo("namespace", json!("acme/evil")),
            "spec.namespace",
        ),
        (
            "QuayRepository",
            repo("namespace", json!("..")),
            "spec.namespace",
        ),
        (
            "QuayRepository",
            repo("namespace", json!("ａｃｍｅ")),
            "spec.namespace",
        ),
        (
            "QuayRepository",
            repo("namespace", json!("ACME")),
            "spec.namespace",
        ),
        (
            "QuayRepository",
            repo("namespace", json!("acme\u{0}")),
            "spec.namespace",
        ),
        (
            "QuayRepository",
            repo("name", json!("app/../../etc")),
            "spec.name",
        ),
        ("QuayRepository", repo("name", json!("app\nx")), "spec.name"),
        (
            "QuayRepository",
            repo("name", json!(huge.clone())),
            "spec.name",
        ),
        (
            "QuayRepository",
            repo("description", json!(huge)),
            "spec.description",
        ),
        (
            "QuayRepository",
            repo("visibility", json!("PUBLIC")),
            "spec.visibility",
        ),
        (
            "QuayRepository",
            repo("autoPrunePolicies", json!([{"numberOfTags": -5}])),
            "spec.autoPrunePolicies[0].numberOfTags",
        ),
        (
            "QuayRepository",
            repo("autoPrunePolicies", json!([{"numberOfTags": 1u64 << 40}])),
            "spec.autoPrunePolicies[0].numberOfTags",
        ),
        (
            "QuayRepository",
            repo("autoPrunePolicies", json!([{"creationDate": "-14d"}])),
            "spec.autoPrunePolicies[0].creationDate",
        ),
        (
            "QuayRobotAccount",
            json!({"organization": "acme", "name": "bot+admin"}),
            "spec.name",
        ),
        (
            "QuayTeam",
            json!({"organization": "acme", "name": "owners\t"}),
            "spec.name",
        ),
        (
            "QuayQuota",
            json!({"organization": "acme", "limit": "-1Gi"}),
            "spec.limit",
        ),
        (
            "QuayQuota",
            json!({"organization": "acme", "limit": "99999999999999999999999Ti"}),
            "spec.limit",
        ),
        (
            "QuayQuota",
            json!({"organization": "acme", "limit": "10Gx"}),
            "spec.limit",
        ),
        (
            "QuayConnection",
            json!({"url": "file:///etc/passwd", "tokenSecretRef": {"name": "t"}}),
            "spec.url",
        ),
        (
            "QuayConnection",
            json!({"url": "https://admin:hunter2@quay.example.com", "tokenSecretRef": {"name": "t"}}),
            "spec.url",
        ),
        (
            "QuayConnection",
            json!({"url": "https://quay.example.com", "tokenSecretRef": {"name": "t"}, "timeoutSeconds": -1}),
            "spec.timeoutSeconds",
        ),
        (
            "QuayConnection",
            json!({"url": "https://quay.example.com", "tokenSecretRef": {"name": "t"}, "timeoutSeconds": 1u64 << 40}),
            "spec.timeoutSeconds",
        ),
        (
            "QuayNotification",
            json!({"repository": "acme/app", "event": "repo_push", "method": "webhook",
                   "config": {"url": "https://user:s3cr3t-hook@hooks.example.com/x"}}),
            "spec.config.url",
        ),
        (
            "QuayNotification",
            json!({"repository": "acme/app", "event": "repo_push", "method": "webhook",
                   "config": {"url": "file:///var/run/secrets/token"}}),
            "spec.config.url",
        ),
        (
            "QuayMirrorConfig",
            json!({"repository": "acme/app", "externalReference": "file:///etc/passwd",
                   "syncInterval": "1h", "robotUsername": "bot", "rootRule": ["latest"]}),
            "spec.externalReference",
        ),
        (
            "QuayMirrorConfig",
            json!({"repository": "acme/app", "externalReference": "quay.io/a/b",
                   "syncInterval": "-5m", "robotUsername": "bot", "rootRule": ["latest"]}),
            "spec.syncInterval",
        ),
        (
            "QuayMirrorConfig",
            json!({"repository": "acme/app", "externalReference": "quay.io/a/b",
                   "syncInterval": "1h", "syncStartDate": "yesterday", "robotUsername": "bot",
                   "rootRule": ["latest"]}),
            "spec.syncStartDate",
        ),
        (
            "QuayOAuthApplication",
            json!({"organization": "acme", "description": "a".repeat(TEN_MB)}),
            "spec.description",
        ),
        (
            "QuayOAuthApplication",
            json!({"organization": "acme/../x"}),
            "spec.organization",
        ),
        (
            "QuayOAuthApplication",
            json!({"organization": "acme", "secretName": "../token"}),
            "spec.secretName",
        ),
        (
            "QuayProxyCache",
            json!({"organization": "cache", "upstreamRegistry": "http://169.254.169.254/latest"}),
            "spec.upstreamRegistry",
        ),
        (
            "QuayProxyCache",
            json!({"organization": "cache", "upstreamRegistry": "quay.io", "expirationSeconds": -1}),
            "spec.expirationSeconds",
        ),
    ]
}

#[tokio::test]
async fn every_hostile_value_is_refused_naming_its_field_and_quay_hears_nothing() {
    let emulator = Emulator::start(EmulatorConfig {
        token: Some("hostile-token".into()),
        superusers_full_access: true,
        mailing: false,
    })
    .await
    .unwrap();
    let mut misses = Vec::new();
    for (kind, spec, field) in table() {
        let text = manifest(kind, spec);
        let errors = errors(&text);
        let hit = errors
            .iter()
            .find(|e| e.field.as_deref().is_some_and(|f| f.starts_with(field)));
        match hit {
            None => misses.push(format!(
                "{kind} {field}: no error there; got {:?}",
                errors
                    .iter()
                    .map(|e| e.to_string().chars().take(200).collect::<String>())
                    .collect::<Vec<_>>()
            )),
            Some(error) => {
                let message = error.to_string();
                assert!(!error.message.is_empty(), "{kind} {field}");
                assert!(
                    message.len() < 4096,
                    "{kind} {field}: the message echoes the input"
                );
                for secret in ["hunter2", "s3cr3t-hook"] {
                    assert!(!message.contains(secret), "{kind} {field}: {message}");
                }
            }
        }
    }
    assert!(misses.is_empty(), "{misses:#?}");
    assert_eq!(emulator.stats().total, 0, "validation never calls Quay");
}
