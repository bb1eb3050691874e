//! Messaging: durable SQS-compatible queues (`queues`), SNS-compatible topics (`topics`) and the
//! deliveries that connect them to each other, to functions and to HTTP endpoints. Like every
//! domain crate it knows no wire format; `stratus-api` translates the SQS and SNS protocols into
//! calls on [`queues::Queues`] and [`topics::Topics`].
//!
//! The rule shared with the object store: a message is accepted only once it is committed, and
//! every delivery is at-least-once and idempotent by an id fixed before the first attempt.

pub mod delivery;
pub mod mappings;
pub mod queues;
pub mod topics;

pub use delivery::{
    DeliveryError, FunctionDelivery, HttpDelivery, QueueDelivery, QueueMessage, TopicDelivery,
    TopicMessage,
};
pub use queues::Queues;
pub use topics::{RetryPolicy, TopicError, Topics};
