//! Auto-prune policies as an authoritative list: identical policies are
//! kept, others are updated in place where possible, then created or deleted.

use super::driver::FieldChange;
use super::error::EngineError;
use super::quay::Quay;
use crate::quay::api::autoprune::{AutoPrunePolicy, PolicyOwner, PruneRule};

fn render(rule: &PruneRule) -> String {
    let value = match &rule.value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match &rule.tag_pattern {
        Some(p) if rule.tag_pattern_matches => format!("{}={value} tags~/{p}/", rule.method),
        Some(p) => format!("{}={value} tags!~/{p}/", rule.method),
        None => format!("{}={value}", rule.method),
    }
}

enum Op<'a> {
    Update(&'a AutoPrunePolicy, &'a PruneRule),
    Create(&'a PruneRule),
    Delete(&'a AutoPrunePolicy),
}

fn ops<'a>(desired: &'a [PruneRule], live: &'a [AutoPrunePolicy]) -> Vec<(Op<'a>, FieldChange)> {
    let mut unmatched_live: Vec<&AutoPrunePolicy> = Vec::new();
    let mut unmatched_desired: Vec<&PruneRule> = desired.iter().collect();
    for policy in live {
        match unmatched_desired.iter().position(|d| **d == policy.rule) {
            Some(i) => {
                unmatched_desired.remove(i);
            }
            None => unmatched_live.push(policy),
        }
    }
    let mut ops = Vec::new();
    let mut live_iter = unmatched_live.into_iter();
    for d in unmatched_desired {
        match live_iter.next() {
            Some(l) => ops.push((
                Op::Update(l, d),
                FieldChange::new("autoPrunePolicies", render(&l.rule), render(d)),
            )),
            None => ops.push((
                Op::Create(d),
                FieldChange::new("autoPrunePolicies", "none", render(d)),
            )),
        }
    }
    for l in live_iter {
        ops.push((
            Op::Delete(l),
            FieldChange::new("autoPrunePolicies", render(&l.rule), "none"),
        ));
    }
    ops
}

/// Reads the owner's policies (one list call).
pub async fn observe(
    quay: &Quay,
    owner: &PolicyOwner,
) -> Result<Vec<AutoPrunePolicy>, EngineError> {
    Ok(quay.client.list_autoprune_policies(owner).await?)
}

/// What differs.
pub fn diff(desired: &[PruneRule], live: &[AutoPrunePolicy]) -> Vec<FieldChange> {
    ops(desired, live).into_iter().map(|(_, c)| c).collect()
}

/// Makes the owner's policies exactly `desired`.
pub async fn apply(
    quay: &Quay,
    owner: &PolicyOwner,
    desired: &[PruneRule],
    live: &[AutoPrunePolicy],
) -> Result<(), EngineError> {
    for (op, _) in ops(desired, live) {
        match op {
            Op::Update(l, d) => {
                quay.client
                    .update_autoprune_policy(owner, &l.uuid, d)
                    .await?
            }
            Op::Create(d) => {
                quay.client.create_autoprune_policy(owner, d).await?;
            }
            Op::Delete(l) => match quay.client.delete_autoprune_policy(owner, &l.uuid).await {
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
    use serde_json::json;

    fn rule(method: &str, value: serde_json::Value) -> PruneRule {
        PruneRule {
            method: method.into(),
            value,
            tag_pattern: None,
            tag_pattern_matches: true,
        }
    }

    fn policy(uuid: &str, r: PruneRule) -> AutoPrunePolicy {
        AutoPrunePolicy {
            uuid: uuid.into(),
            rule: r,
        }
    }

    #[test]
    fn identical_policies_are_kept_others_updated_created_or_deleted() {
        let live = vec![
            policy("a", rule("number_of_tags", json!(10))),
            policy("b", rule("creation_date", json!("7d"))),
        ];
        assert!(
            diff(
                &[
                    rule("creation_date", json!("7d")),
                    rule("number_of_tags", json!(10))
                ],
                &live
            )
            .is_empty()
        );
        let changes = diff(
            &[
                rule("number_of_tags", json!(10)),
                rule("creation_date", json!("2w")),
            ],
            &live,
        );
        assert_eq!(changes.len(), 1, "one update in place: {changes:?}");
        assert_eq!(changes[0].live, "creation_date=7d");
        assert_eq!(changes[0].desired, "creation_date=2w");
        let changes = diff(&[], &live);
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| c.desired == "none"));
    }
}
