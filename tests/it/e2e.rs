//! End-to-end test against a real cluster. Runs when `E2E_KUBECONFIG` names
//! a kubeconfig; skips with a message otherwise. The operator's controllers
//! run in this process against that cluster; Quay is the in-process
//! emulator, or the real Quay in `QUAY_TEST_URL`/`QUAY_TEST_TOKEN`.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config, ResourceExt};
use quay_config_operator::controller::{self, RunConfig};
use quay_config_operator::crd::{
    ClusterQuayConnection, QuayConnection, QuayMirrorConfig, QuayNotification, QuayOrganization,
    QuayProxyCache, QuayQuota, QuayRepository, QuayRobotAccount,
};
use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::quay::api::robot::RobotOwner;
use quay_config_operator::quay::{ClientOptions, QuayClient};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// Held by each test that runs the controllers.
static OPERATOR: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..120 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("timed out waiting for {what}");
}

fn is_ready<K: serde::Serialize>(obj: &K) -> bool {
    let v = serde_json::to_value(obj).unwrap_or_default();
    v.pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// A client of the cluster in `E2E_KUBECONFIG`, or `None` (with a note) without one.
async fn cluster() -> Option<Client> {
    let Ok(kubeconfig) = std::env::var("E2E_KUBECONFIG") else {
        eprintln!(
            "skipped: set E2E_KUBECONFIG to a kubeconfig file to run the end-to-end test against a cluster"
        );
        return None;
    };
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    Some(Client::try_from(config).expect("client"))
}

/// The Quay the operator talks to: the real one in `QUAY_TEST_URL` and
/// `QUAY_TEST_TOKEN`, else an emulator (kept alive by this value).
struct QuayUnderTest {
    url: String,
    token: String,
    client: QuayClient,
    _emulator: Option<Emulator>,
}

impl QuayUnderTest {
    async fn start() -> QuayUnderTest {
        let (url, token, emulator) = match (
            std::env::var("QUAY_TEST_URL"),
            std::env::var("QUAY_TEST_TOKEN"),
        ) {
            (Ok(url), Ok(token)) => (url, token, None),
            _ => {
                let emulator = Emulator::start(EmulatorConfig {
                    token: Some("e2e-token".into()),
                    superusers_full_access: false,
                    mailing: false,
                })
                .await
                .unwrap();
                (emulator.url(), "e2e-token".to_owned(), Some(emulator))
            }
        };
        let client = QuayClient::new(ClientOptions::new(
            url.clone(),
            SecretString::from(token.clone()),
        ))
        .unwrap();
        QuayUnderTest {
            url,
            token,
            client,
            _emulator: emulator,
        }
    }
}

/// Applies every CRD server-side, as `kubectl apply --server-side -f crds/` does, and
/// waits until the apiserver has accepted (established) each one.
async fn install_crds(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in quay_config_operator::crd::all_crds() {
        crds.patch(
            &crd.name_any(),
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("the apiserver refused {}: {e}", crd.name_any()));
    }
    for crd in quay_config_operator::crd::all_crds() {
        wait_for(&format!("{} to be established", crd.name_any()), || async {
            crds.get(&crd.name_any()).await.ok().is_some_and(|c| {
                c.status.and_then(|s| s.conditions).is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                })
            })
        })
        .await;
    }
}

