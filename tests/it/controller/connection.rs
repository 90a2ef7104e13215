//! The QuayConnection controller: one who-am-I call per check, the token's
//! user pinned, a swapped token refused until confirmed, and finalizers that
//! let a namespace be deleted in order (resources, then connection and token).

use std::sync::Arc;
use std::time::Duration;

use quay_config_operator::controller::{Context, FINALIZER, TOKEN_FINALIZER};
use quay_config_operator::crd::QuayConnection;
use serde_json::{Value, json};

use super::{ApiServer, NS, TOKEN, connection, emulator, mock_client, ready, secret, token_secret};
use crate::engine::feed::user_token;

const CONNECTION_PATH: &str =
    "/apis/quayconfig.io/v1alpha1/namespaces/team/quayconnections/default";
const SECRET_PATH: &str = "/api/v1/namespaces/team/secrets/quay-token";

/// The connection `default` with the operator's finalizer, and `status`.
fn finalized(url: &str, status: Value) -> Value {
    let mut c = connection(url);
    c["metadata"]["finalizers"] = json!([FINALIZER]);
    c["status"] = status;
    c
}

fn context(client: kube::Client) -> Arc<Context> {
    Arc::new(Context::new(
        client,
        Duration::from_secs(600),
        Duration::from_secs(20),
        Default::default(),
    ))
}

fn start(
    conn: Value,
    ctx: Arc<Context>,
) -> tokio::task::JoinHandle<
    Result<kube::runtime::controller::Action, quay_config_operator::controller::Error>,
> {
    let conn: QuayConnection = serde_json::from_value(conn).unwrap();
    tokio::spawn(quay_config_operator::controller::reconcile_connection(
        Arc::new(conn),
        ctx,
    ))
}

/// Answers the metadata read of the token Secret and, when it lacks the
/// token finalizer, the patch adding it; returns that patch.
async fn expect_token_finalizer(api: &mut ApiServer, token: &str) -> Value {
    api.expect("GET", SECRET_PATH, 200, token_secret(token, "1"))
        .await;
    api.expect("PATCH", SECRET_PATH, 200, token_secret(token, "2"))
        .await
}

/// One check of a finalized connection without status: the token Secret gets
/// the finalizer, the token is read, the status written.
/// The rest of a connection check that found its token Secret (`token`,
/// resourceVersion `version`): the Secret read, the status written. Returns
/// the status patch.
async fn checked(
    api: &mut ApiServer,
    task: tokio::task::JoinHandle<
        Result<kube::runtime::controller::Action, quay_config_operator::controller::Error>,
    >,
    token: &str,
    version: &str,
    url: &str,
) -> Value {
    api.expect("GET", SECRET_PATH, 200, token_secret(token, version))
        .await;
    let patch = api
        .expect(
            "PATCH",
            &format!("{CONNECTION_PATH}/status"),
            200,
            connection(url),
        )
        .await;
    super::finish(task).await.expect("reconcile");
    patch
}

async fn check(url: &str, token: &str) -> Value {
    let (client, mut api) = mock_client();
    let task = start(finalized(url, Value::Null), context(client));
    let patch = expect_token_finalizer(&mut api, token).await;
    assert_eq!(patch["metadata"]["finalizers"], json!([TOKEN_FINALIZER]));
    checked(&mut api, task, token, "2", url).await
}

#[tokio::test]
async fn a_working_token_reports_and_pins_its_user() {
    let emu = emulator().await;
    let patch = check(&emu.url(), TOKEN).await;
    assert_eq!(ready(&patch)["status"], "True");
    assert_eq!(patch["status"]["user"], "quayadmin");
    assert_eq!(patch["status"]["superUser"], true);
    assert_eq!(patch["status"]["tokenSecret"], "quay-token");
    assert_eq!(
        emu.stats().total,
        1,
        "one who-am-I call per connection check"
    );
}

#[tokio::test]
async fn a_rejected_token_says_what_to_do_without_showing_it() {
    let emu = emulator().await;
    let patch = check(&emu.url(), "expired-token-value").await;
    assert_eq!(ready(&patch)["status"], "False");
    assert_eq!(ready(&patch)["reason"], "Unauthorized");
    let stalled = super::condition(&patch, "Stalled").expect("Stalled: a person must act");
    assert_eq!(stalled["status"], "True");
    assert!(
        ready(&patch)["message"]
            .as_str()
            .unwrap()
            .contains("update the token Secret")
    );
    assert!(!patch.to_string().contains("expired-token-value"));
}

#[tokio::test]
async fn a_new_connection_gets_the_finalizer_first() {
    let (client, mut api) = mock_client();
    let task = start(connection("http://127.0.0.1:9"), context(client));
    let patch = api
        .expect(
            "PATCH",
            CONNECTION_PATH,
            200,
            finalized("http://127.0.0.1:9", Value::Null),
        )
        .await;
    assert!(patch.to_string().contains(FINALIZER), "{patch}");
    super::finish(task).await.expect("reconcile");
}

