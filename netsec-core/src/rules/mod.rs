//! The Suricata/Snort-compatible rule engine (`RULES.md`, first tier).
//!
//! Text moves through three stages:
//!
//! 1. [`parse_rules`] / [`parse_rule`]: text → [`Rule`] AST. Comments, blank lines and `\`
//!    continuations are handled; a malformed rule becomes a [`ParseError`] naming its line.
//!    `Display` on a [`Rule`] prints rule text that parses back to the same value.
//! 2. [`RuleSet::from_text`]: variables ([`RuleVars`]) resolved, contents, `pcre` and typed
//!    comparisons compiled once, and the rules grouped as Suricata groups signatures: content
//!    rules by transport, flow direction and application protocol, each group with one
//!    multi-literal filter over its rules' fast patterns (sampled 4-byte anchors in a
//!    cache-resident bitset, verified exactly; see `literals.rs` for the design and why it
//!    replaced an Aho-Corasick pass, and `prefilter.rs` for the groups). Loading never fails
//!    as a whole: malformed rules and rules using unsupported keywords or protocols are
//!    skipped, each with a [`RuleWarning`] naming its line, `sid` and keyword, counted in the
//!    [`RuleSetSummary`].
//! 3. [`RuleDetector`]: a [`Detector`](crate::detect::Detector) that runs the set on every
//!    packet. Per packet only the candidate rules are evaluated: those of the packet's group
//!    whose fast pattern occurs in the payload (one filter pass; a fast pattern bounded by
//!    `depth` to the first bytes is looked for only there), plus content-less rules of the
//!    packet's protocol and destination port. Nothing is allocated per packet unless an
//!    alert fires.
//!
//! Second tier, application layer: `dns`, `tls`, `http`, `ssh`, `dhcp` and `quic` in the
//! header match packets of flows the flow table recognised as that protocol
//! ([`FlowContext::app_proto`](crate::flow::FlowContext::app_proto), decided from the
//! payload); the sticky buffers (`dns.query`, `tls.sni`, `http.host`, `http.uri`,
//! `http.user_agent`, `http.method`, `ssh.proto`, `ssh.software`, the fingerprints and the
//! other HTTP buffers; `pkt_data` returns to the payload) make the
//! `content`/`pcre` after them inspect that field of the packet ([`StickyBuffer`]), parsed from
//! that packet only when a candidate rule needs it.
//!
//! ```
//! use netsec_core::rules::{RuleSet, RuleVars};
//!
//! let text = r#"
//! ## a comment
//! alert tcp any any -> any 80 (msg:"evil"; content:"GET /evil"; nocase; sid:1; rev:1;)
//! alert smb any any -> any any (msg:"app layer"; content:"x"; sid:2;)
//! alert tcp any any -> any any (msg:"broken"; content:"|4|"; sid:3;)
//! "#;
//! let set = RuleSet::from_text(text, &RuleVars::default());
//! let summary = set.summary();
//! assert_eq!((summary.loaded, summary.skipped), (1, 2));
//! assert_eq!(
//!     summary.to_string(),
//!     "1 rules loaded, 2 skipped (by keyword: protocol:smb 1; malformed 1)"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod addr_index;
mod addr_set;
mod ast;
mod buffers;
mod certs;
mod compile;
mod dataset;
#[cfg(test)]
mod equivalence;
mod http_buffers;
mod literals;
mod matcher;
mod parse;
mod prefilter;
#[cfg(test)]
mod proptests;
mod rate;
mod requires;
mod ssh_kexinit;
mod state;
mod threshold_config;
mod transform;
mod vars;

pub use ast::{
    Action, AddrSpec, ByteJump, ByteOp, ByteRead, ByteTest, Content, FlagsModifier, FlagsSpec,
    FlowOption, Flowbits, FlowbitsCommand, Flowint, FlowintOp, IpNet, IsDataAt, JumpFrom, Pcre,
    PortSpec, Protocol, Rule, RuleDirection, RuleOption, StickyBuffer, Threshold, ThresholdType,
    Track, Transform, UintCmp, Xbits, XbitsTrack,
};
pub use matcher::{
    MidstreamPolicy, RuleDetector, RuleDetectorConfig, RuleStats, DEFAULT_PACKET_ALERT_MAX,
};
pub use parse::{
    display_round_trips, parse_rule, parse_rules, ParseError, ParseErrorKind, ParsedLine,
};
pub use threshold_config::{
    AlertFilter, FilterStats, RateAction, ThresholdConfig, ThresholdConfigError, MAX_FILTER_ENTRIES,
};
pub use vars::{
    classtype_description, classtype_priority, RuleVars, CLASSIFICATIONS, CRITICAL_CLASSTYPES,
};

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use compile::{compile_rule, CompileOutcome, CompiledRule};
use dataset::DatasetDef;
pub use dataset::MAX_DATASET_ENTRIES;
use prefilter::Prefilter;

