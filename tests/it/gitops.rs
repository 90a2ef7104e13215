//! `plan`, `apply` and `demo` against the in-process emulator: no cluster.

use std::path::PathBuf;

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::gitops::connection::{ConnectionSettings, Endpoints, Token, connect};
use quay_config_operator::gitops::manifests::{Document, parse};
use quay_config_operator::gitops::output::{Format, apply_text, plan_text};
use quay_config_operator::gitops::plan::{Action, Applied, ApplyReport, Plan, apply, plan};
use quay_config_operator::gitops::validate::{Validated, validate};
use quay_config_operator::gitops::{
    ApplyArgs, ConnectionArgs, InputError, PlanArgs, apply_command, demo, plan_command,
};
use secrecy::SecretString;

const TOKEN: &str = "gitops-test-token";

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access: true,
        mailing: false,
    })
    .await
    .expect("emulator")
}

fn settings(emulator: &Emulator) -> ConnectionSettings {
    ConnectionSettings {
        url: Some(emulator.url()),
        token: Some(Token {
            value: SecretString::from(TOKEN),
            source: "the test".to_owned(),
        }),
        ..ConnectionSettings::default()
    }
}

/// Documents of several (file name, YAML) pairs.
fn documents(files: &[(&str, &str)]) -> Result<Vec<Document>, Vec<InputError>> {
    let mut documents = Vec::new();
    for (file, text) in files {
        documents.extend(parse(file, text).map_err(|e| vec![e])?);
    }
    Ok(documents)
}

fn prepare(emulator: &Emulator, files: &[(&str, &str)]) -> (Validated, Endpoints) {
    let validated = documents(files).and_then(validate).expect("valid inputs");
    let endpoints = connect(&settings(emulator), &validated).expect("endpoints");
    (validated, endpoints)
}

async fn plan_of(emulator: &Emulator, files: &[(&str, &str)]) -> Plan {
    let (validated, endpoints) = prepare(emulator, files);
    plan(&validated, &endpoints).await
}

async fn apply_of(emulator: &Emulator, files: &[(&str, &str)]) -> ApplyReport {
    let (validated, endpoints) = prepare(emulator, files);
    apply(&validated, &endpoints).await
}

/// The input errors of files that must be invalid.
fn errors_of(files: &[(&str, &str)]) -> Vec<InputError> {
    documents(files)
        .and_then(validate)
        .expect_err("invalid inputs")
}

const ORG: &str = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayOrganization
metadata: {name: acme}
spec: {email: acme@example.com}
";

const REPO_PUBLIC: &str = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayRepository
metadata: {name: app}
spec: {namespace: acme, visibility: public, description: The app}
";

const REPO_PRIVATE: &str = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayRepository
metadata: {name: app}
spec: {namespace: acme, visibility: private, description: 'The app, v2'}
";

const TEAM: &str = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayTeam
metadata: {name: developers}
spec: {organization: acme, role: member}
";

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.resources
        .iter()
        .map(|e| (e.label(), e.action))
        .collect()
}

