//! Login-service scanning: a source that reaches the login handshake of VNC, RDP, SMB or
//! Telnet on many hosts, or fails VNC authentication.
//!
//! - **Answered handshakes:** the server's first payload on a connection is its login
//!   protocol's greeting: an RFB version (`RFB 003.008\n`), an X.224 Connection Confirm
//!   (RDP), an SMB negotiate response, or Telnet option negotiation (`IAC`) from port 23.
//!   `hosts` distinct hosts answering one source on one service within `window_us` make a
//!   scan: the scanner found live login services, which a SYN count cannot say.
//! - **VNC authentication failures:** after the server's banner and its 16-byte VNC
//!   challenge, a SecurityResult of "failed" (RFC 6143 §7.1.3). VNC has no user names, only a
//!   shared password, so `vnc_failures` failures (default 1) are a guess at it.
//!
//! One alert (`Login_Scan`, `meta.service` naming the service) per (source, service) and
//! episode.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, DistinctWindow, Episodes, Tally, TimedTable};
use super::{secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check};
use crate::app::smb2;
use crate::decode::{IpProtocol, PacketMeta};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;
use crate::time::Timestamp;

const NAME: &str = "login_scan";

/// Settings of the [`LoginScanDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginScanConfig {
    /// Run the detector (default true).
    pub enabled: bool,
    /// Window for distinct answering hosts and failures, µs (default 600 s).
    pub window_us: i64,
    /// Distinct hosts whose login service answered one source within the window (default 10).
    pub hosts: u64,
    /// Failed VNC authentications of one source within the window (default 1).
    pub vnc_failures: u64,
    /// A source quiet for this long ends its episode, µs (default 600 s).
    pub quiet_us: i64,
    /// Cap of each table, default 1024.
    pub max_tracked: usize,
}

impl Default for LoginScanConfig {
    fn default() -> Self {
        LoginScanConfig {
            enabled: true,
            window_us: 600_000_000,
            hosts: 10,
            vnc_failures: 1,
            quiet_us: 600_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl LoginScanConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("window_us", self.window_us)?;
        c.at_least_one("hosts", self.hosts)?;
        c.at_least_one("vnc_failures", self.vnc_failures)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// The login services recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Service {
    Vnc,
    Rdp,
    Smb,
    Telnet,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Vnc => "VNC",
            Service::Rdp => "RDP",
            Service::Smb => "SMB",
            Service::Telnet => "Telnet",
        }
    }
}

/// The login service whose greeting a server's first payload is, from `src_port`.
fn greeting(payload: &[u8], src_port: u16) -> Option<Service> {
    let rfb = payload.len() == 12
        && payload.starts_with(b"RFB 00")
        && payload[7] == b'.'
        && payload[11] == b'\n';
    if rfb {
        return Some(Service::Vnc);
    }
    // TPKT (version 3) with an X.224 Connection Confirm (code 0xd0).
    if payload.len() >= 11 && payload[..2] == [3, 0] && payload[5] & 0xf0 == 0xd0 {
        return Some(Service::Rdp);
    }
    // NetBIOS session message, then an SMB1 or SMB2 header with the response flag.
    if payload.len() >= 72 && smb2::starts_smb(payload) {
        // SMB2: SMB2_FLAGS_SERVER_TO_REDIR; SMB1: the reply bit of its flags byte.
        let response = match payload[4] {
            0xfe => payload[4 + 16] & 1 != 0,
            0xff => payload[4 + 9] & 0x80 != 0,
            _ => false,
        };
        if response {
            return Some(Service::Smb);
        }
    }
    if src_port == 23 && payload.len() >= 3 && payload[0] == 0xff && payload[1] >= 0xfb {
        return Some(Service::Telnet);
    }
    None
}

/// Where a VNC connection's authentication stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VncStage {
    /// The server sent its banner.
    Banner,
    /// The server sent a VNC authentication challenge.
    Challenged,
}

/// Detects login-service scanning and VNC password guessing.
#[derive(Debug)]
pub struct LoginScanDetector {
    config: LoginScanConfig,
    clock: Clock,
    answered: DistinctWindow<(Addr, u8), Addr>,
    failures: DistinctWindow<(Addr, u8), u64>,
    vnc: TimedTable<u64, VncStage>,
    sources: Episodes<(Addr, u8), ()>,
    tally: Tally,
}

