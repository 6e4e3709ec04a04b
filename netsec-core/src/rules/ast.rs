//! The rule AST: what a rule says, before variables are resolved and patterns compiled.
//!
//! Every type here implements `Display` as valid rule text, and for any rule `r` that
//! [`parse_rule`](super::parse_rule) accepted, `parse_rule(&r.to_string()) == Ok(r)`.

use std::fmt;
use std::net::IpAddr;

use crate::app::AppProto;

/// What to do when a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Raise an alert.
    Alert,
    /// IPS drop; alerts in IDS mode.
    Drop,
    /// IPS reject; alerts in IDS mode.
    Reject,
    /// IPS reject towards the source only; alerts in IDS mode.
    RejectSrc,
    /// IPS reject towards the destination only; alerts in IDS mode.
    RejectDst,
    /// IPS reject both ways; alerts in IDS mode.
    RejectBoth,
    /// Suppress alerts from the packets (and TCP/UDP flows) it matches.
    Pass,
}

impl Action {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::RejectSrc => "rejectsrc",
            Action::RejectDst => "rejectdst",
            Action::RejectBoth => "rejectboth",
            Action::Pass => "pass",
        }
    }
}

/// The header protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Any IP packet.
    Ip,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (matches ICMPv4 and ICMPv6, as in Suricata).
    Icmp,
    /// ICMPv6 only.
    Icmpv6,
    /// SCTP.
    Sctp,
    /// Any IPv4 packet.
    Ipv4,
    /// Any IPv6 packet.
    Ipv6,
    /// An application-layer protocol netsec recognises (`dns`, `tls`, `http`, `ssh`, `dhcp`,
    /// `quic`): the packet's flow must have been recognised as it ([`FlowContext::app_proto`](crate::flow::FlowContext::app_proto)).
    App(AppProto),
    /// Another protocol we parse but do not support (`smb`, `http2` …).
    Other(String),
}

impl Protocol {
    /// The keyword.
    pub fn as_str(&self) -> &str {
        match self {
            Protocol::Ip => "ip",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::Icmpv6 => "icmpv6",
            Protocol::Sctp => "sctp",
            Protocol::Ipv4 => "ipv4",
            Protocol::Ipv6 => "ipv6",
            Protocol::App(p) => p.as_str(),
            Protocol::Other(s) => s,
        }
    }
}

/// An IP network: address plus prefix length (a plain address has the full length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The address as written (host bits are ignored when matching).
    pub addr: IpAddr,
    /// Prefix length (≤ 32 for IPv4, ≤ 128 for IPv6).
    pub prefix: u8,
}

impl IpNet {
    /// Whether `ip` is inside this network (never across address families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let p = u32::from(self.prefix.min(32));
                let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let p = u32::from(self.prefix.min(128));
                let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }

    fn full_len(&self) -> u8 {
        if self.addr.is_ipv4() {
            32
        } else {
            128
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == self.full_len() {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// An address part of a rule header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddrSpec {
    /// `any`.
    Any,
    /// A literal address or CIDR.
    Net(IpNet),
    /// `$NAME`, resolved from [`RuleVars`](super::RuleVars) at compile time.
    Var(String),
    /// `[a,b,…]`: matches when some non-negated element matches (or there is none) and no
    /// negated element does.
    List(Vec<AddrSpec>),
    /// `!x`.
    Not(Box<AddrSpec>),
}

impl fmt::Display for AddrSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrSpec::Any => f.write_str("any"),
            AddrSpec::Net(n) => write!(f, "{n}"),
            AddrSpec::Var(v) => write!(f, "${v}"),
            AddrSpec::List(l) => {
                f.write_str("[")?;
                for (i, a) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("]")
            }
            AddrSpec::Not(a) => write!(f, "!{a}"),
        }
    }
}

/// A port part of a rule header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortSpec {
    /// `any`.
    Any,
    /// One port.
    Port(u16),
    /// `a:b`, `a:` or `:b` (inclusive; at least one bound is present).
    Range(Option<u16>, Option<u16>),
    /// `$NAME`.
    Var(String),
    /// `[a,b,…]`, same semantics as [`AddrSpec::List`].
    List(Vec<PortSpec>),
    /// `!x`.
    Not(Box<PortSpec>),
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::Any => f.write_str("any"),
            PortSpec::Port(p) => write!(f, "{p}"),
            PortSpec::Range(a, b) => {
                if let Some(a) = a {
                    write!(f, "{a}")?;
                }
                f.write_str(":")?;
                if let Some(b) = b {
                    write!(f, "{b}")?;
                }
                Ok(())
            }
            PortSpec::Var(v) => write!(f, "${v}"),
            PortSpec::List(l) => {
                f.write_str("[")?;
                for (i, a) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("]")
            }
            PortSpec::Not(a) => write!(f, "!{a}"),
        }
    }
}

/// `->` or `<>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleDirection {
    /// Source to destination only.
    OneWay,
    /// Either way.
    Both,
}

/// What a `dataset` option does with the buffer's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetCommand {
    /// `isset`: matches when the value is in the set.
    IsSet,
    /// `isnotset`: matches when it is not.
    IsNotSet,
    /// `set`: adds the value; matches when it was absent.
    Set,
    /// `unset`: removes the value; matches when it was there.
    Unset,
    /// `datarep:<name>,<op>,<n>`: matches when the value is in the set and its reputation
    /// (the number after it in the set's file) compares as asked.
    Rep(UintCmp),
}

impl DatasetCommand {
    /// The keyword's spelling (`rep` for a `datarep`).
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetCommand::IsSet => "isset",
            DatasetCommand::IsNotSet => "isnotset",
            DatasetCommand::Set => "set",
            DatasetCommand::Unset => "unset",
            DatasetCommand::Rep(_) => "rep",
        }
    }
}

/// The values a dataset holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetKind {
    /// Any bytes (base64 in files).
    String,
    /// 16-byte MD5 digests (hex in files).
    Md5,
    /// 32-byte SHA-256 digests (hex in files).
    Sha256,
    /// IPv4 addresses.
    Ipv4,
    /// IPv4 or IPv6 addresses.
    Ip,
}

impl DatasetKind {
    /// The keyword's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetKind::String => "string",
            DatasetKind::Md5 => "md5",
            DatasetKind::Sha256 => "sha256",
            DatasetKind::Ipv4 => "ipv4",
            DatasetKind::Ip => "ip",
        }
    }
}

/// One `dataset` option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dataset {
    /// What to do.
    pub command: DatasetCommand,
    /// The set's name (shared by every rule naming it).
    pub name: String,
    /// The values it holds.
    pub kind: DatasetKind,
    /// The file its values start from (`load`, or `state`).
    pub load: Option<String>,
    /// The other settings as written (`save <file>`, `memcap <n>`, `hashsize <n>`):
    /// accepted, not acted on.
    pub other: Vec<String>,
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let DatasetCommand::Rep(cmp) = self.command {
            let (op, n) = match cmp {
                UintCmp::Lt(n) => ("<", n),
                UintCmp::Le(n) => ("<=", n),
                UintCmp::Gt(n) => (">", n),
                UintCmp::Ge(n) => (">=", n),
                UintCmp::Ne(n) => ("!=", n),
                UintCmp::Eq(n) | UintCmp::Range(n, _) | UintCmp::NotRange(n, _) => ("==", n),
            };
            write!(
                f,
                "datarep:{},{op},{n},type {}",
                self.name,
                self.kind.as_str()
            )?;
        } else {
            write!(
                f,
                "dataset:{},{},type {}",
                self.command.as_str(),
                self.name,
                self.kind.as_str()
            )?;
        }
        if let Some(l) = &self.load {
            write!(f, ",load {l}")?;
        }
        for o in &self.other {
            write!(f, ",{o}")?;
        }
        f.write_str(";")
    }
}

/// A number of a packet that a rule compares with [`RuleOption::Field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketField {
    /// `seq`: the TCP sequence number.
    TcpSeq,
    /// `ack`: the TCP acknowledgement number.
    TcpAck,
    /// `window` (or `tcp.window`): the TCP window, unscaled.
    TcpWindow,
    /// `tcp.mss`: the TCP maximum segment size option (a packet without one never matches).
    TcpMss,
    /// `dns.opcode`: the opcode of a DNS message.
    DnsOpcode,
    /// `icmp_id`: the identifier of an ICMP or ICMPv6 echo, timestamp, information or
    /// address-mask message (other messages never match).
    IcmpId,
    /// `icmp_seq`: the sequence number of the same messages.
    IcmpSeq,
    /// `icmpv6.mtu`: the MTU of an ICMPv6 packet-too-big message.
    Icmpv6Mtu,
    /// `flow.age`: whole seconds from the flow's first packet to this one.
    FlowAge,
    /// `dhcp.leasetime`: a DHCP message's IP address lease time option (51), seconds.
    DhcpLeaseTime,
    /// `dhcp.renewal_time`: its renewal (T1) time option (58).
    DhcpRenewalTime,
    /// `dhcp.rebinding_time`: its rebinding (T2) time option (59).
    DhcpRebindingTime,
    /// `tls.cert_chain_len`: how many certificates the server's Certificate message holds,
    /// on the packet that completes it.
    TlsCertChainLen,
    /// `stream_size:<side>,<op>,<n>`: the bytes a TCP side has sent so far, counted in
    /// sequence space as Suricata does (payload, plus one for the SYN).
    StreamSize(StreamSide),
    /// `tcpv4-csum`, `udpv6-csum`, `ipv4-csum` …: 1 when the header's checksum is valid, 0
    /// when not, written `valid` / `invalid`. A packet of another protocol or version, a
    /// fragment, or one cut by the snap length never matches.
    Checksum(ChecksumKind),
}

