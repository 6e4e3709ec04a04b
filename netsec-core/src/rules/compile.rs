//! AST → compiled rule: variables resolved, patterns built, comparisons typed, once.
//!
//! A rule that uses something we do not support is not an error: [`compile_rule`] returns
//! [`CompileOutcome::Unsupported`] naming every unsupported keyword it uses, and the rule set
//! skips it with a warning.

use std::net::IpAddr;

use memchr::memmem;

use super::addr_set::AddrSet;
use super::ast::*;
use super::state::StateOp;
use super::transform::TransformChain;
use super::vars::{classtype_priority, RuleVars, CRITICAL_CLASSTYPES};
use crate::app::AppProto;
use crate::decode::IpProtocol;
use crate::detect::Severity;

/// Which packets a rule's protocol admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ProtoClass {
    /// Any IP packet.
    Ip,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMPv4 or ICMPv6.
    Icmp,
    /// ICMPv6.
    Icmpv6,
    /// TCP or UDP (DNS).
    TcpOrUdp,
    /// SCTP.
    Sctp,
    /// Any IPv4 packet.
    Ipv4,
    /// Any IPv6 packet.
    Ipv6,
}

impl ProtoClass {
    pub(crate) fn admits(self, p: IpProtocol) -> bool {
        match self {
            ProtoClass::Ip | ProtoClass::Ipv4 | ProtoClass::Ipv6 => true,
            ProtoClass::Tcp => p == IpProtocol::TCP,
            ProtoClass::Udp => p == IpProtocol::UDP,
            ProtoClass::Icmp => p == IpProtocol::ICMP || p == IpProtocol::ICMPV6,
            ProtoClass::Icmpv6 => p == IpProtocol::ICMPV6,
            ProtoClass::TcpOrUdp => p == IpProtocol::TCP || p == IpProtocol::UDP,
            ProtoClass::Sctp => p == IpProtocol::SCTP,
        }
    }

    /// Whether a packet between these addresses is of the class's IP version (every class
    /// but `ipv4` and `ipv6` admits both).
    pub(crate) fn admits_version(self, addr: std::net::IpAddr) -> bool {
        match self {
            ProtoClass::Ipv4 => addr.is_ipv4(),
            ProtoClass::Ipv6 => addr.is_ipv6(),
            _ => true,
        }
    }
}

/// A resolved address matcher.
#[derive(Debug, Clone)]
pub(crate) enum AddrMatch {
    Any,
    Net(IpNet),
    List {
        pos: Vec<AddrMatch>,
        neg: Vec<AddrMatch>,
    },
    Not(Box<AddrMatch>),
}

impl AddrMatch {
    pub(crate) fn matches(&self, ip: IpAddr) -> bool {
        match self {
            AddrMatch::Any => true,
            AddrMatch::Net(n) => n.contains(ip),
            AddrMatch::List { pos, neg } => {
                (pos.is_empty() || pos.iter().any(|m| m.matches(ip)))
                    && !neg.iter().any(|m| m.matches(ip))
            }
            AddrMatch::Not(m) => !m.matches(ip),
        }
    }
}

impl AddrMatch {
    /// The addresses this matcher admits, as ranges (one binary search per check).
    pub(crate) fn to_set(&self) -> AddrSet {
        match self {
            AddrMatch::Any => AddrSet::all(),
            AddrMatch::Net(n) => AddrSet::net(n.addr, n.prefix),
            AddrMatch::List { pos, neg } => {
                let base = if pos.is_empty() {
                    AddrSet::all()
                } else {
                    pos.iter()
                        .fold(AddrSet::default(), |acc, m| acc.union(&m.to_set()))
                };
                let excluded = neg
                    .iter()
                    .fold(AddrSet::default(), |acc, m| acc.union(&m.to_set()));
                base.minus(&excluded)
            }
            AddrMatch::Not(inner) => inner.to_set().complement(),
        }
    }
}

/// A resolved port matcher.
#[derive(Debug, Clone)]
pub(crate) enum PortMatch {
    Any,
    Range(u16, u16),
    List {
        pos: Vec<PortMatch>,
        neg: Vec<PortMatch>,
    },
    Not(Box<PortMatch>),
}

impl PortMatch {
    pub(crate) fn matches(&self, p: u16) -> bool {
        match self {
            PortMatch::Any => true,
            PortMatch::Range(a, b) => *a <= p && p <= *b,
            PortMatch::List { pos, neg } => {
                (pos.is_empty() || pos.iter().any(|m| m.matches(p)))
                    && !neg.iter().any(|m| m.matches(p))
            }
            PortMatch::Not(m) => !m.matches(p),
        }
    }

    /// The single port this matcher admits, if exactly one (used to group rules by port).
    pub(crate) fn single(&self) -> Option<u16> {
        match self {
            PortMatch::Range(a, b) if a == b => Some(*a),
            _ => None,
        }
    }
}

const MAX_VAR_DEPTH: usize = 16;

pub(crate) fn resolve_addr(
    spec: &AddrSpec,
    vars: &RuleVars,
    depth: usize,
) -> Result<AddrMatch, String> {
    if depth > MAX_VAR_DEPTH {
        return Err("variable nesting too deep (cycle?)".into());
    }
    Ok(match spec {
        AddrSpec::Any => AddrMatch::Any,
        AddrSpec::Net(n) => AddrMatch::Net(*n),
        AddrSpec::Var(v) => {
            let def = vars
                .addr(v)
                .ok_or_else(|| format!("undefined address variable ${v}"))?;
            resolve_addr(def, vars, depth + 1)?
        }
        AddrSpec::Not(inner) => AddrMatch::Not(Box::new(resolve_addr(inner, vars, depth + 1)?)),
        AddrSpec::List(items) => {
            let (mut pos, mut neg) = (Vec::new(), Vec::new());
            for it in items {
                match it {
                    AddrSpec::Not(inner) => neg.push(resolve_addr(inner, vars, depth + 1)?),
                    other => pos.push(resolve_addr(other, vars, depth + 1)?),
                }
            }
            AddrMatch::List { pos, neg }
        }
    })
}

