//! Training data from CICFlowMeter CSVs (CIC-IDS2017, its "improved" re-extraction,
//! CSE-CIC-IDS2018).
//!
//! Each of our 25 features is read from one CICFlowMeter column. Header names are matched
//! case-insensitively with surrounding blanks ignored (the original CIC-IDS2017 CSVs start
//! most names with a space), and every feature accepts the spellings of the three
//! CICFlowMeter generations in circulation:
//!
//! | feature | CIC-IDS2017 ([`Feature::cic_name`]) | improved CIC-IDS2017 | CSE-CIC-IDS2018 |
//! |---|---|---|---|
//! | `tot_fwd_pkts` | Total Fwd Packets | Total Fwd Packet | Tot Fwd Pkts |
//! | `totlen_fwd` | Total Length of Fwd Packets | Total Length of Fwd Packet | TotLen Fwd Pkts |
//! | `init_fwd_win_bytes` | Init_Win_bytes_forward | FWD Init Win Bytes | Init Fwd Win Byts |
//! | `fwd_act_data_pkts` | act_data_pkt_fwd | Fwd Act Data Pkts | Fwd Act Data Pkts |
//!
//! (and likewise for the others: see [`column_aliases`]). Everything else in the file
//! (`Flow ID`, addresses, ports, `Protocol`, `Timestamp`, the other 60-odd features) is
//! dropped, so a model learns flow behaviour, not the testbed's addresses. The class comes from
//! the `Label` column; `BENIGN` in any case is class 0, other names are kept as written.
//!
//! # Units: the same as ours
//! Checked on the improved CIC-IDS2017 sample in `shared/data/flows` against `FEATURES.md`:
//! durations and inter-arrival times are microseconds; packet lengths are transport payload
//! bytes (a two-packet DNS query of 54-byte payloads gives `Total Length of Fwd Packet` 108);
//! rates are per second of flow duration (`Flow Bytes/s` = bytes / (duration / 10⁶));
//! standard deviations are sample (n − 1) deviations (`Packet Length Std` of
//! 54, 54, 112, 112 is 33.49); `Packet Length Mean` counts each packet once in the improved
//! data (the original CIC-IDS2017 counted the first packet twice).
//!
//! # Caveats: why CIC rows are not our rows
//! CICFlowMeter's values differ from `netsec flows` on the same traffic, so a model trained on
//! CIC CSVs scores our flows with a shift it never saw:
//! - **Flow boundaries.** CICFlowMeter ends a TCP flow at the first FIN, so the rest of the
//!   teardown becomes a separate short flow; it uses a 120 s *activity* timeout where we use a
//!   120 s idle plus 1800 s active timeout. Long flows are cut differently, and CIC data holds
//!   many 1–2 packet "teardown" flows we never produce.
//! - **`act_data_pkt_fwd`** does not count the first packet (a CICFlowMeter bug our definition
//!   fixes). When `Fwd Packet Length Min` is present and positive, every forward packet carried
//!   payload and the exact value is `Total Fwd Packets`, which we use (2,650 of the 2,656 such
//!   rows of the sample had exactly one less); otherwise the CIC value is kept, which is exact
//!   when the first forward packet had no payload (a TCP SYN) and one short otherwise (UDP).
//! - **`Init_Win_bytes_backward`** holds the *last* backward window in the original
//!   CICFlowMeter, not the first; the original data also uses −1 for "no such packet" where we
//!   use 0. Negative values are clamped to 0 (counted in [`CicReport::negatives_clamped`]).
//! - **Rates** are `NaN` or `Infinity` in the original CIC-IDS2017 when the duration is 0;
//!   ours are 0. Non-finite values are replaced by 0 (counted in
//!   [`CicReport::non_finite_replaced`]).
//! - **Header lengths, timestamps** are not used; CICFlowMeter's clock and ordering bugs
//!   (negative IATs in the original data) end up clamped to 0 as above.
//!
//! # Bad rows
//! A row with a missing, empty or non-numeric value in one of the 25 columns, or without a
//! label, is an error naming the file and line ([`DataError::Invalid`]), unless
//! [`CicOptions::skip_bad_rows`] is set: then it is skipped and counted in
//! [`CicReport::skipped_rows`] (the first few are described in [`CicReport::skipped_examples`]).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use netsec_core::features::{Feature, FEATURE_COUNT};
use serde::Serialize;