/// Which checksum a `*-csum` keyword checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumKind {
    /// `ipv4-csum`: the IPv4 header's.
    Ipv4,
    /// `tcpv4-csum`.
    Tcpv4,
    /// `tcpv6-csum`.
    Tcpv6,
    /// `udpv4-csum` (a zero checksum, none sent, is valid).
    Udpv4,
    /// `udpv6-csum`.
    Udpv6,
    /// `icmpv4-csum`.
    Icmpv4,
    /// `icmpv6-csum`.
    Icmpv6,
}

impl ChecksumKind {
    /// Every kind.
    pub const ALL: [ChecksumKind; 7] = [
        ChecksumKind::Ipv4,
        ChecksumKind::Tcpv4,
        ChecksumKind::Tcpv6,
        ChecksumKind::Udpv4,
        ChecksumKind::Udpv6,
        ChecksumKind::Icmpv4,
        ChecksumKind::Icmpv6,
    ];

    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            ChecksumKind::Ipv4 => "ipv4-csum",
            ChecksumKind::Tcpv4 => "tcpv4-csum",
            ChecksumKind::Tcpv6 => "tcpv6-csum",
            ChecksumKind::Udpv4 => "udpv4-csum",
            ChecksumKind::Udpv6 => "udpv6-csum",
            ChecksumKind::Icmpv4 => "icmpv4-csum",
            ChecksumKind::Icmpv6 => "icmpv6-csum",
        }
    }
}

/// Which side's stream `stream_size` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamSide {
    /// What the server sent.
    Server,
    /// What the client sent.
    Client,
    /// Both sides, each.
    Both,
    /// Either side.
    Either,
}

impl StreamSide {
    /// Every side.
    pub const ALL: [StreamSide; 4] = [
        StreamSide::Server,
        StreamSide::Client,
        StreamSide::Both,
        StreamSide::Either,
    ];

    /// The name in a rule.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamSide::Server => "server",
            StreamSide::Client => "client",
            StreamSide::Both => "both",
            StreamSide::Either => "either",
        }
    }
}

impl PacketField {
    /// Every field.
    pub const ALL: [PacketField; 13] = [
        PacketField::TcpSeq,
        PacketField::TcpAck,
        PacketField::TcpWindow,
        PacketField::TcpMss,
        PacketField::DnsOpcode,
        PacketField::IcmpId,
        PacketField::IcmpSeq,
        PacketField::Icmpv6Mtu,
        PacketField::FlowAge,
        PacketField::DhcpLeaseTime,
        PacketField::DhcpRenewalTime,
        PacketField::DhcpRebindingTime,
        PacketField::TlsCertChainLen,
    ];

    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            PacketField::TcpSeq => "seq",
            PacketField::TcpAck => "ack",
            PacketField::TcpWindow => "window",
            PacketField::TcpMss => "tcp.mss",
            PacketField::DnsOpcode => "dns.opcode",
            PacketField::IcmpId => "icmp_id",
            PacketField::IcmpSeq => "icmp_seq",
            PacketField::Icmpv6Mtu => "icmpv6.mtu",
            PacketField::FlowAge => "flow.age",
            PacketField::DhcpLeaseTime => "dhcp.leasetime",
            PacketField::DhcpRenewalTime => "dhcp.renewal_time",
            PacketField::DhcpRebindingTime => "dhcp.rebinding_time",
            PacketField::TlsCertChainLen => "tls.cert_chain_len",
            PacketField::StreamSize(_) => "stream_size",
            PacketField::Checksum(k) => k.keyword(),
        }
    }

    /// The field a keyword names (`tcp.window` is a spelling of `window`).
    pub fn from_keyword(kw: &str) -> Option<PacketField> {
        match kw {
            "tcp.window" => Some(PacketField::TcpWindow),
            "icmpv4.id" | "icmpv6.id" => Some(PacketField::IcmpId),
            "icmpv4.seq" | "icmpv6.seq" => Some(PacketField::IcmpSeq),
            _ => PacketField::ALL.into_iter().find(|f| f.keyword() == kw),
        }
    }

    /// The largest value the field holds.
    pub fn max(self) -> u64 {
        match self {
            PacketField::TcpSeq
            | PacketField::TcpAck
            | PacketField::Icmpv6Mtu
            | PacketField::FlowAge
            | PacketField::DhcpLeaseTime
            | PacketField::DhcpRenewalTime
            | PacketField::DhcpRebindingTime
            | PacketField::TlsCertChainLen
            | PacketField::StreamSize(_) => u64::from(u32::MAX),
            PacketField::Checksum(_) => 1,
            PacketField::TcpWindow
            | PacketField::TcpMss
            | PacketField::IcmpId
            | PacketField::IcmpSeq => u64::from(u16::MAX),
            PacketField::DnsOpcode => 15,
        }
    }

    /// Whether the keyword takes only `N` or `!N` (Suricata's `seq`, `ack` and `window`),
    /// not ranges or `<`/`>`.
    pub fn exact_only(self) -> bool {
        matches!(
            self,
            PacketField::TcpSeq
                | PacketField::TcpAck
                | PacketField::TcpWindow
                | PacketField::IcmpId
                | PacketField::IcmpSeq
        )
    }
}

/// A typed unsigned comparison (`dsize`, `ttl`, `itype`, `icode`, `ip_proto`), parsed once
/// (in the manner of Suricata's `detect/uint.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UintCmp {
    /// `N`.
    Eq(u64),
    /// `!N`.
    Ne(u64),
    /// `<N`.
    Lt(u64),
    /// `<=N`.
    Le(u64),
    /// `>N`.
    Gt(u64),
    /// `>=N`.
    Ge(u64),
    /// `a<>b` or `a-b`: strictly between.
    Range(u64, u64),
    /// `!a-b`: not strictly between.
    NotRange(u64, u64),
}

impl UintCmp {
    /// Whether `v` satisfies the comparison.
    pub fn matches(self, v: u64) -> bool {
        match self {
            UintCmp::Eq(n) => v == n,
            UintCmp::Ne(n) => v != n,
            UintCmp::Lt(n) => v < n,
            UintCmp::Le(n) => v <= n,
            UintCmp::Gt(n) => v > n,
            UintCmp::Ge(n) => v >= n,
            UintCmp::Range(a, b) => a < v && v < b,
            UintCmp::NotRange(a, b) => !(a < v && v < b),
        }
    }
}

impl fmt::Display for UintCmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UintCmp::Eq(n) => write!(f, "{n}"),
            UintCmp::Ne(n) => write!(f, "!{n}"),
            UintCmp::Lt(n) => write!(f, "<{n}"),
            UintCmp::Le(n) => write!(f, "<={n}"),
            UintCmp::Gt(n) => write!(f, ">{n}"),
            UintCmp::Ge(n) => write!(f, ">={n}"),
            UintCmp::Range(a, b) => write!(f, "{a}<>{b}"),
            UintCmp::NotRange(a, b) => write!(f, "!{a}-{b}"),
        }
    }
}

/// A `content` match with its modifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Content {
    /// `content:!"…"`: the bytes must not occur.
    pub negated: bool,
    /// The bytes, after `|hex|` and escape decoding (never empty).
    pub pattern: Vec<u8>,
    /// ASCII case-insensitive.
    pub nocase: bool,
    /// Start searching this many bytes into the payload.
    pub offset: Option<u32>,
    /// Search at most this many bytes from `offset`.
    pub depth: Option<u32>,
    /// Relative: start this many bytes after the previous match (may be negative).
    pub distance: Option<i32>,
    /// Relative: the match must end within this many bytes after the previous match
    /// (+ `distance`).
    pub within: Option<u32>,
    /// `fast_pattern` given (any arguments are accepted and dropped).
    pub fast_pattern: bool,
    /// `startswith`: the match must begin where the search begins (the buffer's start, or
    /// the previous match's end for a relative content).
    pub startswith: bool,
    /// `endswith`: the match must end at the end of the buffer.
    pub endswith: bool,
    /// `offset`, `depth`, `distance` or `within` given as a `byte_extract` / `byte_math`
    /// variable (the number of the same name above is then unset).
    pub vars: Vec<VarRef>,
}

impl Content {
    /// Whether this content is anchored to the previous match.
    pub fn is_relative(&self) -> bool {
        self.distance.is_some()
            || self.within.is_some()
            || self
                .vars
                .iter()
                .any(|v| matches!(v.field, VarField::Distance | VarField::Within))
    }
}

