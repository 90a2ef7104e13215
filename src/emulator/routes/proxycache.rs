//! Proxy-cache configuration of an organization (`/organization/{orgname}/proxycache`).
//! The emulator stores the configuration without contacting the upstream registry.

use serde_json::json;

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::State;

fn admin_org(ctx: &Ctx, state: &State) -> Result<String, ApiError> {
    let org = ctx.param("orgname");
    if !ctx.caller.is_org_admin(state, org) {
        return Err(ctx.deny());
    }
    if state.org(org).is_none() {
        return Err(ApiError::not_found());
    }
    Ok(org.to_string())
}

/// `GET`: the configuration, or empty strings when there is none (also for a
/// full-access superuser on a missing organization).
pub fn get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let empty = json!({"upstream_registry": "", "expiration_s": "", "insecure": ""});
    if ctx.caller.full_access() && state.org(ctx.param("orgname")).is_none() {
        return Ok(Reply::ok(empty));
    }
    let org = admin_org(ctx, state)?;
    let config = state
        .org(&org)
        .and_then(|o| o.proxy_cache.clone())
        .unwrap_or(empty);
    Ok(Reply::ok(config))
}

/// `POST`: stores the configuration (201 `"Created"`).
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = admin_org(ctx, state)?;
    let body = ctx.json(&json!({
        "type": "object",
        "description": "Proxy cache configuration for an organization",
        "required": ["upstream_registry"],
        "properties": {
            "upstream_registry": {"type": "string", "description": "Name of the upstream registry that is to be cached"},
        },
    }))?;
    let registry = body
        .str_field("upstream_registry")
        .unwrap_or_default()
        .to_string();
    let data = state
        .namespace_mut(&org)
        .and_then(|n| n.org_mut())
        .ok_or_else(ApiError::not_found)?;
    if data.proxy_cache.is_some() {
        return Err(ApiError::invalid(
            "Proxy cache configuration already exists",
        ));
    }
    data.proxy_cache = Some(json!({
        "upstream_registry": registry,
        "expiration_s": body.i64_field("expiration_s").unwrap_or(86400),
        "insecure": body.bool_field("insecure").unwrap_or(false),
        "upstream_registry_username": body.str_field("upstream_registry_username"),
    }));
    let shown = Some(registry).filter(|r| !r.is_empty());
    let metadata = json!({ "upstream_registry": shown });
    log_action(
        ctx,
        state,
        "create_proxy_cache_config",
        &org,
        None,
        metadata,
    );
    Ok(Reply::created(json!("Created")))
}

/// `DELETE`: 204, or 404 when there is no configuration.
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = admin_org(ctx, state)?;
    let data = state
        .namespace_mut(&org)
        .and_then(|n| n.org_mut())
        .ok_or_else(ApiError::not_found)?;
    if data.proxy_cache.take().is_none() {
        return Err(ApiError::not_found());
    }
    log_action(
        ctx,
        state,
        "delete_proxy_cache_config",
        &org,
        None,
        json!({}),
    );
    Ok(Reply::no_content())
}
