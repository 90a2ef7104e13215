//! Repository permissions as an authoritative set: grants are added,
//! changed and revoked to match, touching only what differs. The
//! connection's own user is never revoked (Quay gives the creator admin).

use std::collections::BTreeMap;

use super::driver::FieldChange;
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::api::permission::Grantee;

/// One desired grant. Robots are users with their full name (`org+robot`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPermission {
    /// User (robots too) or team.
    pub grantee: Grantee,
    /// User name, robot full name or team name.
    pub name: String,
    /// `read`, `write` or `admin`.
    pub role: String,
}

/// Live grants by (grantee kind, name).
pub type LivePermissions = BTreeMap<(Grantee, String), String>;

fn label(grantee: Grantee, name: &str) -> String {
    let kind = match grantee {
        Grantee::User if name.contains('+') => "robot",
        Grantee::User => "user",
        Grantee::Team => "team",
    };
    format!("permissions[{kind}:{name}]")
}

/// Reads the repository's user and team grants (two list calls).
pub async fn observe(
    quay: &Quay,
    namespace: &str,
    repo: &str,
) -> Result<LivePermissions, EngineError> {
    let mut live = LivePermissions::new();
    for grantee in [Grantee::User, Grantee::Team] {
        for (name, p) in quay
            .client
            .list_repository_permissions(namespace, repo, grantee)
            .await?
        {
            live.insert((grantee, name), p.role);
        }
    }
    Ok(live)
}

enum Op<'a> {
    Set(&'a DesiredPermission),
    Revoke(Grantee, &'a str),
}

fn ops<'a>(
    desired: &'a [DesiredPermission],
    live: &'a LivePermissions,
    me: &str,
) -> Vec<(Op<'a>, FieldChange)> {
    let mut ops = Vec::new();
    for d in desired {
        match live.get(&(d.grantee, d.name.clone())) {
            Some(role) if *role == d.role => {}
            current => ops.push((
                Op::Set(d),
                FieldChange::new(
                    &label(d.grantee, &d.name),
                    current.map_or("none", String::as_str),
                    &d.role,
                ),
            )),
        }
    }
    for ((grantee, name), role) in live {
        let wanted = desired
            .iter()
            .any(|d| d.grantee == *grantee && d.name == *name);
        let own_grant = *grantee == Grantee::User && name == me;
        if !(wanted || own_grant) {
            ops.push((
                Op::Revoke(*grantee, name),
                FieldChange::new(&label(*grantee, name), role, "none"),
            ));
        }
    }
    ops
}

/// What differs.
pub fn diff(desired: &[DesiredPermission], live: &LivePermissions, me: &str) -> Vec<FieldChange> {
    ops(desired, live, me).into_iter().map(|(_, c)| c).collect()
}

/// Grants, changes and revokes what differs. A grantee that does not exist
/// yet (robot or team still being created) makes the caller wait.
pub async fn apply(
    quay: &Quay,
    namespace: &str,
    repo: &str,
    desired: &[DesiredPermission],
    live: &LivePermissions,
    me: &str,
) -> Result<(), EngineError> {
    for (op, _) in ops(desired, live, me) {
        match op {
            Op::Set(d) => {
                let result = quay
                    .client
                    .set_repository_permission(namespace, repo, d.grantee, &d.name, &d.role)
                    .await;
                match result {
                    Err(e)
                        if e.message.starts_with("Invalid username")
                            || e.message.starts_with("No team") =>
                    {
                        return Err(EngineError::Waiting {
                            what: format!(
                                "{} to exist in Quay ({})",
                                label(d.grantee, &d.name),
                                e.message
                            ),
                        });
                    }
                    other => other?,
                }
            }
            Op::Revoke(grantee, name) => {
                match quay
                    .client
                    .delete_repository_permission(namespace, repo, grantee, name)
                    .await
                {
                    Err(e) if e.is_not_found() => {}
                    other => other?,
                }
            }
        }
    }
    Ok(())
}
