//! EVE signatures of non-rule detectors: one stable `(gid, signature_id, signature)` per
//! (detector, attack type), so SIEMs and EveBox can group and mute findings by signature.
//!
//! Rule alerts keep their own `gid:sid:rev` and `msg`. Every other alert is looked up in
//! [`SIGNATURES`], the one table of netsec's own signature ids:
//!
//! | gid | detectors |
//! |---|---|
//! | 9000 | behavioural (`port_scan`, `syn_flood`, `brute_force`, …) |
//! | 9001 | models (`random_forest`, `isolation_forest`) |
//! | 9002 | any other detector (an embedder's own) |
//!
//! A pair missing from the table (a model class such as `DoS_Hulk`, a brute-force service
//! added in the configuration, an embedder's detector) gets the gid of its detector's family,
//! signature id `100000 + FNV-1a("detector\0attack_type") mod 900000`, and the name
//! `NETSEC <FAMILY> <detector> <attack_type>`: still stable across runs, releases and
//! machines.

use std::borrow::Cow;

use super::Alert;

/// Gid of the behavioural detectors' signatures.
pub const GID_BEHAVIOUR: u64 = 9000;
/// Gid of the models' signatures.
pub const GID_MODEL: u64 = 9001;
/// Gid of any other non-rule detector's signatures.
pub const GID_OTHER: u64 = 9002;

/// First signature id of pairs not in [`SIGNATURES`].
pub const HASHED_SID_BASE: u64 = 100_000;

/// The documented signatures: (detector, attack type, gid, signature id, name).
pub const SIGNATURES: [(&str, &str, u64, u64, &str); 15] = [
    (
        "port_scan",
        "Port_Scan",
        GID_BEHAVIOUR,
        1,
        "NETSEC BEHAVIOUR Port scan",
    ),
    (
        "syn_flood",
        "DDoS_SYN_Flood",
        GID_BEHAVIOUR,
        2,
        "NETSEC BEHAVIOUR SYN flood",
    ),
    (
        "icmp_flood",
        "ICMP_Flood",
        GID_BEHAVIOUR,
        3,
        "NETSEC BEHAVIOUR ICMP flood",
    ),
    (
        "ping_sweep",
        "Ping_Sweep",
        GID_BEHAVIOUR,
        4,
        "NETSEC BEHAVIOUR Ping sweep",
    ),
    (
        "arp_spoof",
        "MITM_ARP_Spoofing",
        GID_BEHAVIOUR,
        5,
        "NETSEC BEHAVIOUR ARP spoofing",
    ),
    (
        "amplification",
        "DDoS_Amplification",
        GID_BEHAVIOUR,
        6,
        "NETSEC BEHAVIOUR UDP amplification",
    ),
    (
        "dns_tunnel",
        "DNS_Tunnel",
        GID_BEHAVIOUR,
        7,
        "NETSEC BEHAVIOUR DNS tunnelling",
    ),
    (
        "dns_tunnel",
        "DNS_Encrypted_Channel",
        GID_BEHAVIOUR,
        8,
        "NETSEC BEHAVIOUR Encrypted DNS channel",
    ),
    (
        "brute_force",
        "Brute_Force_FTP",
        GID_BEHAVIOUR,
        10,
        "NETSEC BEHAVIOUR FTP brute force",
    ),
    (
        "brute_force",
        "Brute_Force_SSH",
        GID_BEHAVIOUR,
        11,
        "NETSEC BEHAVIOUR SSH brute force",
    ),
    (
        "brute_force",
        "Brute_Force_Telnet",
        GID_BEHAVIOUR,
        12,
        "NETSEC BEHAVIOUR Telnet brute force",
    ),
    (
        "brute_force",
        "Brute_Force_SMB",
        GID_BEHAVIOUR,
        13,
        "NETSEC BEHAVIOUR SMB brute force",
    ),
    (
        "brute_force",
        "Brute_Force_RDP",
        GID_BEHAVIOUR,
        14,
        "NETSEC BEHAVIOUR RDP brute force",
    ),
    (
        "random_forest",
        "ML_Attack",
        GID_MODEL,
        1,
        "NETSEC ML Random forest attack",
    ),
    (
        "isolation_forest",
        "Anomaly",
        GID_MODEL,
        2,
        "NETSEC ML Isolation forest anomaly",
    ),
];

