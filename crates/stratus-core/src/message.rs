//! Queue and topic messages: the typed message attributes SQS and SNS carry, the rules they must
//! obey, and the MD5 digests SQS returns (boto3 recomputes and compares them, so they must match
//! Amazon's algorithm byte for byte).

use std::collections::BTreeMap;

use md5::{Digest, Md5};

/// One message attribute: `String`, `Number` or `Binary`, optionally with a custom suffix
/// (`Number.float`, `Binary.png`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MessageAttributeValue {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_bytes")]
    pub binary_value: Option<Vec<u8>>,
}

/// Attributes by name; sorted, which is also the order the digest needs.
pub type MessageAttributes = BTreeMap<String, MessageAttributeValue>;

/// At most this many attributes per message.
pub const MAX_ATTRIBUTES: usize = 10;

/// Why a message or one of its attributes was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMessage {
    #[error("message must be shorter than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("message body must not be empty")]
    EmptyBody,
    #[error("message contains characters outside the allowed set")]
    InvalidCharacters,
    #[error("number of message attributes [{0}] exceeds the allowed maximum [10]")]
    TooManyAttributes(usize),
    #[error("message attribute name '{0}' is invalid")]
    AttributeName(String),
    #[error("message attribute '{name}' has an invalid data type '{data_type}'")]
    AttributeType { name: String, data_type: String },
    #[error("message attribute '{0}' must contain a non-empty value of its data type")]
    AttributeValue(String),
}

/// `(body)`'s MD5 in lowercase hex, as SQS's `MD5OfMessageBody`.
#[must_use]
pub fn md5_of_body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

/// SQS's `MD5OfMessageAttributes`: for each attribute in name order, the length-prefixed name,
/// the length-prefixed data type, a transport byte (1 string, 2 binary) and the length-prefixed
/// value, all big-endian 4-byte lengths, hashed together. `None` without attributes.
#[must_use]
pub fn md5_of_attributes(attributes: &MessageAttributes) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut digest = Md5::new();
    for (name, value) in attributes {
        put_prefixed(&mut digest, name.as_bytes());
        put_prefixed(&mut digest, value.data_type.as_bytes());
        if let Some(bytes) = &value.binary_value {
            digest.update([2u8]);
            put_prefixed(&mut digest, bytes);
        } else {
            digest.update([1u8]);
            put_prefixed(
                &mut digest,
                value.string_value.as_deref().unwrap_or("").as_bytes(),
            );
        }
    }
    Some(hex(&digest.finalize()))
}

fn put_prefixed(digest: &mut Md5, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    digest.update(len.to_be_bytes());
    digest.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The bytes a message counts against its size limit: body plus every attribute's name, type
/// and value, as SQS counts them.
#[must_use]
pub fn message_size(body: &str, attributes: &MessageAttributes) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(name, v)| {
                name.len()
                    + v.data_type.len()
                    + v.string_value.as_ref().map_or(0, String::len)
                    + v.binary_value.as_ref().map_or(0, Vec::len)
            })
            .sum::<usize>()
}

/// Checks a body against SQS's character set (XML 1.0 characters) and the size limit.
///
/// # Errors
/// The first rule the message breaks.
pub fn validate_message(
    body: &str,
    attributes: &MessageAttributes,
    max_bytes: usize,
) -> Result<(), InvalidMessage> {
    if body.is_empty() {
        return Err(InvalidMessage::EmptyBody);
    }
    if !body.chars().all(allowed_char) {
        return Err(InvalidMessage::InvalidCharacters);
    }
    validate_attributes(attributes)?;
    if message_size(body, attributes) > max_bytes {
        return Err(InvalidMessage::TooLarge { limit: max_bytes });
    }
    Ok(())
}

