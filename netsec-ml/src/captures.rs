//! Training data from captures plus a label file.
//!
//! Each capture runs through netsec-core's [`FlowPipeline`] (the same flow assembly and
//! features as `netsec flows` and `netsec analyze`, so a model trained here sees exactly the
//! values it will score), and every exported flow becomes one row labelled by the first
//! matching rule of a [`LabelRules`] file (no match = benign), its context features counted
//! over the capture's flows in export order ([`crate::context`]). Captures are read in the order
//! given, each with its own flow table; rows follow the flow export order, so the same captures
//! and labels always give the same dataset (and digest).
//!
//! A capture that cannot be opened or read is an error naming the file and, from the reader,
//! the byte offset. The rows of a capture that fails mid-file are *not* kept (training data
//! should not silently depend on where a file broke): the labeller is left as it was before
//! that capture, apart from class names first met in it.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::flow::{FlowRecord, FlowTableConfig};
use netsec_core::pipeline::FlowPipeline;
use serde::Serialize;

use crate::context::FlowContext;
use crate::dataset::{DataError, Dataset, DatasetBuilder, Location};
use crate::labels::LabelRules;

/// Frames per batch between progress callbacks.
const BATCH: usize = 16 * 1024;

/// How often each label rule matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleHits {
    /// Line of the rule in the label file.
    pub line: u64,
    /// Its class.
    pub label: String,
    /// Flows it labelled (first match only).
    pub flows: usize,
}

/// What labelling captures did besides producing rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaptureReport {
    /// Flows per capture, in input order.
    pub files: Vec<(String, usize)>,
    /// Flows in total.
    pub flows: usize,
    /// Flows no rule matched (benign).
    pub unmatched: usize,
    /// Matches per rule, in file order (a rule with 0 flows probably has a typo).
    pub rules: Vec<RuleHits>,
}

/// Labels the flows of captures read from disk.
#[derive(Debug)]
pub struct CaptureLabeller<'a> {
    rules: &'a LabelRules,
    table: FlowTableConfig,
    builder: DatasetBuilder,
    report: CaptureReport,
}

impl<'a> CaptureLabeller<'a> {
    /// A labeller applying `rules`, assembling flows with `table`.
    pub fn new(rules: &'a LabelRules, table: FlowTableConfig) -> Self {
        let report = CaptureReport {
            rules: rules
                .rules
                .iter()
                .map(|r| RuleHits {
                    line: r.line,
                    label: r.label.clone(),
                    flows: 0,
                })
                .collect(),
            ..CaptureReport::default()
        };
        CaptureLabeller {
            rules,
            table,
            builder: DatasetBuilder::new(),
            report,
        }
    }

    fn add_flow(&mut self, capture: Option<&str>, context: &mut FlowContext, flow: &FlowRecord) {
        let row = context.row(flow, &flow.features());
        let class = match self.rules.position_in(capture, flow) {
            Some(i) => {
                if let Some(hits) = self.report.rules.get_mut(i) {
                    hits.flows += 1;
                }
                let label = &self.rules.rules[i].label;
                self.builder.class_index(label)
            }
            None => {
                self.report.unmatched += 1;
                0
            }
        };
        self.builder.push_row(row, class);
        self.report.flows += 1;
    }

    /// Reads every flow of `source` (named `path` in errors; its file name is the capture name
    /// label rules' `capture` condition sees), calling `progress` with the bytes consumed so
    /// far after every batch of frames.
    ///
    /// # Errors
    /// [`DataError::Capture`] when the source fails (its rows are then dropped);
    /// [`DataError::Invalid`] for an invalid flow-table configuration.
    pub fn add_source<S: PacketSource>(
        &mut self,
        source: S,
        path: &Path,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), DataError> {
        let rows_before = self.builder.len();
        let report_before = self.report.clone();
        let name = capture_name(path);
        let mut context = FlowContext::new();
        let read = read_flows(source, path, self.table, progress, &mut |flow| {
            self.add_flow(name.as_deref(), &mut context, &flow);
        });
        if let Err(e) = read {
            self.builder.truncate(rows_before);
            self.report = report_before;
            return Err(e);
        }
        let added = self.builder.len() - rows_before;
        self.report.files.push((path.display().to_string(), added));
        Ok(())
    }

