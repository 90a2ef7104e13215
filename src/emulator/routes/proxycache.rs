//! Proxy-cache configuration of an organization (`/organization/{orgname}/proxycache`
//! and `/organization/{orgname}/validateproxycache`). The emulator never contacts
//! the upstream registry: it checks the upstream host as Quay does before any
//! connection (no host, a blocked name or private address, a name that does not
//! resolve) and otherwise accepts it. Whether names resolve at all is the
//! [`State::outside_dns`] setting (a Quay without outside DNS, like the recording's,
//! refuses every name).

use std::net::IpAddr;

use serde_json::{Value, json};

use super::super::audit::log_action;
use super::super::errors::{ApiError, ApiResult, Reply};
use super::super::request::{Ctx, JsonFields};
use super::super::state::State;

/// Quay's answer to an upstream its SSRF protection refuses (it does not say why).
const NOT_ALLOWED: &str = "The provided registry URL is not allowed";

/// Host names Quay refuses without resolving them.
const BLOCKED_NAMES: &[&str] = &[
    "localhost",
    "metadata",
    "metadata.google.internal",
    "metadata.azure.internal",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
];

/// Top-level domains that never resolve (RFC 2606 / RFC 6761).
const UNRESOLVABLE_TLDS: &[&str] = &["invalid", "test", "example"];

fn schema() -> Value {
    json!({
        "type": "object",
        "description": "Proxy cache configuration for an organization",
        "required": ["upstream_registry"],
        "properties": {
            "upstream_registry": {"type": "string", "description": "Name of the upstream registry that is to be cached"},
        },
    })
}

fn may_administer(ctx: &Ctx, state: &State, org: &str) -> bool {
    ctx.caller.is_org_admin(state, org) || ctx.caller.full_access()
}

/// Private, loopback, link-local and other reserved addresses Quay refuses.
fn blocked_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_unspecified()
                || v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 0 && c == 2)
                || (a == 198 && (b == 18 || b == 19))
                || (a == 198 && b == 51 && c == 100)
                || (a == 203 && b == 0 && c == 113)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8
                || v6.to_ipv4_mapped().is_some()
        }
    }
}