/// A status as a first check of `user`'s token left it.
fn pinned_to(user: &str) -> Value {
    json!({"user": user, "superUser": true, "tokenSecret": "quay-token",
           "conditions": [{"type": "Ready", "status": "True", "reason": "Connected",
                           "message": format!("authenticated as {user}"),
                           "lastTransitionTime": "2026-12-01T00:00:00Z", "observedGeneration": 1}]})
}

#[tokio::test]
async fn a_token_of_another_user_is_refused_until_confirmed() {
    let emu = emulator().await;
    let bob = user_token(&emu, "bob", false).await;

    // The Secret now holds bob's token; the connection is pinned to quayadmin.
    let (client, mut api) = mock_client();
    let ctx = context(client);
    let task = start(finalized(&emu.url(), pinned_to("quayadmin")), ctx.clone());
    let patch = checked(&mut api, task, &bob, "3", &emu.url()).await;
    assert_eq!(ready(&patch)["reason"], "IdentityChanged");
    let message = ready(&patch)["message"].as_str().unwrap();
    assert!(
        message.contains("now authenticates as \"bob\"")
            && message.contains("pinned to \"quayadmin\"")
            && message.contains("quayconfig.io/confirm-user: bob"),
        "{message}"
    );
    assert_eq!(
        patch["status"]["user"], "quayadmin",
        "the pinned user is not overwritten"
    );
    assert!(!patch.to_string().contains(&bob));

    // A person confirms bob: pinned anew.
    let mut confirmed = finalized(&emu.url(), pinned_to("quayadmin"));
    confirmed["metadata"]["annotations"] = json!({"quayconfig.io/confirm-user": "bob"});
    let task = start(confirmed, ctx);
    let patch = checked(&mut api, task, &bob, "3", &emu.url()).await;
    assert_eq!(ready(&patch)["reason"], "Connected");
    assert_eq!(patch["status"]["user"], "bob");
}

/// The connection `default` being deleted, pinned and holding its token.
fn deleting(url: &str) -> Value {
    let mut c = finalized(url, pinned_to("quayadmin"));
    c["metadata"]["deletionTimestamp"] = json!("2026-12-01T00:00:00Z");
    c
}

fn list(kind: &str, items: Value) -> Value {
    json!({"apiVersion": "quayconfig.io/v1alpha1", "kind": format!("{kind}List"),
           "metadata": {"resourceVersion": "1"}, "items": items})
}

const MANAGED: [(&str, &str); 10] = [
    ("QuayOrganization", "quayorganizations"),
    ("QuayRepository", "quayrepositories"),
    ("QuayRobotAccount", "quayrobotaccounts"),
    ("QuayTeam", "quayteams"),
    ("QuayNotification", "quaynotifications"),
    ("QuayMirrorConfig", "quaymirrorconfigs"),
    ("QuayQuota", "quayquotas"),
    ("QuayOAuthApplication", "quayoauthapplications"),
    ("QuayUserNamespace", "quayusernamespaces"),
    ("QuayProxyCache", "quayproxycaches"),
];

/// Answers the list of each managed kind in the namespace: `repositories`
/// for QuayRepository, nothing for the others.
async fn expect_users(api: &mut ApiServer, repositories: Value) {
    for (kind, plural) in MANAGED {
        let items = match kind {
            "QuayRepository" => repositories.clone(),
            _ => json!([]),
        };
        api.expect(
            "GET",
            &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/{plural}"),
            200,
            list(kind, items),
        )
        .await;
    }
}

#[tokio::test]
async fn a_deleted_connection_waits_for_its_resources_then_lets_its_token_go() {
    let (client, mut api) = mock_client();
    let ctx = context(client);
    let repository = |name: &str, connection: Value| {
        json!({"apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository",
               "metadata": {"name": name, "namespace": NS, "deletionTimestamp": "2026-12-01T00:00:00Z",
                            "finalizers": [FINALIZER]},
               "spec": {"namespace": "acme", "connectionRef": connection}})
    };

    // A repository still cleaning up through it: the connection waits, the
    // token Secret keeps its finalizer.
    let task = start(deleting("http://127.0.0.1:9"), ctx.clone());
    expect_users(
        &mut api,
        json!([
            repository("app", json!({"name": "default"})),
            repository(
                "shared",
                json!({"kind": "ClusterQuayConnection", "name": "default"})
            )
        ]),
    )
    .await;
    let patch = api
        .expect(
            "PATCH",
            &format!("{CONNECTION_PATH}/status"),
            200,
            deleting("http://127.0.0.1:9"),
        )
        .await;
    let result = super::finish(task).await;
    assert!(result.is_err(), "the finalizer stays");
    assert_eq!(ready(&patch)["reason"], "WaitingForDependents");
    let message = ready(&patch)["message"].as_str().unwrap();
    assert!(
        message.contains("1 resource(s)") && message.contains("QuayRepository app"),
        "{message}"
    );

    // All gone: the token Secret's finalizer, then the connection's.
    let task = start(deleting("http://127.0.0.1:9"), ctx.clone());
    expect_users(&mut api, json!([])).await;
    expect_connections(&mut api, json!([deleting("http://127.0.0.1:9")])).await;
    let mut held = token_secret(TOKEN, "5");
    held["metadata"]["finalizers"] = json!([TOKEN_FINALIZER, "example.com/other"]);
    api.expect("GET", SECRET_PATH, 200, held).await;
    let released = api
        .expect("PATCH", SECRET_PATH, 200, token_secret(TOKEN, "6"))
        .await;
    assert_eq!(
        released["metadata"]["finalizers"],
        json!(["example.com/other"])
    );
    assert_eq!(released["metadata"]["resourceVersion"], "5");
    let removed = api
        .expect(
            "PATCH",
            CONNECTION_PATH,
            200,
            connection("http://127.0.0.1:9"),
        )
        .await;
    assert!(removed.to_string().contains("remove"), "{removed}");
    super::finish(task).await.expect("reconcile");

    // Another connection of the namespace uses the same token Secret: it
    // keeps its finalizer until that one goes too.
    let task = start(deleting("http://127.0.0.1:9"), ctx);
    expect_users(&mut api, json!([])).await;
    let mut other = finalized("http://127.0.0.1:9", Value::Null);
    other["metadata"]["name"] = json!("other");
    other["metadata"]["uid"] = json!("other-uid");
    expect_connections(&mut api, json!([deleting("http://127.0.0.1:9"), other])).await;
    api.expect(
        "PATCH",
        CONNECTION_PATH,
        200,
        connection("http://127.0.0.1:9"),
    )
    .await;
    super::finish(task).await.expect("reconcile");
}