/// Why one rule was skipped at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The text does not parse.
    Malformed(ParseError),
    /// Every keyword, protocol or flag of the rule we do not support, in rule order
    /// (`http_client_body`, `protocol:smb`, `flow:only_stream`, `pcre flag P`, `pcre (not
    /// translatable …)`).
    Unsupported(Vec<String>),
    /// The rule parses but cannot be compiled (e.g. an undefined variable).
    Invalid(String),
    /// Its `requires:` asks for a Suricata version, feature or keyword this engine does not
    /// provide (checked first, as Suricata does: the rest is not parsed).
    Requirement(String),
}

/// One skipped rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleWarning {
    /// First line of the rule in its file (1-based; 0 for rules not from text).
    pub line: usize,
    /// The rule's `sid`, when it could be found.
    pub sid: Option<u64>,
    /// Why it was skipped.
    pub reason: SkipReason,
}

impl fmt::Display for RuleWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match self.sid {
            Some(s) => write!(f, "rule sid {s} skipped: ")?,
            None => write!(f, "rule skipped: ")?,
        }
        match &self.reason {
            SkipReason::Malformed(e) => write!(f, "malformed: {}", e.kind),
            SkipReason::Unsupported(k) => {
                let plural = if k.len() == 1 { "" } else { "s" };
                let names: Vec<String> = k.iter().map(|k| format!("`{k}`")).collect();
                write!(f, "unsupported keyword{plural} {}", names.join(", "))
            }
            SkipReason::Invalid(why) | SkipReason::Requirement(why) => write!(f, "{why}"),
        }
    }
}

/// What loading a rule file did: `N rules loaded, M skipped (by keyword: …)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSetSummary {
    /// Rules compiled and active.
    pub loaded: usize,
    /// Rules skipped for any reason.
    pub skipped: usize,
    /// Skipped rules per unsupported keyword (sorted by keyword; a rule using several is
    /// counted under each).
    pub by_keyword: BTreeMap<String, usize>,
    /// Skipped rules that did not parse.
    pub malformed: usize,
    /// Skipped rules that parsed but could not be compiled (undefined variable …).
    pub invalid: usize,
    /// Skipped rules whose `requires:` is not met.
    pub unmet_requirements: usize,
    /// One warning per skipped rule, in file order.
    pub warnings: Vec<RuleWarning>,
}

impl fmt::Display for RuleSetSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rules loaded, {} skipped", self.loaded, self.skipped)?;
        if self.skipped == 0 {
            return Ok(());
        }
        f.write_str(" (by keyword: ")?;
        let mut parts: Vec<String> = self
            .by_keyword
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if self.malformed > 0 {
            parts.push(format!("malformed {}", self.malformed));
        }
        if self.invalid > 0 {
            parts.push(format!("invalid {}", self.invalid));
        }
        if self.unmet_requirements > 0 {
            parts.push(format!("requires {}", self.unmet_requirements));
        }
        write!(f, "{})", parts.join("; "))
    }
}

/// A compiled, ready-to-run set of rules plus the summary of loading it.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    prefilter: Prefilter,
    summary: RuleSetSummary,
    /// The `dataset` sets the rules name, with their starting values.
    datasets: Vec<DatasetDef>,
    /// A rule reads a certificate buffer: TLS flows' certificate chains are collected.
    uses_certificates: bool,
    /// A rule reads a HASSH buffer: KEXINITs spanning segments are collected.
    uses_hassh: bool,
    /// Flowbits that tag a flow's traffic for EVE (`traffic/id/<x>`, `traffic/label/<x>`):
    /// their id, whether a label, and `<x>`.
    traffic_tags: Vec<(u32, bool, String)>,
}

