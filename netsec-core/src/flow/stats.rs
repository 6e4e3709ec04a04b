//! Per-flow running statistics: fixed size, `Copy`, updated in O(1) per packet.
//!
//! Sums and sums of squares are kept as exact integers (sums in `u64`, which holds any byte
//! count or µs duration; sums of squares as 128 bits stored in two `u64` halves, so the
//! struct keeps 8-byte alignment and a flow costs less memory), so means and sample standard
//! deviations do not depend on floating-point accumulation order and the same capture always
//! gives bit-identical features. Gaps are clamped to 0 when timestamps go backwards, so no
//! feature is ever negative, NaN or infinite.

use crate::decode::TcpFlags;
use crate::features::{Feature, FeatureVector, FEATURE_COUNT};
use crate::flow::key::Direction;
use crate::time::Timestamp;

/// Count, sum, sum of squares and max of a series of non-negative integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Series {
    n: u64,
    /// Saturating; holds any byte count or µs span.
    sum: u64,
    /// The exact sum of squares, low and high halves.
    sumsq: [u64; 2],
    max: u64,
}

impl Series {
    fn push(&mut self, v: u64) {
        let v128 = u128::from(v);
        self.n = self.n.saturating_add(1);
        self.sum = self.sum.saturating_add(v);
        let sumsq = self.sumsq().saturating_add(v128.saturating_mul(v128));
        self.sumsq = [sumsq as u64, (sumsq >> 64) as u64];
        self.max = self.max.max(v);
    }

    /// The sum, widened for exact moment arithmetic.
    fn sum(&self) -> u128 {
        u128::from(self.sum)
    }

    fn sumsq(&self) -> u128 {
        u128::from(self.sumsq[0]) | u128::from(self.sumsq[1]) << 64
    }

    fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum as f64 / self.n as f64
        }
    }

    /// Sample standard deviation (n − 1); 0 when n < 2.
    fn std(&self) -> f64 {
        sample_std(self.n, self.sum(), self.sumsq())
    }
}

/// Sample standard deviation from exact integer moments.
fn sample_std(n: u64, sum: u128, sumsq: u128) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let nf = n as f64;
    // n·Σx² − (Σx)² is exact and ≥ 0 (Cauchy–Schwarz) when it fits; otherwise fall back to f64.
    let var = match (u128::from(n).checked_mul(sumsq), sum.checked_mul(sum)) {
        (Some(a), Some(b)) => a.saturating_sub(b) as f64 / (nf * (nf - 1.0)),
        _ => (sumsq as f64 - (sum as f64) * (sum as f64) / nf) / (nf - 1.0),
    };
    if var.is_finite() && var > 0.0 {
        var.sqrt()
    } else {
        0.0
    }
}

/// Everything the 25 features need, for one flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowStats {
    first_us: i64,
    last_us: i64,
    fwd_len: Series,
    bwd_len: Series,
    flow_iat: Series,
    fwd_iat_min: u64,
    bwd_iat_sum: u64,
    last_fwd_us: i64,
    last_bwd_us: i64,
    init_fwd_win: u16,
    init_bwd_win: u16,
    fwd_act_data: u64,
    syn: u64,
    psh: u64,
}

/// Non-negative gap `later − earlier` in µs (0 when time went backwards).
fn gap(later: i64, earlier: i64) -> u64 {
    u64::try_from(later.saturating_sub(earlier)).unwrap_or(0)
}

impl FlowStats {
    /// Adds one packet (the first packet of a flow may be backward: a flipped SYN+ACK).
    ///
    /// `window` is the raw TCP window (0 for non-TCP); `payload_len` the transport payload bytes.
    pub fn record(
        &mut self,
        ts: Timestamp,
        direction: Direction,
        payload_len: u32,
        flags: TcpFlags,
        window: u16,
    ) {
        let t = ts.as_micros();
        let payload = u64::from(payload_len);
        let total = self.packets();
        if total == 0 {
            self.first_us = t;
            self.last_us = t;
        } else {
            self.flow_iat.push(gap(t, self.last_us));
            // Keep `last` monotone so a late (reordered) packet cannot shrink the duration.
            self.last_us = self.last_us.max(t);
        }
        match direction {
            Direction::Forward => {
                if self.fwd_len.n == 0 {
                    self.init_fwd_win = window;
                    self.last_fwd_us = t;
                } else {
                    let g = gap(t, self.last_fwd_us);
                    self.fwd_iat_min = if self.fwd_len.n == 1 {
                        g
                    } else {
                        self.fwd_iat_min.min(g)
                    };
                    self.last_fwd_us = self.last_fwd_us.max(t);
                }
                self.fwd_len.push(payload);
                if payload > 0 {
                    self.fwd_act_data += 1;
                }
            }
            Direction::Backward => {
                if self.bwd_len.n == 0 {
                    self.init_bwd_win = window;
                    self.last_bwd_us = t;
                } else {
                    self.bwd_iat_sum = self.bwd_iat_sum.saturating_add(gap(t, self.last_bwd_us));
                    self.last_bwd_us = self.last_bwd_us.max(t);
                }
                self.bwd_len.push(payload);
            }
        }
        if flags.syn() {
            self.syn += 1;
        }
        if flags.psh() {
            self.psh += 1;
        }
    }

    /// Time of the latest packet in `direction`, µs, if it has any.
    pub(crate) fn last_in(&self, direction: Direction) -> Option<i64> {
        match direction {
            Direction::Forward => (self.fwd_len.n > 0).then_some(self.last_fwd_us),
            Direction::Backward => (self.bwd_len.n > 0).then_some(self.last_bwd_us),
        }
    }

