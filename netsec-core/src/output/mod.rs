//! Flow output: the [`FlowSink`] trait and its writers: CSV and JSON Lines in the column order
//! of `FEATURES.md`, and Suricata EVE `flow` events ([`EveFlowWriter`]).
//!
//! Identity columns first (`flow_id, first_ts, last_ts, src_ip, src_port, dst_ip, dst_port,
//! protocol, end_reason`), then the 25 features by [`Feature::name`], then the application
//! columns (not features): `app_proto` and one column per [`AppField`] by [`AppField::name`]
//! (empty when the flow has no such fact; JSON Lines omits absent facts). Numbers are written
//! without locale or platform dependence (integers digit by digit, other floats as the shortest
//! round-trip form via `zmij`, the successor of `ryu` that serde_json uses), so the same capture always gives byte-identical output.

mod eve;

pub use eve::EveFlowWriter;

use std::io::{self, Write};
use std::net::IpAddr;

use crate::app::AppField;
use crate::detect::SinkError;
use crate::features::Feature;
use crate::flow::FlowRecord;
use crate::time::Timestamp;

/// The identity columns that precede the features.
pub const IDENTITY_COLUMNS: [&str; 9] = [
    "flow_id",
    "first_ts",
    "last_ts",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "protocol",
    "end_reason",
];

/// The column naming the flow's application protocol, after the features.
pub const APP_PROTO_COLUMN: &str = "app_proto";

/// Output format for flow records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Receives finished flows, one at a time, in export order: the flow counterpart of
/// [`AlertSink`](crate::detect::AlertSink). The CSV and JSON Lines writers here implement it;
/// every driver ([`Sensor::deliver`](crate::pipeline::Sensor::deliver),
/// [`FlowPipeline::run_into`](crate::pipeline::FlowPipeline::run_into), the staged sensor)
/// accepts one.
pub trait FlowSink {
    /// Takes one flow.
    ///
    /// # Errors
    /// [`SinkError`] when the flow cannot be written or delivered.
    fn emit(&mut self, flow: &FlowRecord) -> Result<(), SinkError>;

    /// Pushes buffered output out; called at the end of a run. Default: nothing to do.
    ///
    /// # Errors
    /// [`SinkError`] when buffered output cannot be written.
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

impl<S: FlowSink + ?Sized> FlowSink for &mut S {
    fn emit(&mut self, flow: &FlowRecord) -> Result<(), SinkError> {
        (**self).emit(flow)
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        (**self).flush()
    }
}

impl<S: FlowSink + ?Sized> FlowSink for Box<S> {
    fn emit(&mut self, flow: &FlowRecord) -> Result<(), SinkError> {
        (**self).emit(flow)
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        (**self).flush()
    }
}

/// Discards every flow (for runs that want alerts only).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoFlows;

impl FlowSink for NoFlows {
    fn emit(&mut self, _flow: &FlowRecord) -> Result<(), SinkError> {
        Ok(())
    }
}

/// The CSV header line (without the newline).
pub fn csv_header() -> String {
    let mut cols: Vec<&str> = IDENTITY_COLUMNS.to_vec();
    cols.extend(Feature::ALL.iter().map(|f| f.name()));
    cols.push(APP_PROTO_COLUMN);
    cols.extend(AppField::ALL.iter().map(|f| f.name()));
    cols.join(",")
}

/// CSV flow writer; writes the header before the first record (or on flush if none).
#[derive(Debug)]
pub struct CsvFlowWriter<W: Write> {
    out: W,
    header_written: bool,
    /// One record is built here, then handed to `out` in a single write.
    line: Vec<u8>,
    dates: DateCache,
}

impl<W: Write> CsvFlowWriter<W> {
    /// A writer over `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        CsvFlowWriter {
            out,
            header_written: false,
            line: Vec::with_capacity(512),
            dates: DateCache::default(),
        }
    }

    /// The inner writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn ensure_header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.header_written = true;
            self.out.write_all(csv_header().as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }
}

