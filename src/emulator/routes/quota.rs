//! Namespace quotas and their limits: the organization endpoints, the caller's
//! own (`/user/quota`) and the superuser ones for organizations and users.
//!
//! Writes on `/organization/{orgname}/quota...` need a superuser token (with
//! super:user) *and* FEATURE_SUPERUSERS_FULL_ACCESS; being org admin is not enough.
//! `/superuser/{organization,users}/{namespace}/quota` only need the superuser.

use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::quota_units::{format_bytes, parse_human_size};
use super::super::request::{Ctx, JsonFields};
use super::super::state::{Quota, QuotaLimit, State};
use super::super::views::{limits_view, quota_view, single_limit_view};

const HUMAN_SIZE_PATTERN: &str = "^(\\d+\\s?(B|KiB|MiB|GiB|TiB|PiB|EiB|ZiB|YiB|Ki|Mi|Gi|Ti|Pi|Ei|Zi|Yi|KB|MB|GB|TB|PB|EB|ZB|YB|K|M|G|T|P|E|Z|Y)?)$";

fn new_quota_schema() -> Value {
    json!({
        "type": "object",
        "description": "Description of a new organization quota",
        "oneOf": [
            {"required": ["limit_bytes"], "properties": {"limit_bytes": {"type": "integer", "description": "Number of bytes the organization is allowed"}}},
            {"required": ["limit"], "properties": {"limit": {"type": "string", "description": "Human readable storage capacity of the organization", "pattern": HUMAN_SIZE_PATTERN}}},
        ],
    })
}

/// Which namespaces an endpoint family serves.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Org,
    User,
}

fn namespace_quota<'a>(
    state: &'a State,
    ns: &str,
    kind: Kind,
) -> Result<Option<&'a Quota>, ApiError> {
    let namespace = state
        .namespace(ns)
        .filter(|n| n.is_org() == (kind == Kind::Org))
        .ok_or_else(ApiError::not_found)?;
    Ok(namespace.quota.as_ref())
}

fn quota_by_id<'a>(
    state: &'a State,
    ns: &str,
    kind: Kind,
    id: &str,
) -> Result<&'a Quota, ApiError> {
    namespace_quota(state, ns, kind)?
        .filter(|q| id.parse::<u64>().ok() == Some(q.id))
        .ok_or_else(ApiError::not_found)
}

fn quota_mut<'a>(state: &'a mut State, ns: &str, id: &str) -> Result<&'a mut Quota, ApiError> {
    state
        .namespace_mut(ns)
        .and_then(|n| n.quota.as_mut())
        .filter(|q| id.parse::<u64>().ok() == Some(q.id))
        .ok_or_else(ApiError::not_found)
}

/// Bytes from a validated body with `limit_bytes` or a human `limit`.
fn requested_bytes(body: &Value) -> Result<Option<(i64, bool)>, ApiError> {
    let bytes = if let Some(v) = body.get("limit_bytes") {
        Some((v.as_f64().unwrap_or(-1.0), false))
    } else {
        body.str_field("limit")
            .and_then(parse_human_size)
            .map(|b| (b, true))
    };
    match bytes {
        None => Ok(None),
        Some((b, _)) if b <= 0.0 => {
            let shown = body
                .get("limit_bytes")
                .map(|v| v.to_string())
                .unwrap_or_else(|| b.to_string());
            Err(ApiError::invalid(format!(
                "Invalid quota size limit value: '{shown}'"
            )))
        }
        Some((b, human)) => Ok(Some((b as i64, human))),
    }
}

fn list(state: &State, ns: &str, kind: Kind) -> ApiResult {
    let quota = namespace_quota(state, ns, kind)?;
    Ok(Reply::ok(Value::Array(
        quota.map(|q| quota_view(q, false)).into_iter().collect(),
    )))
}

fn create(ctx: &Ctx, state: &mut State, ns: &str, kind: Kind) -> ApiResult {
    let body = ctx.json(&new_quota_schema())?;
    // Quay's superuser endpoint fails on a user it cannot find (500 HTML page).
    if kind == Kind::User && state.user(ns).is_none() {
        return Err(ApiError::server_error());
    }
    if namespace_quota(state, ns, kind)?.is_some() {
        let what = if kind == Kind::Org {
            "Organization quota"
        } else {
            "Quota"
        };
        return Err(ApiError::invalid(format!(
            "{what} for '{ns}' already exists"
        )));
    }
    let (bytes, _) = requested_bytes(&body)?.ok_or_else(|| ApiError::invalid("Missing limit"))?;
    let id = state.next_quota_id();
    if let Some(namespace) = state.namespace_mut(ns) {
        namespace.quota = Some(Quota {
            id,
            limit_bytes: bytes,
            limits: Vec::new(),
        });
    }
    Ok(Reply::created(json!("Created")))
}

