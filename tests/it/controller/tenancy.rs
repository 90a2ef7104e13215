//! Many teams, one Quay: a ClusterQuayConnection's tenancy rules are checked
//! before anything is sent to Quay, and one Quay object has one owner across
//! the cluster, whatever connection each claimant uses.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use quay_config_operator::controller::{Context, KindContext, ManagedResource};
use quay_config_operator::crd::{QuayQuota, QuayRepository};
use quay_config_operator::emulator::Emulator;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{ApiServer, NS, TOKEN, connection, emulator, mock_client, ready, token_secret};

/// Where the operator runs: ClusterQuayConnection Secrets live here.
const OPERATOR_NS: &str = "quay-system";
const CLUSTER_CONNECTION_PATH: &str = "/apis/quayconfig.io/v1alpha1/clusterquayconnections/shared";

fn cluster_connection(url: &str, tenants: Value) -> Value {
    json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "ClusterQuayConnection",
        "metadata": {"name": "shared", "uid": "shared-uid", "generation": 1, "resourceVersion": "5"},
        "spec": {"url": url, "tokenSecretRef": {"name": "quay-token"}, "tenants": tenants}
    })
}

pub(super) fn repo_json(
    namespace: &str,
    name: &str,
    quay_namespace: &str,
    connection: Value,
    created: &str,
) -> Value {
    json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("{namespace}-{name}"),
                     "generation": 1, "resourceVersion": "3", "creationTimestamp": created,
                     "finalizers": ["quayconfig.io/finalizer"]},
        "spec": {"namespace": quay_namespace, "name": "app", "connectionRef": connection}
    })
}

fn shared() -> Value {
    json!({"kind": "ClusterQuayConnection", "name": "shared"})
}

pub(super) fn context<K: ManagedResource>(
    client: kube::Client,
    objects: &[K],
) -> Arc<KindContext<K>> {
    let (reader, mut writer): (Store<K>, _) = reflector::store();
    for o in objects {
        writer.apply_watcher_event(&watcher::Event::Apply(o.clone()));
    }
    let shared = Context::new(
        client,
        Duration::from_secs(600),
        Duration::from_secs(20),
        Default::default(),
    )
    .with_operator_namespace(Some(OPERATOR_NS.to_owned()));
    Arc::new(KindContext {
        shared: Arc::new(shared),
        store: reader,
    })
}

pub(super) fn start(
    obj: &QuayRepository,
    ctx: &Arc<KindContext<QuayRepository>>,
) -> tokio::task::JoinHandle<
    Result<kube::runtime::controller::Action, quay_config_operator::controller::Error>,
> {
    tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj.clone()),
        ctx.clone(),
    ))
}

/// Answers an Event in `namespace` and returns it.
pub(super) async fn expect_event_in(api: &mut ApiServer, namespace: &str) -> Value {
    api.expect(
        "POST",
        &format!("/apis/events.k8s.io/v1/namespaces/{namespace}/events"),
        201,
        json!({}),
    )
    .await
}

/// Answers the status patch of repository `name` in `namespace` and returns it.
pub(super) async fn expect_status_of(
    api: &mut ApiServer,
    namespace: &str,
    name: &str,
    answer: Value,
) -> Value {
    api.expect(
        "PATCH",
        &format!(
            "/apis/quayconfig.io/v1alpha1/namespaces/{namespace}/quayrepositories/{name}/status"
        ),
        200,
        answer,
    )
    .await
}

/// Answers the reads of the QuayConnection `default` of `namespace` and its token.
pub(super) async fn expect_connection_in(api: &mut ApiServer, namespace: &str, connection: Value) {
    api.expect(
        "GET",
        &format!("/apis/quayconfig.io/v1alpha1/namespaces/{namespace}/quayconnections/default"),
        200,
        connection,
    )
    .await;
    api.expect(
        "GET",
        &format!("/api/v1/namespaces/{namespace}/secrets/quay-token"),
        200,
        token_secret(TOKEN, "1"),
    )
    .await;
}

/// Answers the reads of the ClusterQuayConnection `shared` with tenancy
/// `rules` and of its token (in the operator's namespace).
async fn expect_shared_connection(api: &mut ApiServer, emu: &Emulator, rules: Value) {
    api.expect(
        "GET",
        CLUSTER_CONNECTION_PATH,
        200,
        cluster_connection(&emu.url(), rules),
    )
    .await;
    api.expect(
        "GET",
        &format!("/api/v1/namespaces/{OPERATOR_NS}/secrets/quay-token"),
        200,
        token_secret(TOKEN, "1"),
    )
    .await;
}

