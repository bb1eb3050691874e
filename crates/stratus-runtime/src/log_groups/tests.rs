use super::*;

fn events(offsets: &[u64]) -> Vec<StoredEvent> {
    offsets
        .iter()
        .map(|&offset| StoredEvent {
            stream: "s".into(),
            offset,
            next_offset: offset + 10,
            timestamp_ms: offset as i64,
            ingestion_ms: 0,
            version: "$LATEST".into(),
            message: format!("m{offset}"),
        })
        .collect()
}

fn query(from_head: bool, limit: usize, cursor: Option<StreamCursor>) -> EventsQuery {
    EventsQuery {
        stream: "s".into(),
        start_ms: None,
        end_ms: None,
        from_head,
        limit,
        cursor,
    }
}

fn offsets(page: &EventsPage) -> Vec<u64> {
    page.events.iter().map(|e| e.offset).collect()
}

#[test]
fn stream_paging_follows_cloudwatch_tokens() {
    let all = [0, 10, 20, 30, 40];
    let tail = page_of_stream(events(&all), &query(false, 2, None), 50);
    assert_eq!(offsets(&tail), [30, 40]);
    let older = page_of_stream(events(&all), &query(false, 2, Some(tail.backward)), 50);
    assert_eq!(offsets(&older), [10, 20]);
    let oldest = page_of_stream(events(&all), &query(false, 2, Some(older.backward)), 50);
    assert_eq!(offsets(&oldest), [0]);
    let before_start = page_of_stream(events(&all), &query(false, 2, Some(oldest.backward)), 50);
    assert!(before_start.events.is_empty());
    assert_eq!(before_start.backward, oldest.backward);

    let head = page_of_stream(events(&all), &query(true, 3, None), 50);
    assert_eq!(offsets(&head), [0, 10, 20]);
    let next = page_of_stream(events(&all), &query(true, 3, Some(head.forward)), 50);
    assert_eq!(offsets(&next), [30, 40]);
    let end = page_of_stream(events(&all), &query(true, 3, Some(next.forward)), 50);
    assert!(end.events.is_empty());
    assert_eq!(
        end.forward, next.forward,
        "at the end the forward token repeats"
    );
}

#[test]
fn group_names_map_to_functions() {
    assert_eq!(group_function("/aws/lambda/hello"), Some("hello"));
    assert_eq!(group_function("/aws/lambda/"), None);
    assert_eq!(group_function("/ecs/x"), None);
    assert_eq!(group_name("hello"), "/aws/lambda/hello");
}