#[tokio::test]
async fn plan_shows_creates_updates_with_old_and_new_values_and_in_sync() {
    let emulator = emulator().await;
    let first = plan_of(&emulator, &[("acme.yaml", ORG), ("app.yaml", REPO_PUBLIC)]).await;
    assert_eq!(
        actions(&first),
        [
            ("QuayOrganization/acme".to_owned(), Action::Create),
            ("QuayRepository/app".to_owned(), Action::Create),
        ]
    );
    assert_eq!(first.exit_code(), 2);
    assert_eq!(emulator.stats().writes(), 0, "plan never writes");
    apply_of(&emulator, &[("acme.yaml", ORG), ("app.yaml", REPO_PUBLIC)]).await;

    let files = [
        ("acme.yaml", ORG),
        ("app.yaml", REPO_PRIVATE),
        ("team.yaml", TEAM),
    ];
    let before = emulator.stats().writes();
    let plan = plan_of(&emulator, &files).await;
    assert_eq!(emulator.stats().writes(), before, "plan never writes");
    assert_eq!(
        actions(&plan),
        [
            ("QuayOrganization/acme".to_owned(), Action::InSync),
            ("QuayTeam/developers".to_owned(), Action::Create),
            ("QuayRepository/app".to_owned(), Action::Update),
        ]
    );
    let update = &plan.resources[2];
    let fields: Vec<(&str, &str, &str)> = update
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.live.as_str(), c.desired.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("visibility", "public", "private"),
            ("description", "The app", "The app, v2"),
        ]
    );
    // Created by the previous apply, but a manifest has no status that says so.
    assert!(update.adopted && update.exists);
    assert_eq!(plan.exit_code(), 2);

    let text = plan_text(&plan);
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    assert_eq!(
        lines,
        [
            "  = QuayOrganization/acme  in sync: organization acme",
            "  + QuayTeam/developers    create team acme/developers",
            "  ~ QuayRepository/app     update repository acme/app (exists; would be adopted)",
            "      visibility: \"public\" -> \"private\"",
            "      description: \"The app\" -> \"The app, v2\"",
            "",
            "Plan: 1 to create, 1 to update, 1 in sync.",
        ]
    );

    apply_of(&emulator, &files).await;
    let after = plan_of(&emulator, &files).await;
    assert!(!after.has_changes());
    assert_eq!(after.exit_code(), 0);
    assert!(plan_text(&after).ends_with("Plan: 0 to create, 0 to update, 3 in sync.\n"));
}

#[tokio::test]
async fn plan_as_json_lists_resources_actions_and_changes() {
    let emulator = emulator().await;
    apply_of(&emulator, &[("acme.yaml", ORG), ("app.yaml", REPO_PUBLIC)]).await;
    let plan = plan_of(&emulator, &[("acme.yaml", ORG), ("app.yaml", REPO_PRIVATE)]).await;
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["summary"]["update"], 1);
    assert_eq!(json["summary"]["inSync"], 1);
    let repo = &json["resources"][1];
    assert_eq!(repo["kind"], "QuayRepository");
    assert_eq!(repo["name"], "app");
    assert_eq!(repo["namespace"], "default");
    assert_eq!(repo["file"], "app.yaml");
    assert_eq!(repo["action"], "update");
    assert_eq!(repo["quayObject"], "repository acme/app");
    assert_eq!(
        repo["changes"][0],
        serde_json::json!({"field": "visibility", "live": "public", "desired": "private"})
    );
    assert_eq!(json["resources"][0]["action"], "in-sync");
}

#[tokio::test]
async fn observe_only_resources_are_observed_never_changes() {
    let emulator = emulator().await;
    apply_of(&emulator, &[("acme.yaml", ORG), ("app.yaml", REPO_PUBLIC)]).await;
    let observed = REPO_PRIVATE.replace("v2'}", "v2', managementPolicy: ObserveOnly}");
    let files = [("acme.yaml", ORG), ("app.yaml", observed.as_str())];
    let plan = plan_of(&emulator, &files).await;
    assert_eq!(plan.resources[1].action, Action::Observe);
    assert_eq!(plan.resources[1].changes.len(), 2, "the drift is shown");
    assert_eq!(plan.exit_code(), 0, "nothing would change");
    let before = emulator.stats().writes();
    let report = apply_of(&emulator, &files).await;
    assert_eq!(report.resources[1].applied, Applied::Observed);
    assert_eq!(emulator.stats().writes(), before);
}