    /// Opens `path` as a pcap or pcapng capture and reads every flow of it.
    ///
    /// # Errors
    /// As [`add_source`](Self::add_source), plus [`DataError::Io`] / [`DataError::Capture`]
    /// when the file cannot be opened or is not a capture.
    pub fn add_file(
        &mut self,
        path: &Path,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), DataError> {
        let reader = open_capture(path)?;
        self.add_source(reader, path, progress)
    }

    /// The labelled rows and the report.
    pub fn finish(self) -> (Dataset, CaptureReport) {
        (self.builder.finish(), self.report)
    }
}

/// The name label rules know a capture by: its file name without the directory.
pub fn capture_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Opens `path` as a pcap or pcapng capture.
///
/// # Errors
/// [`DataError::Io`] / [`DataError::Capture`] naming the file.
pub fn open_capture(path: &Path) -> Result<PcapReader<BufReader<File>>, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io {
        at: Location::file(path),
        cause: source,
    })?;
    PcapReader::new(BufReader::new(file)).map_err(|source| DataError::Capture {
        at: Location::file(path),
        cause: source,
    })
}

/// Assembles the flows of `source` (named `path` in errors) with `table` and hands each
/// exported flow to `on_flow`, in export order, calling `progress` with the bytes consumed
/// after every batch of frames.
///
/// # Errors
/// [`DataError::Capture`] when the source fails mid-way (the flows already handed over stay
/// with the caller, who decides whether to keep them); [`DataError::Invalid`] for an invalid
/// flow-table configuration.
pub fn read_flows<S: PacketSource>(
    source: S,
    path: &Path,
    table: FlowTableConfig,
    progress: &mut dyn FnMut(u64),
    on_flow: &mut dyn FnMut(FlowRecord),
) -> Result<(), DataError> {
    let mut pipeline = FlowPipeline::new(source, table).map_err(|e| DataError::Invalid {
        at: Location::file(path),
        reason: format!("invalid flow options: {e}"),
    })?;
    let mut flows = Vec::with_capacity(BATCH);
    loop {
        let more =
            pipeline
                .process_batch(BATCH, &mut flows)
                .map_err(|cause| DataError::Capture {
                    at: Location::file(path),
                    cause,
                })?;
        flows.drain(..).for_each(&mut *on_flow);
        progress(pipeline.bytes_consumed());
        if !more {
            break;
        }
    }
    // The flows still open, a batch at a time.
    loop {
        let done = pipeline.finish_batch(BATCH, &mut flows);
        flows.drain(..).for_each(&mut *on_flow);
        if done {
            break;
        }
    }
    Ok(())
}

