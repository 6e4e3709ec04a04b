//! SMB2 lateral movement and SMBGhost, read from SMB2 headers as Zeek's SMB scripts do
//! (parsing in [`crate::app::smb2`]):
//!
//! - **Lateral movement** (`Lateral_Movement`, keyed by client and technique):
//!   - `service_creation`: a DCE/RPC `CreateService*` or `StartServiceW` call on the
//!     `\svcctl` pipe (PsExec and its kind);
//!   - `scheduled_job`: `NetrJobAdd` on `\atsvc`;
//!   - `account_change`: `CreateUser*`, `AddMemberTo*` or `SetInformationUser*` on `\samr`;
//!   - `admin_share_executable`: an executable created on, or an `MZ` image written to, an
//!     administrative share (`ADMIN$`, `C$` …).
//! - **SMBGhost** (`Exploit_SMBGhost`, CVE-2020-0796): a compression transform header whose
//!   offset and size overflow (the exploit), or a client that offers SMB 3.1.1 compression
//!   and closes the connection without setting up a session (the scanners' probe for
//!   vulnerable servers).
//!
//! - **Test malware** (`Malware_Test_File_Transfer`): the EICAR anti-virus test file read or
//!   written over SMB1 or SMB2, the file every anti-virus product flags, so its transfer
//!   shows a share that hands malware around unchecked.
//!
//! Per-flow state (admin tree ids, pipes opened, a pending probe) is kept only for flows that
//! did one of these things, in a bounded table.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, Tally, TimedTable};
use super::{table_stats, transport, AlertBuilder, BehaviourConfigError, Check};
use crate::app::smb2::{self, Command, Frame, Message};
use crate::decode::{IpProtocol, PacketMeta, TcpFlags};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;
use crate::time::Timestamp;

const NAME: &str = "smb";

/// Settings of the [`SmbDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmbConfig {
    /// Run the detector (default true).
    pub enabled: bool,
    /// Look for lateral movement (default true).
    pub lateral_movement: bool,
    /// Look for SMBGhost (default true).
    pub smbghost: bool,
    /// A client quiet for this long ends its episode, µs (default 600 s).
    pub quiet_us: i64,
    /// An SMB flow's state is dropped after this long without a message, µs (default 600 s).
    pub flow_idle_us: i64,
    /// Cap of each table (flows with state, client episodes), default 1024.
    pub max_tracked: usize,
}

impl Default for SmbConfig {
    fn default() -> Self {
        SmbConfig {
            enabled: true,
            lateral_movement: true,
            smbghost: true,
            quiet_us: 600_000_000,
            flow_idle_us: 600_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl SmbConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.non_negative("quiet_us", self.quiet_us)?;
        c.positive("flow_idle_us", self.flow_idle_us)?;
        c.cap(self.max_tracked)
    }
}

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    ServiceCreation,
    ScheduledJob,
    AccountChange,
    AdminShareExecutable,
    GhostOverflow,
    GhostProbe,
    TestFile,
}

impl Finding {
    fn technique(self) -> &'static str {
        match self {
            Finding::ServiceCreation => "service_creation",
            Finding::ScheduledJob => "scheduled_job",
            Finding::AccountChange => "account_change",
            Finding::AdminShareExecutable => "admin_share_executable",
            Finding::GhostOverflow => "compression_overflow",
            Finding::GhostProbe => "compression_probe",
            Finding::TestFile => "eicar_test_file",
        }
    }

    fn attack_type(self) -> &'static str {
        match self {
            Finding::GhostOverflow | Finding::GhostProbe => "Exploit_SMBGhost",
            Finding::TestFile => "Malware_Test_File_Transfer",
            _ => "Lateral_Movement",
        }
    }

    fn severity(self) -> Severity {
        match self {
            Finding::GhostOverflow => Severity::Critical,
            Finding::GhostProbe | Finding::TestFile => Severity::Medium,
            _ => Severity::High,
        }
    }
}

/// The RPC pipes watched, as bits of [`SmbFlow::pipes`].
const PIPES: [(&str, u8); 3] = [("svcctl", 1), ("atsvc", 2), ("samr", 4)];

/// The finding of a DCE/RPC request with `opnum` on a flow with `pipes` open.
fn rpc_finding(pipes: u8, opnum: u16) -> Option<Finding> {
    // [MS-SCMR] RCreateServiceW 12, RCreateServiceA 24, RStartServiceW 19,
    // RCreateServiceWOW64A/W 44/45.
    if pipes & 1 != 0 && matches!(opnum, 12 | 19 | 24 | 44 | 45) {
        return Some(Finding::ServiceCreation);
    }
    // [MS-TSCH] NetrJobAdd 0.
    if pipes & 2 != 0 && opnum == 0 {
        return Some(Finding::ScheduledJob);
    }
    // [MS-SAMR] CreateUserInDomain 12, AddMemberToGroup 22, AddMemberToAlias 31,
    // SetInformationUser 37, CreateUser2InDomain 50, SetInformationUser2 58.
    if pipes & 4 != 0 && matches!(opnum, 12 | 22 | 31 | 37 | 50 | 58) {
        return Some(Finding::AccountChange);
    }
    None
}

