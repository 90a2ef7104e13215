//! The Helm chart (`charts/quay-config-operator`) and the plain manifests
//! (`deploy/`): rendered with `helm template` and `kubectl kustomize`, every
//! document parsed into the Kubernetes API types, and the security settings,
//! probes and RBAC rules checked.
//!
//! helm and kubectl come from `./scripts/install-tools.sh` (run by
//! `./scripts/test.sh`), which puts them in `target/tools/bin`; a missing tool
//! fails the tests. Regenerate `deploy/operator.yaml` and the CRD copies with
//! `UPDATE_MANIFESTS=1 cargo test --test it chart`.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, Namespace, PodSpec, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use quay_config_operator::crd::{self, ClusterQuayConnection, QuayConnection};
use quay_config_operator::leader::LEASE_NAME;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const CHART: &str = "charts/quay-config-operator";
const RELEASE: &str = "quay-config-operator";
const NAMESPACE: &str = "quay-config-operator";
const ALL_ON: &str = "charts/quay-config-operator/ci/all-on.yaml";
const NAMESPACED: &str = "charts/quay-config-operator/ci/namespaced.yaml";
const PLAIN_MANIFEST: &str = "deploy/operator.yaml";
const REGENERATE: &str = "UPDATE_MANIFESTS=1 cargo test --test it chart";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn updating() -> bool {
    std::env::var_os("UPDATE_MANIFESTS").is_some_and(|v| v == "1")
}

// ---------------------------------------------------------------- tools