/// The README's install path on a real apiserver: the CRDs are accepted, every
/// example passes admission (server-side dry run), and values with a bad syntax
/// are refused at admission with the operator's message.
#[tokio::test]
async fn crds_examples_and_admission_on_a_real_cluster() {
    let Some(client) = cluster().await else {
        return;
    };
    install_crds(&client).await;
    let plurals: std::collections::BTreeMap<String, (String, String)> =
        quay_config_operator::crd::all_crds()
            .into_iter()
            .map(|c| (c.spec.names.kind, (c.spec.names.plural, c.spec.scope)))
            .collect();
    let api_of = |kind: &str| {
        let gvk = kube::api::GroupVersionKind::gvk("quayconfig.io", "v1alpha1", kind);
        let (plural, scope) = &plurals[kind];
        let resource = kube::api::ApiResource::from_gvk_with_plural(&gvk, plural);
        match scope.as_str() {
            "Cluster" => Api::<kube::api::DynamicObject>::all_with(client.clone(), &resource),
            _ => Api::<kube::api::DynamicObject>::namespaced_with(
                client.clone(),
                "default",
                &resource,
            ),
        }
    };
    let dry_run = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for doc in serde_norway::Deserializer::from_str(&text) {
            let value: serde_json::Value = serde::Deserialize::deserialize(doc).unwrap();
            if !value["apiVersion"]
                .as_str()
                .unwrap_or("")
                .starts_with("quayconfig.io/")
            {
                continue;
            }
            let object: kube::api::DynamicObject = serde_json::from_value(value).unwrap();
            let kind = object.types.as_ref().unwrap().kind.clone();
            api_of(&kind)
                .create(&dry_run, &object)
                .await
                .unwrap_or_else(|e| panic!("example {kind}/{} refused: {e}", object.name_any()));
            checked += 1;
        }
    }
    assert!(
        checked >= 9,
        "every kind has an example ({checked} checked)"
    );

    for (kind, spec, message) in [
        (
            "QuayQuota",
            json!({"organization": "acme", "limit": "10Gx"}),
            "limit must be a positive quantity",
        ),
        (
            "QuayRepository",
            json!({"namespace": "acme", "autoPrunePolicies": [{"creationDate": "7 days"}]}),
            "creationDate must be",
        ),
        (
            "QuayMirrorConfig",
            json!({"repository": "acme/app", "externalReference": "quay.io/a/b",
            "syncInterval": "6 hours", "robotUsername": "acme+m", "rootRule": ["latest"]}),
            "syncInterval must be",
        ),
        (
            "QuayProxyCache",
            json!({"organization": "cache", "upstreamRegistry": "https://quay.io"}),
            "upstreamRegistry must be host[:port]",
        ),
        (
            "QuayConnection",
            json!({"url": "ftp://quay", "tokenSecretRef": {"name": "t"}}),
            "url must be http://",
        ),
        (
            "QuayNotification",
            json!({"repository": "acme/app", "event": "repo_push", "method": "webhook",
            "config": {"url": "https://a.example.com"}, "urlSecretRef": {"name": "s", "key": "url"}}),
            "not both",
        ),
        (
            "QuayGlobalMessage",
            json!({"content": "maintenance", "connectionRef": {"name": "default"}}),
            "uses a ClusterQuayConnection",
        ),
    ] {
        let object: kube::api::DynamicObject = serde_json::from_value(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": kind,
            "metadata": {"name": "bad"}, "spec": spec
        }))
        .unwrap();
        let error = api_of(kind).create(&dry_run, &object).await.unwrap_err();
        assert!(error.to_string().contains(message), "{kind}: {error}");
    }
}

