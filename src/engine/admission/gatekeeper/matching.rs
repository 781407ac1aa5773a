//! A constraint's `spec.match`, as Gatekeeper's matcher applies it to one object: `kinds`
//! (apiGroups × kinds, `*`), `scope` (`Cluster`, `Namespaced`, `*`), `namespaces` and
//! `excludedNamespaces` (with `prefix*`, `*suffix` and `*infix*` globs; cluster-scoped objects
//! are never excluded by them), `labelSelector`, `namespaceSelector` (a Namespace object is matched
//! by its own labels, other cluster-scoped objects always match) and `name` (globs, also against
//! `generateName`). Every part must match.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::LabelSelector;
use crate::source::snapshot::string_map;

/// One `spec.match.kinds` entry.
#[derive(Debug, Clone, PartialEq)]
struct KindEntry {
    api_groups: Vec<String>,
    kinds: Vec<String>,
}

/// `spec.match`, decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConstraintMatch {
    kinds: Vec<KindEntry>,
    scope: Option<String>,
    namespaces: Vec<String>,
    excluded_namespaces: Vec<String>,
    label_selector: Option<LabelSelector>,
    namespace_selector: Option<LabelSelector>,
    name: Option<String>,
}

/// The object being matched and what is known of its namespace.
pub struct MatchTarget<'a> {
    pub object: &'a Value,
    /// The namespace the object is reviewed in (the request's, else the object's own).
    pub namespace: Option<&'a str>,
    /// The Namespace object of `namespace`, when it is known.
    pub namespace_object: Option<&'a Value>,
}

fn strings(value: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`spec.match.{field}[{index}]` must be a string"))
            })
            .collect(),
        Some(_) => Err(format!("`spec.match.{field}` must be a list")),
    }
}

fn selector(value: Option<&Value>, field: &str) -> Result<Option<LabelSelector>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => LabelSelector::from_value(value)
            .map(Some)
            .map_err(|error| format!("`spec.match.{field}`: {error}")),
    }
}

/// Gatekeeper's wildcard: `*` at the start, the end, or both.
pub fn wildcard_matches(pattern: &str, candidate: &str) -> bool {
    let leading = pattern.starts_with('*');
    let trailing = pattern.len() > 1 && pattern.ends_with('*');
    match (leading, trailing) {
        (true, true) => candidate.contains(&pattern[1..pattern.len() - 1]),
        (false, true) => candidate.starts_with(&pattern[..pattern.len() - 1]),
        (true, false) => candidate.ends_with(&pattern[1..]),
        (false, false) => pattern == candidate,
    }
}

fn group_of(object: &Value) -> &str {
    object
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|api_version| api_version.rsplit_once('/'))
        .map(|(group, _)| group)
        .unwrap_or("")
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn is_namespace(object: &Value) -> bool {
    text(object, "/kind") == "Namespace" && group_of(object).is_empty()
}

