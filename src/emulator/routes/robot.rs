//! Robot accounts of organizations (`/organization/{orgname}/robots...`) and of
//! the caller's own namespace (`/user/robots...`).

use chrono::Utc;
use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Robot, State};
use super::super::views::{robot_view, team_avatar};
use super::{new_uuid, random_robot_token, validate_namespace_name};

fn not_found() -> ApiError {
    ApiError::message("Could not find robot with specified username")
}

/// The namespace of an org robot route, checking the caller administers it.
fn org_admin_namespace(ctx: &Ctx, state: &State) -> Result<String, ApiError> {
    let orgname = ctx.param("orgname");
    if !ctx.caller.is_org_admin(state, orgname) {
        return Err(ctx.deny());
    }
    if state.org(orgname).is_none() {
        return Err(ApiError::not_found());
    }
    Ok(orgname.to_string())
}

fn user_namespace(ctx: &Ctx) -> Result<String, ApiError> {
    Ok(ctx.user()?.to_string())
}

fn find<'a>(state: &'a State, namespace: &str, short: &str) -> Result<&'a Robot, ApiError> {
    state
        .namespace(namespace)
        .and_then(|n| n.robot(short))
        .ok_or_else(not_found)
}

fn robot_schema() -> Value {
    json!({
        "type": "object",
        "description": "Optional data for creating a robot",
        "properties": {
            "description": {"type": "string", "description": "Optional text description for the robot", "maxLength": 255},
            "unstructured_metadata": {"type": "object", "description": "Optional unstructured metadata for the robot"},
        },
    })
}

/// Quay's `InvalidOrganizationException`, a 400 `{"message"}`.
pub fn org_does_not_exist(orgname: &str) -> ApiError {
    ApiError::message(format!("Organization does not exist: {orgname}"))
}

fn create(ctx: &Ctx, state: &mut State, namespace: &str) -> ApiResult {
    let body = ctx
        .optional_json(&robot_schema())?
        .unwrap_or_else(|| json!({}));
    let short = ctx.param("robot_shortname").to_string();
    if let Err(message) = validate_namespace_name(&short) {
        return Err(ApiError::invalid(format!(
            "The name for the robot '{short}' is invalid: {message}"
        )));
    }
    let ns = state
        .namespace_mut(namespace)
        .ok_or_else(ApiError::not_found)?;
    if ns.robot(&short).is_some() {
        return Err(ApiError::invalid(format!(
            "Existing robot with name: {namespace}+{short}"
        )));
    }
    let robot = Robot {
        short_name: short,
        description: body
            .str_field("description")
            .unwrap_or_default()
            .to_string(),
        metadata: body.get("unstructured_metadata").cloned(),
        token: random_robot_token(),
        created: Utc::now(),
        avatar_seed: new_uuid(),
        federation: Vec::new(),
    };
    let view = robot_view(
        namespace,
        &robot,
        true,
        Some(robot.metadata.clone().unwrap_or(Value::Null)),
    );
    let metadata = json!({
        "robot": robot.short_name,
        "description": body.get("description"),
        "unstructured_metadata": body.get("unstructured_metadata"),
    });
    ns.robots.push(robot);
    log_action(ctx, state, "create_robot", namespace, None, metadata);
    Ok(Reply::created(view))
}

fn get(ctx: &Ctx, state: &State, namespace: &str) -> ApiResult {
    let robot = find(state, namespace, ctx.param("robot_shortname"))?;
    let metadata = robot.metadata.clone().unwrap_or_else(|| json!({}));
    Ok(Reply::ok(robot_view(
        namespace,
        robot,
        true,
        Some(metadata),
    )))
}

fn delete(ctx: &Ctx, state: &mut State, namespace: &str) -> ApiResult {
    let short = ctx.param("robot_shortname").to_string();
    find(state, namespace, &short)?;
    state.forget_member(&format!("{namespace}+{short}"));
    if let Some(ns) = state.namespace_mut(namespace) {
        ns.robots.retain(|r| r.short_name != short);
    }
    log_action(
        ctx,
        state,
        "delete_robot",
        namespace,
        None,
        json!({"robot": short}),
    );
    Ok(Reply::no_content())
}

fn regenerate(ctx: &Ctx, state: &mut State, namespace: &str) -> ApiResult {
    let short = ctx.param("robot_shortname").to_string();
    let robot = state
        .namespace_mut(namespace)
        .and_then(|n| n.robots.iter_mut().find(|r| r.short_name == short))
        .ok_or_else(not_found)?;
    robot.token = random_robot_token();
    let view = robot_view(namespace, robot, true, None);
    log_action(
        ctx,
        state,
        "regenerate_robot_token",
        namespace,
        None,
        json!({"robot": short}),
    );
    Ok(Reply::ok(view))
}

