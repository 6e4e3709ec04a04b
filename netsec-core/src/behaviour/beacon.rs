//! Command-and-control beaconing, scored as RITA scores beacons: a client that talks to one
//! destination (address and port) in bursts at regular intervals with bursts of similar
//! size, whether each burst opens a new connection or rides one long-lived connection (a
//! RAT's heartbeat, a QUIC C2 session).
//!
//! A **burst** starts with a payload-carrying packet from the client that opens a connection
//! (within its first four packets) or follows at least `burst_gap_us` of the client's
//! silence on its connection, unless it comes within `burst_gap_us` of the destination's
//! previous burst; its size is that packet's payload. Only those packets touch the
//! detector's tables (the flow table says how long the connection was quiet), so the bulk
//! of a transfer costs one comparison. Over the last [`HISTORY`] bursts:
//!
//! - interval regularity = 1 − MAD(intervals) / median(intervals) (0 when the MAD reaches
//!   the median);
//! - size regularity = 1 − MAD(sizes) / median(sizes);
//! - score = (2 × interval regularity + size regularity) / 3.
//!
//! A (client, destination) **qualifies** when at least `min_bursts` bursts were seen, the
//! median interval lies within `[min_interval_us, max_interval_us]`, and both regularities
//! reach their thresholds. It alerts (`C2_Beaconing`, one alert per (client, destination)
//! and episode) at its next burst (the pattern is established; the wait lets the client's
//! other peers show) when its client has at most
//! `max_destinations` qualifying destinations within `max_interval_us`: a client with
//! regular exchanges with many peers at once runs a peer-to-peer or keepalive protocol
//! (Gnutella's pings), not one C2 channel. Broadcast and multicast destinations and the
//! `ignored_ports` (protocols whose keepalives are periodic by design: DHCP, NTP, SIP
//! registrations, Chromecast heartbeats …) are not scored, nor are IPv4 addresses ending in
//! `.255` (directed broadcasts of /24 and wider subnets).
//! `meta.observed` carries the burst count, median interval, MADs and regularities.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, DistinctWindow, Episodes, Tally, TimedTable};
use super::{secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check};
use crate::decode::is_unicast;
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;
use crate::time::Timestamp;

const NAME: &str = "beacon";

/// Bursts remembered per (client, destination).
pub const HISTORY: usize = 16;

/// Settings of the [`BeaconDetector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BeaconConfig {
    /// Run the detector (default true).
    pub enabled: bool,
    /// Client silence toward a destination that ends a burst, µs (default 2 s).
    pub burst_gap_us: i64,
    /// Bursts needed before scoring (default 8, at most 16).
    pub min_bursts: u64,
    /// Shortest median interval that counts, µs (default 5 s: faster is streaming or
    /// polling, not a beacon).
    pub min_interval_us: i64,
    /// Longest median interval that counts, µs (default 1 h).
    pub max_interval_us: i64,
    /// Interval regularity needed, 0–1 (default 0.9).
    pub min_interval_regularity: f64,
    /// Size regularity needed, 0–1 (default 0.8).
    pub min_size_regularity: f64,
    /// Most qualifying destinations of one client for its beacons to alert (default 2).
    pub max_destinations: u64,
    /// Destination ports never scored (default DNS 53, DHCP 67/68, NTP 123, NetBIOS
    /// 137/138, SSDP 1900, SIP 5060/5061, mDNS 5353, Chromecast 8009).
    pub ignored_ports: Vec<u16>,
    /// A pair quiet for this long ends its episode, µs (default 2 h).
    pub quiet_us: i64,
    /// Cap of each table ((client, destination) histories and episodes), default 1024.
    pub max_tracked: usize,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            enabled: true,
            burst_gap_us: 2_000_000,
            min_bursts: 8,
            min_interval_us: 5_000_000,
            max_interval_us: 3_600_000_000,
            min_interval_regularity: 0.9,
            min_size_regularity: 0.8,
            max_destinations: 2,
            ignored_ports: vec![53, 67, 68, 123, 137, 138, 1900, 5060, 5061, 5353, 8009],
            quiet_us: 7_200_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl BeaconConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("burst_gap_us", self.burst_gap_us)?;
        c.at_least_one("min_bursts", self.min_bursts.saturating_sub(2))?;
        if self.min_bursts > HISTORY as u64 {
            return Err(BehaviourConfigError::Invalid {
                section: NAME,
                field: "min_bursts",
                reason: format!("must be <= {HISTORY}, got {}", self.min_bursts),
            });
        }
        c.positive("min_interval_us", self.min_interval_us)?;
        c.positive("max_interval_us", self.max_interval_us)?;
        for (field, v) in [
            ("min_interval_regularity", self.min_interval_regularity),
            ("min_size_regularity", self.min_size_regularity),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(BehaviourConfigError::Invalid {
                    section: NAME,
                    field,
                    reason: format!("must be within 0..=1, got {v}"),
                });
            }
        }
        c.at_least_one("max_destinations", self.max_destinations)?;
        c.ports("ignored_ports", self.ignored_ports.iter().copied())?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// The bursts of one (client, destination).
