//! Property: for any rule, `parse_rule(&rule.to_string()) == Ok(rule)`.

use proptest::prelude::*;

use super::ast::*;
use super::parse_rule;
use crate::app::AppProto;

fn ipnet() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<[u8; 4]>(), 0u8..=32).prop_map(|(a, p)| IpNet {
            addr: std::net::IpAddr::from(a),
            prefix: p
        }),
        (any::<[u8; 16]>(), 0u8..=128).prop_map(|(a, p)| IpNet {
            addr: std::net::IpAddr::from(a),
            prefix: p
        }),
    ]
}

fn var() -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9_]{0,8}"
}

fn addr() -> impl Strategy<Value = AddrSpec> {
    let leaf = prop_oneof![
        Just(AddrSpec::Any),
        ipnet().prop_map(AddrSpec::Net),
        var().prop_map(AddrSpec::Var),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(AddrSpec::List),
            inner.prop_map(|a| AddrSpec::Not(Box::new(a))),
        ]
    })
}

fn port() -> impl Strategy<Value = PortSpec> {
    let range = (any::<Option<u16>>(), any::<Option<u16>>())
        .prop_filter("one bound", |(a, b)| a.is_some() || b.is_some())
        .prop_map(|(a, b)| match (a, b) {
            (Some(x), Some(y)) => PortSpec::Range(Some(x.min(y)), Some(x.max(y))),
            (a, b) => PortSpec::Range(a, b),
        });
    let leaf = prop_oneof![
        Just(PortSpec::Any),
        any::<u16>().prop_map(PortSpec::Port),
        range,
        var().prop_map(PortSpec::Var),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(PortSpec::List),
            inner.prop_map(|a| PortSpec::Not(Box::new(a))),
        ]
    })
}

fn uint(max: u64) -> impl Strategy<Value = UintCmp> {
    (0..8u8, 0..=max, 0..=max).prop_map(move |(k, a, b)| {
        let (lo, hi) = (a.min(b), a.max(b).max(a.min(b) + 1).min(max));
        let lo = lo.min(hi.saturating_sub(1));
        match k {
            0 => UintCmp::Eq(a),
            1 => UintCmp::Ne(a),
            2 => UintCmp::Lt(a),
            3 => UintCmp::Le(a),
            4 => UintCmp::Gt(a),
            5 => UintCmp::Ge(a),
            6 if lo < hi => UintCmp::Range(lo, hi),
            7 if lo < hi => UintCmp::NotRange(lo, hi),
            _ => UintCmp::Eq(a),
        }
    })
}

fn content() -> impl Strategy<Value = Content> {
    (
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 1..12),
        any::<bool>(),
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        any::<Option<i32>>(),
        any::<Option<u32>>(),
        any::<bool>(),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                negated,
                pattern,
                nocase,
                offset,
                depth,
                distance,
                within,
                fast_pattern,
                (startswith, endswith),
            )| Content {
                negated,
                pattern,
                nocase,
                offset,
                depth,
                distance,
                within,
                fast_pattern,
                startswith,
                endswith,
                vars: Vec::new(),
            },
        )
}

fn threshold(typed: bool) -> impl Strategy<Value = Threshold> {
    (0..3u8, 0..4u8, 1..=u32::MAX, any::<u32>()).prop_map(move |(k, t, count, seconds)| Threshold {
        kind: typed.then_some(match k {
            0 => ThresholdType::Limit,
            1 => ThresholdType::Threshold,
            _ => ThresholdType::Both,
        }),
        track: match t {
            0 => Track::BySrc,
            1 => Track::ByDst,
            2 => Track::ByRule,
            _ => Track::ByBoth,
        },
        count,
        seconds,
    })
}

fn byte_read() -> impl Strategy<Value = ByteRead> {
    (
        1u8..=8,
        -100i32..1000,
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![0u8, 8, 10, 16])),
        prop::option::of(1u64..0xffff),
        any::<bool>(),
    )
        .prop_map(
            |(bytes, offset, relative, little, base, bitmask, dce)| ByteRead {
                bytes,
                offset,
                relative,
                little,
                base,
                bitmask,
                dce,
            },
        )
}

