//! Candidate selection: which rules a packet could match, found without evaluating rules.
//!
//! Rules are grouped, as Suricata's signature groups are, by what a packet's header and flow
//! say before its payload is read:
//!
//! - **Content rules** by transport (TCP, UDP, other), flow direction (to server, to client,
//!   no flow) and the flow's application protocol. Each distinct group gets its own
//!   [`LiteralSet`] of the group's fast patterns, so a payload is scanned only for patterns
//!   that could matter to it: the short patterns of `flow:to_server` HTTP rules
//!   (`%27`, `bin`, `union`) never slow down the scan of a server's response or of a TLS
//!   stream, and the stride of the scan (set by the group's shortest pattern, see
//!   [`literals`](super::literals)) stays long for most traffic. Groups with the same rules
//!   share one set. Within a group, fast patterns that `depth`/`within` bound to the first
//!   [`MAX_PREFIX`] bytes form a second set, searched only in that prefix.
//! - **Content-less rules** by protocol and destination port, merged at build time so a
//!   packet costs one table lookup.
//! - **Content-less rules with a listed side** (IP reputation lists) by address, in the
//!   [`addr_index`](super::addr_index) (the IP-only engine).
//!
//! A rule is put in every group whose packets it could match, so grouping never loses a
//! match; the rule's own header and `flow` checks still run on each candidate.

use super::addr_index::{indexable, AddrIndexes};
use super::ast::StickyBuffer;
use super::compile::{CompiledRule, PayloadStep, ProtoClass};
use super::literals::LiteralSet;
use crate::app::AppProto;
use crate::decode::IpProtocol;
use crate::flow::FlowContext;

/// Content-less rules of one protocol with ports, by destination port.
#[derive(Debug, Clone, Default)]
struct PortGroups {
    /// Rules for any destination port naming no application protocol (sorted).
    any_port: Box<[u32]>,
    /// Rules for any destination port naming an application protocol (`alert http`), by
    /// [`AppProto::index`]: asked only on packets of flows of that protocol.
    by_app: Box<[Box<[u32]>]>,
    /// `(port, rules for exactly that port)`, sorted by port; rules sorted.
    by_dst_port: Box<[(u16, Box<[u32]>)]>,
}

impl PortGroups {
    fn for_port(&self, port: u16) -> &[u32] {
        match self.by_dst_port.binary_search_by_key(&port, |e| e.0) {
            Ok(i) => &self.by_dst_port[i].1,
            Err(_) => &[],
        }
    }
}

/// Transports a content group is keyed by: TCP, UDP, anything else.
const TRANSPORTS: usize = 3;
/// Flow directions a content group is keyed by: to server, to client, no flow.
const DIRECTIONS: usize = 3;
const APPS: usize = AppProto::ALL.len();

/// The transport index of a packet's protocol.
fn transport_index(proto: IpProtocol) -> usize {
    match proto {
        IpProtocol::TCP => 0,
        IpProtocol::UDP => 1,
        _ => 2,
    }
}

/// A representative protocol of each transport index, for [`ProtoClass::admits`].
const TRANSPORT_PROTOS: [&[IpProtocol]; TRANSPORTS] = [
    &[IpProtocol::TCP],
    &[IpProtocol::UDP],
    &[
        IpProtocol::ICMP,
        IpProtocol::ICMPV6,
        IpProtocol::SCTP,
        IpProtocol(0xff),
    ],
];

/// Fast patterns whose matching occurrence must end within this many bytes of the payload
/// start (`content:"GET "; depth:4;`) are searched only there, in a set of their own, instead
/// of making the whole-payload scan denser.
const MAX_PREFIX: u32 = 64;

/// A fast pattern as the prefilter sees it: bytes, case-insensitive, and the latest payload
/// position its occurrence can end at, if bounded by at most [`MAX_PREFIX`].
pub(crate) type FastPattern<'a> = (&'a [u8], bool, Option<u32>);

/// A literal as the literal sets take it: bytes and case-insensitivity.
type FastLiteral<'a> = (&'a [u8], bool);

