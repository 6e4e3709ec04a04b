//! Counting windows for `threshold`, `detection_filter` and `threshold.config`: the one place
//! their per-key counting and tracking rules live.

use std::net::{IpAddr, Ipv4Addr};

use super::ast::{Threshold, ThresholdType, Track};

/// Matches counted in a fixed window that starts at the first match after the last window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateWindow {
    pub(crate) start_us: i64,
    pub(crate) window_us: i64,
    pub(crate) count: u32,
}

impl RateWindow {
    /// An empty window of `seconds` starting at `now_us`.
    pub(crate) fn new(now_us: i64, seconds: u32) -> RateWindow {
        RateWindow {
            start_us: now_us,
            window_us: i64::from(seconds).saturating_mul(1_000_000),
            count: 0,
        }
    }

    /// Whether the window is over at `now_us` (time going back also ends it).
    pub(crate) fn expired(&self, now_us: i64) -> bool {
        now_us.saturating_sub(self.start_us) > self.window_us || now_us < self.start_us
    }

    /// Counts one match at `now_us` (starting a new window when this one is over).
    pub(crate) fn count(&mut self, now_us: i64) -> u32 {
        if self.expired(now_us) {
            self.start_us = now_us;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count
    }

    /// Counts one match and says whether `t` lets it alert: `limit` the first `count` per
    /// window, `threshold` every `count`-th, `both` once at `count`, and `detection_filter`
    /// (no type) every match after the first `count`.
    pub(crate) fn allows(&mut self, t: &Threshold, now_us: i64) -> bool {
        let n = self.count(now_us);
        match t.kind {
            Some(ThresholdType::Limit) => n <= t.count,
            Some(ThresholdType::Threshold) => {
                if n >= t.count {
                    self.count = 0;
                    true
                } else {
                    false
                }
            }
            Some(ThresholdType::Both) => n == t.count,
            None => n > t.count,
        }
    }
}

/// The addresses a `track` counts by: the source, the destination, nothing (by rule), or the
/// address pair in either direction (by both, as Suricata's IP-pair tracking).
pub(crate) fn track_addrs(track: Track, src: IpAddr, dst: IpAddr) -> (IpAddr, IpAddr) {
    let none = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    match track {
        Track::BySrc => (src, none),
        Track::ByDst => (dst, none),
        Track::ByRule => (none, none),
        Track::ByBoth => (src.min(dst), src.max(dst)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(kind: Option<ThresholdType>, count: u32) -> Threshold {
        Threshold {
            kind,
            track: Track::ByRule,
            count,
            seconds: 10,
        }
    }

    fn run(th: Threshold, times_s: &[i64]) -> Vec<bool> {
        let mut w = RateWindow::new(times_s[0] * 1_000_000, th.seconds);
        times_s
            .iter()
            .map(|s| w.allows(&th, s * 1_000_000))
            .collect()
    }

    #[test]
    fn the_four_kinds_count_as_suricata_does() {
        let at = [0, 1, 2, 3, 4, 5, 20];
        assert_eq!(
            run(t(Some(ThresholdType::Limit), 2), &at),
            [true, true, false, false, false, false, true]
        );
        assert_eq!(
            run(t(Some(ThresholdType::Threshold), 2), &at),
            [false, true, false, true, false, true, false]
        );
        assert_eq!(
            run(t(Some(ThresholdType::Both), 2), &at),
            [false, true, false, false, false, false, false]
        );
        assert_eq!(
            run(t(None, 2), &at),
            [false, false, true, true, true, true, false]
        );
    }

    #[test]
    fn by_both_is_one_key_for_either_direction() {
        let (a, b): (IpAddr, IpAddr) = (
            "10.0.0.1"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "10.0.0.2"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        );
        assert_eq!(
            track_addrs(Track::ByBoth, a, b),
            track_addrs(Track::ByBoth, b, a)
        );
        assert_ne!(
            track_addrs(Track::BySrc, a, b),
            track_addrs(Track::BySrc, b, a)
        );
    }
}