/// A number of a payload keyword that a rule takes from a `byte_extract` or `byte_math`
/// variable instead of writing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarField {
    /// How many bytes `byte_test`, `byte_jump` or `byte_math` read.
    Bytes,
    /// Where they read, or a content's `offset`.
    Offset,
    /// `byte_test`'s operand.
    Value,
    /// A content's `depth`.
    Depth,
    /// A content's `distance`.
    Distance,
    /// A content's `within`.
    Within,
    /// `byte_math`'s `rvalue`.
    Rvalue,
}

impl VarField {
    /// The keyword (a content modifier) or field name.
    pub fn as_str(self) -> &'static str {
        match self {
            VarField::Bytes => "bytes",
            VarField::Offset => "offset",
            VarField::Value => "value",
            VarField::Depth => "depth",
            VarField::Distance => "distance",
            VarField::Within => "within",
            VarField::Rvalue => "rvalue",
        }
    }
}

/// A field whose number is the variable `name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VarRef {
    /// Which field.
    pub field: VarField,
    /// The variable.
    pub name: String,
}

/// The name of the variable that gives `field`, if one does.
fn var_of(vars: &[VarRef], field: VarField) -> Option<&str> {
    vars.iter()
        .find(|v| v.field == field)
        .map(|v| v.name.as_str())
}

/// Writes bytes as a quoted content string: printable ASCII as is, the rest as `|hex|`.
pub(crate) fn write_content_bytes(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("\"")?;
    let mut in_hex = false;
    for &b in bytes {
        let plain = (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b';' | b'\\' | b'|');
        if plain {
            if in_hex {
                f.write_str("|")?;
                in_hex = false;
            }
            write!(f, "{}", b as char)?;
        } else {
            if in_hex {
                write!(f, " {b:02X}")?;
            } else {
                write!(f, "|{b:02X}")?;
                in_hex = true;
            }
        }
    }
    if in_hex {
        f.write_str("|")?;
    }
    f.write_str("\"")
}

/// Writes a quoted string, escaping `\`, `"` and `;`.
pub(crate) fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        if matches!(c, '\\' | '"' | ';') {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

impl fmt::Display for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("content:")?;
        if self.negated {
            f.write_str("!")?;
        }
        write_content_bytes(f, &self.pattern)?;
        f.write_str(";")?;
        if self.nocase {
            f.write_str(" nocase;")?;
        }
        if let Some(v) = self.offset {
            write!(f, " offset:{v};")?;
        }
        if let Some(v) = self.depth {
            write!(f, " depth:{v};")?;
        }
        if let Some(v) = self.distance {
            write!(f, " distance:{v};")?;
        }
        if let Some(v) = self.within {
            write!(f, " within:{v};")?;
        }
        if self.fast_pattern {
            f.write_str(" fast_pattern;")?;
        }
        if self.startswith {
            f.write_str(" startswith;")?;
        }
        if self.endswith {
            f.write_str(" endswith;")?;
        }
        for v in &self.vars {
            write!(f, " {}:{};", v.field.as_str(), v.name)?;
        }
        Ok(())
    }
}

/// A `pcre:"/pattern/flags"` option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pcre {
    /// `pcre:!"…"`.
    pub negated: bool,
    /// The pattern between the slashes (`\;` and `\"` already unescaped).
    pub pattern: String,
    /// The flags after the last slash.
    pub flags: String,
}

/// How `flags` compares the packet's TCP flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagsModifier {
    /// `+`: these flags and possibly others.
    Plus,
    /// `*`: any of these flags.
    Any,
    /// `!`: not all of these flags.
    Not,
}

/// A `flags` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlagsSpec {
    /// The modifier; `None` means exactly these flags (after the mask).
    pub modifier: Option<FlagsModifier>,
    /// Flag bits (FIN 0x01 … CWR 0x80); 0 for `0` (no flags).
    pub flags: u8,
    /// Flag bits to ignore.
    pub mask: Option<u8>,
}

/// Flag letters in bit order (F S R P A U E C), as written in `flags`.
pub(crate) const FLAG_LETTERS: [(char, u8); 8] = [
    ('F', 0x01),
    ('S', 0x02),
    ('R', 0x04),
    ('P', 0x08),
    ('A', 0x10),
    ('U', 0x20),
    ('E', 0x40),
    ('C', 0x80),
];

fn write_flag_letters(f: &mut fmt::Formatter<'_>, bits: u8) -> fmt::Result {
    if bits == 0 {
        return f.write_str("0");
    }
    for (c, b) in FLAG_LETTERS {
        if bits & b != 0 {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

impl FlagsSpec {
    /// Whether the packet's flags `v` satisfy this option.
    pub fn matches(&self, v: u8) -> bool {
        let v = v & !self.mask.unwrap_or(0);
        match self.modifier {
            None => v == self.flags,
            Some(FlagsModifier::Plus) => v & self.flags == self.flags,
            Some(FlagsModifier::Any) => self.flags == 0 || v & self.flags != 0,
            Some(FlagsModifier::Not) => v & self.flags != self.flags,
        }
    }
}

impl fmt::Display for FlagsSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.modifier {
            None => {}
            Some(FlagsModifier::Plus) => f.write_str("+")?,
            Some(FlagsModifier::Any) => f.write_str("*")?,
            Some(FlagsModifier::Not) => f.write_str("!")?,
        }
        write_flag_letters(f, self.flags)?;
        if let Some(m) = self.mask {
            f.write_str(",")?;
            write_flag_letters(f, m)?;
        }
        Ok(())
    }
}

/// One `flow` option word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowOption {
    /// `established`.
    Established,
    /// `not_established`.
    NotEstablished,
    /// `stateless`.
    Stateless,
    /// `to_server`.
    ToServer,
    /// `to_client`.
    ToClient,
    /// `from_server` (same as `to_client`).
    FromServer,
    /// `from_client` (same as `to_server`).
    FromClient,
}

impl FlowOption {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowOption::Established => "established",
            FlowOption::NotEstablished => "not_established",
            FlowOption::Stateless => "stateless",
            FlowOption::ToServer => "to_server",
            FlowOption::ToClient => "to_client",
            FlowOption::FromServer => "from_server",
            FlowOption::FromClient => "from_client",
        }
    }

    /// All words, for parsing.
    pub const ALL: [FlowOption; 7] = [
        FlowOption::Established,
        FlowOption::NotEstablished,
        FlowOption::Stateless,
        FlowOption::ToServer,
        FlowOption::ToClient,
        FlowOption::FromServer,
        FlowOption::FromClient,
    ];
}

/// `threshold` type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThresholdType {
    /// Alert on the first `count` matches per window.
    Limit,
    /// Alert on every `count`-th match per window.
    Threshold,
    /// Alert once per window, after `count` matches.
    Both,
}

/// What a threshold counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    /// Per source address.
    BySrc,
    /// Per destination address.
    ByDst,
    /// Per rule.
    ByRule,
    /// Per (source, destination) pair.
    ByBoth,
}

impl Track {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Track::BySrc => "by_src",
            Track::ByDst => "by_dst",
            Track::ByRule => "by_rule",
            Track::ByBoth => "by_both",
        }
    }
}

/// `threshold` (with a type) or `detection_filter` (type `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Threshold {
    /// `type …`; `None` for `detection_filter`.
    pub kind: Option<ThresholdType>,
    /// `track …`.
    pub track: Track,
    /// `count N` (≥ 1).
    pub count: u32,
    /// `seconds S`.
    pub seconds: u32,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(k) = self.kind {
            let k = match k {
                ThresholdType::Limit => "limit",
                ThresholdType::Threshold => "threshold",
                ThresholdType::Both => "both",
            };
            write!(f, "type {k}, ")?;
        }
        write!(
            f,
            "track {}, count {}, seconds {}",
            self.track.as_str(),
            self.count,
            self.seconds
        )
    }
}

/// What an `xbits` bit is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XbitsTrack {
    /// The packet's source address.
    IpSrc,
    /// The packet's destination address.
    IpDst,
    /// The two addresses, either way round.
    IpPair,
}

impl XbitsTrack {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            XbitsTrack::IpSrc => "ip_src",
            XbitsTrack::IpDst => "ip_dst",
            XbitsTrack::IpPair => "ip_pair",
        }
    }
}

/// `xbits:<command>,<name>,track <ip_src|ip_dst|ip_pair>[,expire <seconds>]`: a bit kept per
/// address (or pair) across flows, for `expire` seconds after it was set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Xbits {
    /// `set`, `unset`, `toggle`, `isset` or `isnotset`.
    pub command: FlowbitsCommand,
    /// The bit's name.
    pub name: String,
    /// What it is kept for.
    pub track: XbitsTrack,
    /// Seconds it lives after a set (forever without).
    pub expire: Option<u32>,
}

impl fmt::Display for Xbits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "xbits:{},{},track {}",
            self.command.as_str(),
            self.name,
            self.track.as_str()
        )?;
        if let Some(e) = self.expire {
            write!(f, ",expire {e}")?;
        }
        f.write_str(";")
    }
}