fn resolve_port(spec: &PortSpec, vars: &RuleVars, depth: usize) -> Result<PortMatch, String> {
    if depth > MAX_VAR_DEPTH {
        return Err("variable nesting too deep (cycle?)".into());
    }
    Ok(match spec {
        PortSpec::Any => PortMatch::Any,
        PortSpec::Port(p) => PortMatch::Range(*p, *p),
        PortSpec::Range(a, b) => PortMatch::Range(a.unwrap_or(0), b.unwrap_or(u16::MAX)),
        PortSpec::Var(v) => {
            let def = vars
                .port(v)
                .ok_or_else(|| format!("undefined port variable ${v}"))?;
            resolve_port(def, vars, depth + 1)?
        }
        PortSpec::Not(inner) => PortMatch::Not(Box::new(resolve_port(inner, vars, depth + 1)?)),
        PortSpec::List(items) => {
            let (mut pos, mut neg) = (Vec::new(), Vec::new());
            for it in items {
                match it {
                    PortSpec::Not(inner) => neg.push(resolve_port(inner, vars, depth + 1)?),
                    other => pos.push(resolve_port(other, vars, depth + 1)?),
                }
            }
            PortMatch::List { pos, neg }
        }
    })
}

/// A content pattern ready to search.
#[derive(Debug, Clone)]
pub(crate) struct CompiledContent {
    pub(crate) spec: Content,
    finder: Searcher,
    /// Positions taken from variables.
    pub(crate) vars: VarSlots,
}

/// The most `byte_extract` / `byte_math` variables one rule defines.
pub(crate) const MAX_VARS: usize = 8;

/// What one evaluation of a rule carries across its steps and buffers: the
/// `byte_extract` / `byte_math` variables, and what `base64_decode` decoded (the
/// `base64_data` buffer). Indexing gives a variable.
#[derive(Debug, Default)]
pub(crate) struct VarValues {
    values: [u64; MAX_VARS],
    /// The last `base64_decode`'s output.
    pub(crate) decoded: Vec<u8>,
}

impl std::ops::Index<usize> for VarValues {
    type Output = u64;
    fn index(&self, i: usize) -> &u64 {
        &self.values[i % MAX_VARS]
    }
}

impl std::ops::IndexMut<usize> for VarValues {
    fn index_mut(&mut self, i: usize) -> &mut u64 {
        &mut self.values[i % MAX_VARS]
    }
}

/// The fields a step takes from variables, with each variable's slot.
pub(crate) type VarSlots = Box<[(VarField, u8)]>;

/// The value of the variable giving `field`, if one does.
pub(crate) fn var_value(
    slots: &[(VarField, u8)],
    field: VarField,
    vars: &VarValues,
) -> Option<u64> {
    slots
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, slot)| vars[usize::from(*slot) % MAX_VARS])
}

/// The slots of the variables `refs` name, among those defined so far.
fn resolve_vars(refs: &[VarRef], defined: &[String]) -> Result<VarSlots, CompileOutcome> {
    refs.iter()
        .map(|r| {
            defined
                .iter()
                .position(|n| *n == r.name)
                .map(|i| (r.field, i as u8))
                .ok_or_else(|| CompileOutcome::Invalid(format!("undefined variable {:?}", r.name)))
        })
        .collect()
}

/// The slot of a variable a rule defines (a name defined again reuses its slot).
fn define_var(name: &str, defined: &mut Vec<String>) -> Result<u8, CompileOutcome> {
    if let Some(i) = defined.iter().position(|n| n == name) {
        return Ok(i as u8);
    }
    if defined.len() >= MAX_VARS {
        return Err(CompileOutcome::Invalid(format!(
            "more than {MAX_VARS} byte_extract/byte_math variables"
        )));
    }
    defined.push(name.to_string());
    Ok((defined.len() - 1) as u8)
}

#[derive(Debug, Clone)]
enum Searcher {
    Exact(Box<memmem::Finder<'static>>),
    /// ASCII case-insensitive: candidates from a `memchr2` on the least common byte of the
    /// pattern in either case, each verified in full. Building it costs nothing (an
    /// automaton per `nocase` content made loading ET Open slow).
    NoCase {
        /// The pattern, lower-cased.
        lower: Box<[u8]>,
        /// Where in the pattern the scanned byte sits.
        at: usize,
    },
}

/// Rough frequency rank of a byte in network payloads (higher = more common), to pick the
/// byte a case-insensitive search scans for.
fn commonness(b: u8) -> u8 {
    match b.to_ascii_lowercase() {
        b' ' | b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | 0 => 3,
        b'/' | b'.' | b'=' | b'-' | b'h' | b'l' | b'c' | b'd' | b'u' | b'p' | b'm' => 2,
        b'0'..=b'9' | b'\r' | b'\n' | b':' | b'g' | b'f' | b'w' | b'y' | b'b' => 1,
        _ => 0,
    }
}

impl CompiledContent {
    fn new(spec: Content) -> Result<Self, String> {
        let finder = if spec.nocase {
            let lower: Box<[u8]> = spec.pattern.to_ascii_lowercase().into();
            let at = (0..lower.len())
                .min_by_key(|&i| commonness(lower[i]))
                .unwrap_or(0);
            Searcher::NoCase { lower, at }
        } else {
            Searcher::Exact(Box::new(memmem::Finder::new(&spec.pattern).into_owned()))
        };
        Ok(CompiledContent {
            spec,
            finder,
            vars: Box::default(),
        })
    }

