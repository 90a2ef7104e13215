//! Auto-prune policies of organizations, of the caller's user namespace and of
//! repositories (`.../autoprunepolicy/[{policy_uuid}]`).

use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{PrunePolicy, State};
use super::new_uuid;

/// Where the policies live.
enum Owner {
    Namespace(String),
    Repository(String, String),
}

impl Owner {
    fn policies<'a>(&self, state: &'a State) -> Option<&'a Vec<PrunePolicy>> {
        match self {
            Owner::Namespace(ns) => state.namespace(ns).map(|n| &n.policies),
            Owner::Repository(ns, name) => state.repo(ns, name).map(|r| &r.policies),
        }
    }

    fn policies_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut Vec<PrunePolicy>> {
        match self {
            Owner::Namespace(ns) => state.namespace_mut(ns).map(|n| &mut n.policies),
            Owner::Repository(ns, name) => state.repo_mut(ns, name).map(|r| &mut r.policies),
        }
    }

    fn duplicate_message(&self) -> &'static str {
        match self {
            Owner::Namespace(_) => {
                "Existing policy with same values for this namespace, duplicate policies are not permitted"
            }
            Owner::Repository(..) => {
                "Existing policy with same values for this repository, duplicate policies are not permitted"
            }
        }
    }
}

/// What a policy change is.
#[derive(Clone, Copy)]
enum Change {
    Create,
    Update,
    Delete,
}

/// Logs a policy change with the kind and metadata Quay uses for the owner.
fn log_policy(ctx: &Ctx, state: &mut State, owner: &Owner, change: Change, policy: &PrunePolicy) {
    let (namespace, repo) = match owner {
        Owner::Namespace(ns) => (ns.as_str(), None),
        Owner::Repository(ns, name) => (ns.as_str(), Some(name.as_str())),
    };
    let kind = match (change, repo.is_some()) {
        (Change::Create, false) => "create_namespace_autoprune_policy",
        (Change::Update, false) => "update_namespace_autoprune_policy",
        (Change::Delete, false) => "delete_namespace_autoprune_policy",
        (Change::Create, true) => "create_repository_autoprune_policy",
        (Change::Update, true) => "update_repository_autoprune_policy",
        (Change::Delete, true) => "delete_repository_autoprune_policy",
    };
    let mut metadata = match change {
        Change::Delete => json!({ "policy_uuid": policy.uuid, "namespace": namespace }),
        Change::Create | Change::Update => json!({
            "method": policy.method,
            "value": policy.value,
            "tag_pattern": policy.tag_pattern,
            "tag_pattern_matches": policy.tag_pattern_matches,
            "namespace": namespace,
        }),
    };
    if let (Some(repo), Some(map)) = (repo, metadata.as_object_mut()) {
        map.insert("repo".into(), json!(repo));
    }
    log_action(ctx, state, kind, namespace, repo, metadata);
}

fn view(policy: &PrunePolicy) -> Value {
    json!({
        "uuid": policy.uuid,
        "method": policy.method,
        "value": policy.value,
        "tagPattern": policy.tag_pattern,
        "tagPatternMatches": policy.tag_pattern_matches,
    })
}

fn is_duration(value: &str) -> bool {
    let digits = value.trim_end_matches(['s', 'm', 'h', 'd', 'w']);
    value.len() == digits.len() + 1
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
}

/// The validated policy fields of a create/update body.
fn parse_policy(ctx: &Ctx) -> Result<PrunePolicy, ApiError> {
    let body = ctx.json(&json!({
        "type": "object",
        "description": "The policy configuration that is to be applied to the user namespace",
        "required": ["method", "value"],
        "properties": {
            "method": {"type": "string", "description": "The method to use for pruning tags (number_of_tags, creation_date)"},
            "value": {"type": ["integer", "string"], "description": "The value to use for the pruning method (number of tags e.g. 10, time delta e.g. 7d (7 days))"},
            "tagPattern": {"type": "string", "description": "Tags only matching this pattern will be pruned"},
            "tagPatternMatches": {"type": "boolean", "description": "Determine whether pruned tags should or should not match the tagPattern"},
        },
    }))?;
    let method = body.str_field("method").unwrap_or_default().to_string();
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    let valid = match method.as_str() {
        "number_of_tags" => value.as_i64().is_some_and(|n| n > 0),
        "creation_date" => value.as_str().is_some_and(is_duration),
        _ => return Err(ApiError::invalid("Invalid method provided")),
    };
    if !valid {
        return Err(ApiError::invalid("Invalid value given for method type"));
    }
    Ok(PrunePolicy {
        uuid: String::new(),
        method,
        value,
        tag_pattern: body.str_field("tagPattern").map(str::to_string),
        tag_pattern_matches: body.bool_field("tagPatternMatches").unwrap_or(true),
    })
}

fn same_values(a: &PrunePolicy, b: &PrunePolicy) -> bool {
    a.method == b.method
        && a.value == b.value
        && a.tag_pattern == b.tag_pattern
        && a.tag_pattern_matches == b.tag_pattern_matches
}

fn list(state: &State, owner: &Owner) -> ApiResult {
    let policies = owner.policies(state).ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(
        json!({ "policies": policies.iter().map(view).collect::<Vec<_>>() }),
    ))
}

fn create(ctx: &Ctx, state: &mut State, owner: &Owner) -> ApiResult {
    owner.policies(state).ok_or_else(ApiError::not_found)?;
    let mut policy = parse_policy(ctx)?;
    let policies = owner.policies_mut(state).ok_or_else(ApiError::not_found)?;
    if policies.iter().any(|p| same_values(p, &policy)) {
        return Err(ApiError::invalid(owner.duplicate_message()));
    }
    policy.uuid = new_uuid();
    let uuid = policy.uuid.clone();
    policies.push(policy.clone());
    log_policy(ctx, state, owner, Change::Create, &policy);
    Ok(Reply::created(json!({ "uuid": uuid })))
}

