//! Small helpers over `serde_json::Value` that turn a missing or mistyped field into a
//! [`ParseError`] naming the field and where it was expected. The SPACE4AI files are nested maps
//! keyed by user-chosen names, so hand-walking them gives better errors than derived structs.

use serde_json::{Map, Value};

use crate::error::ParseError;

pub(crate) type Obj = Map<String, Value>;

/// The first of `keys` present in `map`; several keys because the two tool generations spell
/// some fields differently.
pub(crate) fn field<'a>(map: &'a Obj, keys: &[&str], ctx: &str) -> Result<&'a Value, ParseError> {
    keys.iter()
        .find_map(|k| map.get(*k))
        .ok_or_else(|| ParseError::Missing {
            field: keys.first().copied().unwrap_or_default().to_owned(),
            context: ctx.to_owned(),
        })
}

fn wrong(keys: &[&str], ctx: &str, expected: &'static str) -> ParseError {
    ParseError::WrongType {
        field: keys.first().copied().unwrap_or_default().to_owned(),
        context: ctx.to_owned(),
        expected,
    }
}

pub(crate) fn as_obj<'a>(v: &'a Value, name: &str, ctx: &str) -> Result<&'a Obj, ParseError> {
    v.as_object()
        .ok_or_else(|| wrong(&[name], ctx, "an object"))
}

pub(crate) fn obj<'a>(map: &'a Obj, keys: &[&str], ctx: &str) -> Result<&'a Obj, ParseError> {
    field(map, keys, ctx)?
        .as_object()
        .ok_or_else(|| wrong(keys, ctx, "an object"))
}

pub(crate) fn num(map: &Obj, keys: &[&str], ctx: &str) -> Result<f64, ParseError> {
    field(map, keys, ctx)?
        .as_f64()
        .ok_or_else(|| wrong(keys, ctx, "a number"))
}

/// Like [`num`] but absent means `default` (fields only one tool generation writes).
pub(crate) fn num_or(map: &Obj, keys: &[&str], ctx: &str, default: f64) -> Result<f64, ParseError> {
    match keys.iter().find_map(|k| map.get(*k)) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_f64().ok_or_else(|| wrong(keys, ctx, "a number")),
    }
}

pub(crate) fn array<'a>(map: &'a Obj, keys: &[&str], ctx: &str) -> Result<&'a [Value], ParseError> {
    field(map, keys, ctx)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| wrong(keys, ctx, "an array"))
}

pub(crate) fn strings(map: &Obj, keys: &[&str], ctx: &str) -> Result<Vec<String>, ParseError> {
    array(map, keys, ctx)?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| wrong(keys, ctx, "an array of strings"))
        })
        .collect()
}

pub(crate) fn numbers(map: &Obj, keys: &[&str], ctx: &str) -> Result<Vec<f64>, ParseError> {
    array(map, keys, ctx)?
        .iter()
        .map(|v| {
            v.as_f64()
                .ok_or_else(|| wrong(keys, ctx, "an array of numbers"))
        })
        .collect()
}

pub(crate) fn parse_root(text: &str) -> Result<Obj, ParseError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(ParseError::Json("top level is not an object".to_owned())),
    }
}
