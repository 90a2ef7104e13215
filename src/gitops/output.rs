//! Rendering plans and apply reports for people (text) and machines (JSON).

use std::fmt::Write;

use super::InputError;
use super::plan::{Action, Applied, ApplyReport, Plan, PlanEntry};

/// Output format of `plan` and `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// A readable diff.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// The width of the widest resource label, for alignment.
fn width<'a>(entries: impl Iterator<Item = &'a PlanEntry>) -> usize {
    entries.map(|e| e.label().len()).max().unwrap_or(0)
}

/// A plan as a readable diff, one line per resource and one per changed
/// field, then the summary line.
pub fn plan_text(plan: &Plan) -> String {
    let mut out = String::new();
    let width = width(plan.resources.iter());
    for entry in &plan.resources {
        let (sign, what) = match entry.action {
            Action::Create => ('+', format!("create {}", entry.quay_object)),
            Action::Update => ('~', format!("update {}", entry.quay_object)),
            Action::InSync => ('=', format!("in sync: {}", entry.quay_object)),
            Action::Observe => (
                '?',
                format!(
                    "observe only: {} {}",
                    entry.quay_object,
                    match (entry.exists, entry.changes.is_empty()) {
                        (false, _) => "does not exist (not created)",
                        (true, true) => "is in sync",
                        (true, false) => "differs (not changed)",
                    }
                ),
            ),
            Action::Error => ('!', format!("cannot observe {}", entry.quay_object)),
        };
        let _ = write!(out, "  {sign} {:width$}  {what}", entry.label());
        if entry.adopted && entry.action == Action::Update {
            out.push_str(" (exists; would be adopted)");
        }
        if let Some(waits) = &entry.waits_for {
            let _ = write!(out, " (waits for {waits})");
        }
        out.push('\n');
        for change in &entry.changes {
            let immutable = match change.immutable {
                true => " (Quay cannot change this in place)",
                false => "",
            };
            let _ = writeln!(out, "      {change}{immutable}");
        }
        if let Some(error) = &entry.error {
            let _ = writeln!(out, "      {error}");
        }
    }
    let s = &plan.summary;
    let _ = write!(
        out,
        "\nPlan: {} to create, {} to update, {} in sync",
        s.create, s.update, s.in_sync
    );
    if s.observed > 0 {
        let _ = write!(out, ", {} observe-only", s.observed);
    }
    if s.errors > 0 {
        let _ = write!(out, ", {} failed", s.errors);
    }
    out.push_str(".\n");
    out
}

/// What an apply run did, one line per resource (plus the fields written),
/// the summary line, and the controller work that needs a cluster.
pub fn apply_text(report: &ApplyReport) -> String {
    let mut out = String::new();
    let width = width(report.resources.iter().map(|r| &r.plan));
    for entry in &report.resources {
        let plan = &entry.plan;
        let (sign, what) = match &entry.applied {
            Applied::Created => ('+', format!("created {}", plan.quay_object)),
            Applied::Updated if plan.adopted => {
                ('~', format!("adopted and updated {}", plan.quay_object))
            }
            Applied::Updated => ('~', format!("updated {}", plan.quay_object)),
            Applied::InSync => ('=', format!("in sync: {}", plan.quay_object)),
            Applied::Observed => ('?', format!("observed only: {}", plan.quay_object)),
            Applied::Failed(message) => ('!', format!("failed: {}: {message}", plan.quay_object)),
        };
        let _ = writeln!(out, "  {sign} {:width$}  {what}", plan.label());
        if matches!(entry.applied, Applied::Updated | Applied::Observed) {
            for change in &plan.changes {
                let _ = writeln!(out, "      {change}");
            }
        }
        if !matches!(entry.applied, Applied::Failed(_)) {
            for what in &entry.waited_for {
                let _ = writeln!(
                    out,
                    "      (waited for {what}, then finished in a later pass)"
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\nApply: {} created, {} updated, {} in sync, {} failed.",
        report.count(|a| *a == Applied::Created),
        report.count(|a| *a == Applied::Updated),
        report.count(|a| *a == Applied::InSync),
        report.count(|a| matches!(a, Applied::Failed(_))),
    );
    if !report.skipped.is_empty() {
        let _ = writeln!(out, "Not done without a cluster (the controllers do it):");
        for skipped in &report.skipped {
            let _ = writeln!(out, "  {}: {}", skipped.resource, skipped.work.join(", "));
        }
    }
    out
}

/// Input errors, one per line, then what was not done.
pub fn errors_text(errors: &[InputError], not_done: &str) -> String {
    let mut out = String::new();
    for e in errors {
        let _ = writeln!(out, "error: {e}");
    }
    let plural = if errors.len() == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "{} error{plural} in the inputs; {not_done}.",
        errors.len()
    );
    out
}
