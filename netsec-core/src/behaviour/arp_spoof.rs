//! ARP spoofing: a MAC claiming an address another MAC holds, one MAC claiming several
//! addresses while sending unsolicited replies, and storms of unsolicited/gratuitous ARP.
//!
//! A **claim** is an ARP sender (MAC, IP) pair; ARP probes (sender IP 0.0.0.0, RFC 5227) and
//! zero or broadcast sender MACs claim nothing. Bindings IP → MAC are learned from claims and
//! from the target fields of replies (the replier's view of the requester).
//!
//! - **Conflict**: a claim for an IP bound to another MAC that was confirmed within
//!   `rebind_grace_us`. The binding is not overwritten while fresh, so the legitimate owner's
//!   next claim does not look like a second conflict. **Grace for legitimate changes**: a
//!   binding not confirmed for `rebind_grace_us` (DHCP reassignment, NIC swap, a host that left)
//!   is replaced silently by the next claim. A spoofer that poisons before the owner was ever
//!   seen is not caught by this signal (the owner then looks like the conflicting one), which
//!   is why the next two signals exist.
//! - **Several addresses**: one MAC claims `claimed_ips` or more distinct IPs within the
//!   window and sent at least one unsolicited reply in its episode (arpspoof-style poisoning of
//!   both ends of a conversation). Routers answering proxy ARP do so in solicited replies.
//! - **Storm**: `unsolicited_replies` or more unsolicited replies or gratuitous ARPs (sender IP
//!   = target IP) from one MAC within the window. A reply is unsolicited when no request for
//!   its sender IP was seen within `reply_timeout_us`.
//!
//! Alerts are per offending MAC and episode: `meta.mac`, `meta.ip` (the claimed address),
//! `meta.previous_mac` for conflicts, `protocol` `ARP`, no IP addresses.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::state::{Clock, DistinctWindow, Episodes, RateWindow, Tally, TimedTable};
use super::{mac_string, secs, table_stats, AlertBuilder, BehaviourConfigError, Check};
use crate::decode::ArpInfo;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;
use crate::time::Timestamp;

const NAME: &str = "arp_spoof";

/// Settings of the [`ArpSpoofDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArpSpoofConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// How long a binding stays authoritative after its last confirmation, µs (default
    /// 120 s); a different MAC claiming the IP after that is a legitimate change.
    pub rebind_grace_us: i64,
    /// Window for distinct claimed IPs and unsolicited replies, µs (default 60 s).
    pub window_us: i64,
    /// Distinct IPs one MAC claims within the window, with an unsolicited reply, that make
    /// poisoning (default 2).
    pub claimed_ips: u64,
    /// Unsolicited replies and gratuitous ARPs from one MAC within the window (default 30;
    /// hosts announce themselves a few times at boot or failover).
    pub unsolicited_replies: u64,
    /// How long after a request a reply for the requested IP counts as solicited, µs
    /// (default 5 s).
    pub reply_timeout_us: i64,
    /// A MAC quiet for this long ends its episode, µs (default 300 s).
    pub quiet_us: i64,
    /// Cap of each table (bindings, pending requests, MACs, (MAC, IP) claims), default 4096:
    /// ARP stays in one broadcast domain, which rarely holds more hosts.
    pub max_tracked: usize,
}

impl Default for ArpSpoofConfig {
    fn default() -> Self {
        ArpSpoofConfig {
            enabled: true,
            rebind_grace_us: 120_000_000,
            window_us: 60_000_000,
            claimed_ips: 2,
            unsolicited_replies: 30,
            reply_timeout_us: 5_000_000,
            quiet_us: 300_000_000,
            max_tracked: 1 << 12,
        }
    }
}

impl ArpSpoofConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("rebind_grace_us", self.rebind_grace_us)?;
        c.positive("window_us", self.window_us)?;
        c.at_least_one("claimed_ips", self.claimed_ips)?;
        c.at_least_one("unsolicited_replies", self.unsolicited_replies)?;
        c.positive("reply_timeout_us", self.reply_timeout_us)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

type Mac = [u8; 6];

/// An IP's current owner.
#[derive(Debug, Clone, Copy)]
struct Binding {
    mac: Mac,
    confirmed: Timestamp,
}

/// Per-MAC episode state.
#[derive(Debug, Clone, Copy, Default)]
struct MacState {
    unsolicited: RateWindow,
    unsolicited_total: u64,
    conflicts: u64,
}

