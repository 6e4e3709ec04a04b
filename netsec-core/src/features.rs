//! The 25 flow features of `FEATURES.md`, defined once.
//!
//! [`Feature`] is the single source of truth: its variants are in spec order, so
//! [`Feature::index`] is the column of a [`FeatureVector`], [`Feature::name`] is the CSV header
//! and rule-language name, and [`Feature::cic_name`] maps to the CICFlowMeter column users know.
//! Rules look features up by name ([`Feature::from_name`]); models use the index and refuse to
//! load against another [`schema_fingerprint`].
//!
//! Guarantee: every [`FeatureVector`] produced by [`crate::flow`] holds finite values only
//! (no NaN, no infinity, no −1 "not available" defaults).

use std::fmt;

/// Number of features in a [`FeatureVector`].
pub const FEATURE_COUNT: usize = 25;

/// Version of the feature definitions; bump it whenever a definition changes.
pub const SCHEMA_VERSION: u32 = 1;

macro_rules! define_features {
    ($($variant:ident => $name:literal, $cic:literal, $desc:literal;)*) => {
        /// One of the 25 flow features, in spec order (see `FEATURES.md`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Feature {
            $(
                #[doc = $desc]
                $variant,
            )*
        }

        impl Feature {
            /// All features, in spec (= vector) order.
            pub const ALL: [Feature; FEATURE_COUNT] = [$(Feature::$variant,)*];
            const NAMES: [&'static str; FEATURE_COUNT] = [$($name,)*];
            const CIC_NAMES: [&'static str; FEATURE_COUNT] = [$($cic,)*];
            const DESCRIPTIONS: [&'static str; FEATURE_COUNT] = [$($desc,)*];
        }
    };
}

define_features! {
    FlowDuration => "flow_duration", "Flow Duration",
        "Last minus first packet time, in microseconds.";
    TotFwdPkts => "tot_fwd_pkts", "Total Fwd Packets",
        "Number of forward packets.";
    TotBwdPkts => "tot_bwd_pkts", "Total Backward Packets",
        "Number of backward packets.";
    TotlenFwd => "totlen_fwd", "Total Length of Fwd Packets",
        "Sum of forward transport payload bytes.";
    TotlenBwd => "totlen_bwd", "Total Length of Bwd Packets",
        "Sum of backward transport payload bytes.";
    FwdPktLenMax => "fwd_pkt_len_max", "Fwd Packet Length Max",
        "Largest forward payload, in bytes.";
    FwdPktLenMean => "fwd_pkt_len_mean", "Fwd Packet Length Mean",
        "Mean forward payload, in bytes.";
    BwdPktLenMax => "bwd_pkt_len_max", "Bwd Packet Length Max",
        "Largest backward payload, in bytes (0 if no backward packet).";
    BwdPktLenMean => "bwd_pkt_len_mean", "Bwd Packet Length Mean",
        "Mean backward payload, in bytes (0 if no backward packet).";
    BwdPktLenStd => "bwd_pkt_len_std", "Bwd Packet Length Std",
        "Sample standard deviation of backward payload (0 if fewer than 2).";
    PktLenMean => "pkt_len_mean", "Packet Length Mean",
        "Mean payload over all packets, each packet counted once.";
    PktLenStd => "pkt_len_std", "Packet Length Std",
        "Sample standard deviation of payload over all packets (0 if fewer than 2).";
    FlowBytesS => "flow_bytes_s", "Flow Bytes/s",
        "Payload bytes in both directions per second of flow duration (0 if duration is 0).";
    FlowPktsS => "flow_pkts_s", "Flow Packets/s",
        "Packets in both directions per second of flow duration (0 if duration is 0).";
    BwdPktsS => "bwd_pkts_s", "Bwd Packets/s",
        "Backward packets per second of flow duration (0 if duration is 0).";
    FlowIatMean => "flow_iat_mean", "Flow IAT Mean",
        "Mean gap between consecutive packets of the flow, in microseconds.";
    FlowIatStd => "flow_iat_std", "Flow IAT Std",
        "Sample standard deviation of the gaps between consecutive packets.";
    FlowIatMax => "flow_iat_max", "Flow IAT Max",
        "Largest gap between consecutive packets, in microseconds.";
    FwdIatMin => "fwd_iat_min", "Fwd IAT Min",
        "Smallest gap between consecutive forward packets (0 if fewer than 2).";
    BwdIatMean => "bwd_iat_mean", "Bwd IAT Mean",
        "Mean gap between consecutive backward packets (0 if fewer than 2).";
    InitFwdWinBytes => "init_fwd_win_bytes", "Init_Win_bytes_forward",
        "Raw TCP window of the first forward packet (0 if not TCP).";
    InitBwdWinBytes => "init_bwd_win_bytes", "Init_Win_bytes_backward",
        "Raw TCP window of the first backward packet (0 if none or not TCP).";
    FwdActDataPkts => "fwd_act_data_pkts", "act_data_pkt_fwd",
        "Forward packets with at least one payload byte, the first packet included.";
    SynFlagCnt => "syn_flag_cnt", "SYN Flag Count",
        "Packets in either direction with SYN set.";
    PshFlagCnt => "psh_flag_cnt", "PSH Flag Count",
        "Packets in either direction with PSH set.";
}

impl Feature {
    /// Snake-case name used in CSV headers, JSON and rules, e.g. `"flow_duration"`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// Position in [`Feature::ALL`] and in a [`FeatureVector`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The CICFlowMeter column name, e.g. `"Flow Duration"`.
    pub fn cic_name(self) -> &'static str {
        Self::CIC_NAMES[self.index()]
    }

    /// One-line definition (the same text as the variant's doc comment).
    pub fn description(self) -> &'static str {
        Self::DESCRIPTIONS[self.index()]
    }

    /// Looks a feature up by its snake-case [`name`](Feature::name) (exact match).
    pub fn from_name(name: &str) -> Option<Feature> {
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Looks a feature up by its position in a [`FeatureVector`].
    pub fn from_index(index: usize) -> Option<Feature> {
        Self::ALL.get(index).copied()
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A 64-bit FNV-1a fingerprint of the feature schema ([`SCHEMA_VERSION`] and every name in
/// order). Saved models store it and refuse to load when it differs.
pub fn schema_fingerprint() -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    };
    eat(&SCHEMA_VERSION.to_le_bytes());
    for f in Feature::ALL {
        eat(f.name().as_bytes());
        eat(b"\n");
    }
    h
}

/// The 25 features of one flow, indexed by [`Feature::index`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureVector([f64; FEATURE_COUNT]);

impl FeatureVector {
    /// Wraps raw values given in [`Feature::ALL`] order.
    pub const fn from_array(values: [f64; FEATURE_COUNT]) -> Self {
        FeatureVector(values)
    }

    /// The value of one feature.
    pub fn get(&self, feature: Feature) -> f64 {
        self.0[feature.index()]
    }

    /// All values in [`Feature::ALL`] order (what models consume).
    pub fn as_array(&self) -> &[f64; FEATURE_COUNT] {
        &self.0
    }

    /// `(feature, value)` pairs in spec order.
    pub fn iter(&self) -> impl Iterator<Item = (Feature, f64)> + '_ {
        Feature::ALL.iter().map(move |&f| (f, self.get(f)))
    }

    /// Whether every value is finite (always true for vectors built by the flow table).
    pub fn is_finite(&self) -> bool {
        self.0.iter().all(|v| v.is_finite())
    }
}

impl std::ops::Index<Feature> for FeatureVector {
    type Output = f64;
    fn index(&self, feature: Feature) -> &f64 {
        &self.0[feature.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names_match_spec() {
        assert_eq!(Feature::ALL.len(), FEATURE_COUNT);
        for (i, f) in Feature::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
            assert_eq!(Feature::from_name(f.name()), Some(*f));
            assert_eq!(Feature::from_index(i), Some(*f));
            assert!(!f.description().is_empty());
        }
        assert_eq!(Feature::ALL[0].name(), "flow_duration");
        assert_eq!(Feature::ALL[24].name(), "psh_flag_cnt");
        assert_eq!(
            Feature::InitBwdWinBytes.cic_name(),
            "Init_Win_bytes_backward"
        );
        assert_eq!(Feature::from_name("Flow Duration"), None);
    }

    #[test]
    fn names_are_unique_snake_case() {
        let mut names: Vec<_> = Feature::ALL.iter().map(|f| f.name()).collect();
        assert!(names.iter().all(|n| n
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FEATURE_COUNT);
    }

    #[test]
    fn fingerprint_is_stable() {
        assert_eq!(schema_fingerprint(), schema_fingerprint());
        assert_ne!(schema_fingerprint(), 0);
    }

    #[test]
    fn vector_accessors() {
        let mut a = [0.0; FEATURE_COUNT];
        a[Feature::SynFlagCnt.index()] = 2.0;
        let v = FeatureVector::from_array(a);
        assert_eq!(v.get(Feature::SynFlagCnt), 2.0);
        assert_eq!(v[Feature::SynFlagCnt], 2.0);
        assert_eq!(v.iter().count(), FEATURE_COUNT);
        assert!(v.is_finite());
    }
}