/// `helm` or `kubectl`: from `target/tools/bin` (where `scripts/install-tools.sh`
/// puts them), else from PATH. Missing is a failure, never a skip.
fn tool(name: &str) -> PathBuf {
    let local = root().join("target/tools/bin").join(name);
    if local.is_file() {
        return local;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if let Some(found) = on_path {
        return found;
    }
    let ci = if std::env::var_os("CI").is_some() {
        " In CI, scripts/test.sh installs it before the tests: its install step did not run."
    } else {
        ""
    };
    panic!(
        "`{name}` is needed by the chart tests and is neither in target/tools/bin nor on PATH. \
         Run ./scripts/test.sh (or just ./scripts/install-tools.sh) to install helm and kubectl.{ci}"
    )
}

/// Runs a tool in the repository root; stdout on success, stderr on failure.
fn run(program: &Path, args: &[&str]) -> Result<String, String> {
    let helm_home = root().join("target/tools/helm-home");
    let output = Command::new(program)
        .args(args)
        .current_dir(root())
        // helm keeps its cache and config here rather than in $HOME.
        .env("HELM_CACHE_HOME", helm_home.join("cache"))
        .env("HELM_CONFIG_HOME", helm_home.join("config"))
        .env("HELM_DATA_HOME", helm_home.join("data"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).expect("UTF-8 output"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// `helm template` of the chart as release `quay-config-operator` in namespace
/// `quay-config-operator`, with extra arguments (`-f`, `--set`).
fn helm_template(extra: &[&str]) -> Result<String, String> {
    let mut args = vec!["template", RELEASE, CHART, "--namespace", NAMESPACE];
    args.extend_from_slice(extra);
    run(&tool("helm"), &args)
}

fn render(extra: &[&str]) -> Manifests {
    let text =
        helm_template(extra).unwrap_or_else(|e| panic!("helm template {extra:?} failed:\n{e}"));
    Manifests::parse(&text)
}

fn values_file(file: &str) -> [&str; 2] {
    ["--values", file]
}

// ---------------------------------------------------------------- parsing

/// One rendered document, parsed into its API type.
struct Object {
    kind: String,
    name: String,
    namespace: Option<String>,
    typed: Box<dyn Any>,
}

/// A rendered set of documents.
struct Manifests {
    /// The YAML as rendered, comments included.
    text: String,
    objects: Vec<Object>,
}

/// Parses `value` into `K` when its apiVersion and kind are `K`'s. Fields the
/// type does not know (a typo such as `readinesProbe`) are an error: the
/// object must serialize back to exactly what was rendered.
fn typed<K>(value: &Value) -> Option<Result<Box<dyn Any>, String>>
where
    K: k8s_openapi::Resource + DeserializeOwned + serde::Serialize + 'static,
{
    if value["apiVersion"] != K::API_VERSION || value["kind"] != K::KIND {
        return None;
    }
    Some(strict::<K>(value).map(|k| Box::new(k) as Box<dyn Any>))
}

fn strict<K: DeserializeOwned + serde::Serialize>(value: &Value) -> Result<K, String> {
    let object: K = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&object).map_err(|e| e.to_string())?;
    match difference(value, &back, "") {
        None => Ok(object),
        Some(path) => Err(format!(
            "field {path} is not part of the API type (misspelt or misplaced?)"
        )),
    }
}

/// Path of the first place where `a` and `b` differ.
fn difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => a.keys().chain(b.keys()).find_map(|k| {
            let (x, y) = (
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null),
            );
            difference(x, y, &format!("{path}.{k}"))
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| difference(x, y, &format!("{path}[{i}]"))),
        // 300 and 300.0 are the same number (JSON schema bounds are floats).
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        _ if a == b => None,
        _ => Some(if path.is_empty() {
            ".".into()
        } else {
            path.into()
        }),
    }
}

/// The Prometheus Operator's ServiceMonitor, as far as the chart uses it;
/// any other field is an error.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceMonitor {
    metadata: ObjectMeta,
    spec: ServiceMonitorSpec,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceMonitorSpec {
    selector: LabelSelector,
    namespace_selector: NamespaceSelector,
    endpoints: Vec<Endpoint>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NamespaceSelector {
    match_names: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Endpoint {
    port: String,
    path: String,
    interval: String,
    scrape_timeout: String,
}

fn parse_object(value: &Value) -> Result<Box<dyn Any>, String> {
    let parsers = [
        typed::<Namespace>,
        typed::<ServiceAccount>,
        typed::<ClusterRole>,
        typed::<ClusterRoleBinding>,
        typed::<Role>,
        typed::<RoleBinding>,
        typed::<Deployment>,
        typed::<Service>,
        typed::<Secret>,
        typed::<ConfigMap>,
        typed::<PodDisruptionBudget>,
        typed::<NetworkPolicy>,
        typed::<CustomResourceDefinition>,
    ];
    if let Some(result) = parsers.iter().find_map(|parse| parse(value)) {
        return result;
    }
    let (api_version, kind) = (value["apiVersion"].as_str(), value["kind"].as_str());
    match (api_version, kind) {
        (Some("quayconfig.io/v1alpha1"), Some("QuayConnection")) => {
            custom_resource::<QuayConnection>(value).map(|c| Box::new(c) as Box<dyn Any>)
        }
        (Some("quayconfig.io/v1alpha1"), Some("ClusterQuayConnection")) => {
            custom_resource::<ClusterQuayConnection>(value).map(|c| Box::new(c) as Box<dyn Any>)
        }
        (Some("monitoring.coreos.com/v1"), Some("ServiceMonitor")) => {
            let mut body = value.clone();
            for type_field in ["apiVersion", "kind"] {
                body.as_object_mut().unwrap().remove(type_field);
            }
            serde_json::from_value::<ServiceMonitor>(body)
                .map(|m| Box::new(m) as Box<dyn Any>)
                .map_err(|e| e.to_string())
        }
        _ => Err("unknown kind: add it to parse_object with its API type".into()),
    }
}

/// Every series a dashboard query names is one `/metrics` serves.
fn assert_dashboard_uses_served_metrics(json: &str) {
    use quay_config_operator::quay::CallObserver;
    let dashboard: Value = serde_json::from_str(json).expect("dashboard JSON");
    let metrics = quay_config_operator::metrics::Metrics::default();
    metrics.reconciled(
        "QuayRepository",
        Some("InvalidSpec"),
        std::time::Duration::from_millis(5),
    );
    metrics.observe(
        "GET",
        "/user/",
        Some(200),
        std::time::Duration::from_millis(5),
    );
    metrics.set_state(true, true);
    let served = metrics.render();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("controller_runtime_") || word.starts_with("quay_") {
                    queried += 1;
                    assert!(
                        served.contains(&format!("\n{word}{{"))
                            || served.contains(&format!("\n{word} ")),
                        "{word} (panel {}) is not served",
                        panel["title"]
                    );
                }
            }
        }
    }
    assert!(queried >= 7, "{queried}");
}

/// Parses a custom resource and refuses a spec field its type does not know
/// (the apiserver would drop it with only a warning: a misspelt
/// `insecureSkipTLSVerify` silently does nothing). Defaults the type fills in
/// are allowed, unlike [`strict`].
fn custom_resource<K: DeserializeOwned + serde::Serialize>(value: &Value) -> Result<K, String> {
    let typed: K = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let known = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    for key in value["spec"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        if known["spec"].get(key).is_none() {
            return Err(format!("unknown field spec.{key}"));
        }
    }
    Ok(typed)
}

