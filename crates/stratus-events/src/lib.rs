//! Messaging: durable SQS-compatible queues (`queues`), SNS-compatible topics (`topics`) and the
//! deliveries that connect them to each other, to functions and to HTTP endpoints. Like every
//! domain crate it knows no wire format; `stratus-api` translates the SQS and SNS protocols into
//! calls on [`queues::Queues`] and [`topics::Topics`].
//!
//! The rule shared with the object store: a message is accepted only once it is committed, and
//! every delivery is at-least-once and idempotent by an id fixed before the first attempt.

pub mod delivery;

pub use delivery::{
    DeliveryError, FunctionDelivery, HttpDelivery, QueueDelivery, QueueMessage, TopicDelivery,
    TopicMessage,
};
pub mod topics;

/// What implementers of the delivery traits need to read endpoints and act for a project
/// (the composition root does not depend on `stratus-core` itself).
pub use stratus_core::{Role, arn::Arn};
pub use topics::{RetryPolicy, TopicError, Topics};