/// Writes files to a fresh folder and returns it.
fn folder(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qco-gitops-{}", uuid::Uuid::new_v4()));
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[tokio::test]
async fn detailed_exit_codes_from_the_commands() {
    let emulator = emulator().await;
    let dir = folder(&[
        ("manifests/acme.yaml", ORG),
        ("manifests/nested/app.yml", REPO_PUBLIC),
        ("manifests/README.md", "not a manifest"),
        ("token", &format!("{TOKEN}\n")),
        ("bad-token", "nope"),
        ("broken/a.yaml", "kind: [unclosed"),
    ]);
    let connection = |token: &str| ConnectionArgs {
        quay_url: Some(emulator.url()),
        token_file: Some(dir.join(token)),
        ..ConnectionArgs::default()
    };
    let plan_args = |path: &str, token: &str| PlanArgs {
        paths: vec![dir.join(path)],
        connection: connection(token),
        output: Format::Json,
        detailed_exitcode: true,
    };
    assert_eq!(plan_command(plan_args("manifests", "token")).await, 2);
    assert_eq!(plan_command(plan_args("broken", "token")).await, 1);
    assert_eq!(plan_command(plan_args("manifests", "bad-token")).await, 1);
    assert_eq!(emulator.stats().writes(), 0);
    let apply_args = ApplyArgs {
        paths: vec![dir.join("manifests")],
        connection: connection("token"),
        output: Format::Text,
    };
    assert_eq!(apply_command(apply_args).await, 0);
    assert_eq!(plan_command(plan_args("manifests", "token")).await, 0);
    let without_detail = PlanArgs {
        detailed_exitcode: false,
        ..plan_args("manifests", "token")
    };
    assert_eq!(plan_command(without_detail).await, 0);
    std::fs::remove_dir_all(dir).unwrap();
}

fn examples() -> Vec<(&'static str, &'static str)> {
    demo::EXAMPLES.to_vec()
}

/// What the examples expect to find in Quay, as the demo seeds it.
const SEED: &str = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayOrganization
metadata: {name: platform}
spec: {}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayRobotAccount
metadata: {name: mirrorbot}
spec: {organization: platform}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayRepository
metadata: {name: legacy-tools}
spec: {namespace: platform, name: legacy_tools}
";

#[tokio::test]
async fn a_second_apply_writes_nothing_and_plan_is_then_in_sync() {
    let emulator = emulator().await;
    let seeded = apply_of(&emulator, &[("seed.yaml", SEED)]).await;
    assert!(!seeded.failed(), "{}", apply_text(&seeded));

    let first = apply_of(&emulator, &examples()).await;
    assert!(!first.failed(), "{}", apply_text(&first));
    assert!(first.count(|a| *a == Applied::Created) >= 8);
    let writes = emulator.stats().writes();
    assert!(writes > 0);

    let second = apply_of(&emulator, &examples()).await;
    assert!(!second.failed(), "{}", apply_text(&second));
    assert_eq!(emulator.stats().writes(), writes, "{}", apply_text(&second));
    assert!(
        second
            .resources
            .iter()
            .all(|r| matches!(r.applied, Applied::InSync | Applied::Observed)),
        "{}",
        apply_text(&second)
    );
    let plan = plan_of(&emulator, &examples()).await;
    assert!(!plan.has_changes(), "{}", plan_text(&plan));
    assert_eq!(plan.exit_code(), 0);
}

#[tokio::test]
async fn resources_run_in_dependency_order_whatever_the_file_order() {
    let emulator = emulator().await;
    let notification = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayNotification
metadata: {name: pushes}
spec:
  repositoryRef: {name: app}
  event: repo_push
  method: webhook
  config: {url: 'https://hooks.example.com/push'}
";
    let files = [
        ("a-notification.yaml", notification),
        ("b-app.yaml", REPO_PUBLIC),
        ("c-acme.yaml", ORG),
    ];
    let plan = plan_of(&emulator, &files).await;
    assert_eq!(
        actions(&plan),
        [
            ("QuayOrganization/acme".to_owned(), Action::Create),
            ("QuayRepository/app".to_owned(), Action::Create),
            ("QuayNotification/pushes".to_owned(), Action::Create),
        ]
    );
    assert_eq!(
        plan.resources[2].waits_for.as_deref(),
        Some("repository acme/app"),
        "observing a notification needs its repository"
    );
    assert!(
        plan_text(&plan).contains("(waits for repository acme/app)"),
        "{}",
        plan_text(&plan)
    );
    let report = apply_of(&emulator, &files).await;
    assert_eq!(report.passes, 1, "{}", apply_text(&report));
    assert_eq!(report.count(|a| *a == Applied::Created), 3);
}

#[tokio::test]
async fn a_default_permission_naming_a_later_team_converges() {
    let emulator = emulator().await;
    let org = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayOrganization
metadata: {name: acme}
spec:
  defaultPermissions:
    - delegate: {kind: team, name: developers}
      role: write
";
    let files = [("acme.yaml", org), ("team.yaml", TEAM)];
    let report = apply_of(&emulator, &files).await;
    assert!(!report.failed(), "{}", apply_text(&report));
    assert_eq!(report.passes, 2);
    let organization = &report.resources[0];
    assert_eq!(organization.applied, Applied::Created);
    assert_eq!(organization.waited_for.len(), 1);
    assert!(organization.waited_for[0].contains("developers"));
    assert!(apply_text(&report).contains("then finished in a later pass"));
    let plan = plan_of(&emulator, &files).await;
    assert!(!plan.has_changes(), "{}", plan_text(&plan));
}

#[tokio::test]
async fn what_waits_for_something_nobody_creates_fails_after_the_passes() {
    let emulator = emulator().await;
    let mirror = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayMirrorConfig
metadata: {name: app}
spec:
  repositoryRef: {name: app}
  externalReference: quay.io/prometheus/busybox
  robotUsername: nobody
  syncInterval: 1h
  rootRule: [latest]
";
    let report = apply_of(
        &emulator,
        &[
            ("acme.yaml", ORG),
            ("app.yaml", REPO_PUBLIC),
            ("m.yaml", mirror),
        ],
    )
    .await;
    assert!(report.failed());
    assert_eq!(report.passes, 2, "stops when a pass changes nothing");
    match &report.resources[2].applied {
        Applied::Failed(message) => assert!(message.contains("acme+nobody"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(apply_text(&report).contains("Apply: 2 created, 0 updated, 0 in sync, 1 failed."));
}

/// The error for `field` (the only one that names it).
fn error_at<'a>(errors: &'a [InputError], field: &str) -> &'a InputError {
    let matching: Vec<_> = errors
        .iter()
        .filter(|e| e.field.as_deref() == Some(field))
        .collect();
    assert_eq!(matching.len(), 1, "{field} in {errors:#?}");
    matching[0]
}

#[tokio::test]
async fn bad_inputs_name_the_file_the_resource_and_the_field_and_nothing_is_applied() {
    let emulator = emulator().await;
    let not_yaml = errors_of(&[("broken.yaml", "spec:\n  a: [unclosed\n  b: c\n")]);
    assert_eq!(not_yaml.len(), 1);
    assert_eq!(not_yaml[0].file, "broken.yaml");
    assert!(not_yaml[0].message.contains("line "), "{}", not_yaml[0]);

    let bad = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayRepository
metadata: {name: app}
spec:
  namespace: acme
  visibilty: public
  permissions:
    - {kind: team, name: developers, role: owner}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayConnection
metadata: {name: default}
spec:
  url: ftp://quay.example.com
  tokenSecretRef: {name: quay-token, key: token}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayNotification
metadata: {name: pushes}
spec:
  repositoryRef: {name: missing}
  event: repo_push
  method: slack
  urlSecretRef: {name: slack, key: url}
---
apiVersion: v1
kind: Secret
metadata: {name: slack}
stringData: {other: x}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayTeam
metadata: {namespace: team-a}
spec: {organization: acme}
";
    let errors = errors_of(&[("acme.yaml", ORG), ("bad.yaml", bad)]);
    assert!(errors.iter().all(|e| e.file == "bad.yaml"), "{errors:#?}");
    let unknown = error_at(&errors, "spec.visibilty");
    assert_eq!(unknown.resource.as_deref(), Some("QuayRepository/app"));
    assert_eq!(unknown.message, "unknown field");
    let rejected = error_at(&errors, "spec.permissions[0].role");
    assert_eq!(
        rejected.message,
        r#"Unsupported value: "owner": supported values: "read", "write", "admin""#
    );
    assert_eq!(
        rejected.to_string(),
        format!(
            "bad.yaml: QuayRepository/app: spec.permissions[0].role: {}",
            rejected.message
        )
    );
    let cel = error_at(&errors, "spec.url");
    assert_eq!(cel.resource.as_deref(), Some("QuayConnection/default"));
    assert!(
        cel.message.starts_with("url must be http:// or https://"),
        "{cel}"
    );
    let reference = error_at(&errors, "spec.repositoryRef.name");
    assert_eq!(
        reference.resource.as_deref(),
        Some("QuayNotification/pushes")
    );
    assert!(reference.message.contains("\"missing\""), "{reference}");
    let secret = error_at(&errors, "spec.urlSecretRef");
    assert!(secret.message.contains("no key \"url\""), "{secret}");
    let unnamed = error_at(&errors, "metadata.name");
    assert_eq!(unnamed.resource.as_deref(), Some("QuayTeam (document 5)"));
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert_eq!(emulator.stats().total, 0, "Quay was never asked");
}

#[tokio::test]
async fn a_missing_secret_or_connection_is_an_error_before_quay_is_asked() {
    let emulator = emulator().await;
    let notification = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayNotification
metadata: {name: pushes}
spec:
  repository: acme/app
  event: repo_push
  method: webhook
  urlSecretRef: {name: hook, key: url}
";
    let errors = errors_of(&[("n.yaml", notification)]);
    let missing = error_at(&errors, "spec.urlSecretRef.name");
    assert_eq!(missing.message, "Secret \"hook\" is not in the inputs");

    // Without --quay-url, each resource needs its QuayConnection in the inputs.
    let validated = documents(&[("acme.yaml", ORG)]).and_then(validate).unwrap();
    let Err(errors) = connect(&ConnectionSettings::default(), &validated) else {
        panic!("no connection");
    };
    assert_eq!(
        errors[0].to_string(),
        "acme.yaml: QuayOrganization/acme: spec.connectionRef.name: QuayConnection \"default\" \
         is not in the inputs; add it, or give --quay-url"
    );
    // A ClusterQuayConnection is the operator's to read: plan says what to give.
    let shared = ORG.replace(
        "spec: {",
        "spec: {connectionRef: {kind: ClusterQuayConnection, name: default}, ",
    );
    assert_ne!(shared, ORG);
    let validated = documents(&[("acme.yaml", &shared)])
        .and_then(validate)
        .unwrap();
    let Err(errors) = connect(&ConnectionSettings::default(), &validated) else {
        panic!("no connection");
    };
    assert!(
        errors[0].to_string().contains(
            "spec.connectionRef: ClusterQuayConnection \"default\": cluster connections are read only by the operator; give --quay-url"
        ),
        "{}",
        errors[0]
    );
    assert_eq!(emulator.stats().total, 0);
}

#[tokio::test]
async fn the_connection_manifest_and_its_secret_say_where_quay_is() {
    let emulator = emulator().await;
    let connection = format!(
        "\
apiVersion: v1
kind: Secret
metadata: {{name: quay-token}}
data: {{token: {}}}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayConnection
metadata: {{name: default}}
spec:
  url: {}
  tokenSecretRef: {{name: quay-token, key: token}}
",
        base64_of(TOKEN),
        emulator.url()
    );
    let validated = documents(&[("c.yaml", &connection), ("acme.yaml", ORG)])
        .and_then(validate)
        .unwrap();
    let endpoints = connect(&ConnectionSettings::default(), &validated).unwrap();
    assert_eq!(endpoints.all().len(), 1);
    assert_eq!(
        endpoints.all()[0].token_source,
        "Secret quay-token in c.yaml"
    );
    let report = apply(&validated, &endpoints).await;
    assert!(!report.failed(), "{}", apply_text(&report));
    assert_eq!(endpoints.calls().1, emulator.stats().writes());
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn the_demo_runs_and_converges() {
    let mut out = Vec::new();
    let report = demo::run(&mut out).await.expect("demo");
    let text = String::from_utf8(out).unwrap();
    assert!(report.first_plan.has_changes(), "{text}");
    assert!(!report.apply.failed(), "{text}");
    assert!(!report.second_plan.has_changes(), "{text}");
    assert_eq!(report.calls[2].writes, 0);
    assert!(text.contains("What the emulated Quay holds now:"), "{text}");
    assert!(!text.contains("demo-token"), "the token is never printed");
}

#[test]
fn every_example_file_is_embedded() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| format!("examples/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    files.sort();
    let embedded: Vec<&str> = demo::EXAMPLES.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        files, embedded,
        "add the new example to gitops::demo::EXAMPLES"
    );
    for (name, text) in demo::EXAMPLES {
        let on_disk =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
                .unwrap();
        assert_eq!(&on_disk, text);
    }
}