/// Behavioural detector names (gid [`GID_BEHAVIOUR`] for pairs outside the table); every
/// detector `behaviour::build_detectors` can build is here (tested there).
const BEHAVIOUR_DETECTORS: [&str; 19] = [
    "port_scan",
    "syn_flood",
    "icmp_flood",
    "ping_sweep",
    "arp_spoof",
    "amplification",
    "dns_tunnel",
    "brute_force",
    "payload",
    "arp_scan",
    "dhcp_flood",
    "os_fingerprint",
    "smb",
    "tcp_anomaly",
    "beacon",
    "session_hijack",
    "icmp_tunnel",
    "login_scan",
    "long_connection",
];

/// Model detector names (gid [`GID_MODEL`]).
const MODEL_DETECTORS: [&str; 2] = ["random_forest", "isolation_forest"];

/// An alert's EVE signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EveSignature<'a> {
    /// `alert.gid`.
    pub gid: u64,
    /// `alert.signature_id`.
    pub sid: u64,
    /// `alert.rev`.
    pub rev: u64,
    /// `alert.signature`: a rule's `msg`, or the stable name.
    pub name: Cow<'a, str>,
}

impl<'a> EveSignature<'a> {
    /// The signature of `alert`: its rule's, or the one of its (detector, attack type).
    pub fn of(alert: &'a Alert) -> EveSignature<'a> {
        if let Some(sid) = alert.meta_u64("sid") {
            let name = alert
                .meta
                .get("msg")
                .and_then(|v| v.as_str())
                .unwrap_or(&alert.description);
            return EveSignature {
                gid: alert.meta_u64("gid").unwrap_or(1),
                sid,
                rev: alert.meta_u64("rev").unwrap_or(0),
                name: Cow::Borrowed(name),
            };
        }
        let detector = alert.detector().unwrap_or("unknown");
        non_rule(detector, &alert.attack_type)
    }
}

/// The signature of a non-rule (detector, attack type) pair.
pub fn non_rule<'a>(detector: &str, attack_type: &str) -> EveSignature<'a> {
    if let Some((.., gid, sid, name)) = SIGNATURES
        .iter()
        .find(|(d, t, ..)| *d == detector && *t == attack_type)
    {
        return EveSignature {
            gid: *gid,
            sid: *sid,
            rev: 1,
            name: Cow::Borrowed(name),
        };
    }
    let (gid, family) = if BEHAVIOUR_DETECTORS.contains(&detector) {
        (GID_BEHAVIOUR, "BEHAVIOUR")
    } else if MODEL_DETECTORS.contains(&detector) {
        (GID_MODEL, "ML")
    } else {
        (GID_OTHER, "DETECTOR")
    };
    let mut h: u32 = 0x811c_9dc5;
    for b in detector.bytes().chain([0]).chain(attack_type.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    EveSignature {
        gid,
        sid: HASHED_SID_BASE + u64::from(h) % 900_000,
        rev: 1,
        name: Cow::Owned(format!("NETSEC {family} {detector} {attack_type}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_ids_are_unique_and_below_the_hashed_range() {
        let mut seen = std::collections::HashSet::new();
        for (d, t, gid, sid, name) in SIGNATURES {
            assert!(seen.insert((gid, sid)), "{gid}:{sid} twice");
            assert!(sid < HASHED_SID_BASE);
            assert!(name.starts_with("NETSEC "), "{name}");
            assert_eq!(non_rule(d, t).sid, sid);
        }
    }

    #[test]
    fn pairs_outside_the_table_are_stable_and_in_their_family() {
        let a = non_rule("random_forest", "DoS_Hulk");
        assert_eq!(a, non_rule("random_forest", "DoS_Hulk"));
        assert_eq!(a.gid, GID_MODEL);
        assert!((HASHED_SID_BASE..HASHED_SID_BASE + 900_000).contains(&a.sid));
        assert_eq!(a.name, "NETSEC ML random_forest DoS_Hulk");
        assert_ne!(a.sid, non_rule("random_forest", "DoS_Slowloris").sid);
        assert_eq!(
            non_rule("brute_force", "Brute_Force_VNC").gid,
            GID_BEHAVIOUR
        );
        assert_eq!(non_rule("my_detector", "X").gid, GID_OTHER);
    }

    #[test]
    fn the_login_services_have_table_entries() {
        for (_, name) in crate::behaviour::DEFAULT_LOGIN_SERVICES {
            let t = format!("Brute_Force_{name}");
            assert!(non_rule("brute_force", &t).sid < HASHED_SID_BASE, "{t}");
        }
    }
}
