//! Repository notifications: `/api/v1/repository/{repository}/notification/...`.

use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Notification, State};
use super::new_uuid;

/// Events Quay knows.
const EVENTS: [&str; 11] = [
    "repo_push",
    "repo_mirror_sync_started",
    "repo_mirror_sync_success",
    "repo_mirror_sync_failed",
    "repo_image_expiry",
    "build_queued",
    "build_start",
    "build_success",
    "build_failure",
    "build_cancelled",
    "vulnerability_found",
];

/// Notification methods Quay knows.
const METHODS: [&str; 6] = [
    "quay_notification",
    "email",
    "webhook",
    "flowdock",
    "hipchat",
    "slack",
];

fn view(n: &Notification) -> Value {
    json!({
        "uuid": n.uuid,
        "title": n.title,
        "event": n.event,
        "method": n.method,
        "config": n.config,
        "event_config": n.event_config,
        "number_of_failures": n.number_of_failures,
    })
}

/// The metadata Quay logs for a notification change.
fn log_notification(
    ctx: &Ctx,
    state: &mut State,
    kind: &'static str,
    (ns, name): (&str, &str),
    n: &Notification,
) {
    let metadata = json!({
        "repo": name,
        "namespace": ns,
        "notification_id": n.uuid,
        "event": n.event,
        "method": n.method,
    });
    log_action(ctx, state, kind, ns, Some(name), metadata);
}

fn admin_repo(ctx: &Ctx, state: &State) -> Result<(String, String), ApiError> {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    Ok((ns, name))
}

fn not_found_in(ns: &str, name: &str, uuid: &str) -> ApiError {
    ApiError::invalid(format!(
        "No repository notification found for: {ns}, {name}, {uuid}"
    ))
}

/// Whether a URL is http(s) and not pointing at this host (Quay's blacklist).
fn is_allowed_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = host.to_ascii_lowercase();
    !(host.is_empty()
        || host == "localhost"
        || host.starts_with("127.")
        || host == "::1"
        || host == "0.0.0.0"
        || host.ends_with(".localhost"))
}

/// Method-specific checks of `config` (Quay's `NotificationMethod.validate`).
fn validate_method(state: &State, ns: &str, method: &str, config: &Value) -> Result<(), ApiError> {
    match method {
        "webhook" => {
            let url = config.str_field("url").unwrap_or_default();
            if url.is_empty() {
                return Err(ApiError::invalid("Missing webhook URL"));
            }
            if !is_allowed_url(url) {
                return Err(ApiError::invalid("Invalid webhook URL"));
            }
        }
        "slack" => {
            let url = config.str_field("url").unwrap_or_default();
            if url.is_empty() {
                return Err(ApiError::invalid("Missing Slack Callback URL"));
            }
            if !is_allowed_url(url) {
                return Err(ApiError::invalid("Invalid Slack Callback URL"));
            }
        }
        "email" => {
            if config.str_field("email").unwrap_or_default().is_empty() {
                return Err(ApiError::invalid("Missing e-mail address"));
            }
            // Without FEATURE_MAILING no address can ever be authorized.
            return Err(ApiError::invalid(
                "The specified e-mail address is not authorized to receive notifications for this repository",
            ));
        }
        "quay_notification" => {
            let Some(target) = config.get("target").filter(|t| t.is_object()) else {
                return Err(ApiError::invalid("Missing target"));
            };
            let name = target.str_field("name").unwrap_or_default();
            match target.str_field("kind").unwrap_or_default() {
                "user" if state.user(name).is_none() => {
                    return Err(ApiError::invalid(format!("Unknown user {name}")));
                }
                "team"
                    if !state
                        .org(ns)
                        .is_some_and(|o| o.teams.iter().any(|t| t.name == name)) =>
                {
                    return Err(ApiError::invalid(format!("Unknown team {name}")));
                }
                "org" if state.org(name).is_none() => {
                    return Err(ApiError::invalid(format!("Unknown organization {name}")));
                }
                "user" | "team" | "org" => {}
                _ => return Err(ApiError::invalid("Unknown target kind")),
            }
        }
        "flowdock" => {
            if config
                .str_field("flow_api_token")
                .unwrap_or_default()
                .is_empty()
            {
                return Err(ApiError::invalid("Missing Flowdock API Token"));
            }
        }
        "hipchat" => {
            if config
                .str_field("notification_token")
                .unwrap_or_default()
                .is_empty()
            {
                return Err(ApiError::invalid("Missing Hipchat Room Notification Token"));
            }
            if config.get("room_id").is_none() {
                return Err(ApiError::invalid("Missing Hipchat Room ID"));
            }
        }
        _ => return Err(ApiError::server_error()),
    }
    Ok(())
}

