//! SNS subscription filter policies: parsing with Amazon's limits, and matching against a
//! message's attributes (`FilterPolicyScope=MessageAttributes`) or its JSON body
//! (`MessageBody`). Supported operators: exact strings, numbers, booleans and null, `prefix`,
//! `suffix`, `equals-ignore-case`, `anything-but` (a value, a list, or `{"prefix": ..}`),
//! `numeric` ranges, `exists`, and `$or`; body policies may nest keys.

use serde_json::{Map, Value};

use crate::message::MessageAttributes;

/// Most leaf keys a policy may name.
pub const MAX_KEYS: usize = 5;
/// Most value combinations a policy may expand to.
pub const MAX_COMBINATIONS: usize = 150;

/// What a policy is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    MessageAttributes,
    MessageBody,
}

impl Scope {
    /// Parses the `FilterPolicyScope` attribute value.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "MessageAttributes" => Some(Self::MessageAttributes),
            "MessageBody" => Some(Self::MessageBody),
            _ => None,
        }
    }
}

/// Why a policy was refused; the text follows "Invalid parameter: FilterPolicy: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPolicy(pub String);

fn invalid(message: impl Into<String>) -> InvalidPolicy {
    InvalidPolicy(message.into())
}

/// A parsed, validated filter policy.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPolicy {
    root: Node,
}

/// An object level: every key must match, and for each `$or` one alternative must.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    keys: Vec<(String, Rule)>,
    any_of: Vec<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    /// One of these conditions must hold for some value of the key.
    Conditions(Vec<Condition>),
    Nested(Node),
}

/// A scalar a message can carry.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Exact(Scalar),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Scalar>),
    AnythingButPrefix(String),
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl FilterPolicy {
    /// Parses `text` for `scope`.
    ///
    /// # Errors
    /// Invalid JSON, unknown operators, and policies over Amazon's limits.
    pub fn parse(text: &str, scope: Scope) -> Result<Self, InvalidPolicy> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| invalid(format!("failed to parse JSON. {e}")))?;
        let Value::Object(object) = value else {
            return Err(invalid("Filter policy must be a JSON object"));
        };
        if object.is_empty() {
            return Err(invalid("Filter policy can not be empty"));
        }
        let root = parse_node(&object, scope)?;
        let keys = leaf_paths(&root, "").len();
        if keys > MAX_KEYS {
            return Err(invalid(format!(
                "Filter policy can not have more than {MAX_KEYS} keys"
            )));
        }
        if combinations(&root) > MAX_COMBINATIONS {
            return Err(invalid(format!(
                "Filter policy is too complex: more than {MAX_COMBINATIONS} combinations"
            )));
        }
        Ok(Self { root })
    }

    /// Whether a message with these attributes passes (`MessageAttributes` scope).
    #[must_use]
    pub fn matches_attributes(&self, attributes: &MessageAttributes) -> bool {
        node_matches(&self.root, &|key| {
            let value = attributes.get(key)?;
            let base = value.data_type.split('.').next().unwrap_or("");
            let text = value.string_value.clone().unwrap_or_default();
            Some(match base {
                "Number" => text.trim().parse().map_or_else(
                    |_| vec![Scalar::Text(text.clone())],
                    |n| vec![Scalar::Number(n)],
                ),
                "String" if value.data_type == "String.Array" => {
                    match serde_json::from_str::<Value>(&text) {
                        Ok(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
                        _ => vec![Scalar::Text(text)],
                    }
                }
                "String" => vec![Scalar::Text(text)],
                // Binary attributes exist but never match a value.
                _ => Vec::new(),
            })
        })
    }

    /// Whether a message body passes (`MessageBody` scope); a body that is not a JSON object
    /// matches nothing.
    #[must_use]
    pub fn matches_body(&self, body: &str) -> bool {
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(object)) => body_matches(&self.root, &object),
            _ => false,
        }
    }
}

fn scalar(value: &Value) -> Option<Scalar> {
    match value {
        Value::String(s) => Some(Scalar::Text(s.clone())),
        Value::Number(n) => n.as_f64().map(Scalar::Number),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Null => Some(Scalar::Null),
        _ => None,
    }
}

