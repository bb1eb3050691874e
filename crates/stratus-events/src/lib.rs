//! Messaging: durable SQS-compatible queues (`queues`), SNS-compatible topics (`topics`) and the
//! deliveries that connect them to each other, to functions and to HTTP endpoints. Like every
//! domain crate it knows no wire format; `stratus-api` translates the SQS and SNS protocols into
//! calls on [`queues::Queues`] and [`topics::Topics`].
//!
//! The rule shared with the object store: a message is accepted only once it is committed, and
//! every delivery is at-least-once and idempotent by an id fixed before the first attempt.
//!
//! Files:
//! - `delivery.rs` — what messaging needs from elsewhere, as traits (`QueueDelivery`,
//!   `TopicDelivery`, `FunctionDelivery`, `HttpDelivery`), implemented where each technology
//!   lives.
//! - `queues/` — SQS: `mod.rs` the `Queues` service; `attributes.rs` names, ranges and the
//!   redrive policy; `manage.rs` lifecycle, attributes and tags; `send.rs`; `receive.rs` (a
//!   receive claims in one write; long polls are woken in memory after a send commits);
//!   `receipt.rs` opaque receipt handles; `errors.rs`; `system.rs` the principal-free interface
//!   for deliveries and pollers. See `docs/queues.md`.
//! - `topics/` — SNS: `mod.rs` the `Topics` service; `attributes.rs`; `subscriptions.rs`;
//!   `publish.rs` (one transaction writes a delivery row per matching subscription);
//!   `envelope.rs` (the JSON envelope, Lambda's SNS event, an HMAC signature); `worker.rs` (the
//!   delivery loop with backoff). See `docs/topics.md`.
//! - `mappings/` — Lambda event source mappings: `service.rs` Create/Get/List/Update/Delete;
//!   `poller.rs` a few pollers per mapping (batch, invoke, delete what succeeded);
//!   `queue_source.rs` queues as their source; `event.rs` Lambda's SQS event and partial batch
//!   responses. See `docs/event-source-mappings.md`.

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