/// Detects ARP spoofing (see the module docs); one alert per offending MAC and episode.
#[derive(Debug)]
pub struct ArpSpoofDetector {
    config: ArpSpoofConfig,
    clock: Clock,
    bindings: TimedTable<Ipv4Addr, Binding>,
    /// Requested IP → time of the latest request for it.
    requests: TimedTable<Ipv4Addr, Timestamp>,
    claims: DistinctWindow<Mac, Ipv4Addr>,
    macs: Episodes<Mac, MacState>,
    tally: Tally,
}

fn real_mac(m: Mac) -> bool {
    m != [0; 6] && m != [0xff; 6] && m[0] & 1 == 0
}

impl ArpSpoofDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &ArpSpoofConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        let cap = config.max_tracked;
        Ok(ArpSpoofDetector {
            config: config.clone(),
            clock: Clock::default(),
            bindings: TimedTable::new(cap, config.rebind_grace_us),
            requests: TimedTable::new(cap, config.reply_timeout_us),
            claims: DistinctWindow::new(cap, config.window_us),
            macs: Episodes::new(cap, config.quiet_us, config.window_us),
            tally: Tally::default(),
        })
    }

    /// Refreshes or creates the binding `ip → mac` unless another MAC holds it freshly; returns
    /// that other MAC and how long ago it was confirmed.
    fn bind(&mut self, ip: Ipv4Addr, mac: Mac, now: Timestamp) -> Option<(Mac, i64)> {
        self.bindings.expire(now, |_, _| {});
        let grace = self.config.rebind_grace_us;
        let b = self.bindings.touch(
            ip,
            now,
            || Binding {
                mac,
                confirmed: now,
            },
            |_, _| {},
        );
        let age = now.micros_since(b.confirmed);
        if b.mac == mac || age > grace {
            *b = Binding {
                mac,
                confirmed: now,
            };
            None
        } else {
            Some((b.mac, age))
        }
    }

    fn frame(&mut self, now: Timestamp, arp: &ArpInfo, out: &mut Vec<Alert>) {
        let c = self.config.clone();
        self.requests.expire(now, |_, _| {});
        let gratuitous = arp.sender_ip == arp.target_ip;
        if arp.operation == 1 && !gratuitous {
            *self.requests.touch(arp.target_ip, now, || now, |_, _| {}) = now;
        }
        // Learn the requester's binding from a reply's target fields (never a conflict: the
        // replier only repeats what the requester claimed).
        if arp.operation == 2
            && real_mac(arp.target_mac)
            && !arp.target_ip.is_unspecified()
            && !gratuitous
        {
            let _ = self.bind(arp.target_ip, arp.target_mac, now);
        }
        let (mac, ip) = (arp.sender_mac, arp.sender_ip);
        if !real_mac(mac) || ip.is_unspecified() || !matches!(arp.operation, 1 | 2) {
            return;
        }
        let solicited = self
            .requests
            .get(&ip)
            .is_some_and(|&t| now.micros_since(t) <= c.reply_timeout_us);
        let unsolicited = gratuitous || (arp.operation == 2 && !solicited);
        let conflict = self.bind(ip, mac, now);
        let (claimed, _) = self.claims.observe(mac, ip, now);
        let (ep, st) = self.macs.event(mac, now);
        let in_window = st.unsolicited.add(now, u64::from(unsolicited), c.window_us);
        st.unsolicited_total += u64::from(unsolicited);
        st.conflicts += u64::from(conflict.is_some());
        let kind = if conflict.is_some() {
            ArpKind::IpConflict
        } else if u64::from(claimed) >= c.claimed_ips && st.unsolicited_total > 0 {
            ArpKind::MultipleIps
        } else if in_window >= c.unsolicited_replies {
            ArpKind::UnsolicitedStorm
        } else {
            return;
        };
        if !self.tally.fire(ep) {
            return;
        }
        let (ep, st) = (*ep, *st);
        let m = mac_string(mac);
        let window = secs(c.window_us);
        let description = match (kind, conflict) {
            (ArpKind::IpConflict, Some((prev, age))) => format!(
                "{m} claimed {ip}, which {} held {} ago: the address is being spoofed ({} ARP frames from {m} since {}).",
                mac_string(prev),
                secs(age),
                ep.events,
                ep.first
            ),
            (ArpKind::MultipleIps, _) => format!(
                "{m} claimed {claimed} IP addresses ({ip} last) within {window} and sent {} unsolicited replies: ARP poisoning.",
                st.unsolicited_total
            ),
            _ => format!(
                "{m} sent {in_window} unsolicited or gratuitous ARP replies within {window}, claiming {ip}."
            ),
        };
        let mut b = AlertBuilder::new(NAME, now, "MITM_ARP_Spoofing", Severity::High, &ep)
            .protocol_name("ARP")
            .score(match kind {
                ArpKind::IpConflict => 0.9,
                ArpKind::MultipleIps => 0.8,
                ArpKind::UnsolicitedStorm => 0.7,
            })
            .meta("mac", m)
            .meta("ip", ip.to_string())
            .meta("arp_kind", kind.as_str())
            .observed("arp_frames", ep.events)
            .observed("claimed_ips", claimed)
            .observed("unsolicited_replies", st.unsolicited_total)
            .observed("conflicts", st.conflicts)
            .threshold("rebind_grace_us", c.rebind_grace_us)
            .threshold("window_us", c.window_us)
            .threshold("claimed_ips", c.claimed_ips)
            .threshold("unsolicited_replies", c.unsolicited_replies);
        if let Some((prev, _)) = conflict {
            b = b.meta("previous_mac", mac_string(prev));
        }
        out.push(b.build(description));
    }
}

