//! Whom to ask about a constraint: annotations on the policy object, else on its namespace, else
//! on the user's namespace.
//!
//! Order: the `potoo.io/contact` annotation on the policy object; else the policy object's owner
//! annotations (keys whose name part — after the last `/` — is `contact`, `owner`, `owners`,
//! `team` or `maintainer`, e.g. `owner`, `example.com/team`); else the same two lookups on the
//! policy's namespace (for a namespaced policy) and then on the user's namespace.

use std::collections::BTreeMap;

use crate::model::Constraint;
use crate::model::remediation::Contact;
use crate::source::{GroupKind, Object, Snapshot};

/// The annotation that names whom to ask about an object.
pub const CONTACT_ANNOTATION: &str = "potoo.io/contact";

/// Name parts of annotation keys that name an owner.
const OWNER_NAMES: &[&str] = &["contact", "owner", "owners", "team", "maintainer"];

/// Contacts for `constraint`, most specific first; `user_namespace` is the namespace the user
/// works in (the workload's), asked last.
pub fn contacts(
    snapshot: &Snapshot,
    constraint: &Constraint,
    user_namespace: Option<&str>,
) -> Vec<Contact> {
    let source = &constraint.source;
    let group = GroupKind::from_api_version(&source.api_version, &source.kind).group;
    if let Some(policy) = snapshot.find(
        &group,
        &source.kind,
        source.namespace.as_deref(),
        &source.name,
    ) {
        let found = from_object(policy);
        if !found.is_empty() {
            return found;
        }
    }
    let mut namespaces = Vec::new();
    if let Some(namespace) = &source.namespace {
        namespaces.push(namespace.as_str());
    }
    if let Some(namespace) = user_namespace
        && !namespaces.contains(&namespace)
    {
        namespaces.push(namespace);
    }
    for namespace in namespaces {
        if let Some(object) = snapshot.namespace(namespace) {
            let found = from_object(object);
            if !found.is_empty() {
                return found;
            }
        }
    }
    Vec::new()
}

/// `potoo.io/contact` alone when set, else every owner annotation, sorted by key.
fn from_object(object: &Object) -> Vec<Contact> {
    let annotations = object.annotations();
    let described = describe(object);
    if let Some(value) = non_empty(&annotations, CONTACT_ANNOTATION) {
        return vec![Contact {
            contact: value,
            source: format!("annotation `{CONTACT_ANNOTATION}` on {described}"),
        }];
    }
    annotations
        .iter()
        .filter(|(key, value)| {
            let name = key.rsplit('/').next().unwrap_or(key);
            OWNER_NAMES.contains(&name.to_ascii_lowercase().as_str()) && !value.trim().is_empty()
        })
        .map(|(key, value)| Contact {
            contact: value.trim().to_string(),
            source: format!("annotation `{key}` on {described}"),
        })
        .collect()
}

fn non_empty(annotations: &BTreeMap<String, String>, key: &str) -> Option<String> {
    annotations
        .get(key)
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// `Namespace/payments`, `ClusterPolicy/require-labels`, `NetworkPolicy/payments/allow-dns`.
fn describe(object: &Object) -> String {
    match &object.namespace {
        Some(namespace) => format!("{}/{}/{}", object.kind, namespace, object.name),
        None => format!("{}/{}", object.kind, object.name),
    }
}
