//! The remediation model: what to do about one constraint — ordered steps with the privilege each
//! needs, `kubectl` commands with the real names filled in, patches, and whom to ask.

use std::fmt;

use serde::Serialize;

use crate::source::Gap;

/// Who can carry out a step, from least to most privileged (so the minimum of a list is the
/// least privilege that gets somewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Privilege {
    /// Can read and change their own workloads in the namespace (`edit`).
    Developer,
    /// Can change the namespace's policy objects (`admin` in the namespace).
    NamespaceAdmin,
    /// Can change cluster-scoped objects, Namespace labels and admission configuration.
    ClusterAdmin,
}

impl Privilege {
    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::Developer => "developer",
            Privilege::NamespaceAdmin => "namespace-admin",
            Privilege::ClusterAdmin => "cluster-admin",
        }
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How a patch body is meant to be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchFormat {
    /// `kubectl patch --type strategic` (lists of containers merge by name).
    StrategicMerge,
    /// `kubectl patch --type json` (RFC 6902 operations).
    JsonPatch,
    /// A fragment to place into the object by hand (at the path `target` names).
    YamlSnippet,
    /// A whole new object for `kubectl apply -f`.
    Manifest,
}

impl PatchFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchFormat::StrategicMerge => "strategic-merge",
            PatchFormat::JsonPatch => "json-patch",
            PatchFormat::YamlSnippet => "yaml-snippet",
            PatchFormat::Manifest => "manifest",
        }
    }
}

/// A change to one object, as YAML text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Patch {
    /// The object it changes (`Deployment payments/payments-api`) or creates.
    pub target: String,
    pub format: PatchFormat,
    /// The patch or object as YAML.
    pub body: String,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub text: String,
    pub privilege: Privilege,
    /// Commands to run, with the real names filled in (`<…>` marks what potoo cannot know).
    pub commands: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<Patch>,
    /// The step is derived from a rule body (a pattern, Rego parameters, CEL): `--detail
    /// detailed` and `summary` drop it.
    #[serde(skip)]
    pub from_rule_body: bool,
}

impl Step {
    pub fn new(privilege: Privilege, text: impl Into<String>) -> Step {
        Step {
            text: text.into(),
            privilege,
            commands: Vec::new(),
            patch: None,
            from_rule_body: false,
        }
    }

    pub fn command(mut self, command: impl Into<String>) -> Step {
        self.commands.push(command.into());
        self
    }

    pub fn patch(mut self, patch: Patch) -> Step {
        self.patch = Some(patch);
        self
    }

    pub fn from_rule_body(mut self) -> Step {
        self.from_rule_body = true;
        self
    }
}

/// Someone to ask, and where potoo found them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// The annotation's value (a person, a team, a channel, an address).
    pub contact: String,
    /// `annotation potoo.io/contact on ClusterPolicy/require-labels`.
    pub source: String,
}

/// What to do about one constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Remediation {
    /// The constraint id, as `query` prints it.
    pub constraint_id: String,
    /// The policy kind (`NetworkPolicy`, `ClusterPolicy`, `Namespace` for Pod Security…).
    pub constraint_kind: String,
    #[serde(rename = "type")]
    pub constraint_type: String,
    /// What the constraint does, in words.
    pub summary: String,
    /// The workload the steps are tailored to (`Deployment payments/payments-api`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// The least privilege among the steps: what it takes to do something about it yourself.
    pub privilege: Privilege,
    pub steps: Vec<Step>,
    /// Whom to ask, most specific first; empty when no annotation names anyone.
    pub contacts: Vec<Contact>,
}

/// What `remediate` answers (`apiVersion: potoo.dev/v1alpha1`, `kind: Remediation`): one entry
/// per constraint of the policy object that was named.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediationResult {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub incomplete: bool,
    pub gaps: Vec<Gap>,
    /// The name as given on the command line.
    pub name: String,
    pub remediations: Vec<Remediation>,
}

impl RemediationResult {
    pub fn new(name: String, gaps: Vec<Gap>, remediations: Vec<Remediation>) -> RemediationResult {
        RemediationResult {
            api_version: super::report::API_VERSION,
            kind: "Remediation",
            incomplete: !gaps.is_empty(),
            gaps,
            name,
            remediations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileges_order_from_developer_to_cluster_admin_and_serialize_in_kebab_case() {
        assert!(Privilege::Developer < Privilege::NamespaceAdmin);
        assert!(Privilege::NamespaceAdmin < Privilege::ClusterAdmin);
        assert_eq!(
            serde_json::to_value(Privilege::NamespaceAdmin).unwrap(),
            "namespace-admin"
        );
        assert_eq!(
            serde_json::to_value(PatchFormat::StrategicMerge).unwrap(),
            "strategic-merge"
        );
    }

    #[test]
    fn steps_keep_empty_command_lists_and_hide_the_rule_body_marker() {
        let step = Step::new(Privilege::Developer, "look").from_rule_body();
        let value = serde_json::to_value(&step).unwrap();
        assert_eq!(value["commands"], serde_json::json!([]));
        assert!(value.get("fromRuleBody").is_none());
        assert!(value.get("patch").is_none());
    }
}
