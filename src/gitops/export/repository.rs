//! Repositories and what belongs to them (notifications, mirrors) as custom
//! resources. Secret values stay out: a webhook or Slack URL becomes a
//! `urlSecretRef`, mirror credentials a `credentialsSecretRef`, each to a
//! Secret written without values for the person adopting to fill in.

use serde_json::{Map, Value};

use super::convert::{Context, auto_prune, differs, non_empty, parse};
use super::manifest::{Group, Manifest};
use super::names::{MAX_NAME, Wanted, unique_names};
use super::read::{OrganizationState, RepositoryState};
use crate::crd::mirror::{CredentialsSecretRef, ExternalRegistryConfig, MirrorProxy};
use crate::crd::notification::{NotificationEvent, NotificationMethod};
use crate::crd::{
    GranteeKind, LocalRef, QuayMirrorConfig, QuayMirrorConfigSpec, QuayNotification,
    QuayNotificationSpec, QuayRepository, QuayRepositorySpec, RepoKind, RepositoryPermission,
    RepositoryState as State, Role, SecretKeyRef, Visibility,
};
use crate::engine::permissions::LivePermissions;
use crate::gitops::resources::Kind;
use crate::quay::api::mirror::{MirrorConfig, ProxyConfig};
use crate::quay::api::notification::Notification;
use crate::quay::api::permission::Grantee;

/// Notification names leave room for the `-url` suffix of their Secret.
const NOTIFICATION_NAME: usize = MAX_NAME - "-url".len();
/// Mirror names leave room for the `-credentials` suffix of their Secret.
const MIRROR_NAME: usize = MAX_NAME - "-credentials".len();

/// Method configuration keys that never hold a credential.
const PLAIN_CONFIG: [&str; 3] = ["email", "target", "template"];

/// The resources of every repository of the organizations.
pub(super) fn convert(cx: &mut Context, organizations: &[OrganizationState]) -> Vec<Group> {
    let repos: Vec<(&str, &RepositoryState)> = organizations
        .iter()
        .flat_map(|o| o.repositories.iter().map(|r| (o.view.name.as_str(), r)))
        .collect();
    let repo_names = unique_names(
        &repos
            .iter()
            .map(|(org, r)| Wanted::new(org, &r.repo.name))
            .collect::<Vec<_>>(),
        MAX_NAME,
    );
    // Notifications in a fixed order (Quay lists them in creation order).
    let notifications: Vec<Vec<&Notification>> = repos
        .iter()
        .map(|(_, r)| {
            let mut list: Vec<&Notification> = r.notifications.iter().collect();
            list.sort_by_key(|n| {
                (
                    &n.event,
                    &n.method,
                    &n.title,
                    n.config.to_string(),
                    n.event_config.to_string(),
                    &n.uuid,
                )
            });
            list
        })
        .collect();
    let notification_names = unique_names(
        &repo_names
            .iter()
            .zip(&notifications)
            .flat_map(|(repo, list)| {
                list.iter()
                    .map(move |n| Wanted::new("", &format!("{repo}-{}", n.event)))
            })
            .collect::<Vec<_>>(),
        NOTIFICATION_NAME,
    );
    let mirror_names = unique_names(
        &repo_names
            .iter()
            .zip(&repos)
            .filter(|(_, (_, r))| r.mirror.is_some())
            .map(|(repo, _)| Wanted::new("", repo))
            .collect::<Vec<_>>(),
        MIRROR_NAME,
    );
    let (mut notification_names, mut mirror_names) =
        (notification_names.into_iter(), mirror_names.into_iter());
    let mut groups = Vec::new();
    for (((org, state), name), list) in repos.iter().zip(&repo_names).zip(&notifications) {
        let what = format!("repository {org}/{}", state.repo.name);
        groups.extend(repository(cx, state, name, &what));
        for n in list {
            let own = notification_names
                .next()
                .expect("one name per notification");
            let what = format!("{} notification on {} of {what}", n.method, n.event);
            groups.extend(notification(cx, n, name, &own, &what));
        }
        if let Some(mirror) = &state.mirror {
            let own = mirror_names.next().expect("one name per mirror");
            let what = format!("mirror configuration of {what}");
            groups.extend(mirror_config(cx, mirror, name, &own, &what));
        }
    }
    groups
}