/// A `flowint` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowintOp {
    /// `=`: set.
    Set,
    /// `+`: add.
    Add,
    /// `-`: subtract (not below 0).
    Sub,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `isset`: the variable has a value.
    IsSet,
    /// `notset` (or `isnotset`): it has none.
    NotSet,
}

impl FlowintOp {
    /// Every operation.
    pub const ALL: [FlowintOp; 11] = [
        FlowintOp::Set,
        FlowintOp::Add,
        FlowintOp::Sub,
        FlowintOp::Eq,
        FlowintOp::Ne,
        FlowintOp::Lt,
        FlowintOp::Le,
        FlowintOp::Gt,
        FlowintOp::Ge,
        FlowintOp::IsSet,
        FlowintOp::NotSet,
    ];

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowintOp::Set => "=",
            FlowintOp::Add => "+",
            FlowintOp::Sub => "-",
            FlowintOp::Eq => "==",
            FlowintOp::Ne => "!=",
            FlowintOp::Lt => "<",
            FlowintOp::Le => "<=",
            FlowintOp::Gt => ">",
            FlowintOp::Ge => ">=",
            FlowintOp::IsSet => "isset",
            FlowintOp::NotSet => "notset",
        }
    }

    /// Whether the operation tests the variable (a match condition).
    pub fn reads(self) -> bool {
        !matches!(self, FlowintOp::Set | FlowintOp::Add | FlowintOp::Sub)
    }

    /// Whether a test holds on the variable's value (`None` when it has none; comparisons
    /// need a value).
    pub fn test(self, current: Option<u64>, operand: u64) -> bool {
        match (self, current) {
            (FlowintOp::IsSet, c) => c.is_some(),
            (FlowintOp::NotSet, c) => c.is_none(),
            (_, None) => false,
            (FlowintOp::Eq, Some(c)) => c == operand,
            (FlowintOp::Ne, Some(c)) => c != operand,
            (FlowintOp::Lt, Some(c)) => c < operand,
            (FlowintOp::Le, Some(c)) => c <= operand,
            (FlowintOp::Gt, Some(c)) => c > operand,
            (FlowintOp::Ge, Some(c)) => c >= operand,
            _ => true,
        }
    }

    /// The value after a write.
    pub fn apply(self, current: u64, operand: u64) -> u64 {
        match self {
            FlowintOp::Set => operand,
            FlowintOp::Add => current.saturating_add(operand),
            FlowintOp::Sub => current.saturating_sub(operand),
            _ => current,
        }
    }
}

/// `flowint:<name>,<op>[,<value>]`: an integer kept per flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Flowint {
    /// The variable's name.
    pub name: String,
    /// The operation.
    pub op: FlowintOp,
    /// The operand (0 for `isset`/`notset`).
    pub value: u64,
}

impl fmt::Display for Flowint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flowint:{},{}", self.name, self.op.as_str())?;
        if !matches!(self.op, FlowintOp::IsSet | FlowintOp::NotSet) {
            write!(f, ",{}", self.value)?;
        }
        f.write_str(";")
    }
}

/// `base64_decode[:bytes <n>][,offset <n>][,relative]`: decodes base64 text of the current
/// buffer (from its start, or from the end of the previous match when `relative`, plus
/// `offset`; at most `bytes` of it) into the `base64_data` buffer of the rest of the rule.
/// It matches when something decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Base64Decode {
    /// Most bytes of base64 text read (all there is when absent).
    pub bytes: Option<u32>,
    /// Bytes skipped first.
    pub offset: Option<u32>,
    /// From the end of the previous match.
    pub relative: bool,
}

impl fmt::Display for Base64Decode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("base64_decode")?;
        let mut parts = Vec::new();
        if let Some(n) = self.bytes {
            parts.push(format!("bytes {n}"));
        }
        if let Some(n) = self.offset {
            parts.push(format!("offset {n}"));
        }
        if self.relative {
            parts.push("relative".into());
        }
        if !parts.is_empty() {
            write!(f, ":{}", parts.join(","))?;
        }
        f.write_str(";")
    }
}

/// `isdataat:[!]<n>[,relative]`: whether the buffer has a byte at position `n` (from its
/// start, or from the end of the previous match when `relative`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IsDataAt {
    /// `!`: there must be no byte there.
    pub negated: bool,
    /// The position.
    pub position: u32,
    /// Counted from the previous match's end.
    pub relative: bool,
    /// The position given as a `byte_extract` / `byte_math` variable (`position` is then 0).
    pub var: Option<String>,
}

impl fmt::Display for IsDataAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = if self.negated { "!" } else { "" };
        match &self.var {
            Some(name) => write!(f, "isdataat:{neg}{name}")?,
            None => write!(f, "isdataat:{neg}{}", self.position)?,
        }
        if self.relative {
            f.write_str(",relative")?;
        }
        f.write_str(";")
    }
}

/// How `byte_test` and `byte_jump` read a number from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRead {
    /// Bytes to read (1–8; up to 23 as a string).
    pub bytes: u8,
    /// Where, from the buffer start or (`relative`) from the end of the previous match.
    pub offset: i32,
    /// Counted from the previous match's end.
    pub relative: bool,
    /// Little-endian (big-endian otherwise).
    pub little: bool,
    /// `string`: the bytes are digits in this base (8, 10, 16; 0 = detected from a `0x` or
    /// `0` prefix), not a binary number.
    pub base: Option<u8>,
    /// `bitmask`: the value is ANDed with it, then shifted right past its trailing zeros.
    pub bitmask: Option<u64>,
    /// `dce`: endianness from the DCE/RPC header.
    pub dce: bool,
}

impl ByteRead {
    fn write_flags(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.relative {
            f.write_str(",relative")?;
        }
        if self.little {
            f.write_str(",little")?;
        }
        if let Some(base) = self.base {
            f.write_str(",string")?;
            match base {
                8 => f.write_str(",oct")?,
                10 => f.write_str(",dec")?,
                16 => f.write_str(",hex")?,
                _ => {}
            }
        }
        if self.dce {
            f.write_str(",dce")?;
        }
        if let Some(m) = self.bitmask {
            write!(f, ",bitmask 0x{m:x}")?;
        }
        Ok(())
    }
}

/// A `byte_test` comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOp {
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `=`.
    Eq,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `&`: any bit in common.
    And,
    /// `^`: any bit different.
    Xor,
}

impl ByteOp {
    /// Every operator.
    pub const ALL: [ByteOp; 7] = [
        ByteOp::Lt,
        ByteOp::Gt,
        ByteOp::Eq,
        ByteOp::Le,
        ByteOp::Ge,
        ByteOp::And,
        ByteOp::Xor,
    ];

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            ByteOp::Lt => "<",
            ByteOp::Gt => ">",
            ByteOp::Eq => "=",
            ByteOp::Le => "<=",
            ByteOp::Ge => ">=",
            ByteOp::And => "&",
            ByteOp::Xor => "^",
        }
    }

    /// Whether `value OP operand` holds.
    pub fn holds(self, value: u64, operand: u64) -> bool {
        match self {
            ByteOp::Lt => value < operand,
            ByteOp::Gt => value > operand,
            ByteOp::Eq => value == operand,
            ByteOp::Le => value <= operand,
            ByteOp::Ge => value >= operand,
            ByteOp::And => value & operand != 0,
            ByteOp::Xor => value ^ operand != 0,
        }
    }
}

/// `byte_test:<bytes>,[!]<op>,<value>,<offset>[,flags]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ByteTest {
    /// How the number is read.
    pub read: ByteRead,
    /// `!`: the comparison must fail.
    pub negated: bool,
    /// The comparison.
    pub op: ByteOp,
    /// The operand.
    pub value: u64,
    /// Bytes, offset or operand given as variables.
    pub vars: Vec<VarRef>,
}

impl fmt::Display for ByteTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = if self.negated { "!" } else { "" };
        let field = |field, n: String| var_of(&self.vars, field).map_or(n, str::to_string);
        write!(
            f,
            "byte_test:{},{neg}{},{},{}",
            field(VarField::Bytes, self.read.bytes.to_string()),
            self.op.as_str(),
            field(VarField::Value, self.value.to_string()),
            field(VarField::Offset, self.read.offset.to_string()),
        )?;
        self.read.write_flags(f)?;
        f.write_str(";")
    }
}

/// Where a `byte_jump` counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JumpFrom {
    /// After the bytes read (the default).
    Cursor,
    /// `from_beginning`.
    Beginning,
    /// `from_end`.
    End,
}

/// `byte_jump:<bytes>,<offset>[,flags]`: moves the match position by the number read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ByteJump {
    /// How the number is read.
    pub read: ByteRead,
    /// `multiplier`.
    pub multiplier: u32,
    /// `align`: the jump rounded up to a multiple of 4.
    pub align: bool,
    /// Where the jump counts from.
    pub from: JumpFrom,
    /// `post_offset`.
    pub post_offset: i32,
    /// Bytes or offset given as variables.
    pub vars: Vec<VarRef>,
}

