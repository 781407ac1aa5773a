//! LimitRange (`v1`): per type and resource, min, max, default, defaultRequest, maxLimitRequestRatio.

use std::collections::BTreeSet;

use serde_json::Value;

use super::registry::{Adapter, AdapterOutput};
use crate::model::constraint::{LimitRangeDetails, LimitRangeItem};
use crate::model::{Constraint, ConstraintType, Details, Effect, Scope, Severity, SourceReference};
use crate::source::{Object, Snapshot};

pub struct LimitRangeAdapter;

impl Adapter for LimitRangeAdapter {
    fn name(&self) -> &'static str {
        "limitrange"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[("", "LimitRange")]
    }

    fn adapt(&self, object: &Object, _snapshot: &Snapshot, output: &mut AdapterOutput) {
        let Some(limits) = object.spec().get("limits").and_then(Value::as_array) else {
            output.diagnose(self, object, "spec.limits: missing; limit range ignored");
            return;
        };
        let mut items = Vec::new();
        for (index, limit) in limits.iter().enumerate() {
            let Some(limit_type) = limit.get("type").and_then(Value::as_str) else {
                output.diagnose(
                    self,
                    object,
                    format!("spec.limits[{index}].type: missing; entry ignored"),
                );
                continue;
            };
            let field = |name: &str, resource: &str| -> Option<String> {
                match limit.get(name)?.get(resource)? {
                    Value::String(text) => Some(text.clone()),
                    Value::Number(number) => Some(number.to_string()),
                    _ => None,
                }
            };
            let mut resources = BTreeSet::new();
            for name in [
                "min",
                "max",
                "default",
                "defaultRequest",
                "maxLimitRequestRatio",
            ] {
                if let Some(Value::Object(entries)) = limit.get(name) {
                    resources.extend(entries.keys().cloned());
                }
            }
            for resource in resources {
                items.push(LimitRangeItem {
                    limit_type: limit_type.to_string(),
                    min: field("min", &resource),
                    max: field("max", &resource),
                    default: field("default", &resource),
                    default_request: field("defaultRequest", &resource),
                    max_limit_request_ratio: field("maxLimitRequestRatio", &resource),
                    resource,
                });
            }
        }
        let blocks = items.iter().any(|item| {
            item.min.is_some() || item.max.is_some() || item.max_limit_request_ratio.is_some()
        });
        let summary = if items.is_empty() {
            "limit range with no limits".to_string()
        } else {
            items
                .iter()
                .map(describe_item)
                .collect::<Vec<_>>()
                .join("; ")
        };
        let source = SourceReference::from_object(object);
        output.constraints.push(Constraint {
            id: Constraint::make_id(&source, None),
            rule: None,
            constraint_type: ConstraintType::ResourceLimit,
            effect: if blocks {
                Effect::Limit
            } else {
                Effect::Mutate
            },
            severity: if blocks {
                Severity::Warning
            } else {
                Severity::Info
            },
            scope: Scope {
                namespaces: object.namespace.clone().map(|namespace| vec![namespace]),
                ..Scope::default()
            },
            summary,
            details: Details::LimitRange(LimitRangeDetails { limits: items }),
            remediation_hint: blocks
                .then(|| "set requests and limits within the range on every container".to_string()),
            source,
        });
    }
}

/// "Container cpu: min 100m, max 2, default 500m".
fn describe_item(item: &LimitRangeItem) -> String {
    let parts: Vec<String> = [
        ("min", &item.min),
        ("max", &item.max),
        ("default", &item.default),
        ("defaultRequest", &item.default_request),
        ("maxLimitRequestRatio", &item.max_limit_request_ratio),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.as_ref().map(|value| format!("{label} {value}")))
    .collect();
    format!(
        "{} {}: {}",
        item.limit_type,
        item.resource,
        parts.join(", ")
    )
}