fn repository(cx: &mut Context, state: &RepositoryState, name: &str, what: &str) -> Option<Group> {
    let repo = &state.repo;
    let Some(repo_kind) = parse::<RepoKind>(&repo.kind) else {
        cx.note(what, format!("not exported: kind {:?}", repo.kind));
        return None;
    };
    // An enabled mirror owns the state: the repository's own is left out.
    let mirrored = state.mirror.as_ref().is_some_and(|m| m.is_enabled);
    let repo_state = match parse::<State>(&repo.state) {
        _ if mirrored => None,
        None => {
            cx.note(what, format!("state {:?} left unmanaged", repo.state));
            None
        }
        state => state,
    };
    let spec = QuayRepositorySpec {
        namespace: repo.namespace.clone(),
        name: differs(&repo.name, name),
        visibility: match repo.is_public {
            true => Visibility::Public,
            false => Visibility::Private,
        },
        description: repo.description.as_deref().and_then(non_empty),
        repo_kind,
        state: repo_state,
        permissions: state
            .permissions
            .as_ref()
            .and_then(|p| permissions(cx, what, p)),
        auto_prune_policies: state
            .auto_prune
            .as_ref()
            .and_then(|p| auto_prune(cx, what, p)),
        management: cx.management(),
    };
    let object = QuayRepository {
        metadata: cx.meta(name),
        spec,
        status: None,
    };
    Some(Group::of(
        Kind::Repository,
        Manifest::new(Kind::Repository.name(), name, &object, Vec::new()),
    ))
}

fn permissions(
    cx: &mut Context,
    what: &str,
    live: &LivePermissions,
) -> Option<Vec<RepositoryPermission>> {
    let mut list = Vec::new();
    for ((grantee, name), role) in live {
        let kind = match grantee {
            Grantee::User if name.contains('+') => GranteeKind::Robot,
            Grantee::User => GranteeKind::User,
            Grantee::Team => GranteeKind::Team,
        };
        let Some(role) = parse::<Role>(role) else {
            cx.note(what, format!("permissions left unmanaged: role {role:?}"));
            return None;
        };
        list.push(RepositoryPermission {
            kind,
            name: name.clone(),
            role,
        });
    }
    (!list.is_empty()).then_some(list)
}

/// An object (`null` as empty), or `None`.
fn object(value: &Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map.clone()),
        Value::Null => Some(Map::new()),
        _ => None,
    }
}

fn notification(
    cx: &mut Context,
    n: &Notification,
    repo: &str,
    name: &str,
    what: &str,
) -> Option<Group> {
    let (Some(event), Some(method)) = (
        parse::<NotificationEvent>(&n.event),
        parse::<NotificationMethod>(&n.method),
    ) else {
        cx.note(
            what,
            "not exported: event or method unknown to QuayNotification",
        );
        return None;
    };
    let (Some(mut config), Some(event_config)) = (object(&n.config), object(&n.event_config))
    else {
        cx.note(what, "not exported: its configuration is not an object");
        return None;
    };
    let url_secret = matches!(
        method,
        NotificationMethod::Webhook | NotificationMethod::Slack
    ) && config.remove("url").is_some();
    let other: Vec<&String> = config
        .keys()
        .filter(|k| !PLAIN_CONFIG.contains(&k.as_str()))
        .collect();
    if !other.is_empty() {
        cx.note(
            what,
            format!(
                "not exported: its configuration holds {other:?}, which may be credentials and \
                 which a QuayNotification could only carry in plain spec.config"
            ),
        );
        return None;
    }
    if config.contains_key("template") {
        cx.note(
            what,
            "its webhook body template is written as Quay holds it, in plain spec.config: check \
             that it carries no credential before committing it",
        );
    }
    let secret_name = format!("{name}-url");
    let secret = url_secret.then(|| {
        let why = [
            format!("The URL of the {what}."),
            "Quay's URL may carry a token, so export does not write it.".to_owned(),
        ];
        Manifest::secret_to_fill(cx.meta(&secret_name), &why, &[("url", "the URL")])
    });
    let spec = QuayNotificationSpec {
        repository_ref: Some(LocalRef {
            name: repo.to_owned(),
        }),
        repository: None,
        event,
        method,
        title: n.title.clone(),
        config,
        event_config,
        url_secret_ref: url_secret.then(|| SecretKeyRef {
            name: secret_name.clone(),
            key: "url".to_owned(),
        }),
        management: cx.management(),
    };
    let comment = match url_secret {
        true => vec![format!(
            "The URL is in Secret {secret_name}: fill it in there."
        )],
        false => Vec::new(),
    };
    let object = QuayNotification {
        metadata: cx.meta(name),
        spec,
        status: None,
    };
    let manifest = Manifest::new(Kind::Notification.name(), name, &object, comment);
    Some(Group::with_secret(Kind::Notification, manifest, secret))
}

