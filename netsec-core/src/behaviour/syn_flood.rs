//! SYN floods, tracked by destination so that spoofed sources do not matter: SYNs to one
//! address whose handshakes do not complete, and the backscatter of reflected floods
//! (SYN-ACKs arriving at an address that never sent the SYN).
//!
//! - A SYN without ACK counts one half-open attempt against its destination address and port;
//!   a completed handshake (the client's pure ACK that makes its flow
//!   [`FlowContext::established`], within the flow's first four packets) takes one back.
//!   Keying by port keeps vertical port scans (a few SYNs to each of many ports, reported by
//!   the port-scan detector) from also looking like a flood; a flood spread over random ports
//!   of one host is not reported by this signal.
//! - A SYN-ACK that opens a flow (the flow table saw no SYN for it) is **unsolicited**, as are
//!   its retransmissions in that flow; each counts against its destination, the reflection
//!   victim.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, RateWindow, Tally, TimedTable};
use super::{
    intensity_score, secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check,
};
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "syn_flood";

/// Settings of the [`SynFloodDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynFloodConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// Sliding window for both counts, µs (default 60 s).
    pub window_us: i64,
    /// A victim without SYNs for this long ends its episode, µs (default 120 s).
    pub quiet_us: i64,
    /// SYNs to one address and port, minus completed handshakes, within the window (default 300,
    /// i.e. 5 half-open connections per second sustained for a minute; busy clients in the
    /// benign corpus stay below 15).
    pub half_open_syns: u64,
    /// Unsolicited SYN-ACKs to one address within the window (default 30; outside attacks
    /// they come only from handshakes whose SYN the capture missed).
    pub synack_backscatter: u64,
    /// Cap of the victim table and of the unsolicited-flow table (default 16384).
    pub max_tracked: usize,
}

impl Default for SynFloodConfig {
    fn default() -> Self {
        SynFloodConfig {
            enabled: true,
            window_us: 60_000_000,
            quiet_us: 120_000_000,
            half_open_syns: 300,
            synack_backscatter: 30,
            max_tracked: 1 << 14,
        }
    }
}

impl SynFloodConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("window_us", self.window_us)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.at_least_one("half_open_syns", self.half_open_syns)?;
        c.at_least_one("synack_backscatter", self.synack_backscatter)?;
        c.cap(self.max_tracked)
    }
}

/// Per-victim counts.
#[derive(Debug, Clone, Copy, Default)]
struct Victim {
    syns: RateWindow,
    synacks: RateWindow,
    total_syns: u64,
    total_synacks: u64,
    completed: u64,
    /// The destination port while all packets used one (`ports_mixed` false).
    port: Option<u16>,
    ports_mixed: bool,
}

impl Victim {
    fn port(&mut self, p: u16) {
        match self.port {
            None if !self.ports_mixed => self.port = Some(p),
            Some(q) if q != p => {
                self.port = None;
                self.ports_mixed = true;
            }
            _ => {}
        }
    }
}

/// Detects SYN floods and SYN-ACK backscatter (see the module docs); one alert per victim
/// address and port (SYNs) or victim address (backscatter) and episode.
#[derive(Debug)]
pub struct SynFloodDetector {
    config: SynFloodConfig,
    clock: Clock,
    /// (victim, port, false) for SYNs; (victim, 0, true) for backscatter.
    victims: Episodes<(Addr, u16, bool), Victim>,
    /// Flows opened by a SYN-ACK.
    unsolicited: TimedTable<u64, ()>,
    tally: Tally,
}

impl SynFloodDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &SynFloodConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(SynFloodDetector {
            config: config.clone(),
            clock: Clock::default(),
            victims: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            unsolicited: TimedTable::new(config.max_tracked, config.window_us),
            tally: Tally::default(),
        })
    }
}

/// What a SYN-flood alert counted (`meta.flood_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FloodKind {
    /// SYNs without the handshake completing, to the victim.
    HalfOpenSyns,
    /// SYN+ACKs the victim sent to SYNs never seen: backscatter of a spoofed flood.
    SynackBackscatter,
}