fn parse_node(object: &Map<String, Value>, scope: Scope) -> Result<Node, InvalidPolicy> {
    let mut node = Node {
        keys: Vec::new(),
        any_of: Vec::new(),
    };
    for (key, value) in object {
        if key == "$or" {
            let Value::Array(alternatives) = value else {
                return Err(invalid("$or must be an array of objects"));
            };
            if alternatives.len() < 2 {
                return Err(invalid("$or must have at least two alternatives"));
            }
            let parsed = alternatives
                .iter()
                .map(|alternative| match alternative {
                    Value::Object(o) if !o.is_empty() => parse_node(o, scope),
                    _ => Err(invalid("$or alternatives must be non-empty objects")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            node.any_of.push(parsed);
            continue;
        }
        let rule = match value {
            Value::Array(items) => Rule::Conditions(parse_conditions(key, items)?),
            Value::Object(nested) if scope == Scope::MessageBody => {
                if nested.is_empty() {
                    return Err(invalid(format!("\"{key}\" must not be an empty object")));
                }
                Rule::Nested(parse_node(nested, scope)?)
            }
            _ => {
                return Err(invalid(format!("\"{key}\" must be an object or an array")));
            }
        };
        node.keys.push((key.clone(), rule));
    }
    Ok(node)
}

fn parse_conditions(key: &str, items: &[Value]) -> Result<Vec<Condition>, InvalidPolicy> {
    if items.is_empty() {
        return Err(invalid(format!(
            "Empty arrays are not allowed (key \"{key}\")"
        )));
    }
    items
        .iter()
        .map(|item| parse_condition(key, item))
        .collect()
}

fn parse_condition(key: &str, item: &Value) -> Result<Condition, InvalidPolicy> {
    let Value::Object(operator) = item else {
        return scalar(item).map(Condition::Exact).ok_or_else(|| {
            invalid(format!(
                "Match value of \"{key}\" must be a string, number, boolean or null"
            ))
        });
    };
    if operator.len() != 1 {
        return Err(invalid(format!(
            "Operator objects of \"{key}\" must have exactly one key"
        )));
    }
    let Some((name, argument)) = operator.iter().next() else {
        return Err(invalid("empty operator"));
    };
    let text_argument = || match argument {
        Value::String(s) => Ok(s.clone()),
        _ => Err(invalid(format!("{name} match pattern must be a string"))),
    };
    match name.as_str() {
        "prefix" => Ok(Condition::Prefix(text_argument()?)),
        "suffix" => Ok(Condition::Suffix(text_argument()?)),
        "equals-ignore-case" => Ok(Condition::EqualsIgnoreCase(text_argument()?)),
        "exists" => match argument {
            Value::Bool(b) => Ok(Condition::Exists(*b)),
            _ => Err(invalid(
                "exists match pattern must be either true or false.",
            )),
        },
        "anything-but" => parse_anything_but(argument),
        "numeric" => parse_numeric(argument),
        other => Err(invalid(format!("Unrecognized match type {other}"))),
    }
}

fn parse_anything_but(argument: &Value) -> Result<Condition, InvalidPolicy> {
    match argument {
        Value::Array(values) if !values.is_empty() => values
            .iter()
            .map(|v| match v {
                Value::String(_) | Value::Number(_) => {
                    scalar(v).ok_or_else(|| invalid("bad value"))
                }
                _ => Err(invalid(
                    "Inside anything but list, start|null|boolean is not supported.",
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Condition::AnythingBut),
        Value::Object(inner) => match (inner.len(), inner.get("prefix")) {
            (1, Some(Value::String(prefix))) => Ok(Condition::AnythingButPrefix(prefix.clone())),
            _ => Err(invalid(
                "Unsupported anything-but pattern: only \"prefix\" is supported",
            )),
        },
        Value::String(_) | Value::Number(_) => Ok(Condition::AnythingBut(
            scalar(argument).into_iter().collect(),
        )),
        _ => Err(invalid(
            "Value of anything-but must be an array, a string, a number or {\"prefix\": ...}",
        )),
    }
}

fn parse_numeric(argument: &Value) -> Result<Condition, InvalidPolicy> {
    let Value::Array(parts) = argument else {
        return Err(invalid("Value of numeric must be an array."));
    };
    if parts.is_empty() || parts.len() % 2 != 0 || parts.len() > 4 {
        return Err(invalid(
            "Value of numeric must be one or two (operator, number) pairs",
        ));
    }
    let mut comparisons = Vec::new();
    for pair in parts.chunks(2) {
        let operator = match pair[0].as_str() {
            Some("=") => Comparison::Equal,
            Some("<") => Comparison::Less,
            Some("<=") => Comparison::LessOrEqual,
            Some(">") => Comparison::Greater,
            Some(">=") => Comparison::GreaterOrEqual,
            _ => {
                return Err(invalid(format!(
                    "Unrecognized numeric range operator: {}",
                    pair[0]
                )));
            }
        };
        let Some(number) = pair[1].as_f64() else {
            return Err(invalid("Value of numeric operator must be a number."));
        };
        comparisons.push((operator, number));
    }
    if comparisons.len() == 2 {
        let lower = matches!(
            comparisons[0].0,
            Comparison::Greater | Comparison::GreaterOrEqual
        );
        let upper = matches!(comparisons[1].0, Comparison::Less | Comparison::LessOrEqual);
        if !(lower && upper) || comparisons[0].1 >= comparisons[1].1 {
            return Err(invalid(
                "Bad numeric range: a range is a lower bound (> or >=) then a greater upper bound (< or <=)",
            ));
        }
    }
    Ok(Condition::Numeric(comparisons))
}

/// Distinct leaf paths, `$or` alternatives included.
fn leaf_paths(node: &Node, prefix: &str) -> std::collections::BTreeSet<String> {
    let mut paths = std::collections::BTreeSet::new();
    for (key, rule) in &node.keys {
        let path = format!("{prefix}{key}");
        match rule {
            Rule::Conditions(_) => {
                paths.insert(path);
            }
            Rule::Nested(inner) => paths.extend(leaf_paths(inner, &format!("{path}."))),
        }
    }
    for alternatives in &node.any_of {
        for alternative in alternatives {
            paths.extend(leaf_paths(alternative, prefix));
        }
    }
    paths
}

fn combinations(node: &Node) -> usize {
    let keys = node.keys.iter().fold(1usize, |total, (_, rule)| {
        total.saturating_mul(match rule {
            Rule::Conditions(conditions) => conditions.len(),
            Rule::Nested(inner) => combinations(inner),
        })
    });
    node.any_of.iter().fold(keys, |total, alternatives| {
        total.saturating_mul(alternatives.iter().map(combinations).sum())
    })
}

/// Matches a flat node, `lookup` giving a key's values (`None` when absent).
fn node_matches(node: &Node, lookup: &dyn Fn(&str) -> Option<Vec<Scalar>>) -> bool {
    node.keys.iter().all(|(key, rule)| match rule {
        Rule::Conditions(conditions) => conditions_match(conditions, lookup(key).as_deref()),
        Rule::Nested(_) => false,
    }) && node
        .any_of
        .iter()
        .all(|alternatives| alternatives.iter().any(|a| node_matches(a, lookup)))
}

fn body_matches(node: &Node, object: &Map<String, Value>) -> bool {
    node.keys
        .iter()
        .all(|(key, rule)| match (rule, object.get(key)) {
            (Rule::Nested(inner), Some(Value::Object(child))) => body_matches(inner, child),
            (Rule::Nested(inner), Some(Value::Array(items))) => items
                .iter()
                .any(|item| matches!(item, Value::Object(child) if body_matches(inner, child))),
            (Rule::Nested(_), _) => false,
            (Rule::Conditions(conditions), value) => {
                let values = value.map(|value| match value {
                    Value::Array(items) => items.iter().filter_map(scalar).collect(),
                    other => scalar(other).into_iter().collect::<Vec<_>>(),
                });
                conditions_match(conditions, values.as_deref())
            }
        })
        && node
            .any_of
            .iter()
            .all(|alternatives| alternatives.iter().any(|a| body_matches(a, object)))
}

fn conditions_match(conditions: &[Condition], values: Option<&[Scalar]>) -> bool {
    conditions
        .iter()
        .any(|condition| match (condition, values) {
            (Condition::Exists(wanted), values) => *wanted == values.is_some(),
            (_, None) => false,
            (condition, Some(values)) => {
                values.iter().any(|value| condition_holds(condition, value))
            }
        })
}

fn condition_holds(condition: &Condition, value: &Scalar) -> bool {
    match (condition, value) {
        (Condition::Exact(Scalar::Number(a)), Scalar::Number(b)) => (a - b).abs() < 1e-9,
        (Condition::Exact(expected), value) => expected == value,
        (Condition::Prefix(p), Scalar::Text(s)) => s.starts_with(p.as_str()),
        (Condition::Suffix(p), Scalar::Text(s)) => s.ends_with(p.as_str()),
        (Condition::EqualsIgnoreCase(p), Scalar::Text(s)) => s.to_lowercase() == p.to_lowercase(),
        (Condition::AnythingBut(excluded), value) => !excluded.iter().any(|e| match (e, value) {
            (Scalar::Number(a), Scalar::Number(b)) => (a - b).abs() < 1e-9,
            (e, value) => e == value,
        }),
        (Condition::AnythingButPrefix(p), Scalar::Text(s)) => !s.starts_with(p.as_str()),
        (Condition::Numeric(comparisons), Scalar::Number(n)) => {
            comparisons.iter().all(|(op, bound)| match op {
                Comparison::Equal => (n - bound).abs() < 1e-9,
                Comparison::Less => n < bound,
                Comparison::LessOrEqual => n <= bound,
                Comparison::Greater => n > bound,
                Comparison::GreaterOrEqual => n >= bound,
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