/// A literal set and, per literal, the rules whose fast pattern it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiteralIndex {
    /// Every distinct (fast pattern, nocase) pair.
    pub(crate) literals: LiteralSet,
    /// Literal id → rules whose fast pattern it is (sorted, disjoint across literals).
    literal_rules: Vec<Box<[u32]>>,
}

impl LiteralIndex {
    fn build<'a>(rules: impl Iterator<Item = (u32, (&'a [u8], bool))>) -> LiteralIndex {
        let mut ids: std::collections::HashMap<(&[u8], bool), usize> = Default::default();
        let mut literals: Vec<(&[u8], bool)> = Vec::new();
        let mut literal_rules: Vec<Vec<u32>> = Vec::new();
        for (idx, lit) in rules {
            let id = *ids.entry(lit).or_insert_with(|| {
                literals.push(lit);
                literal_rules.push(Vec::new());
                literals.len() - 1
            });
            literal_rules[id].push(idx);
        }
        LiteralIndex {
            literals: LiteralSet::new(literals.iter().copied()),
            literal_rules: literal_rules
                .into_iter()
                .map(Vec::into_boxed_slice)
                .collect(),
        }
    }

    /// The rules whose fast pattern is literal `id`.
    pub(crate) fn literal_rules(&self, id: u32) -> &[u32] {
        &self.literal_rules[id as usize]
    }
}

/// The fast patterns of one group of content rules: those that may occur anywhere, and those
/// bounded to the first `prefix_len` bytes.
#[derive(Debug, Clone)]
pub(crate) struct LiteralGroup {
    pub(crate) anywhere: LiteralIndex,
    pub(crate) prefix: LiteralIndex,
    /// The largest bound of the `prefix` literals (0 if there are none).
    pub(crate) prefix_len: usize,
}

impl LiteralGroup {
    fn build(rules: &[u32], fast: &[Option<FastPattern<'_>>]) -> LiteralGroup {
        let with_fast = || {
            rules
                .iter()
                .filter_map(|&i| fast[i as usize].map(|(lit, nocase, end)| (i, lit, nocase, end)))
        };
        let prefix_len = with_fast().filter_map(|e| e.3).max().unwrap_or(0) as usize;
        LiteralGroup {
            anywhere: LiteralIndex::build(
                with_fast()
                    .filter(|e| e.3.is_none())
                    .map(|(i, lit, nocase, _)| (i, (lit, nocase))),
            ),
            prefix: LiteralIndex::build(
                with_fast()
                    .filter(|e| e.3.is_some())
                    .map(|(i, lit, nocase, _)| (i, (lit, nocase))),
            ),
            prefix_len,
        }
    }

    /// Whether the group has no fast patterns at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.anywhere.literals.len() == 0 && self.prefix.literals.len() == 0
    }

    /// The literal sets with the part of `payload` each must search.
    #[inline]
    pub(crate) fn searches<'p>(&self, payload: &'p [u8]) -> [(&LiteralIndex, &'p [u8]); 2] {
        let head = &payload[..payload.len().min(self.prefix_len)];
        [(&self.anywhere, payload), (&self.prefix, head)]
    }
}

/// Rules whose fast pattern lies in an application buffer, for packets of flows of one
/// application protocol (or of any, when the rules name none).
#[derive(Debug, Clone)]
pub(crate) struct BufferGroup {
    pub(crate) buffer: StickyBuffer,
    pub(crate) app: Option<AppProto>,
    pub(crate) index: LiteralIndex,
}

/// Picks candidate rules for a packet.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    /// Rules picked by a literal in an application buffer (or a header buffer: those
    /// groups come first).
    pub(crate) buffer_groups: Vec<BufferGroup>,
    /// The distinct content groups.
    groups: Vec<LiteralGroup>,
    /// Index into `groups` by transport, direction and application protocol.
    group_of: [[[u16; APPS]; DIRECTIONS]; TRANSPORTS],
    tcp: PortGroups,
    udp: PortGroups,
    sctp: PortGroups,
    /// Port-less protocols compare no ports, so each gets one list of every content-less
    /// rule its classes admit, whatever the rule's port.
    icmp: Box<[u32]>,
    icmpv6: Box<[u32]>,
    other: Box<[u32]>,
    /// Content-less rules with a listed side, by address.
    pub(crate) addr: AddrIndexes,
}

