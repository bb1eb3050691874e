//! End-to-end tests: the real `stratus` binary, started on port 0 in a temporary data
//! directory, driven by real clients (aws-sdk-s3, aws-sdk-lambda, aws-sdk-sqs,
//! aws-sdk-sns, the stratus CLI, plain HTTP).
//! One binary so the heavy client dependencies link once.

mod architecture;
mod config;
mod harness;
mod identity;
mod lambda;
mod lambda_provided;
mod messaging;
mod plan;
mod s3_buckets;
mod s3_errors;
mod s3_multipart;
mod s3_objects;