use crate::dataset::{DataError, Dataset, DatasetBuilder, Location};
use crate::inputs::without_context;

/// How CIC CSVs are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CicOptions {
    /// Skip (and count) rows that cannot be read instead of failing.
    pub skip_bad_rows: bool,
}

/// What loading CIC CSVs did besides producing rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CicReport {
    /// Rows read, per file, in input order.
    pub files: Vec<(String, usize)>,
    /// Rows kept in total.
    pub rows: usize,
    /// Rows skipped as unreadable (only with [`CicOptions::skip_bad_rows`]).
    pub skipped_rows: usize,
    /// `file:line: reason` of the first few skipped rows.
    pub skipped_examples: Vec<String>,
    /// `NaN` / `Infinity` values replaced by 0.
    pub non_finite_replaced: usize,
    /// Negative values (−1 defaults, clock bugs) clamped to 0.
    pub negatives_clamped: usize,
    /// Rows whose `fwd_act_data_pkts` was corrected to `Total Fwd Packets` (see module docs).
    pub act_data_corrected: usize,
}

/// How many skipped rows [`CicReport::skipped_examples`] describes.
const SKIPPED_EXAMPLES: usize = 5;

/// Accepted CSV header names for `feature` (compared case-insensitively, blanks trimmed): the
/// original CIC-IDS2017 name first, then the improved CIC-IDS2017 and CSE-CIC-IDS2018 ones.
pub fn column_aliases(feature: Feature) -> &'static [&'static str] {
    use Feature::*;
    match feature {
        FlowDuration => &["Flow Duration"],
        TotFwdPkts => &["Total Fwd Packets", "Total Fwd Packet", "Tot Fwd Pkts"],
        TotBwdPkts => &[
            "Total Backward Packets",
            "Total Bwd packets",
            "Tot Bwd Pkts",
        ],
        TotlenFwd => &[
            "Total Length of Fwd Packets",
            "Total Length of Fwd Packet",
            "TotLen Fwd Pkts",
        ],
        TotlenBwd => &[
            "Total Length of Bwd Packets",
            "Total Length of Bwd Packet",
            "TotLen Bwd Pkts",
        ],
        FwdPktLenMax => &["Fwd Packet Length Max", "Fwd Pkt Len Max"],
        FwdPktLenMean => &["Fwd Packet Length Mean", "Fwd Pkt Len Mean"],
        BwdPktLenMax => &["Bwd Packet Length Max", "Bwd Pkt Len Max"],
        BwdPktLenMean => &["Bwd Packet Length Mean", "Bwd Pkt Len Mean"],
        BwdPktLenStd => &["Bwd Packet Length Std", "Bwd Pkt Len Std"],
        PktLenMean => &["Packet Length Mean", "Pkt Len Mean"],
        PktLenStd => &["Packet Length Std", "Pkt Len Std"],
        FlowBytesS => &["Flow Bytes/s", "Flow Byts/s"],
        FlowPktsS => &["Flow Packets/s", "Flow Pkts/s"],
        BwdPktsS => &["Bwd Packets/s", "Bwd Pkts/s"],
        FlowIatMean => &["Flow IAT Mean"],
        FlowIatStd => &["Flow IAT Std"],
        FlowIatMax => &["Flow IAT Max"],
        FwdIatMin => &["Fwd IAT Min"],
        BwdIatMean => &["Bwd IAT Mean"],
        InitFwdWinBytes => &[
            "Init_Win_bytes_forward",
            "FWD Init Win Bytes",
            "Init Fwd Win Byts",
        ],
        InitBwdWinBytes => &[
            "Init_Win_bytes_backward",
            "Bwd Init Win Bytes",
            "Init Bwd Win Byts",
        ],
        FwdActDataPkts => &["act_data_pkt_fwd", "Fwd Act Data Pkts"],
        SynFlagCnt => &["SYN Flag Count", "SYN Flag Cnt"],
        PshFlagCnt => &["PSH Flag Count", "PSH Flag Cnt"],
    }
}