    /// First occurrence in `hay` (start index).
    pub(crate) fn find(&self, hay: &[u8]) -> Option<usize> {
        match &self.finder {
            Searcher::Exact(f) => f.find(hay),
            Searcher::NoCase { lower, at } => {
                let n = lower.len();
                if hay.len() < n {
                    return None;
                }
                let b = lower[*at];
                let (lo, up) = (b, b.to_ascii_uppercase());
                // Positions of the scanned byte that leave room for the pattern around it.
                let region = &hay[*at..hay.len() - (n - 1 - *at)];
                let mut from = 0;
                while let Some(k) = memchr::memchr2(lo, up, &region[from..]) {
                    let start = from + k;
                    if hay[start..start + n].eq_ignore_ascii_case(lower) {
                        return Some(start);
                    }
                    from = start + 1;
                }
                None
            }
        }
    }
}

/// A `pcre` translated to a bytes regex.
///
/// The regex is compiled at load to check that it translates, then dropped, and compiled
/// again the first time a packet reaches it: a compiled regex holds some 15 KB of automata,
/// and most of a large rule set's regexes (2,300 in ET Open) are never reached, their
/// rules' contents failing first.
#[derive(Debug, Clone)]
pub(crate) struct CompiledPcre {
    pub(crate) negated: bool,
    pub(crate) relative: bool,
    /// The translated pattern.
    source: String,
    compiled: std::sync::OnceLock<Option<regex::bytes::Regex>>,
}

impl CompiledPcre {
    /// The regex, compiled at the first call (`None` only if that fails, which the check
    /// at load rules out).
    pub(crate) fn regex(&self) -> Option<&regex::bytes::Regex> {
        self.compiled
            .get_or_init(|| build_pcre(&self.source).ok())
            .as_ref()
    }
}

fn build_pcre(source: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(source)
        .size_limit(1 << 20)
        .build()
}

/// Translates a PCRE pattern and flags to a `regex` bytes regex.
///
/// `(?-u)` first: PCRE in rules matches bytes, so `\xff` is one byte and `.` any byte. PCRE-only
/// constructs (back-references, look-around, possessive and atomic groups) fail to compile in
/// `regex`, and the rule is skipped.
/// Translates a `pcre` to the regex crate, with the buffer its Suricata modifier letter
/// names, if any (`U` the normalised URI, `I` the raw URI, `H` the headers, `M` the method,
/// `C` the cookie, `S`/`Y` the status code/message, `V` the user agent, `W` the host). `A`
/// anchors, `G` swaps greediness; `B` (raw bytes) and `O` (match-limit override) change
/// nothing here. Letters for buffers we do not build (`P`, `Q`, `D`, `K`, `Z` …) are
/// unsupported.
pub(crate) fn translate_pcre(p: &Pcre) -> Result<(CompiledPcre, Option<StickyBuffer>), String> {
    let mut prefix = String::from("(?");
    let mut relative = false;
    let mut anchored = false;
    let mut buffer = None;
    for f in p.flags.chars() {
        let named = match f {
            'i' | 's' | 'm' | 'x' => {
                prefix.push(f);
                None
            }
            'G' => {
                prefix.push('U');
                None
            }
            'R' => {
                relative = true;
                None
            }
            'A' => {
                anchored = true;
                None
            }
            'B' | 'O' | 'E' => None,
            'U' => Some(StickyBuffer::HttpUri),
            'I' => Some(StickyBuffer::HttpUriRaw),
            'H' => Some(StickyBuffer::HttpHeader),
            'M' => Some(StickyBuffer::HttpMethod),
            'C' => Some(StickyBuffer::HttpCookie),
            'S' => Some(StickyBuffer::HttpStatCode),
            'Y' => Some(StickyBuffer::HttpStatMsg),
            'V' => Some(StickyBuffer::HttpUserAgent),
            'W' => Some(StickyBuffer::HttpHost),
            other => return Err(format!("pcre flag {other}")),
        };
        if named.is_some() {
            buffer = named;
        }
    }
    prefix.push_str("-u)");
    let body = if anchored {
        format!("^(?:{})", p.pattern)
    } else {
        p.pattern.clone()
    };
    let source = format!("{prefix}{body}");
    // Checked now, compiled again when first used (see `CompiledPcre`).
    build_pcre(&source).map_err(|_| "pcre (not translatable to the regex crate)".to_string())?;
    let compiled = CompiledPcre {
        negated: p.negated,
        relative,
        source,
        compiled: std::sync::OnceLock::new(),
    };
    Ok((compiled, buffer))
}

/// One payload inspection step, in rule order.
#[derive(Debug, Clone)]
pub(crate) enum PayloadStep {
    Content(CompiledContent),
    Pcre(CompiledPcre),
    /// `bsize`: the buffer's size.
    Bsize(UintCmp),
    /// `isdataat`.
    IsDataAt(IsDataAt, VarSlots),
    /// `byte_test`, with the fields it takes from variables.
    ByteTest(ByteTest, VarSlots),
    /// `byte_jump`: moves the match position.
    ByteJump(ByteJump, VarSlots),
    /// `byte_extract`: a number into a variable slot; moves the match position.
    ByteExtract(ByteExtract, u8),
    /// `byte_math`: a computed number into a variable slot; moves the match position.
    ByteMath(ByteMath, VarSlots, u8),
    /// `base64_decode`: decodes into the evaluation's `base64_data`.
    Base64Decode(Base64Decode),
}

/// `flow` requirements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FlowReq {
    pub(crate) established: Option<bool>,
    /// `Some(true)` = to_server (forward), `Some(false)` = to_client.
    pub(crate) to_server: Option<bool>,
}

/// A rule ready to run.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) rule: Rule,
    pub(crate) sid: u64,
    pub(crate) gid: u64,
    pub(crate) rev: u64,
    pub(crate) msg: String,
    pub(crate) classtype: Option<String>,
    pub(crate) priority: u8,
    pub(crate) severity: Severity,
    pub(crate) action: Action,
    /// Whether a match raises an alert (`noalert`; a `pass` rule needs `alert`).
    pub(crate) raises: bool,
    pub(crate) proto: ProtoClass,
    pub(crate) src: AddrMatch,
    /// `src` as ranges: what the header check asks.
    pub(crate) src_set: AddrSet,
    pub(crate) src_ports: PortMatch,
    pub(crate) dst: AddrMatch,
    /// `dst` as ranges.
    pub(crate) dst_set: AddrSet,
    pub(crate) dst_ports: PortMatch,
    pub(crate) bidirectional: bool,
    pub(crate) steps: Vec<PayloadStep>,
    /// The buffer each step inspects (same length as `steps`).
    pub(crate) buffers: Vec<StickyBuffer>,
    /// The transform chain each step's buffer goes through: 0 for none, else 1 + its index
    /// in `chains` (same length as `steps`).
    pub(crate) transforms: Vec<u16>,
    /// The rule's transform chains.
    pub(crate) chains: Vec<TransformChain>,
    /// The application protocol the header names (`alert http …`), if any.
    pub(crate) app: Option<AppProto>,
    /// Index into `steps` of the content given to the prefilter (the rule's fast pattern).
    pub(crate) fast_pattern: Option<usize>,
    /// Where a matching occurrence of the fast pattern must end in the payload at the latest
    /// (from `offset`/`depth` and `distance`/`within` chains), if anywhere; see
    /// [`payload_end_bound`].
    pub(crate) fast_pattern_end: Option<u32>,
    /// A rule without a payload fast pattern: its longest positive content in an
    /// application buffer (`dns.query`, `http.header` …), which picks it as a candidate
    /// when found in that buffer.
    pub(crate) buffer_fast_pattern: Option<usize>,
    pub(crate) dsize: Vec<UintCmp>,
    pub(crate) ttl: Vec<UintCmp>,
    /// `seq`, `ack`, `window`, `tcp.mss`, `dns.opcode`: all must hold.
    pub(crate) fields: Vec<(PacketField, UintCmp)>,
    /// Decoder anomalies the packet must carry (`decode-event`), all of them.
    pub(crate) decode_events: crate::decode::DecodeEvents,
    pub(crate) itype: Vec<UintCmp>,
    pub(crate) icode: Vec<UintCmp>,
    pub(crate) ip_proto: Vec<UintCmp>,
    pub(crate) flags: Vec<FlagsSpec>,
    pub(crate) flow: FlowReq,
    pub(crate) threshold: Option<Threshold>,
    pub(crate) detection_filter: Option<Threshold>,
    /// `flowbits` (other than `noalert`), `xbits` and `flowint` commands, in rule order.
    pub(crate) state: Vec<StateOp>,
    /// `dataset` commands, in rule order: each on the buffer in force where it was written.
    pub(crate) datasets: Vec<DatasetOp>,
    /// The rule inspects application data (names an application protocol or a sticky
    /// buffer): a retransmitted segment, which carries no new data, is not asked.
    pub(crate) app_layer: bool,
}