/// `byte_extract:<bytes>,<offset>,<name>[,flags]`: reads a number into a variable that later
/// keywords of the rule use, and moves the match position past it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ByteExtract {
    /// How the number is read.
    pub read: ByteRead,
    /// The variable.
    pub name: String,
    /// `multiplier`: the value is multiplied by it.
    pub multiplier: u32,
    /// `align 2` or `align 4`: the value rounded up to a multiple (0: none).
    pub align: u8,
}

impl fmt::Display for ByteExtract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "byte_extract:{},{},{}",
            self.read.bytes, self.read.offset, self.name
        )?;
        self.read.write_flags(f)?;
        if self.multiplier != 1 {
            write!(f, ",multiplier {}", self.multiplier)?;
        }
        if self.align != 0 {
            write!(f, ",align {}", self.align)?;
        }
        f.write_str(";")
    }
}

/// `byte_math`'s operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathOp {
    /// `+`.
    Add,
    /// `-` (wrapping, as Suricata's unsigned arithmetic).
    Sub,
    /// `*`.
    Mul,
    /// `/` (by zero: no match).
    Div,
    /// `<<`.
    Shl,
    /// `>>`.
    Shr,
}

impl MathOp {
    /// Every operator.
    pub const ALL: [MathOp; 6] = [
        MathOp::Add,
        MathOp::Sub,
        MathOp::Mul,
        MathOp::Div,
        MathOp::Shl,
        MathOp::Shr,
    ];

    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            MathOp::Add => "+",
            MathOp::Sub => "-",
            MathOp::Mul => "*",
            MathOp::Div => "/",
            MathOp::Shl => "<<",
            MathOp::Shr => ">>",
        }
    }

    /// `value op rvalue`; `None` for a division by zero.
    pub fn apply(self, value: u64, rvalue: u64) -> Option<u64> {
        Some(match self {
            MathOp::Add => value.wrapping_add(rvalue),
            MathOp::Sub => value.wrapping_sub(rvalue),
            MathOp::Mul => value.wrapping_mul(rvalue),
            MathOp::Div => value.checked_div(rvalue)?,
            MathOp::Shl => value.checked_shl(u32::try_from(rvalue).ok()?).unwrap_or(0),
            MathOp::Shr => value.checked_shr(u32::try_from(rvalue).ok()?).unwrap_or(0),
        })
    }
}

/// `byte_math:bytes <n>,offset <n>,oper <op>,rvalue <n>,result <name>[,flags]`: reads a
/// number, applies the operator and keeps the result in a variable; moves the match
/// position past the bytes read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ByteMath {
    /// How the number is read.
    pub read: ByteRead,
    /// The operator.
    pub oper: MathOp,
    /// The right operand.
    pub rvalue: u64,
    /// The variable the result goes to.
    pub result: String,
    /// Bytes or right operand given as variables.
    pub vars: Vec<VarRef>,
}

impl fmt::Display for ByteMath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = |field, n: String| var_of(&self.vars, field).map_or(n, str::to_string);
        write!(
            f,
            "byte_math:bytes {},offset {},oper {},rvalue {},result {}",
            field(VarField::Bytes, self.read.bytes.to_string()),
            self.read.offset,
            self.oper.as_str(),
            field(VarField::Rvalue, self.rvalue.to_string()),
            self.result
        )?;
        if self.read.relative {
            f.write_str(",relative")?;
        }
        if self.read.little {
            f.write_str(",endian little")?;
        }
        if self.read.dce {
            f.write_str(",dce")?;
        }
        match self.read.base {
            Some(8) => f.write_str(",string oct")?,
            Some(16) => f.write_str(",string hex")?,
            Some(_) => f.write_str(",string dec")?,
            None => {}
        }
        if let Some(m) = self.read.bitmask {
            write!(f, ",bitmask 0x{m:x}")?;
        }
        f.write_str(";")
    }
}

impl fmt::Display for ByteJump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = |field, n: String| var_of(&self.vars, field).map_or(n, str::to_string);
        write!(
            f,
            "byte_jump:{},{}",
            field(VarField::Bytes, self.read.bytes.to_string()),
            field(VarField::Offset, self.read.offset.to_string())
        )?;
        self.read.write_flags(f)?;
        if self.multiplier != 1 {
            write!(f, ",multiplier {}", self.multiplier)?;
        }
        if self.align {
            f.write_str(",align")?;
        }
        match self.from {
            JumpFrom::Cursor => {}
            JumpFrom::Beginning => f.write_str(",from_beginning")?,
            JumpFrom::End => f.write_str(",from_end")?,
        }
        if self.post_offset != 0 {
            write!(f, ",post_offset {}", self.post_offset)?;
        }
        f.write_str(";")
    }
}

/// A buffer transform: applies to the sticky buffer it follows, for the `content` and
/// `pcre` after it; several apply in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transform {
    /// `dotprefix`: a `.` before the buffer (so `.example.com` with `endswith` matches the
    /// domain and its subdomains, never `badexample.com`).
    DotPrefix,
    /// `to_lowercase`: ASCII letters lower-cased.
    ToLowercase,
    /// `to_uppercase`: ASCII letters upper-cased.
    ToUppercase,
    /// `strip_whitespace`: every ASCII whitespace byte removed.
    StripWhitespace,
    /// `compress_whitespace`: each run of ASCII whitespace made one space.
    CompressWhitespace,
    /// `url_decode`: `%XX` escapes decoded and `+` made a space.
    UrlDecode,
    /// `to_md5`: the buffer's MD5 digest (16 raw bytes).
    ToMd5,
    /// `to_sha1`: its SHA-1 digest (20 raw bytes).
    ToSha1,
    /// `to_sha256`: its SHA-256 digest (32 raw bytes).
    ToSha256,
    /// `xor:"<hex key>"`: each byte XORed with the key's bytes in turn.
    Xor(Vec<u8>),
    /// `pcrexform:"<regex>"`: the regex's first capture group, when it matches (the buffer
    /// is left as it is otherwise).
    Pcrexform(String),
}

impl Transform {
    /// The transforms without a value, by keyword.
    pub const PLAIN: [Transform; 9] = [
        Transform::DotPrefix,
        Transform::ToLowercase,
        Transform::ToUppercase,
        Transform::StripWhitespace,
        Transform::CompressWhitespace,
        Transform::UrlDecode,
        Transform::ToMd5,
        Transform::ToSha1,
        Transform::ToSha256,
    ];

    /// The keyword.
    pub fn as_str(&self) -> &'static str {
        match self {
            Transform::DotPrefix => "dotprefix",
            Transform::ToLowercase => "to_lowercase",
            Transform::ToUppercase => "to_uppercase",
            Transform::StripWhitespace => "strip_whitespace",
            Transform::CompressWhitespace => "compress_whitespace",
            Transform::UrlDecode => "url_decode",
            Transform::ToMd5 => "to_md5",
            Transform::ToSha1 => "to_sha1",
            Transform::ToSha256 => "to_sha256",
            Transform::Xor(_) => "xor",
            Transform::Pcrexform(_) => "pcrexform",
        }
    }
}

impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transform::Xor(key) => {
                f.write_str("xor:\"")?;
                for b in key {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("\";")
            }
            Transform::Pcrexform(re) => {
                f.write_str("pcrexform:\"")?;
                for c in re.chars() {
                    if matches!(c, '"' | ';') {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\";")
            }
            plain => write!(f, "{};", plain.as_str()),
        }
    }
}

/// A `flowbits` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowbitsCommand {
    /// `set`: set the named bits on the flow when the rule matches.
    Set,
    /// `unset`: clear them.
    Unset,
    /// `toggle`: flip them.
    Toggle,
    /// `isset`: the rule matches only if one of the named bits is set (an OR group).
    IsSet,
    /// `isnotset`: only if none of the named bits is set.
    IsNotSet,
    /// `noalert`: the rule never alerts (same as the `noalert` keyword).
    NoAlert,
}

impl FlowbitsCommand {
    /// Every command, for tests and iteration.
    pub const ALL: [FlowbitsCommand; 6] = [
        FlowbitsCommand::Set,
        FlowbitsCommand::Unset,
        FlowbitsCommand::Toggle,
        FlowbitsCommand::IsSet,
        FlowbitsCommand::IsNotSet,
        FlowbitsCommand::NoAlert,
    ];

    /// The command as written.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowbitsCommand::Set => "set",
            FlowbitsCommand::Unset => "unset",
            FlowbitsCommand::Toggle => "toggle",
            FlowbitsCommand::IsSet => "isset",
            FlowbitsCommand::IsNotSet => "isnotset",
            FlowbitsCommand::NoAlert => "noalert",
        }
    }

    /// The command named `s`.
    pub fn from_name(s: &str) -> Option<FlowbitsCommand> {
        FlowbitsCommand::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the command reads the bits (a match condition) rather than writing them.
    pub fn reads(self) -> bool {
        matches!(self, FlowbitsCommand::IsSet | FlowbitsCommand::IsNotSet)
    }
}