#[derive(Debug, Clone, Copy)]
struct Bursts {
    /// Start of each burst, a ring of the last [`HISTORY`].
    starts: [i64; HISTORY],
    /// Payload bytes of each burst's first packet.
    sizes: [u32; HISTORY],
    /// Bursts seen (the ring holds the last `min(seen, HISTORY)`).
    seen: u64,
    /// The latest burst's start.
    last: Timestamp,
    /// It qualified at an earlier burst.
    qualified: bool,
}

impl Bursts {
    fn new(now: Timestamp) -> Self {
        Bursts {
            starts: [0; HISTORY],
            sizes: [0; HISTORY],
            seen: 0,
            last: now,
            qualified: false,
        }
    }

    /// Records a packet of `len` payload bytes that may start a burst; `true` when it does.
    fn packet(&mut self, now: Timestamp, len: u32, gap_us: i64) -> bool {
        if self.seen > 0 && now.micros_since(self.last) < gap_us {
            return false;
        }
        let slot = (self.seen % HISTORY as u64) as usize;
        self.starts[slot] = now.as_micros();
        self.sizes[slot] = len;
        self.seen += 1;
        if now > self.last {
            self.last = now;
        }
        true
    }

    /// The bursts' intervals and the sizes of all but the latest, oldest first, with their
    /// count. No allocation.
    fn series(&self) -> ([f64; HISTORY], [f64; HISTORY], usize) {
        let n = self.seen.min(HISTORY as u64) as usize;
        let first = (self.seen - n as u64) as usize;
        let at = |i: usize| (first + i) % HISTORY;
        let mut intervals = [0.0; HISTORY];
        let mut sizes = [0.0; HISTORY];
        for i in 1..n {
            intervals[i - 1] = (self.starts[at(i)] - self.starts[at(i - 1)]) as f64;
            sizes[i - 1] = f64::from(self.sizes[at(i - 1)]);
        }
        (intervals, sizes, n.saturating_sub(1))
    }
}

/// Median and median absolute deviation of `v` (not empty); sorts `v`.
fn median_mad(v: &mut [f64]) -> (f64, f64) {
    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
    let m = median(v);
    let mut dev = [0.0; HISTORY];
    let dev = &mut dev[..v.len().min(HISTORY)];
    for (d, x) in dev.iter_mut().zip(v.iter()) {
        *d = (x - m).abs();
    }
    (m, median(dev))
}

/// 1 − mad/median, within 0..=1.
fn regularity(median: f64, mad: f64) -> f64 {
    if median <= 0.0 {
        return 0.0;
    }
    (1.0 - mad / median).clamp(0.0, 1.0)
}

/// An IPv4 address ending in `.255`: the directed broadcast of a /24 or wider subnet
/// (LAN discovery such as Dropbox's, every 30 s).
fn is_directed_broadcast(a: std::net::IpAddr) -> bool {
    matches!(a, std::net::IpAddr::V4(v4) if v4.octets()[3] == 255)
}

/// A destination: address and port.
type Pair = (Addr, Addr, u16);

/// Detects regular beaconing from a client to one destination.
#[derive(Debug)]
pub struct BeaconDetector {
    config: BeaconConfig,
    clock: Clock,
    bursts: TimedTable<Pair, Bursts>,
    /// Qualifying destinations per client.
    destinations: DistinctWindow<Addr, (Addr, u16)>,
    pairs: Episodes<Pair, ()>,
    tally: Tally,
}

impl BeaconDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &BeaconConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(BeaconDetector {
            config: config.clone(),
            clock: Clock::default(),
            bursts: TimedTable::new(config.max_tracked, config.max_interval_us),
            destinations: DistinctWindow::new(config.max_tracked, config.max_interval_us),
            pairs: Episodes::new(config.max_tracked, config.quiet_us, config.max_interval_us),
            tally: Tally::default(),
        })
    }
}