impl<W: Write> FlowSink for CsvFlowWriter<W> {
    fn emit(&mut self, flow: &FlowRecord) -> Result<(), SinkError> {
        self.ensure_header()?;
        let o = &mut self.line;
        o.clear();
        push_u64(o, flow.id);
        o.push(b',');
        write_ts(o, &mut self.dates, flow.first_ts);
        o.push(b',');
        write_ts(o, &mut self.dates, flow.last_ts);
        o.push(b',');
        write_ip(o, flow.src_addr);
        o.push(b',');
        push_u64(o, u64::from(flow.src_port));
        o.push(b',');
        write_ip(o, flow.dst_addr);
        o.push(b',');
        push_u64(o, u64::from(flow.dst_port));
        o.push(b',');
        push_u64(o, u64::from(flow.protocol.0));
        o.push(b',');
        o.extend_from_slice(flow.end_reason.as_str().as_bytes());
        for v in flow.features().as_array() {
            o.push(b',');
            write_number(o, *v);
        }
        o.push(b',');
        o.extend_from_slice(flow.app_proto.as_str().as_bytes());
        match flow.app.as_deref() {
            Some(app) => {
                for f in AppField::ALL {
                    o.push(b',');
                    push_csv_field(o, app.get(f).unwrap_or_default());
                }
            }
            None => o.extend_from_slice(&[b','; AppField::COUNT]),
        }
        o.push(b'\n');
        Ok(self.out.write_all(&self.line)?)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.ensure_header()?;
        Ok(self.out.flush()?)
    }
}

/// JSON Lines flow writer: one object per flow, keys in column order.
#[derive(Debug)]
pub struct JsonlFlowWriter<W: Write> {
    out: W,
    /// One record is built here, then handed to `out` in a single write.
    line: Vec<u8>,
    dates: DateCache,
}

impl<W: Write> JsonlFlowWriter<W> {
    /// A writer over `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        JsonlFlowWriter {
            out,
            line: Vec::with_capacity(1024),
            dates: DateCache::default(),
        }
    }

    /// The inner writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> FlowSink for JsonlFlowWriter<W> {
    fn emit(&mut self, flow: &FlowRecord) -> Result<(), SinkError> {
        // Every string but the application facts is an address, an RFC 3339 time or a fixed
        // identifier, none of which needs JSON escaping, so the object is written directly.
        let o = &mut self.line;
        o.clear();
        o.extend_from_slice(b"{\"flow_id\":");
        push_u64(o, flow.id);
        o.extend_from_slice(b",\"first_ts\":\"");
        write_ts(o, &mut self.dates, flow.first_ts);
        o.extend_from_slice(b"\",\"last_ts\":\"");
        write_ts(o, &mut self.dates, flow.last_ts);
        o.extend_from_slice(b"\",\"src_ip\":\"");
        write_ip(o, flow.src_addr);
        o.extend_from_slice(b"\",\"src_port\":");
        push_u64(o, u64::from(flow.src_port));
        o.extend_from_slice(b",\"dst_ip\":\"");
        write_ip(o, flow.dst_addr);
        o.extend_from_slice(b"\",\"dst_port\":");
        push_u64(o, u64::from(flow.dst_port));
        o.extend_from_slice(b",\"protocol\":");
        push_u64(o, u64::from(flow.protocol.0));
        o.extend_from_slice(b",\"end_reason\":\"");
        o.extend_from_slice(flow.end_reason.as_str().as_bytes());
        o.extend_from_slice(b"\"");
        let features = flow.features();
        for f in Feature::ALL {
            o.extend_from_slice(b",\"");
            o.extend_from_slice(f.name().as_bytes());
            o.extend_from_slice(b"\":");
            write_number(o, features.get(f));
        }
        o.extend_from_slice(b",\"app_proto\":\"");
        o.extend_from_slice(flow.app_proto.as_str().as_bytes());
        o.push(b'"');
        for (f, value) in flow.app.iter().flat_map(|app| app.iter()) {
            o.extend_from_slice(b",\"");
            o.extend_from_slice(f.name().as_bytes());
            o.extend_from_slice(b"\":");
            push_json_string(o, value);
        }
        o.extend_from_slice(b"}\n");
        Ok(self.out.write_all(&self.line)?)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(self.out.flush()?)
    }
}

