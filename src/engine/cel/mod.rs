//! The CEL layer every CEL user shares (ValidatingAdmissionPolicy, Kyverno `validate.cel` and
//! ValidatingPolicy): compiling expressions once (with a cache), binding the admission
//! activation (`object`, `oldObject`, `request`, `params`, `namespaceObject`) and `variables`
//! on a context that carries the Kubernetes libraries of kube-cel, converting JSON to CEL
//! values (integers stay `int`), and typed errors so callers report `unknown` with a reason
//! instead of guessing.

pub mod admission;
pub mod lookups;
mod optional;
mod select;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;

use kube_cel::KubeCelExt;
pub use kube_cel::cel;
use kube_cel::cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue};
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::parser::{Expression, Parser};
use kube_cel::cel::{ExecutionError, Value};
use serde_json::Value as Json;

/// Why an expression could not be decided. Callers branch: `Unsupported` is reported
/// `unknown`; the others follow the policy's failure policy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CelError {
    #[error("compilation failed for `{expression}`: {message}")]
    Compile { expression: String, message: String },
    #[error("{feature}")]
    Unsupported { feature: String },
    #[error("{message}")]
    Evaluation { message: String },
    #[error("expression `{expression}` must evaluate to bool, got {got}")]
    NotBool { expression: String, got: String },
}

impl CelError {
    /// Whether potoo cannot evaluate the expression at all (as opposed to the expression
    /// failing the way it would in the apiserver).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, CelError::Unsupported { .. })
    }
}

/// A compiled expression: its source, its rewritten AST, and the functions it calls by their
/// qualified names, plus `authorizer` when it is read (for precise `unknown` reasons).
#[derive(Debug)]
pub struct Program {
    pub source: String,
    expression: Expression,
    calls: Vec<String>,
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Result<Rc<Program>, CelError>>> =
        RefCell::new(HashMap::new());
}

/// Compiles an expression (cached per thread: the same expression is met on every object).
pub fn compile(source: &str) -> Result<Rc<Program>, CelError> {
    if let Some(cached) = CACHE.with(|cache| cache.borrow().get(source).cloned()) {
        return cached;
    }
    let compiled = compile_uncached(source).map(Rc::new);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 4096 {
            cache.clear();
        }
        cache.insert(source.to_string(), compiled.clone());
    });
    compiled
}

fn compile_uncached(source: &str) -> Result<Program, CelError> {
    let parsed = catch_unwind(|| Parser::new().enable_optional_syntax(true).parse(source));
    let mut expression = match parsed {
        Ok(Ok(expression)) => expression,
        Ok(Err(errors)) => {
            return Err(CelError::Compile {
                expression: source.to_string(),
                message: errors.to_string().trim().to_string(),
            });
        }
        Err(_) => {
            return Err(CelError::Compile {
                expression: source.to_string(),
                message: "the parser failed".to_string(),
            });
        }
    };
    let mut calls = Vec::new();
    rewrite(&mut expression, &mut calls)?;
    Ok(Program {
        source: source.to_string(),
        expression,
        calls,
    })
}