/// `flowbits:<command>[,<name>|<name>…]`. For `isset`/`isnotset` several names form an OR
/// group (any set / none set); `set`, `unset` and `toggle` act on each name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Flowbits {
    /// What to do.
    pub command: FlowbitsCommand,
    /// The bit names (empty only for `noalert`).
    pub names: Vec<String>,
}

impl fmt::Display for Flowbits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flowbits:{}", self.command.as_str())?;
        if !self.names.is_empty() {
            write!(f, ",{}", self.names.join("|"))?;
        }
        f.write_str(";")
    }
}

/// One rule option, in rule order (content modifiers folded into their [`Content`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleOption {
    /// `msg`.
    Msg(String),
    /// `sid`.
    Sid(u64),
    /// `rev`.
    Rev(u64),
    /// `gid`.
    Gid(u64),
    /// `classtype`.
    Classtype(String),
    /// `priority`.
    Priority(u64),
    /// `reference` (kept raw).
    Reference(String),
    /// `metadata` (kept raw, not interpreted).
    Metadata(String),
    /// `target` (kept raw, informational).
    Target(String),
    /// `requires` (kept raw; a rule whose requirements are not met is skipped at load).
    Requires(String),
    /// `prefilter` (a hint to pick this option as the prefilter; accepted, no effect).
    Prefilter,
    /// `tag` (accepted; tagged packets are not logged).
    Tag(String),
    /// `dataset`: the current buffer tested against, or put into, a named set.
    Dataset(Dataset),
    /// `content` with its modifiers.
    Content(Content),
    /// `pcre`.
    Pcre(Pcre),
    /// `dsize`.
    Dsize(UintCmp),
    /// `flags`.
    Flags(FlagsSpec),
    /// `ttl`.
    Ttl(UintCmp),
    /// A number in the packet's headers or its application message compared (`seq`, `ack`,
    /// `window`, `tcp.mss`, `dns.opcode`).
    Field(PacketField, UintCmp),
    /// `decode-event`: the packet carries this decoder anomaly.
    DecodeEvent(crate::decode::DecodeEvents),
    /// `itype`.
    Itype(UintCmp),
    /// `icode`.
    Icode(UintCmp),
    /// `ip_proto`.
    IpProto(UintCmp),
    /// `flow`.
    Flow(Vec<FlowOption>),
    /// `threshold`.
    Threshold(Threshold),
    /// `detection_filter`.
    DetectionFilter(Threshold),
    /// `alert` (a `pass` rule also logs an alert).
    AlertFlag,
    /// `noalert` (match, but raise no alert).
    NoAlert,
    /// `flowbits`.
    Flowbits(Flowbits),
    /// `xbits` (and `hostbits`, which tracks like it by `ip_src`/`ip_dst`).
    Xbits(Xbits),
    /// `flowint`.
    Flowint(Flowint),
    /// `bsize`: the size of the current buffer.
    Bsize(UintCmp),
    /// `isdataat`.
    IsDataAt(IsDataAt),
    /// `base64_decode`: decodes base64 text into the `base64_data` buffer.
    Base64Decode(Base64Decode),
    /// `byte_test`.
    ByteTest(ByteTest),
    /// `byte_jump`.
    ByteJump(ByteJump),
    /// `byte_extract`.
    ByteExtract(ByteExtract),
    /// `byte_math`.
    ByteMath(ByteMath),
    /// `urilen:<cmp>[,raw|norm]`: the length of the request's URI (normalised unless
    /// `raw`).
    Urilen {
        /// The comparison.
        cmp: UintCmp,
        /// Measure `http.uri.raw` instead of `http.uri`.
        raw: bool,
    },
    /// A transform of the current buffer (`dotprefix`).
    Transform(Transform),
    /// A sticky buffer (`http.uri;` …): the `content`/`pcre` after it inspect that buffer.
    Buffer(StickyBuffer),
    /// Any other keyword: parsed, kept, and the rule is skipped at compile time.
    Unsupported {
        /// Lower-case keyword.
        keyword: String,
        /// Raw value text, if any.
        value: Option<String>,
    },
}

impl fmt::Display for RuleOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleOption::Msg(s) => {
                f.write_str("msg:")?;
                write_quoted(f, s)?;
                f.write_str(";")
            }
            RuleOption::Sid(n) => write!(f, "sid:{n};"),
            RuleOption::Rev(n) => write!(f, "rev:{n};"),
            RuleOption::Gid(n) => write!(f, "gid:{n};"),
            RuleOption::Classtype(s) => write!(f, "classtype:{s};"),
            RuleOption::Priority(n) => write!(f, "priority:{n};"),
            RuleOption::Reference(s) => write!(f, "reference:{s};"),
            RuleOption::Metadata(s) => write!(f, "metadata:{s};"),
            RuleOption::Target(s) => write!(f, "target:{s};"),
            RuleOption::Requires(s) => write!(f, "requires:{s};"),
            RuleOption::Dataset(d) => write!(f, "{d}"),
            RuleOption::Prefilter => f.write_str("prefilter;"),
            RuleOption::Tag(s) => write!(f, "tag:{s};"),
            RuleOption::Content(c) => write!(f, "{c}"),
            RuleOption::Pcre(p) => {
                f.write_str("pcre:")?;
                if p.negated {
                    f.write_str("!")?;
                }
                f.write_str("\"/")?;
                for c in p.pattern.chars() {
                    if matches!(c, '"' | ';') {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                write!(f, "/{}\";", p.flags)
            }
            RuleOption::Dsize(c) => write!(f, "dsize:{c};"),
            RuleOption::Flags(s) => write!(f, "flags:{s};"),
            RuleOption::Ttl(c) => write!(f, "ttl:{c};"),
            RuleOption::Field(PacketField::StreamSize(side), c) => {
                let (op, n) = match *c {
                    UintCmp::Lt(n) => ("<", n),
                    UintCmp::Le(n) => ("<=", n),
                    UintCmp::Gt(n) => (">", n),
                    UintCmp::Ge(n) => (">=", n),
                    UintCmp::Ne(n) => ("!=", n),
                    UintCmp::Eq(n) | UintCmp::Range(n, _) | UintCmp::NotRange(n, _) => ("=", n),
                };
                write!(f, "stream_size:{},{op},{n};", side.as_str())
            }
            RuleOption::Field(PacketField::Checksum(k), c) => {
                let valid = matches!(c, UintCmp::Eq(1) | UintCmp::Ne(0));
                let v = if valid { "valid" } else { "invalid" };
                write!(f, "{}:{v};", k.keyword())
            }
            RuleOption::Field(field, c) => write!(f, "{}:{c};", field.keyword()),
            RuleOption::DecodeEvent(e) => {
                for name in e.names() {
                    write!(f, "decode-event:{name};")?;
                }
                Ok(())
            }
            RuleOption::Itype(c) => write!(f, "itype:{c};"),
            RuleOption::Icode(c) => write!(f, "icode:{c};"),
            RuleOption::IpProto(c) => write!(f, "ip_proto:{c};"),
            RuleOption::Flow(v) => {
                f.write_str("flow:")?;
                for (i, o) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(o.as_str())?;
                }
                f.write_str(";")
            }
            RuleOption::Threshold(t) => write!(f, "threshold:{t};"),
            RuleOption::DetectionFilter(t) => write!(f, "detection_filter:{t};"),
            RuleOption::AlertFlag => f.write_str("alert;"),
            RuleOption::NoAlert => f.write_str("noalert;"),
            RuleOption::Flowbits(b) => write!(f, "{b}"),
            RuleOption::Xbits(b) => write!(f, "{b}"),
            RuleOption::Flowint(i) => write!(f, "{i}"),
            RuleOption::Bsize(c) => write!(f, "bsize:{c};"),
            RuleOption::IsDataAt(d) => write!(f, "{d}"),
            RuleOption::Base64Decode(b) => write!(f, "{b}"),
            RuleOption::ByteTest(b) => write!(f, "{b}"),
            RuleOption::ByteJump(b) => write!(f, "{b}"),
            RuleOption::ByteExtract(b) => write!(f, "{b}"),
            RuleOption::ByteMath(b) => write!(f, "{b}"),
            RuleOption::Urilen { cmp, raw } => {
                write!(f, "urilen:{cmp}")?;
                if *raw {
                    f.write_str(",raw")?;
                }
                f.write_str(";")
            }
            RuleOption::Transform(t) => write!(f, "{t}"),
            RuleOption::Buffer(b) => write!(f, "{};", b.as_str()),
            RuleOption::Unsupported { keyword, value } => match value {
                Some(v) => write!(f, "{keyword}:{v};"),
                None => write!(f, "{keyword};"),
            },
        }
    }
}

