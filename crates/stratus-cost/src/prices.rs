//! The price catalog: what a request, a GB-second, a GB-month and an instance-hour cost.
//! Defaults are AWS's public on-demand prices in us-east-1 (Lambda x86, S3 Standard, EC2
//! Linux), so costs read like an AWS bill; an operator overrides any of them in the server's
//! configuration file (`[prices]`).

use serde::{Deserialize, Serialize};

/// Every price Stratus bills or compares with. Unknown keys are refused, so a typo in a
/// configuration file is reported instead of silently using a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriceCatalog {
    pub lambda: LambdaPrices,
    pub s3: S3Prices,
    /// Always-on instance types `stratus cost compare` may build a fleet from.
    pub instances: Vec<InstancePrice>,
}

/// AWS Lambda's x86 prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LambdaPrices {
    /// USD per million requests ($0.20).
    pub per_million_requests: f64,
    /// USD per GB-second of configured memory × billed duration ($0.0000166667).
    pub per_gb_second: f64,
}

/// S3 Standard's prices (first 50 TB tier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Prices {
    /// USD per GB-month stored ($0.023).
    pub per_gb_month: f64,
    /// USD per 1,000 PUT, COPY, POST and LIST requests ($0.005).
    pub per_thousand_writes: f64,
    /// USD per 1,000 GET and every other request ($0.0004).
    pub per_thousand_reads: f64,
}

/// One always-on instance type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstancePrice {
    pub name: String,
    pub vcpus: u32,
    pub memory_gib: f64,
    #[serde(default)]
    pub gpus: u32,
    /// USD per hour, on demand.
    pub hourly: f64,
}

impl Default for LambdaPrices {
    fn default() -> Self {
        Self {
            per_million_requests: 0.20,
            per_gb_second: 0.000_016_666_7,
        }
    }
}

impl Default for S3Prices {
    fn default() -> Self {
        Self {
            per_gb_month: 0.023,
            per_thousand_writes: 0.005,
            per_thousand_reads: 0.0004,
        }
    }
}

impl Default for PriceCatalog {
    fn default() -> Self {
        Self {
            lambda: LambdaPrices::default(),
            s3: S3Prices::default(),
            instances: default_instances(),
        }
    }
}

/// On-demand Linux prices in us-east-1 (USD per hour).
fn default_instances() -> Vec<InstancePrice> {
    let instance = |name: &str, vcpus, memory_gib, gpus, hourly| InstancePrice {
        name: name.to_owned(),
        vcpus,
        memory_gib,
        gpus,
        hourly,
    };
    vec![
        instance("t3.micro", 2, 1.0, 0, 0.0104),
        instance("t3.small", 2, 2.0, 0, 0.0208),
        instance("t3.medium", 2, 4.0, 0, 0.0416),
        instance("t3.large", 2, 8.0, 0, 0.0832),
        instance("m5.large", 2, 8.0, 0, 0.096),
        instance("m5.xlarge", 4, 16.0, 0, 0.192),
        instance("m5.2xlarge", 8, 32.0, 0, 0.384),
        instance("c5.large", 2, 4.0, 0, 0.085),
        instance("c5.xlarge", 4, 8.0, 0, 0.17),
        instance("c5.2xlarge", 8, 16.0, 0, 0.34),
        instance("g4dn.xlarge", 4, 16.0, 1, 0.526),
        instance("g4dn.2xlarge", 8, 32.0, 1, 0.752),
    ]
}

impl PriceCatalog {
    /// Checks that every price is a finite, non-negative number and instance names are unique.
    ///
    /// # Errors
    /// A message naming the first offending field.
    pub fn validate(&self) -> Result<(), String> {
        let prices = [
            (
                "lambda.per_million_requests",
                self.lambda.per_million_requests,
            ),
            ("lambda.per_gb_second", self.lambda.per_gb_second),
            ("s3.per_gb_month", self.s3.per_gb_month),
            ("s3.per_thousand_writes", self.s3.per_thousand_writes),
            ("s3.per_thousand_reads", self.s3.per_thousand_reads),
        ];
        for (name, value) in prices {
            if !value.is_finite() || value < 0.0 {
                return Err(format!(
                    "prices.{name} must be a non-negative number, not {value}"
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for instance in &self.instances {
            if !names.insert(instance.name.as_str()) {
                return Err(format!("prices.instances names {:?} twice", instance.name));
            }
            if instance.vcpus == 0
                || !(instance.hourly.is_finite() && instance.hourly >= 0.0)
                || !(instance.memory_gib.is_finite() && instance.memory_gib > 0.0)
            {
                return Err(format!(
                    "prices.instances {:?} needs vcpus > 0, memory_gib > 0 and hourly >= 0",
                    instance.name
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_aws_public_prices_and_valid() {
        let catalog = PriceCatalog::default();
        assert!((catalog.lambda.per_million_requests - 0.20).abs() < 1e-12);
        assert!((catalog.lambda.per_gb_second - 0.000_016_666_7).abs() < 1e-15);
        assert!(catalog.validate().is_ok());
    }

    #[test]
    fn partial_overrides_keep_the_other_defaults() {
        let catalog: PriceCatalog =
            serde_json::from_str(r#"{"lambda": {"per_gb_second": 0.00001}}"#).expect("parses");
        assert!((catalog.lambda.per_million_requests - 0.20).abs() < 1e-12);
        assert!((catalog.lambda.per_gb_second - 0.00001).abs() < 1e-15);
        assert!(!catalog.instances.is_empty());
    }

    #[test]
    fn bad_prices_are_named() {
        let mut catalog = PriceCatalog::default();
        catalog.s3.per_gb_month = -1.0;
        assert!(
            catalog
                .validate()
                .expect_err("negative")
                .contains("s3.per_gb_month")
        );
        assert!(serde_json::from_str::<PriceCatalog>(r#"{"lamda": {}}"#).is_err());
    }
}