fn update(ctx: &Ctx, state: &mut State, ns: &str, kind: Kind) -> ApiResult {
    let id = ctx.param("quota_id");
    quota_by_id(state, ns, kind, id)?;
    let body = ctx.json(&new_quota_schema())?;
    let requested = requested_bytes(&body)?;
    let quota = quota_mut(state, ns, id)?;
    let mut float = false;
    if let Some((bytes, human)) = requested {
        quota.limit_bytes = bytes;
        float = human;
    }
    Ok(Reply::ok(quota_view(quota, float)))
}

fn delete(ctx: &Ctx, state: &mut State, ns: &str, kind: Kind) -> ApiResult {
    quota_by_id(state, ns, kind, ctx.param("quota_id"))?;
    if let Some(namespace) = state.namespace_mut(ns) {
        namespace.quota = None;
    }
    Ok(Reply::no_content())
}

fn get(ctx: &Ctx, state: &State, ns: &str, kind: Kind) -> ApiResult {
    let quota = quota_by_id(state, ns, kind, ctx.param("quota_id"))?;
    Ok(Reply::ok(quota_view(quota, false)))
}

fn limits(ctx: &Ctx, state: &State, ns: &str, kind: Kind) -> ApiResult {
    let quota = quota_by_id(state, ns, kind, ctx.param("quota_id"))?;
    Ok(Reply::ok(limits_view(quota)))
}

fn limit_get(ctx: &Ctx, state: &State, ns: &str, kind: Kind) -> ApiResult {
    let quota = quota_by_id(state, ns, kind, ctx.param("quota_id"))?;
    let limit_id = ctx.param("limit_id").parse::<u64>().ok();
    let limit = quota
        .limits
        .iter()
        .find(|l| Some(l.id) == limit_id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(single_limit_view(limit)))
}

fn check_limit(kind: Option<&str>, percent: Option<i64>) -> Result<(), ApiError> {
    if let Some(kind) = kind
        && kind != "Warning"
        && kind != "Reject"
    {
        return Err(ApiError::message(
            "Quota type must be one of [Warning, Reject]",
        ));
    }
    if let Some(percent) = percent
        && !(1..=100).contains(&percent)
    {
        return Err(ApiError::message(
            "Quota limit threshold must be between 1 and 100",
        ));
    }
    Ok(())
}

fn limit_create(ctx: &Ctx, state: &mut State, ns: &str) -> ApiResult {
    let id = ctx.param("quota_id").to_string();
    quota_by_id(state, ns, Kind::Org, &id)?;
    let body = ctx.json(&json!({
        "type": "object",
        "description": "Description of a new organization quota limit",
        "required": ["type", "threshold_percent"],
        "properties": {
            "type": {"type": "string", "description": "Type of quota limit: \"Warning\" or \"Reject\""},
            "threshold_percent": {"type": "integer", "description": "Quota threshold, in percent of quota"},
        },
    }))?;
    let kind = body.str_field("type").unwrap_or_default().to_string();
    let percent = body.i64_field("threshold_percent").unwrap_or_default();
    check_limit(Some(&kind), Some(percent))?;
    if quota_by_id(state, ns, Kind::Org, &id)?
        .limits
        .iter()
        .any(|l| l.kind == kind && l.percent == percent)
    {
        return Err(ApiError::invalid("Quota limit already exists"));
    }
    let limit_id = state.next_limit_id();
    quota_mut(state, ns, &id)?.limits.push(QuotaLimit {
        id: limit_id,
        kind,
        percent,
    });
    Ok(Reply::created(json!("Created")))
}

fn limit_update(ctx: &Ctx, state: &mut State, ns: &str) -> ApiResult {
    let id = ctx.param("quota_id").to_string();
    quota_by_id(state, ns, Kind::Org, &id)?;
    let body = ctx.json(&json!({
        "type": "object",
        "description": "Description of changing organization quota limit",
        "properties": {
            "type": {"type": "string", "description": "Type of quota limit: \"Warning\" or \"Reject\""},
            "threshold_percent": {"type": "integer", "description": "Quota threshold, in percent of quota"},
        },
    }))?;
    check_limit(body.str_field("type"), body.i64_field("threshold_percent"))?;
    let limit_id = ctx.param("limit_id").parse::<u64>().ok();
    let quota = quota_mut(state, ns, &id)?;
    let limit = quota
        .limits
        .iter_mut()
        .find(|l| Some(l.id) == limit_id)
        .ok_or_else(ApiError::not_found)?;
    if let Some(kind) = body.str_field("type") {
        limit.kind = kind.to_string();
    }
    if let Some(percent) = body.i64_field("threshold_percent") {
        limit.percent = percent;
    }
    Ok(Reply::ok(quota_view(quota, false)))
}

