//! What is stored for each delivery (`Publication`) and what subscribers receive: the SNS JSON
//! envelope for HTTP and SQS, and the Lambda `Records` event. Envelopes carry a `Signature`, but
//! it is an HMAC-SHA256 under a key of this server, not Amazon's certificate-based signature:
//! SNS clients that verify signatures against Amazon's certificates will reject it.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use stratus_core::message::MessageAttributes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Kind {
    Notification,
    SubscriptionConfirmation,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Notification => "Notification",
            Kind::SubscriptionConfirmation => "SubscriptionConfirmation",
        }
    }
}

/// One message for one subscription, as stored in the outbox (the message already chosen for
/// the subscription's protocol).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Publication {
    pub kind: Kind,
    pub message_id: String,
    pub topic_arn: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub message: String,
    #[serde(default)]
    pub attributes: MessageAttributes,
    pub timestamp: String,
    #[serde(default)]
    pub chain_depth: u32,
    /// Confirmations: the token, and the URL that confirms with it.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub subscribe_url: Option<String>,
}

/// `2026-01-02T03:04:05.678Z`, as SNS writes timestamps.
pub(crate) fn timestamp(ms: i64) -> String {
    let at = stratus_core::clock::at_ms(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// URLs and the key an envelope needs.
pub(crate) struct Signer<'a> {
    pub key: &'a [u8],
    pub public_endpoint: &'a str,
}

impl Signer<'_> {
    pub(crate) fn cert_url(&self) -> String {
        format!(
            "{}/SimpleNotificationService-stratus.pem",
            self.public_endpoint
        )
    }

    pub(crate) fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!(
            "{}/?Action=Unsubscribe&SubscriptionArn={}",
            self.public_endpoint,
            encode(subscription_arn)
        )
    }

    /// Base64 HMAC-SHA256 of SNS's canonical string (name/value lines in its fixed order).
    fn sign(&self, fields: &[(&str, Option<&str>)]) -> String {
        let canonical: String = fields
            .iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name}\n{v}\n")))
            .collect();
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key) else {
            return String::new();
        };
        mac.update(canonical.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// The JSON envelope HTTP endpoints and (non-raw) queues receive.
    pub(crate) fn envelope(&self, p: &Publication, subscription_arn: &str) -> Value {
        let mut out = Map::new();
        out.insert("Type".into(), json!(p.kind.as_str()));
        out.insert("MessageId".into(), json!(p.message_id));
        match p.kind {
            Kind::SubscriptionConfirmation => {
                let token = p.token.as_deref().unwrap_or("");
                let url = p.subscribe_url.as_deref().unwrap_or("");
                out.insert("Token".into(), json!(token));
                out.insert("TopicArn".into(), json!(p.topic_arn));
                out.insert("Message".into(), json!(p.message));
                out.insert("SubscribeURL".into(), json!(url));
                out.insert("Timestamp".into(), json!(p.timestamp));
                let signature = self.sign(&[
                    ("Message", Some(&p.message)),
                    ("MessageId", Some(&p.message_id)),
                    ("SubscribeURL", Some(url)),
                    ("Timestamp", Some(&p.timestamp)),
                    ("Token", Some(token)),
                    ("TopicArn", Some(&p.topic_arn)),
                    ("Type", Some(p.kind.as_str())),
                ]);
                out.insert("SignatureVersion".into(), json!("1"));
                out.insert("Signature".into(), json!(signature));
                out.insert("SigningCertURL".into(), json!(self.cert_url()));
            }
            Kind::Notification => {
                out.insert("TopicArn".into(), json!(p.topic_arn));
                if let Some(subject) = &p.subject {
                    out.insert("Subject".into(), json!(subject));
                }
                out.insert("Message".into(), json!(p.message));
                out.insert("Timestamp".into(), json!(p.timestamp));
                let signature = self.sign(&[
                    ("Message", Some(&p.message)),
                    ("MessageId", Some(&p.message_id)),
                    ("Subject", p.subject.as_deref()),
                    ("Timestamp", Some(&p.timestamp)),
                    ("TopicArn", Some(&p.topic_arn)),
                    ("Type", Some(p.kind.as_str())),
                ]);
                out.insert("SignatureVersion".into(), json!("1"));
                out.insert("Signature".into(), json!(signature));
                out.insert("SigningCertURL".into(), json!(self.cert_url()));
                out.insert(
                    "UnsubscribeURL".into(),
                    json!(self.unsubscribe_url(subscription_arn)),
                );
                if !p.attributes.is_empty() {
                    out.insert("MessageAttributes".into(), typed_attributes(&p.attributes));
                }
            }
        }
        Value::Object(out)
    }

    /// The event a Lambda subscription's function receives.
    pub(crate) fn lambda_event(&self, p: &Publication, subscription_arn: &str) -> Value {
        let envelope = self.envelope(p, subscription_arn);
        let field = |name: &str| envelope.get(name).cloned().unwrap_or(Value::Null);
        json!({"Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": p.message_id,
                "TopicArn": p.topic_arn,
                "Subject": p.subject,
                "Message": p.message,
                "Timestamp": p.timestamp,
                "SignatureVersion": "1",
                "Signature": field("Signature"),
                "SigningCertUrl": self.cert_url(),
                "UnsubscribeUrl": self.unsubscribe_url(subscription_arn),
                "MessageAttributes": typed_attributes(&p.attributes),
            }
        }]})
    }
}

/// `{"name": {"Type": "String", "Value": "v"}}`; binary values in base64.
fn typed_attributes(attributes: &MessageAttributes) -> Value {
    let map = attributes
        .iter()
        .map(|(name, value)| {
            let text = match (&value.string_value, &value.binary_value) {
                (Some(s), _) => s.clone(),
                (None, Some(bytes)) => base64::engine::general_purpose::STANDARD.encode(bytes),
                (None, None) => String::new(),
            };
            (
                name.clone(),
                json!({"Type": value.data_type, "Value": text}),
            )
        })
        .collect::<Map<_, _>>();
    Value::Object(map)
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        assert_eq!(timestamp(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn envelope_carries_the_notification_and_a_signature() {
        let signer = Signer {
            key: b"k",
            public_endpoint: "http://127.0.0.1:1",
        };
        let publication = Publication {
            kind: Kind::Notification,
            message_id: "m".into(),
            topic_arn: "arn:aws:sns:us-east-1:1:t".into(),
            subject: None,
            message: "hello".into(),
            attributes: MessageAttributes::new(),
            timestamp: timestamp(0),
            chain_depth: 0,
            token: None,
            subscribe_url: None,
        };
        let envelope = signer.envelope(&publication, "arn:aws:sns:us-east-1:1:t:s");
        assert_eq!(envelope["Type"], "Notification");
        assert_eq!(envelope["Message"], "hello");
        assert!(envelope.get("Subject").is_none());
        assert_eq!(envelope["Signature"].as_str().map(str::len), Some(44));
        assert!(
            envelope["UnsubscribeURL"]
                .as_str()
                .is_some_and(|u| u.ends_with("arn%3Aaws%3Asns%3Aus-east-1%3A1%3At%3As"))
        );
    }
}