/// A boxed writer for `format` over `out`.
pub fn flow_writer<'w, W: Write + 'w>(format: FlowFormat, out: W) -> Box<dyn FlowSink + 'w> {
    match format {
        FlowFormat::Csv => Box::new(CsvFlowWriter::new(out)),
        FlowFormat::Jsonl => Box::new(JsonlFlowWriter::new(out)),
    }
}

/// Appends `s` as a CSV field, quoted per RFC 4180 when it holds a comma, quote or line break.
fn push_csv_field(o: &mut Vec<u8>, s: &str) {
    // A plain byte loop: values are short, where memchr's dispatch costs more than it saves.
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        o.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                o.push(b'"');
            }
            o.push(b);
        }
        o.push(b'"');
    } else {
        o.extend_from_slice(s.as_bytes());
    }
}

/// Appends `s` as a JSON string (RFC 8259 escaping).
pub fn push_json_string(o: &mut Vec<u8>, s: &str) {
    o.push(b'"');
    for c in s.chars() {
        match c {
            '"' => o.extend_from_slice(b"\\\""),
            '\\' => o.extend_from_slice(b"\\\\"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = u32::from(c) as usize;
                o.extend_from_slice(b"\\u00");
                o.push(HEX[n >> 4]);
                o.push(HEX[n & 15]);
            }
            c => {
                let mut buf = [0u8; 4];
                o.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    o.push(b'"');
}

/// The `YYYY-MM-DD` of the day last formatted: a capture's flows mostly share a day, and the
/// calendar arithmetic is the costly part of a timestamp.
#[derive(Debug, Clone, Copy)]
struct DateCache {
    day: i64,
    date: Option<[u8; 10]>,
}

impl Default for DateCache {
    fn default() -> Self {
        DateCache {
            day: i64::MIN,
            date: None,
        }
    }
}

/// Appends a timestamp in RFC 3339 form (fast path for years 0000–9999).
fn write_ts(o: &mut Vec<u8>, cache: &mut DateCache, ts: Timestamp) {
    let (day, _, _) = ts.split_day();
    if day != cache.day {
        *cache = DateCache {
            day,
            date: crate::time::date_bytes(day),
        };
    }
    match cache
        .date
        .as_ref()
        .and_then(|d| ts.to_rfc3339_bytes_with_date(d))
    {
        Some(b) => o.extend_from_slice(&b),
        None => o.extend_from_slice(ts.to_string().as_bytes()),
    }
}

/// Appends an address in its standard text form (IPv4 without the formatting machinery).
fn write_ip(o: &mut Vec<u8>, addr: IpAddr) {
    match addr {
        IpAddr::V4(a) => {
            let [x, y, z, w] = a.octets();
            write_u8(o, x);
            o.push(b'.');
            write_u8(o, y);
            o.push(b'.');
            write_u8(o, z);
            o.push(b'.');
            write_u8(o, w);
        }
        IpAddr::V6(a) => write_ipv6(o, a),
    }
}

/// Appends an IPv6 address exactly as `Ipv6Addr`'s `Display` does (RFC 5952: lower-case hex,
/// the longest run of two or more zero groups — the first on a tie — compressed to `::`, and
/// IPv4-mapped addresses as `::ffff:a.b.c.d`) without the formatting machinery, which costs
/// more than the rest of a flow record.
fn write_ipv6(o: &mut Vec<u8>, a: std::net::Ipv6Addr) {
    if let Some(v4) = a.to_ipv4_mapped() {
        o.extend_from_slice(b"::ffff:");
        return write_ip(o, IpAddr::V4(v4));
    }
    let g = a.segments();
    // Longest run of zero groups (length ≥ 2), first on a tie.
    let (mut best_start, mut best_len, mut run_start, mut run_len) =
        (0usize, 0usize, 0usize, 0usize);
    for (i, &x) in g.iter().enumerate() {
        if x == 0 {
            if run_len == 0 {
                run_start = i;
            }
            run_len += 1;
            if run_len > best_len {
                (best_start, best_len) = (run_start, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    let hex = |o: &mut Vec<u8>, v: u16| {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut started = false;
        for shift in [12u16, 8, 4, 0] {
            let d = (v >> shift) & 0xf;
            if d != 0 || started || shift == 0 {
                o.push(DIGITS[usize::from(d)]);
                started = true;
            }
        }
    };
    if best_len >= 2 {
        for (i, &x) in g[..best_start].iter().enumerate() {
            if i > 0 {
                o.push(b':');
            }
            hex(o, x);
        }
        o.extend_from_slice(b"::");
        for (i, &x) in g[best_start + best_len..].iter().enumerate() {
            if i > 0 {
                o.push(b':');
            }
            hex(o, x);
        }
    } else {
        for (i, &x) in g.iter().enumerate() {
            if i > 0 {
                o.push(b':');
            }
            hex(o, x);
        }
    }
}

/// Two ASCII digits for every value 0..100, so integers are formatted two digits per division.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `v` in decimal. Most values are a few digits long (and many are a single digit), so
/// pushing them one by one is cheaper than formatting into a scratch buffer and copying it (a
/// `memcpy` call per field).
#[inline]
fn push_u64(o: &mut Vec<u8>, mut v: u64) {
    if v < 10 {
        o.push(b'0' + v as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        start -= 2;
        digits[start] = DIGIT_PAIRS[pair];
        digits[start + 1] = DIGIT_PAIRS[pair + 1];
    }
    if v >= 10 {
        let pair = v as usize * 2;
        start -= 2;
        digits[start] = DIGIT_PAIRS[pair];
        digits[start + 1] = DIGIT_PAIRS[pair + 1];
    } else {
        start -= 1;
        digits[start] = b'0' + v as u8;
    }
    for &d in &digits[start..] {
        o.push(d);
    }
}

/// Appends a byte in decimal without leading zeros.
#[inline]
fn write_u8(o: &mut Vec<u8>, v: u8) {
    if v >= 100 {
        o.push(b'0' + v / 100);
    }
    if v >= 10 {
        o.push(b'0' + (v / 10) % 10);
    }
    o.push(b'0' + v % 10);
}

/// Appends a feature value: integral values as integers, others in shortest round-trip form,
/// non-finite values (which the feature definitions rule out) as `0`.
fn write_number(o: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        o.push(b'0');
        return;
    }
    // `as` saturates and truncates in registers; `f64::fract` would be a libm call per value.
    let int = v as i64;
    // 2^53: beyond it f64 cannot hold every integer, so fall back to the float form.
    if int as f64 == v && v.abs() < 9_007_199_254_740_992.0 {
        if int < 0 {
            o.push(b'-');
        }
        push_u64(o, int.unsigned_abs());
    } else {
        let mut rb = zmij::Buffer::new();
        o.extend_from_slice(rb.format_finite(v).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(v: f64) -> String {
        let mut b = Vec::new();
        write_number(&mut b, v);
        String::from_utf8(b).expect("ascii")
    }

    #[test]
    fn numbers_are_stable() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(1234.0), "1234");
        assert_eq!(num(-3.0), "-3");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(1e300), "1e+300");
    }

    #[test]
    fn integers_and_timestamps_written_directly_match_std() {
        for v in [0u64, 7, 10, 99, 100, 65_535, u64::MAX] {
            let mut b = Vec::new();
            push_u64(&mut b, v);
            assert_eq!(String::from_utf8(b).expect("ascii"), v.to_string());
        }
        assert_eq!(num(-1234567.0), "-1234567");
        let mut cache = DateCache::default();
        // Across a day boundary, back again, and outside the fast path's years.
        for us in [86_399_999_999i64, 86_400_000_000, 1, i64::MAX, 5] {
            let ts = Timestamp::from_micros(us);
            let mut b = Vec::new();
            write_ts(&mut b, &mut cache, ts);
            assert_eq!(String::from_utf8(b).expect("ascii"), ts.to_string());
        }
    }

    proptest::proptest! {
        /// The hand-written IPv6 form is byte for byte what `Display` prints.
        #[test]
        fn ipv6_text_matches_std(
            groups in proptest::array::uniform8(proptest::prop_oneof![
                3 => proptest::prelude::Just(0u16),
                1 => proptest::prelude::Just(0xffffu16),
                2 => proptest::prelude::any::<u16>(),
            ])
        ) {
            let a = std::net::Ipv6Addr::from(groups);
            let mut b = Vec::new();
            write_ipv6(&mut b, a);
            proptest::prop_assert_eq!(String::from_utf8(b).expect("ascii"), a.to_string());
        }
    }

    #[test]
    fn ipv6_text_edge_cases() {
        for text in [
            "::",
            "::1",
            "1::",
            "::ffff:10.0.0.1",
            "2001:db8::1:0:0:1",
            "1:0:0:2:0:0:0:3",
            "fe80::1ff:fe23:4567:890a",
            "1:2:3:4:5:6:7:8",
            "0:1:0:1:0:1:0:1",
            "::ffff:0:0",
        ] {
            let a: std::net::Ipv6Addr = text.parse().expect("valid IPv6 literal");
            let mut b = Vec::new();
            write_ipv6(&mut b, a);
            assert_eq!(
                String::from_utf8(b).expect("ascii"),
                a.to_string(),
                "{text}"
            );
        }
    }

    #[test]
    fn header_has_identity_then_25_features_then_app_columns() {
        let h = csv_header();
        let cols: Vec<&str> = h.split(',').collect();
        assert_eq!(cols.len(), 9 + 25 + 1 + AppField::COUNT);
        assert_eq!(cols[0], "flow_id");
        assert_eq!(cols[8], "end_reason");
        assert_eq!(cols[9], "flow_duration");
        assert_eq!(cols[33], "psh_flag_cnt");
        assert_eq!(cols[34], "app_proto");
        assert_eq!(cols[35], "dns_query");
    }

    fn flow_with_app() -> FlowRecord {
        use crate::decode::IpProtocol;
        use crate::flow::{EndReason, FlowStats};
        let mut app = crate::app::AppRecord::default();
        app.set_bytes(AppField::HttpHost, b"a.example");
        app.set_bytes(AppField::HttpUserAgent, b"x, \"y\" \\ z\x01");
        FlowRecord {
            id: 1,
            first_ts: Timestamp::from_micros(0),
            last_ts: Timestamp::from_micros(0),
            src_addr: [10, 0, 0, 1].into(),
            src_port: 1,
            dst_addr: [10, 0, 0, 2].into(),
            dst_port: 80,
            protocol: IpProtocol::TCP,
            end_reason: EndReason::End,
            stats: FlowStats::default(),
            app_proto: crate::app::AppProto::Http,
            app: Some(Box::new(app)),
        }
    }

    #[test]
    fn app_columns_are_quoted_and_escaped() {
        let flow = flow_with_app();
        let mut csv = CsvFlowWriter::new(Vec::new());
        csv.emit(&flow).expect("in memory");
        let text = String::from_utf8(csv.into_inner()).expect("utf-8");
        let row = text.lines().nth(1).expect("row");
        let ua = r#""x, ""y"" \ z\x01""#;
        assert!(
            row.contains(&format!(",http,,,,,,,,,,,a.example,,{ua},")),
            "{row}"
        );
        let mut jsonl = JsonlFlowWriter::new(Vec::new());
        jsonl.emit(&flow).expect("in memory");
        let line = String::from_utf8(jsonl.into_inner()).expect("utf-8");
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["app_proto"], "http");
        assert_eq!(v["http_host"], "a.example");
        assert_eq!(v["http_user_agent"], "x, \"y\" \\ z\\x01");
        assert!(v.get("tls_sni").is_none());
        let mut b = Vec::new();
        push_json_string(&mut b, "a\u{1}\u{e9}");
        assert_eq!(b, "\"a\\u0001\u{e9}\"".as_bytes());
    }

    #[test]
    fn serde_gives_the_json_lines_object() {
        let flow = flow_with_app();
        let mut jsonl = JsonlFlowWriter::new(Vec::new());
        jsonl.emit(&flow).expect("in memory");
        let line = String::from_utf8(jsonl.into_inner()).expect("utf-8");
        let written: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        let serialized = serde_json::to_value(&flow).expect("serializes");
        assert_eq!(serialized, written);
    }
}