/// The buffer that the `content` and `pcre` options after a sticky-buffer keyword inspect.
///
/// Buffers are read from the packet itself (one TCP segment or UDP datagram), with netsec's
/// single-packet parsers: a request line, header or hello split over segments is not seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StickyBuffer {
    /// `pkt_data`: the packet payload (the default; resets an earlier sticky buffer).
    PktData,
    /// `dns.query`: the query name of a DNS request, dotted (`www.example.com`).
    DnsQuery,
    /// `tls.sni`: the server name of a TLS ClientHello.
    TlsSni,
    /// `http.host`: the `Host` header of an HTTP request, lower-cased (as Suricata
    /// normalises it).
    HttpHost,
    /// `http.uri`: the request target of an HTTP request, normalised as Suricata (libhtp)
    /// does: `%XX` decoded, `//`, `.` and `..` path segments resolved.
    HttpUri,
    /// `http.user_agent`: the `User-Agent` header of an HTTP request.
    HttpUserAgent,
    /// `http.method`: the method of an HTTP request.
    HttpMethod,
    /// `http.uri.raw`: the request target as sent.
    HttpUriRaw,
    /// `http.header`: every header as `Name: value\r\n`.
    HttpHeader,
    /// `http.header_names`: `\r\n`, each header name followed by `\r\n`, then `\r\n`.
    HttpHeaderNames,
    /// `http.start`: the start line and the headers, ending with an empty line.
    HttpStart,
    /// `http.request_line`: a request's first line.
    HttpRequestLine,
    /// `http.response_line`: a response's first line.
    HttpResponseLine,
    /// `http.protocol`: the version (`HTTP/1.1`).
    HttpProtocol,
    /// `http.stat_code`: a response's three-digit status.
    HttpStatCode,
    /// `http.stat_msg`: a response's reason phrase.
    HttpStatMsg,
    /// `http.cookie`: `Cookie` (requests) or `Set-Cookie` (responses).
    HttpCookie,
    /// `http.referer`: the `Referer` header.
    HttpReferer,
    /// `http.content_type`: the `Content-Type` header.
    HttpContentType,
    /// `http.content_len`: the `Content-Length` header.
    HttpContentLen,
    /// `http.accept`: the `Accept` header.
    HttpAccept,
    /// `http.accept_enc`: the `Accept-Encoding` header.
    HttpAcceptEnc,
    /// `http.accept_lang`: the `Accept-Language` header.
    HttpAcceptLang,
    /// `http.connection`: the `Connection` header.
    HttpConnection,
    /// `http.location`: the `Location` header.
    HttpLocation,
    /// `http.server`: the `Server` header.
    HttpServer,
    /// `ja3.hash` (or `ja3_hash`): the JA3 fingerprint of a complete TLS ClientHello, 32
    /// lower-case hex digits.
    Ja3Hash,
    /// `ja4.hash`: the JA4 fingerprint of a TLS ClientHello.
    Ja4Hash,
    /// `ssh.proto`: the protocol version of an SSH identification line (`2.0` of
    /// `SSH-2.0-OpenSSH_9.6`), client's or server's.
    SshProto,
    /// `ssh.software`: the software version of an SSH identification line (`OpenSSH_9.6`,
    /// up to the first space or line end).
    SshSoftware,
    /// `ipv4.hdr`: an IPv4 packet's header, options included.
    Ipv4Hdr,
    /// `ipv6.hdr`: an IPv6 packet's fixed header and the extension headers before the
    /// transport.
    Ipv6Hdr,
    /// `tcp.hdr`: a TCP segment's header, options included.
    TcpHdr,
    /// `udp.hdr`: a UDP datagram's 8-byte header.
    UdpHdr,
    /// `icmpv4.hdr`: an ICMP message's header (8 bytes; a router advertisement's address
    /// entries too).
    Icmpv4Hdr,
    /// `icmpv6.hdr`: an ICMPv6 message's 8-byte header.
    Icmpv6Hdr,
    /// `ssh.hassh`: the HASSH of a client's KEXINIT (MD5 of `ssh.hassh.string`, 32
    /// lower-case hex digits).
    SshHassh,
    /// `ssh.hassh.string`: `kex;encryption;mac;compression` of a client's KEXINIT.
    SshHasshString,
    /// `ssh.hassh.server`: the HASSH of a server's KEXINIT.
    SshHasshServer,
    /// `ssh.hassh.server.string`: the HASSH input of a server's KEXINIT.
    SshHasshServerString,
    /// `tls.random`: the 32 random bytes of a ClientHello or ServerHello.
    TlsRandom,
    /// `tls.random_time`: their first 4 bytes.
    TlsRandomTime,
    /// `tls.random_bytes`: their last 28 bytes.
    TlsRandomBytes,
    /// `tls.cert_subject`: the server certificate's subject (`C=FR, O=Stamus, CN=SELKS`),
    /// on the packet that completes the server's Certificate message.
    TlsCertSubject,
    /// `tls.cert_issuer`: the server certificate's issuer, likewise.
    TlsCertIssuer,
    /// `tls.cert_serial`: its serial number (`5C:19:B7:…`), likewise.
    TlsCertSerial,
    /// `tls.cert_fingerprint`: the SHA-1 of its DER (`90:86:a4:…`), likewise.
    TlsCertFingerprint,
    /// `tls.certs`: each certificate's DER in turn (a multi-buffer), likewise.
    TlsCerts,
    /// `base64_data`: what the rule's last `base64_decode` decoded.
    Base64Data,
    /// `ip.src`: the source address, 4 or 16 bytes.
    IpSrc,
    /// `ip.dst`: the destination address, 4 or 16 bytes.
    IpDst,
    /// `http.request_header`: each header line of a request (`Name: value`), one at a time
    /// (a multi-buffer: the rule matches if one line does).
    HttpRequestHeader,
    /// `http.response_header`: each header line of a response, one at a time.
    HttpResponseHeader,
    /// `sip.method`: a SIP request's method.
    SipMethod,
    /// `sip.uri`: a SIP request's Request-URI.
    SipUri,
    /// `sip.protocol`: the `SIP/2.0` of a request or response line.
    SipProtocol,
    /// `sip.request_line`: a SIP request's first line.
    SipRequestLine,
    /// `sip.response_line`: a SIP response's first line.
    SipResponseLine,
    /// `sip.stat_code`: a SIP response's status code.
    SipStatCode,
    /// `sip.stat_msg`: a SIP response's reason phrase.
    SipStatMsg,
    /// `quic.version`: the 4-byte version of a QUIC long-header packet.
    QuicVersion,
}

impl StickyBuffer {
    /// Every buffer.
    pub const ALL: [StickyBuffer; 61] = [
        StickyBuffer::PktData,
        StickyBuffer::DnsQuery,
        StickyBuffer::TlsSni,
        StickyBuffer::HttpHost,
        StickyBuffer::HttpUri,
        StickyBuffer::HttpUserAgent,
        StickyBuffer::HttpMethod,
        StickyBuffer::HttpUriRaw,
        StickyBuffer::HttpHeader,
        StickyBuffer::HttpHeaderNames,
        StickyBuffer::HttpStart,
        StickyBuffer::HttpRequestLine,
        StickyBuffer::HttpResponseLine,
        StickyBuffer::HttpProtocol,
        StickyBuffer::HttpStatCode,
        StickyBuffer::HttpStatMsg,
        StickyBuffer::HttpCookie,
        StickyBuffer::HttpReferer,
        StickyBuffer::HttpContentType,
        StickyBuffer::HttpContentLen,
        StickyBuffer::HttpAccept,
        StickyBuffer::HttpAcceptEnc,
        StickyBuffer::HttpAcceptLang,
        StickyBuffer::HttpConnection,
        StickyBuffer::HttpLocation,
        StickyBuffer::HttpServer,
        StickyBuffer::Ja3Hash,
        StickyBuffer::Ja4Hash,
        StickyBuffer::SshProto,
        StickyBuffer::SshSoftware,
        StickyBuffer::Ipv4Hdr,
        StickyBuffer::Ipv6Hdr,
        StickyBuffer::TcpHdr,
        StickyBuffer::UdpHdr,
        StickyBuffer::Icmpv4Hdr,
        StickyBuffer::Icmpv6Hdr,
        StickyBuffer::SshHassh,
        StickyBuffer::SshHasshString,
        StickyBuffer::SshHasshServer,
        StickyBuffer::SshHasshServerString,
        StickyBuffer::TlsRandom,
        StickyBuffer::TlsRandomTime,
        StickyBuffer::TlsRandomBytes,
        StickyBuffer::TlsCertSubject,
        StickyBuffer::TlsCertIssuer,
        StickyBuffer::TlsCertSerial,
        StickyBuffer::TlsCertFingerprint,
        StickyBuffer::TlsCerts,
        StickyBuffer::Base64Data,
        StickyBuffer::IpSrc,
        StickyBuffer::IpDst,
        StickyBuffer::HttpRequestHeader,
        StickyBuffer::HttpResponseHeader,
        StickyBuffer::SipMethod,
        StickyBuffer::SipUri,
        StickyBuffer::SipProtocol,
        StickyBuffer::SipRequestLine,
        StickyBuffer::SipResponseLine,
        StickyBuffer::SipStatCode,
        StickyBuffer::SipStatMsg,
        StickyBuffer::QuicVersion,
    ];

