//! RBAC authorization errors: `User "USER" cannot VERB resource "RESOURCE" in API group "GROUP" in
//! the namespace "NS"` (or `at the cluster scope`), from the apiserver's RBAC authorizer. These
//! are permissions, not policies: the fix is a Role/RoleBinding, not a policy exception.

use std::sync::LazyLock;

use regex::Regex;

use super::{Pattern, captures, group};
use crate::engine::explain::{Family, Parsed};

static CANNOT: Pattern = LazyLock::new(|| {
    Regex::new(r#"User "(?P<user>[^"]+)" cannot (?P<verb>\S+) (?:resource "(?P<resource>[^"]+)"(?: in API group "(?P<group>[^"]*)")?(?: in the namespace "(?P<namespace>[^"]+)"| at the cluster scope)?|path "(?P<path>[^"]+)")"#).ok()
});

pub fn parse(text: &str) -> Option<Parsed> {
    let found = captures(&CANNOT, text)?;
    let user = group(&found, "user").unwrap_or_default();
    let verb = group(&found, "verb").unwrap_or_default();
    let target = match (group(&found, "resource"), group(&found, "path")) {
        (Some(resource), _) => {
            let api_group = group(&found, "group").unwrap_or_default();
            format!(
                "`{resource}`{}",
                if api_group.is_empty() {
                    String::new()
                } else {
                    format!(" in API group `{api_group}`")
                }
            )
        }
        (None, Some(path)) => format!("path `{path}`"),
        (None, None) => "this".to_string(),
    };
    let scope = group(&found, "namespace")
        .map(|namespace| format!(" in namespace `{namespace}`"))
        .unwrap_or_else(|| " at the cluster scope".to_string());
    let mut parsed = Parsed::new(
        Family::Rbac,
        format!(
            "RBAC, not a policy: `{user}` has no Role or ClusterRole granting `{verb}` on {target}{scope}; ask a cluster admin for a RoleBinding"
        ),
    );
    parsed.identify("user", Some(user));
    parsed.identify("verb", Some(verb));
    parsed.identify("resource", group(&found, "resource"));
    parsed.identify("apiGroup", group(&found, "group"));
    parsed.identify("namespace", group(&found, "namespace"));
    parsed.identify("path", group(&found, "path"));
    Some(parsed)
}