/// `GET .../notification/`.
pub fn list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let Some(repo) = state.repo(&ns, &name) else {
        // Quay lists by repository name: for a full-access superuser nothing
        // stops the query, and a missing repository has no notifications.
        if ctx.caller.full_access() {
            return Ok(Reply::ok(json!({ "notifications": [] })));
        }
        return Err(ApiError::not_found());
    };
    let notifications: Vec<Value> = repo.notifications.iter().map(view).collect();
    Ok(Reply::ok(json!({ "notifications": notifications })))
}

/// `POST .../notification/`: 201 with the notification; unknown event or method is a 500.
/// A full-access superuser gets the body checked in full first; for a missing
/// repository Quay's insert then fails (NotNullViolation): a 500 with an empty body.
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let schema = json!({
        "type": "object",
        "description": "Information for creating a notification on a repository",
        "required": ["event", "method", "config", "eventConfig"],
        "properties": {
            "event": {"type": "string", "description": "The event on which the notification will respond"},
            "method": {"type": "string", "description": "The method of notification (such as email or web callback)"},
            "config": {"type": "object", "description": "JSON config information for the specific method of notification"},
            "eventConfig": {"type": "object", "description": "JSON config information for the specific event of notification"},
            "title": {"type": "string", "description": "The human-readable title of the notification"},
        },
    });
    let body = ctx.json(&schema)?;
    let full_access = ctx.caller.full_access();
    if !full_access && state.repo(&ns, &name).is_none() {
        return Err(ApiError::not_found());
    }
    let event = body.str_field("event").unwrap_or_default().to_string();
    let method = body.str_field("method").unwrap_or_default().to_string();
    if !EVENTS.contains(&event.as_str()) || !METHODS.contains(&method.as_str()) {
        return Err(ApiError::server_error());
    }
    let config = body.get("config").cloned().unwrap_or_else(|| json!({}));
    validate_method(state, &ns, &method, &config)?;
    if full_access && state.repo(&ns, &name).is_none() {
        return Err(ApiError::server_error_empty());
    }
    let notification = Notification {
        uuid: new_uuid(),
        title: body.str_field("title").map(str::to_string),
        event,
        method,
        config,
        event_config: body
            .get("eventConfig")
            .cloned()
            .unwrap_or_else(|| json!({})),
        number_of_failures: 0,
    };
    let answer = view(&notification);
    log_notification(
        ctx,
        state,
        "add_repo_notification",
        (&ns, &name),
        &notification,
    );
    if let Some(repo) = state.repo_mut(&ns, &name) {
        repo.notifications.push(notification);
    }
    Ok(Reply::created(answer))
}

/// `GET .../notification/{uuid}`: looked up by uuid alone (not scoped to the repository).
pub fn get(ctx: &Ctx, state: &mut State) -> ApiResult {
    admin_repo(ctx, state)?;
    let uuid = ctx.param("uuid");
    state
        .repos
        .values()
        .flat_map(|r| r.notifications.iter())
        .find(|n| n.uuid == uuid)
        .map(|n| Reply::ok(view(n)))
        .ok_or_else(ApiError::not_found)
}

fn scoped<'a>(
    state: &'a mut State,
    ns: &str,
    name: &str,
    uuid: &str,
) -> Result<&'a mut Notification, ApiError> {
    state
        .repo_mut(ns, name)
        .and_then(|r| r.notifications.iter_mut().find(|n| n.uuid == uuid))
        .ok_or_else(|| not_found_in(ns, name, uuid))
}

/// `POST .../notification/{uuid}`: resets the failure counter (204).
pub fn reset_failures(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let notification = scoped(state, &ns, &name, ctx.param("uuid"))?;
    notification.number_of_failures = 0;
    let notification = notification.clone();
    log_notification(
        ctx,
        state,
        "reset_repo_notification",
        (&ns, &name),
        &notification,
    );
    Ok(Reply::no_content())
}

/// `POST .../notification/{uuid}/test`: queues a test (200 `{}`).
pub fn test(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    scoped(state, &ns, &name, ctx.param("uuid"))?;
    Ok(Reply::ok(json!({})))
}

/// `DELETE .../notification/{uuid}`: 204, then 400.
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let uuid = ctx.param("uuid").to_string();
    let notification = scoped(state, &ns, &name, &uuid)?.clone();
    if let Some(repo) = state.repo_mut(&ns, &name) {
        repo.notifications.retain(|n| n.uuid != uuid);
    }
    log_notification(
        ctx,
        state,
        "delete_repo_notification",
        (&ns, &name),
        &notification,
    );
    Ok(Reply::no_content())
}