impl Prefilter {
    pub(crate) fn build(rules: &[CompiledRule]) -> Prefilter {
        // Each rule's fast pattern, if it has one.
        let fast: Vec<Option<FastPattern<'_>>> = rules
            .iter()
            .map(|r| {
                r.fast_pattern.and_then(|s| match &r.steps[s] {
                    // `http.host` is matched lower-cased; the raw header may be in any case.
                    PayloadStep::Content(c) => Some((
                        c.spec.pattern.as_slice(),
                        c.spec.nocase || r.buffers.get(s) == Some(&StickyBuffer::HttpHost),
                        r.fast_pattern_end.filter(|&e| e <= MAX_PREFIX),
                    )),
                    _ => None,
                })
            })
            .collect();
        let mut groups: Vec<LiteralGroup> = Vec::new();
        let mut members_seen: std::collections::HashMap<Vec<u32>, u16> = Default::default();
        let mut group_of = [[[0u16; APPS]; DIRECTIONS]; TRANSPORTS];
        for (by_dir, protos) in group_of.iter_mut().zip(TRANSPORT_PROTOS) {
            for (d, by_app) in by_dir.iter_mut().enumerate() {
                for (slot, app) in by_app.iter_mut().zip(AppProto::ALL) {
                    let members: Vec<u32> = (0..rules.len())
                        .filter(|&i| fast[i].is_some())
                        .filter(|&i| content_group_admits(&rules[i], protos, d, app))
                        .map(|i| i as u32)
                        .collect();
                    let next = groups.len() as u16;
                    *slot = *members_seen.entry(members).or_insert_with_key(|m| {
                        groups.push(LiteralGroup::build(m, &fast));
                        next
                    });
                }
            }
        }
        // Rules without a payload fast pattern but with one in an application buffer, by
        // (buffer, application protocol). A `dotprefix`ed literal is looked for without its
        // leading dot, which the raw buffer lacks.
        let buffer_literal = |i: usize| -> Option<FastLiteral<'_>> {
            let r = &rules[i];
            let s = r.buffer_fast_pattern?;
            let PayloadStep::Content(c) = &r.steps[s] else {
                return None;
            };
            let mut lit = c.spec.pattern.as_slice();
            if r.is_dotprefixed(s) && lit.len() > 1 {
                lit = lit.strip_prefix(b".").unwrap_or(lit);
            }
            Some((lit, c.spec.nocase || r.buffers[s] == StickyBuffer::HttpHost))
        };
        let mut by_buffer: std::collections::BTreeMap<_, Vec<(u32, FastLiteral<'_>)>> =
            Default::default();
        for (i, r) in rules.iter().enumerate() {
            if fast[i].is_some() {
                continue;
            }
            if let (Some(s), Some(lit)) = (r.buffer_fast_pattern, buffer_literal(i)) {
                by_buffer
                    .entry((r.buffers[s], r.app))
                    .or_default()
                    .push((i as u32, lit));
            }
        }
        let mut buffer_groups: Vec<BufferGroup> = by_buffer
            .into_iter()
            .map(|((buffer, app), members)| BufferGroup {
                buffer,
                app,
                index: LiteralIndex::build(members.into_iter()),
            })
            .collect();
        // Header buffers first: a packet without payload searches only those, and stops at
        // the first other group.
        buffer_groups.sort_by_key(|g| !g.buffer.is_header());
        let in_buffer_group = |i: usize| fast[i].is_none() && buffer_literal(i).is_some();
        // Content-less rules with a listed side go to the address indexes.
        let by_addr: Vec<u32> = (0..rules.len())
            .filter(|&i| fast[i].is_none() && !in_buffer_group(i) && indexable(&rules[i]))
            .map(|i| i as u32)
            .collect();
        // The other content-less rules as (rule, class, single destination port if grouped
        // by it, application protocol named).
        let plain: Vec<(u32, ProtoClass, Option<u16>, Option<AppProto>)> = rules
            .iter()
            .enumerate()
            .filter(|(i, r)| fast[*i].is_none() && !in_buffer_group(*i) && !indexable(r))
            .map(|(i, r)| {
                let port = r.dst_ports.single().filter(|_| !r.bidirectional);
                (i as u32, r.proto, port, r.app)
            })
            .collect();
        let list = |admits: &dyn Fn(ProtoClass, Option<u16>, Option<AppProto>) -> bool| {
            plain
                .iter()
                .filter(|&&(_, c, p, a)| admits(c, p, a))
                .map(|e| e.0)
                .collect::<Box<[u32]>>()
        };
        let ported = |proto: IpProtocol| {
            let mut ports: Vec<u16> = plain
                .iter()
                .filter(|e| e.1.admits(proto))
                .filter_map(|e| e.2)
                .collect();
            ports.sort_unstable();
            ports.dedup();
            PortGroups {
                any_port: list(&|c, p, a| c.admits(proto) && p.is_none() && a.is_none()),
                by_app: AppProto::ALL
                    .iter()
                    .map(|&app| list(&|c, p, a| c.admits(proto) && p.is_none() && a == Some(app)))
                    .collect(),
                by_dst_port: ports
                    .into_iter()
                    .map(|port| (port, list(&|c, p, _| c.admits(proto) && p == Some(port))))
                    .collect(),
            }
        };
        let portless = |proto: IpProtocol| list(&|c, _, _| c.admits(proto));
        Prefilter {
            buffer_groups,
            groups,
            group_of,
            tcp: ported(IpProtocol::TCP),
            udp: ported(IpProtocol::UDP),
            sctp: ported(IpProtocol::SCTP),
            icmp: portless(IpProtocol::ICMP),
            icmpv6: portless(IpProtocol::ICMPV6),
            // Any other protocol: only `ip` rules admit it (the classes are exhaustive).
            other: portless(IpProtocol(0xff)),
            addr: AddrIndexes::build(rules, &by_addr),
        }
    }