impl FloodKind {
    fn as_str(self) -> &'static str {
        match self {
            FloodKind::HalfOpenSyns => "half_open_syns",
            FloodKind::SynackBackscatter => "synack_backscatter",
        }
    }
}

impl Detector for SynFloodDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP | PacketInterest::TCP_DATA
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.victims, &self.unsolicited])
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = transport(pkt) else {
            return;
        };
        let m = &ip.meta;
        if m.protocol != IpProtocol::TCP {
            return;
        }
        let f = m.tcp_flags;
        let now = self.clock.advance(m.ts);
        let w = self.config.window_us;
        let backscatter = if f.syn() && !f.ack() {
            false
        } else if f.syn() && f.ack() {
            let Some(ctx) = flow else {
                return;
            };
            self.unsolicited.expire(now, |_, _| {});
            if ctx.new_flow {
                self.unsolicited.touch(ctx.flow_id, now, || (), |_, _| {});
            } else if self.unsolicited.get(&ctx.flow_id).is_none() {
                return;
            }
            true
        } else {
            // A completed handshake cancels one half-open SYN of its server.
            let completes = flow
                .is_some_and(|c| c.established && c.direction.is_forward() && c.packets <= 4)
                && f.ack()
                && !f.rst()
                && !f.fin()
                && m.payload_len == 0;
            if completes {
                if let Some((_, v)) = self.victims.get_mut(&(Addr(m.dst_addr), m.dst_port, false)) {
                    v.syns.sub(1);
                    v.completed += 1;
                }
            }
            return;
        };
        let key = if backscatter {
            (Addr(m.dst_addr), 0, true)
        } else {
            (Addr(m.dst_addr), m.dst_port, false)
        };
        let (ep, v) = self.victims.event(key, now);
        v.port(m.dst_port);
        let (count, threshold, kind) = if backscatter {
            v.total_synacks += 1;
            let n = v.synacks.add(now, 1, w);
            (
                n,
                self.config.synack_backscatter,
                FloodKind::SynackBackscatter,
            )
        } else {
            v.total_syns += 1;
            let n = v.syns.add(now, 1, w);
            (n, self.config.half_open_syns, FloodKind::HalfOpenSyns)
        };
        if count < threshold || !self.tally.fire(ep) {
            return;
        }
        let (ep, v) = (*ep, *v);
        let dst = m.dst_addr;
        let target = match v.port {
            Some(p) => format!("{dst} port {p}"),
            None => dst.to_string(),
        };
        let window = secs(w);
        let description = if backscatter {
            format!(
                "{target} received {count} unsolicited SYN-ACKs within {window}, the backscatter of a reflected SYN flood ({} since {}).",
                v.total_synacks, ep.first
            )
        } else {
            format!(
                "{target} received {count} SYNs without completed handshakes within {window} ({} SYNs, {} handshakes completed since {}).",
                v.total_syns, v.completed, ep.first
            )
        };
        let alert = AlertBuilder::new(NAME, now, "DDoS_SYN_Flood", Severity::High, &ep)
            .addrs(None, Some(dst))
            .ports(None, v.port)
            .protocol(IpProtocol::TCP)
            .score(intensity_score(
                count,
                threshold,
                now.micros_since(ep.first),
                w,
            ))
            .meta("flood_kind", kind.as_str())
            .observed("syns", v.total_syns)
            .observed("synacks", v.total_synacks)
            .observed("handshakes_completed", v.completed)
            .observed("in_window", count)
            .threshold("window_us", w)
            .threshold("half_open_syns", self.config.half_open_syns)
            .threshold("synack_backscatter", self.config.synack_backscatter)
            .build(description);
        out.push(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::tests_util::feed;
    use crate::decode::{PacketMeta, TcpFlags};
    use crate::synth;
    use std::net::IpAddr;

    const VICTIM: [u8; 4] = [10, 10, 10, 10];

    fn spoofed_syn(i: u32) -> PacketMeta {
        let b = i.to_be_bytes();
        synth::tcp(
            i64::from(i) * 100,
            [b[0] | 1, b[1], b[2], b[3]],
            1024 + (i % 60000) as u16,
            VICTIM,
            80,
            TcpFlags::SYN,
            0,
            512,
        )
    }

    fn detector(f: impl FnOnce(&mut SynFloodConfig)) -> SynFloodDetector {
        let mut c = SynFloodConfig::default();
        f(&mut c);
        SynFloodDetector::new(&c).expect("valid")
    }

    #[test]
    fn spoofed_flood_alerts_once_at_the_threshold() {
        let mut d = detector(|_| {});
        let pkts: Vec<_> = (0..299).map(spoofed_syn).collect();
        assert!(feed(&mut d, &pkts).is_empty());
        let pkts: Vec<_> = (0..2000).map(spoofed_syn).collect();
        let a = feed(&mut d, &pkts);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].attack_type, "DDoS_SYN_Flood");
        assert_eq!(a[0].dst_ip, Some(IpAddr::from(VICTIM)));
        assert_eq!(a[0].dst_port, Some(80));
        assert_eq!(a[0].src_ip, None);
        assert!(a[0].score > 0.9, "{}", a[0].score);
        assert!(
            a[0].description.contains("10.10.10.10 port 80"),
            "{}",
            a[0].description
        );
    }

    #[test]
    fn completed_handshakes_do_not_count() {
        let mut d = detector(|c| c.half_open_syns = 5);
        let mut pkts = Vec::new();
        for i in 0..50u16 {
            let t = i64::from(i) * 10_000;
            let c = [192, 168, 0, 1];
            pkts.push(synth::tcp(t, c, 2000 + i, VICTIM, 443, TcpFlags::SYN, 0, 1));
            pkts.push(synth::tcp(
                t + 1,
                VICTIM,
                443,
                c,
                2000 + i,
                TcpFlags::SYN | TcpFlags::ACK,
                0,
                1,
            ));
            pkts.push(synth::tcp(
                t + 2,
                c,
                2000 + i,
                VICTIM,
                443,
                TcpFlags::ACK,
                0,
                1,
            ));
        }
        assert!(feed(&mut d, &pkts).is_empty());
    }

    #[test]
    fn synack_backscatter() {
        let mut d = detector(|c| c.synack_backscatter = 4);
        let pkts: Vec<_> = (0..4u8)
            .map(|i| {
                synth::tcp(
                    i64::from(i),
                    [1, 2, 3, i],
                    21,
                    VICTIM,
                    21,
                    TcpFlags::SYN | TcpFlags::ACK,
                    0,
                    1,
                )
            })
            .collect();
        let a = feed(&mut d, &pkts);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].meta["flood_kind"], "synack_backscatter");
        // A SYN-ACK answering a SYN seen before is not unsolicited.
        let mut d = detector(|c| c.synack_backscatter = 1);
        let c = [192, 168, 0, 1];
        let pkts = [
            synth::tcp(0, c, 5, VICTIM, 80, TcpFlags::SYN, 0, 1),
            synth::tcp(1, VICTIM, 80, c, 5, TcpFlags::SYN | TcpFlags::ACK, 0, 1),
        ];
        assert!(feed(&mut d, &pkts).is_empty());
    }

    #[test]
    fn quiet_period_re_alerts_and_memory_is_bounded() {
        let mut d = detector(|c| {
            c.half_open_syns = 10;
            c.max_tracked = 16;
        });
        let mut pkts: Vec<_> = (0..20).map(spoofed_syn).collect();
        // 10 minutes later (> quiet 120 s): a new episode.
        pkts.extend((0..20).map(|i| {
            let mut m = spoofed_syn(i);
            m.ts = m.ts.add_micros(600_000_000);
            m
        }));
        // Many victims: the table stays at its cap.
        pkts.extend((0..5000u32).map(|i| {
            let b = i.to_be_bytes();
            synth::tcp(
                700_000_000 + i64::from(i),
                [9, 9, 9, 9],
                1,
                [10, b[1], b[2], b[3]],
                80,
                TcpFlags::SYN,
                0,
                1,
            )
        }));
        let a = feed(&mut d, &pkts);
        assert_eq!(a.len(), 2);
        let s = d.stats();
        assert!(s.tracked <= 32 && s.evicted > 4900, "{s:?}");
        assert_eq!(s.alerts, 2);
    }
}