/// `#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF`.
fn allowed_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Checks attribute count, names, data types and values.
///
/// # Errors
/// The first attribute that breaks a rule.
pub fn validate_attributes(attributes: &MessageAttributes) -> Result<(), InvalidMessage> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(InvalidMessage::TooManyAttributes(attributes.len()));
    }
    for (name, value) in attributes {
        if !valid_attribute_name(name) {
            return Err(InvalidMessage::AttributeName(name.clone()));
        }
        let base = value.data_type.split('.').next().unwrap_or("");
        let custom_ok = value.data_type.len() <= 256
            && value.data_type[base.len()..]
                .strip_prefix('.')
                .is_none_or(|c| !c.is_empty());
        let present = match base {
            "String" => value.string_value.as_ref().is_some_and(|s| !s.is_empty()),
            "Number" => value
                .string_value
                .as_ref()
                .is_some_and(|s| s.trim().parse::<f64>().is_ok_and(f64::is_finite)),
            "Binary" => value.binary_value.as_ref().is_some_and(|b| !b.is_empty()),
            _ => {
                return Err(InvalidMessage::AttributeType {
                    name: name.clone(),
                    data_type: value.data_type.clone(),
                });
            }
        };
        if !custom_ok {
            return Err(InvalidMessage::AttributeType {
                name: name.clone(),
                data_type: value.data_type.clone(),
            });
        }
        if !present {
            return Err(InvalidMessage::AttributeValue(name.clone()));
        }
    }
    Ok(())
}

/// Up to 256 of `A-Za-z0-9_-.`, no leading, trailing or doubled period, not starting with the
/// reserved `AWS.` or `Amazon.` prefixes.
fn valid_attribute_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
}

mod opt_bytes {
    //! Binary attribute values stored as lowercase hex inside JSON records.
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => s.serialize_some(&super::hex(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| {
            (0..t.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(t.get(i..i + 2).unwrap_or("zz"), 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(value: &str) -> MessageAttributeValue {
        MessageAttributeValue {
            data_type: "String".into(),
            string_value: Some(value.into()),
            binary_value: None,
        }
    }

    #[test]
    fn body_digest_is_plain_md5() {
        assert_eq!(md5_of_body("hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn attribute_digest_matches_amazons_algorithm() {
        // {"a": String "b"}, computed with botocore's algorithm in Python.
        let mut attrs = MessageAttributes::new();
        attrs.insert("a".into(), string("b"));
        assert_eq!(
            md5_of_attributes(&attrs).as_deref(),
            Some("bef8bf215374a0a228d67533b1a488be")
        );
        assert_eq!(md5_of_attributes(&MessageAttributes::new()), None);
    }

    #[test]
    fn validates_names_types_and_values() {
        let mut attrs = MessageAttributes::new();
        attrs.insert("ok.name-1".into(), string("v"));
        assert_eq!(validate_attributes(&attrs), Ok(()));
        for bad in ["AWS.x", ".a", "a.", "a..b", "sp ace", ""] {
            let mut attrs = MessageAttributes::new();
            attrs.insert(bad.into(), string("v"));
            assert!(validate_attributes(&attrs).is_err(), "{bad}");
        }
        let mut attrs = MessageAttributes::new();
        attrs.insert(
            "n".into(),
            MessageAttributeValue {
                data_type: "Number".into(),
                string_value: Some("abc".into()),
                binary_value: None,
            },
        );
        assert_eq!(
            validate_attributes(&attrs),
            Err(InvalidMessage::AttributeValue("n".into()))
        );
        attrs.insert(
            "n".into(),
            MessageAttributeValue {
                data_type: "Float".into(),
                string_value: Some("1".into()),
                binary_value: None,
            },
        );
        assert!(matches!(
            validate_attributes(&attrs),
            Err(InvalidMessage::AttributeType { .. })
        ));
    }

    #[test]
    fn validates_bodies() {
        let none = MessageAttributes::new();
        assert_eq!(validate_message("x", &none, 10), Ok(()));
        assert_eq!(
            validate_message("", &none, 10),
            Err(InvalidMessage::EmptyBody)
        );
        assert_eq!(
            validate_message("\u{1}", &none, 10),
            Err(InvalidMessage::InvalidCharacters)
        );
        assert_eq!(
            validate_message("12345678901", &none, 10),
            Err(InvalidMessage::TooLarge { limit: 10 })
        );
    }

    #[test]
    fn binary_values_round_trip_through_json() {
        let value = MessageAttributeValue {
            data_type: "Binary".into(),
            string_value: None,
            binary_value: Some(vec![0, 255, 16]),
        };
        let json = serde_json::to_string(&value).expect("json");
        assert!(json.contains("00ff10"), "{json}");
        assert_eq!(
            serde_json::from_str::<MessageAttributeValue>(&json).expect("parse"),
            value
        );
    }
}
