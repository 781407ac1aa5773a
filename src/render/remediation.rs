//! Text output of `remediate` (and of the remediation `explain` shows): per constraint, what it
//! does, numbered steps with their privilege, commands and patches, then whom to ask.

use owo_colors::OwoColorize;

use super::RenderOptions;
use crate::model::remediation::{Privilege, Remediation, RemediationResult};

pub fn table(result: &RemediationResult, options: RenderOptions) -> String {
    let mut text = String::new();
    for (position, remediation) in result.remediations.iter().enumerate() {
        if position > 0 {
            text.push('\n');
        }
        text.push_str(&remediation_text(remediation, options));
    }
    text
}

fn paint_privilege(privilege: Privilege, options: RenderOptions) -> String {
    let word = format!("[{privilege}]");
    if !options.color {
        return word;
    }
    match privilege {
        Privilege::Developer => word.green().to_string(),
        Privilege::NamespaceAdmin => word.yellow().to_string(),
        Privilege::ClusterAdmin => word.red().to_string(),
    }
}

/// One remediation as text (`explain` prints the same block under its answer).
pub fn remediation_text(remediation: &Remediation, options: RenderOptions) -> String {
    let mut text = String::new();
    let title = format!("Remediation for {}", remediation.constraint_id);
    if options.color {
        text.push_str(&title.bold().to_string());
    } else {
        text.push_str(&title);
    }
    text.push('\n');
    text.push_str(&format!(
        "  {} ({}): {}\n",
        remediation.constraint_kind, remediation.constraint_type, remediation.summary
    ));
    if let Some(workload) = &remediation.workload {
        text.push_str(&format!("  for {workload}\n"));
    }
    text.push_str(&format!(
        "  least privilege needed: {}\n",
        remediation.privilege
    ));
    text.push_str("\nSteps:\n");
    for (index, step) in remediation.steps.iter().enumerate() {
        text.push_str(&format!(
            "  {}. {} {}\n",
            index + 1,
            paint_privilege(step.privilege, options),
            step.text
        ));
        for command in &step.commands {
            let mut lines = command.lines();
            if let Some(first) = lines.next() {
                text.push_str(&format!("       $ {first}\n"));
            }
            for line in lines {
                text.push_str(&format!("         {line}\n"));
            }
        }
        if let Some(patch) = &step.patch {
            text.push_str(&format!(
                "       {} for {}:\n",
                patch.format.as_str(),
                patch.target
            ));
            for line in patch.body.lines() {
                text.push_str(&format!("         {line}\n"));
            }
        }
    }
    text.push_str("\nContacts:\n");
    if remediation.contacts.is_empty() {
        text.push_str(
            "  none found (no `potoo.io/contact` or owner annotation on the policy or the namespace)\n",
        );
    }
    for contact in &remediation.contacts {
        text.push_str(&format!("  {} ({})\n", contact.contact, contact.source));
    }
    text
}
