//! `input.review`: the AdmissionRequest Gatekeeper hands to a template, as JSON. Built from a
//! plain object (what `gator` and the audit do: `kind`, `object`, `name`, `namespace`, an empty
//! `operation`), from a webhook-style request (`check`: `CREATE`, or `UPDATE` with `oldObject` when
//! the object already exists), or taken from an `admission.k8s.io` AdmissionReview's `request`
//! (a `DELETE` reviews its `oldObject` as `object`, as Gatekeeper does).

use serde_json::{Map, Value, json};

/// The review of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// The AdmissionRequest, as Rego sees it under `input.review`.
    pub request: Value,
}

/// `{group, version}` of an `apiVersion`.
pub fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group.to_string(), version.to_string()),
        None => (String::new(), api_version.to_string()),
    }
}

fn kind_of(object: &Value) -> Value {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (group, version) = split_api_version(api_version);
    json!({
        "group": group,
        "version": version,
        "kind": object.get("kind").and_then(Value::as_str).unwrap_or_default(),
    })
}

/// The fields every AdmissionRequest has when Go marshals it (zero values included).
fn base_request() -> Map<String, Value> {
    let mut request = Map::new();
    request.insert("uid".to_string(), json!(""));
    request.insert(
        "kind".to_string(),
        json!({"group": "", "version": "", "kind": ""}),
    );
    request.insert(
        "resource".to_string(),
        json!({"group": "", "version": "", "resource": ""}),
    );
    request.insert("operation".to_string(), json!(""));
    request.insert("userInfo".to_string(), json!({}));
    request.insert("object".to_string(), Value::Null);
    request.insert("oldObject".to_string(), Value::Null);
    request
}

impl Review {
    /// The review of a plain object, as `gator` builds it: no operation, no user.
    pub fn of_object(object: &Value) -> Review {
        let mut request = base_request();
        request.insert("kind".to_string(), kind_of(object));
        request.insert("object".to_string(), object.clone());
        if let Some(name) = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
        {
            request.insert("name".to_string(), json!(name));
        }
        if let Some(namespace) = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|namespace| !namespace.is_empty())
        {
            request.insert("namespace".to_string(), json!(namespace));
        }
        Review {
            request: Value::Object(request),
        }
    }

    /// The review the webhook would get when the object is applied: `CREATE`, or `UPDATE` of
    /// `existing`.
    pub fn of_admission(
        object: &Value,
        namespace: Option<&str>,
        existing: Option<&Value>,
    ) -> Review {
        let mut review = Review::of_object(object);
        if let Value::Object(request) = &mut review.request {
            let operation = if existing.is_some() {
                "UPDATE"
            } else {
                "CREATE"
            };
            request.insert("operation".to_string(), json!(operation));
            if let Some(existing) = existing {
                request.insert("oldObject".to_string(), existing.clone());
            }
            if let Some(namespace) = namespace {
                request.insert("namespace".to_string(), json!(namespace));
            }
        }
        review
    }

    /// The review carried by an AdmissionReview document; `Err` says what is wrong with it.
    pub fn of_admission_review(document: &Value) -> Result<Review, String> {
        let Some(Value::Object(given)) = document.get("request") else {
            return Err("the AdmissionReview has no `request`".to_string());
        };
        let mut request = base_request();
        for (key, value) in given {
            request.insert(key.clone(), value.clone());
        }
        let object = request.get("object").cloned().unwrap_or(Value::Null);
        let old_object = request.get("oldObject").cloned().unwrap_or(Value::Null);
        if object.is_null() && old_object.is_null() {
            return Err(
                "the AdmissionRequest has neither `object` nor `oldObject` to review".to_string(),
            );
        }
        for (field, value) in [("object", &object), ("oldObject", &old_object)] {
            if !value.is_null() && !value.is_object() {
                return Err(format!("`request.{field}` must be an object"));
            }
        }
        if request.get("operation").and_then(Value::as_str) == Some("DELETE") && object.is_null() {
            request.insert("object".to_string(), old_object);
        }
        Ok(Review {
            request: Value::Object(request),
        })
    }

    /// Whether a document is an `admission.k8s.io` AdmissionReview.
    pub fn is_admission_review(document: &Value) -> bool {
        document.get("kind").and_then(Value::as_str) == Some("AdmissionReview")
            && document
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|api_version| api_version.starts_with("admission.k8s.io/"))
    }

    /// The object matching looks at: `object`, else `oldObject`.
    pub fn matched_object(&self) -> &Value {
        match self.request.get("object") {
            Some(object) if object.is_object() => object,
            _ => self.request.get("oldObject").unwrap_or(&Value::Null),
        }
    }

    /// `input` for a template: `{review, parameters}` (`{}` when the constraint sets none).
    pub fn input(&self, parameters: Option<&Value>) -> Value {
        let parameters = parameters
            .filter(|parameters| !parameters.is_null())
            .cloned()
            .unwrap_or_else(|| json!({}));
        json!({"review": self.request, "parameters": parameters})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_objects_get_gators_review() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}});
        let review = Review::of_object(&object);
        assert_eq!(
            review.request["kind"],
            json!({"group": "apps", "version": "v1", "kind": "Deployment"})
        );
        assert_eq!(review.request["operation"], "");
        assert_eq!(review.request["namespace"], "shop");
        assert_eq!(review.request["oldObject"], Value::Null);
        let input = review.input(None);
        assert_eq!(input["parameters"], json!({}));
    }

    #[test]
    fn admission_reviews_keep_their_request_and_delete_reviews_the_old_object() {
        let document = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"operation": "DELETE", "oldObject": {"kind": "Pod", "metadata": {"name": "a"}}}});
        assert!(Review::is_admission_review(&document));
        let review = Review::of_admission_review(&document);
        let request = review.map(|review| review.request).unwrap_or_default();
        assert_eq!(request["object"]["metadata"]["name"], "a");
        assert_eq!(request["kind"]["kind"], "");
        let empty = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE"}});
        assert!(Review::of_admission_review(&empty).is_err());
    }
}