    /// The SIP buffers, from the parts of a start line.
    pub const SIP: [StickyBuffer; 7] = [
        StickyBuffer::SipMethod,
        StickyBuffer::SipUri,
        StickyBuffer::SipProtocol,
        StickyBuffer::SipRequestLine,
        StickyBuffer::SipResponseLine,
        StickyBuffer::SipStatCode,
        StickyBuffer::SipStatMsg,
    ];

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            StickyBuffer::PktData => "pkt_data",
            StickyBuffer::DnsQuery => "dns.query",
            StickyBuffer::TlsSni => "tls.sni",
            StickyBuffer::HttpHost => "http.host",
            StickyBuffer::HttpUri => "http.uri",
            StickyBuffer::HttpUserAgent => "http.user_agent",
            StickyBuffer::HttpMethod => "http.method",
            StickyBuffer::HttpUriRaw => "http.uri.raw",
            StickyBuffer::HttpHeader => "http.header",
            StickyBuffer::HttpHeaderNames => "http.header_names",
            StickyBuffer::HttpStart => "http.start",
            StickyBuffer::HttpRequestLine => "http.request_line",
            StickyBuffer::HttpResponseLine => "http.response_line",
            StickyBuffer::HttpProtocol => "http.protocol",
            StickyBuffer::HttpStatCode => "http.stat_code",
            StickyBuffer::HttpStatMsg => "http.stat_msg",
            StickyBuffer::HttpCookie => "http.cookie",
            StickyBuffer::HttpReferer => "http.referer",
            StickyBuffer::HttpContentType => "http.content_type",
            StickyBuffer::HttpContentLen => "http.content_len",
            StickyBuffer::HttpAccept => "http.accept",
            StickyBuffer::HttpAcceptEnc => "http.accept_enc",
            StickyBuffer::HttpAcceptLang => "http.accept_lang",
            StickyBuffer::HttpConnection => "http.connection",
            StickyBuffer::HttpLocation => "http.location",
            StickyBuffer::HttpServer => "http.server",
            StickyBuffer::Ja3Hash => "ja3.hash",
            StickyBuffer::Ja4Hash => "ja4.hash",
            StickyBuffer::SshProto => "ssh.proto",
            StickyBuffer::SshSoftware => "ssh.software",
            StickyBuffer::Ipv4Hdr => "ipv4.hdr",
            StickyBuffer::Ipv6Hdr => "ipv6.hdr",
            StickyBuffer::TcpHdr => "tcp.hdr",
            StickyBuffer::UdpHdr => "udp.hdr",
            StickyBuffer::Icmpv4Hdr => "icmpv4.hdr",
            StickyBuffer::Icmpv6Hdr => "icmpv6.hdr",
            StickyBuffer::SshHassh => "ssh.hassh",
            StickyBuffer::SshHasshString => "ssh.hassh.string",
            StickyBuffer::SshHasshServer => "ssh.hassh.server",
            StickyBuffer::SshHasshServerString => "ssh.hassh.server.string",
            StickyBuffer::TlsRandom => "tls.random",
            StickyBuffer::TlsRandomTime => "tls.random_time",
            StickyBuffer::TlsRandomBytes => "tls.random_bytes",
            StickyBuffer::TlsCertSubject => "tls.cert_subject",
            StickyBuffer::TlsCertIssuer => "tls.cert_issuer",
            StickyBuffer::TlsCertSerial => "tls.cert_serial",
            StickyBuffer::TlsCertFingerprint => "tls.cert_fingerprint",
            StickyBuffer::TlsCerts => "tls.certs",
            StickyBuffer::Base64Data => "base64_data",
            StickyBuffer::IpSrc => "ip.src",
            StickyBuffer::IpDst => "ip.dst",
            StickyBuffer::HttpRequestHeader => "http.request_header",
            StickyBuffer::HttpResponseHeader => "http.response_header",
            StickyBuffer::SipMethod => "sip.method",
            StickyBuffer::SipUri => "sip.uri",
            StickyBuffer::SipProtocol => "sip.protocol",
            StickyBuffer::SipRequestLine => "sip.request_line",
            StickyBuffer::SipResponseLine => "sip.response_line",
            StickyBuffer::SipStatCode => "sip.stat_code",
            StickyBuffer::SipStatMsg => "sip.stat_msg",
            StickyBuffer::QuicVersion => "quic.version",
        }
    }

    /// The buffer named by a keyword (also Suricata's older spellings with `_`: `dns_query`,
    /// `tls_sni`, `ja3_hash`, `ssh_proto`, `ssh_software`, `http_request_line`,
    /// `http_response_line`, `http_header_names`, `http_protocol`, `http_start`,
    /// `http_accept`, `http_accept_enc`, `http_accept_lang`, `http_connection`,
    /// `http_content_len`, `http_content_type`).
    pub fn from_keyword(kw: &str) -> Option<StickyBuffer> {
        let b = match kw {
            "dns_query" => StickyBuffer::DnsQuery,
            "tls_sni" => StickyBuffer::TlsSni,
            "tls_cert_subject" => StickyBuffer::TlsCertSubject,
            "tls_cert_issuer" => StickyBuffer::TlsCertIssuer,
            "tls_cert_serial" => StickyBuffer::TlsCertSerial,
            "tls_cert_fingerprint" => StickyBuffer::TlsCertFingerprint,
            "ja3_hash" => StickyBuffer::Ja3Hash,
            "ssh_proto" => StickyBuffer::SshProto,
            "ssh_software" => StickyBuffer::SshSoftware,
            "http_request_line" => StickyBuffer::HttpRequestLine,
            "http_response_line" => StickyBuffer::HttpResponseLine,
            "http_header_names" => StickyBuffer::HttpHeaderNames,
            "http_protocol" => StickyBuffer::HttpProtocol,
            "http_start" => StickyBuffer::HttpStart,
            "http_accept" => StickyBuffer::HttpAccept,
            "http_accept_enc" => StickyBuffer::HttpAcceptEnc,
            "http_accept_lang" => StickyBuffer::HttpAcceptLang,
            "http_connection" => StickyBuffer::HttpConnection,
            "http_content_len" => StickyBuffer::HttpContentLen,
            "http_content_type" => StickyBuffer::HttpContentType,
            _ => return StickyBuffer::ALL.into_iter().find(|b| b.as_str() == kw),
        };
        Some(b)
    }

    /// A multi-buffer: a rule's contents on it are matched against each of its instances
    /// (each header line, each certificate) in turn, not against their concatenation.
    pub fn is_multi(self) -> bool {
        matches!(
            self,
            StickyBuffer::HttpRequestHeader
                | StickyBuffer::HttpResponseHeader
                | StickyBuffer::TlsCerts
        )
    }

    /// A buffer of the server's certificate chain, known once its Certificate message is
    /// whole.
    pub fn is_certificate(self) -> bool {
        matches!(
            self,
            StickyBuffer::TlsCertSubject
                | StickyBuffer::TlsCertIssuer
                | StickyBuffer::TlsCertSerial
                | StickyBuffer::TlsCertFingerprint
                | StickyBuffer::TlsCerts
        )
    }

    /// A packet header (`ipv4.hdr`, `tcp.hdr` …, and the addresses `ip.src`, `ip.dst`)
    /// rather than payload or application data.
    pub fn is_header(self) -> bool {
        matches!(
            self,
            StickyBuffer::IpSrc
                | StickyBuffer::IpDst
                | StickyBuffer::Ipv4Hdr
                | StickyBuffer::Ipv6Hdr
                | StickyBuffer::TcpHdr
                | StickyBuffer::UdpHdr
                | StickyBuffer::Icmpv4Hdr
                | StickyBuffer::Icmpv6Hdr
        )
    }
}

/// One parsed rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The action.
    pub action: Action,
    /// The header protocol.
    pub protocol: Protocol,
    /// Source addresses.
    pub src: AddrSpec,
    /// Source ports.
    pub src_ports: PortSpec,
    /// `->` or `<>`.
    pub direction: RuleDirection,
    /// Destination addresses.
    pub dst: AddrSpec,
    /// Destination ports.
    pub dst_ports: PortSpec,
    /// Options in rule order.
    pub options: Vec<RuleOption>,
}

impl Rule {
    /// The `sid`, if given.
    pub fn sid(&self) -> Option<u64> {
        self.options.iter().find_map(|o| match o {
            RuleOption::Sid(n) => Some(*n),
            _ => None,
        })
    }

    /// The `msg`, if given.
    pub fn msg(&self) -> Option<&str> {
        self.options.iter().find_map(|o| match o {
            RuleOption::Msg(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.direction {
            RuleDirection::OneWay => "->",
            RuleDirection::Both => "<>",
        };
        write!(
            f,
            "{} {} {} {} {} {} {} (",
            self.action.as_str(),
            self.protocol.as_str(),
            self.src,
            self.src_ports,
            dir,
            self.dst,
            self.dst_ports
        )?;
        for (i, o) in self.options.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{o}")?;
        }
        f.write_str(")")
    }
}