fn option() -> impl Strategy<Value = RuleOption> {
    prop_oneof![
        "[ -~]{0,20}".prop_map(RuleOption::Msg),
        any::<u64>().prop_map(RuleOption::Rev),
        any::<u64>().prop_map(RuleOption::Gid),
        "[a-z][a-z-]{0,15}".prop_map(RuleOption::Classtype),
        any::<u64>().prop_map(RuleOption::Priority),
        "[a-z]{1,5},[a-z0-9./]{1,15}".prop_map(RuleOption::Reference),
        "[a-z_]{1,8} [a-z0-9_]{1,8}".prop_map(RuleOption::Metadata),
        "[a-z]{1,8},[0-9]{1,3}".prop_map(RuleOption::Tag),
        content().prop_map(RuleOption::Content),
        (any::<bool>(), r"[a-z0-9;\x22 /.+*]{1,10}", "[ismxR]{0,3}").prop_map(
            |(negated, pattern, flags)| RuleOption::Pcre(Pcre {
                negated,
                pattern,
                flags
            })
        ),
        uint(65535).prop_map(RuleOption::Dsize),
        uint(255).prop_map(RuleOption::Ttl),
        (
            proptest::sample::select(PacketField::ALL.to_vec()),
            uint(15),
            any::<bool>()
        )
            .prop_map(|(field, cmp, negated)| {
                let cmp = match cmp {
                    UintCmp::Eq(n) | UintCmp::Ne(n) if field.exact_only() && negated => {
                        UintCmp::Ne(n)
                    }
                    UintCmp::Eq(n) | UintCmp::Ne(n) if field.exact_only() => UintCmp::Eq(n),
                    _ if field.exact_only() => UintCmp::Eq(7),
                    other => other,
                };
                RuleOption::Field(field, cmp)
            }),
        uint(255).prop_map(RuleOption::Itype),
        uint(255).prop_map(RuleOption::Icode),
        uint(255).prop_map(RuleOption::IpProto),
        (0..4u8, any::<u8>(), any::<Option<u8>>()).prop_map(|(m, flags, mask)| {
            RuleOption::Flags(FlagsSpec {
                modifier: match m {
                    0 => None,
                    1 => Some(FlagsModifier::Plus),
                    2 => Some(FlagsModifier::Any),
                    _ => Some(FlagsModifier::Not),
                },
                flags,
                mask,
            })
        }),
        prop::collection::vec(prop::sample::select(FlowOption::ALL.to_vec()), 1..4)
            .prop_map(RuleOption::Flow),
        threshold(true).prop_map(RuleOption::Threshold),
        threshold(false).prop_map(RuleOption::DetectionFilter),
        Just(RuleOption::AlertFlag),
        Just(RuleOption::NoAlert),
        (
            prop::sample::select(FlowbitsCommand::ALL.to_vec()),
            prop::collection::vec("[A-Za-z0-9._-]{1,8}", 1..3)
        )
            .prop_map(|(command, names)| RuleOption::Flowbits(Flowbits {
                command,
                names: if command == FlowbitsCommand::NoAlert {
                    vec![]
                } else {
                    names
                },
            })),
        prop::sample::select(StickyBuffer::ALL.to_vec()).prop_map(RuleOption::Buffer),
        uint(65535).prop_map(RuleOption::Bsize),
        (any::<bool>(), any::<u32>(), any::<bool>()).prop_map(|(negated, position, relative)| {
            RuleOption::IsDataAt(IsDataAt {
                negated,
                position,
                relative,
                var: None,
            })
        }),
        prop::sample::select(Transform::PLAIN.to_vec()).prop_map(RuleOption::Transform),
        Just(RuleOption::Transform(Transform::Xor(vec![0x0d, 0x20]))),
        (
            proptest::option::of(0u32..100),
            proptest::option::of(0u32..100),
            any::<bool>()
        )
            .prop_map(|(bytes, offset, relative)| {
                RuleOption::Base64Decode(Base64Decode {
                    bytes,
                    offset,
                    relative,
                })
            }),
        Just(RuleOption::Transform(Transform::Pcrexform(
            r"[a-z]\s(.+);?".into()
        ))),
        (uint(65535), any::<bool>()).prop_map(|(cmp, raw)| RuleOption::Urilen { cmp, raw }),
        (
            prop::sample::select(FlowbitsCommand::ALL[..5].to_vec()),
            "[A-Za-z0-9._/-]{1,8}",
            prop::sample::select(vec![
                XbitsTrack::IpSrc,
                XbitsTrack::IpDst,
                XbitsTrack::IpPair
            ]),
            prop::option::of(0u32..100_000),
        )
            .prop_map(|(command, name, track, expire)| RuleOption::Xbits(Xbits {
                command,
                name,
                track,
                expire,
            })),
        (
            "[A-Za-z0-9._-]{1,8}",
            prop::sample::select(FlowintOp::ALL.to_vec()),
            any::<u32>()
        )
            .prop_map(|(name, op, value)| RuleOption::Flowint(Flowint {
                name,
                op,
                value: if matches!(op, FlowintOp::IsSet | FlowintOp::NotSet) {
                    0
                } else {
                    u64::from(value)
                },
            })),
        (
            byte_read(),
            any::<bool>(),
            prop::sample::select(ByteOp::ALL.to_vec()),
            any::<u32>()
        )
            .prop_map(|(read, negated, op, value)| RuleOption::ByteTest(ByteTest {
                read,
                negated,
                op,
                value: u64::from(value),
                vars: Vec::new(),
            })),
        (byte_read(), 1u32..100, any::<bool>(), 0u8..3, -50i32..50).prop_map(
            |(read, multiplier, align, from, post_offset)| RuleOption::ByteJump(ByteJump {
                read,
                multiplier,
                align,
                from: [JumpFrom::Cursor, JumpFrom::Beginning, JumpFrom::End][usize::from(from)],
                post_offset,
                vars: Vec::new(),
            })
        ),
        (
            byte_read(),
            "[a-z][a-z_]{0,6}",
            1u32..10,
            prop::sample::select(vec![0u8, 2, 4])
        )
            .prop_map(|(mut read, name, multiplier, align)| {
                if read.base == Some(0) {
                    read.base = Some(10);
                }
                RuleOption::ByteExtract(ByteExtract {
                    read,
                    name,
                    multiplier,
                    align,
                })
            }),
        (
            byte_read(),
            prop::sample::select(MathOp::ALL.to_vec()),
            any::<u32>(),
            "[a-z][a-z_]{0,6}"
        )
            .prop_map(|(mut read, oper, rvalue, result)| {
                if read.base == Some(0) {
                    read.base = Some(10);
                }
                RuleOption::ByteMath(ByteMath {
                    read,
                    oper,
                    rvalue: u64::from(rvalue),
                    result,
                    vars: Vec::new(),
                })
            }),
        ("[a-z][a-z_.]{0,10}", prop::option::of("[a-z0-9,]{1,8}"))
            .prop_map(|(keyword, value)| { RuleOption::Unsupported { keyword, value } }),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    let action = prop::sample::select(vec![
        Action::Alert,
        Action::Drop,
        Action::Reject,
        Action::RejectSrc,
        Action::RejectDst,
        Action::RejectBoth,
        Action::Pass,
    ]);
    let proto = prop_oneof![
        Just(Protocol::Ip),
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Icmp),
        Just(Protocol::Icmpv6),
        prop::sample::select(AppProto::ALL[1..].to_vec()).prop_map(Protocol::App),
        "(smb|ftp|http2)".prop_map(Protocol::Other),
    ];
    (
        action,
        proto,
        addr(),
        port(),
        any::<bool>(),
        addr(),
        port(),
        prop::collection::vec(option(), 0..6),
        any::<u64>(),
    )
        .prop_map(
            |(action, protocol, src, src_ports, both, dst, dst_ports, mut options, sid)| {
                // Drop keywords that would be parsed as something else (they stand for themselves).
                options.retain(|o| match o {
                    RuleOption::Unsupported { keyword, value } => {
                        !is_known(keyword, value.is_some())
                    }
                    _ => true,
                });
                options.push(RuleOption::Sid(sid));
                Rule {
                    action,
                    protocol,
                    src,
                    src_ports,
                    direction: if both {
                        RuleDirection::Both
                    } else {
                        RuleDirection::OneWay
                    },
                    dst,
                    dst_ports,
                    options,
                }
            },
        )
}

