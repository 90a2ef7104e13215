//! `export` against the in-process emulator: every kind read back from a
//! populated Quay, names, the round trip through `plan`, no secret value in
//! the output, and the request budget.

use std::path::{Path, PathBuf};

use quay_config_operator::emulator::{Emulator, EmulatorConfig};
use quay_config_operator::engine::Quay;
use quay_config_operator::gitops::connection::{ConnectionSettings, Endpoints, Token, connect};
use quay_config_operator::gitops::export::convert::Target;
use quay_config_operator::gitops::export::read::Skip;
use quay_config_operator::gitops::export::{
    ExportArgs, Request, Selection, export, export_command,
};
use quay_config_operator::gitops::manifests::{load, parse};
use quay_config_operator::gitops::output::{apply_text, plan_text};
use quay_config_operator::gitops::plan::{Plan, apply, plan};
use quay_config_operator::gitops::validate::{Validated, validate};
use quay_config_operator::gitops::{ConnectionArgs, demo};
use quay_config_operator::quay::api::application::ApplicationFields;
use quay_config_operator::quay::api::mirror::{MirrorUpdate, ProxyConfig, RegistryConfig};
use quay_config_operator::quay::api::notification::NewNotification;
use quay_config_operator::quay::api::robot::RobotOwner;
use secrecy::{ExposeSecret, SecretString};

const TOKEN: &str = "export-test-token";

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access: true,
        mailing: false,
    })
    .await
    .expect("emulator")
}

fn endpoints(emulator: &Emulator, validated: &Validated) -> Endpoints {
    let settings = ConnectionSettings {
        url: Some(emulator.url()),
        token: Some(Token {
            value: SecretString::from(TOKEN),
            source: "the test".to_owned(),
        }),
        ..ConnectionSettings::default()
    };
    connect(&settings, validated).expect("endpoints")
}

/// A fresh view of the emulator, as `export` gets it.
fn quay(emulator: &Emulator) -> Quay {
    endpoints(emulator, &Validated::default()).all()[0]
        .quay
        .clone()
}

/// Applies manifests (file name, YAML) and checks that everything was done.
async fn apply_all(emulator: &Emulator, files: &[(&str, &str)]) {
    let mut documents = Vec::new();
    for (file, text) in files {
        documents.extend(parse(file, text).expect("YAML"));
    }
    let validated = validate(documents).expect("valid inputs");
    let report = apply(&validated, &endpoints(emulator, &validated)).await;
    assert!(!report.failed(), "{}", apply_text(&report));
}

/// Plans the manifests below `dir`.
async fn plan_dir(emulator: &Emulator, dir: &Path) -> Plan {
    let validated = load(&[dir.to_owned()])
        .and_then(validate)
        .expect("the export is valid");
    plan(&validated, &endpoints(emulator, &validated)).await
}

fn request(organizations: Selection, skip: Vec<Skip>) -> Request {
    Request {
        organizations,
        skip,
        target: Target::default(),
    }
}

fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("qco-export-{}", uuid::Uuid::new_v4()))
}

/// Secret values the Quay under test holds; none may appear in an export.
const SLACK_URL: &str = "https://hooks.slack.com/services/T000/B000/SLACK-SECRET-TOKEN";
const WEBHOOK_URL: &str = "https://hooks.example.com/push?token=WEBHOOK-SECRET-TOKEN";
const MIRROR_USER: &str = "mirror-user-secret";
const MIRROR_PASSWORD: &str = "MIRROR-PASSWORD-SECRET";
const FLOWDOCK_TOKEN: &str = "FLOWDOCK-SECRET-TOKEN";
const PROXY_URL: &str = "http://proxy-user:PROXY-SECRET@proxy.example.com:3128";

/// The examples with secret values of our own, then a second organization
/// whose names collide with the first's.
fn populated() -> Vec<(&'static str, String)> {
    let mut files: Vec<(&str, String)> = Vec::new();
    files.extend(demo::EXAMPLES.iter().map(|(f, t)| (*f, (*t).to_owned())));
    files.push(("secrets.yaml", secrets()));
    files.push(("beta.yaml", BETA.replace("WEBHOOK_URL", WEBHOOK_URL)));
    files
}

fn secrets() -> String {
    format!(
        "\
apiVersion: v1
kind: Secret
metadata: {{name: slack-hook}}
stringData: {{url: '{SLACK_URL}'}}
---
apiVersion: v1
kind: Secret
metadata: {{name: quayio-puller}}
stringData: {{username: {MIRROR_USER}, password: {MIRROR_PASSWORD}}}
"
    )
}