impl LoginScanDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &LoginScanConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(LoginScanDetector {
            config: config.clone(),
            clock: Clock::default(),
            answered: DistinctWindow::new(config.max_tracked, config.window_us),
            failures: DistinctWindow::new(config.max_tracked, config.window_us),
            vnc: TimedTable::new(config.max_tracked, config.window_us),
            sources: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            tally: Tally::default(),
        })
    }

    /// A server payload on a VNC connection: a failed authentication, if it reports one.
    fn vnc_step(&mut self, flow_id: u64, payload: &[u8], now: Timestamp) -> bool {
        self.vnc.expire(now, |_, _| {});
        let Some(stage) = self.vnc.get_mut(&flow_id) else {
            return false;
        };
        match (*stage, payload.len()) {
            (VncStage::Banner, 16) => *stage = VncStage::Challenged,
            (VncStage::Challenged, 4 | 8..) if payload[..4] == [0, 0, 0, 1] => {
                *stage = VncStage::Banner;
                return true;
            }
            (VncStage::Challenged, 4) if payload == [0, 0, 0, 0] => *stage = VncStage::Banner,
            _ => {}
        }
        false
    }

    #[allow(clippy::too_many_arguments)]
    fn alert(
        &mut self,
        m: &PacketMeta,
        client: std::net::IpAddr,
        server: std::net::IpAddr,
        service: Service,
        count: u64,
        what: String,
        now: Timestamp,
        out: &mut Vec<Alert>,
    ) {
        let (ep, ()) = self.sources.event((Addr(client), service as u8), now);
        if !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let c = &self.config;
        let description = format!(
            "{client} {what} ({} service, last {server}:{}).",
            service.name(),
            m.src_port
        );
        out.push(
            AlertBuilder::new(NAME, now, "Login_Scan", Severity::Medium, &ep)
                .addrs(Some(client), Some(server))
                .ports(None, Some(m.src_port))
                .protocol(IpProtocol::TCP)
                .score(0.75)
                .meta("service", service.name())
                .observed("count", count)
                .threshold("hosts", c.hosts)
                .threshold("vnc_failures", c.vnc_failures)
                .threshold("window_us", c.window_us)
                .build(description),
        );
    }
}

impl Detector for LoginScanDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP_DATA
    }

    fn stats(&self) -> DetectorStats {
        table_stats(
            NAME,
            &self.tally,
            &[&self.answered, &self.failures, &self.vnc, &self.sources],
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
        // Server payloads only: greetings come early; VNC results are 4 or 16 bytes.
        let Some(f) = flow.filter(|f| {
            m.protocol == IpProtocol::TCP && !f.direction.is_forward() && !f.retransmission
        }) else {
            return;
        };
        let (client, server) = (m.dst_addr, m.src_addr);
        let p = ip.payload;
        if f.packets <= 6 {
            if let Some(service) = greeting(p, m.src_port) {
                let now = self.clock.advance(m.ts);
                if service == Service::Vnc {
                    self.vnc
                        .touch(f.flow_id, now, || VncStage::Banner, |_, _| {});
                }
                let (hosts, _) =
                    self.answered
                        .observe((Addr(client), service as u8), Addr(server), now);
                if u64::from(hosts) >= self.config.hosts {
                    let what = format!(
                        "reached the login handshake of {hosts} hosts within {}",
                        secs(self.config.window_us)
                    );
                    self.alert(m, client, server, service, hosts.into(), what, now, out);
                }
                return;
            }
        }
        let vnc_sized = matches!(p.len(), 4 | 16) || (p.len() >= 8 && p[..4] == [0, 0, 0, 1]);
        if !vnc_sized {
            return;
        }
        let now = self.clock.advance(m.ts);
        if self.vnc_step(f.flow_id, p, now) {
            let key = (Addr(client), Service::Vnc as u8);
            let (failures, _) = self.failures.observe(key, f.flow_id, now);
            if u64::from(failures) >= self.config.vnc_failures {
                let what = format!("failed VNC authentication {failures} time(s)");
                self.alert(
                    m,
                    client,
                    server,
                    Service::Vnc,
                    failures.into(),
                    what,
                    now,
                    out,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        assert_eq!(greeting(b"RFB 003.008\n", 5900), Some(Service::Vnc));
        assert_eq!(greeting(b"RFB 003.008", 5900), None);
        let cc = [3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0];
        assert_eq!(greeting(&cc, 3389), Some(Service::Rdp));
        assert_eq!(greeting(&[0xff, 0xfd, 0x18], 23), Some(Service::Telnet));
        assert_eq!(greeting(&[0xff, 0xfd, 0x18], 2323), None);
        let mut smb = vec![0, 0, 0, 100];
        smb.extend_from_slice(b"\xfeSMB");
        smb.resize(104, 0);
        assert_eq!(greeting(&smb, 445), None, "a request");
        smb[4 + 16] = 1;
        assert_eq!(greeting(&smb, 445), Some(Service::Smb));
        assert_eq!(greeting(b"HTTP/1.1 200 OK\r\n", 80), None);
    }

    #[test]
    fn vnc_failure_after_a_challenge() {
        let mut d = LoginScanDetector::new(&LoginScanConfig::default()).expect("valid");
        let t = Timestamp::from_micros(0);
        d.vnc.touch(7, t, || VncStage::Banner, |_, _| {});
        assert!(!d.vnc_step(7, &[0, 0, 0, 1], t), "no challenge yet");
        assert!(!d.vnc_step(7, &[0x43; 16], t));
        assert!(d.vnc_step(7, &[0, 0, 0, 1], t));
        assert!(!d.vnc_step(8, &[0, 0, 0, 1], t), "not a VNC flow");
    }
}
