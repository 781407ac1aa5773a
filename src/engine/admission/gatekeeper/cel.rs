//! Gatekeeper `K8sNativeValidation` code: a template's CEL `validations` (with `variables` and
//! `matchConditions`) evaluated with the shared CEL layer, bound the way Gatekeeper's CEL driver
//! binds them: `params` is the constraint (so `variables.params` is its `spec.parameters`) and
//! `variables.anyObject` is the object, or the old object of a DELETE.

use serde_json::{Value, json};

use crate::engine::cel::admission::{Decision, bind_variables, match_conditions, validate};
use crate::engine::cel::{Environment, to_cel};

use super::template::{EvaluationError, Violation};

/// The variables Gatekeeper's CEL driver defines before the template's own.
const DRIVER_VARIABLES: &[(&str, &str)] = &[
    (
        "params",
        "!has(params.spec) ? null : !has(params.spec.parameters) ? null : params.spec.parameters",
    ),
    (
        "anyObject",
        "has(request.operation) && request.operation == \"DELETE\" && object == null ? oldObject : object",
    ),
];

/// The `source` of a `K8sNativeValidation` code entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CelCode {
    source: Value,
}

impl CelCode {
    /// The first `K8sNativeValidation` entry of a target's `code`.
    pub fn of_target(target: &Value) -> Option<CelCode> {
        target
            .get("code")?
            .as_array()?
            .iter()
            .find(|code| code.get("engine").and_then(Value::as_str) == Some("K8sNativeValidation"))
            .map(|code| CelCode {
                source: code.get("source").cloned().unwrap_or(Value::Null),
            })
    }

    /// The violations of `input` (`{review, parameters}`): one per failed validation, with its
    /// message (`messageExpression`, `message`, else `failed expression: …`).
    pub fn violations(&self, input: &Value) -> Result<Vec<Violation>, EvaluationError> {
        let review = input.get("review").cloned().unwrap_or(Value::Null);
        let parameters = input.get("parameters").cloned().unwrap_or(Value::Null);
        let field = |name: &str| review.get(name).cloned().unwrap_or(Value::Null);
        let mut environment = Environment::new(&[
            ("object", to_cel(&field("object"))),
            ("oldObject", to_cel(&field("oldObject"))),
            ("request", to_cel(&review)),
            (
                "params",
                to_cel(&json!({"spec": {"parameters": parameters}})),
            ),
            ("namespaceObject", to_cel(&Value::Null)),
        ]);
        environment.bind_variables(DRIVER_VARIABLES.iter().copied());
        bind_variables(&mut environment, self.source.get("variables"), None);
        match match_conditions(&environment, self.source.get("matchConditions"), None) {
            Ok(true) => {}
            Ok(false) => return Ok(Vec::new()),
            Err(decision) => return Err(decision_error(decision)),
        }
        let mut violations = Vec::new();
        for decision in validate(&environment, self.source.get("validations"), None) {
            match decision {
                Decision::Admit => {}
                Decision::Deny { message, .. } => violations.push(Violation {
                    message,
                    details: None,
                }),
                other => return Err(decision_error(other)),
            }
        }
        Ok(violations)
    }
}

fn decision_error(decision: Decision) -> EvaluationError {
    match decision {
        Decision::Error { message } => EvaluationError::Cel(message),
        Decision::Unsupported { reason } => EvaluationError::Cel(format!("unsupported: {reason}")),
        Decision::Admit | Decision::Deny { .. } => {
            EvaluationError::Cel("a match condition did not decide".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(source: Value) -> CelCode {
        CelCode::of_target(&json!({"code": [{"engine": "K8sNativeValidation", "source": source}]}))
            .unwrap()
    }

    #[test]
    fn params_and_any_object_are_bound_like_gatekeeper() {
        let code = code(json!({
            "variables": [{"name": "missing", "expression": "variables.params.labels.filter(l, !(l in variables.anyObject.metadata.labels))"}],
            "validations": [{"expression": "size(variables.missing) == 0", "messageExpression": "'missing labels: ' + variables.missing.join(', ')"}],
        }));
        let input = |labels: Value| {
            json!({
                "review": {"operation": "CREATE", "object": {"metadata": {"name": "a", "labels": labels}}},
                "parameters": {"labels": ["team", "owner"]},
            })
        };
        assert_eq!(
            code.violations(&input(json!({"team": "x"}))).unwrap(),
            vec![Violation {
                message: "missing labels: owner".to_string(),
                details: None
            }]
        );
        assert_eq!(
            code.violations(&input(json!({"team": "x", "owner": "y"})))
                .unwrap(),
            Vec::new()
        );
    }

    #[test]
    fn a_delete_reviews_the_old_object_and_errors_are_not_passes() {
        let code = code(json!({
            "validations": [{"expression": "variables.anyObject.metadata.name != 'keep'", "message": "keep stays"}],
        }));
        let deleted = json!({"review": {"operation": "DELETE", "object": null, "oldObject": {"metadata": {"name": "keep"}}}, "parameters": {}});
        assert_eq!(code.violations(&deleted).unwrap()[0].message, "keep stays");
        let broken = super::CelCode::of_target(
            &json!({"code": [{"engine": "K8sNativeValidation", "source": {
            "validations": [{"expression": "object.spec.replicas > 'x'"}]}}]}),
        )
        .unwrap();
        let input = json!({"review": {"object": {"spec": {"replicas": 3}}}, "parameters": {}});
        assert!(broken.violations(&input).is_err());
    }
}
