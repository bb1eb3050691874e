//! The query protocol's form parameters: flat `Name=value` pairs, with maps as
//! `Name.entry.N.key/value` and lists as `Name.member.N`.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use stratus_core::message::{MessageAttributeValue, MessageAttributes};

use super::errors::SnsError;

/// Decoded form parameters of one request.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Parses `a=b&c=d` (a query or form body, see [`crate::form_pairs`]); later duplicates win.
    pub fn parse(form: &[u8]) -> Self {
        Self(crate::form_pairs(form).collect())
    }

    pub fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A required parameter; SNS's InvalidParameter when missing.
    pub fn required(&self, name: &str) -> Result<&str, SnsError> {
        self.get(name)
            .ok_or_else(|| SnsError::invalid(format!("Invalid parameter: {name}")))
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Indices `1..` for which `prefix.N.` has some parameter, in order.
    fn indices(&self, prefix: &str) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(prefix)?.strip_prefix('.'))
            .filter_map(|rest| rest.split('.').next()?.parse().ok())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// `Name.entry.N.key` / `Name.entry.N.value` as a map.
    pub fn map(&self, name: &str) -> BTreeMap<String, String> {
        let prefix = format!("{name}.entry");
        self.indices(&prefix)
            .into_iter()
            .filter_map(|n| {
                let key = self.get(&format!("{prefix}.{n}.key"))?;
                let value = self.get(&format!("{prefix}.{n}.value")).unwrap_or("");
                Some((key.to_owned(), value.to_owned()))
            })
            .collect()
    }

    /// `Tags.member.N.Key/Value`.
    pub fn tags(&self) -> BTreeMap<String, String> {
        let prefix = "Tags.member";
        self.indices(prefix)
            .into_iter()
            .filter_map(|n| {
                let key = self.get(&format!("{prefix}.{n}.Key"))?;
                let value = self.get(&format!("{prefix}.{n}.Value")).unwrap_or("");
                Some((key.to_owned(), value.to_owned()))
            })
            .collect()
    }

    /// `{base}MessageAttributes.entry.N.Name` / `.Value.DataType|StringValue|BinaryValue`.
    pub fn message_attributes(&self, base: &str) -> Result<MessageAttributes, SnsError> {
        let prefix = format!("{base}MessageAttributes.entry");
        let mut out = MessageAttributes::new();
        for n in self.indices(&prefix) {
            let field = |f: &str| self.get(&format!("{prefix}.{n}.{f}"));
            let Some(name) = field("Name") else { continue };
            let data_type = field("Value.DataType").ok_or_else(|| {
                SnsError::value(format!(
                    "The message attribute '{name}' must contain non-empty message attribute type."
                ))
            })?;
            let binary_value = field("Value.BinaryValue")
                .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
                .transpose()
                .map_err(|_| {
                    SnsError::value(format!(
                        "The message attribute '{name}' has an invalid binary value."
                    ))
                })?;
            out.insert(
                name.to_owned(),
                MessageAttributeValue {
                    data_type: data_type.to_owned(),
                    string_value: field("Value.StringValue").map(str::to_owned),
                    binary_value,
                },
            );
        }
        Ok(out)
    }

    /// The indices of `Name.member.N` entries.
    pub fn members(&self, name: &str) -> Vec<usize> {
        self.indices(&format!("{name}.member"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_maps_tags_and_attributes() {
        let params = Params::parse(
            b"Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=a+b&Tags.member.1.Key=k&Tags.member.1.Value=v\
             &MessageAttributes.entry.1.Name=color&MessageAttributes.entry.1.Value.DataType=String\
             &MessageAttributes.entry.1.Value.StringValue=red%21",
        );
        assert_eq!(
            params
                .map("Attributes")
                .get("DisplayName")
                .map(String::as_str),
            Some("a b")
        );
        assert_eq!(params.tags().get("k").map(String::as_str), Some("v"));
        let attributes = params.message_attributes("").expect("attributes");
        assert_eq!(attributes["color"].string_value.as_deref(), Some("red!"));
    }

    /// The form rules every query-protocol parameter goes through: `+` is a space and `%2B` a
    /// plus, a later repeat of a name wins (the query first, then the body), and a `%` without
    /// two hex digits is kept as it is, as are bytes that do not decode to UTF-8 (as U+FFFD).
    #[test]
    fn form_decoding_edge_cases() {
        let mut params =
            Params::parse(b"Message=a+b%2Bc%20d&Subject=100%&Name=%zz%4&Action=Publish&Empty&=v");
        params.extend(Params::parse(b"Action=CreateTopic&Token=%FF%2"));
        assert_eq!(params.get("Message"), Some("a b+c d"));
        assert_eq!(params.get("Subject"), Some("100%"));
        assert_eq!(params.get("Name"), Some("%zz%4"));
        assert_eq!(params.get("Action"), Some("CreateTopic"));
        assert_eq!(params.get("Empty"), Some(""));
        assert_eq!(params.get(""), Some("v"));
        assert_eq!(params.get("Token"), Some("\u{FFFD}%2"));
    }
}
