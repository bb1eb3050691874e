//! The generator against a local hyper server whose answers take a fixed time.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::*;

/// Serves every request after `delay`, with Stratus's metering headers.
async fn slow_server(delay: Duration) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = service_fn(move |_request| async move {
                    tokio::time::sleep(delay).await;
                    let response = http::Response::builder()
                        .header("x-stratus-duration-ms", "12.500")
                        .header("x-stratus-billed-ms", "13")
                        .body(Full::new(Bytes::from_static(b"ok")))
                        .expect("response");
                    Ok::<_, Infallible>(response)
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

fn template(address: SocketAddr) -> RequestTemplate {
    RequestTemplate {
        method: http::Method::GET,
        uri: format!("http://{address}/").parse().expect("uri"),
        headers: http::HeaderMap::new(),
        body: Bytes::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_do_not_lower_the_offered_rate() {
    // Each answer takes 300 ms; a closed loop on one connection would send ~4 in 1.2 s.
    let address = slow_server(Duration::from_millis(300)).await;
    let plan = Plan {
        rate: 100.0,
        duration: Duration::from_millis(1200),
        max_in_flight: 1000,
        timeout: Duration::from_secs(10),
    };
    let started = Instant::now();
    let outcome = attack(
        &http_client(100, None).expect("client"),
        &template(address),
        plan,
        |_| {},
    )
    .await;
    assert_eq!(outcome.scheduled, 120);
    assert_eq!((outcome.ok(), outcome.errors(), outcome.late), (120, 0, 0));
    // Every request left within a few timer ticks of its due instant: no drift.
    assert!(outcome.max_lag() < 0.05, "lag {}", outcome.max_lag());
    assert!(
        (outcome.offered_rate() - 100.0).abs() < 5.0,
        "{}",
        outcome.offered_rate()
    );
    // The last one was due at 1.19 s and took 0.3 s: the attack ends near 1.5 s, not 36 s.
    assert!(started.elapsed() < Duration::from_millis(2500));
    let latency = outcome.latency();
    assert!(latency.p50 >= 0.3 && latency.p50 < 0.5, "{latency:?}");
    assert_eq!(outcome.samples[0].duration, Some(0.0125));
    assert_eq!(outcome.cold_starts(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_in_flight_bound_are_counted_late() {
    let address = slow_server(Duration::from_millis(500)).await;
    let plan = Plan {
        rate: 50.0,
        duration: Duration::from_secs(1),
        max_in_flight: 5,
        timeout: Duration::from_secs(10),
    };
    let mut reports = 0;
    let outcome = attack(
        &http_client(5, None).expect("client"),
        &template(address),
        plan,
        |_| reports += 1,
    )
    .await;
    assert_eq!(outcome.scheduled, 50);
    assert!(outcome.late >= 30, "late {}", outcome.late);
    assert_eq!(
        outcome.ok() + outcome.errors() + outcome.late,
        outcome.scheduled
    );
    assert!(reports >= 1, "no progress reported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_requests_are_errors() {
    // A port nothing listens on: every request fails, none is lost.
    let unused = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("address");
    let plan = Plan {
        rate: 20.0,
        duration: Duration::from_millis(500),
        max_in_flight: 100,
        timeout: Duration::from_secs(2),
    };
    let outcome = attack(
        &http_client(10, None).expect("client"),
        &template(unused),
        plan,
        |_| {},
    )
    .await;
    assert_eq!(
        (outcome.scheduled, outcome.errors(), outcome.ok()),
        (10, 10, 0)
    );
    assert!(outcome.samples.iter().all(|s| s.status == 0));
}

#[test]
fn the_schedule_is_computed_from_the_start() {
    let plan = Plan {
        rate: 3.0,
        duration: Duration::from_secs(2),
        max_in_flight: 1,
        timeout: Duration::from_secs(1),
    };
    assert_eq!(plan.total(), 6);
    assert_eq!(plan.due(0), Duration::ZERO);
    assert!((plan.due(5).as_secs_f64() - 5.0 / 3.0).abs() < 1e-9);
}