/// The part of the EICAR test file that names it.
const EICAR_SIGNATURE: &[u8] = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!";

/// Names an executable is created under.
const EXECUTABLE_SUFFIXES: [&str; 6] = [".exe", ".dll", ".sys", ".scr", ".bat", ".ps1"];

/// What a flow did that matters later.
#[derive(Debug, Clone, Copy, Default)]
struct SmbFlow {
    /// Tree ids of administrative shares.
    admin_trees: [u32; 4],
    admin_count: u8,
    /// Message ids of tree connects to administrative shares, awaiting their responses.
    pending: [u64; 4],
    pending_count: u8,
    /// Bits of [`PIPES`] opened.
    pipes: u8,
    /// The client offered SMB 3.1.1 compression.
    probe: bool,
    /// The client set up a session.
    session: bool,
}

impl SmbFlow {
    fn is_admin_tree(&self, tree: u32) -> bool {
        self.admin_trees[..usize::from(self.admin_count)].contains(&tree)
    }
}

/// Detects SMB2 lateral movement and SMBGhost; one alert per (client, finding) and episode.
#[derive(Debug)]
pub struct SmbDetector {
    config: SmbConfig,
    clock: Clock,
    flows: TimedTable<u64, SmbFlow>,
    clients: Episodes<(Addr, u8), ()>,
    tally: Tally,
}

impl SmbDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &SmbConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(SmbDetector {
            config: config.clone(),
            clock: Clock::default(),
            flows: TimedTable::new(config.max_tracked, config.flow_idle_us),
            clients: Episodes::new(config.max_tracked, config.quiet_us, config.quiet_us),
            tally: Tally::default(),
        })
    }

    /// One client-to-server message: what it finds, if anything.
    fn request(&mut self, flow_id: u64, msg: &Message<'_>, now: Timestamp) -> Option<Finding> {
        let c = &self.config;
        match msg.command() {
            Command::NEGOTIATE if c.smbghost => {
                let offer = msg.negotiate_311()?;
                if offer.compression {
                    self.flows
                        .touch(flow_id, now, SmbFlow::default, |_, _| {})
                        .probe = true;
                }
                None
            }
            Command::SESSION_SETUP => {
                if let Some(f) = self.flows.get_mut(&flow_id) {
                    f.session = true;
                }
                None
            }
            Command::TREE_CONNECT if c.lateral_movement => {
                let path = msg.tree_connect_path()?;
                if smb2::is_admin_share(path) {
                    let f = self.flows.touch(flow_id, now, SmbFlow::default, |_, _| {});
                    let slot = usize::from(f.pending_count) % f.pending.len();
                    f.pending[slot] = msg.message_id();
                    f.pending_count = f.pending_count.saturating_add(1).min(4);
                }
                None
            }
            Command::CREATE if c.lateral_movement => {
                let name = msg.create_name()?;
                if let Some(&(_, bit)) = PIPES
                    .iter()
                    .find(|(pipe, _)| smb2::utf16_eq_ignore_case(name, pipe))
                {
                    self.flows
                        .touch(flow_id, now, SmbFlow::default, |_, _| {})
                        .pipes |= bit;
                    return None;
                }
                let f = self.flows.get(&flow_id)?;
                (f.is_admin_tree(msg.tree_id())
                    && EXECUTABLE_SUFFIXES
                        .iter()
                        .any(|s| smb2::utf16_ends_with_ignore_case(name, s)))
                .then_some(Finding::AdminShareExecutable)
            }
            Command::WRITE | Command::IOCTL if c.lateral_movement => {
                let f = self.flows.get(&flow_id)?;
                let data = msg.write_data().or_else(|| msg.ioctl_input())?;
                if msg.command() == Command::WRITE
                    && f.is_admin_tree(msg.tree_id())
                    && data.starts_with(b"MZ")
                {
                    return Some(Finding::AdminShareExecutable);
                }
                rpc_finding(f.pipes, smb2::dcerpc_request_opnum(data)?)
            }
            _ => None,
        }
    }

    /// One server-to-client message: a tree connect response naming an admin tree's id.
    fn response(&mut self, flow_id: u64, msg: &Message<'_>) {
        if msg.command() != Command::TREE_CONNECT || msg.status() != 0 {
            return;
        }
        let Some(f) = self.flows.get_mut(&flow_id) else {
            return;
        };
        let pending = usize::from(f.pending_count);
        if f.pending[..pending].contains(&msg.message_id()) {
            let slot = usize::from(f.admin_count) % f.admin_trees.len();
            f.admin_trees[slot] = msg.tree_id();
            f.admin_count = f.admin_count.saturating_add(1).min(4);
        }
    }

    fn alert(
        &mut self,
        m: &PacketMeta,
        client_to_server: bool,
        finding: Finding,
        what: String,
        now: Timestamp,
        out: &mut Vec<Alert>,
    ) {
        let (client, server, client_port, server_port) = if client_to_server {
            (m.src_addr, m.dst_addr, m.src_port, m.dst_port)
        } else {
            (m.dst_addr, m.src_addr, m.dst_port, m.src_port)
        };
        let (ep, ()) = self.clients.event((Addr(client), finding as u8), now);
        if !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let description = format!("{client} -> {server}:{server_port} over SMB: {what}.");
        out.push(
            AlertBuilder::new(NAME, now, finding.attack_type(), finding.severity(), &ep)
                .addrs(Some(client), Some(server))
                .ports(Some(client_port), Some(server_port))
                .protocol(IpProtocol::TCP)
                .score(if finding == Finding::GhostProbe {
                    0.7
                } else {
                    0.9
                })
                .meta("technique", finding.technique())
                .observed("finding", what)
                .threshold("quiet_us", self.config.quiet_us)
                .build(description),
        );
    }
}