/// Best-effort `sid` of a rule that did not parse.
fn scrape_sid(text: &str) -> Option<u64> {
    let at = text.find("sid:")?;
    let digits: String = text[at + 4..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

impl RuleSet {
    /// Loads every rule in a rule file. Never fails: see [`RuleSet::summary`] for what was
    /// skipped and why.
    /// Relative `dataset` files are read from the working directory; see
    /// [`RuleSet::from_sources`].
    pub fn from_text(text: &str, vars: &RuleVars) -> RuleSet {
        RuleSet::from_sources(text, vars, &[])
    }

    /// [`from_text`](Self::from_text) for a text joined from several rule files:
    /// `sources` gives, for each, its first line in `text` and its directory, against which
    /// its rules' relative `dataset` files are read (as Suricata reads them beside the rule
    /// file). A dataset file that cannot be read or parsed skips the rules naming it, with a
    /// warning naming the file and line.
    pub fn from_sources(text: &str, vars: &RuleVars, sources: &[(usize, PathBuf)]) -> RuleSet {
        let mut builder = Builder {
            sources,
            ..Builder::default()
        };
        for pl in parse_rules(text) {
            if let Some(why) = requires::unmet(&pl.text) {
                builder.skip(pl.line, scrape_sid(&pl.text), SkipReason::Requirement(why));
                continue;
            }
            match pl.result {
                Ok(rule) => builder.add(pl.line, &rule, vars),
                Err(e) => builder.skip(pl.line, scrape_sid(&pl.text), SkipReason::Malformed(e)),
            }
        }
        builder.finish()
    }

    /// Compiles already-parsed rules (warnings carry line 0).
    pub fn from_rules<'a>(rules: impl IntoIterator<Item = &'a Rule>, vars: &RuleVars) -> RuleSet {
        let mut builder = Builder::default();
        for rule in rules {
            builder.add(0, rule, vars);
        }
        builder.finish()
    }

    /// Removes the own `threshold` keyword of every rule that `config` gives a threshold of
    /// its own (a `threshold`/`event_filter` entry naming its gid and sid), as Suricata does;
    /// returns how many rules changed.
    pub fn apply_threshold_config(&mut self, config: &ThresholdConfig) -> usize {
        let mut changed = 0;
        for r in &mut self.rules {
            if r.threshold.is_some() && config.overrides_rule_threshold(r.gid, r.sid) {
                r.threshold = None;
                changed += 1;
            }
        }
        changed
    }

    /// What loading did.
    pub fn summary(&self) -> &RuleSetSummary {
        &self.summary
    }

    /// Number of active rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rule is active.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The active rules, in evaluation order: file order, except that rules reading
    /// `flowbits` come after the rules that only write them.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|r| &r.rule)
    }

    /// The active rule with this `gid` (1 when the rule gives none) and `sid`: the first
    /// in file order, as alerts name it. A linear walk, meant for looking one rule up (an
    /// alert's detail), not for every packet.
    pub fn find(&self, gid: u64, sid: u64) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.sid == sid && r.gid == gid)
            .map(|r| &r.rule)
    }
}

#[derive(Default)]
struct Builder<'s> {
    rules: Vec<CompiledRule>,
    summary: RuleSetSummary,
    /// (first line, directory) of each rule file in the text.
    sources: &'s [(usize, PathBuf)],
    datasets: Vec<DatasetDef>,
}