impl CompiledRule {
    /// Whether the rule's state commands only write (or it has none): such a rule can run
    /// before the rules that test, and can be IP-only.
    pub(crate) fn only_writes_bits(&self) -> bool {
        self.state.iter().all(|b| !b.reads())
    }

    /// The transform chain of step `i`'s buffer, if it has one.
    pub(crate) fn chain(&self, i: usize) -> Option<&TransformChain> {
        let id = *self.transforms.get(i)?;
        self.chains.get(usize::from(id).checked_sub(1)?)
    }

    /// Whether step `i`'s buffer is `dotprefix`ed and nothing else.
    pub(crate) fn is_dotprefixed(&self, i: usize) -> bool {
        self.chain(i).is_some_and(TransformChain::is_dotprefix)
    }
}

/// Why a rule could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompileOutcome {
    /// Keywords, protocols or flags we do not support (each name once, in rule order, e.g.
    /// `http_client_body`, `protocol:smb`, `pcre`).
    Unsupported(Vec<String>),
    /// The rule is inconsistent (undefined variable …).
    Invalid(String),
}

/// One `dataset` command of a compiled rule: on which buffer, and the set's id once the
/// rule set has bound its name.
#[derive(Debug, Clone)]
pub(crate) struct DatasetOp {
    pub(crate) buffer: StickyBuffer,
    /// The transform chain of the buffer (0: none; see [`CompiledRule::transforms`]).
    pub(crate) transform: u16,
    pub(crate) dataset: Dataset,
    pub(crate) id: u32,
}