    /// The content group for a packet of `proto` with flow context `flow`.
    #[inline]
    pub(crate) fn group(&self, proto: IpProtocol, flow: Option<&FlowContext>) -> &LiteralGroup {
        let (d, a) = match flow {
            Some(f) if f.direction.is_forward() => (0, f.app_proto.index()),
            Some(f) => (1, f.app_proto.index()),
            None => (2, 0),
        };
        let g = self.group_of[transport_index(proto)][d][a];
        &self.groups[g as usize]
    }

    /// The distinct content groups.
    pub(crate) fn groups(&self) -> &[LiteralGroup] {
        &self.groups
    }

    /// The content-less candidates for a packet: three sorted, disjoint lists (any port,
    /// this destination port, the flow's application protocol).
    pub(crate) fn plain_candidates(
        &self,
        proto: IpProtocol,
        dst_port: u16,
        flow: Option<&FlowContext>,
    ) -> [&[u32]; 3] {
        let g = match proto {
            IpProtocol::TCP => &self.tcp,
            IpProtocol::UDP => &self.udp,
            IpProtocol::SCTP => &self.sctp,
            IpProtocol::ICMP => return [&self.icmp, &[], &[]],
            IpProtocol::ICMPV6 => return [&self.icmpv6, &[], &[]],
            _ => return [&self.other, &[], &[]],
        };
        // Without a flow no application protocol is known, and app rules never match.
        let app: &[u32] = match flow {
            Some(f) => g.by_app.get(f.app_proto.index()).map_or(&[], |l| l),
            None => &[],
        };
        [&g.any_port, g.for_port(dst_port), app]
    }
}

/// Whether content rule `r` could match a packet of one of `protos`, in direction `d`
/// (0 to server, 1 to client, 2 no flow) of a flow whose application protocol is `app`.
fn content_group_admits(r: &CompiledRule, protos: &[IpProtocol], d: usize, app: AppProto) -> bool {
    let proto_ok = protos.iter().any(|&p| r.proto.admits(p));
    let dir_ok = match (d, r.flow.to_server) {
        (_, None) => true,
        (0, Some(want)) => want,
        (1, Some(want)) => !want,
        _ => false,
    };
    // Without a flow, a rule naming an application protocol never matches.
    let app_ok = match r.app {
        None => true,
        Some(want) => d < 2 && want == app,
    };
    proto_ok && dir_ok && app_ok
}
