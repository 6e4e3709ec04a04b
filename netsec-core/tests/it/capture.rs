//! The capture reader over the whole real-capture corpus (`MANIFEST.tsv`).
//!
//! Every file is read to its end: no panic, the packet count matches the manifest's `packets`
//! column (complete records), `format:`, `benign:` and `attack:` files end cleanly, and broken
//! `malformed:` files end with a clear error after yielding the packets before the damage.

use netsec_core::capture::{drain, CaptureError, PcapReader};

use crate::util;

#[test]
fn every_corpus_file_reads_to_the_manifest_count() {
    let Some(rows) = util::manifest() else { return };
    let Some(dir) = util::pcaps_dir_or_skip("capture corpus") else {
        return;
    };
    let mut failures = Vec::new();
    let (mut clean, mut errored) = (0usize, 0usize);
    println!("{:<52} {:>7} {:>7}  outcome", "file", "packets", "expect");
    for row in &rows {
        let path = dir.join(&row.path);
        let summary = match PcapReader::open(&path) {
            Ok(mut r) => drain(&mut r),
            Err(e) => netsec_core::capture::DrainSummary {
                packets: 0,
                captured_bytes: 0,
                bytes_consumed: 0,
                error: Some(e),
            },
        };
        let outcome = match &summary.error {
            None => {
                clean += 1;
                "ok".to_string()
            }
            Some(e) => {
                errored += 1;
                format!("ERR {e}")
            }
        };
        if summary.error.is_some() || summary.packets != row.packets {
            println!(
                "{:<52} {:>7} {:>7}  {outcome}",
                row.path, summary.packets, row.packets
            );
        }
        if summary.packets != row.packets {
            failures.push(format!(
                "{}: read {} packets, manifest says {}",
                row.path, summary.packets, row.packets
            ));
        }
        let broken_allowed = row.label.starts_with("malformed:");
        if let Some(e) = &summary.error {
            if !broken_allowed {
                failures.push(format!(
                    "{} ({}): unexpected error {e}",
                    row.path, row.label
                ));
            }
            // A clean error: carries an offset inside the file (or is about its format).
            if let Some(off) = e.offset() {
                assert!(off <= row.bytes, "{}: offset {off} past the end", row.path);
            }
        } else {
            assert_eq!(
                summary.bytes_consumed, row.bytes,
                "{}: clean end must consume the whole file",
                row.path
            );
        }
    }
    println!(
        "{} files: {} read cleanly, {} ended with an error, {} mismatches",
        rows.len(),
        clean,
        errored,
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn truncated_last_record_reports_its_offset() {
    let Some(path) = util::pcap("malformed/sv_tls_der_incomplete.pcap") else {
        return;
    };
    let mut r = PcapReader::open(&path).expect("header");
    let s = drain(&mut r);
    assert_eq!(s.packets, 6);
    match s.error {
        Some(CaptureError::Truncated { offset }) => {
            assert_eq!(offset, s.bytes_consumed, "offset of the incomplete record");
            assert!(offset < 5696);
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
}