#[tokio::test]
async fn operator_manages_a_repository_on_a_real_cluster() {
    let Some(client) = cluster().await else {
        return;
    };
    // One operator at a time: a cluster-wide one would also act on the
    // other test's namespace.
    let _serial = OPERATOR.lock().await;

    let QuayUnderTest {
        url: quay_url,
        token,
        client: quay,
        _emulator,
    } = QuayUnderTest::start().await;

    install_crds(&client).await;

    let suffix = format!("{:x}", std::process::id());
    let ns = format!("qco-e2e-{suffix}");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .expect("namespace");

    let settings = RunConfig {
        namespace: Some(ns.clone()),
        resync: Duration::from_secs(30),
        list_ttl: Duration::from_secs(1),
        concurrency: 2,
        change_feed: Some(Duration::from_secs(2)),
        full_resync: Duration::from_secs(300),
        operator_namespace: Some(ns.clone()),
        metrics: Default::default(),
    };
    let operator = tokio::spawn(controller::run(client.clone(), settings.clone()));

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"metadata": {"name": "quay-token"}, "stringData": {"token": token}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let org_name = format!("e2eorg{suffix}");
    let conns: Api<QuayConnection> = Api::namespaced(client.clone(), &ns);
    conns
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayConnection", "metadata": {"name": "default"},
                "spec": {"url": quay_url, "tokenSecretRef": {"name": "quay-token"}}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let orgs: Api<QuayOrganization> = Api::namespaced(client.clone(), &ns);
    orgs.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayOrganization", "metadata": {"name": org_name},
            "spec": {"email": "e2e@example.com", "deletionPolicy": "Delete"}
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    let repos: Api<QuayRepository> = Api::namespaced(client.clone(), &ns);
    repos
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository", "metadata": {"name": "app"},
                "spec": {"namespace": org_name, "description": "e2e", "deletionPolicy": "Delete"}
            }))
            .unwrap(),
        )
        .await
        .unwrap();

    wait_for("the connection to be Ready", || async {
        conns.get("default").await.is_ok_and(|c| is_ready(&c))
    })
    .await;
    wait_for("the repository to be Ready", || async {
        repos.get("app").await.is_ok_and(|r| is_ready(&r))
    })
    .await;
    let live = quay
        .get_repository(&org_name, "app")
        .await
        .unwrap()
        .expect("created in Quay");
    assert!(!live.is_public);

    // A robot: its Secret carries the robot's current credentials.
    let robots: Api<QuayRobotAccount> = Api::namespaced(client.clone(), &ns);
    robots
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRobotAccount", "metadata": {"name": "pusher"},
                "spec": {"organization": org_name, "description": "e2e"}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    wait_for("the robot to be Ready", || async {
        robots.get("pusher").await.is_ok_and(|r| is_ready(&r))
    })
    .await;
    let secret = secrets.get("pusher-robot").await.expect("robot Secret");
    let data = secret.data.expect("data");
    let robot = quay
        .get_robot(&RobotOwner::Organization(org_name.clone()), "pusher")
        .await
        .unwrap()
        .expect("robot in Quay");
    assert_eq!(
        String::from_utf8_lossy(&data["username"].0),
        format!("{org_name}+pusher")
    );
    assert_eq!(
        String::from_utf8_lossy(&data["password"].0),
        robot.token.unwrap().expose_secret()
    );

    configuration_kinds(&client, &ns, &quay, &org_name).await;

    repos
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"visibility": "public"}})),
        )
        .await
        .unwrap();
    wait_for("visibility to reach Quay", || async {
        quay.get_repository(&org_name, "app")
            .await
            .ok()
            .flatten()
            .is_some_and(|r| r.is_public)
    })
    .await;

    repos.delete("app", &DeleteParams::default()).await.unwrap();
    wait_for("the repository resource to go", || async {
        repos.get_opt("app").await.is_ok_and(|r| r.is_none())
    })
    .await;
    assert!(
        quay.get_repository(&org_name, "app")
            .await
            .unwrap()
            .is_none(),
        "deletionPolicy Delete removed it"
    );
    robots
        .delete("pusher", &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the robot resource to go", || async {
        robots.get_opt("pusher").await.is_ok_and(|r| r.is_none())
    })
    .await;
    orgs.delete(&org_name, &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the organization resource to go", || async {
        orgs.get_opt(&org_name).await.is_ok_and(|o| o.is_none())
    })
    .await;
    assert!(quay.get_organization(&org_name).await.unwrap().is_none());

    // Deleting the whole namespace after an operator restart: the connection
    // and its token Secret stay (finalizers) until the Delete-policy
    // repository is gone from Quay; nothing is left in Terminating.
    quay.create_organization(&org_name, None).await.unwrap();
    repos
        .create(
            &PostParams::default(),
            &create(json!({
                "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository", "metadata": {"name": "leftover"},
                "spec": {"namespace": org_name, "deletionPolicy": "Delete"}
            })),
        )
        .await
        .unwrap();
    wait_for("the leftover repository to be Ready", || async {
        repos.get("leftover").await.is_ok_and(|r| is_ready(&r))
    })
    .await;
    wait_for(
        "the token Secret to carry the connection's finalizer",
        || async {
            secrets.get("quay-token").await.is_ok_and(|s| {
                s.finalizers()
                    .iter()
                    .any(|f| f == controller::TOKEN_FINALIZER)
            })
        },
    )
    .await;
    operator.abort();
    let operator = tokio::spawn(controller::run(client.clone(), settings));
    namespaces
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the namespace to be deleted", || async {
        namespaces.get_opt(&ns).await.is_ok_and(|n| n.is_none())
    })
    .await;
    assert!(
        quay.get_repository(&org_name, "leftover")
            .await
            .unwrap()
            .is_none(),
        "the Delete-policy repository went before its connection"
    );
    operator.abort();
    quay.delete_organization(&org_name).await.ok();
}