/// Walks the AST: optional selection and indexing (and selection or indexing chained after
/// them) become potoo's own functions (cel 0.13's are incomplete), so do plain selection and
/// `has()` (cel 0.13 yields `false` on a value that is not a map, where the apiserver fails),
/// constructs the interpreter cannot run are refused, and called functions are recorded.
/// Returns whether the node yields an optional value.
fn rewrite(expression: &mut Expression, calls: &mut Vec<String>) -> Result<bool, CelError> {
    let mut selection: Option<(&'static str, Expression, String)> = None;
    let yields_optional = match &mut expression.expr {
        Expr::Call(call) => {
            if let Some(target) = call.target.as_deref_mut() {
                rewrite(target, calls)?;
            }
            let mut optional_arguments = Vec::with_capacity(call.args.len());
            for argument in &mut call.args {
                optional_arguments.push(rewrite(argument, calls)?);
            }
            let qualified = match call.target.as_deref() {
                Some(Expression {
                    expr: Expr::Ident(prefix),
                    ..
                }) => format!("{prefix}.{}", call.func_name),
                _ => call.func_name.clone(),
            };
            if let Some((_, function)) = lookups::FUNCTIONS
                .iter()
                .find(|(name, _)| *name == qualified)
            {
                // `resource.Get(…)` → `__potoo_resource_get(__potoo_lookups, …)`
                let id = call.target.take().map_or(expression.id, |target| target.id);
                call.func_name = function.to_string();
                call.args.insert(
                    0,
                    Expression {
                        id,
                        expr: Expr::Ident(lookups::LOOKUPS.to_string()),
                    },
                );
            }
            calls.push(qualified);
            match call.func_name.as_str() {
                "_?._" => {
                    call.func_name = optional::SELECT.to_string();
                    true
                }
                "_[?_]" => {
                    call.func_name = optional::INDEX.to_string();
                    true
                }
                "_[_]" if optional_arguments.first() == Some(&true) => {
                    call.func_name = optional::INDEX.to_string();
                    true
                }
                _ => false,
            }
        }
        Expr::Comprehension(comprehension) => {
            if comprehension.iter_var2.is_some() {
                return Err(CelError::Unsupported {
                    feature: "CEL two-variable comprehensions are not supported".to_string(),
                });
            }
            rewrite(&mut comprehension.iter_range, calls)?;
            rewrite(&mut comprehension.accu_init, calls)?;
            rewrite(&mut comprehension.loop_cond, calls)?;
            rewrite(&mut comprehension.loop_step, calls)?;
            rewrite(&mut comprehension.result, calls)?;
            false
        }
        Expr::List(list) => {
            if !list.optional_indices.is_empty() {
                return Err(optional_unsupported());
            }
            for element in &mut list.elements {
                rewrite(element, calls)?;
            }
            false
        }
        Expr::Map(map) => {
            for entry in &mut map.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(entry) => {
                        if entry.optional {
                            return Err(optional_unsupported());
                        }
                        rewrite(&mut entry.key, calls)?;
                        rewrite(&mut entry.value, calls)?;
                    }
                    EntryExpr::StructField(_) => return Err(struct_unsupported()),
                }
            }
            false
        }
        Expr::Select(select) => {
            let optional_operand = rewrite(&mut select.operand, calls)?;
            if optional_operand && select.test {
                return Err(CelError::Unsupported {
                    feature: "CEL optional syntax not supported (`has()` on an optional value)"
                        .to_string(),
                });
            }
            let function = if optional_operand {
                optional::SELECT
            } else if select.test {
                select::HAS
            } else {
                select::SELECT
            };
            selection = Some((
                function,
                std::mem::take(select.operand.as_mut()),
                select.field.clone(),
            ));
            optional_operand
        }
        Expr::Struct(_) => return Err(struct_unsupported()),
        Expr::Unspecified => {
            return Err(CelError::Compile {
                expression: String::new(),
                message: "unspecified expression".to_string(),
            });
        }
        Expr::Ident(name) => {
            if name == "authorizer" {
                calls.push(name.clone());
            }
            false
        }
        Expr::Literal(_) => false,
    };
    if let Some((function, operand, field)) = selection {
        let field = Expression {
            id: expression.id,
            expr: Expr::Literal(LiteralValue::String(field.as_str().into())),
        };
        expression.expr = Expr::Call(CallExpr {
            func_name: function.to_string(),
            target: None,
            args: vec![operand, field],
        });
    }
    Ok(yields_optional)
}

fn optional_unsupported() -> CelError {
    CelError::Unsupported {
        feature: "CEL optional syntax not supported (optional list and map entries)".to_string(),
    }
}

fn struct_unsupported() -> CelError {
    CelError::Unsupported {
        feature: "CEL message construction (`Type{field: …}`) is not supported".to_string(),
    }
}