/// Header names of the optional column used to correct `fwd_act_data_pkts`.
const FWD_LEN_MIN: &[&str] = &["Fwd Packet Length Min", "Fwd Pkt Len Min"];
/// Header name of the class column.
const LABEL: &str = "Label";

fn header_matches(header: &[u8], name: &str) -> bool {
    String::from_utf8_lossy(header)
        .trim()
        .eq_ignore_ascii_case(name)
}

fn find_column(headers: &csv::ByteRecord, names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|name| headers.iter().position(|h| header_matches(h, name)))
}

/// Column positions of one file's header.
struct Columns {
    features: [usize; FEATURE_COUNT],
    fwd_len_min: Option<usize>,
    label: usize,
}

impl Columns {
    fn from_header(headers: &csv::ByteRecord, at: &Location) -> Result<Self, DataError> {
        let mut features = [0; FEATURE_COUNT];
        let mut missing = Vec::new();
        for f in Feature::ALL {
            match find_column(headers, column_aliases(f)) {
                Some(i) => features[f.index()] = i,
                None => missing.push(f.cic_name()),
            }
        }
        let label = find_column(headers, &[LABEL]);
        if label.is_none() {
            missing.push(LABEL);
        }
        match label {
            Some(label) if missing.is_empty() => Ok(Columns {
                features,
                fwd_len_min: find_column(headers, FWD_LEN_MIN),
                label,
            }),
            _ => Err(DataError::Invalid {
                at: at.clone(),
                reason: format!(
                    "not a CICFlowMeter CSV: missing column(s) {}",
                    missing.join(", ")
                ),
            }),
        }
    }
}

/// Counters a row updates only once it is accepted.
#[derive(Default)]
struct RowFixes {
    non_finite: usize,
    negative: usize,
    act_data: bool,
}

fn parse_value(field: &[u8], fixes: &mut RowFixes) -> Result<f64, String> {
    let text = std::str::from_utf8(field)
        .map_err(|_| "value is not UTF-8".to_string())?
        .trim();
    if text.is_empty() {
        return Err("empty value".to_string());
    }
    let v: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !v.is_finite() {
        fixes.non_finite += 1;
        Ok(0.0)
    } else if v < 0.0 {
        fixes.negative += 1;
        Ok(0.0)
    } else {
        Ok(v)
    }
}

fn parse_row(
    record: &csv::ByteRecord,
    cols: &Columns,
) -> Result<([f64; FEATURE_COUNT], String, RowFixes), String> {
    let mut fixes = RowFixes::default();
    let mut row = [0.0; FEATURE_COUNT];
    for f in Feature::ALL {
        let field = record
            .get(cols.features[f.index()])
            .ok_or_else(|| format!("missing {:?}", f.cic_name()))?;
        row[f.index()] =
            parse_value(field, &mut fixes).map_err(|e| format!("{}: {e}", f.cic_name()))?;
    }
    if let Some(min) = cols.fwd_len_min.and_then(|i| record.get(i)) {
        let mut ignored = RowFixes::default();
        if parse_value(min, &mut ignored).is_ok_and(|m| m > 0.0) {
            let total = row[Feature::TotFwdPkts.index()];
            let act = &mut row[Feature::FwdActDataPkts.index()];
            if *act != total {
                *act = total;
                fixes.act_data = true;
            }
        }
    }
    let label = record
        .get(cols.label)
        .map(|l| String::from_utf8_lossy(l).trim().to_string())
        .filter(|l| !l.is_empty())
        .ok_or_else(|| "empty label".to_string())?;
    Ok((row, label, fixes))
}