/// A custom resource from its JSON manifest.
fn create<K: serde::de::DeserializeOwned>(value: serde_json::Value) -> K {
    serde_json::from_value(value).expect("manifest")
}

/// One QuayNotification, QuayMirrorConfig, QuayQuota and QuayProxyCache against
/// the repository `app` and organization `org`: each becomes Ready, reaches
/// Quay, and is removed from Quay (mirror: disabled, repository back to NORMAL)
/// on deletion.
async fn configuration_kinds(client: &Client, ns: &str, quay: &QuayClient, org: &str) {
    quay.create_robot(
        &RobotOwner::Organization(org.to_owned()),
        "mirrorbot",
        "e2e",
        None,
    )
    .await
    .expect("robot");
    let notifications: Api<QuayNotification> = Api::namespaced(client.clone(), ns);
    let mirrors: Api<QuayMirrorConfig> = Api::namespaced(client.clone(), ns);
    let quotas: Api<QuayQuota> = Api::namespaced(client.clone(), ns);
    let caches: Api<QuayProxyCache> = Api::namespaced(client.clone(), ns);
    notifications
        .create(&PostParams::default(), &create(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayNotification", "metadata": {"name": "push"},
            "spec": {"repositoryRef": {"name": "app"}, "event": "repo_push", "method": "quay_notification",
                     "config": {"target": {"kind": "org", "name": org}}}
        })))
        .await
        .unwrap();
    mirrors
        .create(&PostParams::default(), &create(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayMirrorConfig", "metadata": {"name": "app"},
            "spec": {"repositoryRef": {"name": "app"}, "externalReference": "quay.io/prometheus/busybox",
                     "robotUsername": "mirrorbot", "syncInterval": "1d", "rootRule": ["latest"]}
        })))
        .await
        .unwrap();
    quotas
        .create(&PostParams::default(), &create(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayQuota", "metadata": {"name": "quota"},
            "spec": {"organizationRef": {"name": org}, "limit": "1Gi"}
        })))
        .await
        .unwrap();
    caches
        .create(&PostParams::default(), &create(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayProxyCache", "metadata": {"name": "cache"},
            "spec": {"organizationRef": {"name": org}, "upstreamRegistry": "quay.io", "expirationSeconds": 3600}
        })))
        .await
        .unwrap();
    wait_for("the notification to be Ready", || async {
        notifications.get("push").await.is_ok_and(|n| is_ready(&n))
    })
    .await;
    wait_for("the mirror to be Ready", || async {
        mirrors.get("app").await.is_ok_and(|m| is_ready(&m))
    })
    .await;
    wait_for("the quota to be Ready", || async {
        quotas.get("quota").await.is_ok_and(|q| is_ready(&q))
    })
    .await;
    wait_for("the proxy cache to be Ready", || async {
        caches.get("cache").await.is_ok_and(|c| is_ready(&c))
    })
    .await;
    let cache = quay.get_proxy_cache(org).await.unwrap().unwrap();
    assert_eq!(
        (cache.upstream_registry.as_str(), cache.expiration_s),
        ("quay.io", 3600)
    );
    assert_eq!(quay.list_notifications(org, "app").await.unwrap().len(), 1);
    let repo = quay.get_repository(org, "app").await.unwrap().unwrap();
    assert_eq!(repo.state, "MIRROR");
    let view = quay.get_organization(org).await.unwrap().unwrap();
    assert_eq!(view.quotas[0].limit_bytes, 1 << 30);

    notifications
        .delete("push", &DeleteParams::default())
        .await
        .unwrap();
    mirrors
        .delete("app", &DeleteParams::default())
        .await
        .unwrap();
    quotas
        .delete("quota", &DeleteParams::default())
        .await
        .unwrap();
    caches
        .delete("cache", &DeleteParams::default())
        .await
        .unwrap();
    wait_for("the configuration resources to go", || async {
        notifications
            .get_opt("push")
            .await
            .is_ok_and(|n| n.is_none())
            && mirrors.get_opt("app").await.is_ok_and(|m| m.is_none())
            && quotas.get_opt("quota").await.is_ok_and(|q| q.is_none())
            && caches.get_opt("cache").await.is_ok_and(|c| c.is_none())
    })
    .await;
    assert!(
        quay.list_notifications(org, "app")
            .await
            .unwrap()
            .is_empty()
    );
    let repo = quay.get_repository(org, "app").await.unwrap().unwrap();
    assert_eq!(repo.state, "NORMAL");
    let mirror = quay.get_mirror(org, "app").await.unwrap().unwrap();
    assert!(!mirror.is_enabled);
    let view = quay.get_organization(org).await.unwrap().unwrap();
    assert!(view.quotas.is_empty());
    assert!(quay.get_proxy_cache(org).await.unwrap().is_none());
}