fn is_known(kw: &str, has_value: bool) -> bool {
    const KNOWN: [&str; 49] = [
        "msg",
        "sid",
        "rev",
        "gid",
        "classtype",
        "priority",
        "reference",
        "metadata",
        "target",
        "content",
        "nocase",
        "fast_pattern",
        "offset",
        "depth",
        "within",
        "distance",
        "pcre",
        "dsize",
        "ttl",
        "itype",
        "icode",
        "ip_proto",
        "flags",
        "flow",
        "threshold",
        "detection_filter",
        "alert",
        "flowbits",
        "startswith",
        "endswith",
        "bsize",
        "isdataat",
        "urilen",
        "tag",
        "uricontent",
        "http_uri",
        "http_raw_uri",
        "http_header",
        "http_method",
        "http_cookie",
        "http_user_agent",
        "http_host",
        "http_stat_code",
        "http_stat_msg",
        "byte_test",
        "byte_jump",
        "xbits",
        "hostbits",
        "flowint",
    ];
    KNOWN.contains(&kw)
        || (kw == "noalert" && !has_value)
        || (kw == "dotprefix" && !has_value)
        || (StickyBuffer::from_keyword(kw).is_some() && !has_value)
        || (PacketField::from_keyword(kw).is_some() && has_value)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn display_then_parse_is_identity(r in rule()) {
        let text = r.to_string();
        let back = parse_rule(&text);
        prop_assert_eq!(back.as_ref(), Ok(&r), "text: {}", text);
    }

    #[test]
    fn parse_never_panics(s in "[ -~]{0,120}") {
        if let Ok(r) = parse_rule(&s) {
            prop_assert_eq!(parse_rule(&r.to_string()), Ok(r));
        }
    }
}
