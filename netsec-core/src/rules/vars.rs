//! Rule variables (`$HOME_NET`, `$HTTP_PORTS` …) and the built-in classification table.

use std::collections::BTreeMap;

use super::ast::{AddrSpec, PortSpec};
use super::parse::{parse_addr, parse_port, ParseErrorKind};

/// Address and port variables used by rule headers.
///
/// [`RuleVars::default`] has the `RULES.md` defaults: `HOME_NET` = RFC 1918 + ULA,
/// `EXTERNAL_NET` = `!$HOME_NET`, the usual server groups = `$HOME_NET`, and the usual port
/// groups of Suricata's default `suricata.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleVars {
    addrs: BTreeMap<String, AddrSpec>,
    ports: BTreeMap<String, PortSpec>,
}

impl Default for RuleVars {
    fn default() -> Self {
        let mut v = RuleVars::empty();
        let addr = [
            (
                "HOME_NET",
                "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7]",
            ),
            ("EXTERNAL_NET", "!$HOME_NET"),
            ("HTTP_SERVERS", "$HOME_NET"),
            ("SMTP_SERVERS", "$HOME_NET"),
            ("SQL_SERVERS", "$HOME_NET"),
            ("DNS_SERVERS", "$HOME_NET"),
            ("TELNET_SERVERS", "$HOME_NET"),
            ("DC_SERVERS", "$HOME_NET"),
            ("DNP3_SERVER", "$HOME_NET"),
            ("DNP3_CLIENT", "$HOME_NET"),
            ("MODBUS_SERVER", "$HOME_NET"),
            ("MODBUS_CLIENT", "$HOME_NET"),
            ("ENIP_SERVER", "$HOME_NET"),
            ("ENIP_CLIENT", "$HOME_NET"),
            ("AIM_SERVERS", "$EXTERNAL_NET"),
        ];
        for (k, s) in addr {
            v.set_addr(k, s)
                .expect("built-in address variables are valid");
        }
        let ports = [
            ("HTTP_PORTS", "80"),
            ("SHELLCODE_PORTS", "!80"),
            ("ORACLE_PORTS", "1521"),
            ("SSH_PORTS", "22"),
            ("DNP3_PORTS", "20000"),
            ("MODBUS_PORTS", "502"),
            ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
            ("FTP_PORTS", "21"),
            ("GENEVE_PORTS", "6081"),
            ("VXLAN_PORTS", "4789"),
            ("TEREDO_PORTS", "3544"),
        ];
        for (k, s) in ports {
            v.set_port(k, s).expect("built-in port variables are valid");
        }
        v
    }
}

impl RuleVars {
    /// No variables at all.
    pub fn empty() -> Self {
        RuleVars {
            addrs: BTreeMap::new(),
            ports: BTreeMap::new(),
        }
    }

    /// Defines (or replaces) an address variable, e.g. `set_addr("HOME_NET", "[10.0.0.0/8]")`.
    ///
    /// # Errors
    /// The parse error when `value` is not an address spec.
    pub fn set_addr(&mut self, name: &str, value: &str) -> Result<(), ParseErrorKind> {
        let spec = parse_addr(value)?;
        self.addrs
            .insert(name.trim_start_matches('$').to_string(), spec);
        Ok(())
    }

    /// Defines (or replaces) a port variable.
    ///
    /// # Errors
    /// The parse error when `value` is not a port spec.
    pub fn set_port(&mut self, name: &str, value: &str) -> Result<(), ParseErrorKind> {
        let spec = parse_port(value)?;
        self.ports
            .insert(name.trim_start_matches('$').to_string(), spec);
        Ok(())
    }

    /// An address variable's definition.
    pub fn addr(&self, name: &str) -> Option<&AddrSpec> {
        self.addrs.get(name)
    }

    /// A port variable's definition.
    pub fn port(&self, name: &str) -> Option<&PortSpec> {
        self.ports.get(name)
    }
}