pub(super) async fn emulator_with_orgs(orgs: &[&str]) -> Emulator {
    let emu = emulator().await;
    let client = QuayClient::new(ClientOptions::new(
        emu.url(),
        SecretString::from(TOKEN.to_owned()),
    ))
    .unwrap();
    for org in orgs {
        client.create_organization(org, None).await.unwrap();
    }
    emu.reset_stats();
    emu
}

/// One reconcile of a repository of namespace `team` through a
/// ClusterQuayConnection whose rules admit only `platform`: the resource and
/// the status patch it got.
pub(super) async fn refused(emu: &Emulator) -> (Value, Value) {
    let (client, mut api) = mock_client();
    let value = repo_json(NS, "app", "acme", shared(), "2026-11-01T00:00:00Z");
    let obj: QuayRepository = serde_json::from_value(value.clone()).unwrap();
    let ctx = context(client, std::slice::from_ref(&obj));
    let task = start(&obj, &ctx);
    api.expect(
        "GET",
        CLUSTER_CONNECTION_PATH,
        200,
        cluster_connection(
            &emu.url(),
            json!([{"namespaces": ["platform"], "organizations": ["*"]}]),
        ),
    )
    .await;
    let event = expect_event_in(&mut api, NS).await;
    assert_eq!(event["reason"], "NotPermitted");
    let patch = expect_status_of(&mut api, NS, "app", value.clone()).await;
    super::finish(task).await.expect("reconcile");
    (value, patch)
}

#[tokio::test]
async fn a_namespace_outside_the_rules_is_not_permitted_and_quay_hears_nothing() {
    let emu = emulator_with_orgs(&["acme"]).await;
    let (_, patch) = refused(&emu).await;
    assert_eq!(ready(&patch)["status"], "False");
    assert_eq!(ready(&patch)["reason"], "NotPermitted");
    let message = ready(&patch)["message"].as_str().unwrap();
    assert!(
        message.contains("namespace team may not use ClusterQuayConnection shared"),
        "{message}"
    );
    assert_eq!(emu.stats().total, 0, "nothing is sent to Quay");
}

#[tokio::test]
async fn an_admitted_namespace_manages_its_organizations_and_only_those() {
    let emu = emulator_with_orgs(&["acme", "team"]).await;
    let rules = json!([{"namespaces": [NS], "organizations": ["{namespace}", "team-*"]}]);

    // An organization the rule does not grant: named in the message, Quay untouched.
    let (client, mut api) = mock_client();
    let value = repo_json(NS, "app", "acme", shared(), "2026-11-01T00:00:00Z");
    let obj: QuayRepository = serde_json::from_value(value.clone()).unwrap();
    let ctx = context(client, std::slice::from_ref(&obj));
    let task = start(&obj, &ctx);
    expect_shared_connection(&mut api, &emu, rules.clone()).await;
    assert_eq!(
        expect_event_in(&mut api, NS).await["reason"],
        "NotPermitted"
    );
    let patch = expect_status_of(&mut api, NS, "app", value).await;
    super::finish(task).await.expect("reconcile");
    let message = ready(&patch)["message"].as_str().unwrap();
    assert!(
        message.contains("organization acme is not granted to namespace team")
            && message.contains("spec.tenants[0] grants {namespace}, team-*"),
        "{message}"
    );
    assert_eq!(emu.stats().total, 0);

    // Its own organization: created in Quay with the token from the operator's namespace.
    let (client, mut api) = mock_client();
    let value = repo_json(NS, "app", "team", shared(), "2026-11-01T00:00:00Z");
    let obj: QuayRepository = serde_json::from_value(value.clone()).unwrap();
    let ctx = context(client, std::slice::from_ref(&obj));
    let task = start(&obj, &ctx);
    expect_shared_connection(&mut api, &emu, rules).await;
    assert_eq!(expect_event_in(&mut api, NS).await["reason"], "Created");
    let patch = expect_status_of(&mut api, NS, "app", value).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "Created");
    assert!(emu.stats().writes() >= 1);
}