/// Compiles one rule against `vars`.
pub(crate) fn compile_rule(rule: &Rule, vars: &RuleVars) -> Result<CompiledRule, CompileOutcome> {
    let proto = match &rule.protocol {
        Protocol::Ip => ProtoClass::Ip,
        Protocol::Tcp => ProtoClass::Tcp,
        Protocol::Udp => ProtoClass::Udp,
        Protocol::Icmp => ProtoClass::Icmp,
        Protocol::Icmpv6 => ProtoClass::Icmpv6,
        Protocol::Sctp => ProtoClass::Sctp,
        Protocol::Ipv4 => ProtoClass::Ipv4,
        Protocol::Ipv6 => ProtoClass::Ipv6,
        Protocol::App(p) => match p {
            AppProto::Dns | AppProto::Sip => ProtoClass::TcpOrUdp,
            AppProto::Dhcp | AppProto::Quic | AppProto::Tftp => ProtoClass::Udp,
            AppProto::Tls | AppProto::Http | AppProto::Ssh => ProtoClass::Tcp,
            AppProto::Unknown => ProtoClass::Ip,
        },
        // `tcp-pkt`: TCP matched per packet, never on the stream, which is all we do.
        // `tcp-stream`: matched on the stream; here on each segment (no reassembly yet).
        Protocol::Other(p) if p == "tcp-pkt" || p == "tcp-stream" => ProtoClass::Tcp,
        // `pkthdr`: any packet, matched on its headers (decoder events).
        Protocol::Other(p) if p == "pkthdr" => ProtoClass::Ip,
        Protocol::Other(_) => ProtoClass::Ip,
    };
    let mut unsupported: Vec<String> = Vec::new();
    if let Protocol::Other(p) = &rule.protocol {
        if !matches!(p.as_str(), "tcp-pkt" | "tcp-stream" | "pkthdr") {
            unsupported.push(format!("protocol:{p}"));
        }
    }
    let (mut sid, mut gid, mut rev) = (0, 1, 0);
    let mut msg = String::new();
    let mut classtype = None;
    let mut priority = None;
    let mut raises = rule.action != Action::Pass;
    let mut steps = Vec::new();
    let mut buffers = Vec::new();
    let mut buffer = StickyBuffer::PktData;
    let mut fast_marked = None;
    // The transforms of the current buffer, and their chain's id (0: none).
    let mut chain: Vec<Transform> = Vec::new();
    let mut transform_id: u16 = 0;
    let mut urilen: Vec<(UintCmp, StickyBuffer)> = Vec::new();
    let mut var_names: Vec<String> = Vec::new();
    let mut c = CompiledRule {
        rule: rule.clone(),
        sid: 0,
        gid: 1,
        rev: 0,
        msg: String::new(),
        classtype: None,
        priority: 3,
        severity: Severity::Low,
        action: rule.action,
        raises: true,
        proto,
        src_set: AddrSet::default(),
        dst_set: AddrSet::default(),
        src: resolve_addr(&rule.src, vars, 0).map_err(CompileOutcome::Invalid)?,
        src_ports: resolve_port(&rule.src_ports, vars, 0).map_err(CompileOutcome::Invalid)?,
        dst: resolve_addr(&rule.dst, vars, 0).map_err(CompileOutcome::Invalid)?,
        dst_ports: resolve_port(&rule.dst_ports, vars, 0).map_err(CompileOutcome::Invalid)?,
        bidirectional: rule.direction == RuleDirection::Both,
        steps: Vec::new(),
        buffers: Vec::new(),
        transforms: Vec::new(),
        chains: Vec::new(),
        app: match &rule.protocol {
            Protocol::App(p) => Some(*p),
            _ => None,
        },
        fast_pattern: None,
        fast_pattern_end: None,
        buffer_fast_pattern: None,
        dsize: Vec::new(),
        ttl: Vec::new(),
        fields: Vec::new(),
        decode_events: crate::decode::DecodeEvents::NONE,
        itype: Vec::new(),
        icode: Vec::new(),
        ip_proto: Vec::new(),
        flags: Vec::new(),
        flow: FlowReq::default(),
        threshold: None,
        detection_filter: None,
        state: Vec::new(),
        datasets: Vec::new(),
        app_layer: false,
    };
    for opt in &rule.options {
        match opt {
            RuleOption::Msg(s) => msg = s.clone(),
            RuleOption::Sid(n) => sid = *n,
            RuleOption::Rev(n) => rev = *n,
            RuleOption::Gid(n) => gid = *n,
            RuleOption::Classtype(s) => classtype = Some(s.clone()),
            RuleOption::Priority(n) => priority = Some((*n).clamp(1, 255) as u8),
            RuleOption::Reference(_)
            | RuleOption::Metadata(_)
            | RuleOption::Target(_)
            | RuleOption::Requires(_)
            | RuleOption::Prefilter
            | RuleOption::Tag(_) => {}
            RuleOption::Content(ct) => {
                if ct.fast_pattern && !ct.negated && in_payload(buffer) && chain.is_empty() {
                    fast_marked = Some(steps.len());
                }
                let mut compiled =
                    CompiledContent::new(ct.clone()).map_err(CompileOutcome::Invalid)?;
                compiled.vars = resolve_vars(&ct.vars, &var_names)?;
                steps.push(PayloadStep::Content(compiled));
                buffers.push(buffer);
                c.transforms.push(transform_id);
            }
            RuleOption::Pcre(p) => match translate_pcre(p) {
                Ok((cp, named)) => {
                    steps.push(PayloadStep::Pcre(cp));
                    buffers.push(named.unwrap_or(buffer));
                    c.transforms
                        .push(if named.is_none() { transform_id } else { 0 });
                }
                Err(name) => unsupported.push(name),
            },
            RuleOption::Bsize(x) => {
                steps.push(PayloadStep::Bsize(*x));
                buffers.push(buffer);
                c.transforms.push(transform_id);
            }
            RuleOption::IsDataAt(d) => {
                let refs: Vec<VarRef> = d
                    .var
                    .iter()
                    .map(|name| VarRef {
                        field: VarField::Offset,
                        name: name.clone(),
                    })
                    .collect();
                let slots = resolve_vars(&refs, &var_names)?;
                steps.push(PayloadStep::IsDataAt(d.clone(), slots));
                buffers.push(buffer);
                c.transforms.push(transform_id);
            }
            RuleOption::ByteTest(ByteTest { read, .. })
            | RuleOption::ByteJump(ByteJump { read, .. })
            | RuleOption::ByteExtract(ByteExtract { read, .. })
            | RuleOption::ByteMath(ByteMath { read, .. })
                if read.dce =>
            {
                let kw = match opt {
                    RuleOption::ByteTest(_) => "byte_test dce",
                    RuleOption::ByteJump(_) => "byte_jump dce",
                    RuleOption::ByteExtract(_) => "byte_extract dce",
                    _ => "byte_math dce",
                };
                unsupported.push(kw.to_string());
            }
            RuleOption::ByteTest(b) => {
                let slots = resolve_vars(&b.vars, &var_names)?;
                steps.push(PayloadStep::ByteTest(b.clone(), slots));
                buffers.push(buffer);
                c.transforms.push(transform_id);
            }
            RuleOption::ByteJump(b) => {
                let slots = resolve_vars(&b.vars, &var_names)?;
                steps.push(PayloadStep::ByteJump(b.clone(), slots));
                buffers.push(buffer);
                c.transforms.push(transform_id);
            }
            RuleOption::ByteExtract(b) => {
                let slot = define_var(&b.name, &mut var_names)?;
                steps.push(PayloadStep::ByteExtract(b.clone(), slot));
                buffers.push(buffer);
                c.transforms.push(transform_id);
            }
            RuleOption::Base64Decode(b) => {
                // Relative to the previous match, in its buffer (which a content modifier
                // such as `http_uri` may have named without making it sticky).
                let (on, t) = match (b.relative, buffers.last(), c.transforms.last()) {
                    (true, Some(&prev), Some(&t)) => (prev, t),
                    _ => (buffer, transform_id),
                };
                steps.push(PayloadStep::Base64Decode(*b));
                buffers.push(on);
                c.transforms.push(t);
            }
            RuleOption::ByteMath(b) => {
                let slots = resolve_vars(&b.vars, &var_names)?;
                let slot = define_var(&b.result, &mut var_names)?;
                steps.push(PayloadStep::ByteMath(b.clone(), slots, slot));
                buffers.push(buffer);
                c.transforms.push(transform_id);
            }
            RuleOption::Transform(t) => {
                chain.push(t.clone());
                c.chains
                    .push(TransformChain::compile(&chain).map_err(CompileOutcome::Invalid)?);
                transform_id = u16::try_from(c.chains.len()).map_err(|_| {
                    CompileOutcome::Invalid("too many transforms in one rule".into())
                })?;
            }
            RuleOption::Urilen { cmp, raw } => {
                let buffer = if *raw {
                    StickyBuffer::HttpUriRaw
                } else {
                    StickyBuffer::HttpUri
                };
                urilen.push((*cmp, buffer));
            }
            RuleOption::Buffer(b) => {
                buffer = *b;
                chain.clear();
                transform_id = 0;
            }
            RuleOption::Dsize(x) => c.dsize.push(*x),
            RuleOption::Ttl(x) => c.ttl.push(*x),
            RuleOption::Field(field, x) => c.fields.push((*field, *x)),
            RuleOption::DecodeEvent(e) => c.decode_events.insert(*e),
            RuleOption::Itype(x) => c.itype.push(*x),
            RuleOption::Icode(x) => c.icode.push(*x),
            RuleOption::IpProto(x) => c.ip_proto.push(*x),
            RuleOption::Flags(f) => c.flags.push(*f),
            RuleOption::Flow(words) => {
                for w in words {
                    match w {
                        FlowOption::Established => c.flow.established = Some(true),
                        FlowOption::NotEstablished => c.flow.established = Some(false),
                        FlowOption::Stateless => {}
                        FlowOption::ToServer | FlowOption::FromClient => {
                            c.flow.to_server = Some(true)
                        }
                        FlowOption::ToClient | FlowOption::FromServer => {
                            c.flow.to_server = Some(false)
                        }
                    }
                }
            }
            RuleOption::Threshold(t) => c.threshold = Some(*t),
            RuleOption::DetectionFilter(t) => c.detection_filter = Some(*t),
            RuleOption::AlertFlag => raises = true,
            RuleOption::NoAlert => raises = false,
            RuleOption::Unsupported { keyword, value } => {
                let name = match (keyword.as_str(), value) {
                    ("flow", Some(v)) => {
                        let word = v
                            .split(',')
                            .map(str::trim)
                            .find(|w| super::parse::UNSUPPORTED_FLOW_WORDS.contains(w))
                            .unwrap_or(v.as_str());
                        format!("flow:{word}")
                    }
                    ("offset" | "depth" | "within" | "distance", Some(_)) => {
                        format!("{keyword} from byte_extract")
                    }
                    ("pcre", Some(_)) => "pcre capture".to_string(),
                    _ => keyword.clone(),
                };
                if !unsupported.contains(&name) {
                    unsupported.push(name);
                }
            }
            RuleOption::Dataset(d) => c.datasets.push(DatasetOp {
                buffer,
                transform: transform_id,
                dataset: d.clone(),
                id: 0,
            }),
            RuleOption::Flowbits(b) => match b.command {
                FlowbitsCommand::NoAlert => raises = false,
                command => c.state.push(StateOp::Flowbit {
                    command,
                    names: b.names.clone(),
                    ids: Vec::new(),
                }),
            },
            RuleOption::Xbits(x) => c.state.push(StateOp::Xbit {
                command: x.command,
                name: x.name.clone(),
                id: 0,
                track: x.track,
                expire_us: x
                    .expire
                    .map_or(i64::MAX, |s| i64::from(s).saturating_mul(1_000_000)),
            }),
            RuleOption::Flowint(i) => c.state.push(StateOp::Flowint {
                name: i.name.clone(),
                id: 0,
                op: i.op,
                value: i.value,
            }),
        }
    }
    if !unsupported.is_empty() {
        return Err(CompileOutcome::Unsupported(unsupported));
    }
    // `urilen` checks no position and names its own buffer: after every other step, so it
    // never splits a run of relative matches.
    for (cmp, buffer) in urilen {
        steps.push(PayloadStep::Bsize(cmp));
        buffers.push(buffer);
        c.transforms.push(0);
    }
    // Fast pattern: the marked content, else the longest non-negated content.
    let fast = fast_marked.or_else(|| {
        steps
            .iter()
            .enumerate()
            .filter(|(i, _)| buffers.get(*i).is_some_and(|b| in_payload(*b)))
            .filter(|(i, _)| c.transforms[*i] == 0)
            .filter_map(|(i, s)| match s {
                PayloadStep::Content(ct) if !ct.spec.negated => Some((i, ct.spec.pattern.len())),
                _ => None,
            })
            // Longest wins; on a tie the first one (max_by_key keeps the last, so negate i).
            .max_by_key(|&(i, len)| (len, std::cmp::Reverse(i)))
            .map(|(i, _)| i)
    });
    let priority = priority.unwrap_or_else(|| classtype.as_deref().map_or(3, classtype_priority));
    let critical = classtype
        .as_deref()
        .is_some_and(|ct| CRITICAL_CLASSTYPES.contains(&ct));
    c.severity = match priority {
        1 if critical => Severity::Critical,
        1 => Severity::High,
        2 => Severity::Medium,
        _ => Severity::Low,
    };
    c.app_layer = c.app.is_some()
        || c.buffers
            .iter()
            .any(|b| *b != StickyBuffer::PktData && !b.is_header());
    c.src_set = c.src.to_set();
    c.dst_set = c.dst.to_set();
    c.sid = sid;
    c.gid = gid;
    c.rev = rev;
    c.msg = msg;
    c.classtype = classtype;
    c.priority = priority;
    c.raises = raises;
    c.steps = steps;
    c.buffers = buffers;
    c.fast_pattern = fast;
    c.buffer_fast_pattern = if fast.is_none() {
        c.steps
            .iter()
            .enumerate()
            .filter(|(i, _)| c.buffers[*i] != StickyBuffer::PktData)
            // Decoded by the rule itself: nothing to look for before it runs.
            .filter(|(i, _)| c.buffers[*i] != StickyBuffer::Base64Data)
            // A transformed buffer's literal is not in the raw buffer (but for the dot).
            .filter(|(i, _)| c.transforms[*i] == 0 || c.is_dotprefixed(*i))
            .filter_map(|(i, s)| match s {
                PayloadStep::Content(ct) if !ct.spec.negated => Some((i, ct.spec.pattern.len())),
                _ => None,
            })
            .max_by_key(|&(i, len)| (len, std::cmp::Reverse(i)))
            .map(|(i, _)| i)
    } else {
        None
    };
    c.fast_pattern_end = fast.and_then(|f| payload_end_bound(&c.steps, &c.buffers, f));
    Ok(c)
}