/// JSON to CEL: integers become `int` (never `uint`, which would not equal an `int` literal),
/// objects become maps with string keys.
pub fn to_cel(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(boolean) => Value::Bool(*boolean),
        Json::Number(number) => {
            if let Some(integer) = number.as_i64() {
                Value::Int(integer)
            } else if let Some(unsigned) = number.as_u64() {
                Value::UInt(unsigned)
            } else {
                Value::Float(number.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(text) => Value::String(Arc::new(text.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(fields) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .map(|(key, value)| (Key::String(Arc::new(key.clone())), to_cel(value)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// CEL to JSON, for values shown to the user (messageExpression results, variables).
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(boolean) => Json::Bool(*boolean),
        Value::Int(integer) => Json::from(*integer),
        Value::UInt(unsigned) => Json::from(*unsigned),
        Value::Float(float) => serde_json::Number::from_f64(*float)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::String(text) => Json::String(text.to_string()),
        Value::Bytes(bytes) => Json::String(String::from_utf8_lossy(bytes).to_string()),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => Json::Object(
            map.map
                .iter()
                .map(|(key, value)| {
                    let key = match key {
                        Key::String(text) => text.to_string(),
                        Key::Int(integer) => integer.to_string(),
                        Key::Uint(unsigned) => unsigned.to_string(),
                        Key::Bool(boolean) => boolean.to_string(),
                    };
                    (key, to_json(value))
                })
                .collect(),
        ),
        Value::Duration(duration) => Json::String(format!("{duration}")),
        Value::Timestamp(timestamp) => Json::String(timestamp.to_rfc3339()),
        other => Json::String(format!("{other:?}")),
    }
}

/// The admission request as CEL sees it (`request`).
#[derive(Debug, Clone, Default)]
pub struct AdmissionRequest {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub resource: String,
    pub sub_resource: String,
    pub name: String,
    pub namespace: String,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    pub username: String,
    pub groups: Vec<String>,
}

impl AdmissionRequest {
    pub fn to_json(&self) -> Json {
        let kind = serde_json::json!({
            "group": self.group, "version": self.version, "kind": self.kind,
        });
        let resource = serde_json::json!({
            "group": self.group, "version": self.version, "resource": self.resource,
        });
        let operation_kind = match self.operation.as_str() {
            "UPDATE" => "UpdateOptions",
            "DELETE" => "DeleteOptions",
            _ => "CreateOptions",
        };
        serde_json::json!({
            "uid": "",
            "kind": kind,
            "resource": resource,
            "subResource": self.sub_resource,
            "requestKind": kind,
            "requestResource": resource,
            "requestSubResource": self.sub_resource,
            "name": self.name,
            "namespace": self.namespace,
            "operation": self.operation,
            "userInfo": {"username": self.username, "groups": self.groups},
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": operation_kind},
        })
    }
}

/// What an expression sees: the activation bound on a context with the Kubernetes libraries,
/// and the policy's `variables` (evaluated in order; a variable that failed is reported only
/// by an expression that reads it).
pub struct Environment {
    root: cel::Context<'static>,
    variables: HashMap<Key, Value>,
    /// `variables` as the map bound in every evaluation (built when a variable is bound, not
    /// on each evaluation).
    bound: Value,
    failed: BTreeMap<String, CelError>,
}

impl Environment {
    /// A context with `bindings` (`object`, `oldObject`, `request`, `params`, `namespaceObject`
    /// …) as top-level names.
    pub fn new(bindings: &[(&str, Value)]) -> Environment {
        let mut root = cel::Context::default();
        root.register_all();
        optional::register(&mut root);
        select::register(&mut root);
        lookups::register(&mut root);
        for (name, value) in bindings {
            root.add_variable_from_value(*name, value.clone());
        }
        Environment {
            root,
            variables: HashMap::new(),
            bound: Value::Map(Map {
                map: Arc::new(HashMap::new()),
            }),
            failed: BTreeMap::new(),
        }
    }

    /// Answers `resource.Get`/`resource.List`/`image.GetMetadata` from `data` (built by
    /// [`lookups::lookups`]); without it those calls are unknown.
    pub fn bind_lookups(&mut self, data: Value) {
        self.root.add_variable_from_value(lookups::LOOKUPS, data);
    }

    /// Binds `variables.<name>` for each `(name, expression)`, in order; later variables see
    /// earlier ones.
    pub fn bind_variables<'a>(&mut self, variables: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (name, expression) in variables {
            match self.evaluate(expression) {
                Ok(value) => {
                    self.variables
                        .insert(Key::String(Arc::new(name.to_string())), value);
                    self.bound = Value::Map(Map {
                        map: Arc::new(self.variables.clone()),
                    });
                }
                Err(error) => {
                    self.failed.insert(name.to_string(), error);
                }
            }
        }
    }

    /// Evaluates an expression to a value.
    pub fn evaluate(&self, source: &str) -> Result<Value, CelError> {
        let program = compile(source)?;
        self.run(&program)
    }

    /// Evaluates an expression that must be a bool (validations, match conditions).
    pub fn evaluate_bool(&self, source: &str) -> Result<bool, CelError> {
        match self.evaluate(source)? {
            Value::Bool(boolean) => Ok(boolean),
            other => Err(CelError::NotBool {
                expression: source.to_string(),
                got: type_name(&other).to_string(),
            }),
        }
    }

    /// Evaluates an expression that must be a string (`messageExpression`).
    pub fn evaluate_string(&self, source: &str) -> Result<String, CelError> {
        match self.evaluate(source)? {
            Value::String(text) => Ok(text.to_string()),
            other => Err(CelError::Evaluation {
                message: format!(
                    "messageExpression `{source}` must evaluate to a string, got {}",
                    type_name(&other)
                ),
            }),
        }
    }

    fn run(&self, program: &Program) -> Result<Value, CelError> {
        let mut scope = self.root.new_inner_scope();
        scope.add_variable_from_value("variables", self.bound.clone());
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            Value::resolve(&program.expression, &scope)
        }));
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.explain(program, error)),
            Err(_) => Err(CelError::Unsupported {
                feature: format!(
                    "the CEL interpreter cannot evaluate `{}`",
                    program.source.trim()
                ),
            }),
        }
    }

    fn explain(&self, program: &Program, error: ExecutionError) -> CelError {
        match error {
            ExecutionError::NoSuchKey(key) if self.failed.contains_key(key.as_str()) => self
                .failed
                .get(key.as_str())
                .cloned()
                .unwrap_or(CelError::Evaluation {
                    message: format!("no such key: {key}"),
                }),
            ExecutionError::UndeclaredReference(name) if name.as_str() == lookups::LOOKUPS => {
                let function = program
                    .calls
                    .iter()
                    .find(|call| lookups::FUNCTIONS.iter().any(|(name, _)| name == call))
                    .map_or("resource.Get", String::as_str);
                CelError::Unsupported {
                    feature: format!("the CEL function `{function}` is not available client-side"),
                }
            }
            ExecutionError::UndeclaredReference(name) => {
                if name.as_str() == "authorizer"
                    || program.calls.iter().any(|call| call == "authorizer")
                {
                    return CelError::Unsupported {
                        feature: "`authorizer` checks are not available client-side".to_string(),
                    };
                }
                let qualified = program
                    .calls
                    .iter()
                    .find(|call| {
                        call.as_str() == name.as_str()
                            || call.ends_with(&format!(".{}", name.as_str()))
                    })
                    .cloned();
                match qualified {
                    Some(function) => CelError::Unsupported {
                        feature: format!(
                            "the CEL function `{function}` is not available client-side"
                        ),
                    },
                    None => CelError::Evaluation {
                        message: format!("undeclared reference to `{name}`"),
                    },
                }
            }
            ExecutionError::FunctionError { function, message }
                if message.starts_with(lookups::UNSUPPORTED_FORM) =>
            {
                CelError::Unsupported {
                    feature: format!(
                        "this form of `{function}` is not evaluated by potoo: {}",
                        &message[lookups::UNSUPPORTED_FORM.len()..]
                    ),
                }
            }
            ExecutionError::NoSuchKey(key) => CelError::Evaluation {
                message: format!("no such key: {key}"),
            },
            other => CelError::Evaluation {
                message: other.to_string(),
            },
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "list",
        Value::Map(_) => "map",
        Value::Function(..) => "function",
        Value::Int(_) => "int",
        Value::UInt(_) => "uint",
        Value::Float(_) => "double",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Bool(_) => "bool",
        Value::Duration(_) => "duration",
        Value::Timestamp(_) => "timestamp",
        Value::Opaque(_) => "opaque",
        Value::Null => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn environment(object: Json) -> Environment {
        Environment::new(&[("object", to_cel(&object))])
    }

    #[test]
    fn json_integers_equal_int_literals() {
        let environment = environment(json!({"spec": {"replicas": 3}}));
        assert_eq!(
            environment.evaluate_bool("object.spec.replicas == 3"),
            Ok(true)
        );
        assert_eq!(
            environment.evaluate_bool("object.spec.replicas < 5"),
            Ok(true)
        );
    }

    #[test]
    fn optional_selection_and_or_value() {
        let environment = environment(json!({"spec": {"containers": [{"name": "a"}]}}));
        assert_eq!(
            environment.evaluate_bool("object.spec.?initContainers.orValue([]).size() == 0"),
            Ok(true)
        );
        assert_eq!(
            environment.evaluate_bool("object.?spec.?containers.orValue([]).size() == 1"),
            Ok(true)
        );
        assert_eq!(
            environment.evaluate_bool("object.?metadata.?labels.?team.hasValue()"),
            Ok(false)
        );
        assert_eq!(
            environment.evaluate_bool("object.spec.containers[?0].?name.orValue('') == 'a'"),
            Ok(true)
        );
    }

    #[test]
    fn variables_see_earlier_variables_and_fail_lazily() {
        let mut environment = environment(json!({"spec": {"replicas": 3}}));
        environment.bind_variables([
            ("replicas", "object.spec.replicas"),
            ("double", "variables.replicas * 2"),
            ("broken", "object.spec.missing"),
        ]);
        assert_eq!(environment.evaluate_bool("variables.double == 6"), Ok(true));
        assert_eq!(
            environment.evaluate_bool("true || variables.broken"),
            Ok(true)
        );
        assert!(matches!(
            environment.evaluate_bool("variables.broken == 1"),
            Err(CelError::Evaluation { .. })
        ));
    }

    #[test]
    fn kyverno_lookups_are_answered_from_given_data_only() {
        let objects = [
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "registries", "namespace": "platform"},
                   "data": {"allowed": "ghcr.io"}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                   "metadata": {"name": "web", "namespace": "shop"}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                   "metadata": {"name": "api", "namespace": "shop"}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                   "metadata": {"name": "db", "namespace": "data"}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                   "metadata": {"name": "nginx"}}),
        ];
        let images = [(
            "ghcr.io/app:1".to_string(),
            json!({"image": "ghcr.io/app:1", "manifest": {"annotations": {"base": "distroless"}}}),
        )];
        let mut environment = environment(json!({}));
        let without = environment
            .evaluate("resource.Get('v1', 'configmaps', 'platform', 'registries')")
            .unwrap_err();
        assert_eq!(
            without,
            CelError::Unsupported {
                feature: "the CEL function `resource.Get` is not available client-side".to_string()
            }
        );
        environment.bind_lookups(lookups::lookups(&objects, &images).expect("distinct entries"));
        let cases = [
            (
                "resource.Get('v1', 'configmaps', 'platform', 'registries').data.allowed",
                json!("ghcr.io"),
            ),
            (
                "resource.List('autoscaling/v2', 'horizontalpodautoscalers', 'shop').items.map(h, h.metadata.name)",
                json!(["api", "web"]),
            ),
            (
                "resource.List('autoscaling/v2', 'horizontalpodautoscalers', '').items.size()",
                json!(3),
            ),
            (
                "resource.List('autoscaling/v1', 'horizontalpodautoscalers', 'shop').items",
                json!([]),
            ),
            (
                "resource.Get('networking.k8s.io/v1', 'ingressclasses', '', 'nginx').metadata.name",
                json!("nginx"),
            ),
            (
                "image.GetMetadata('ghcr.io/app:1').manifest.annotations.base",
                json!("distroless"),
            ),
        ];
        for (expression, expected) in cases {
            let value = environment
                .evaluate(expression)
                .unwrap_or_else(|error| panic!("{expression}: {error}"));
            assert_eq!(to_json(&value), expected, "{expression}");
        }
        for other_form in [
            "resource.List('v1', 'pods', 'shop', {'app': 'web'})",
            "resource.Get('v1', 'configmaps', 'platform', 1)",
        ] {
            let error = environment.evaluate(other_form).unwrap_err();
            assert!(error.is_unsupported(), "{other_form}: {error:?}");
        }
        assert_eq!(
            environment
                .evaluate("resource.List('v1', 'pods', 'shop', {'app': 'web'})")
                .unwrap_err()
                .to_string(),
            "this form of `resource.List` is not evaluated by potoo: 4 arguments (potoo reads the 3-argument form)"
        );
        for missing in [
            "resource.Get('v1', 'configmaps', 'platform', 'absent')",
            "image.GetMetadata('docker.io/other:2')",
        ] {
            let error = environment.evaluate(missing).unwrap_err();
            assert!(
                matches!(error, CelError::Evaluation { .. }),
                "{missing}: {error:?}"
            );
        }
    }

    #[test]
    fn unsupported_features_are_named() {
        let environment = environment(json!({}));
        let error = environment
            .evaluate_bool("authorizer.group('').resource('pods').check('get').allowed()")
            .unwrap_err();
        assert!(error.is_unsupported(), "{error}");
        let error = environment
            .evaluate_bool("image.GetMetadata('nginx') != null")
            .unwrap_err();
        assert!(error.to_string().contains("image.GetMetadata"), "{error}");
        assert!(compile("[?object.a]").unwrap_err().is_unsupported());
    }

    #[test]
    fn not_a_bool_and_compile_errors() {
        let environment = environment(json!({}));
        assert!(matches!(
            environment.evaluate_bool("'text'"),
            Err(CelError::NotBool { .. })
        ));
        assert!(matches!(compile("object.("), Err(CelError::Compile { .. })));
    }

    #[test]
    fn selecting_a_field_of_a_non_map_fails_instead_of_passing() {
        let deleted = Environment::new(&[("object", Value::Null)]);
        for expression in [
            "object.metadata.name != 'forbidden'",
            "!has(object.metadata)",
            "object.metadata == false",
        ] {
            assert!(
                matches!(
                    deleted.evaluate_bool(expression),
                    Err(CelError::Evaluation { .. })
                ),
                "{expression}"
            );
        }
        let environment = environment(json!({"metadata": {"name": "a"}}));
        assert_eq!(
            environment.evaluate_bool("has(object.metadata.name) && !has(object.spec)"),
            Ok(true)
        );
        assert!(matches!(
            environment.evaluate_bool("object.metadata.name.first == 'a'"),
            Err(CelError::Evaluation { .. })
        ));
        assert!(matches!(
            environment.evaluate_bool("object.spec.replicas == 1"),
            Err(CelError::Evaluation { .. })
        ));
    }

    #[test]
    fn kubernetes_libraries_are_registered() {
        let environment = environment(json!({"spec": {"cpu": "500m"}}));
        assert_eq!(
            environment.evaluate_bool("quantity(object.spec.cpu).isLessThan(quantity('1'))"),
            Ok(true)
        );
    }
}