    /// Packets in both directions.
    pub fn packets(&self) -> u64 {
        self.fwd_len.n.saturating_add(self.bwd_len.n)
    }

    /// Forward packets.
    pub fn fwd_packets(&self) -> u64 {
        self.fwd_len.n
    }

    /// Backward packets.
    pub fn bwd_packets(&self) -> u64 {
        self.bwd_len.n
    }

    /// Payload bytes sent in `direction`.
    pub fn payload_bytes_in(&self, direction: Direction) -> u64 {
        match direction {
            Direction::Forward => self.fwd_len.sum,
            Direction::Backward => self.bwd_len.sum,
        }
    }

    /// Payload bytes in both directions (saturating).
    pub fn payload_bytes(&self) -> u64 {
        self.fwd_len.sum.saturating_add(self.bwd_len.sum)
    }

    /// Duration in µs: last − first packet time (never negative).
    pub fn duration_us(&self) -> u64 {
        gap(self.last_us, self.first_us)
    }

    /// One feature's value (finite, ≥ 0).
    pub fn feature(&self, feature: Feature) -> f64 {
        let secs = self.duration_us() as f64 / 1e6;
        let rate = |count: f64| if secs > 0.0 { count / secs } else { 0.0 };
        let all_n = self.packets();
        let all_sum = self.fwd_len.sum() + self.bwd_len.sum();
        let v = match feature {
            Feature::FlowDuration => self.duration_us() as f64,
            Feature::TotFwdPkts => self.fwd_len.n as f64,
            Feature::TotBwdPkts => self.bwd_len.n as f64,
            Feature::TotlenFwd => self.fwd_len.sum as f64,
            Feature::TotlenBwd => self.bwd_len.sum as f64,
            Feature::FwdPktLenMax => self.fwd_len.max as f64,
            Feature::FwdPktLenMean => self.fwd_len.mean(),
            Feature::BwdPktLenMax => self.bwd_len.max as f64,
            Feature::BwdPktLenMean => self.bwd_len.mean(),
            Feature::BwdPktLenStd => self.bwd_len.std(),
            Feature::PktLenMean => {
                if all_n == 0 {
                    0.0
                } else {
                    all_sum as f64 / all_n as f64
                }
            }
            Feature::PktLenStd => sample_std(
                all_n,
                all_sum,
                self.fwd_len.sumsq().saturating_add(self.bwd_len.sumsq()),
            ),
            Feature::FlowBytesS => rate(all_sum as f64),
            Feature::FlowPktsS => rate(all_n as f64),
            Feature::BwdPktsS => rate(self.bwd_len.n as f64),
            Feature::FlowIatMean => self.flow_iat.mean(),
            Feature::FlowIatStd => self.flow_iat.std(),
            Feature::FlowIatMax => self.flow_iat.max as f64,
            Feature::FwdIatMin => {
                if self.fwd_len.n < 2 {
                    0.0
                } else {
                    self.fwd_iat_min as f64
                }
            }
            Feature::BwdIatMean => {
                if self.bwd_len.n < 2 {
                    0.0
                } else {
                    self.bwd_iat_sum as f64 / (self.bwd_len.n - 1) as f64
                }
            }
            Feature::InitFwdWinBytes => f64::from(self.init_fwd_win),
            Feature::InitBwdWinBytes => f64::from(self.init_bwd_win),
            Feature::FwdActDataPkts => self.fwd_act_data as f64,
            Feature::SynFlagCnt => self.syn as f64,
            Feature::PshFlagCnt => self.psh as f64,
        };
        if v.is_finite() {
            v
        } else {
            0.0
        }
    }

    /// All 25 features, in spec order.
    pub fn features(&self) -> FeatureVector {
        let mut values = [0.0; FEATURE_COUNT];
        for (slot, f) in values.iter_mut().zip(Feature::ALL) {
            *slot = self.feature(f);
        }
        FeatureVector::from_array(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &mut FlowStats, t: i64, d: Direction, len: u32) {
        s.record(Timestamp::from_micros(t), d, len, TcpFlags::default(), 0);
    }

    #[test]
    fn std_matches_definition() {
        let mut s = Series::default();
        for v in [2, 4, 4, 4, 5, 5, 7, 9] {
            s.push(v);
        }
        // population var 4, sample var 32/7
        assert!((s.std() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        let mut one = Series::default();
        one.push(7);
        assert_eq!(one.std(), 0.0);
    }

    #[test]
    fn empty_and_single_are_zero_not_nan() {
        let s = FlowStats::default();
        assert!(s.features().as_array().iter().all(|v| *v == 0.0));
        let mut s = FlowStats::default();
        rec(&mut s, 100, Direction::Forward, 10);
        let f = s.features();
        assert!(f.is_finite());
        assert_eq!(f[Feature::FlowBytesS], 0.0);
        assert_eq!(f[Feature::FlowIatMean], 0.0);
        assert_eq!(f[Feature::PktLenMean], 10.0);
    }

    #[test]
    fn backwards_time_clamps_gaps() {
        let mut s = FlowStats::default();
        rec(&mut s, 1_000, Direction::Forward, 1);
        rec(&mut s, 500, Direction::Forward, 1);
        rec(&mut s, 400, Direction::Backward, 1);
        let f = s.features();
        assert!(f.is_finite());
        assert_eq!(f[Feature::FlowDuration], 0.0);
        assert_eq!(f[Feature::FwdIatMin], 0.0);
        assert!(f.as_array().iter().all(|v| *v >= 0.0));
    }
}