/// Labels the flows of `captures` (in order) with `rules`.
///
/// # Errors
/// [`DataError`] naming the capture that could not be read.
pub fn load_captures(
    captures: &[PathBuf],
    rules: &LabelRules,
    table: FlowTableConfig,
) -> Result<(Dataset, CaptureReport), DataError> {
    let mut labeller = CaptureLabeller::new(rules, table);
    for path in captures {
        labeller.add_file(path, &mut |_| {})?;
    }
    Ok(labeller.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsec_core::capture::{LinkType, PcapWriter};
    use netsec_core::features::Feature;
    use netsec_core::time::Timestamp;

    /// Raw IPv4/UDP from 10.0.0.`src` port 1000 to 10.0.0.2:`dport` with 4 payload bytes.
    fn udp(src: u8, dport: u8) -> [u8; 32] {
        [
            0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, 2, 0x03, 0xe8, 0,
            dport, 0, 12, 0, 0, 1, 2, 3, 4,
        ]
    }

    fn capture(frames: &[(i64, [u8; 32])]) -> Vec<u8> {
        let mut w =
            PcapWriter::new(Vec::new(), LinkType::RAW, 65535).unwrap_or_else(|e| panic!("{e}"));
        for (ts, f) in frames {
            w.write_packet(Timestamp::from_micros(*ts), f, 32)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        w.into_inner().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn flows_are_labelled_by_first_matching_rule() -> Result<(), DataError> {
        let rules = LabelRules::from_csv(
            "label,src,dst_port,start,end\nScan,10.0.0.9,,,\nDNS,,53,1,2\nLate,,53,2,\n",
            Path::new("l.csv"),
        )?;
        let pcap = capture(&[
            (1_000_000, udp(1, 53)), // DNS window: DNS
            (1_000_001, udp(9, 53)), // Scan (first rule wins)
            (3_000_000, udp(3, 53)), // Late
            (3_000_001, udp(4, 80)), // benign
            (3_000_002, udp(4, 80)), // same flow
        ]);
        let mut l = CaptureLabeller::new(&rules, FlowTableConfig::default());
        let mut calls = 0;
        let source = PcapReader::new(pcap.as_slice()).map_err(|source| DataError::Capture {
            at: Location::file("mem"),
            cause: source,
        })?;
        l.add_source(source, Path::new("mem.pcap"), &mut |_| calls += 1)?;
        assert!(calls >= 1);
        let (d, r) = l.finish();
        assert_eq!(r.flows, 4);
        assert_eq!(r.unmatched, 1);
        assert_eq!(
            r.rules.iter().map(|h| h.flows).collect::<Vec<_>>(),
            vec![1, 1, 1]
        );
        let names: Vec<&str> = d
            .labels
            .iter()
            .map(|&l| d.class_names[l].as_str())
            .collect();
        // Flows leave the table at end of input in the table's export order; check by content.
        let mut pairs: Vec<(f64, &str)> = d
            .features
            .column(Feature::TotFwdPkts.index())
            .iter()
            .copied()
            .zip(names)
            .collect();
        pairs.sort_by(|a, b| a.1.cmp(b.1));
        assert_eq!(
            pairs,
            vec![(2.0, "BENIGN"), (1.0, "DNS"), (1.0, "Late"), (1.0, "Scan")]
        );
        Ok(())
    }

    #[test]
    fn failed_capture_leaves_no_rows() -> Result<(), DataError> {
        // 20,000 one-packet flows a second apart: the first batch of frames exports most of
        // them (idle timeout), then the capture breaks inside a record.
        let frames: Vec<(i64, [u8; 32])> = (0..20_000u32)
            .map(|i| {
                let mut f = udp(1, 53);
                f[20..22].copy_from_slice(&((i % 60_000) as u16 + 1024).to_be_bytes());
                f[14] = (i / 60_000) as u8 + 1;
                (i64::from(i) * 1_000_000, f)
            })
            .collect();
        let pcap = capture(&frames);
        let rules = LabelRules {
            path: "l.csv".into(),
            rules: Vec::new(),
        };
        let mut l = CaptureLabeller::new(&rules, FlowTableConfig::default());
        let whole = PcapReader::new(&pcap[..(pcap.len() / 2) / 48 * 48 + 24]).map_err(|cause| {
            DataError::Capture {
                at: Location::file("mem"),
                cause,
            }
        })?;
        l.add_source(whole, Path::new("ok.pcap"), &mut |_| {})?;
        let kept = l.report.flows;
        assert!(kept > 9_000, "{kept}");
        let cut =
            PcapReader::new(&pcap[..pcap.len() - 10]).map_err(|cause| DataError::Capture {
                at: Location::file("mem"),
                cause,
            })?;
        assert!(l
            .add_source(cut, Path::new("cut.pcap"), &mut |_| {})
            .is_err());
        let (d, r) = l.finish();
        assert_eq!((d.len(), r.flows, r.files.len()), (kept, kept, 1));
        Ok(())
    }

    #[test]
    fn bad_capture_names_the_file() {
        let rules = LabelRules {
            path: "l.csv".into(),
            rules: Vec::new(),
        };
        let mut l = CaptureLabeller::new(&rules, FlowTableConfig::default());
        let dir = std::env::temp_dir().join(format!("netsec-ml-bad-{}.pcap", std::process::id()));
        let _ = std::fs::write(&dir, b"not a capture at all");
        let e = l.add_file(&dir, &mut |_| {}).err().map(|e| e.to_string());
        let _ = std::fs::remove_file(&dir);
        assert!(
            e.as_deref()
                .is_some_and(|e| e.starts_with(&format!("{}: not a pcap", dir.display()))),
            "{e:?}"
        );
    }
}
