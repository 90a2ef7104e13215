//! The Argo CD health check (`deploy/argocd/health.lua`) run as Argo CD runs
//! it (Lua 5.1), on statuses the controllers wrote in these tests: healthy,
//! progressing (not yet observed, waiting for a dependency), degraded (a
//! conflict, a namespace the tenancy rules refuse).

use mlua::{Lua, LuaSerdeExt, SerializeOptions, Table};
use quay_config_operator::crd::QuayRepository;
use serde_json::{Value, json};

use super::tenancy::{
    context, emulator_with_orgs, expect_connection_in, expect_event_in, expect_status_of, refused,
    repo_json, start,
};
use super::{NS, connection, mock_client};

const HEALTH: &str = include_str!("../../../deploy/argocd/health.lua");

/// Argo CD's verdict on `object`: (status, message).
fn health(object: &Value) -> (String, String) {
    let lua = Lua::new();
    let options = SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    let obj = lua.to_value_with(object, options).unwrap();
    lua.globals().set("obj", obj).unwrap();
    let hs: Table = lua.load(HEALTH).eval().unwrap();
    (
        hs.get::<String>("status").unwrap(),
        hs.get::<Option<String>>("message")
            .unwrap()
            .unwrap_or_default(),
    )
}

/// One reconcile of `object` (with `others` in the cache) through the
/// namespaced connection `default`: the object with the status it got.
async fn reconciled(emu_url: &str, object: Value, others: &[Value], reason: &str) -> Value {
    let (client, mut api) = mock_client();
    let obj: QuayRepository = serde_json::from_value(object.clone()).unwrap();
    let mut cache: Vec<QuayRepository> = others
        .iter()
        .map(|o| serde_json::from_value(o.clone()).unwrap())
        .collect();
    cache.push(obj.clone());
    let ctx = context(client, &cache);
    let task = start(&obj, &ctx);
    expect_connection_in(&mut api, NS, connection(emu_url)).await;
    assert_eq!(expect_event_in(&mut api, NS).await["reason"], reason);
    let patch = expect_status_of(&mut api, NS, "app", object.clone()).await;
    super::finish(task).await.expect("reconcile");
    with_status(object, &patch)
}

fn with_status(mut object: Value, patch: &Value) -> Value {
    object["status"] = patch["status"].clone();
    object
}

#[tokio::test]
async fn argo_cd_health_follows_what_the_controllers_report() {
    let emu = emulator_with_orgs(&["acme"]).await;
    let default = json!({"name": "default"});
    let app = |org: &str, created: &str| repo_json(NS, "app", org, default.clone(), created);

    let fresh = app("acme", "2026-11-02T00:00:00Z");
    assert_eq!(health(&fresh).0, "Progressing", "no status yet");

    let created = reconciled(&emu.url(), fresh.clone(), &[], "Created").await;
    let (status, message) = health(&created);
    assert_eq!(status, "Healthy", "{message}");
    assert!(message.contains("created repository acme/app"), "{message}");
    assert_eq!(kstatus(&created), (None, None));

    let mut edited = created.clone();
    edited["metadata"]["generation"] = json!(2);
    assert_eq!(
        health(&edited).0,
        "Progressing",
        "a new generation not yet observed"
    );

    let waiting = reconciled(
        &emu.url(),
        app("nosuch", "2026-11-02T00:00:00Z"),
        &[],
        "WaitingForDependency",
    )
    .await;
    assert_eq!(health(&waiting).0, "Progressing");
    assert_eq!(
        kstatus(&waiting),
        (Some("WaitingForDependency".into()), None)
    );

    let mut older = app("acme", "2026-11-01T00:00:00Z");
    older["metadata"]["name"] = json!("first");
    older["metadata"]["uid"] = json!("first-uid");
    let conflict = reconciled(&emu.url(), fresh, &[older], "ConflictingResource").await;
    let (status, message) = health(&conflict);
    assert_eq!(status, "Degraded");
    assert!(message.contains("already managed by"), "{message}");
    assert_eq!(
        kstatus(&conflict),
        (None, Some("ConflictingResource".into()))
    );

    // A namespace the ClusterQuayConnection's rules do not admit.
    let (refused, patch) = refused(&emu).await;
    let refused = with_status(refused, &patch);
    assert_eq!(kstatus(&refused), (None, Some("NotPermitted".into())));
    let (status, message) = health(&refused);
    assert_eq!(status, "Degraded");
    assert!(
        message.contains("may not use ClusterQuayConnection shared"),
        "{message}"
    );
}

/// The reasons of the kstatus conditions `Reconciling` and `Stalled` when True.
fn kstatus(object: &Value) -> (Option<String>, Option<String>) {
    let reason = |type_: &str| {
        super::condition(object, type_)
            .filter(|c| c["status"] == "True")
            .map(|c| c["reason"].as_str().unwrap_or_default().to_owned())
    };
    (reason("Reconciling"), reason("Stalled"))
}

/// The argocd-cm snippet carries the health check, unchanged, for every kind.
#[test]
fn the_argocd_cm_snippet_covers_every_kind_with_the_tested_check() {
    let snippet: Value =
        serde_norway::from_str(include_str!("../../../deploy/argocd/argocd-cm.yaml"))
            .expect("YAML");
    for crd in quay_config_operator::crd::all_crds() {
        let key = format!(
            "resource.customizations.health.{}_{}",
            crd.spec.group, crd.spec.names.kind
        );
        assert_eq!(snippet["data"][&key].as_str(), Some(HEALTH), "{key}");
    }
}