impl Detector for BeaconDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP_DATA | PacketInterest::UDP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(
            NAME,
            &self.tally,
            &[&self.bursts, &self.destinations, &self.pairs],
        )
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
        if m.payload_len == 0 || !matches!(m.protocol, IpProtocol::TCP | IpProtocol::UDP) {
            return;
        }
        // The client's side only: the flow's initiator.
        let c = &self.config;
        // A burst can only start at a connection's first data or after the client's silence.
        let may_start = |f: &FlowContext| {
            f.direction.is_forward()
                && !f.retransmission
                && (f.packets <= 4 || f.gap_us >= c.burst_gap_us)
        };
        if !flow.is_some_and(may_start) {
            return;
        }
        if !is_unicast(m.dst_addr)
            || is_directed_broadcast(m.dst_addr)
            || m.src_addr.is_unspecified()
            || c.ignored_ports.contains(&m.dst_port)
        {
            return;
        }
        let now = self.clock.advance(m.ts);
        let key = (Addr(m.src_addr), Addr(m.dst_addr), m.dst_port);
        self.bursts.expire(now, |_, _| {});
        let b = self.bursts.touch(key, now, || Bursts::new(now), |_, _| {});
        if !b.packet(now, m.payload_len, c.burst_gap_us) || b.seen < c.min_bursts {
            return;
        }
        let seen = b.seen;
        let earlier = b.qualified;
        let (mut intervals, mut sizes, n) = b.series();
        let (interval, interval_mad) = median_mad(&mut intervals[..n]);
        let (size, size_mad) = median_mad(&mut sizes[..n]);
        let interval_reg = regularity(interval, interval_mad);
        let size_reg = regularity(size, size_mad);
        let qualifies = interval >= c.min_interval_us as f64
            && interval <= c.max_interval_us as f64
            && interval_reg >= c.min_interval_regularity
            && size_reg >= c.min_size_regularity;
        if !qualifies && !earlier {
            return;
        }
        b.qualified = true;
        let (destinations, _) = self.destinations.observe(key.0, (key.1, key.2), now);
        if !earlier || u64::from(destinations) > c.max_destinations {
            return;
        }
        let (ep, ()) = self.pairs.event(key, now);
        if !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let score = (2.0 * interval_reg + size_reg) / 3.0;
        let description = format!(
            "{} beacons to {}:{} ({}): {seen} bursts every {} (MAD {}), about {size:.0} bytes each.",
            m.src_addr,
            m.dst_addr,
            m.dst_port,
            m.protocol.name(),
            secs(interval as i64),
            secs(interval_mad as i64),
        );
        out.push(
            AlertBuilder::new(NAME, now, "C2_Beaconing", Severity::Medium, &ep)
                .addrs(Some(m.src_addr), Some(m.dst_addr))
                .ports(None, Some(m.dst_port))
                .protocol(m.protocol)
                .score(score)
                .observed("bursts", seen)
                .observed("median_interval_us", interval as i64)
                .observed("interval_mad_us", interval_mad as i64)
                .observed("median_burst_bytes", size as i64)
                .observed("burst_bytes_mad", size_mad as i64)
                .observed("interval_regularity", interval_reg)
                .observed("size_regularity", size_reg)
                .observed("client_beacon_destinations", u64::from(destinations))
                .threshold("min_bursts", c.min_bursts)
                .threshold("max_destinations", c.max_destinations)
                .threshold("min_interval_us", c.min_interval_us)
                .threshold("max_interval_us", c.max_interval_us)
                .threshold("min_interval_regularity", c.min_interval_regularity)
                .threshold("min_size_regularity", c.min_size_regularity)
                .threshold("burst_gap_us", c.burst_gap_us)
                .build(description),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: f64) -> Timestamp {
        Timestamp::from_micros((s * 1e6) as i64)
    }

    #[test]
    fn bursts_split_on_silence_and_score_regularity() {
        let mut b = Bursts::new(ts(0.0));
        for i in 0..10 {
            let t = f64::from(i) * 15.0;
            assert!(b.packet(ts(t), 60, 2_000_000));
            assert!(
                !b.packet(ts(t + 0.5), 10, 2_000_000),
                "within the gap of the burst start"
            );
        }
        assert_eq!(b.seen, 10);
        let (mut iv, mut sz, n) = b.series();
        assert_eq!(n, 9);
        let (m, mad) = median_mad(&mut iv[..n]);
        assert_eq!((m, mad), (15e6, 0.0));
        assert_eq!(median_mad(&mut sz[..n]), (60.0, 0.0));
        assert_eq!(regularity(m, mad), 1.0);
        assert_eq!(regularity(10.0, 20.0), 0.0);
    }

    #[test]
    fn ring_keeps_the_last_bursts() {
        let mut b = Bursts::new(ts(0.0));
        for i in 0..40 {
            b.packet(ts(f64::from(i) * 10.0), 9, 2_000_000);
        }
        let (iv, sz, n) = b.series();
        assert_eq!(n, HISTORY - 1);
        assert!(iv[..n].iter().all(|&d| d == 10e6));
        assert!(sz[..n].iter().all(|&s| s == 9.0));
    }

    #[test]
    fn config_checks() {
        assert!(BeaconConfig::default().check().is_ok());
        for bad in [
            BeaconConfig {
                min_bursts: 17,
                ..BeaconConfig::default()
            },
            BeaconConfig {
                min_bursts: 2,
                ..BeaconConfig::default()
            },
            BeaconConfig {
                min_size_regularity: 1.5,
                ..BeaconConfig::default()
            },
        ] {
            assert!(bad.check().is_err());
        }
    }
}
