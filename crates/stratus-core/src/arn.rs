//! Amazon Resource Names as Stratus writes and reads them. A project stands for an AWS account:
//! its 12-digit account id is derived from its name, so ARNs are stable across restarts and
//! releases without being stored.

/// The region every ARN names; Stratus is one region.
pub const REGION: &str = "us-east-1";

/// The 12-digit account id that stands for a project in ARNs: stable, derived from its name.
#[must_use]
pub fn account_id(project: &str) -> String {
    // FNV-1a: stable across releases, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in project.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012}", hash % 1_000_000_000_000)
}

/// The parts of `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`. The resource keeps any further
/// colons (`function:NAME:QUALIFIER`, `TOPIC:SUBSCRIPTION-ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN; `None` when it does not have the six colon-separated parts.
    #[must_use]
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        let (arn, _partition) = (parts.next()?, parts.next()?);
        let (service, region, account) = (parts.next()?, parts.next()?, parts.next()?);
        let resource = parts.next()?;
        (arn == "arn" && !service.is_empty() && !resource.is_empty()).then_some(Self {
            service,
            region,
            account,
            resource,
        })
    }

    /// Whether this ARN names something in `project`'s account.
    #[must_use]
    pub fn in_project(&self, project: &str) -> bool {
        self.account == account_id(project)
    }
}

/// `arn:aws:sqs:REGION:ACCOUNT:NAME`.
#[must_use]
pub fn queue_arn(project: &str, queue: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{}:{queue}", account_id(project))
}

/// `arn:aws:sns:REGION:ACCOUNT:NAME`.
#[must_use]
pub fn topic_arn(project: &str, topic: &str) -> String {
    format!("arn:aws:sns:{REGION}:{}:{topic}", account_id(project))
}

/// A Lambda `FunctionName` as the API accepts it: a name, `name:qualifier`, a partial ARN
/// (`ACCOUNT:function:name[:qualifier]`) or a full ARN. Returns the name, the qualifier it
/// carries, and the account it names (ARNs only).
#[must_use]
pub fn function_ref(raw: &str) -> (&str, Option<&str>, Option<&str>) {
    let parts: Vec<&str> = raw.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, account, "function", name] => (name, None, Some(account)),
        ["arn", _, "lambda", _, account, "function", name, qualifier] => {
            (name, Some(qualifier), Some(account))
        }
        [account, "function", name] => (name, None, Some(account)),
        [account, "function", name, qualifier] => (name, Some(qualifier), Some(account)),
        [name, qualifier] => (name, Some(qualifier), None),
        _ => (raw, None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_stable_and_twelve_digits() {
        assert_eq!(account_id("team"), account_id("team"));
        assert_ne!(account_id("team"), account_id("other"));
        assert_eq!(account_id("team").len(), 12);
    }

    #[test]
    fn parses_arns_and_keeps_resource_colons() {
        let arn = Arn::parse("arn:aws:lambda:us-east-1:123456789012:function:f:3").expect("arn");
        assert_eq!(arn.service, "lambda");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource, "function:f:3");
        assert!(Arn::parse("arn:aws:sqs:r:1").is_none());
        assert!(Arn::parse("nope:aws:sqs:r:1:q").is_none());
        let queue = queue_arn("team", "jobs");
        let parsed = Arn::parse(&queue).expect("queue arn");
        assert!(parsed.in_project("team"));
        assert!(!parsed.in_project("other"));
        assert_eq!(parsed.resource, "jobs");
    }

    #[test]
    fn function_references_in_every_form() {
        assert_eq!(function_ref("f"), ("f", None, None));
        assert_eq!(function_ref("f:3"), ("f", Some("3"), None));
        assert_eq!(function_ref("12:function:f"), ("f", None, Some("12")));
        assert_eq!(
            function_ref("arn:aws:lambda:us-east-1:12:function:f:$LATEST"),
            ("f", Some("$LATEST"), Some("12"))
        );
    }
}