/// Reads one CICFlowMeter CSV from `input` (named `path` in errors and the report) into
/// `builder`.
///
/// # Errors
/// [`DataError::Invalid`] naming `path` and the line for a missing column, a malformed CSV
/// record, or (without [`CicOptions::skip_bad_rows`]) a row that cannot be read.
pub fn read_cic(
    input: impl Read,
    path: &Path,
    builder: &mut DatasetBuilder,
    opts: CicOptions,
    report: &mut CicReport,
) -> Result<(), DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let headers = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .clone();
    let cols = Columns::from_header(&headers, &Location::line(path, 1))?;
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        match parse_row(&record, &cols) {
            Ok((row, label, fixes)) => {
                report.non_finite_replaced += fixes.non_finite;
                report.negatives_clamped += fixes.negative;
                report.act_data_corrected += usize::from(fixes.act_data);
                builder.push(&without_context(&row), &label);
                rows += 1;
            }
            Err(reason) if opts.skip_bad_rows => {
                report.skipped_rows += 1;
                if report.skipped_examples.len() < SKIPPED_EXAMPLES {
                    report
                        .skipped_examples
                        .push(format!("{}: {reason}", Location::line(path, line)));
                }
            }
            Err(reason) => {
                return Err(DataError::Invalid {
                    at: Location::line(path, line),
                    reason,
                })
            }
        }
    }
    report.files.push((path.display().to_string(), rows));
    report.rows += rows;
    Ok(())
}

fn csv_error(path: &Path, e: csv::Error) -> DataError {
    let line = e.position().map(|p| p.line());
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8: {err}"),
        _ => e.to_string(),
    };
    match e.into_kind() {
        csv::ErrorKind::Io(source) => DataError::Io {
            at: Location::file(path),
            cause: source,
        },
        _ => DataError::Invalid {
            at: Location {
                line,
                ..Location::file(path)
            },
            reason: format!("malformed CSV: {reason}"),
        },
    }
}

