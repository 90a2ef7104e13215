//! `demo`: the example manifests, planned and applied against an in-process
//! Quay emulator, with what each step cost in Quay API calls. The examples
//! are embedded, so it works from any directory.

use std::io::Write;

use secrecy::SecretString;

use super::connection::{ConnectionSettings, Endpoints, Token, connect};
use super::manifests::{Document, parse};
use super::output::{apply_text, errors_text, plan_text};
use super::plan::{ApplyReport, Plan, apply, plan};
use super::resources::Desired;
use super::validate::{Validated, validate};
use crate::emulator::{Emulator, EmulatorConfig, Stats};
use crate::engine::Quay;
use crate::quay::api::quota::QuotaScope;
use crate::quay::api::robot::RobotOwner;

/// The files of `examples/`, embedded.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "examples/connection.yaml",
        include_str!("../../examples/connection.yaml"),
    ),
    (
        "examples/global-message.yaml",
        include_str!("../../examples/global-message.yaml"),
    ),
    (
        "examples/mirror.yaml",
        include_str!("../../examples/mirror.yaml"),
    ),
    (
        "examples/notification.yaml",
        include_str!("../../examples/notification.yaml"),
    ),
    (
        "examples/oauth-application.yaml",
        include_str!("../../examples/oauth-application.yaml"),
    ),
    (
        "examples/organization.yaml",
        include_str!("../../examples/organization.yaml"),
    ),
    (
        "examples/proxycache.yaml",
        include_str!("../../examples/proxycache.yaml"),
    ),
    (
        "examples/quota.yaml",
        include_str!("../../examples/quota.yaml"),
    ),
    (
        "examples/repository.yaml",
        include_str!("../../examples/repository.yaml"),
    ),
    (
        "examples/robot.yaml",
        include_str!("../../examples/robot.yaml"),
    ),
    (
        "examples/team.yaml",
        include_str!("../../examples/team.yaml"),
    ),
    (
        "examples/user-namespace.yaml",
        include_str!("../../examples/user-namespace.yaml"),
    ),
];

/// What exists in Quay before the demo: what the examples use without
/// managing it (the mirror's robot, the repository the second notification
/// is on), in an organization the examples then adopt.
pub const SEED: &str = "\
apiVersion: quayconfig.io/v1alpha1
kind: QuayOrganization
metadata: {name: platform}
spec: {email: ops@example.com}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayRobotAccount
metadata: {name: mirrorbot}
spec: {organization: platform, name: mirrorbot, description: Pushes mirrored images}
---
apiVersion: quayconfig.io/v1alpha1
kind: QuayRepository
metadata: {name: legacy-tools}
spec: {namespace: platform, name: legacy_tools, visibility: public}
";

/// The emulator's API token in the demo.
const TOKEN: &str = "demo-token";

/// Quay API calls of one step, as the emulator counted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calls {
    /// All calls.
    pub total: u64,
    /// Calls other than GET.
    pub writes: u64,
}

impl From<Stats> for Calls {
    fn from(stats: Stats) -> Self {
        Calls {
            total: stats.total,
            writes: stats.writes(),
        }
    }
}

/// What the demo did.
#[derive(Debug)]
pub struct DemoReport {
    /// The first plan.
    pub first_plan: Plan,
    /// The apply run.
    pub apply: ApplyReport,
    /// The plan after it.
    pub second_plan: Plan,
    /// Calls of the three steps.
    pub calls: [Calls; 3],
}

/// The embedded examples as documents.
pub fn example_documents() -> Vec<Document> {
    EXAMPLES
        .iter()
        .flat_map(|(file, text)| parse(file, text).expect("the examples are valid YAML"))
        .collect()
}

/// Validates documents and connects them to the emulator.
fn prepare(
    documents: Vec<Document>,
    settings: &ConnectionSettings,
) -> Result<(Validated, Endpoints), String> {
    validate(documents)
        .and_then(|v| connect(settings, &v).map(|e| (v, e)))
        .map_err(|errors| errors_text(&errors, "the demo stops"))
}