fn repositories_of(state: &State, namespace: &str, member: &str) -> Vec<Value> {
    state
        .repos_in(namespace)
        .into_iter()
        .filter_map(|r| {
            r.user_perms.get(member).map(|role| {
                json!({"repository": {"name": r.name, "is_public": r.public}, "role": role.as_str()})
            })
        })
        .collect()
}

fn permissions(ctx: &Ctx, state: &State, namespace: &str) -> ApiResult {
    let short = ctx.param("robot_shortname");
    find(state, namespace, short)?;
    let full = format!("{namespace}+{short}");
    Ok(Reply::ok(
        json!({ "permissions": repositories_of(state, namespace, &full) }),
    ))
}

fn list(ctx: &Ctx, state: &State, namespace: &str, show_tokens: bool) -> ApiResult {
    let ns = state.namespace(namespace).ok_or_else(ApiError::not_found)?;
    let with_token = show_tokens && ctx.query_bool("token", true);
    let with_permissions = ctx.query_bool("permissions", false);
    let limit: usize = ctx
        .query("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    let robots: Vec<Value> = ns
        .robots
        .iter()
        .take(limit)
        .map(|robot| {
            let mut view = robot_view(namespace, robot, with_token, None);
            if with_permissions && let Some(map) = view.as_object_mut() {
                let full = format!("{namespace}+{}", robot.short_name);
                let teams: Vec<Value> = ns
                    .org()
                    .map(|o| {
                        o.teams
                            .iter()
                            .filter(|t| t.members.contains(&full))
                            .map(|t| json!({"name": t.name, "avatar": team_avatar(&t.name)}))
                            .collect()
                    })
                    .unwrap_or_default();
                let repositories: Vec<Value> = state
                    .repos_in(namespace)
                    .iter()
                    .filter(|r| r.user_perms.contains_key(&full))
                    .map(|r| json!(r.name))
                    .collect();
                map.insert("teams".into(), json!(teams));
                map.insert("repositories".into(), json!(repositories));
            }
            view
        })
        .collect();
    Ok(Reply::ok(json!({ "robots": robots })))
}

/// `GET /api/v1/organization/{orgname}/robots`: members see them, admins also their tokens.
/// A full-access superuser gets an empty list for a missing organization.
pub fn list_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let orgname = ctx.param("orgname");
    let is_admin = ctx.caller.is_org_admin(state, orgname);
    if !is_admin && !ctx.caller.is_org_member(state, orgname) {
        return Err(ctx.deny());
    }
    if ctx.caller.full_access() && state.namespace(orgname).is_none() {
        return Ok(Reply::ok(json!({ "robots": [] })));
    }
    list(ctx, state, orgname, is_admin)
}

/// `GET /api/v1/organization/{orgname}/robots/{robot_shortname}`.
pub fn get_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = org_admin_namespace(ctx, state)?;
    get(ctx, state, &ns)
}

/// `PUT /api/v1/organization/{orgname}/robots/{robot_shortname}` (create only).
/// A full-access superuser gets 400 `Organization does not exist: X` for a
/// missing organization (after the body is checked).
pub fn create_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let orgname = ctx.param("orgname");
    if ctx.caller.full_access() && state.org(orgname).is_none() {
        ctx.optional_json(&robot_schema())?;
        return Err(org_does_not_exist(orgname));
    }
    let ns = org_admin_namespace(ctx, state)?;
    create(ctx, state, &ns)
}

/// `DELETE /api/v1/organization/{orgname}/robots/{robot_shortname}`.
pub fn delete_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = org_admin_namespace(ctx, state)?;
    delete(ctx, state, &ns)
}

/// `GET /api/v1/organization/{orgname}/robots/{robot_shortname}/permissions`.
pub fn permissions_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = org_admin_namespace(ctx, state)?;
    permissions(ctx, state, &ns)
}

/// `POST /api/v1/organization/{orgname}/robots/{robot_shortname}/regenerate`.
pub fn regenerate_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = org_admin_namespace(ctx, state)?;
    regenerate(ctx, state, &ns)
}

/// `GET /api/v1/user/robots`.
pub fn list_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    list(ctx, state, &ns, true)
}

/// `GET /api/v1/user/robots/{robot_shortname}`.
pub fn get_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    get(ctx, state, &ns)
}

