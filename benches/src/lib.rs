//! Bench inputs, loaded once outside the timed closures.
//!
//! The default input is the repository's bundled `samples/synthetic.pcap`; set
//! `NETSEC_BENCH_PCAP=/path/to/file.pcap` to bench another capture (e.g. one made with
//! `../shared/tools/gen_pcap.py`).

use std::path::PathBuf;

use netsec_core::capture::{LinkType, PacketSource, PcapReader};
use netsec_core::time::Timestamp;
use netsec_ml::dataset::Dataset;

use ndarray::Array2;

/// One captured frame, owned.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Capture time.
    pub ts: Timestamp,
    /// Link type.
    pub link_type: LinkType,
    /// Captured bytes.
    pub data: Vec<u8>,
    /// Wire length.
    pub orig_len: u32,
}

/// Path of the bench capture.
pub fn capture_path() -> PathBuf {
    std::env::var_os("NETSEC_BENCH_PCAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/synthetic.pcap")
        })
}

/// The bench capture's bytes.
///
/// # Panics
/// When the capture cannot be read (benches have no other way to report it).
pub fn capture_bytes() -> Vec<u8> {
    let path = capture_path();
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every frame of the bench capture.
///
/// # Panics
/// When the capture is not readable to the end.
pub fn frames() -> Vec<Frame> {
    let bytes = capture_bytes();
    let mut reader = PcapReader::new(bytes.as_slice()).expect("bench capture header");
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet().expect("bench capture readable") {
        out.push(Frame {
            ts: p.ts,
            link_type: p.link_type,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
        });
    }
    out
}

/// A fixed-seed xorshift generator for synthetic bench inputs (rules, payloads): no extra
/// dependency, and the same inputs every run.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

impl Rng {
    /// A value uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Synthetic labelled flow-feature rows for the ML benches: `n` rows of 25 features in
/// `classes` classes (row `i` has class `i % classes`, class 0 benign). Each class draws each
/// feature log-normally (spread 1 in log space) around its own centre, the centres uniform over
/// `centre_range` in log space: about 3 gives heavily overlapping classes and deep trees
/// (~3,000 nodes each, a pessimistic case for scoring), 8 well separated classes and small
/// trees. Count-like columns are rounded.
pub fn ml_rows(
    n: usize,
    classes: usize,
    centre_range: f64,
    seed: u64,
) -> (Vec<[f64; 25]>, Vec<usize>) {
    let mut rng = Rng(seed | 1);
    let centres: Vec<[f64; 25]> = (0..classes)
        .map(|_| std::array::from_fn(|_| 1.0 + rng.unit() * centre_range))
        .collect();
    let mut rows = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % classes.max(1);
        let row = std::array::from_fn(|j| {
            // Sum of uniforms: roughly normal, spread 1 in log space.
            let noise: f64 = (0..3).map(|_| rng.unit() - 0.5).sum::<f64>() * 2.0;
            let v = (centres[class][j] + noise).exp();
            if (1..=4).contains(&j) || j >= 22 {
                v.round()
            } else {
                v
            }
        });
        rows.push(row);
        labels.push(class);
    }
    (rows, labels)
}

/// Rows of [`ml_rows`] as an `n × 25` feature matrix.
pub fn ml_matrix(rows: &[[f64; 25]]) -> Array2<f64> {
    let width = netsec_ml::inputs::INPUT_COUNT;
    Array2::from_shape_fn((rows.len(), width), |(i, j)| {
        rows[i].get(j).copied().unwrap_or(0.0)
    })
}

/// [`ml_rows`] as a training [`Dataset`]; class 0 is named `BENIGN`, class `c` `class_c`.
pub fn ml_dataset(n: usize, classes: usize, centre_range: f64, seed: u64) -> Dataset {
    let (rows, labels) = ml_rows(n, classes, centre_range, seed);
    Dataset {
        features: ml_matrix(&rows),
        labels,
        class_names: (0..classes)
            .map(|c| {
                if c == 0 {
                    "BENIGN".into()
                } else {
                    format!("class_{c}")
                }
            })
            .collect(),
    }
}

/// The flow the ML benches score: 10.0.0.1:40000 -> 10.0.0.2:80 TCP, ended by FIN, no
/// statistics (the benches hand the detectors their feature vectors separately).
pub fn ml_flow() -> netsec_core::flow::FlowRecord {
    netsec_core::flow::FlowRecord {
        id: 1,
        first_ts: Timestamp::from_micros(0),
        last_ts: Timestamp::from_micros(1),
        src_addr: std::net::IpAddr::from([10, 0, 0, 1]),
        src_port: 40000,
        dst_addr: std::net::IpAddr::from([10, 0, 0, 2]),
        dst_port: 80,
        protocol: netsec_core::decode::IpProtocol::TCP,
        end_reason: netsec_core::flow::EndReason::Fin,
        stats: netsec_core::flow::FlowStats::default(),
        app_proto: netsec_core::app::AppProto::Unknown,
        app: None,
    }
}

/// `n` copies of [`ml_flow`] from 64 sources (10.0.1.0–63), one second apart: what the
/// episode benches feed the forest detector inside the episode aggregation.
pub fn ml_flows(n: usize) -> Vec<netsec_core::flow::FlowRecord> {
    (0..n)
        .map(|i| {
            let mut f = ml_flow();
            f.src_addr = std::net::IpAddr::from([10, 0, 1, (i % 64) as u8]);
            f.last_ts = Timestamp::from_micros(i as i64 * 1_000_000);
            f
        })
        .collect()
}

/// User plus system CPU time of this process, in seconds (`/proc/self/stat`, 100 ticks/s;
/// `None` off Linux): timing per CPU second stays meaningful on a machine busy with other
/// work.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
