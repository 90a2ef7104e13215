//! Repository mirroring: `/api/v1/repository/{repository}/mirror[/sync-now|/sync-cancel]`.

use chrono::NaiveDateTime;
use serde_json::{Map, Value, json};

use super::super::audit::track_and_log;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Mirror, RepoRole, State};

const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

fn no_robot() -> ApiError {
    ApiError::message("Could not find robot with specified username")
}

fn mirror_schema(description: &str, required: &[&str]) -> Value {
    json!({
        "description": description,
        "type": "object",
        "required": required,
        "properties": {
            "is_enabled": {"type": "boolean", "description": "Used to enable or disable synchronizations."},
            "external_reference": {"type": "string", "description": "Location of the external repository."},
            "external_registry_username": {"type": ["string", "null"], "description": "Username used to authenticate with external registry."},
            "external_registry_password": {"type": ["string", "null"], "description": "Password used to authenticate with external registry."},
            "sync_start_date": {"type": "string", "description": "Determines the next time this repository is ready for synchronization."},
            "sync_interval": {"type": "integer", "minimum": 0, "description": "Number of seconds after next_start_date to begin synchronizing."},
            "robot_username": {"type": "string", "description": "Username of robot which will be used for image pushes."},
            "root_rule": {
                "type": "object",
                "required": ["rule_kind", "rule_value"],
                "properties": {
                    "rule_kind": {"type": "string", "description": "The kind of rule type", "enum": ["tag_glob_csv"]},
                    "rule_value": {"type": "array", "description": "Array of tag patterns", "items": {"type": "string"}},
                },
                "description": "A list of glob-patterns used to determine which tags should be synchronized.",
            },
            "external_registry_config": {
                "type": "object",
                "properties": {
                    "verify_tls": {"type": "boolean", "description": "Determines whether HTTPs is required and the certificate is verified when communicating with the external repository."},
                    "unsigned_images": {"type": "boolean", "description": "Determines whether the image signature will be verified when pulling from the external repository."},
                    "proxy": {
                        "type": "object",
                        "description": "Proxy configuration for use during synchronization.",
                        "properties": {
                            "https_proxy": {"type": ["string", "null"], "description": "Value for HTTPS_PROXY environment variable during sync."},
                            "http_proxy": {"type": ["string", "null"], "description": "Value for HTTP_PROXY environment variable during sync."},
                            "no_proxy": {"type": ["string", "null"], "description": "Value for NO_PROXY environment variable during sync."},
                        },
                    },
                },
            },
            "skopeo_timeout_interval": {"type": "integer", "minimum": 300, "description": "Number of seconds mirroring job will run before timing out."},
            "architecture_filter": {"type": ["array", "null"], "items": {"type": "string"}, "description": "List of architectures to mirror from multi-arch images. Empty array or null means mirror all architectures. Valid values: amd64, arm64, ppc64le, s390x."},
        },
    })
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ`, the only format Quay accepts.
fn parse_date(value: &str) -> Result<String, ApiError> {
    NaiveDateTime::parse_from_str(value, DATE_FORMAT)
        .map(|d| d.format(DATE_FORMAT).to_string())
        .map_err(|_| ApiError::detail("Incorrect DateTime format for sync_start_date."))
}

fn admin_repo(ctx: &Ctx, state: &State) -> Result<(String, String), ApiError> {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    if state.repo(&ns, &name).is_none() {
        return Err(ApiError::not_found());
    }
    Ok((ns, name))
}

fn rule_values(body: &Value) -> Vec<Value> {
    body.get("root_rule")
        .and_then(|r| r.get("rule_value"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The robot `full_name` if it is a robot of namespace `ns`.
fn robot_in(state: &State, ns: &str, full_name: &str) -> Result<String, ApiError> {
    match full_name.split_once('+') {
        Some((robot_ns, _)) if robot_ns == ns && state.robot(full_name).is_some() => {
            Ok(full_name.to_string())
        }
        _ => Err(no_robot()),
    }
}

/// `GET .../mirror`.
pub fn get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let repo = state.repo(&ns, &name).ok_or_else(ApiError::not_found)?;
    let mirror = repo.mirror.as_ref().ok_or_else(ApiError::not_found)?;
    let rule = repo
        .mirror_rules
        .get(mirror.rule_index)
        .cloned()
        .unwrap_or_default();
    Ok(Reply::ok(json!({
        "is_enabled": mirror.is_enabled,
        "mirror_type": "PULL",
        "external_reference": mirror.external_reference,
        "external_registry_username": mirror.external_registry_username,
        "external_registry_config": mirror.external_registry_config,
        "sync_interval": mirror.sync_interval,
        "sync_start_date": mirror.sync_start_date,
        "sync_expiration_date": null,
        "sync_retries_remaining": mirror.sync_retries_remaining,
        "sync_status": mirror.sync_status,
        "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": rule},
        "robot_username": mirror.robot_username,
        "skopeo_timeout_interval": mirror.skopeo_timeout_interval,
        "architecture_filter": mirror.architecture_filter,
    })))
}

/// `POST .../mirror`: creates the config, puts the repository into state MIRROR and
/// gives the robot write. A failure after the date check leaves an orphan rule.
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let body = ctx.json(&mirror_schema(
        "Create the repository mirroring configuration.",
        &[
            "external_reference",
            "sync_interval",
            "sync_start_date",
            "root_rule",
            "skopeo_timeout_interval",
        ],
    ))?;
    if state.repo(&ns, &name).is_some_and(|r| r.mirror.is_some()) {
        return Err(ApiError::Detail(
            axum::http::StatusCode::CONFLICT,
            format!("Mirror configuration already exits for repository {ns}/{name}"),
        ));
    }
    let start = parse_date(body.str_field("sync_start_date").unwrap_or_default())?;
    let rule_index = {
        let repo = state.repo_mut(&ns, &name).ok_or_else(ApiError::not_found)?;
        repo.mirror_rules.push(rule_values(&body));
        repo.mirror_rules.len() - 1
    };
    let Some(robot_name) = body.str_field("robot_username") else {
        // Quay indexes data["robot_username"] and crashes.
        return Err(ApiError::server_error());
    };
    let robot = robot_in(state, &ns, robot_name)?;
    let mirror = Mirror {
        is_enabled: body.bool_field("is_enabled").unwrap_or(true),
        external_reference: body
            .str_field("external_reference")
            .unwrap_or_default()
            .to_string(),
        external_registry_username: body
            .str_field("external_registry_username")
            .map(str::to_string),
        external_registry_password: body
            .str_field("external_registry_password")
            .map(str::to_string),
        external_registry_config: body
            .get("external_registry_config")
            .cloned()
            .unwrap_or_else(|| json!({})),
        sync_interval: body.i64_field("sync_interval").unwrap_or(0),
        sync_start_date: start,
        skopeo_timeout_interval: body.i64_field("skopeo_timeout_interval").unwrap_or(300),
        robot_username: robot.clone(),
        sync_status: "NEVER_RUN".to_string(),
        sync_retries_remaining: 3,
        architecture_filter: body
            .get("architecture_filter")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        rule_index,
    };
    let reference = mirror.external_reference.clone();
    let repo = state.repo_mut(&ns, &name).ok_or_else(ApiError::not_found)?;
    repo.mirror = Some(mirror);
    repo.state = "MIRROR".to_string();
    repo.user_perms.insert(robot, RepoRole::Write);
    log_change(
        ctx,
        state,
        (&ns, &name),
        "external_reference",
        json!(reference),
    );
    Ok(Reply::created(json!("")))
}

/// Quay's `track_and_log("repo_mirror_config_changed", changed=..., to=...)`.
fn log_change(ctx: &Ctx, state: &mut State, (ns, name): (&str, &str), field: &str, to: Value) {
    let extra = json!({ "changed": field, "to": to });
    track_and_log(ctx, state, "repo_mirror_config_changed", ns, name, extra);
}

/// The order in which Quay's `PUT .../mirror` applies (and logs) fields.
const UPDATE_ORDER: [&str; 15] = [
    "is_enabled",
    "external_reference",
    "robot_username",
    "sync_start_date",
    "sync_interval",
    "external_registry_username",
    "external_registry_password",
    "verify_tls",
    "unsigned_images",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "skopeo_timeout_interval",
    "architecture_filter",
    "mirror_rule",
];

/// `PUT .../mirror`: partial update, answered with 201 `""`. Fields are applied one
/// by one, so a failing field leaves the earlier ones changed (as in Quay); each
/// field applied is logged as one `repo_mirror_config_changed` entry.
pub fn update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    if state.repo(&ns, &name).is_some_and(|r| r.mirror.is_none()) {
        return Err(ApiError::not_found());
    }
    let body = ctx.json(&mirror_schema(
        "Update the repository mirroring configuration.",
        &[],
    ))?;
    let mut changes: Vec<(&'static str, Value)> = Vec::new();
    let result = apply_update(state, &ns, &name, &body, &mut changes);
    changes.sort_by_key(|(field, _)| UPDATE_ORDER.iter().position(|f| f == field));
    for (field, to) in changes {
        log_change(ctx, state, (&ns, &name), field, to);
    }
    result.map(|()| Reply::created(json!("")))
}

/// Applies the fields of a `PUT .../mirror` body, recording each change
/// (field name as Quay logs it, new value).
fn apply_update(
    state: &mut State,
    ns: &str,
    name: &str,
    body: &Value,
    changes: &mut Vec<(&'static str, Value)>,
) -> Result<(), ApiError> {
    let robot = body
        .str_field("robot_username")
        .map(|robot_name| robot_in(state, ns, robot_name));
    let repo = state.repo_mut(ns, name).ok_or_else(ApiError::not_found)?;
    let Some(mirror) = repo.mirror.as_mut() else {
        return Err(ApiError::not_found());
    };
    if let Some(enabled) = body.bool_field("is_enabled") {
        mirror.is_enabled = enabled;
        changes.push(("is_enabled", json!(enabled)));
    }
    if let Some(reference) = body.str_field("external_reference") {
        if reference.is_empty() {
            return Err(ApiError::detail(
                "Empty string is an invalid repository location.",
            ));
        }
        mirror.external_reference = reference.to_string();
        changes.push(("external_reference", json!(reference)));
    }
    let both_credentials =
        body.has("external_registry_username") && body.has("external_registry_password");
    if body.has("external_registry_username") {
        mirror.external_registry_username = body
            .str_field("external_registry_username")
            .map(str::to_string);
        changes.push((
            "external_registry_username",
            json!(mirror.external_registry_username),
        ));
    }
    if body.has("external_registry_password") {
        mirror.external_registry_password = body
            .str_field("external_registry_password")
            .map(str::to_string);
        if both_credentials {
            // Quay never logs the password itself.
            let shown = mirror
                .external_registry_password
                .as_ref()
                .map(|_| "********");
            changes.push(("external_registry_password", json!(shown)));
        }
    }
    if let Some(Value::Object(config)) = body.get("external_registry_config") {
        let mut merged: Map<String, Value> = mirror
            .external_registry_config
            .as_object()
            .cloned()
            .unwrap_or_default();
        for key in ["verify_tls", "unsigned_images"] {
            if let Some(value) = config.get(key) {
                merged.insert(key.to_string(), value.clone());
                changes.push((key, value.clone()));
            }
        }
        if let Some(proxy) = config.get("proxy") {
            merged.insert("proxy".to_string(), proxy.clone());
            for field in ["http_proxy", "https_proxy", "no_proxy"] {
                if let Some(value) = proxy.get(field) {
                    changes.push((field, value.clone()));
                }
            }
        }
        mirror.external_registry_config = Value::Object(merged);
    }
    if let Some(interval) = body.i64_field("sync_interval") {
        mirror.sync_interval = interval;
        changes.push(("sync_interval", json!(interval)));
    }
    if let Some(date) = body.str_field("sync_start_date") {
        mirror.sync_start_date = parse_date(date)?;
        // Quay's log serializes the datetime as seconds since the epoch.
        let epoch = NaiveDateTime::parse_from_str(&mirror.sync_start_date, DATE_FORMAT)
            .map(|d| d.and_utc().timestamp())
            .unwrap_or_default();
        changes.push(("sync_start_date", json!(epoch)));
    }
    if let Some(robot) = robot {
        mirror.robot_username = robot?;
        changes.push(("robot_username", json!(mirror.robot_username)));
    }
    if let Some(timeout) = body.i64_field("skopeo_timeout_interval") {
        mirror.skopeo_timeout_interval = timeout;
        changes.push(("skopeo_timeout_interval", json!(timeout)));
    }
    if body.has("architecture_filter") {
        mirror.architecture_filter = body
            .get("architecture_filter")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        changes.push(("architecture_filter", json!(mirror.architecture_filter)));
    }
    if body.has("root_rule") {
        // Quay changes the repository's first rule, which is an orphan if an
        // earlier POST failed.
        let values = rule_values(body);
        changes.push(("mirror_rule", json!(values)));
        match repo.mirror_rules.first_mut() {
            Some(first) => *first = values,
            None => repo.mirror_rules.push(values),
        }
    }
    Ok(())
}

/// `POST .../mirror/sync-now`: 204 (status SYNC_NOW); 404 without config or while syncing.
pub fn sync_now(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let mirror = state
        .repo_mut(&ns, &name)
        .and_then(|r| r.mirror.as_mut())
        .ok_or_else(ApiError::not_found)?;
    if mirror.sync_status == "SYNCING" {
        return Err(ApiError::not_found());
    }
    mirror.sync_status = "SYNC_NOW".to_string();
    log_change(ctx, state, (&ns, &name), "sync_status", json!("SYNC_NOW"));
    Ok(Reply::no_content())
}

/// `POST .../mirror/sync-cancel`: 204 (status CANCEL, no retries) if a sync is
/// pending or running, else 404.
pub fn sync_cancel(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = admin_repo(ctx, state)?;
    let mirror = state
        .repo_mut(&ns, &name)
        .and_then(|r| r.mirror.as_mut())
        .ok_or_else(ApiError::not_found)?;
    if mirror.sync_status != "SYNC_NOW" && mirror.sync_status != "SYNCING" {
        return Err(ApiError::not_found());
    }
    mirror.sync_status = "CANCEL".to_string();
    mirror.sync_retries_remaining = 0;
    log_change(
        ctx,
        state,
        (&ns, &name),
        "sync_status",
        json!("SYNC_CANCEL"),
    );
    Ok(Reply::no_content())
}
