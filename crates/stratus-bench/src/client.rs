//! The S3 client used against every server, configured identically so the servers are what
//! differs.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};

use crate::servers::Endpoint;

pub fn new(endpoint: &Endpoint) -> Client {
    let credentials = Credentials::new(
        &endpoint.access_key,
        &endpoint.secret_key,
        None,
        None,
        "stratus-bench",
    );
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&endpoint.url)
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .force_path_style(true)
        // CRC32 over every body would be client CPU on a machine the server shares; only send or
        // check checksums where the operation requires them.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        // A retried request would be counted as one op and hide errors: fail loudly instead.
        .retry_config(RetryConfig::disabled())
        // Generous, but a wedged server must not hang the benchmark forever.
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(300))
                .build(),
        )
        .build();
    Client::from_conf(config)
}