fn limit_delete(ctx: &Ctx, state: &mut State, ns: &str) -> ApiResult {
    let limit_id = ctx.param("limit_id").parse::<u64>().ok();
    let quota = quota_mut(state, ns, ctx.param("quota_id"))?;
    let before = quota.limits.len();
    quota.limits.retain(|l| Some(l.id) != limit_id);
    if quota.limits.len() == before {
        return Err(ApiError::not_found());
    }
    Ok(Reply::no_content())
}

/// Readers of an organization's quota: its members (or a full-access superuser).
fn org_reader(ctx: &Ctx, state: &State) -> Result<String, ApiError> {
    let org = ctx.param("orgname");
    if !ctx.caller.is_org_member(state, org) {
        return Err(ctx.deny());
    }
    Ok(org.to_string())
}

/// Writers of an organization's quota: a superuser token with FULL_ACCESS on.
fn org_writer(ctx: &Ctx) -> Result<String, ApiError> {
    if !ctx.caller.full_access() {
        return Err(ctx.deny());
    }
    Ok(ctx.param("orgname").to_string())
}

fn superuser_ns(ctx: &Ctx) -> Result<String, ApiError> {
    if !ctx.caller.superuser {
        return Err(ctx.deny());
    }
    Ok(ctx.param("namespace").to_string())
}

/// `GET /api/v1/organization/{orgname}/quota`: a bare array.
pub fn org_list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_reader(ctx, state)?;
    list(state, &org, Kind::Org)
}

/// The organization's quota, if it has one.
fn org_quota(state: &State, org: &str) -> Option<Quota> {
    state.namespace(org).and_then(|n| n.quota.clone())
}

/// The quota's limit `limit_id`, if there is one.
fn org_limit(state: &State, org: &str, limit_id: &str) -> Option<QuotaLimit> {
    let id = limit_id.parse::<u64>().ok();
    org_quota(state, org)?
        .limits
        .into_iter()
        .find(|l| Some(l.id) == id)
}

/// `POST /api/v1/organization/{orgname}/quota`: 201 `"Created"`.
pub fn org_create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_writer(ctx)?;
    let reply = create(ctx, state, &org, Kind::Org)?;
    if let Some(quota) = org_quota(state, &org) {
        let metadata = json!({
            "namespace": org,
            "limit_bytes": quota.limit_bytes,
            "limit": format_bytes(quota.limit_bytes),
        });
        log_action(ctx, state, "org_create_quota", &org, None, metadata);
    }
    Ok(reply)
}

/// `GET /api/v1/organization/{orgname}/quota/{quota_id}`.
pub fn org_get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_reader(ctx, state)?;
    get(ctx, state, &org, Kind::Org)
}

/// `PUT /api/v1/organization/{orgname}/quota/{quota_id}`.
pub fn org_update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_writer(ctx)?;
    let before = org_quota(state, &org);
    let reply = update(ctx, state, &org, Kind::Org)?;
    if let (Some(before), Some(after)) = (before, org_quota(state, &org))
        && (ctx.body_has("limit_bytes") || ctx.body_has("limit"))
    {
        let metadata = json!({
            "namespace": org,
            "limit_bytes": after.limit_bytes,
            "previous_limit_bytes": before.limit_bytes,
        });
        log_action(ctx, state, "org_change_quota", &org, None, metadata);
    }
    Ok(reply)
}

/// `DELETE /api/v1/organization/{orgname}/quota/{quota_id}`.
pub fn org_delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_writer(ctx)?;
    let before = org_quota(state, &org);
    let reply = delete(ctx, state, &org, Kind::Org)?;
    if let Some(quota) = before {
        let metadata = json!({
            "namespace": org,
            "quota_id": quota.id,
            "limit_bytes": quota.limit_bytes,
        });
        log_action(ctx, state, "org_delete_quota", &org, None, metadata);
    }
    Ok(reply)
}

/// `GET /api/v1/organization/{orgname}/quota/{quota_id}/limit`.
pub fn org_limits(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_reader(ctx, state)?;
    limits(ctx, state, &org, Kind::Org)
}

