//! Prometheus metrics in the text exposition format (0.0.4): requests by
//! route template and status, latency histograms, the database pool, and the
//! series other parts add ([`Metrics::add`], [`Metrics::set`], sampled ones
//! with [`Metrics::on_scrape`]: jobs by kind and state, the oldest pending
//! job, mail sent and failed).
//!
//! One registry per [`AppState`], not a process-wide recorder: two
//! applications in one process (the tests) count apart, and nothing needs
//! installing before use. `/metrics` is served by [`router`] on its own
//! listener (`metrics_listen`), never on the public one.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use steward_store::Db;

use crate::state::AppState;

/// The Content-Type of the classic Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds: from a cached read to the
/// slowest export page.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// A sampler may query the database; a scrape never waits longer for it.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(1);

/// The route label of a request that matched no route (a fixed value, so a
/// scanner's made-up paths can't grow the series without bound).
pub const UNMATCHED: &str = "unmatched";

/// One route's timings by (method, status).
type ByRoute = HashMap<(&'static str, u16), Timing>;

type Sampler = Arc<dyn Fn(Metrics) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The registry; cheap to clone (all clones are one registry).
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// route → (method, status) → timings; keyed by route first so a lookup
    /// borrows the request's route instead of allocating a key.
    http: Mutex<HashMap<String, ByRoute>>,
    families: Mutex<BTreeMap<&'static str, Family>>,
    samplers: Mutex<Vec<Sampler>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Timing {
    count: u64,
    sum: f64,
    /// Per bucket, not cumulative; the render adds them up.
    buckets: [u64; BUCKETS.len()],
}

impl Timing {
    fn observe(&mut self, secs: f64) {
        self.count += 1;
        self.sum += secs;
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i] += 1;
        }
    }

    fn merge(&mut self, other: &Timing) {
        self.count += other.count;
        self.sum += other.sum;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += b;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

struct Family {
    help: &'static str,
    kind: Kind,
    series: BTreeMap<Vec<(&'static str, String)>, f64>,
}

impl Metrics {
    /// Counts one answered request. `route` is the route template
    /// (`/api/v1/workspaces/{id}`) or [`UNMATCHED`], never the raw path.
    pub fn observe_request(&self, method: &'static str, route: &str, status: u16, took: Duration) {
        let Ok(mut http) = self.inner.http.lock() else { return };
        if !http.contains_key(route) {
            http.insert(route.to_owned(), HashMap::new());
        }
        if let Some(by_route) = http.get_mut(route) {
            by_route.entry((method, status)).or_default().observe(took.as_secs_f64());
        }
    }

    /// Adds to a counter, e.g. `add("steward_mail_sent_total", "Mail accepted
    /// by the SMTP server.", &[("template", "invitation")], 1)`. Counter names
    /// end in `_total`.
    pub fn add(&self, name: &'static str, help: &'static str, labels: &[(&'static str, &str)], by: u64) {
        self.update(name, help, Kind::Counter, labels, |v| *v += by as f64);
    }

    /// Sets a gauge, e.g. `set("steward_jobs", "Jobs by kind and state.",
    /// &[("kind", "mail"), ("state", "pending")], 3.0)`.
    pub fn set(&self, name: &'static str, help: &'static str, labels: &[(&'static str, &str)], value: f64) {
        self.update(name, help, Kind::Gauge, labels, |v| *v = value);
    }

    /// Forgets every series of `name`: a sampler calls it before setting the
    /// current values, so a job kind with nothing left doesn't keep its old count.
    pub fn clear(&self, name: &'static str) {
        if let Ok(mut families) = self.inner.families.lock()
            && let Some(f) = families.get_mut(name)
        {
            f.series.clear();
        }
    }

    /// Runs `sample` at the start of every scrape (bounded by one second), to
    /// set gauges read from the database: jobs pending/running/dead by kind,
    /// the age of the oldest pending job.
    pub fn on_scrape<F, Fut>(&self, sample: F)
    where
        F: Fn(Metrics) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let sampler: Sampler = Arc::new(move |m| Box::pin(sample(m)));
        if let Ok(mut samplers) = self.inner.samplers.lock() {
            samplers.push(sampler);
        }
    }

    fn update(
        &self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        labels: &[(&'static str, &str)],
        change: impl FnOnce(&mut f64),
    ) {
        debug_assert!(valid_name(name), "metric name {name}");
        let Ok(mut families) = self.inner.families.lock() else { return };
        let family = families.entry(name).or_insert_with(|| Family { help, kind, series: BTreeMap::new() });
        if family.kind != kind {
            // One name, one type: the text format can't say both.
            tracing::error!(metric = name, "metric used as both counter and gauge");
            return;
        }
        let key = labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        change(family.series.entry(key).or_insert(0.0));
    }

    /// Samples, then renders everything in the text format.
    pub async fn render(&self, db: &Db) -> String {
        let samplers: Vec<Sampler> = self.inner.samplers.lock().map(|s| s.clone()).unwrap_or_default();
        for sample in samplers {
            if tokio::time::timeout(SAMPLE_TIMEOUT, sample(self.clone())).await.is_err() {
                tracing::warn!("a metrics sampler took longer than a second; its gauges keep their last values");
            }
        }
        let mut out = String::new();
        self.render_http(&mut out);
        render_pool(&mut out, db);
        self.render_families(&mut out);
        out
    }

    fn render_http(&self, out: &mut String) {
        let Ok(http) = self.inner.http.lock() else { return };
        let mut requests: Vec<(&str, &str, u16, u64)> = Vec::new();
        let mut latency: BTreeMap<(&str, &str), Timing> = BTreeMap::new();
        for (route, by) in http.iter() {
            for ((method, status), t) in by {
                requests.push((route, method, *status, t.count));
                latency.entry((route, method)).or_default().merge(t);
            }
        }
        requests.sort_unstable();
        header(
            out,
            "steward_http_requests_total",
            "counter",
            "Requests answered, by method, route template and status.",
        );
        for (route, method, status, count) in requests {
            let status = status.to_string();
            let labels = label_set(&[("method", method), ("route", route), ("status", &status)]);
            let _ = writeln!(out, "steward_http_requests_total{labels} {count}");
        }
        let name = "steward_http_request_duration_seconds";
        header(out, name, "histogram", "Time to answer a request (until its headers), by method and route template.");
        for ((route, method), t) in latency {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(t.buckets) {
                cumulative += n;
                let le = bound.to_string();
                let labels = label_set(&[("method", method), ("route", route), ("le", &le)]);
                let _ = writeln!(out, "{name}_bucket{labels} {cumulative}");
            }
            let labels = label_set(&[("method", method), ("route", route), ("le", "+Inf")]);
            let _ = writeln!(out, "{name}_bucket{labels} {}", t.count);
            let labels = label_set(&[("method", method), ("route", route)]);
            let _ = writeln!(out, "{name}_sum{labels} {}", t.sum);
            let _ = writeln!(out, "{name}_count{labels} {}", t.count);
        }
    }

    fn render_families(&self, out: &mut String) {
        let Ok(families) = self.inner.families.lock() else { return };
        for (name, f) in families.iter() {
            header(out, name, if f.kind == Kind::Counter { "counter" } else { "gauge" }, f.help);
            for (labels, value) in &f.series {
                let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let _ = writeln!(out, "{name}{} {value}", label_set(&pairs));
            }
        }
    }
}

/// Pool gauges, read when scraped (sqlx keeps the counts; nothing to update per request).
fn render_pool(out: &mut String, db: &Db) {
    let pool = db.pool();
    let size = pool.size() as usize;
    let idle = pool.num_idle().min(size);
    header(out, "steward_db_pool_connections", "gauge", "Database connections held by the pool, by state.");
    let _ = writeln!(out, "steward_db_pool_connections{{state=\"in_use\"}} {}", size - idle);
    let _ = writeln!(out, "steward_db_pool_connections{{state=\"idle\"}} {idle}");
    header(out, "steward_db_pool_max_connections", "gauge", "The most connections the pool opens.");
    let _ = writeln!(out, "steward_db_pool_max_connections {}", pool.options().get_max_connections());
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `{a="1",b="x"}` with values escaped as the format wants; empty without labels.
fn label_set(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let mut s = String::from("{");
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let v = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let _ = write!(s, "{k}=\"{v}\"");
    }
    s.push('}');
    s
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The router of the metrics listener: `GET /metrics` only.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(s): State<AppState>) -> Response {
    let body = s.metrics.render(&s.db).await;
    ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_names_checked() {
        assert_eq!(label_set(&[("a", "x\"y\\z\nw")]), r#"{a="x\"y\\z\nw"}"#);
        assert_eq!(label_set(&[]), "");
        assert!(valid_name("steward_jobs_total") && !valid_name("9x") && !valid_name("a-b") && !valid_name(""));
    }

    #[test]
    fn timings_fall_in_the_first_bucket_that_holds_them() {
        let mut t = Timing::default();
        t.observe(0.0005);
        t.observe(0.003);
        t.observe(60.0);
        assert_eq!((t.count, t.buckets[0], t.buckets[2]), (3, 1, 1));
        assert_eq!(t.buckets.iter().sum::<u64>(), 2, "past the last bound only +Inf counts it");
    }
}