/// The standard `classification.config` (Suricata/ET): classtype, its description (what
/// Suricata's EVE writes as `alert.category`), and its default priority.
pub const CLASSIFICATIONS: [(&str, &str, u8); 43] = [
    ("not-suspicious", "Not Suspicious Traffic", 3),
    ("unknown", "Unknown Traffic", 3),
    ("bad-unknown", "Potentially Bad Traffic", 2),
    ("attempted-recon", "Attempted Information Leak", 2),
    ("successful-recon-limited", "Information Leak", 2),
    (
        "successful-recon-largescale",
        "Large Scale Information Source Leak",
        2,
    ),
    ("attempted-dos", "Attempted Denial of Service", 2),
    ("successful-dos", "Denial of Service", 2),
    ("attempted-user", "Attempted User Privilege Gain", 1),
    ("unsuccessful-user", "Unsuccessful User Privilege Gain", 1),
    ("successful-user", "Successful User Privilege Gain", 1),
    (
        "attempted-admin",
        "Attempted Administrator Privilege Gain",
        1,
    ),
    (
        "successful-admin",
        "Successful Administrator Privilege Gain",
        1,
    ),
    ("rpc-portmap-decode", "Decode of an RPC Query", 2),
    ("shellcode-detect", "Executable code was detected", 1),
    ("string-detect", "A suspicious string was detected", 3),
    (
        "suspicious-filename-detect",
        "A suspicious filename was detected",
        2,
    ),
    (
        "suspicious-login",
        "An attempted login using a suspicious username was detected",
        2,
    ),
    ("system-call-detect", "A system call was detected", 2),
    ("tcp-connection", "A TCP connection was detected", 4),
    ("trojan-activity", "A Network Trojan was detected", 1),
    (
        "unusual-client-port-connection",
        "A client was using an unusual port",
        2,
    ),
    ("network-scan", "Detection of a Network Scan", 3),
    (
        "denial-of-service",
        "Detection of a Denial of Service Attack",
        2,
    ),
    (
        "non-standard-protocol",
        "Detection of a non-standard protocol or event",
        2,
    ),
    (
        "protocol-command-decode",
        "Generic Protocol Command Decode",
        3,
    ),
    (
        "web-application-activity",
        "access to a potentially vulnerable web application",
        2,
    ),
    ("web-application-attack", "Web Application Attack", 1),
    ("misc-activity", "Misc activity", 3),
    ("misc-attack", "Misc Attack", 2),
    ("icmp-event", "Generic ICMP event", 3),
    (
        "inappropriate-content",
        "Inappropriate Content was Detected",
        1,
    ),
    (
        "policy-violation",
        "Potential Corporate Privacy Violation",
        1,
    ),
    (
        "default-login-attempt",
        "Attempt to login by a default username and password",
        2,
    ),
    (
        "targeted-activity",
        "Targeted Malicious Activity was Detected",
        1,
    ),
    ("exploit-kit", "Exploit Kit Activity Detected", 1),
    (
        "external-ip-check",
        "Device Retrieving External IP Address Detected",
        2,
    ),
    ("domain-c2", "Domain Observed Used for C2 Detected", 1),
    ("pup-activity", "Possibly Unwanted Program Detected", 2),
    (
        "credential-theft",
        "Successful Credential Theft Detected",
        1,
    ),
    (
        "social-engineering",
        "Possible Social Engineering Attempted",
        2,
    ),
    ("coin-mining", "Crypto Currency Mining Activity Detected", 2),
    (
        "command-and-control",
        "Malware Command and Control Activity Detected",
        1,
    ),
];

/// Priority-1 classtypes that mean a compromise in progress: their alerts are `CRITICAL`.
pub const CRITICAL_CLASSTYPES: [&str; 7] = [
    "successful-admin",
    "successful-user",
    "trojan-activity",
    "command-and-control",
    "domain-c2",
    "exploit-kit",
    "credential-theft",
];

/// The default priority of a classtype (3 for unknown classtypes).
pub fn classtype_priority(classtype: &str) -> u8 {
    CLASSIFICATIONS
        .iter()
        .find(|(c, ..)| *c == classtype)
        .map_or(3, |(.., p)| *p)
}

/// The description of a classtype (`Generic Protocol Command Decode` for
/// `protocol-command-decode`), if it is a standard one.
pub fn classtype_description(classtype: &str) -> Option<&'static str> {
    CLASSIFICATIONS
        .iter()
        .find(|(c, ..)| *c == classtype)
        .map(|(_, d, _)| *d)
}