/// `paths` with every directory replaced by the `*.csv` files directly inside it, sorted by
/// name (so the row order, and the dataset digest, do not depend on the file system).
///
/// # Errors
/// [`DataError::Io`] when a directory cannot be listed.
pub fn expand_csv_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DataError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let io = |source| DataError::Io {
                at: Location::file(p),
                cause: source,
            };
            let mut files = Vec::new();
            for entry in std::fs::read_dir(p).map_err(io)? {
                let path = entry.map_err(io)?.path();
                let is_csv = path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
                if is_csv && path.is_file() {
                    files.push(path);
                }
            }
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Loads CICFlowMeter CSV files (directories expand to their `*.csv`, see
/// [`expand_csv_paths`]) into one dataset, in file order.
///
/// # Errors
/// [`DataError`] naming the file (and line) that could not be read.
pub fn load_cic(paths: &[PathBuf], opts: CicOptions) -> Result<(Dataset, CicReport), DataError> {
    let mut builder = DatasetBuilder::new();
    let mut report = CicReport::default();
    for path in expand_csv_paths(paths)? {
        let file = File::open(&path).map_err(|source| DataError::Io {
            at: Location::file(&path),
            cause: source,
        })?;
        read_cic(
            std::io::BufReader::new(file),
            &path,
            &mut builder,
            opts,
            &mut report,
        )?;
    }
    Ok((builder.finish(), report))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header of the improved CIC-IDS2017 (91 columns), as in the shared sample.
    const IMPROVED_HEADER: &str = "id,Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,Total Bwd packets,Total Length of Fwd Packet,Total Length of Bwd Packet,Fwd Packet Length Max,Fwd Packet Length Min,Fwd Packet Length Mean,Fwd Packet Length Std,Bwd Packet Length Max,Bwd Packet Length Min,Bwd Packet Length Mean,Bwd Packet Length Std,Flow Bytes/s,Flow Packets/s,Flow IAT Mean,Flow IAT Std,Flow IAT Max,Flow IAT Min,Fwd IAT Total,Fwd IAT Mean,Fwd IAT Std,Fwd IAT Max,Fwd IAT Min,Bwd IAT Total,Bwd IAT Mean,Bwd IAT Std,Bwd IAT Max,Bwd IAT Min,Fwd PSH Flags,Bwd PSH Flags,Fwd URG Flags,Bwd URG Flags,Fwd RST Flags,Bwd RST Flags,Fwd Header Length,Bwd Header Length,Fwd Packets/s,Bwd Packets/s,Packet Length Min,Packet Length Max,Packet Length Mean,Packet Length Std,Packet Length Variance,FIN Flag Count,SYN Flag Count,RST Flag Count,PSH Flag Count,ACK Flag Count,URG Flag Count,CWR Flag Count,ECE Flag Count,Down/Up Ratio,Average Packet Size,Fwd Segment Size Avg,Bwd Segment Size Avg,Fwd Bytes/Bulk Avg,Fwd Packet/Bulk Avg,Fwd Bulk Rate Avg,Bwd Bytes/Bulk Avg,Bwd Packet/Bulk Avg,Bwd Bulk Rate Avg,Subflow Fwd Packets,Subflow Fwd Bytes,Subflow Bwd Packets,Subflow Bwd Bytes,FWD Init Win Bytes,Bwd Init Win Bytes,Fwd Act Data Pkts,Fwd Seg Size Min,Active Mean,Active Std,Active Max,Active Min,Idle Mean,Idle Std,Idle Max,Idle Min,ICMP Code,ICMP Type,Total TCP Flow Time,Label,Attempted Category";
    /// The first row of the sample's BENIGN_2500.csv (a DNS exchange).
    const DNS_ROW: &str = "154994,192.168.10.5-192.168.10.3-53633-53-17,192.168.10.5,53633,192.168.10.3,53,17,2017-07-07 12:59:21.088203,25324,2,2,108,224,54,54,54.0,0.0,112,112,112.0,0.0,13110.093192228716,157.95293002685202,8441.333333333332,14576.668286454673,25273,3,48,48.0,0.0,48,48,3,3.0,0.0,3,3,0,0,0,0,0,0,16,16,78.97646501342601,78.97646501342601,54,112,83.0,33.48631561299829,1121.3333333333333,0,0,0,0,0,0,0,0,1.0,83.0,54.0,112.0,0,0,0,0,0,0,0,27,0,56,0,0,1,8,0.0,0.0,0,0,0.0,0.0,0,0,-1,-1,0,BENIGN,-1";

    fn load(text: &str, opts: CicOptions) -> Result<(Dataset, CicReport), DataError> {
        let mut b = DatasetBuilder::new();
        let mut r = CicReport::default();
        read_cic(text.as_bytes(), Path::new("t.csv"), &mut b, opts, &mut r)?;
        Ok((b.finish(), r))
    }

    #[test]
    fn improved_row_maps_onto_our_features() -> Result<(), DataError> {
        let (d, r) = load(
            &format!("{IMPROVED_HEADER}\n{DNS_ROW}\n"),
            CicOptions::default(),
        )?;
        assert_eq!(d.len(), 1);
        assert_eq!(d.labels, vec![0]);
        let get = |f: Feature| d.features[[0, f.index()]];
        assert_eq!(get(Feature::FlowDuration), 25324.0);
        assert_eq!(get(Feature::TotFwdPkts), 2.0);
        assert_eq!(get(Feature::TotBwdPkts), 2.0);
        assert_eq!(get(Feature::TotlenFwd), 108.0);
        assert_eq!(get(Feature::TotlenBwd), 224.0);
        assert_eq!(get(Feature::FwdPktLenMax), 54.0);
        assert_eq!(get(Feature::BwdPktLenMean), 112.0);
        assert_eq!(get(Feature::PktLenMean), 83.0);
        assert_eq!(get(Feature::PktLenStd), 33.48631561299829);
        assert_eq!(get(Feature::FlowBytesS), 13110.093192228716);
        assert_eq!(get(Feature::BwdPktsS), 78.97646501342601);
        assert_eq!(get(Feature::FlowIatMax), 25273.0);
        assert_eq!(get(Feature::FwdIatMin), 48.0);
        assert_eq!(get(Feature::BwdIatMean), 3.0);
        assert_eq!(get(Feature::InitFwdWinBytes), 0.0);
        // CIC says 1 (first packet not counted); both forward packets carried 54 bytes.
        assert_eq!(get(Feature::FwdActDataPkts), 2.0);
        assert_eq!(r.act_data_corrected, 1);
        assert_eq!(get(Feature::SynFlagCnt), 0.0);
        assert_eq!(r.rows, 1);
        assert_eq!(r.files, vec![("t.csv".to_string(), 1)]);
        Ok(())
    }

    #[test]
    fn original_cic2017_names_with_leading_blanks_and_infinity() -> Result<(), DataError> {
        let names: Vec<String> = Feature::ALL
            .iter()
            .map(|f| format!(" {}", f.cic_name()))
            .collect();
        let header = format!("Destination Port,{}, Label", names.join(","));
        let mut values: Vec<String> = (0..FEATURE_COUNT).map(|i| format!("{i}")).collect();
        values[Feature::FlowBytesS.index()] = "Infinity".into();
        values[Feature::FlowPktsS.index()] = "NaN".into();
        values[Feature::InitBwdWinBytes.index()] = "-1".into();
        let text = format!("{header}\n80,{}, DoS Hulk\n", values.join(","));
        let (d, r) = load(&text, CicOptions::default())?;
        assert_eq!(d.class_names, vec!["BENIGN", "DoS Hulk"]);
        assert_eq!(d.labels, vec![1]);
        assert_eq!(d.features[[0, Feature::FlowBytesS.index()]], 0.0);
        assert_eq!(d.features[[0, Feature::FlowPktsS.index()]], 0.0);
        assert_eq!(d.features[[0, Feature::InitBwdWinBytes.index()]], 0.0);
        assert_eq!(d.features[[0, Feature::PshFlagCnt.index()]], 24.0);
        assert_eq!(r.non_finite_replaced, 2);
        assert_eq!(r.negatives_clamped, 1);
        Ok(())
    }

    #[test]
    fn every_feature_has_its_cic_name_as_first_alias() {
        for f in Feature::ALL {
            assert_eq!(column_aliases(f).first(), Some(&f.cic_name()), "{f}");
        }
    }

    #[test]
    fn bad_row_names_file_and_line() {
        let bad = DNS_ROW.replacen("25324", "abc", 1);
        let text = format!("{IMPROVED_HEADER}\n{DNS_ROW}\n{bad}\n{DNS_ROW}\n");
        let err = load(&text, CicOptions::default())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("t.csv:3: Flow Duration: \"abc\" is not a number")
        );
        let skip = CicOptions {
            skip_bad_rows: true,
        };
        let (d, r) = load(&text, skip).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.len(), 2);
        assert_eq!(r.skipped_rows, 1);
        assert_eq!(
            r.skipped_examples,
            vec!["t.csv:3: Flow Duration: \"abc\" is not a number"]
        );
    }

    #[test]
    fn short_row_and_missing_columns_are_errors() {
        let text = format!("{IMPROVED_HEADER}\n1,2,3\n");
        let err = load(&text, CicOptions::default())
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.starts_with("t.csv:2: ")),
            "{err:?}"
        );
        let err = load("a,b,Label\n1,2,x\n", CicOptions::default())
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.starts_with(
                "t.csv:1: not a CICFlowMeter CSV: missing column(s) Flow Duration, Total Fwd Packets"
            )),
            "{err:?}"
        );
    }

    #[test]
    fn empty_label_is_an_error() {
        let row = DNS_ROW.replace(",BENIGN,", ",,");
        let err = load(
            &format!("{IMPROVED_HEADER}\n{row}\n"),
            CicOptions::default(),
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("t.csv:2: empty label"));
    }
}