impl Manifests {
    fn parse(text: &str) -> Self {
        let mut objects = Vec::new();
        for document in serde_norway::Deserializer::from_str(text) {
            let value = Value::deserialize(document).expect("rendered YAML parses");
            if value.is_null() {
                continue;
            }
            let kind = value["kind"].as_str().unwrap_or_default().to_owned();
            let name = value["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let typed = parse_object(&value)
                .unwrap_or_else(|e| panic!("{} {kind}/{name}: {e}", value["apiVersion"]));
            objects.push(Object {
                namespace: value["metadata"]["namespace"].as_str().map(str::to_owned),
                kind,
                name,
                typed,
            });
        }
        Self {
            text: text.to_owned(),
            objects,
        }
    }

    /// Every object of type `T`.
    fn all<T: 'static>(&self) -> Vec<&T> {
        self.objects
            .iter()
            .filter_map(|o| o.typed.downcast_ref::<T>())
            .collect()
    }

    /// The only object of type `T`.
    fn one<T: 'static>(&self) -> &T {
        let all = self.all::<T>();
        assert_eq!(all.len(), 1, "one {}", std::any::type_name::<T>());
        all[0]
    }

    /// Kind, namespace and name of every object, sorted.
    fn inventory(&self) -> Vec<String> {
        let mut list: Vec<String> = self
            .objects
            .iter()
            .map(|o| {
                format!(
                    "{} {}/{}",
                    o.kind,
                    o.namespace.as_deref().unwrap_or("-"),
                    o.name
                )
            })
            .collect();
        list.sort();
        list
    }
}

// ---------------------------------------------------------------- expectations

/// One permission: (API group, resource, verb, resource name or "").
type Permission = (String, String, String, String);

fn permissions(rules: &[PolicyRule]) -> BTreeSet<Permission> {
    let mut set = BTreeSet::new();
    for rule in rules {
        assert!(rule.non_resource_urls.is_none(), "{rule:?}");
        let names = match &rule.resource_names {
            Some(names) => names.clone(),
            None => vec![String::new()],
        };
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                for verb in &rule.verbs {
                    for name in &names {
                        for part in [group, resource, verb, name] {
                            assert_ne!(part, "*", "no wildcard in {rule:?}");
                        }
                        set.insert((group.clone(), resource.clone(), verb.clone(), name.clone()));
                    }
                }
            }
        }
    }
    set
}

fn grant(set: &mut BTreeSet<Permission>, group: &str, resource: &str, verbs: &[&str]) {
    for verb in verbs {
        set.insert((group.into(), resource.into(), (*verb).into(), String::new()));
    }
}

/// Exactly what the operator does with the Kubernetes API, in every watched
/// namespace: derived from the CRDs, so a new kind without RBAC fails.
fn operator_permissions() -> BTreeSet<Permission> {
    let mut set = BTreeSet::new();
    for definition in crd::all_crds() {
        let (group, plural) = (&definition.spec.group, &definition.spec.names.plural);
        grant(&mut set, group, plural, &["get", "list", "watch", "patch"]);
        grant(
            &mut set,
            group,
            &format!("{plural}/status"),
            &["get", "patch"],
        );
        grant(
            &mut set,
            group,
            &format!("{plural}/finalizers"),
            &["update"],
        );
    }
    // Token and CA Secrets: read, and their metadata watched; robot credential
    // Secrets: written by server-side apply, the one of a renamed secretName deleted.
    grant(
        &mut set,
        "",
        "secrets",
        &["get", "list", "watch", "create", "patch", "delete"],
    );
    grant(&mut set, "", "configmaps", &["get"]);
    // Namespace labels, for ClusterQuayConnection tenancy rules with a selector.
    grant(&mut set, "", "namespaces", &["get"]);
    grant(&mut set, "events.k8s.io", "events", &["create", "patch"]);
    set
}

/// Leader election: create the Lease, then read and renew only that one.
fn lease_permissions() -> BTreeSet<Permission> {
    let group = "coordination.k8s.io".to_owned();
    let lease = |verb: &str, name: &str| {
        (
            group.clone(),
            "leases".to_owned(),
            verb.to_owned(),
            name.to_owned(),
        )
    };
    BTreeSet::from([
        lease("create", ""),
        lease("get", LEASE_NAME),
        lease("patch", LEASE_NAME),
    ])
}

fn assert_same_permissions(
    actual: &BTreeSet<Permission>,
    expected: &BTreeSet<Permission>,
    what: &str,
) {
    let missing: Vec<_> = expected.difference(actual).collect();
    let extra: Vec<_> = actual.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: RBAC differs from what the operator uses\n  missing: {missing:?}\n  not needed: {extra:?}"
    );
}

fn subject_is_operator(subjects: &[Subject], service_account: &str) {
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    let subject = &subjects[0];
    assert_eq!(subject.kind, "ServiceAccount");
    assert_eq!(subject.name, service_account);
    assert_eq!(subject.namespace.as_deref(), Some(NAMESPACE));
}