/// The latest payload position at which an occurrence of step `at` (a content of the raw
/// payload) can end in any match of the rule, or `None` if it may end anywhere.
///
/// An absolute content ends by `offset + depth`; a relative one by the bound of the previous
/// match plus `distance + within`. A run of steps on one buffer starts at 0 (relative
/// matches do not carry across buffers); negated contents do not move the previous match; a
/// pcre does, to an unknown place. Contents of other buffers than the payload get no bound,
/// because their positions are not payload positions.
pub(crate) fn payload_end_bound(
    steps: &[PayloadStep],
    buffers: &[StickyBuffer],
    at: usize,
) -> Option<u32> {
    if buffers.get(at) != Some(&StickyBuffer::PktData) {
        return None;
    }
    let run_start = buffers[..at]
        .iter()
        .rposition(|b| *b != StickyBuffer::PktData)
        .map_or(0, |i| i + 1);
    // Latest end of the previous (non-negated) match; `None` = unknown.
    let mut prev: Option<i64> = Some(0);
    for step in &steps[run_start..=at] {
        let end = match step {
            // A position from a variable: anywhere.
            PayloadStep::Content(c) if !c.vars.is_empty() => None,
            PayloadStep::Content(c) => {
                let s = &c.spec;
                if s.is_relative() {
                    match (prev, s.within) {
                        (Some(p), Some(w)) => {
                            Some(p + i64::from(s.distance.unwrap_or(0)) + i64::from(w))
                        }
                        _ => None,
                    }
                } else {
                    s.depth
                        .map(|d| i64::from(s.offset.unwrap_or(0)) + i64::from(d))
                }
                .map(|e| e.max(0))
            }
            PayloadStep::Pcre(_) => None,
            // Checks that move no match position.
            PayloadStep::Bsize(_)
            | PayloadStep::IsDataAt(..)
            | PayloadStep::ByteTest(..)
            | PayloadStep::Base64Decode(_) => continue,
            PayloadStep::ByteJump(..)
            | PayloadStep::ByteExtract(..)
            | PayloadStep::ByteMath(..) => None,
        };
        let negated = matches!(step, PayloadStep::Content(c) if c.spec.negated);
        if !negated {
            prev = end;
        }
    }
    prev.and_then(|e| u32::try_from(e).ok())
}

