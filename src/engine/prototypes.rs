//! Default permissions (prototypes) as an authoritative list. Quay accepts
//! identical prototypes twice: the operator never creates a duplicate and
//! removes the duplicates it finds.

use super::driver::FieldChange;
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::api::prototype::{EntityRef, NameRef, NewPrototype, Prototype};

/// One desired default permission. Robots are delegates of kind `user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPrototype {
    /// `user` (robots too) or `team`.
    pub delegate_kind: String,
    /// User, robot full name or team.
    pub delegate_name: String,
    /// `read`, `write` or `admin`.
    pub role: String,
    /// Only for repositories created by this user.
    pub activating_user: Option<String>,
}

impl DesiredPrototype {
    fn key(&self) -> (String, String, Option<String>) {
        (
            self.delegate_kind.clone(),
            self.delegate_name.clone(),
            self.activating_user.clone(),
        )
    }
    fn label(&self) -> String {
        match &self.activating_user {
            Some(u) => format!(
                "defaultPermissions[{}:{} when created by {u}]",
                self.delegate_kind, self.delegate_name
            ),
            None => format!(
                "defaultPermissions[{}:{}]",
                self.delegate_kind, self.delegate_name
            ),
        }
    }
}

fn live_key(p: &Prototype) -> (String, String, Option<String>) {
    (
        p.delegate.kind.clone(),
        p.delegate.name.clone(),
        p.activating_user.as_ref().map(|u| u.name.clone()),
    )
}

fn as_desired(p: &Prototype) -> DesiredPrototype {
    let (delegate_kind, delegate_name, activating_user) = live_key(p);
    DesiredPrototype {
        delegate_kind,
        delegate_name,
        role: p.role.clone(),
        activating_user,
    }
}

enum Op<'a> {
    Create(&'a DesiredPrototype),
    SetRole(&'a Prototype, &'a str),
    Delete(&'a Prototype),
}

fn ops<'a>(desired: &'a [DesiredPrototype], live: &'a [Prototype]) -> Vec<(Op<'a>, FieldChange)> {
    let mut ops = Vec::new();
    let mut seen = Vec::new();
    for d in desired {
        if seen.contains(&d.key()) {
            continue;
        }
        seen.push(d.key());
        let mut matching = live.iter().filter(|p| live_key(p) == d.key());
        match matching.next() {
            None => ops.push((Op::Create(d), FieldChange::new(&d.label(), "none", &d.role))),
            Some(first) => {
                if first.role != d.role {
                    ops.push((
                        Op::SetRole(first, &d.role),
                        FieldChange::new(&d.label(), &first.role, &d.role),
                    ));
                }
                for dup in matching {
                    ops.push((
                        Op::Delete(dup),
                        FieldChange::new(&d.label(), format!("duplicate {}", dup.role), "none"),
                    ));
                }
            }
        }
    }
    for p in live.iter().filter(|p| !seen.contains(&live_key(p))) {
        ops.push((
            Op::Delete(p),
            FieldChange::new(&as_desired(p).label(), &p.role, "none"),
        ));
    }
    ops
}

/// Reads the organization's prototypes (one list call).
pub async fn observe(quay: &Quay, org: &str) -> Result<Vec<Prototype>, EngineError> {
    Ok(quay.client.list_prototypes(org).await?)
}

/// What differs.
pub fn diff(desired: &[DesiredPrototype], live: &[Prototype]) -> Vec<FieldChange> {
    ops(desired, live).into_iter().map(|(_, c)| c).collect()
}

/// Makes the organization's prototypes exactly `desired`, one per key.
pub async fn apply(
    quay: &Quay,
    org: &str,
    desired: &[DesiredPrototype],
    live: &[Prototype],
) -> Result<(), EngineError> {
    for (op, _) in ops(desired, live) {
        match op {
            Op::Create(d) => {
                let new = NewPrototype {
                    role: d.role.clone(),
                    delegate: EntityRef {
                        kind: d.delegate_kind.clone(),
                        name: d.delegate_name.clone(),
                    },
                    activating_user: d.activating_user.clone().map(|name| NameRef { name }),
                };
                match quay.client.create_prototype(org, &new).await {
                    Err(e)
                        if e.kind == crate::quay::ErrorKind::BadRequest
                            && e.message.contains("does not exist") =>
                    {
                        return Err(EngineError::Waiting {
                            what: format!("{} to exist in Quay ({})", d.label(), e.message),
                        });
                    }
                    other => {
                        other?;
                    }
                }
            }
            Op::SetRole(p, role) => {
                quay.client.update_prototype_role(org, &p.id, role).await?;
            }
            Op::Delete(p) => match quay.client.delete_prototype(org, &p.id).await {
                Err(e) if e.is_not_found() => {}
                other => other?,
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quay::api::prototype::PrototypeEntity;

    fn live(id: &str, kind: &str, name: &str, role: &str) -> Prototype {
        Prototype {
            id: id.into(),
            role: role.into(),
            delegate: PrototypeEntity {
                kind: kind.into(),
                name: name.into(),
                is_robot: name.contains('+'),
            },
            activating_user: None,
        }
    }

    fn want(kind: &str, name: &str, role: &str) -> DesiredPrototype {
        DesiredPrototype {
            delegate_kind: kind.into(),
            delegate_name: name.into(),
            role: role.into(),
            activating_user: None,
        }
    }

    #[test]
    fn duplicates_are_removed_and_roles_fixed() {
        let l = vec![
            live("1", "team", "devs", "write"),
            live("2", "team", "devs", "write"),
            live("3", "user", "acme+bot", "read"),
        ];
        let changes = diff(
            &[
                want("team", "devs", "admin"),
                want("user", "acme+bot", "read"),
            ],
            &l,
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(
            (changes[0].live.as_str(), changes[0].desired.as_str()),
            ("write", "admin")
        );
        assert_eq!(changes[1].live, "duplicate write");
        assert!(
            diff(
                &[
                    want("team", "devs", "write"),
                    want("user", "acme+bot", "read")
                ],
                &l[1..]
            )
            .is_empty()
        );
    }
}