/// Every rule in the rendered text is preceded by a comment saying why.
fn assert_rules_commented(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("- apiGroups:") {
            let before = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
            assert!(
                before.is_some_and(|l| l.trim_start().starts_with('#')),
                "RBAC rule without a comment saying why, line {}: {line}",
                i + 1
            );
        }
    }
}

/// What every install must have: checks RBAC (cluster-wide or per namespace),
/// the Lease rule, the Deployment's security settings and probes.
struct Expect<'a> {
    watched: &'a [&'a str],
    replicas: i32,
    service_account: &'a str,
}

impl Expect<'_> {
    fn check(&self, m: &Manifests) {
        let operator = operator_permissions();

        if self.watched.is_empty() {
            let role = m.one::<ClusterRole>();
            assert_same_permissions(
                &permissions(role.rules.as_deref().unwrap_or_default()),
                &operator,
                "ClusterRole",
            );
            let binding = m.one::<ClusterRoleBinding>();
            assert_eq!(binding.role_ref.kind, "ClusterRole");
            assert_eq!(binding.role_ref.name, role.metadata.name.clone().unwrap());
            subject_is_operator(binding.subjects.as_deref().unwrap(), self.service_account);
        } else {
            assert!(
                m.all::<ClusterRole>().is_empty(),
                "no ClusterRole when namespaced"
            );
            assert!(m.all::<ClusterRoleBinding>().is_empty());
        }
        for namespace in self.watched {
            let role = m
                .all::<Role>()
                .into_iter()
                .find(|r| r.metadata.namespace.as_deref() == Some(namespace))
                .unwrap_or_else(|| panic!("a Role in {namespace}"));
            assert_same_permissions(
                &permissions(role.rules.as_deref().unwrap_or_default()),
                &operator,
                &format!("Role in {namespace}"),
            );
            let binding = m
                .all::<RoleBinding>()
                .into_iter()
                .find(|b| b.metadata.namespace.as_deref() == Some(namespace))
                .unwrap_or_else(|| panic!("a RoleBinding in {namespace}"));
            assert_eq!(binding.role_ref.name, role.metadata.name.clone().unwrap());
            subject_is_operator(binding.subjects.as_deref().unwrap(), self.service_account);
        }

        // The Lease rule, in the release namespace, bound to the operator.
        let lease_role = m
            .all::<Role>()
            .into_iter()
            .find(|r| {
                r.rules
                    .iter()
                    .flatten()
                    .any(|rule| rule.resources.iter().flatten().any(|res| res == "leases"))
            })
            .expect("a Role for the leader-election Lease");
        assert_eq!(lease_role.metadata.namespace.as_deref(), Some(NAMESPACE));
        assert_same_permissions(
            &permissions(lease_role.rules.as_deref().unwrap()),
            &lease_permissions(),
            "leader-election Role",
        );
        let lease_binding = m
            .all::<RoleBinding>()
            .into_iter()
            .find(|b| b.role_ref.name == lease_role.metadata.name.clone().unwrap())
            .expect("a RoleBinding for the leader-election Role");
        assert_eq!(lease_binding.metadata.namespace.as_deref(), Some(NAMESPACE));
        subject_is_operator(
            lease_binding.subjects.as_deref().unwrap(),
            self.service_account,
        );
        let operator_roles = m.all::<Role>().len() - 1;
        assert_eq!(
            operator_roles,
            self.watched.len(),
            "one Role per watched namespace"
        );

        let deployment = m.one::<Deployment>();
        self.check_deployment(deployment, m);
    }

    fn check_deployment(&self, deployment: &Deployment, m: &Manifests) {
        assert_eq!(deployment.metadata.namespace.as_deref(), Some(NAMESPACE));
        let spec = deployment.spec.as_ref().unwrap();
        assert_eq!(spec.replicas, Some(self.replicas));
        let pod_labels = spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .clone()
            .unwrap();
        for (key, value) in spec.selector.match_labels.as_ref().unwrap() {
            assert_eq!(
                pod_labels.get(key),
                Some(value),
                "selector matches the pods"
            );
        }
        let pod: &PodSpec = spec.template.spec.as_ref().unwrap();
        assert_eq!(
            pod.service_account_name.as_deref(),
            Some(self.service_account)
        );
        if m.all::<ServiceAccount>().len() == 1 {
            let sa = m.one::<ServiceAccount>();
            assert_eq!(sa.metadata.name.as_deref(), Some(self.service_account));
        }

        let pod_security = pod.security_context.as_ref().expect("pod securityContext");
        assert_eq!(pod_security.run_as_non_root, Some(true));
        assert_eq!(pod_security.run_as_user, Some(65532));
        assert_eq!(
            pod_security
                .seccomp_profile
                .as_ref()
                .map(|p| p.type_.as_str()),
            Some("RuntimeDefault")
        );

        assert_eq!(pod.containers.len(), 1);
        let container: &Container = &pod.containers[0];
        let security = container
            .security_context
            .as_ref()
            .expect("container securityContext");
        assert_eq!(security.allow_privilege_escalation, Some(false));
        assert_eq!(security.read_only_root_filesystem, Some(true));
        assert_eq!(security.run_as_non_root, Some(true));
        assert_eq!(security.privileged, None);
        let capabilities = security.capabilities.as_ref().expect("capabilities");
        assert_eq!(capabilities.drop.as_deref(), Some(&["ALL".to_owned()][..]));
        assert_eq!(capabilities.add, None);

        let resources = container.resources.as_ref().expect("resources");
        for (what, list) in [
            ("requests", &resources.requests),
            ("limits", &resources.limits),
        ] {
            let list = list.as_ref().unwrap_or_else(|| panic!("resource {what}"));
            assert!(
                list.contains_key("cpu") && list.contains_key("memory"),
                "cpu and memory {what}"
            );
        }

        assert_eq!(container.args.as_ref().unwrap()[0], "run");
        let env: BTreeMap<&str, &k8s_openapi::api::core::v1::EnvVar> = container
            .env
            .iter()
            .flatten()
            .map(|e| (e.name.as_str(), e))
            .collect();
        let field_ref = |name: &str| {
            env[name]
                .value_from
                .as_ref()
                .and_then(|v| v.field_ref.as_ref())
                .map(|f| f.field_path.clone())
        };
        assert_eq!(env["LEADER_ELECTION"].value.as_deref(), Some("true"));
        assert_eq!(field_ref("POD_NAME").as_deref(), Some("metadata.name"));
        assert_eq!(
            field_ref("POD_NAMESPACE").as_deref(),
            Some("metadata.namespace")
        );
        let watch = env.get("WATCH_NAMESPACE").and_then(|e| e.value.clone());
        if self.watched.is_empty() {
            assert_eq!(watch, None, "all namespaces");
        } else {
            assert_eq!(watch, Some(self.watched.join(",")));
        }

        // The probes hit the health endpoints on the port the operator listens on.
        let port = container
            .ports
            .as_ref()
            .unwrap()
            .iter()
            .find(|p| p.name.as_deref() == Some("http"));
        let port = port.expect("container port http").container_port;
        assert_eq!(
            env["HEALTH_ADDR"].value.as_deref(),
            Some(format!("0.0.0.0:{port}").as_str())
        );
        for (probe, path) in [
            (&container.liveness_probe, "/healthz"),
            (&container.readiness_probe, "/readyz"),
        ] {
            let get = probe
                .as_ref()
                .and_then(|p| p.http_get.as_ref())
                .expect("HTTP probe");
            assert_eq!(get.path.as_deref(), Some(path));
            assert_eq!(get.port, IntOrString::String("http".into()));
        }

        // Services and budgets select the operator pods.
        let selects_pods = |selector: &BTreeMap<String, String>| {
            !selector.is_empty() && selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
        };
        for service in m.all::<Service>() {
            let spec = service.spec.as_ref().unwrap();
            assert!(
                spec.selector.as_ref().is_some_and(selects_pods),
                "the Service selects the pods"
            );
            let service_port = &spec.ports.as_ref().unwrap()[0];
            assert_eq!(
                service_port.target_port,
                Some(IntOrString::String("http".into()))
            );
        }
        for budget in m.all::<PodDisruptionBudget>() {
            let selector = budget.spec.as_ref().and_then(|s| s.selector.as_ref());
            let labels = selector.and_then(|s| s.match_labels.as_ref());
            assert!(
                labels.is_some_and(selects_pods),
                "the PodDisruptionBudget selects the pods"
            );
        }
        for policy in m.all::<NetworkPolicy>() {
            let labels = policy
                .spec
                .as_ref()
                .and_then(|s| s.pod_selector.as_ref())
                .and_then(|s| s.match_labels.as_ref());
            assert!(
                labels.is_some_and(selects_pods),
                "the NetworkPolicy selects the pods"
            );
        }
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn chart_lints_with_every_values_file() {
    let helm = tool("helm");
    for extra in [
        vec![],
        values_file(ALL_ON).to_vec(),
        values_file(NAMESPACED).to_vec(),
    ] {
        let mut args = vec!["lint", "--strict", CHART];
        args.extend(extra.iter().copied());
        run(&helm, &args).unwrap_or_else(|e| panic!("helm lint {extra:?}:\n{e}"));
    }
}

#[test]
fn default_install_is_secure_and_least_privilege() {
    let m = render(&[]);
    assert_rules_commented(&m.text);
    Expect {
        watched: &[],
        replicas: 1,
        service_account: RELEASE,
    }
    .check(&m);
    assert_eq!(
        m.inventory(),
        [
            "ClusterRole -/quay-config-operator",
            "ClusterRoleBinding -/quay-config-operator",
            "Deployment quay-config-operator/quay-config-operator",
            "Role quay-config-operator/quay-config-operator-leader-election",
            "RoleBinding quay-config-operator/quay-config-operator-leader-election",
            "Service quay-config-operator/quay-config-operator",
            "ServiceAccount quay-config-operator/quay-config-operator",
        ]
    );
    let deployment = m.one::<Deployment>();
    let container = &deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    let app_version = chart_app_version();
    assert_eq!(
        container.image.as_deref(),
        Some(format!("quay-config-operator:{app_version}").as_str()),
        "the image tag defaults to the chart's appVersion"
    );
}

#[test]
fn every_option_renders_valid_objects() {
    let m = render(&values_file(ALL_ON));
    assert_rules_commented(&m.text);
    Expect {
        watched: &[],
        replicas: 2,
        service_account: "quay-operator",
    }
    .check(&m);

    let service = m.one::<Service>();
    let monitor = m.one::<ServiceMonitor>();
    let service_labels = service.metadata.labels.clone().unwrap();
    for (key, value) in monitor.spec.selector.match_labels.as_ref().unwrap() {
        assert_eq!(
            service_labels.get(key),
            Some(value),
            "the ServiceMonitor selects the Service"
        );
    }
    assert_eq!(monitor.spec.namespace_selector.match_names, [NAMESPACE]);
    assert_eq!(
        monitor.metadata.labels.as_ref().unwrap()["release"],
        "prometheus"
    );
    let endpoint = &monitor.spec.endpoints[0];
    assert_eq!(
        (endpoint.port.as_str(), endpoint.path.as_str()),
        ("http", "/metrics")
    );
    assert_eq!(
        (endpoint.interval.as_str(), endpoint.scrape_timeout.as_str()),
        ("15s", "5s")
    );
    assert_eq!(
        service.spec.as_ref().unwrap().ports.as_ref().unwrap()[0]
            .name
            .as_deref(),
        Some("http")
    );

    let budget = m.one::<PodDisruptionBudget>().spec.as_ref().unwrap();
    assert_eq!(budget.min_available, Some(IntOrString::Int(1)));

    let policy = m.one::<NetworkPolicy>().spec.as_ref().unwrap();
    assert_eq!(
        policy.policy_types.as_deref(),
        Some(&["Ingress".to_owned(), "Egress".to_owned()][..])
    );
    assert_eq!(policy.egress.as_ref().unwrap().len(), 2);

    let connection = m.one::<QuayConnection>();
    assert_eq!(connection.metadata.name.as_deref(), Some("default"));
    assert_eq!(connection.metadata.namespace.as_deref(), Some(NAMESPACE));
    assert_eq!(connection.spec.url, "https://quay.example.com");
    assert!(connection.spec.insecure_skip_tls_verify);
    let token_of = |reference: &crd::TokenSecretRef| {
        let secret = m
            .all::<Secret>()
            .into_iter()
            .find(|s| s.metadata.name.as_ref() == Some(&reference.name))
            .expect("the token Secret");
        assert_eq!(secret.metadata.namespace.as_deref(), Some(NAMESPACE));
        secret.data.as_ref().unwrap()[&reference.key].0.clone()
    };
    assert_eq!(
        token_of(&connection.spec.token_secret_ref),
        b"not-a-real-token"
    );

    let dashboard = m.one::<ConfigMap>();
    assert_eq!(
        dashboard.metadata.labels.as_ref().unwrap()["grafana_dashboard"],
        "1"
    );
    assert_dashboard_uses_served_metrics(
        &dashboard.data.as_ref().unwrap()["quay-config-operator.json"],
    );

    let shared = m.one::<ClusterQuayConnection>();
    assert_eq!(shared.metadata.name.as_deref(), Some("shared"));
    assert_eq!(shared.metadata.namespace, None, "cluster-scoped");
    assert!(shared.spec.endpoint.insecure_skip_tls_verify);
    assert_eq!(shared.spec.tenants.len(), 2);
    assert!(shared.spec.tenants[1].create_organizations);
    assert_eq!(
        token_of(&shared.spec.endpoint.token_secret_ref),
        b"not-a-real-cluster-token"
    );

    let deployment = m.one::<Deployment>();
    let pod = deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    assert_eq!(
        pod.containers[0].image.as_deref(),
        Some(
            "registry.example.com/platform/quay-config-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ),
        "a digest wins over the tag"
    );
    assert!(pod.affinity.is_some() && pod.tolerations.is_some() && pod.node_selector.is_some());
    assert!(pod.topology_spread_constraints.is_some() && pod.priority_class_name.is_some());
}

#[test]
fn namespaced_install_uses_roles_in_the_watched_namespaces_only() {
    let m = render(&values_file(NAMESPACED));
    assert_rules_commented(&m.text);
    Expect {
        watched: &["team-a", "team-b"],
        replicas: 1,
        service_account: RELEASE,
    }
    .check(&m);
    let connection = m.one::<QuayConnection>();
    assert_eq!(connection.metadata.namespace.as_deref(), Some("team-a"));
    assert_eq!(connection.spec.token_secret_ref.name, "quay-token");
    assert!(
        m.all::<Secret>().is_empty(),
        "an existing Secret is not created"
    );
}

#[test]
fn every_crd_is_covered_by_the_rbac_rules() {
    let m = render(&[]);
    let granted = permissions(m.one::<ClusterRole>().rules.as_deref().unwrap());
    for definition in crd::all_crds() {
        let (group, plural) = (&definition.spec.group, &definition.spec.names.plural);
        for resource in [
            plural.clone(),
            format!("{plural}/status"),
            format!("{plural}/finalizers"),
        ] {
            assert!(
                granted
                    .iter()
                    .any(|(g, r, _, _)| g == group && *r == resource),
                "the chart's RBAC rules (templates/_helpers.tpl) do not cover {group} {resource}: \
                 add the kind there"
            );
        }
    }
}

#[test]
fn values_schema_rejects_typos() {
    for typo in [
        "replicaCont=2",
        "image.tagg=1",
        "operator.logFormatt=json",
        "defaultConnection.existingSecret.nam=x",
    ] {
        let key = typo.split('=').next().unwrap().rsplit('.').next().unwrap();
        let err = helm_template(&["--set", typo]).expect_err(&format!("--set {typo} must fail"));
        assert!(err.contains(key), "the error names {key}: {err}");
    }
    for bad in [
        "operator.logFormat=xml",
        "image.pullPolicy=Sometimes",
        "replicaCount=-1",
    ] {
        helm_template(&["--set", bad]).expect_err(&format!("--set {bad} must fail"));
    }
}

#[test]
fn values_that_do_not_go_together_fail() {
    for (args, message) in [
        (
            &[
                "--set",
                "replicaCount=2",
                "--set",
                "leaderElection.enabled=false",
            ][..],
            "leaderElection",
        ),
        (
            &["--set", "podDisruptionBudget.enabled=true"][..],
            "replicaCount of 2",
        ),
        (
            &[
                "--set",
                "serviceMonitor.enabled=true",
                "--set",
                "service.enabled=false",
            ][..],
            "service.enabled",
        ),
        (
            &["--set", "defaultConnection.enabled=true"][..],
            "defaultConnection.url",
        ),
        (
            &[
                "--set",
                "defaultConnection.enabled=true",
                "--set",
                "defaultConnection.url=https://q",
            ][..],
            "needs a token",
        ),
        (
            &[
                "--set",
                "defaultConnection.enabled=true",
                "--set",
                "defaultConnection.url=https://q",
                "--set",
                "defaultConnection.token=t",
                "--set",
                "watchNamespaces={team-a}",
            ][..],
            "must be one of watchNamespaces",
        ),
    ] {
        let err = helm_template(args).expect_err(&format!("{args:?} must fail"));
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

fn load_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

fn load_yaml(path: &str) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

fn chart_app_version() -> String {
    load_yaml(&format!("{CHART}/Chart.yaml"))["appVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Dotted paths of the chart's own values (where the schema lists properties);
/// Kubernetes objects passed through (affinity, ...) count as one value.
fn value_paths(schema: &Value, prefix: &str, out: &mut Vec<String>) {
    for (key, property) in schema["properties"].as_object().into_iter().flatten() {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if property["properties"].is_object() {
            value_paths(property, &path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn values_schema_closes_every_level_and_matches_values_yaml() {
    let schema = load_json(&format!("{CHART}/values.schema.json"));
    fn walk(schema: &Value, path: &str) {
        if schema["properties"].is_object() {
            assert_eq!(
                schema["additionalProperties"], false,
                "additionalProperties: false at {path}"
            );
            for (key, property) in schema["properties"].as_object().unwrap() {
                walk(property, &format!("{path}.{key}"));
            }
        } else if schema["type"] == "object" && schema["additionalProperties"].is_null() {
            // A Kubernetes object passed through: the API server checks it.
            let description = schema["description"].as_str().unwrap_or_default();
            assert!(
                description.contains("Kubernetes API type"),
                "{path}: say it is a Kubernetes type"
            );
        }
    }
    walk(&schema, "");

    let mut paths = Vec::new();
    value_paths(&schema, "", &mut paths);
    let values = load_yaml(&format!("{CHART}/values.yaml"));
    for path in &paths {
        let found = path.split('.').try_fold(&values, |v, key| v.get(key));
        assert!(found.is_some(), "values.yaml sets {path}");
    }
}

#[test]
fn chart_readme_lists_every_value() {
    let schema = load_json(&format!("{CHART}/values.schema.json"));
    let readme = std::fs::read_to_string(root().join(CHART).join("README.md")).unwrap();
    let mut paths = Vec::new();
    value_paths(&schema, "", &mut paths);
    let missing: Vec<_> = paths
        .iter()
        .filter(|p| !readme.contains(&format!("| `{p}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "the chart README's values table lacks {missing:?}"
    );
}

/// The files of a CRD folder, by name.
fn crd_files(dir: &str) -> BTreeMap<String, String> {
    std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

#[test]
fn crd_copies_equal_the_top_level_crds() {
    let generated: BTreeMap<String, String> = crd::all_crds()
        .iter()
        .map(|d| (crd::file_name(d), crd::to_yaml(std::slice::from_ref(d))))
        .collect();
    assert_eq!(
        crd_files("crds"),
        generated,
        "crds/ is stale: UPDATE_CRDS=1 cargo test --test it crds_in_sync"
    );
    for copy in [format!("{CHART}/crds"), "deploy/crds".to_owned()] {
        if updating() {
            let dir = root().join(&copy);
            for name in crd_files(&copy).keys() {
                std::fs::remove_file(dir.join(name)).unwrap();
            }
            for (name, text) in &generated {
                std::fs::write(dir.join(name), text).unwrap();
            }
        }
        assert_eq!(
            crd_files(&copy),
            generated,
            "{copy} differs from crds/: run `{REGENERATE}`"
        );
    }
}

/// `deploy/operator.yaml`: the chart's default rendering, without Helm's own labels.
fn plain_manifest_from_chart() -> String {
    let rendered = helm_template(&[]).expect("helm template");
    let body: Vec<&str> = rendered
        .lines()
        .filter(|line| {
            let line = line.trim();
            !line.starts_with("helm.sh/chart:") && line != "app.kubernetes.io/managed-by: Helm"
        })
        .collect();
    format!(
        "# The operator with the Helm chart's default values (release and namespace\n\
         # quay-config-operator), without Helm's labels. Generated: do not edit; change\n\
         # the chart and run `{REGENERATE}`.\n{}\n",
        body.join("\n")
    )
}

#[test]
fn plain_manifests_are_the_chart_defaults() {
    let expected = plain_manifest_from_chart();
    let path = root().join(PLAIN_MANIFEST);
    if updating() {
        std::fs::write(&path, &expected).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == expected,
        "{PLAIN_MANIFEST} differs from the chart's defaults: run `{REGENERATE}`"
    );

    assert_rules_commented(&on_disk);

    let kustomized = run(&tool("kubectl"), &["kustomize", "deploy/"])
        .unwrap_or_else(|e| panic!("kubectl kustomize deploy/:\n{e}"));
    let m = Manifests::parse(&kustomized);
    Expect {
        watched: &[],
        replicas: 1,
        service_account: RELEASE,
    }
    .check(&m);

    let namespace = m.one::<Namespace>();
    assert_eq!(namespace.metadata.name.as_deref(), Some(NAMESPACE));
    let labels = namespace.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");

    let installed: Vec<&CustomResourceDefinition> = m.all();
    let mut names: Vec<_> = installed
        .iter()
        .map(|d| d.metadata.name.clone().unwrap())
        .collect();
    names.sort();
    let mut expected_names: Vec<_> = crd::all_crds()
        .into_iter()
        .map(|d| d.metadata.name.unwrap())
        .collect();
    expected_names.sort();
    assert_eq!(names, expected_names, "kustomize installs every CRD");
    for definition in crd::all_crds() {
        assert!(
            installed.contains(&&definition),
            "{:?} as generated",
            definition.metadata.name
        );
    }

    // Besides the namespace and the CRDs, the same objects as the chart.
    let chart = render(&[]);
    let mut rest = m.inventory();
    rest.retain(|o| !o.starts_with("Namespace ") && !o.starts_with("CustomResourceDefinition "));
    assert_eq!(rest, chart.inventory());
    assert_eq!(
        m.one::<Deployment>().spec,
        chart.one::<Deployment>().spec,
        "the same Deployment (image included) as the chart's defaults"
    );
    assert_eq!(
        m.one::<ClusterRole>().rules,
        chart.one::<ClusterRole>().rules
    );
}
