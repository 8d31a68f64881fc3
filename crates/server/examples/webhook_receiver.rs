//! A webhook receiver for `bench/webhooks`: answers every POST with 204 and,
//! for each, how long it took from the event (the payload's `timestamp`, the
//! time of the change that caused it) to this answer. After `--expect N`
//! deliveries, or `--idle SECS` without one, it prints one line of figures and
//! exits:
//!
//!   received=N seconds=S per_second=R p50_ms=A p99_ms=B
//!
//! `seconds` is first to last arrival. Run: `cargo run --release -p
//! steward-server --example webhook_receiver -- --port 18300 --expect 10000`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Default)]
struct Seen {
    first: Option<Instant>,
    last: Option<Instant>,
    latencies_ms: Vec<f64>,
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let (port, expect, idle) = (arg("--port", 18300), arg("--expect", 1000), arg("--idle", 30));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let app = Router::new().fallback(post(move |body: Bytes| {
        let seen = record.clone();
        async move {
            let now = OffsetDateTime::now_utc();
            let sent = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["timestamp"].as_str().and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok()));
            let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
            let at = Instant::now();
            s.first.get_or_insert(at);
            s.last = Some(at);
            if let Some(sent) = sent {
                s.latencies_ms.push((now - sent).as_seconds_f64() * 1000.0);
            }
            StatusCode::NO_CONTENT
        }
    }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port as u16)).await.expect("bind the receiver's port");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    println!("listening on 127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s = seen.lock().unwrap_or_else(|e| e.into_inner());
        let quiet = s.last.unwrap_or(started).elapsed() > Duration::from_secs(idle);
        if s.latencies_ms.len() as u64 >= expect || quiet {
            let mut sorted = s.latencies_ms.clone();
            sorted.sort_by(f64::total_cmp);
            let seconds = match (s.first, s.last) {
                (Some(a), Some(b)) => (b - a).as_secs_f64(),
                _ => 0.0,
            };
            let rate = if seconds > 0.0 { sorted.len() as f64 / seconds } else { 0.0 };
            println!(
                "received={} seconds={seconds:.2} per_second={rate:.0} p50_ms={:.1} p99_ms={:.1}",
                sorted.len(),
                percentile(&sorted, 0.5),
                percentile(&sorted, 0.99)
            );
            return;
        }
    }
}