/// `POST /api/v1/organization/{orgname}/quota/{quota_id}/limit`.
pub fn org_limit_create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_writer(ctx)?;
    let reply = limit_create(ctx, state, &org)?;
    if let Some(limit) = org_quota(state, &org).and_then(|q| q.limits.last().cloned()) {
        let metadata = json!({
            "namespace": org,
            "type": limit.kind,
            "threshold_percent": limit.percent,
        });
        log_action(ctx, state, "org_create_quota_limit", &org, None, metadata);
    }
    Ok(reply)
}

/// `GET /api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}`.
pub fn org_limit_get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_reader(ctx, state)?;
    limit_get(ctx, state, &org, Kind::Org)
}

/// `PUT /api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}`: answers the whole quota.
pub fn org_limit_update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_writer(ctx)?;
    let before = org_limit(state, &org, ctx.param("limit_id"));
    let reply = limit_update(ctx, state, &org)?;
    if let (Some(before), Some(after)) = (before, org_limit(state, &org, ctx.param("limit_id"))) {
        let mut metadata = json!({ "namespace": org });
        if let Some(map) = metadata.as_object_mut() {
            if ctx.body_has("type") {
                map.insert("type".into(), json!(after.kind));
                map.insert("previous_type".into(), json!(before.kind));
            }
            if ctx.body_has("threshold_percent") {
                map.insert("threshold_percent".into(), json!(after.percent));
                map.insert("previous_threshold_percent".into(), json!(before.percent));
            }
        }
        log_action(ctx, state, "org_change_quota_limit", &org, None, metadata);
    }
    Ok(reply)
}

/// `DELETE /api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}`.
pub fn org_limit_delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = org_writer(ctx)?;
    let before = org_limit(state, &org, ctx.param("limit_id"));
    let reply = limit_delete(ctx, state, &org)?;
    if let Some(limit) = before {
        let metadata = json!({
            "namespace": org,
            "limit_id": limit.id,
            "type": limit.kind,
            "threshold_percent": limit.percent,
        });
        log_action(ctx, state, "org_delete_quota_limit", &org, None, metadata);
    }
    Ok(reply)
}

/// `GET /api/v1/user/quota`.
pub fn user_list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let user = ctx.user()?.to_string();
    list(state, &user, Kind::User)
}

/// `GET /api/v1/user/quota/{quota_id}`.
pub fn user_get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let user = ctx.user()?.to_string();
    get(ctx, state, &user, Kind::User)
}

/// `GET /api/v1/user/quota/{quota_id}/limit`.
pub fn user_limits(ctx: &Ctx, state: &mut State) -> ApiResult {
    let user = ctx.user()?.to_string();
    limits(ctx, state, &user, Kind::User)
}

/// `GET /api/v1/user/quota/{quota_id}/limit/{limit_id}`.
pub fn user_limit_get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let user = ctx.user()?.to_string();
    limit_get(ctx, state, &user, Kind::User)
}

/// `GET /api/v1/superuser/organization/{namespace}/quota`.
pub fn su_org_list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = superuser_ns(ctx)?;
    list(state, &ns, Kind::Org)
}

/// `POST /api/v1/superuser/organization/{namespace}/quota`.
pub fn su_org_create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = superuser_ns(ctx)?;
    create(ctx, state, &ns, Kind::Org)
}

/// `PUT /api/v1/superuser/organization/{namespace}/quota/{quota_id}`.
pub fn su_org_update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = superuser_ns(ctx)?;
    update(ctx, state, &ns, Kind::Org)
}

/// `DELETE /api/v1/superuser/organization/{namespace}/quota/{quota_id}`.
pub fn su_org_delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = superuser_ns(ctx)?;
    delete(ctx, state, &ns, Kind::Org)
}

/// `GET /api/v1/superuser/users/{namespace}/quota`.
pub fn su_user_list(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = superuser_ns(ctx)?;
    list(state, &ns, Kind::User)
}

/// `POST /api/v1/superuser/users/{namespace}/quota`.
pub fn su_user_create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = superuser_ns(ctx)?;
    create(ctx, state, &ns, Kind::User)
}

/// `PUT /api/v1/superuser/users/{namespace}/quota/{quota_id}`.
pub fn su_user_update(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = superuser_ns(ctx)?;
    update(ctx, state, &ns, Kind::User)
}

/// `DELETE /api/v1/superuser/users/{namespace}/quota/{quota_id}`.
pub fn su_user_delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let ns = superuser_ns(ctx)?;
    delete(ctx, state, &ns, Kind::User)
}