/// Whether a content of `buffer` occurs in the raw payload as written, so it can serve as
/// the rule's fast pattern. Rebuilt buffers (the dotted DNS name, the header block and its
/// lines, header names, `http.start`, the TLS and SSH fingerprints and their inputs, the
/// certificate buffers, whose chain spans segments) and packet headers do not. `http.uri` counts: its fast pattern is looked for in the raw
/// request, so a request that percent-encodes the fast pattern itself is missed (the other
/// contents are matched on the normalised URI); a deliberate difference from Suricata for
/// speed.
pub(crate) fn in_payload(buffer: StickyBuffer) -> bool {
    !buffer.is_header()
        && !buffer.is_certificate()
        && !matches!(
            buffer,
            StickyBuffer::Base64Data
                | StickyBuffer::DnsQuery
                | StickyBuffer::HttpHeader
                | StickyBuffer::HttpRequestHeader
                | StickyBuffer::HttpResponseHeader
                | StickyBuffer::HttpHeaderNames
                | StickyBuffer::HttpStart
                | StickyBuffer::Ja3Hash
                | StickyBuffer::Ja4Hash
                | StickyBuffer::SshHassh
                | StickyBuffer::SshHasshString
                | StickyBuffer::SshHasshServer
                | StickyBuffer::SshHasshServerString
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule;

    fn compile(s: &str) -> Result<CompiledRule, CompileOutcome> {
        compile_rule(&parse_rule(s).expect("parses"), &RuleVars::default())
    }

    #[test]
    fn only_buffers_written_as_they_are_in_the_payload_give_payload_fast_patterns() {
        for b in [
            StickyBuffer::PktData,
            StickyBuffer::HttpUri,
            StickyBuffer::SipMethod,
            StickyBuffer::TlsRandom,
            StickyBuffer::SshSoftware,
        ] {
            assert!(in_payload(b), "{}", b.as_str());
        }
        for b in [
            StickyBuffer::HttpRequestHeader,
            StickyBuffer::HttpResponseHeader,
            StickyBuffer::SshHassh,
            StickyBuffer::SshHasshString,
            StickyBuffer::SshHasshServerString,
            StickyBuffer::TcpHdr,
            StickyBuffer::IpSrc,
            StickyBuffer::Ja3Hash,
            StickyBuffer::TlsCertSubject,
            StickyBuffer::TlsCerts,
        ] {
            assert!(!in_payload(b), "{}", b.as_str());
        }
    }

    #[test]
    fn variables_resolve_and_match() {
        let r = compile("alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (sid:1;)")
            .expect("compiles");
        let home: IpAddr = "192.168.1.5".parse().expect("ip");
        let ext: IpAddr = "8.8.8.8".parse().expect("ip");
        let ula: IpAddr = "fd00::1".parse().expect("ip");
        assert!(r.src.matches(home) && r.src.matches(ula) && !r.src.matches(ext));
        assert!(r.dst.matches(ext) && !r.dst.matches(home));
        assert!(r.dst_ports.matches(80) && !r.dst_ports.matches(81));
        let undefined = compile("alert tcp $NOPE any -> any any (sid:1;)");
        assert!(matches!(undefined, Err(CompileOutcome::Invalid(_))));
    }

    #[test]
    fn cyclic_variables_do_not_hang() {
        let mut vars = RuleVars::empty();
        vars.set_addr("A", "$B").expect("valid");
        vars.set_addr("B", "[$A]").expect("valid");
        let r = parse_rule("alert ip $A any -> any any (sid:1;)").expect("parses");
        assert!(matches!(
            compile_rule(&r, &vars),
            Err(CompileOutcome::Invalid(_))
        ));
    }

    #[test]
    fn lists_and_negation() {
        let r =
            compile("alert tcp [10.0.0.0/8,!10.1.0.0/16] [1:1024,!80] -> any ![22,23] (sid:1;)")
                .expect("compiles");
        assert!(r.src.matches("10.2.0.1".parse().expect("ip")));
        assert!(!r.src.matches("10.1.0.1".parse().expect("ip")));
        assert!(!r.src.matches("11.0.0.1".parse().expect("ip")));
        assert!(r.src_ports.matches(79) && !r.src_ports.matches(80) && !r.src_ports.matches(2000));
        assert!(r.dst_ports.matches(24) && !r.dst_ports.matches(22));
        let only_neg = compile("alert tcp [!1.2.3.4] any -> any any (sid:1;)").expect("compiles");
        assert!(only_neg.src.matches("1.2.3.5".parse().expect("ip")));
        assert!(!only_neg.src.matches("1.2.3.4".parse().expect("ip")));
    }

    #[test]
    fn severity_mapping() {
        let sev = |s: &str| compile(s).expect("compiles").severity;
        assert_eq!(
            sev("alert ip any any -> any any (classtype:trojan-activity; sid:1;)"),
            Severity::Critical
        );
        assert_eq!(
            sev("alert ip any any -> any any (classtype:attempted-admin; sid:1;)"),
            Severity::High
        );
        assert_eq!(
            sev("alert ip any any -> any any (classtype:bad-unknown; sid:1;)"),
            Severity::Medium
        );
        assert_eq!(
            sev("alert ip any any -> any any (classtype:misc-activity; sid:1;)"),
            Severity::Low
        );
        assert_eq!(
            sev("alert ip any any -> any any (classtype:misc-activity; priority:1; sid:1;)"),
            Severity::High
        );
        assert_eq!(sev("alert ip any any -> any any (sid:1;)"), Severity::Low);
    }

    proptest::proptest! {
        #[test]
        fn nocase_find_is_the_first_case_insensitive_occurrence(
            pattern in "[aAbB1 ]{1,4}",
            hay in "[aAbB1 ]{0,24}",
        ) {
            let c = CompiledContent::new(Content {
                pattern: pattern.as_bytes().to_vec(),
                nocase: true,
                ..Content::default()
            })
            .expect("compiles");
            let (p, h) = (pattern.as_bytes(), hay.as_bytes());
            let naive = (0..=h.len().saturating_sub(p.len()))
                .find(|&i| h.len() >= p.len() && h[i..i + p.len()].eq_ignore_ascii_case(p));
            proptest::prop_assert_eq!(c.find(h), naive);
        }
    }

    #[test]
    fn unsupported_things_are_named() {
        let name = |s: &str| match compile(s) {
            Err(CompileOutcome::Unsupported(k)) => k.join(" "),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            name("alert smb any any -> any any (sid:1;)"),
            "protocol:smb"
        );
        assert_eq!(
            name("alert tcp any any -> any any (content:\"a\"; http_client_body; sid:1;)"),
            "http_client_body"
        );
        assert_eq!(
            name("alert tcp any any -> any any (flow:established,only_stream; sid:1;)"),
            "flow:only_stream"
        );
        assert_eq!(
            name("alert tcp any any -> any any (pcre:\"/(a)\\1/\"; sid:1;)"),
            "pcre (not translatable to the regex crate)"
        );
        assert_eq!(
            name("alert tcp any any -> any any (pcre:\"/a/P\"; sid:1;)"),
            "pcre flag P"
        );
        // Forms Suricata accepts are never malformed: skipped with a name instead.
        assert_eq!(
            name("alert http any any -> any any (content:\"M\"; pcre:\"/^(.*)/G, flow:key\"; sid:1;)"),
            "pcre capture"
        );
        // A variable used before it is defined makes the rule invalid.
        assert!(matches!(
            compile("alert tcp any any -> any any (content:\"a\"; depth:n; byte_extract:1,0,n; sid:1;)"),
            Err(CompileOutcome::Invalid(e)) if e.contains("undefined variable")
        ));
        for ok in [
            "alert tcp any any -> any any (byte_extract:1,0,n; content:\"a\"; depth:n; sid:1;)",
            "rejectboth tcp any any -> any any (sid:1;)",
            "alert http any any -> any any (flowbits:set,traffic/id/mozilla; sid:1;)",
        ] {
            assert!(compile(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn fast_pattern_choice() {
        let r = compile("alert tcp any any -> any any (content:\"ab\"; content:!\"longest-negated\"; content:\"abcd\"; content:\"wxyz\"; sid:1;)")
            .expect("compiles");
        assert_eq!(r.fast_pattern, Some(2));
        let m = compile(
            "alert tcp any any -> any any (content:\"ab\"; fast_pattern; content:\"abcd\"; sid:1;)",
        )
        .expect("compiles");
        assert_eq!(m.fast_pattern, Some(0));
        let n =
            compile("alert tcp any any -> any any (content:!\"ab\"; sid:1;)").expect("compiles");
        assert_eq!(n.fast_pattern, None);
    }

    #[test]
    fn fast_pattern_end_bounds() {
        let end = |opts: &str| {
            compile(&format!("alert tcp any any -> any any ({opts} sid:1;)"))
                .expect("compiles")
                .fast_pattern_end
        };
        assert_eq!(end("content:\"GET \"; depth:4;"), Some(4));
        assert_eq!(end("content:\"abcd\"; offset:10; depth:6;"), Some(16));
        assert_eq!(end("content:\"abcd\";"), None);
        // Heartbleed shape: |18 03| in the first 2 bytes, then 3 bytes 1 byte later.
        assert_eq!(
            end("content:\"|18 03|\"; depth:2; content:\"|00 03 01|\"; distance:1; within:3;"),
            Some(6)
        );
        // Relative without `within`, or after a pcre: unbounded.
        assert_eq!(
            end("content:\"ab\"; depth:2; content:\"cdef\"; distance:0;"),
            None
        );
        assert_eq!(
            end("pcre:\"/x/\"; content:\"cdef\"; distance:0; within:4;"),
            None
        );
        // A negated content does not move the previous match.
        assert_eq!(
            end(
                "content:\"ab\"; depth:2; content:!\"zz\"; content:\"cdef\"; distance:0; within:8;"
            ),
            Some(10)
        );
        // Sticky buffers: positions are not payload positions, and a run starts at 0.
        assert_eq!(end("http.uri; content:\"/admin\"; depth:6;"), None);
        assert_eq!(
            end("http.uri; content:\"/a\"; pkt_data; content:\"abcd\"; distance:2; within:4;"),
            Some(6)
        );
    }

    #[test]
    fn pcre_translation() {
        let p = translate_pcre(&Pcre {
            negated: false,
            pattern: r"^GET\s+/\x41".into(),
            flags: "i".into(),
        })
        .expect("translates")
        .0;
        assert!(p.regex().expect("compiles").is_match(b"get  /a"));
        let (uri, buffer) = translate_pcre(&Pcre {
            negated: false,
            pattern: "admin".into(),
            flags: "UAG".into(),
        })
        .expect("translates");
        assert_eq!(buffer, Some(StickyBuffer::HttpUri));
        let re = uri.regex().expect("compiles");
        assert!(re.is_match(b"admin/x") && !re.is_match(b"/admin"));
        let bytes = translate_pcre(&Pcre {
            negated: false,
            pattern: r"\xff.".into(),
            flags: "s".into(),
        })
        .expect("translates")
        .0;
        assert!(bytes.regex().expect("compiles").is_match(&[0xff, b'\n']));
    }
}

#[cfg(test)]
mod addr_set_tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::IpAddr;

    fn net(a: [u8; 4], prefix: u8) -> AddrMatch {
        AddrMatch::Net(IpNet {
            addr: IpAddr::from(a),
            prefix,
        })
    }

    fn matcher() -> impl Strategy<Value = AddrMatch> {
        let leaf = prop_oneof![
            Just(AddrMatch::Any),
            (0u8..4, 0u8..4, 20u8..=32).prop_map(|(a, b, p)| net([10, a, b, 0], p)),
            (0u8..4, 0u8..=8).prop_map(|(a, p)| net([10, a, 0, 0], p)),
        ];
        leaf.prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|m| AddrMatch::Not(Box::new(m))),
                (
                    proptest::collection::vec(inner.clone(), 0..3),
                    proptest::collection::vec(inner, 0..3)
                )
                    .prop_map(|(pos, neg)| AddrMatch::List { pos, neg }),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_set_agrees_with_the_matcher(m in matcher(), a in 0u8..4, b in 0u8..4, c: u8) {
            let set = m.to_set();
            for ip in [IpAddr::from([10, a, b, c]), IpAddr::from([11, a, b, c]), "::1".parse().expect("v6")] {
                prop_assert_eq!(set.contains(ip), m.matches(ip), "{:?} {}", m, ip);
            }
        }
    }
}
