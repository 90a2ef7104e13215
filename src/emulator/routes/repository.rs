//! Repositories: `/api/v1/repository` (list, create) and the greedy
//! `/api/v1/repository/{repository}` resource (get, update, delete), plus
//! `changevisibility` and `changestate`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Delegate, RepoRole, Repository, State};
use super::new_uuid;

/// Repositories per page of `GET /api/v1/repository`.
pub const PAGE_SIZE: usize = 100;

/// Quay's repository name rule (nested names allowed).
fn valid_repo_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('/').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
                && part.len() <= 255
                && chars.all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
        })
}

/// Creates a repository: the creator gets admin, and in organizations the
/// default permissions (prototypes) apply like Quay applies them.
fn create_repository(
    state: &mut State,
    namespace: &str,
    name: &str,
    description: &str,
    public: bool,
    creator: &str,
) {
    let id = state.next_id();
    let mut repo = Repository {
        id,
        namespace: namespace.to_string(),
        name: name.to_string(),
        description: description.to_string(),
        public,
        state: "NORMAL".to_string(),
        kind: "image".to_string(),
        status_token: new_uuid(),
        user_perms: BTreeMap::new(),
        team_perms: BTreeMap::new(),
        notifications: Vec::new(),
        mirror: None,
        mirror_rules: Vec::new(),
        policies: Vec::new(),
    };
    repo.user_perms.insert(creator.to_string(), RepoRole::Admin);
    if creator != namespace
        && let Some(org) = state.org(namespace)
    {
        // First matching prototype per delegate wins, unless a later one is
        // specific to the creating user (Quay's __apply_permission_list).
        let mut users: Vec<(String, RepoRole)> = Vec::new();
        let mut teams: Vec<(String, RepoRole)> = Vec::new();
        for proto in &org.prototypes {
            if proto
                .activating_user
                .as_deref()
                .is_some_and(|a| a != creator)
            {
                continue;
            }
            let (list, name) = match &proto.delegate {
                Delegate::User(n) => (&mut users, n),
                Delegate::Team(n) => (&mut teams, n),
            };
            match list.iter_mut().find(|(n, _)| n == name) {
                Some(entry) if proto.activating_user.is_some() => entry.1 = proto.role,
                Some(_) => {}
                None => list.push((name.clone(), proto.role)),
            }
        }
        for (user, role) in users {
            if user != creator {
                repo.user_perms.insert(user, role);
            }
        }
        for (team, role) in teams {
            repo.team_perms.insert(team, role);
        }
    }
    state
        .repos
        .insert((namespace.to_string(), name.to_string()), repo);
}

/// `POST /api/v1/repository`.
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let schema = json!({
        "type": "object",
        "description": "Description of a new repository",
        "required": ["repository", "visibility", "description"],
        "properties": {
            "repository": {"type": "string", "description": "Repository name"},
            "visibility": {"type": "string", "description": "Visibility which the repository will start with", "enum": ["public", "private"]},
            "namespace": {"type": "string", "description": "Namespace in which the repository should be created. If omitted, the username of the caller is used"},
            "description": {"type": "string", "description": "Markdown encoded description for the repository"},
            "repo_kind": {"type": ["string", "null"], "description": "The kind of repository", "enum": ["image", null]},
        },
    });
    let body = ctx.json(&schema)?;
    let namespace = match body.str_field("namespace") {
        Some(ns) => ns.to_string(),
        None => ctx.user()?.to_string(),
    };
    if !ctx.caller.can_create_repo(state, &namespace) {
        return Err(ctx.deny());
    }
    let name = body.str_field("repository").unwrap_or_default().to_string();
    if state.repo(&namespace, &name).is_some() {
        return Err(ApiError::invalid("Repository already exists"));
    }
    if !valid_repo_name(&name) {
        return Err(ApiError::invalid("Invalid repository name"));
    }
    if state.namespace(&namespace).is_none() {
        // A full-access superuser passes the permission check; Quay then fails
        // looking up the namespace (UserDoesNotExist) with its HTML 500 page.
        if ctx.caller.full_access() {
            return Err(ApiError::server_error());
        }
        return Err(ctx.deny());
    }
    let creator = ctx.user()?.to_string();
    let public = body.str_field("visibility") == Some("public");
    let description = body
        .str_field("description")
        .unwrap_or_default()
        .to_string();
    create_repository(state, &namespace, &name, &description, public, &creator);
    let metadata = json!({"repo": name, "namespace": namespace});
    log_action(ctx, state, "create_repo", &namespace, Some(&name), metadata);
    Ok(Reply::created(
        json!({ "namespace": namespace, "name": name, "kind": "image" }),
    ))
}

