//! ResourceQuota (`v1`): hard and used per resource, percent used, scopes; severity by usage.

use kube_quantity::ParsedQuantity;
use serde_json::Value;

use super::registry::{Adapter, AdapterOutput};
use crate::model::constraint::{QuotaResource, ResourceQuotaDetails};
use crate::model::{Constraint, ConstraintType, Details, Effect, Scope, Severity, SourceReference};
use crate::source::{Object, Snapshot};

pub struct ResourceQuotaAdapter;

/// Usage at or above this percentage makes a quota critical.
pub const CRITICAL_PERCENT: f64 = 90.0;
/// Usage at or above this percentage makes a quota a warning.
pub const WARNING_PERCENT: f64 = 75.0;

impl Adapter for ResourceQuotaAdapter {
    fn name(&self) -> &'static str {
        "resourcequota"
    }

    fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &[("", "ResourceQuota")]
    }

    fn adapt(&self, object: &Object, _snapshot: &Snapshot, output: &mut AdapterOutput) {
        let hard = match object.spec().get("hard") {
            Some(Value::Object(hard)) => hard,
            _ => {
                output.diagnose(self, object, "spec.hard: missing; quota ignored");
                return;
            }
        };
        let used = object
            .value
            .pointer("/status/used")
            .and_then(Value::as_object);
        let mut resources = Vec::new();
        for (name, hard_value) in hard {
            let Some(hard_text) = quantity_text(hard_value) else {
                output.diagnose(self, object, format!("spec.hard.{name}: not a quantity"));
                continue;
            };
            let used_text = used.and_then(|used| used.get(name)).and_then(quantity_text);
            let percent_used = used_text
                .as_deref()
                .and_then(|used_text| percent(used_text, &hard_text));
            if used_text.is_some()
                && percent_used.is_none()
                && ParsedQuantity::try_from(hard_text.as_str()).is_err()
            {
                output.diagnose(
                    self,
                    object,
                    format!("spec.hard.{name}: `{hard_text}` is not a valid quantity"),
                );
            }
            resources.push(QuotaResource {
                name: name.clone(),
                hard: hard_text,
                used: used_text,
                percent_used,
            });
        }
        let highest = resources
            .iter()
            .filter_map(|resource| resource.percent_used.map(|percent| (percent, resource)))
            .max_by(|left, right| left.0.total_cmp(&right.0));
        let severity = match highest {
            Some((percent, _)) if percent >= CRITICAL_PERCENT => Severity::Critical,
            Some((percent, _)) if percent >= WARNING_PERCENT => Severity::Warning,
            _ => Severity::Info,
        };
        let summary = match highest {
            Some((percent, resource)) => format!(
                "quota: {} {}/{} used ({:.0}%), {} resources limited",
                resource.name,
                resource.used.as_deref().unwrap_or("0"),
                resource.hard,
                percent,
                resources.len()
            ),
            None => format!("quota on {} resources (no usage reported)", resources.len()),
        };
        let scopes: Vec<String> = object
            .spec()
            .get("scopes")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let summary = if scopes.is_empty() {
            summary
        } else {
            format!("{summary} (scopes: {})", scopes.join(","))
        };
        let source = SourceReference::from_object(object);
        let hint = highest
            .filter(|(percent, _)| *percent >= WARNING_PERCENT)
            .map(|(_, resource)| {
                format!(
                    "free up {} in `{}` or ask the namespace owner to raise the quota",
                    resource.name,
                    object.namespace.as_deref().unwrap_or_default()
                )
            });
        output.constraints.push(Constraint {
            id: Constraint::make_id(&source, None),
            rule: None,
            constraint_type: ConstraintType::ResourceLimit,
            effect: Effect::Limit,
            severity,
            scope: Scope {
                namespaces: object.namespace.clone().map(|namespace| vec![namespace]),
                ..Scope::default()
            },
            summary,
            details: Details::ResourceQuota(ResourceQuotaDetails {
                resources,
                scopes,
                scope_selector: object.spec().get("scopeSelector").cloned(),
            }),
            remediation_hint: hint,
            source,
        });
    }
}

fn quantity_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `used / hard × 100`; `None` when either does not parse or hard is zero.
pub fn percent(used: &str, hard: &str) -> Option<f64> {
    let used = ParsedQuantity::try_from(used).ok()?.to_bytes_f64()?;
    let hard = ParsedQuantity::try_from(hard).ok()?.to_bytes_f64()?;
    if hard == 0.0 {
        return if used > 0.0 { Some(100.0) } else { None };
    }
    Some(used / hard * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_across_units() {
        let cases = [
            ("1800m", "2", Some(90.0)),
            ("512Mi", "1Gi", Some(50.0)),
            ("3", "4", Some(75.0)),
            ("0", "0", None),
            ("x", "1", None),
        ];
        for (used, hard, expected) in cases {
            assert_eq!(percent(used, hard), expected, "{used}/{hard}");
        }
    }
}