/// A reference now pointing elsewhere (the QuayOrganization deleted and
/// created again under another Quay name) is checked where it points, not
/// where the status says the resource was.
#[tokio::test]
async fn a_reference_that_now_names_a_forbidden_organization_is_not_permitted() {
    let emu = emulator_with_orgs(&["team", "acme"]).await;
    let rules = json!([{"namespaces": [NS], "organizations": ["{namespace}"]}]);
    let (client, mut api) = mock_client();
    let value = json!({
        "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayQuota",
        "metadata": {"name": "q", "namespace": NS, "uid": "q-uid", "generation": 1,
                     "resourceVersion": "3", "finalizers": ["quayconfig.io/finalizer"]},
        "spec": {"organizationRef": {"name": "org"}, "limit": "1Gi", "connectionRef": shared()},
        "status": {"namespace": "team", "observedGeneration": 1}
    });
    let obj: QuayQuota = serde_json::from_value(value.clone()).unwrap();
    let ctx = context(client, std::slice::from_ref(&obj));
    let task = tokio::spawn(quay_config_operator::controller::reconcile::reconcile(
        Arc::new(obj),
        ctx,
    ));
    expect_shared_connection(&mut api, &emu, rules).await;
    api.expect(
        "GET",
        &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayorganizations/org"),
        200,
        json!({"apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayOrganization",
               "metadata": {"name": "org", "namespace": NS, "uid": "org-2"},
               "spec": {"name": "acme"}}),
    )
    .await;
    assert_eq!(
        expect_event_in(&mut api, NS).await["reason"],
        "NotPermitted"
    );
    let patch = api
        .expect(
            "PATCH",
            &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayquotas/q/status"),
            200,
            value,
        )
        .await;
    super::finish(task).await.expect("reconcile");
    let message = ready(&patch)["message"].as_str().unwrap();
    assert!(
        message.contains("organization acme is not granted to namespace team"),
        "{message}"
    );
    assert_eq!(emu.stats().total, 0, "nothing is sent to Quay");
}

#[tokio::test]
async fn two_namespaces_claiming_one_repository_the_first_keeps_it_until_deleted() {
    let emu = emulator_with_orgs(&["acme"]).await;
    let (client, mut api) = mock_client();
    let default = json!({"name": "default"});
    let first_value = repo_json(NS, "app", "acme", default.clone(), "2026-11-01T00:00:00Z");
    let first: QuayRepository = serde_json::from_value(first_value).unwrap();
    let second_value = repo_json("other", "app", "acme", default, "2026-11-02T00:00:00Z");
    let second: QuayRepository = serde_json::from_value(second_value.clone()).unwrap();
    let ctx = context(client, &[first.clone(), second.clone()]);
    let connection_in = |namespace: &str| {
        let mut c = connection(&emu.url());
        c["metadata"]["namespace"] = json!(namespace);
        c
    };

    // The later one, in another namespace with its own connection to the same
    // Quay: in conflict, naming the first; nothing sent to Quay.
    let task = start(&second, &ctx);
    expect_connection_in(&mut api, "other", connection_in("other")).await;
    // The first claimant's Quay host, read once.
    api.expect(
        "GET",
        &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayconnections/default"),
        200,
        connection_in(NS),
    )
    .await;
    assert_eq!(
        expect_event_in(&mut api, "other").await["reason"],
        "ConflictingResource"
    );
    let patch = expect_status_of(&mut api, "other", "app", second_value.clone()).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "ConflictingResource");
    assert!(
        ready(&patch)["message"]
            .as_str()
            .unwrap()
            .contains("team/app")
    );

    // Again (a resync): the same answer from what is known, no flapping, no
    // event for an unchanged condition, still nothing sent to Quay.
    let mut in_conflict = second.clone();
    in_conflict.status =
        serde_json::from_value(json!({"conditions": patch["status"]["conditions"]})).unwrap();
    let task = start(&in_conflict, &ctx);
    expect_connection_in(&mut api, "other", connection_in("other")).await;
    let patch = expect_status_of(&mut api, "other", "app", second_value.clone()).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "ConflictingResource");
    assert_eq!(
        emu.stats().total,
        0,
        "the later claimant never talks to Quay"
    );

    // The first goes: the second takes the repository over.
    let (reader, mut writer): (Store<QuayRepository>, _) = reflector::store();
    writer.apply_watcher_event(&watcher::Event::Apply(second.clone()));
    let ctx = Arc::new(KindContext {
        shared: ctx.shared.clone(),
        store: reader,
    });
    let task = start(&in_conflict, &ctx);
    expect_connection_in(&mut api, "other", connection_in("other")).await;
    assert_eq!(
        expect_event_in(&mut api, "other").await["reason"],
        "Created"
    );
    let patch = expect_status_of(&mut api, "other", "app", second_value).await;
    super::finish(task).await.expect("reconcile");
    assert_eq!(ready(&patch)["reason"], "Created");
    let conflict = patch["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Conflict")
        .cloned();
    assert!(
        conflict.is_none_or(|c| c["status"] == "False"),
        "the conflict is over"
    );
    assert!(
        QuayClient::new(ClientOptions::new(
            emu.url(),
            SecretString::from(TOKEN.to_owned())
        ))
        .unwrap()
        .get_repository("acme", "app")
        .await
        .unwrap()
        .is_some()
    );
}