/// `GET /api/v1/repository?namespace=...` (also `public`, `starred`), paged by 100.
pub fn list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let namespace = ctx.query("namespace").filter(|n| !n.is_empty());
    let public = ctx.query_bool("public", false);
    let starred = ctx.query_bool("starred", false);
    if namespace.is_none() && !public && !starred {
        return Err(ApiError::invalid(
            "namespace, starred or public are required for this API call",
        ));
    }
    let offset: usize = ctx
        .query("next_page")
        .and_then(|p| p.strip_prefix('p'))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let mut repos: Vec<&Repository> = state
        .repos
        .values()
        .filter(|r| match namespace {
            Some(ns) => r.namespace == ns,
            None => !starred && r.public,
        })
        .filter(|r| ctx.caller.can_read_repo(state, &r.namespace, &r.name))
        .collect();
    repos.sort_by_key(|r| r.id);
    if starred {
        // Nobody stars repositories in the emulator.
        repos.clear();
    }
    let last_modified = ctx.query_bool("last_modified", false);
    let popularity = ctx.query_bool("popularity", false);
    let page: Vec<Value> = repos
        .iter()
        .skip(offset)
        .take(PAGE_SIZE)
        .map(|r| {
            let configured = state
                .namespace(&r.namespace)
                .and_then(|n| n.quota.as_ref())
                .map(|q| q.limit_bytes);
            let mut view = json!({
                "namespace": r.namespace,
                "name": r.name,
                "description": r.description,
                "is_public": r.public,
                "kind": r.kind,
                "state": r.state,
                "quota_report": {"quota_bytes": 0, "configured_quota": configured},
                "is_starred": false,
            });
            if let Some(map) = view.as_object_mut() {
                if last_modified {
                    map.insert("last_modified".into(), Value::Null);
                }
                if popularity {
                    map.insert("popularity".into(), json!(0.0));
                }
            }
            view
        })
        .collect();
    let mut answer = json!({ "repositories": page });
    if repos.len() > offset + PAGE_SIZE
        && let Some(map) = answer.as_object_mut()
    {
        map.insert(
            "next_page".into(),
            json!(format!("p{}", offset + PAGE_SIZE)),
        );
    }
    Ok(Reply::ok(answer))
}

/// `GET /api/v1/repository/{repository}`.
pub fn get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_read_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    let repo = state.repo(&ns, &name).ok_or_else(ApiError::not_found)?;
    let namespace = state.namespace(&ns);
    let normal = repo.state == "NORMAL";
    let mut view = json!({
        "namespace": repo.namespace,
        "name": repo.name,
        "kind": repo.kind,
        "description": repo.description,
        "is_public": repo.public,
        "is_organization": namespace.is_some_and(|n| n.is_org()),
        "is_starred": false,
        "status_token": if repo.public { String::new() } else { repo.status_token.clone() },
        "trust_enabled": false,
        "tag_expiration_s": namespace.map(|n| n.tag_expiration_s),
        "is_free_account": true,
        "state": repo.state,
        "can_write": normal && ctx.caller.can_write_repo(state, &ns, &name),
        "can_admin": ctx.caller.can_admin_repo(state, &ns, &name),
    });
    if ctx.query_bool("includeTags", true)
        && let Some(map) = view.as_object_mut()
    {
        map.insert("tags".into(), json!({}));
    }
    Ok(Reply::ok(view))
}

/// `PUT /api/v1/repository/{repository}`: the description.
pub fn update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_write_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    let schema = json!({
        "type": "object",
        "description": "Fields which can be updated in a repository.",
        "required": ["description"],
        "properties": {
            "description": {"type": "string", "description": "Markdown encoded description for the repository"},
        },
    });
    let body = ctx.json(&schema)?;
    let repo = state.repo_mut(&ns, &name).ok_or_else(ApiError::not_found)?;
    let description = body.str_field("description").unwrap_or_default();
    repo.description = description.to_string();
    let metadata = json!({"repo": name, "namespace": ns, "description": description});
    log_action(
        ctx,
        state,
        "set_repo_description",
        &ns,
        Some(&name),
        metadata,
    );
    Ok(Reply::ok(json!({ "success": true })))
}

/// `DELETE /api/v1/repository/{repository}`: 204 whether or not it existed, but a
/// 500 page when its namespace does not exist (only a full-access superuser gets
/// that far: Quay reads the username of the missing namespace).
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    if ctx.caller.full_access() && state.namespace(&ns).is_none() {
        return Err(ApiError::server_error());
    }
    state.repos.remove(&(ns.clone(), name.clone()));
    // Logged without the repository link, whether or not it existed.
    let metadata = json!({"repo": name, "namespace": ns});
    log_action(ctx, state, "delete_repo", &ns, None, metadata);
    Ok(Reply::no_content())
}

/// `POST /api/v1/repository/{repository}/changevisibility`. For a full-access
/// superuser a missing repository is `200 null`: Quay changes nothing and
/// returns nothing.
pub fn change_visibility(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    let schema = json!({
        "type": "object",
        "description": "Change the visibility for the repository.",
        "required": ["visibility"],
        "properties": {
            "visibility": {"type": "string", "description": "Visibility which the repository will start with", "enum": ["public", "private"]},
        },
    });
    let body = ctx.json(&schema)?;
    if ctx.caller.full_access() && state.repo(&ns, &name).is_none() {
        return Ok(Reply::ok(Value::Null));
    }
    let repo = state.repo_mut(&ns, &name).ok_or_else(ApiError::not_found)?;
    let visibility = body.str_field("visibility").unwrap_or_default();
    repo.public = visibility == "public";
    let metadata = json!({"repo": name, "namespace": ns, "visibility": visibility});
    log_action(
        ctx,
        state,
        "change_repo_visibility",
        &ns,
        Some(&name),
        metadata,
    );
    Ok(Reply::ok(json!({ "success": true })))
}

/// `PUT /api/v1/repository/{repository}/changestate`.
pub fn change_state(ctx: &Ctx, state: &mut State) -> ApiResult {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    let schema = json!({
        "type": "object",
        "description": "Change the state of the repository.",
        "required": ["state"],
        "properties": {
            "state": {"type": "string", "description": "Determines whether pushes are allowed.", "enum": ["NORMAL", "READ_ONLY", "MIRROR"]},
        },
    });
    let body = ctx.json(&schema)?;
    let repo = state.repo_mut(&ns, &name).ok_or_else(ApiError::not_found)?;
    let new_state = body.str_field("state").unwrap_or("NORMAL");
    repo.state = new_state.to_string();
    let metadata = json!({"repo": name, "namespace": ns, "state_changed": new_state});
    log_action(ctx, state, "change_repo_state", &ns, Some(&name), metadata);
    Ok(Reply::ok(json!({ "success": true })))
}