/// `PUT /api/v1/user/robots/{robot_shortname}`.
pub fn create_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    create(ctx, state, &ns)
}

/// The namespace of an org robot's federation route: Quay answers a missing
/// organization as a missing robot there (400, not 404).
fn federation_namespace(ctx: &Ctx, state: &State) -> Result<String, ApiError> {
    let orgname = ctx.param("orgname");
    if state.org(orgname).is_none() {
        return Err(not_found());
    }
    org_admin_namespace(ctx, state)
}

fn federation_get(ctx: &Ctx, state: &State, namespace: &str) -> ApiResult {
    let robot = find(state, namespace, ctx.param("robot_shortname"))?;
    Ok(Reply::ok(Value::Array(robot.federation.clone())))
}

/// Replaces the whole list (200 with what was stored; `[]` clears it).
fn federation_set(ctx: &Ctx, state: &mut State, namespace: &str) -> ApiResult {
    let body = ctx.json(&json!({
        "type": "array",
        "description": "Federation configuration for the robot",
        "items": {
            "type": "object",
            "properties": {
                "issuer": {"description": "The issuer of the token", "type": "string"},
                "subject": {"description": "The subject of the token", "type": "string"},
            },
            "required": ["issuer", "subject"],
        },
    }))?;
    let entries: Vec<Value> = body
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| json!({"issuer": e["issuer"], "subject": e["subject"]}))
        .collect();
    for (i, e) in entries.iter().enumerate() {
        let issuer = e["issuer"].as_str().unwrap_or_default();
        if !(issuer.starts_with("http://") || issuer.starts_with("https://")) {
            return Err(ApiError::invalid(
                "Issuer must be a URL (http:// or https://)",
            ));
        }
        if entries[..i].contains(e) {
            return Err(ApiError::invalid("Duplicate federation config entry"));
        }
    }
    let short = ctx.param("robot_shortname").to_string();
    find(state, namespace, &short)?;
    if let Some(robot) = state
        .namespace_mut(namespace)
        .and_then(|n| n.robots.iter_mut().find(|r| r.short_name == short))
    {
        robot.federation = entries.clone();
    }
    let metadata = json!({"config": entries, "robot": short});
    log_action(
        ctx,
        state,
        "create_robot_federation",
        namespace,
        None,
        metadata,
    );
    Ok(Reply::ok(Value::Array(entries)))
}

/// Clears the list: 204, also when it was empty.
fn federation_delete(ctx: &Ctx, state: &mut State, namespace: &str) -> ApiResult {
    let short = ctx.param("robot_shortname").to_string();
    find(state, namespace, &short)?;
    if let Some(robot) = state
        .namespace_mut(namespace)
        .and_then(|n| n.robots.iter_mut().find(|r| r.short_name == short))
    {
        robot.federation.clear();
    }
    let metadata = json!({"robot": short});
    log_action(
        ctx,
        state,
        "delete_robot_federation",
        namespace,
        None,
        metadata,
    );
    Ok(Reply::no_content())
}

/// `GET /api/v1/organization/{orgname}/robots/{robot_shortname}/federation`.
pub fn federation_get_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = federation_namespace(ctx, state)?;
    federation_get(ctx, state, &ns)
}

/// `POST /api/v1/organization/{orgname}/robots/{robot_shortname}/federation`.
pub fn federation_set_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = federation_namespace(ctx, state)?;
    federation_set(ctx, state, &ns)
}

/// `DELETE /api/v1/organization/{orgname}/robots/{robot_shortname}/federation`.
pub fn federation_delete_org(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = federation_namespace(ctx, state)?;
    federation_delete(ctx, state, &ns)
}

/// `GET /api/v1/user/robots/{robot_shortname}/federation`.
pub fn federation_get_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    federation_get(ctx, state, &ns)
}

/// `POST /api/v1/user/robots/{robot_shortname}/federation`.
pub fn federation_set_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    federation_set(ctx, state, &ns)
}

/// `DELETE /api/v1/user/robots/{robot_shortname}/federation`.
pub fn federation_delete_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    federation_delete(ctx, state, &ns)
}

/// `DELETE /api/v1/user/robots/{robot_shortname}`.
pub fn delete_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    delete(ctx, state, &ns)
}

/// `GET /api/v1/user/robots/{robot_shortname}/permissions`.
pub fn permissions_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    permissions(ctx, state, &ns)
}

/// `POST /api/v1/user/robots/{robot_shortname}/regenerate`.
pub fn regenerate_user(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = user_namespace(ctx)?;
    regenerate(ctx, state, &ns)
}