const BETA: &str = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayOrganization
metadata: {name: beta}
spec: {name: beta_team, email: beta@example.com}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayTeam
metadata: {name: beta-developers}
spec: {organization: beta_team, name: developers, role: member}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayRobotAccount
metadata: {name: deploy}
spec: {organization: beta_team, name: deploy.bot}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayRepository
metadata: {name: beta-api-server}
spec:
  namespace: beta_team
  name: api-server
  visibility: public
  state: READ_ONLY
  permissions:
    - {kind: robot, name: deploy.bot, role: read}
    - {kind: team, name: developers, role: write}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayNotification
metadata: {name: beta-pushes}
spec:
  repositoryRef: {name: beta-api-server}
  event: repo_push
  method: webhook
  title: Pushes
  config: {url: 'WEBHOOK_URL', template: '{\"pushed\": true}'}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayNotification
metadata: {name: beta-mail}
spec:
  repositoryRef: {name: beta-api-server}
  event: repo_image_expiry
  eventConfig: {days: 5}
  method: quay_notification
  config: {target: {kind: team, name: developers}}
";

/// The Secrets a person fills in after the export: the values Quay holds.
fn fill_in_secrets(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let values = match name.as_str() {
            "secret-beta-team-api-server-repo-push-url.yaml" => format!("  url: '{WEBHOOK_URL}'\n"),
            "secret-platform-api-server-vulnerability-found-url.yaml" => {
                format!("  url: '{SLACK_URL}'\n")
            }
            "secret-busybox-credentials.yaml" => {
                format!("  username: {MIRROR_USER}\n  password: {MIRROR_PASSWORD}\n")
            }
            n if n.starts_with("secret-") => panic!("unexpected Secret {n}"),
            _ => continue,
        };
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}stringData:\n{values}")).unwrap();
    }
}