/// Answers the list of the namespace's QuayConnections.
async fn expect_connections(api: &mut ApiServer, items: Value) {
    api.expect(
        "GET",
        &format!("/apis/quayconfig.io/v1alpha1/namespaces/{NS}/quayconnections"),
        200,
        list("QuayConnection", items),
    )
    .await;
}

#[tokio::test]
async fn a_renamed_token_secret_moves_the_finalizer_unless_the_old_one_is_shared() {
    let emu = emulator().await;
    let (client, mut api) = mock_client();
    let ctx = context(client);
    let old_path = format!("/api/v1/namespaces/{NS}/secrets/old-token");
    // The connection now names quay-token; its finalizer is on old-token.
    let mut status = pinned_to("quayadmin");
    status["tokenSecret"] = json!("old-token");
    let renamed = finalized(&emu.url(), status);
    let mut old = secret("old-token", "old-uid", "4", &[("token", "x")]);
    old["metadata"]["finalizers"] = json!([TOKEN_FINALIZER]);

    let task = start(renamed.clone(), ctx.clone());
    expect_connections(&mut api, json!([renamed.clone()])).await;
    api.expect("GET", &old_path, 200, old.clone()).await;
    let released = api.expect("PATCH", &old_path, 200, old.clone()).await;
    assert_eq!(released["metadata"]["finalizers"], json!([]));
    let held = expect_token_finalizer(&mut api, TOKEN).await;
    assert_eq!(held["metadata"]["finalizers"], json!([TOKEN_FINALIZER]));
    let patch = checked(&mut api, task, TOKEN, "2", &emu.url()).await;
    assert_eq!(patch["status"]["tokenSecret"], "quay-token");
    assert_eq!(ready(&patch)["status"], "True");

    // Another connection still uses old-token: it keeps its finalizer.
    let task = start(renamed.clone(), ctx);
    let mut other = finalized(&emu.url(), Value::Null);
    other["metadata"]["name"] = json!("other");
    other["metadata"]["uid"] = json!("other-uid");
    other["spec"]["tokenSecretRef"]["name"] = json!("old-token");
    expect_connections(&mut api, json!([renamed, other])).await;
    expect_token_finalizer(&mut api, TOKEN).await;
    let patch = checked(&mut api, task, TOKEN, "2", &emu.url()).await;
    assert_eq!(patch["status"]["tokenSecret"], "quay-token");
}

/// A connection deleted and created again (same name, same token,
/// generation 1 again) with another URL gets a new client instead of the
/// cached one of its predecessor.
#[tokio::test]
async fn a_connection_created_again_with_another_url_gets_a_new_client() {
    let (client, mut api) = mock_client();
    let connections = quay_config_operator::controller::Connections::new(
        client,
        Duration::from_secs(20),
        Arc::new(quay_config_operator::metrics::Metrics::default()),
    );
    let target = quay_config_operator::crd::ConnectionRef::namespaced("default");
    let mut base_urls = Vec::new();
    for (url, uid) in [
        ("https://old.example.com", "uid-1"),
        ("https://new.example.com", "uid-2"),
    ] {
        let answering = async {
            let mut c = connection(url);
            c["metadata"]["uid"] = json!(uid);
            api.expect("GET", CONNECTION_PATH, 200, c).await;
            api.expect("GET", SECRET_PATH, 200, token_secret(TOKEN, "1"))
                .await;
        };
        let (resolved, ()) = tokio::join!(connections.resolve(NS, &target), answering);
        base_urls.push(
            resolved
                .expect("resolved")
                .quay
                .client
                .base_url()
                .to_owned(),
        );
    }
    assert_eq!(
        base_urls,
        ["https://old.example.com", "https://new.example.com"]
    );
}