fn describe(finding: Finding, msg: Option<&Message<'_>>) -> String {
    let opnum = msg
        .and_then(|m| m.write_data().or_else(|| m.ioctl_input()))
        .and_then(smb2::dcerpc_request_opnum);
    match (finding, opnum) {
        (Finding::ServiceCreation, Some(op)) => {
            format!("service control call (svcctl opnum {op}) that creates or starts a service")
        }
        (Finding::ScheduledJob, _) => "remote scheduled job added through \\atsvc".into(),
        (Finding::AccountChange, Some(op)) => {
            format!("account or group change through \\samr (opnum {op})")
        }
        (Finding::AdminShareExecutable, _) => {
            "executable written to an administrative share".into()
        }
        _ => finding.technique().replace('_', " "),
    }
}

impl Detector for SmbDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP_CONTROL | PacketInterest::TCP_DATA
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.flows, &self.clients])
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
        // Every SMB segment starts with a NetBIOS session message (type 0): most payloads end
        // here, on their first byte.
        if m.protocol != IpProtocol::TCP || ip.payload.first().is_some_and(|&b| b != 0) {
            return;
        }
        let Some(f) = flow else {
            return;
        };
        let forward = f.direction.is_forward();
        if ip.payload.is_empty() {
            // A client closing after offering compression, without a session: the probe.
            if forward && m.tcp_flags.0 & (TcpFlags::FIN | TcpFlags::RST) != 0 {
                let Some(state) = self.flows.get_mut(&f.flow_id) else {
                    return;
                };
                if state.probe && !state.session {
                    state.probe = false;
                    let now = self.clock.advance(m.ts);
                    let what = "SMB 3.1.1 compression offered, then the connection closed without a session (a CVE-2020-0796 probe)".to_string();
                    self.alert(m, true, Finding::GhostProbe, what, now, out);
                }
            }
            return;
        }
        if f.retransmission {
            return;
        }
        if smb2::starts_smb(ip.payload)
            && memchr::memmem::find(ip.payload, EICAR_SIGNATURE).is_some()
        {
            let now = self.clock.advance(m.ts);
            let what = "the EICAR anti-virus test file transferred".to_string();
            self.alert(m, forward, Finding::TestFile, what, now, out);
        }
        let Some(frame) = smb2::frame(ip.payload) else {
            return;
        };
        let now = self.clock.advance(m.ts);
        match frame {
            Frame::Compressed(t) => {
                if self.config.smbghost && t.overflows() {
                    let what = format!(
                        "compression transform with original size {} and offset {} (CVE-2020-0796)",
                        t.original_size, t.offset
                    );
                    self.alert(m, forward, Finding::GhostOverflow, what, now, out);
                }
            }
            Frame::Messages(msgs) => {
                for msg in msgs {
                    if msg.is_response() {
                        self.response(f.flow_id, &msg);
                    } else if let Some(finding) = self.request(f.flow_id, &msg, now) {
                        let what = describe(finding, Some(&msg));
                        self.alert(m, true, finding, what, now, out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_findings_need_their_pipe() {
        assert_eq!(rpc_finding(1, 12), Some(Finding::ServiceCreation));
        assert_eq!(rpc_finding(0, 12), None, "no svcctl pipe opened");
        assert_eq!(rpc_finding(1, 15), None, "OpenSCManagerW alone");
        assert_eq!(rpc_finding(2, 0), Some(Finding::ScheduledJob));
        assert_eq!(rpc_finding(4, 50), Some(Finding::AccountChange));
        assert_eq!(rpc_finding(4, 64), None, "SamrConnect5");
    }

    #[test]
    fn config_checks() {
        assert!(SmbConfig::default().check().is_ok());
        let bad = SmbConfig {
            flow_idle_us: 0,
            ..SmbConfig::default()
        };
        assert!(bad.check().is_err());
    }
}
