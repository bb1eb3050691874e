//! One function per SQS operation, over inputs and outputs in the JSON protocol's shapes; the
//! query protocol converts to and from them, so both protocols share every rule. `dispatch`
//! maps the operation name to its function; queue operations are in `queues.rs`, message
//! operations in `messages.rs`, the batch framing they share in `batch.rs`.

mod batch;
mod messages;
mod queues;

use serde_json::Value;
use stratus_events::Queues;
use stratus_identity::Principal;

use super::errors::SqsError;
use super::input::Input;

type OpResult = Result<Value, SqsError>;

/// What every operation works with: the service, the verified caller and the decoded input.
pub(crate) struct Context<'a> {
    pub queues: &'a Queues,
    pub caller: &'a Principal,
    pub input: &'a Input<'a>,
}

pub(crate) async fn dispatch(cx: &Context<'_>, operation: &str) -> OpResult {
    match operation {
        "CreateQueue" => queues::create_queue(cx).await,
        "GetQueueUrl" => queues::get_queue_url(cx).await,
        "ListQueues" => queues::list_queues(cx).await,
        "DeleteQueue" => queues::delete_queue(cx).await,
        "PurgeQueue" => queues::purge_queue(cx).await,
        "GetQueueAttributes" => queues::get_queue_attributes(cx).await,
        "SetQueueAttributes" => queues::set_queue_attributes(cx).await,
        "TagQueue" => queues::tag_queue(cx).await,
        "UntagQueue" => queues::untag_queue(cx).await,
        "ListQueueTags" => queues::list_queue_tags(cx).await,
        "ListDeadLetterSourceQueues" => queues::list_dead_letter_source_queues(cx).await,
        "SendMessage" => messages::send_message(cx).await,
        "SendMessageBatch" => messages::send_message_batch(cx).await,
        "ReceiveMessage" => messages::receive_message(cx).await,
        "DeleteMessage" => messages::delete_message(cx).await,
        "DeleteMessageBatch" => messages::delete_message_batch(cx).await,
        "ChangeMessageVisibility" => messages::change_message_visibility(cx).await,
        "ChangeMessageVisibilityBatch" => messages::change_message_visibility_batch(cx).await,
        other => Err(SqsError::new(
            "UnsupportedOperation",
            "AWS.SimpleQueueService.UnsupportedOperation",
            format!("the operation {other} is not supported"),
        )),
    }
}