#[tokio::test]
async fn an_export_of_every_kind_plans_in_sync_once_its_secrets_are_filled_in() {
    let emulator = emulator().await;
    let files = populated();
    let files: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    apply_all(&emulator, &[("seed.yaml", demo::SEED)]).await;
    apply_all(&emulator, &files).await;

    emulator.reset_stats();
    let exported = export(&quay(&emulator), &request(Selection::All, Vec::new()))
        .await
        .expect("export");
    assert_eq!(emulator.stats().writes(), 0, "export only reads");
    // Only the warning that a webhook body template is written as it is.
    assert_eq!(exported.notes.len(), 1, "{:#?}", exported.notes);
    assert!(exported.notes[0].contains("body template is written as Quay holds it"));
    let dir = temp_dir();
    exported.write_to(&dir).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "quaymirrorconfig-busybox.yaml",
            "quaynotification-beta-team-api-server-repo-image-expiry.yaml",
            "quaynotification-beta-team-api-server-repo-push.yaml",
            "quaynotification-legacy-tools-repo-push.yaml",
            "quaynotification-platform-api-server-vulnerability-found.yaml",
            "quayoauthapplication-release-bot.yaml",
            "quayorganization-beta-team.yaml",
            "quayorganization-dockerhub.yaml",
            "quayorganization-platform.yaml",
            "quayproxycache-dockerhub.yaml",
            "quayquota-platform.yaml",
            "quayrepository-beta-team-api-server.yaml",
            "quayrepository-busybox.yaml",
            "quayrepository-legacy-tools.yaml",
            "quayrepository-platform-api-server.yaml",
            "quayrobotaccount-ci-pusher.yaml",
            "quayrobotaccount-deploy-bot.yaml",
            "quayrobotaccount-mirrorbot.yaml",
            "quayteam-beta-team-developers.yaml",
            "quayteam-beta-team-owners.yaml",
            "quayteam-dockerhub-owners.yaml",
            "quayteam-platform-developers.yaml",
            "quayteam-platform-owners.yaml",
            "secret-beta-team-api-server-repo-push-url.yaml",
            "secret-busybox-credentials.yaml",
            "secret-platform-api-server-vulnerability-found-url.yaml",
        ]
    );
    assert_eq!(exported.resources, 23);

    // Before the Secrets are filled in, plan refuses what needs them.
    let errors = load(std::slice::from_ref(&dir))
        .and_then(validate)
        .expect_err("Secrets without values");
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(errors.iter().all(|e| e.message.contains("has no key")));

    fill_in_secrets(&dir);
    let plan = plan_dir(&emulator, &dir).await;
    let s = plan.summary;
    assert_eq!(
        (s.create, s.update, s.errors, s.in_sync),
        (0, 0, 0, 23),
        "{}",
        plan_text(&plan)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn exported_manifests_name_quay_objects_retain_them_and_hold_no_secret() {
    let emulator = emulator().await;
    let files = populated();
    let files: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    apply_all(&emulator, &[("seed.yaml", demo::SEED)]).await;
    apply_all(&emulator, &files).await;
    let quay = quay(&emulator);
    // What a kind cannot hold is left out with a note: a notification whose
    // configuration holds a token, a title longer than the CRD allows, a
    // proxy URL with credentials.
    let client = &quay.client;
    let flowdock = NewNotification {
        event: "repo_push".into(),
        method: "flowdock".into(),
        config: serde_json::json!({"flow_api_token": FLOWDOCK_TOKEN}),
        event_config: serde_json::json!({}),
        title: None,
    };
    client
        .create_notification("platform", "busybox", &flowdock)
        .await
        .unwrap();
    let long_title = NewNotification {
        method: "quay_notification".into(),
        config: serde_json::json!({"target": {"kind": "team", "name": "owners"}}),
        title: Some("t".repeat(300)),
        ..flowdock
    };
    client
        .create_notification("platform", "busybox", &long_title)
        .await
        .unwrap();
    let proxy = MirrorUpdate {
        external_registry_config: Some(RegistryConfig {
            verify_tls: Some(true),
            unsigned_images: None,
            proxy: Some(ProxyConfig {
                http_proxy: None,
                https_proxy: Some(PROXY_URL.into()),
                no_proxy: None,
            }),
        }),
        ..MirrorUpdate::default()
    };
    client
        .update_mirror("platform", "busybox", &proxy)
        .await
        .unwrap();
    // Two OAuth applications of one name: the operator would adopt neither.
    let twin = ApplicationFields {
        name: "twin".into(),
        redirect_uri: String::new(),
        application_uri: String::new(),
        description: String::new(),
        avatar_email: None,
    };
    for _ in 0..2 {
        client.create_application("beta_team", &twin).await.unwrap();
    }
    // One name in two organizations: both exported, under qualified names.
    let ci = ApplicationFields {
        name: "ci".into(),
        ..twin.clone()
    };
    for org in ["platform", "beta_team"] {
        client.create_application(org, &ci).await.unwrap();
    }
    let named = Selection::Named(vec!["platform".into(), "beta_team".into()]);
    let exported = export(&quay, &request(named.clone(), Vec::new()))
        .await
        .unwrap();
    let again = export(&quay, &request(named, Vec::new())).await.unwrap();
    assert_eq!(exported, again, "the same Quay gives the same export");

    let notes = exported.notes.join("\n");
    assert_eq!(exported.notes.len(), 5, "{notes}");
    assert!(
        notes.contains(
            "OAuth application beta_team/twin: not exported: 2 applications have this name"
        ),
        "{notes}"
    );
    assert!(
        notes.contains("beta_team/api-server: its webhook body template"),
        "{notes}"
    );
    assert!(notes.contains("flowdock notification on repo_push of repository platform/busybox: not exported: its configuration holds [\"flow_api_token\"]"), "{notes}");
    assert!(
        notes.contains("not exported: ") && notes.contains("spec.title"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "mirror configuration of repository platform/busybox: proxy settings left unmanaged"
        ),
        "{notes}"
    );

    let stream = exported.stream();
    let mut secrets = vec![
        FLOWDOCK_TOKEN,
        PROXY_URL,
        "PROXY-SECRET",
        SLACK_URL,
        WEBHOOK_URL,
        "WEBHOOK-SECRET-TOKEN",
        MIRROR_USER,
        MIRROR_PASSWORD,
        TOKEN,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    for org in ["platform", "beta_team"] {
        let robots = quay
            .client
            .list_robots_with_tokens(&RobotOwner::Organization(org.into()))
            .await
            .unwrap();
        secrets.extend(
            robots
                .iter()
                .map(|r| r.token.as_ref().unwrap().expose_secret().to_owned()),
        );
    }
    for org in ["platform", "beta_team"] {
        let apps = quay.client.list_applications(org).await.unwrap();
        secrets.extend(
            apps.iter()
                .map(|a| a.client_secret.expose_secret().to_owned()),
        );
    }
    assert_eq!(secrets.len(), 17);
    for secret in &secrets {
        assert!(!stream.contains(secret.as_str()), "{secret} in the export");
        assert!(!format!("{:?}", exported.notes).contains(secret.as_str()));
    }

    let documents = parse("export", &stream).unwrap();
    let kinds: Vec<&str> = documents
        .iter()
        .map(|d| d.value["kind"].as_str().unwrap())
        .collect();
    // Dependency order, each Secret before the resource that needs it.
    let first = |kind: &str| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(first("QuayOrganization") < first("QuayRobotAccount"));
    assert!(first("QuayTeam") < first("QuayRepository"));
    assert!(first("QuayRepository") < first("QuayNotification"));
    assert!(first("QuayOrganization") < first("QuayOAuthApplication"));
    for document in &documents {
        let value = &document.value;
        let name = value["metadata"]["name"].as_str().unwrap();
        match value["kind"].as_str().unwrap() {
            "Secret" => {
                assert!(value.get("data").is_none() && value.get("stringData").is_none());
            }
            kind => assert_eq!(value["spec"]["deletionPolicy"], "Retain", "{kind}/{name}"),
        }
    }
    let spec = |kind: &str, name: &str| {
        documents
            .iter()
            .find(|d| d.value["kind"] == kind && d.value["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{kind}/{name}"))
            .value["spec"]
            .clone()
    };
    // Quay names that are not Kubernetes names, or that collide, are kept in spec.name.
    assert_eq!(spec("QuayOrganization", "beta-team")["name"], "beta_team");
    assert_eq!(
        spec("QuayRepository", "legacy-tools")["name"],
        "legacy_tools"
    );
    assert_eq!(
        spec("QuayRepository", "platform-api-server")["name"],
        "api-server"
    );
    assert_eq!(spec("QuayTeam", "platform-owners")["name"], "owners");
    assert_eq!(spec("QuayRobotAccount", "deploy-bot")["name"], "deploy.bot");
    assert!(spec("QuayRepository", "busybox").get("name").is_none());
    assert!(spec("QuayRobotAccount", "ci-pusher").get("name").is_some());
    // What the kinds hold, converted from Quay's answers.
    let api = spec("QuayRepository", "beta-team-api-server");
    assert_eq!(api["state"], "READ_ONLY");
    assert_eq!(api["visibility"], "public");
    let grants = api["permissions"].as_array().unwrap();
    assert!(grants.contains(
        &serde_json::json!({"kind": "robot", "name": "beta_team+deploy.bot", "role": "read"})
    ));
    assert!(
        grants
            .contains(&serde_json::json!({"kind": "team", "name": "developers", "role": "write"}))
    );
    assert!(
        spec("QuayRepository", "busybox").get("state").is_none(),
        "the mirror owns it"
    );
    let hook = spec("QuayNotification", "beta-team-api-server-repo-push");
    assert!(hook["config"].get("url").is_none());
    assert_eq!(
        hook["urlSecretRef"]["name"],
        "beta-team-api-server-repo-push-url"
    );
    assert_eq!(hook["repositoryRef"]["name"], "beta-team-api-server");
    let mirror = spec("QuayMirrorConfig", "busybox");
    assert_eq!(
        mirror["credentialsSecretRef"]["name"],
        "busybox-credentials"
    );
    assert_eq!(mirror["syncInterval"], "6h");
    assert_eq!(mirror["robotUsername"], "platform+mirrorbot");
    let quota = spec("QuayQuota", "platform");
    assert_eq!(quota["limit"], "50Gi");
    assert_eq!(quota["organizationRef"]["name"], "platform");
    assert_eq!(quota["limits"].as_array().unwrap().len(), 2);
    let team = spec("QuayTeam", "platform-developers");
    assert_eq!(
        team["members"],
        serde_json::json!([{"kind": "robot", "name": "platform+ci_pusher"}])
    );
    let robot = spec("QuayRobotAccount", "ci-pusher");
    assert_eq!(
        robot["federation"],
        serde_json::json!([{"issuer": "https://kubernetes.default.svc.cluster.local",
                            "subject": "system:serviceaccount:ci:pipeline"}])
    );
    assert!(
        spec("QuayRobotAccount", "deploy-bot")
            .get("federation")
            .is_none()
    );
    for (name, org) in [("platform-ci", "platform"), ("beta-team-ci", "beta_team")] {
        let ci = spec("QuayOAuthApplication", name);
        assert_eq!(ci["organization"], org);
        assert_eq!(ci["name"], "ci");
    }
    let app = spec("QuayOAuthApplication", "release-bot");
    assert_eq!(app["organization"], "platform");
    assert_eq!(app["redirectUri"], "https://ci.example.com/oauth/callback");
    assert_eq!(app["description"], "Release automation");
    assert!(app.get("name").is_none());
    assert!(stream.contains("# Add the values below"), "{stream}");
}

/// An organization with `repositories` repositories, each with a notification.
fn many_repositories(repositories: usize) -> String {
    let mut text = String::from(
        "apiVersion: quayconfig.io/v1alpha1\nkind: QuayOrganization\nmetadata: {name: many}\nspec: {}\n\
         ---\napiVersion: quayconfig.io/v1alpha1\nkind: QuayRobotAccount\nmetadata: {name: bot}\n\
         spec: {organization: many}\n",
    );
    for i in 0..repositories {
        text.push_str(&format!(
            "---
apiVersion: quayconfig.io/v1alpha1
kind: QuayRepository
metadata: {{name: app-{i}}}
spec: {{namespace: many, description: App {i}}}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayNotification
metadata: {{name: app-{i}-mail}}
spec:
  repositoryRef: {{name: app-{i}}}
  event: repo_push
  method: quay_notification
  config: {{target: {{kind: team, name: owners}}}}
"
        ));
    }
    text
}

#[tokio::test]
async fn an_export_reads_each_collection_once() {
    const REPOSITORIES: u64 = 20;
    let emulator = emulator().await;
    apply_all(&emulator, &[("many.yaml", &many_repositories(20))]).await;
    let cost = |skip: Vec<Skip>| {
        let emulator = &emulator;
        async move {
            emulator.reset_stats();
            let named = Selection::Named(vec!["many".into()]);
            let exported = export(&quay(emulator), &request(named, skip))
                .await
                .unwrap();
            assert_eq!(exported.resources as u64, 3 + 2 * REPOSITORIES);
            let stats = emulator.stats();
            let per_repository = |route: &str| stats.by_route.get(route).copied();
            assert_eq!(
                per_repository("GET /api/v1/repository/{repository}/notification/"),
                Some(REPOSITORIES),
                "one notification list per repository: Quay has no organization-wide one"
            );
            let federation = per_repository(
                "GET /api/v1/organization/{orgname}/robots/{robot_shortname}/federation",
            );
            (stats.total, exported, federation)
        }
    };
    // The organization, its robots, default permissions, the owners team's
    // members, the proxy cache, the OAuth applications, the repository list:
    // then one notification list per repository.
    let (lean, exported, federation) =
        cost(vec![Skip::Permissions, Skip::AutoPrune, Skip::Federation]).await;
    println!("export with --skip permissions,auto-prune,federation: {lean} requests");
    assert!(lean <= 7 + REPOSITORIES, "{lean} requests");
    assert_eq!(federation, None);
    assert!(!exported.stream().contains("permissions:"));
    // Everything: plus per repository its user permissions and auto-prune
    // policies; per team its permissions; per robot its federation.
    let (full, _, federation) = cost(Vec::new()).await;
    println!("full export: {full} requests");
    assert!(full <= 10 + 3 * REPOSITORIES, "{full} requests");
    assert_eq!(federation, Some(1), "one federation read per robot");
}

#[tokio::test]
async fn the_command_writes_files_or_refuses_and_plan_agrees() {
    let emulator = emulator().await;
    apply_all(&emulator, &[("many.yaml", &many_repositories(2))]).await;
    let dir = temp_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("token"), TOKEN).unwrap();
    let args = |orgs: &[&str], out: &str| ExportArgs {
        organizations: orgs.iter().map(|o| (*o).to_owned()).collect(),
        all: false,
        output_dir: Some(dir.join(out)),
        namespace: Some("quay".to_owned()),
        connection: Some("prod".to_owned()),
        skip: Vec::new(),
        quay: ConnectionArgs {
            quay_url: Some(emulator.url()),
            token_file: Some(dir.join("token")),
            ..ConnectionArgs::default()
        },
    };
    assert_eq!(export_command(args(&["many"], "out")).await, 0);
    let out = dir.join("out");
    let text = std::fs::read_to_string(out.join("quayrepository-app-0.yaml")).unwrap();
    assert!(text.contains("namespace: quay"), "{text}");
    assert!(text.contains("connectionRef:\n    name: prod"), "{text}");
    let plan = plan_dir(&emulator, &out).await;
    assert!(!plan.has_changes(), "{}", plan_text(&plan));
    assert_eq!(plan.summary.in_sync, 7);

    assert_eq!(export_command(args(&["many", "nope"], "missing")).await, 1);
    assert!(!dir.join("missing").exists(), "nothing is written");
    let mut bad = args(&["many"], "bad");
    bad.namespace = Some("Not_A_Namespace".to_owned());
    assert_eq!(export_command(bad).await, 1);
    std::fs::remove_dir_all(dir).unwrap();
}