impl Builder<'_> {
    fn add(&mut self, line: usize, rule: &Rule, vars: &RuleVars) {
        match compile_rule(rule, vars) {
            Ok(mut c) => match self.bind_datasets(line, &mut c) {
                Ok(()) => self.rules.push(c),
                Err(why) => self.skip(line, rule.sid(), SkipReason::Invalid(why)),
            },
            Err(CompileOutcome::Unsupported(k)) => {
                self.skip(line, rule.sid(), SkipReason::Unsupported(k))
            }
            Err(CompileOutcome::Invalid(why)) => {
                self.skip(line, rule.sid(), SkipReason::Invalid(why))
            }
        }
    }

    /// Gives each `dataset` command of `c` its set's id, defining the set (and reading its
    /// file) at its first mention.
    fn bind_datasets(&mut self, line: usize, c: &mut CompiledRule) -> Result<(), String> {
        for op in &mut c.datasets {
            let d = &op.dataset;
            if let Some(at) = self.datasets.iter().position(|s| s.name == d.name) {
                if self.datasets[at].kind != d.kind {
                    return Err(format!(
                        "dataset {} is of type {} in an earlier rule",
                        d.name,
                        self.datasets[at].kind.as_str()
                    ));
                }
                op.id = at as u32;
                continue;
            }
            let mut values: std::collections::HashMap<Box<[u8]>, u32, _> = Default::default();
            if let Some(file) = &d.load {
                let dir = self
                    .sources
                    .iter()
                    .rev()
                    .find(|(first, _)| *first <= line)
                    .map_or(Path::new("."), |(_, dir)| dir.as_path());
                values.extend(dataset::load(&dir.join(file), d.kind)?);
            }
            op.id = self.datasets.len() as u32;
            self.datasets.push(DatasetDef {
                name: d.name.clone(),
                kind: d.kind,
                values,
            });
        }
        Ok(())
    }

    fn skip(&mut self, line: usize, sid: Option<u64>, reason: SkipReason) {
        let s = &mut self.summary;
        s.skipped += 1;
        match &reason {
            SkipReason::Malformed(_) => s.malformed += 1,
            SkipReason::Unsupported(keywords) => {
                for k in keywords {
                    *s.by_keyword.entry(k.clone()).or_default() += 1;
                }
            }
            SkipReason::Invalid(_) => s.invalid += 1,
            SkipReason::Requirement(_) => s.unmet_requirements += 1,
        }
        s.warnings.push(RuleWarning { line, sid, reason });
    }

    fn finish(mut self) -> RuleSet {
        self.summary.loaded = self.rules.len();
        // Flowbit names → ids, and rules that read bits after those that only write them,
        // so a bit set by one rule is seen by another on the same packet (Suricata's
        // signature ordering). The sort is stable: otherwise file order.
        let mut names: std::collections::HashMap<String, u32> = Default::default();
        for r in &mut self.rules {
            for op in &mut r.state {
                for (name, id) in op.names_mut() {
                    let next = names.len() as u32;
                    *id = *names.entry(name.clone()).or_insert(next);
                }
            }
        }
        self.rules.sort_by_key(|r| {
            let reads = r.state.iter().any(|b| b.reads());
            let writes = r.state.iter().any(|b| !b.reads());
            match (reads, writes) {
                (false, _) => 0u8,
                (true, true) => 1,
                (true, false) => 2,
            }
        });
        let uses_hassh = self.rules.iter().any(|r| {
            r.buffers.iter().any(|b| {
                matches!(
                    b,
                    StickyBuffer::SshHassh
                        | StickyBuffer::SshHasshString
                        | StickyBuffer::SshHasshServer
                        | StickyBuffer::SshHasshServerString
                )
            })
        });
        let mut traffic_tags: Vec<(u32, bool, String)> = names
            .iter()
            .filter_map(|(name, &id)| {
                if let Some(x) = name.strip_prefix("traffic/id/") {
                    Some((id, false, x.to_string()))
                } else {
                    let x = name.strip_prefix("traffic/label/")?;
                    Some((id, true, x.to_string()))
                }
            })
            .collect();
        traffic_tags.sort();
        let prefilter = Prefilter::build(&self.rules);
        let uses_certificates = self.rules.iter().any(|r| {
            r.buffers.iter().any(|b| b.is_certificate())
                || r.fields
                    .iter()
                    .any(|(f, _)| *f == ast::PacketField::TlsCertChainLen)
        });
        RuleSet {
            rules: self.rules,
            prefilter,
            summary: self.summary,
            datasets: self.datasets,
            uses_certificates,
            uses_hassh,
            traffic_tags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_and_warnings() {
        let text = "alert tcp any any -> any any (content:\"a\"; http_client_body; sid:10;)\n\
                    alert tcp any any -> any any (content:\"b\"; http_client_body; sid:11;)\n\
                    alert smb any any -> any any (sid:12;)\n\
                    alert tcp $NOPE any -> any any (sid:13;)\n\
                    alert tcp any any -> any any (content:\"|zz|\"; sid:14;)\n\
                    alert tcp any any -> any any (content:\"ok\"; sid:15;)\n";
        let set = RuleSet::from_text(text, &RuleVars::default());
        let s = set.summary();
        assert_eq!(s.loaded, 1);
        assert_eq!(s.skipped, 5);
        assert_eq!(s.by_keyword.get("http_client_body"), Some(&2));
        assert_eq!(
            s.to_string(),
            "1 rules loaded, 5 skipped (by keyword: http_client_body 2; protocol:smb 1; malformed 1; invalid 1)"
        );
        assert_eq!(
            s.warnings[0].to_string(),
            "line 1: rule sid 10 skipped: unsupported keyword `http_client_body`"
        );
        assert_eq!(s.warnings[4].sid, Some(14));
        assert!(
            s.warnings[4]
                .to_string()
                .starts_with("line 5: rule sid 14 skipped: malformed: invalid value for content"),
            "{}",
            s.warnings[4]
        );
        assert_eq!(set.rules().next().and_then(Rule::sid), Some(15));
        let two = RuleSet::from_text(
            "alert tcp any any -> any any (content:\"a\"; filesize:<5; http_client_body; filesize:>6; sid:16;)",
            &RuleVars::default(),
        );
        assert_eq!(
            two.summary().warnings[0].to_string(),
            "line 1: rule sid 16 skipped: unsupported keywords `filesize`, `http_client_body`"
        );
        assert_eq!(
            two.summary().to_string(),
            "0 rules loaded, 1 skipped (by keyword: filesize 1; http_client_body 1)"
        );
        let found = set.find(1, 15).map(ToString::to_string);
        assert_eq!(
            found.as_deref(),
            Some("alert tcp any any -> any any (content:\"ok\"; sid:15;)")
        );
        assert!(set.find(1, 10).is_none(), "skipped rules are not found");
        assert!(set.find(2, 15).is_none(), "the gid counts");
        let clean = RuleSet::from_text("", &RuleVars::default());
        assert!(clean.is_empty());
        assert_eq!(clean.summary().to_string(), "0 rules loaded, 0 skipped");
    }
}