/// Two namespaces, one ClusterQuayConnection: a namespace outside the tenancy
/// rules is refused without Quay hearing of it; once admitted, its claim on a
/// repository the other namespace already manages is a conflict, and it takes
/// the repository over when the first resource goes.
#[tokio::test]
async fn two_namespaces_share_a_cluster_connection_on_a_real_cluster() {
    let Some(client) = cluster().await else {
        return;
    };
    // One operator at a time: a cluster-wide one would also act on the
    // other test's namespace.
    let _serial = OPERATOR.lock().await;
    let QuayUnderTest {
        url: quay_url,
        token,
        client: quay,
        _emulator,
    } = QuayUnderTest::start().await;
    install_crds(&client).await;

    let suffix = format!("{:x}", std::process::id());
    let (operator_ns, team_a, team_b) = (
        format!("qco-e2e-op-{suffix}"),
        format!("qco-e2e-a-{suffix}"),
        format!("qco-e2e-b-{suffix}"),
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in [&operator_ns, &team_a, &team_b] {
        namespaces
            .create(
                &PostParams::default(),
                &create(json!({"metadata": {"name": ns}})),
            )
            .await
            .expect("namespace");
    }
    Api::<Secret>::namespaced(client.clone(), &operator_ns)
        .create(
            &PostParams::default(),
            &create(json!({"metadata": {"name": "quay-token"}, "stringData": {"token": token}})),
        )
        .await
        .unwrap();
    let org = format!("e2eshared{suffix}");
    quay.create_organization(&org, None).await.unwrap();

    let connection_name = format!("qco-e2e-{suffix}");
    let clusters: Api<ClusterQuayConnection> = Api::all(client.clone());
    clusters
        .create(
            &PostParams::default(),
            &create(json!({
                "apiVersion": "quayconfig.io/v1alpha1", "kind": "ClusterQuayConnection",
                "metadata": {"name": connection_name},
                "spec": {"url": quay_url, "tokenSecretRef": {"name": "quay-token"},
                         "tenants": [{"namespaces": [team_a], "organizations": [org]}]}
            })),
        )
        .await
        .unwrap();

    // The whole cluster, as the chart installs it by default.
    let operator = tokio::spawn(controller::run(
        client.clone(),
        RunConfig {
            namespace: None,
            resync: Duration::from_secs(10),
            list_ttl: Duration::from_secs(1),
            concurrency: 2,
            change_feed: None,
            full_resync: Duration::from_secs(300),
            operator_namespace: Some(operator_ns.clone()),
            metrics: Default::default(),
        },
    ));

    let repository = |created_by: &str| {
        create::<QuayRepository>(json!({
            "apiVersion": "quayconfig.io/v1alpha1", "kind": "QuayRepository", "metadata": {"name": "app"},
            "spec": {"namespace": org, "description": created_by, "deletionPolicy": "Delete",
                     "connectionRef": {"kind": "ClusterQuayConnection", "name": connection_name}}
        }))
    };
    let reason = |repo: &QuayRepository| {
        repo.status
            .as_ref()
            .and_then(|s| s.common.conditions.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.reason.clone())
    };
    let repos_a: Api<QuayRepository> = Api::namespaced(client.clone(), &team_a);
    let repos_b: Api<QuayRepository> = Api::namespaced(client.clone(), &team_b);
    repos_a
        .create(&PostParams::default(), &repository("team a"))
        .await
        .unwrap();
    wait_for("team a's repository to be Ready", || async {
        repos_a.get("app").await.is_ok_and(|r| is_ready(&r))
    })
    .await;

    // Team b is not admitted: refused, and Quay keeps team a's description.
    repos_b
        .create(&PostParams::default(), &repository("team b"))
        .await
        .unwrap();
    wait_for("team b to be refused", || async {
        repos_b
            .get("app")
            .await
            .is_ok_and(|r| reason(&r).as_deref() == Some("NotPermitted"))
    })
    .await;

    // Admitted, team b's claim on the same repository is a conflict.
    clusters
        .patch(
            &connection_name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"tenants": [
                {"namespaces": [team_a, team_b], "organizations": [org]}
            ]}})),
        )
        .await
        .unwrap();
    wait_for("team b to be in conflict", || async {
        repos_b
            .get("app")
            .await
            .is_ok_and(|r| reason(&r).as_deref() == Some("ConflictingResource"))
    })
    .await;
    let description = |quay: &QuayClient| {
        let (quay, org) = (quay.clone(), org.clone());
        async move {
            quay.get_repository(&org, "app")
                .await
                .ok()
                .flatten()
                .and_then(|r| r.description)
        }
    };
    assert_eq!(description(&quay).await.as_deref(), Some("team a"));

    // Team a's resource goes: the repository stays (team b claims it) and
    // team b takes it over.
    repos_a
        .delete("app", &DeleteParams::default())
        .await
        .unwrap();
    wait_for("team b to take the repository over", || async {
        description(&quay).await.as_deref() == Some("team b")
    })
    .await;

    repos_b
        .delete("app", &DeleteParams::default())
        .await
        .unwrap();
    wait_for("team b's repository resource to go", || async {
        repos_b.get_opt("app").await.is_ok_and(|r| r.is_none())
    })
    .await;
    assert!(quay.get_repository(&org, "app").await.unwrap().is_none());
    operator.abort();
    quay.delete_organization(&org).await.ok();
    clusters
        .delete(&connection_name, &DeleteParams::default())
        .await
        .ok();
    for ns in [&operator_ns, &team_a, &team_b] {
        namespaces.delete(ns, &DeleteParams::default()).await.ok();
    }
}
