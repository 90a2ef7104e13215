//! Kubernetes names for Quay objects: lower-case, every character other than
//! a letter or digit (`_`, `.`, `+`, `/`) mapped to `-`, within a length, and
//! unique within a kind. Collisions are settled deterministically: a name
//! claimed in several organizations is qualified with the organization
//! (`acme-owners`, `beta-owners`); what still collides gets `-2`, `-3`, ...,
//! the object whose Quay name is the Kubernetes name itself keeping it plain.

use std::collections::{BTreeMap, BTreeSet};

/// The longest name of a namespaced object (a DNS subdomain).
pub const MAX_NAME: usize = 253;

/// A Kubernetes name for `quay_name`, at most `max` characters.
pub fn kubernetes_name(quay_name: &str, max: usize) -> String {
    let mapped: String = quay_name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    fit(&mapped, "", max)
}

/// `base` shortened so that `base + suffix` fits in `max`, without a `-` at
/// either end of the base.
fn fit(base: &str, suffix: &str, max: usize) -> String {
    let room = max.saturating_sub(suffix.len()).max(1);
    let short: String = base.chars().take(room).collect();
    let trimmed = short.trim_matches('-');
    let trimmed = if trimmed.is_empty() { "x" } else { trimmed };
    format!("{trimmed}{suffix}")
}

/// One object that needs a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The organization it belongs to, to qualify a name several
    /// organizations claim; empty for objects never qualified (organizations
    /// themselves, or names derived from an already unique one).
    pub organization: String,
    /// Its Quay name (or the text the name is derived from).
    pub quay_name: String,
}

impl Wanted {
    /// An object of `organization` named `quay_name` in Quay.
    pub fn new(organization: &str, quay_name: &str) -> Self {
        Wanted {
            organization: organization.to_owned(),
            quay_name: quay_name.to_owned(),
        }
    }
}

/// Unique names, at most `max` characters, for the objects of one kind, in
/// the order given. The result depends only on the set of objects.
pub fn unique_names(wanted: &[Wanted], max: usize) -> Vec<String> {
    let base: Vec<String> = wanted
        .iter()
        .map(|w| kubernetes_name(&w.quay_name, max))
        .collect();
    let mut organizations: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (w, b) in wanted.iter().zip(&base) {
        organizations
            .entry(b)
            .or_default()
            .insert(w.organization.as_str());
    }
    let names: Vec<String> = wanted
        .iter()
        .zip(&base)
        .map(
            |(w, b)| match organizations[b.as_str()].len() > 1 && !w.organization.is_empty() {
                true => kubernetes_name(&format!("{}-{}", w.organization, w.quay_name), max),
                false => b.clone(),
            },
        )
        .collect();
    // Who keeps a contested name: its exact owner first, then by organization
    // and Quay name (then input order, for identical objects).
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&i| {
        (
            wanted[i].quay_name != names[i],
            &wanted[i].organization,
            &wanted[i].quay_name,
            i,
        )
    });
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut result = vec![String::new(); wanted.len()];
    for i in order {
        let mut name = names[i].clone();
        let mut n = 1;
        while taken.contains(&name) {
            n += 1;
            name = fit(&names[i], &format!("-{n}"), max);
        }
        taken.insert(name.clone());
        result[i] = name;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(wanted: &[(&str, &str)]) -> Vec<String> {
        let wanted: Vec<Wanted> = wanted.iter().map(|(o, n)| Wanted::new(o, n)).collect();
        unique_names(&wanted, MAX_NAME)
    }

    #[test]
    fn quay_names_become_kubernetes_names() {
        assert_eq!(kubernetes_name("legacy_tools", MAX_NAME), "legacy-tools");
        assert_eq!(kubernetes_name("acme+ci.bot", MAX_NAME), "acme-ci-bot");
        assert_eq!(kubernetes_name("team/app", MAX_NAME), "team-app");
        assert_eq!(kubernetes_name("App_", MAX_NAME), "app");
        assert_eq!(kubernetes_name(&"a".repeat(300), 10), "a".repeat(10));
        assert_eq!(kubernetes_name("abcd_efgh", 5), "abcd", "no trailing dash");
    }

    #[test]
    fn collisions_are_settled_the_same_way_whatever_the_order() {
        let wanted = [("acme", "a_b"), ("acme", "a.b"), ("acme", "a-b")];
        assert_eq!(names(&wanted), ["a-b-3", "a-b-2", "a-b"]);
        let reversed = [("acme", "a-b"), ("acme", "a.b"), ("acme", "a_b")];
        assert_eq!(names(&reversed), ["a-b", "a-b-2", "a-b-3"]);
    }

    #[test]
    fn a_name_of_several_organizations_is_qualified() {
        let wanted = [("acme", "owners"), ("beta", "owners"), ("beta", "devs")];
        assert_eq!(names(&wanted), ["acme-owners", "beta-owners", "devs"]);
        // Organizations themselves are never qualified.
        assert_eq!(names(&[("", "a_b"), ("", "a.b")]), ["a-b-2", "a-b"]);
    }

    #[test]
    fn suffixes_fit_the_length() {
        let wanted: Vec<Wanted> = ["abcdef_1", "abcdef_2"]
            .iter()
            .map(|n| Wanted::new("acme", n))
            .collect();
        assert_eq!(unique_names(&wanted, 6), ["abcdef", "abcd-2"]);
    }
}