/// Runs the demo, writing its story to `out`.
pub async fn run(out: &mut dyn Write) -> Result<DemoReport, String> {
    let io = |e: std::io::Error| e.to_string();
    let emulator = Emulator::start(EmulatorConfig {
        token: Some(TOKEN.to_owned()),
        superusers_full_access: true,
        mailing: false,
    })
    .await
    .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let settings = ConnectionSettings {
        url: Some(emulator.url()),
        token: Some(Token {
            value: SecretString::from(TOKEN),
            source: "the emulator".to_owned(),
        }),
        ..ConnectionSettings::default()
    };

    let seed = parse("seed", SEED).map_err(|e| e.to_string())?;
    let (validated, endpoints) = prepare(seed, &settings)?;
    if apply(&validated, &endpoints).await.failed() {
        return Err("cannot seed the emulator".to_owned());
    }
    writeln!(
        out,
        "A Quay emulator runs at {} (in memory, gone when the demo ends).\n\
         It already holds what the examples use without managing it: organization\n\
         platform, its robot platform+mirrorbot and its repository legacy_tools.\n\
         The manifests are the ones in examples/; their QuayConnection is replaced by\n\
         the emulator's URL and token.",
        emulator.url()
    )
    .map_err(io)?;

    let (validated, endpoints) = prepare(example_documents(), &settings)?;
    let step = |out: &mut dyn Write, command: &str| {
        emulator.reset_stats();
        writeln!(out, "\n$ quay-config-operator {command} -f examples/").map_err(io)
    };
    let cost = |out: &mut dyn Write| {
        let calls = Calls::from(emulator.stats());
        writeln!(
            out,
            "({} Quay API calls, {} of them writes)",
            calls.total, calls.writes
        )
        .map(|()| calls)
        .map_err(io)
    };

    step(out, "plan")?;
    let first_plan = plan(&validated, &endpoints).await;
    write!(out, "{}", plan_text(&first_plan)).map_err(io)?;
    let first_calls = cost(out)?;

    step(out, "apply")?;
    let report = apply(&validated, &endpoints).await;
    write!(out, "{}", apply_text(&report)).map_err(io)?;
    let apply_calls = cost(out)?;

    step(out, "plan")?;
    let second_plan = plan(&validated, &endpoints).await;
    write!(out, "{}", plan_text(&second_plan)).map_err(io)?;
    let second_calls = cost(out)?;

    let quay = &endpoints.of(0).quay;
    writeln!(out, "\nWhat the emulated Quay holds now:").map_err(io)?;
    for line in inventory(quay, &validated).await? {
        writeln!(out, "  {line}").map_err(io)?;
    }
    writeln!(
        out,
        "\nOn your Quay: QUAY_URL=https://quay.example.com QUAY_TOKEN=... \
         quay-config-operator plan -f examples/"
    )
    .map_err(io)?;
    if report.failed() || second_plan.has_changes() {
        return Err("the examples did not converge".to_owned());
    }
    Ok(DemoReport {
        first_plan,
        apply: report,
        second_plan,
        calls: [first_calls, apply_calls, second_calls],
    })
}

/// A few lines on what each organization of the inputs holds, read through the API.
async fn inventory(quay: &Quay, validated: &Validated) -> Result<Vec<String>, String> {
    let client = &quay.client;
    let error = |e: crate::quay::QuayError| e.to_string();
    let mut lines = Vec::new();
    let organizations = validated.resources.iter().filter_map(|r| match &r.desired {
        Desired::Organization(o) => Some(o.name.clone()),
        _ => None,
    });
    for org in organizations {
        let Some(info) = client.get_organization(&org).await.map_err(error)? else {
            continue;
        };
        lines.push(format!(
            "organization {org} ({})",
            info.email.as_deref().unwrap_or("no e-mail")
        ));
        let teams: Vec<String> = info
            .teams
            .values()
            .map(|t| {
                format!(
                    "{} ({}, {})",
                    t.name,
                    t.role,
                    count(t.member_count, "member")
                )
            })
            .collect();
        lines.push(format!("  teams: {}", teams.join(", ")));
        let robots = client
            .list_robots(&RobotOwner::Organization(org.clone()))
            .await
            .map_err(error)?;
        let robots: Vec<&str> = robots.iter().map(|r| r.name.as_str()).collect();
        lines.push(format!("  robots: {}", robots.join(", ")));
        let applications = client.list_applications(&org).await.map_err(error)?;
        let applications: Vec<&str> = applications.iter().map(|a| a.name.as_str()).collect();
        lines.push(format!("  OAuth applications: {}", applications.join(", ")));
        for repo in client.list_repositories(&org).await.map_err(error)? {
            let notifications = client
                .list_notifications(&org, &repo.name)
                .await
                .map_err(error)?;
            let mirror = client.get_mirror(&org, &repo.name).await.map_err(error)?;
            let mut about = vec![
                match repo.is_public {
                    true => "public".to_owned(),
                    false => "private".to_owned(),
                },
                count(notifications.len() as u64, "notification"),
            ];
            if let Some(m) = mirror {
                about.push(format!("mirrors {}", m.external_reference));
            }
            lines.push(format!("  repository {}: {}", repo.name, about.join(", ")));
        }
        for quota in client
            .list_quotas(&QuotaScope::Organization(org.clone()))
            .await
            .map_err(error)?
        {
            let limits: Vec<String> = quota
                .limits
                .iter()
                .map(|l| format!("{} at {} %", l.kind, l.limit_percent))
                .collect();
            lines.push(format!(
                "  quota: {} ({})",
                quota
                    .limit
                    .unwrap_or_else(|| format!("{} bytes", quota.limit_bytes)),
                limits.join(", ")
            ));
        }
        if let Some(cache) = client.get_proxy_cache(&org).await.map_err(error)? {
            lines.push(format!(
                "  proxy cache of {} (cached tags expire after {} s)",
                cache.upstream_registry, cache.expiration_s
            ));
        }
    }
    for message in client.global_messages().await.map_err(error)? {
        lines.push(format!(
            "global message ({}, {}): {}",
            message.severity, message.media_type, message.content
        ));
    }
    Ok(lines)
}

/// `1 member`, `2 members`.
fn count(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}