/// What an ARP alert is about (`meta.arp_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArpKind {
    /// A MAC claimed an address another MAC held freshly.
    IpConflict,
    /// One MAC claimed many addresses, with unsolicited replies.
    MultipleIps,
    /// A burst of unsolicited or gratuitous replies.
    UnsolicitedStorm,
}

impl ArpKind {
    fn as_str(self) -> &'static str {
        match self {
            ArpKind::IpConflict => "ip_conflict",
            ArpKind::MultipleIps => "multiple_ips",
            ArpKind::UnsolicitedStorm => "unsolicited_storm",
        }
    }
}

impl Detector for ArpSpoofDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::ARP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(
            NAME,
            &self.tally,
            &[&self.bindings, &self.requests, &self.claims, &self.macs],
        )
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        _flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        if let PacketView::Arp { ts, arp, .. } = pkt {
            let now = self.clock.advance(*ts);
            self.frame(now, arp, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::L2Info;

    const A: Mac = [0, 0xe0, 0x4d, 0x3c, 0x25, 0x7b];
    const B: Mac = [0xb0, 0x7f, 0xb9, 0x4e, 0xf0, 0x9c];
    const D: Mac = [0xdc, 0xf5, 0x05, 0x75, 0x0b, 0xcd];

    fn arp(
        t_ms: i64,
        op: u16,
        smac: Mac,
        sip: [u8; 4],
        tmac: Mac,
        tip: [u8; 4],
    ) -> (Timestamp, ArpInfo) {
        (
            Timestamp::from_micros(t_ms * 1000),
            ArpInfo {
                operation: op,
                sender_mac: smac,
                sender_ip: sip.into(),
                target_mac: tmac,
                target_ip: tip.into(),
            },
        )
    }

    fn run(d: &mut ArpSpoofDetector, frames: &[(Timestamp, ArpInfo)]) -> Vec<Alert> {
        let mut out = Vec::new();
        let l2 = L2Info::default();
        for (ts, a) in frames {
            d.on_packet(
                &PacketView::Arp {
                    ts: *ts,
                    arp: a,
                    l2: &l2,
                },
                None,
                &mut out,
            );
        }
        out
    }

    fn detector(f: impl FnOnce(&mut ArpSpoofConfig)) -> ArpSpoofDetector {
        let mut c = ArpSpoofConfig::default();
        f(&mut c);
        ArpSpoofDetector::new(&c).expect("valid")
    }

    #[test]
    fn normal_resolution_is_quiet() {
        let mut d = detector(|_| {});
        let mut frames = Vec::new();
        for i in 0..100 {
            frames.push(arp(i * 1000, 1, B, [10, 0, 0, 1], [0; 6], [10, 0, 0, 2]));
            frames.push(arp(i * 1000 + 1, 2, D, [10, 0, 0, 2], B, [10, 0, 0, 1]));
        }
        assert!(run(&mut d, &frames).is_empty());
    }

    #[test]
    fn conflict_within_grace_and_silent_change_after() {
        let mut d = detector(|_| {});
        let frames = [
            arp(0, 2, B, [10, 0, 0, 1], D, [10, 0, 0, 2]),
            // Another MAC claims 10.0.0.1 one second later (a request, so not unsolicited).
            arp(1000, 1, A, [10, 0, 0, 1], [0; 6], [10, 0, 0, 2]),
            arp(2000, 1, A, [10, 0, 0, 1], [0; 6], [10, 0, 0, 2]),
        ];
        let a = run(&mut d, &frames);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].attack_type, "MITM_ARP_Spoofing");
        assert_eq!(a[0].meta["mac"], "00:e0:4d:3c:25:7b");
        assert_eq!(a[0].meta["previous_mac"], "b0:7f:b9:4e:f0:9c");
        assert_eq!(a[0].meta["arp_kind"], "ip_conflict");
        assert_eq!(a[0].src_ip, None);
        assert_eq!(a[0].protocol.as_deref(), Some("ARP"));
        // After the grace period the new MAC takes the address silently.
        let mut d = detector(|_| {});
        let frames = [
            arp(0, 1, B, [10, 0, 0, 1], [0; 6], [10, 0, 0, 2]),
            arp(121_000, 1, A, [10, 0, 0, 1], [0; 6], [10, 0, 0, 2]),
            arp(122_000, 1, A, [10, 0, 0, 1], [0; 6], [10, 0, 0, 2]),
        ];
        assert!(run(&mut d, &frames).is_empty());
    }

    #[test]
    fn two_way_poisoning_via_reply_targets() {
        // arpspoof: A tells .157 (B) that .153 is at A, and .153 (D) that .157 is at A.
        let mut d = detector(|_| {});
        let mut frames = Vec::new();
        for i in 0..10 {
            frames.push(arp(i * 1000, 2, A, [10, 0, 0, 153], B, [10, 0, 0, 157]));
            frames.push(arp(i * 1000, 2, A, [10, 0, 0, 157], D, [10, 0, 0, 153]));
        }
        let a = run(&mut d, &frames);
        assert_eq!(a.len(), 1, "one alert per MAC and episode");
        assert_eq!(a[0].meta["arp_kind"], "ip_conflict");
        assert_eq!(d.stats().alerts, 1);
        assert!(d.stats().suppressed > 0);
    }

    #[test]
    fn multiple_ips_and_storm() {
        let mut d = detector(|_| {});
        let frames = [
            arp(0, 2, A, [172, 16, 0, 1], D, [172, 16, 0, 107]),
            arp(9000, 1, A, [172, 16, 0, 105], [0; 6], [172, 16, 0, 1]),
        ];
        let a = run(&mut d, &frames);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].meta["arp_kind"], "multiple_ips");
        // Gratuitous announcements of one address: a storm only past the threshold.
        let mut d = detector(|_| {});
        let g: Vec<_> = (0..29)
            .map(|i| arp(i * 1000, 2, A, [10, 0, 0, 5], [0xff; 6], [10, 0, 0, 5]))
            .collect();
        assert!(run(&mut d, &g).is_empty());
        let a = run(
            &mut d,
            &[arp(29_000, 2, A, [10, 0, 0, 5], [0xff; 6], [10, 0, 0, 5])],
        );
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].meta["arp_kind"], "unsolicited_storm");
    }

    #[test]
    fn probes_are_ignored_and_tables_bounded() {
        let mut d = detector(|c| c.max_tracked = 16);
        let frames: Vec<_> = (0..1000u32)
            .map(|i| {
                let b = i.to_be_bytes();
                arp(
                    i64::from(i),
                    2,
                    [2, 0, 0, b[1], b[2], b[3]],
                    [10, 1, b[2], b[3]],
                    B,
                    [10, 0, 0, 1],
                )
            })
            .collect();
        let _ = run(&mut d, &frames);
        let s = d.stats();
        assert!(s.tracked <= 4 * 16, "{s:?}");
        assert!(s.evicted > 0);
        let mut d = detector(|_| {});
        let probes: Vec<_> = (0..100)
            .map(|i| arp(i, 1, A, [0, 0, 0, 0], [0; 6], [10, 0, 0, (i % 200) as u8]))
            .collect();
        assert!(run(&mut d, &probes).is_empty());
    }
}
