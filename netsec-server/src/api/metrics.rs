//! Prometheus `/metrics`: capture counters named as Suricata names them, flows, alerts by
//! severity, stream clients, the writer, the database size and HTTP latency by route. The
//! registry belongs to the server (no global recorder); capture figures are read from the
//! engine's atomics at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::engine::{AlertHub, CaptureStats};
use crate::storage::StoreWriter;

/// Labels of an HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct HttpLabels {
    /// The method.
    pub method: String,
    /// The route template (`/api/v1/alerts/{id}`), never the raw path.
    pub route: String,
    /// The response status.
    pub status: u16,
}

/// The server's metrics.
pub struct Metrics {
    registry: OnceLock<Registry>,
    http: Family<HttpLabels, Histogram>,
    /// Database size in bytes, as of the last retention pass.
    pub db_bytes: Arc<AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

/// Reads the engine at scrape time.
#[derive(Debug)]
struct Live {
    stats: Arc<CaptureStats>,
    hub: Arc<AlertHub>,
    writer: Arc<StoreWriter>,
    db_bytes: Arc<AtomicU64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SeverityLabel {
    severity: &'static str,
}

fn counter(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    v: u64,
) -> Result<(), std::fmt::Error> {
    ConstCounter::new(v).encode(e.encode_descriptor(name, help, None, MetricType::Counter)?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: i64) -> Result<(), std::fmt::Error> {
    ConstGauge::new(v).encode(e.encode_descriptor(name, help, None, MetricType::Gauge)?)
}

impl Collector for Live {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut e,
            "netsec_capture_kernel_packets",
            "Packets the kernel (or file) delivered (Suricata capture.kernel_packets)",
            get(&s.kernel_packets),
        )?;
        counter(
            &mut e,
            "netsec_capture_kernel_drops",
            "Packets the kernel dropped (Suricata capture.kernel_drops)",
            get(&s.kernel_drops),
        )?;
        counter(
            &mut e,
            "netsec_packets",
            "Packets the sensor processed",
            get(&s.packets),
        )?;
        counter(
            &mut e,
            "netsec_bytes",
            "Bytes of the packets processed",
            get(&s.bytes),
        )?;
        counter(
            &mut e,
            "netsec_flows",
            "Flows finished and exported",
            get(&s.flows),
        )?;
        gauge(
            &mut e,
            "netsec_flows_active",
            "Flows in the flow table",
            i64::try_from(get(&s.flows_active)).unwrap_or(i64::MAX),
        )?;
        {
            let mut m = e.encode_descriptor(
                "netsec_alerts",
                "Alerts raised, by severity",
                None,
                MetricType::Counter,
            )?;
            for (i, name) in ["low", "medium", "high", "critical"]
                .into_iter()
                .enumerate()
            {
                ConstCounter::new(get(&s.alerts[i]))
                    .encode(m.encode_family(&SeverityLabel { severity: name })?)?;
            }
        }
        gauge(
            &mut e,
            "netsec_ws_clients",
            "WebSocket and SSE clients connected",
            i64::try_from(self.hub.clients()).unwrap_or(i64::MAX),
        )?;
        counter(
            &mut e,
            "netsec_stream_missed_alerts",
            "Alerts stream clients missed by falling behind",
            self.hub.missed(),
        )?;
        counter(
            &mut e,
            "netsec_stream_dropped_clients",
            "Stream clients dropped for staying behind",
            self.hub.dropped_clients(),
        )?;
        let w = self.writer.stats();
        counter(
            &mut e,
            "netsec_store_transactions",
            "Write transactions committed",
            get(&w.transactions),
        )?;
        counter(
            &mut e,
            "netsec_store_alerts",
            "Alerts stored",
            get(&w.alerts),
        )?;
        counter(&mut e, "netsec_store_flows", "Flows stored", get(&w.flows))?;
        counter(
            &mut e,
            "netsec_store_failed_writes",
            "Write transactions that failed",
            get(&w.failed),
        )?;
        gauge(
            &mut e,
            "netsec_db_size_bytes",
            "Database size in bytes (live pages)",
            i64::try_from(get(&self.db_bytes)).unwrap_or(i64::MAX),
        )?;
        counter(
            &mut e,
            "netsec_rule_reloads",
            "Rule reloads applied to the running capture",
            get(&s.rule_reloads),
        )?;
        Ok(())
    }
}

impl Metrics {
    /// Empty metrics; [`attach`](Self::attach) registers the engine's.
    pub fn new() -> Metrics {
        Metrics {
            registry: OnceLock::new(),
            http: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
            db_bytes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Registers the engine's figures and the HTTP histogram (once).
    pub fn attach(&self, stats: Arc<CaptureStats>, hub: Arc<AlertHub>, writer: Arc<StoreWriter>) {
        let mut registry = Registry::default();
        registry.register(
            "netsec_http_request_duration_seconds",
            "HTTP request latency by method, route and status",
            self.http.clone(),
        );
        registry.register_collector(Box::new(Live {
            stats,
            hub,
            writer,
            db_bytes: Arc::clone(&self.db_bytes),
        }));
        let _ = self.registry.set(registry);
    }

    /// Records one request's latency.
    pub fn observe_http(&self, labels: &HttpLabels, seconds: f64) {
        self.http.get_or_create(labels).observe(seconds);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(r) = self.registry.get() {
            let _ = prometheus_client::encoding::text::encode(&mut out, r);
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