/// Seconds as the largest exact unit: `6h`, `1d`, `90s`.
fn duration(seconds: i64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds % size == 0 {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

fn mirror_config(
    cx: &mut Context,
    m: &MirrorConfig,
    repo: &str,
    name: &str,
    what: &str,
) -> Option<Group> {
    if m.sync_interval <= 0 || m.root_rule.rule_value.is_empty() {
        cx.note(what, "not exported: no sync interval or no tag rule");
        return None;
    }
    let secret_name = format!("{name}-credentials");
    let secret = m.external_registry_username.is_some().then(|| {
        let why = [
            format!("The source registry credentials of the {what}."),
            "Quay never returns the password, and export writes no credentials.".to_owned(),
        ];
        let keys = [("username", "the user name"), ("password", "the password")];
        Manifest::secret_to_fill(cx.meta(&secret_name), &why, &keys)
    });
    let registry = &m.external_registry_config;
    let registry = ExternalRegistryConfig {
        verify_tls: registry.verify_tls,
        unsigned_images: registry.unsigned_images,
        proxy: proxy(cx, what, registry.proxy.as_ref()),
    };
    let spec = QuayMirrorConfigSpec {
        repository_ref: Some(LocalRef {
            name: repo.to_owned(),
        }),
        repository: None,
        is_enabled: m.is_enabled,
        external_reference: m.external_reference.clone(),
        credentials_secret_ref: secret.as_ref().map(|_| CredentialsSecretRef {
            name: secret_name.clone(),
            username_key: "username".to_owned(),
            password_key: "password".to_owned(),
        }),
        sync_interval: duration(m.sync_interval),
        sync_start_date: None,
        robot_username: m.robot_username.clone(),
        root_rule: m.root_rule.rule_value.clone(),
        external_registry_config: (registry != ExternalRegistryConfig::default())
            .then_some(registry),
        management: cx.management(),
    };
    let comment = match &secret {
        Some(_) => vec![format!(
            "The credentials are in Secret {secret_name}: fill them in there."
        )],
        None => Vec::new(),
    };
    let object = QuayMirrorConfig {
        metadata: cx.meta(name),
        spec,
        status: None,
    };
    let manifest = Manifest::new(Kind::MirrorConfig.name(), name, &object, comment);
    Some(Group::with_secret(Kind::MirrorConfig, manifest, secret))
}

/// The proxies, unless unset, blank (a spec cannot say "empty") or carrying
/// credentials: then they are left unmanaged.
fn proxy(cx: &mut Context, what: &str, live: Option<&ProxyConfig>) -> Option<MirrorProxy> {
    let live = live?;
    let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let (http, https) = (set(&live.http_proxy), set(&live.https_proxy));
    if http.is_none() && https.is_none() && set(&live.no_proxy).is_none() {
        return None;
    }
    let credentials = [&http, &https]
        .iter()
        .any(|v| v.as_deref().is_some_and(|url| url.contains('@')));
    let blank = [&live.http_proxy, &live.https_proxy]
        .iter()
        .any(|v| v.as_deref() == Some(""));
    if credentials || blank {
        cx.note(
            what,
            "proxy settings left unmanaged: a proxy URL carries credentials or is blank",
        );
        return None;
    }
    Some(MirrorProxy {
        http_proxy: http,
        https_proxy: https,
        no_proxy: live.no_proxy.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_written_in_the_largest_exact_unit() {
        assert_eq!(duration(21_600), "6h");
        assert_eq!(duration(86_400), "1d");
        assert_eq!(duration(5_400), "90m");
        assert_eq!(duration(61), "61s");
        for seconds in [21_600, 86_400, 5_400, 61] {
            let parsed = humantime::parse_duration(&duration(seconds)).unwrap();
            assert_eq!(parsed.as_secs() as i64, seconds);
        }
    }
}