impl ConstraintMatch {
    /// Decodes a constraint's `spec.match`; `Err` names the field that cannot be read.
    pub fn from_constraint(constraint: &Value) -> Result<ConstraintMatch, String> {
        let block = match constraint.pointer("/spec/match") {
            None | Some(Value::Null) => return Ok(ConstraintMatch::default()),
            Some(block @ Value::Object(_)) => block,
            Some(_) => return Err("`spec.match` must be a mapping".to_string()),
        };
        let mut kinds = Vec::new();
        match block.get("kinds") {
            None | Some(Value::Null) => {}
            Some(Value::Array(entries)) => {
                for (index, entry) in entries.iter().enumerate() {
                    kinds.push(KindEntry {
                        api_groups: strings(
                            entry.get("apiGroups"),
                            &format!("kinds[{index}].apiGroups"),
                        )?,
                        kinds: strings(entry.get("kinds"), &format!("kinds[{index}].kinds"))?,
                    });
                }
            }
            Some(_) => return Err("`spec.match.kinds` must be a list".to_string()),
        }
        Ok(ConstraintMatch {
            kinds,
            scope: block
                .get("scope")
                .and_then(Value::as_str)
                .map(str::to_string),
            namespaces: strings(block.get("namespaces"), "namespaces")?,
            excluded_namespaces: strings(block.get("excludedNamespaces"), "excludedNamespaces")?,
            label_selector: selector(block.get("labelSelector"), "labelSelector")?,
            namespace_selector: selector(block.get("namespaceSelector"), "namespaceSelector")?,
            name: block
                .get("name")
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty())
                .map(str::to_string),
        })
    }

    /// Adds namespaces excluded from outside the constraint (Gatekeeper's `Config`).
    pub fn exclude_namespaces(&mut self, namespaces: &[String]) {
        self.excluded_namespaces.extend(namespaces.iter().cloned());
    }

    /// Whether the constraint matches; `Err` when it cannot be decided (a `namespaceSelector`
    /// for a namespaced object whose Namespace is unknown).
    pub fn matches(&self, target: &MatchTarget<'_>) -> Result<bool, String> {
        let object = target.object;
        let namespace = target
            .namespace
            .filter(|namespace| !namespace.is_empty())
            .or_else(|| Some(text(object, "/metadata/namespace")).filter(|text| !text.is_empty()));
        let namespace_object = is_namespace(object);
        // The namespace the namespace lists are compared with; `None` for cluster-scoped objects.
        let listed_namespace = if namespace_object {
            Some(text(object, "/metadata/name"))
        } else {
            namespace
        };
        Ok(self.kinds_match(object)
            && self.scope_matches(namespace_object, namespace.is_some())
            && (self.namespaces.is_empty()
                || listed_namespace.is_none_or(|candidate| {
                    self.namespaces
                        .iter()
                        .any(|pattern| wildcard_matches(pattern, candidate))
                }))
            && listed_namespace.is_none_or(|candidate| {
                !self
                    .excluded_namespaces
                    .iter()
                    .any(|pattern| wildcard_matches(pattern, candidate))
            })
            && self.label_selector_matches(object)
            && self.namespace_selector_matches(target, namespace_object, namespace)?
            && self.name_matches(object))
    }

    fn kinds_match(&self, object: &Value) -> bool {
        if self.kinds.is_empty() {
            return true;
        }
        let group = group_of(object);
        let kind = text(object, "/kind");
        self.kinds.iter().any(|entry| {
            let kind_matches = entry.kinds.is_empty()
                || entry
                    .kinds
                    .iter()
                    .any(|candidate| candidate == "*" || candidate == kind);
            let group_matches = entry.api_groups.is_empty()
                || entry
                    .api_groups
                    .iter()
                    .any(|candidate| candidate == "*" || candidate == group);
            kind_matches && group_matches
        })
    }

    fn scope_matches(&self, namespace_object: bool, has_namespace: bool) -> bool {
        match self.scope.as_deref() {
            Some("Cluster") => namespace_object || !has_namespace,
            Some("Namespaced") => !namespace_object && has_namespace,
            _ => true,
        }
    }

    fn label_selector_matches(&self, object: &Value) -> bool {
        self.label_selector.as_ref().is_none_or(|selector| {
            selector.matches(&string_map(object.pointer("/metadata/labels")))
        })
    }

    fn namespace_selector_matches(
        &self,
        target: &MatchTarget<'_>,
        namespace_object: bool,
        namespace: Option<&str>,
    ) -> Result<bool, String> {
        let Some(selector) = &self.namespace_selector else {
            return Ok(true);
        };
        if namespace_object {
            return Ok(selector.matches(&string_map(target.object.pointer("/metadata/labels"))));
        }
        let Some(namespace) = namespace else {
            return Ok(true);
        };
        let labels: BTreeMap<String, String> = match target.namespace_object {
            Some(found) => string_map(found.pointer("/metadata/labels")),
            None => {
                return Err(format!(
                    "`spec.match.namespaceSelector` needs the labels of namespace `{namespace}`, \
                     which is not known"
                ));
            }
        };
        Ok(selector.matches(&labels))
    }

    fn name_matches(&self, object: &Value) -> bool {
        let Some(pattern) = &self.name else {
            return true;
        };
        let name = text(object, "/metadata/name");
        let generate_name = text(object, "/metadata/generateName");
        wildcard_matches(pattern, name)
            || (!generate_name.is_empty()
                && pattern.ends_with('*')
                && !pattern.starts_with('*')
                && generate_name.starts_with(&pattern[..pattern.len() - 1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_prefixes_suffixes_and_infixes() {
        assert!(wildcard_matches("kube-*", "kube-system"));
        assert!(wildcard_matches("*-system", "kube-system"));
        assert!(wildcard_matches("*be-sy*", "kube-system"));
        assert!(!wildcard_matches("kube-*", "default"));
        assert!(wildcard_matches("default", "default"));
    }

    #[test]
    fn cluster_scoped_objects_ignore_namespace_lists() -> Result<(), String> {
        let constraint =
            json!({"spec": {"match": {"namespaces": ["shop"], "excludedNamespaces": ["kube-*"]}}});
        let matcher = ConstraintMatch::from_constraint(&constraint)?;
        let class = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"}});
        let target = MatchTarget {
            object: &class,
            namespace: None,
            namespace_object: None,
        };
        assert!(matcher.matches(&target)?);
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "kube-system"}});
        let target = MatchTarget {
            object: &pod,
            namespace: None,
            namespace_object: None,
        };
        assert!(!matcher.matches(&target)?);
        Ok(())
    }

    #[test]
    fn namespace_selector_needs_the_namespace() -> Result<(), String> {
        let constraint =
            json!({"spec": {"match": {"namespaceSelector": {"matchLabels": {"env": "prod"}}}}});
        let matcher = ConstraintMatch::from_constraint(&constraint)?;
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "shop"}});
        let unknown = MatchTarget {
            object: &pod,
            namespace: None,
            namespace_object: None,
        };
        assert!(matcher.matches(&unknown).is_err());
        let shop = json!({"metadata": {"name": "shop", "labels": {"env": "prod"}}});
        let known = MatchTarget {
            object: &pod,
            namespace: None,
            namespace_object: Some(&shop),
        };
        assert!(matcher.matches(&known)?);
        Ok(())
    }
}