/// The host of `host[:port][/namespace]` (an IPv6 literal in brackets keeps them off).
fn upstream_host(upstream: &str) -> &str {
    let authority = upstream.trim().split('/').next().unwrap_or_default();
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

/// Quay's checks of the upstream before it connects: a host is required, blocked
/// names and reserved addresses are refused, and a name must resolve.
fn check_upstream(state: &State, upstream: &str) -> Result<(), ApiError> {
    let host = upstream_host(upstream).to_ascii_lowercase();
    if host.is_empty() {
        return Err(ApiError::invalid("URL must include a hostname"));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match blocked_ip(ip) {
            true => Err(ApiError::invalid(NOT_ALLOWED)),
            false => Ok(()),
        };
    }
    if BLOCKED_NAMES.contains(&host.as_str())
        || host.ends_with(".internal")
        || host.ends_with(".local")
    {
        return Err(ApiError::invalid(NOT_ALLOWED));
    }
    let tld = host.rsplit('.').next().unwrap_or_default();
    if !state.outside_dns || !host.contains('.') || UNRESOLVABLE_TLDS.contains(&tld) {
        return Err(ApiError::invalid(format!(
            "Cannot resolve hostname '{host}'"
        )));
    }
    Ok(())
}

/// `GET`: the configuration, or empty strings when there is none (also for a
/// full-access superuser on a missing organization).
pub fn get(ctx: &Ctx, state: &mut State) -> ApiResult {
    let empty = json!({"upstream_registry": "", "expiration_s": "", "insecure": ""});
    let org = ctx.param("orgname");
    if !ctx.caller.is_org_member(state, org) && !ctx.caller.full_access() {
        return Err(ctx.deny());
    }
    let config = state
        .org(org)
        .and_then(|o| o.proxy_cache.clone())
        .map(|c| {
            json!({
                "upstream_registry": c["upstream_registry"],
                "expiration_s": c["expiration_s"],
                "insecure": c["insecure"],
            })
        })
        .unwrap_or(empty);
    Ok(Reply::ok(config))
}

/// `POST`: stores the configuration (201 `"Created"`).
pub fn create(ctx: &Ctx, state: &mut State) -> ApiResult {
    let body = ctx.json(&schema())?;
    let org = ctx.param("orgname").to_string();
    if !may_administer(ctx, state, &org) {
        return Err(ctx.deny());
    }
    if state.org(&org).is_some_and(|o| o.proxy_cache.is_some()) {
        return Err(ApiError::invalid(
            "Proxy Cache Configuration already exists",
        ));
    }
    let registry = body
        .str_field("upstream_registry")
        .unwrap_or_default()
        .to_string();
    check_upstream(state, &registry)?;
    let Some(data) = state.namespace_mut(&org).and_then(|n| n.org_mut()) else {
        return Err(ApiError::invalid(
            "Error while creating Proxy cache configuration",
        ));
    };
    data.proxy_cache = Some(json!({
        "upstream_registry": registry,
        "expiration_s": body.i64_field("expiration_s").unwrap_or(86400),
        "insecure": body.bool_field("insecure").unwrap_or(false),
        "upstream_registry_username": body.str_field("upstream_registry_username"),
    }));
    let metadata = json!({ "upstream_registry": registry });
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

/// `DELETE`: 201 `"Deleted"` (Quay's answer), or 404 when there is no
/// configuration or no such organization. Cached repositories stay.
pub fn delete(ctx: &Ctx, state: &mut State) -> ApiResult {
    let org = ctx.param("orgname").to_string();
    if !may_administer(ctx, state, &org) {
        return Err(ctx.deny());
    }
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
    Ok(Reply::created(json!("Deleted")))
}

/// `POST validateproxycache`: checks a configuration without storing it (also
/// while one exists). The upstream host is checked before the organization is
/// looked up, as Quay does; then 202 `"Valid"` with credentials, `"Anonymous"`
/// without.
pub fn validate(ctx: &Ctx, state: &mut State) -> ApiResult {
    let body = ctx.json(&schema())?;
    let org = ctx.param("orgname");
    if !may_administer(ctx, state, org) {
        return Err(ctx.deny());
    }
    check_upstream(
        state,
        body.str_field("upstream_registry").unwrap_or_default(),
    )?;
    if state.org(org).is_none() {
        return Err(ApiError::invalid(
            "Failed to validate Proxy cache configuration",
        ));
    }
    let answer = match body.str_field("upstream_registry_username") {
        Some(user) if !user.is_empty() => "Valid",
        _ => "Anonymous",
    };
    Ok(Reply::Json(axum::http::StatusCode::ACCEPTED, json!(answer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_checked_like_quay() {
        let mut state = State::new(true);
        state.outside_dns = true;
        let message = |state: &State, upstream: &str| {
            check_upstream(state, upstream)
                .err()
                .map(|e| format!("{e:?}"))
        };
        for ok in [
            "quay.io",
            "docker.io/library",
            "registry.example.com:5000/x",
            "8.8.8.8",
        ] {
            assert_eq!(message(&state, ok), None, "{ok}");
        }
        for (upstream, expected) in [
            ("", "URL must include a hostname"),
            ("127.0.0.1:8080", NOT_ALLOWED),
            ("10.1.2.3/x", NOT_ALLOWED),
            ("[::1]:5000", NOT_ALLOWED),
            ("localhost:5000", NOT_ALLOWED),
            ("registry.cluster.local", NOT_ALLOWED),
            (
                "registry.invalid",
                "Cannot resolve hostname 'registry.invalid'",
            ),
            ("nodots", "Cannot resolve hostname 'nodots'"),
        ] {
            let got = message(&state, upstream).unwrap_or_default();
            assert!(got.contains(expected), "{upstream}: {got}");
        }
        state.outside_dns = false;
        assert!(
            message(&state, "quay.io")
                .unwrap()
                .contains("Cannot resolve hostname 'quay.io'")
        );
    }
}