fn get(ctx: &Ctx, state: &State, owner: &Owner) -> ApiResult {
    let uuid = ctx.param("policy_uuid");
    owner
        .policies(state)
        .and_then(|ps| ps.iter().find(|p| p.uuid == uuid))
        .map(|p| Reply::ok(view(p)))
        .ok_or_else(ApiError::not_found)
}

fn update(ctx: &Ctx, state: &mut State, owner: &Owner) -> ApiResult {
    let uuid = ctx.param("policy_uuid").to_string();
    owner
        .policies(state)
        .and_then(|ps| ps.iter().find(|p| p.uuid == uuid))
        .ok_or_else(ApiError::not_found)?;
    let mut changed = parse_policy(ctx)?;
    changed.uuid = uuid.clone();
    if let Some(policy) = owner
        .policies_mut(state)
        .and_then(|ps| ps.iter_mut().find(|p| p.uuid == uuid))
    {
        *policy = changed.clone();
    }
    log_policy(ctx, state, owner, Change::Update, &changed);
    Ok(Reply::no_content())
}

fn delete(ctx: &Ctx, state: &mut State, owner: &Owner) -> ApiResult {
    let uuid = ctx.param("policy_uuid").to_string();
    let policies = owner.policies_mut(state).ok_or_else(ApiError::not_found)?;
    let Some(index) = policies.iter().position(|p| p.uuid == uuid) else {
        return Err(ApiError::not_found());
    };
    let policy = policies.remove(index);
    log_policy(ctx, state, owner, Change::Delete, &policy);
    Ok(Reply::ok(json!({ "uuid": uuid })))
}

fn org_owner(ctx: &Ctx, state: &State) -> Result<Owner, ApiError> {
    let org = ctx.param("orgname");
    if !ctx.caller.is_org_admin(state, org) {
        return Err(ctx.deny());
    }
    if state.org(org).is_none() {
        return Err(ApiError::not_found());
    }
    Ok(Owner::Namespace(org.to_string()))
}

fn user_owner(ctx: &Ctx) -> Result<Owner, ApiError> {
    Ok(Owner::Namespace(ctx.user()?.to_string()))
}

fn repo_owner(ctx: &Ctx, state: &State) -> Result<Owner, ApiError> {
    let (ns, name) = ctx.repo_path();
    if !ctx.caller.can_admin_repo(state, &ns, &name) {
        return Err(ctx.deny());
    }
    if state.repo(&ns, &name).is_none() {
        return Err(ApiError::not_found());
    }
    Ok(Owner::Repository(ns, name))
}

/// `GET /api/v1/organization/{orgname}/autoprunepolicy/` (an empty list for a
/// full-access superuser on a missing organization).
pub fn org_list(ctx: &Ctx, state: &mut State) -> ApiResult {
    if ctx.caller.full_access() && state.org(ctx.param("orgname")).is_none() {
        return Ok(Reply::ok(json!({ "policies": [] })));
    }
    let owner = org_owner(ctx, state)?;
    list(state, &owner)
}

/// `POST /api/v1/organization/{orgname}/autoprunepolicy/`: 201 `{"uuid"}`.
pub fn org_create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = org_owner(ctx, state)?;
    create(ctx, state, &owner)
}

/// `GET /api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}`.
pub fn org_get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = org_owner(ctx, state)?;
    get(ctx, state, &owner)
}

/// `PUT /api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}`: 204.
pub fn org_update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = org_owner(ctx, state)?;
    update(ctx, state, &owner)
}

/// `DELETE /api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}`: 200 `{"uuid"}`.
pub fn org_delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = org_owner(ctx, state)?;
    delete(ctx, state, &owner)
}

/// `GET /api/v1/user/autoprunepolicy/`.
pub fn user_list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = user_owner(ctx)?;
    list(state, &owner)
}

/// `POST /api/v1/user/autoprunepolicy/`.
pub fn user_create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = user_owner(ctx)?;
    create(ctx, state, &owner)
}

/// `GET /api/v1/user/autoprunepolicy/{policy_uuid}`.
pub fn user_get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = user_owner(ctx)?;
    get(ctx, state, &owner)
}

/// `PUT /api/v1/user/autoprunepolicy/{policy_uuid}`.
pub fn user_update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = user_owner(ctx)?;
    update(ctx, state, &owner)
}

/// `DELETE /api/v1/user/autoprunepolicy/{policy_uuid}`.
pub fn user_delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = user_owner(ctx)?;
    delete(ctx, state, &owner)
}

/// `GET /api/v1/repository/{repository}/autoprunepolicy/`.
pub fn repo_list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = repo_owner(ctx, state)?;
    list(state, &owner)
}

/// `POST /api/v1/repository/{repository}/autoprunepolicy/`.
pub fn repo_create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = repo_owner(ctx, state)?;
    create(ctx, state, &owner)
}

/// `GET /api/v1/repository/{repository}/autoprunepolicy/{policy_uuid}`.
pub fn repo_get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = repo_owner(ctx, state)?;
    get(ctx, state, &owner)
}

/// `PUT /api/v1/repository/{repository}/autoprunepolicy/{policy_uuid}`.
pub fn repo_update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = repo_owner(ctx, state)?;
    update(ctx, state, &owner)
}

/// `DELETE /api/v1/repository/{repository}/autoprunepolicy/{policy_uuid}`.
pub fn repo_delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let owner = repo_owner(ctx, state)?;
    delete(ctx, state, &owner)
}
