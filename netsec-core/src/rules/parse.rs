//! Rule text → [`Rule`] AST.
//!
//! [`parse_rule`] parses one rule; [`parse_rules`] walks a rule file, skipping comments and
//! blank lines, joining `\` continuations, and reporting each rule with its first line number.
//! Parsing never panics, whatever the input (the `rule_parse` fuzz target checks this and that
//! `parse_rule(&rule.to_string())` gives the same rule back).

use std::net::IpAddr;

use super::ast::*;
use crate::app::AppProto;

/// What is wrong with a rule's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// No `(` … `)` option section.
    #[error("missing option section in parentheses")]
    MissingOptions,
    /// Text after the closing parenthesis.
    #[error("unexpected text after the closing parenthesis")]
    TrailingText,
    /// The header does not have 7 parts.
    #[error("header needs 7 parts (action proto src sport dir dst dport), found {0}")]
    HeaderParts(usize),
    /// Unknown action.
    #[error("unknown action {0:?}")]
    Action(String),
    /// Bad protocol name.
    #[error("invalid protocol {0:?}")]
    Protocol(String),
    /// Bad direction.
    #[error("invalid direction {0:?} (expected -> or <>)")]
    Direction(String),
    /// Bad address.
    #[error("invalid address {0:?}")]
    Address(String),
    /// Bad port.
    #[error("invalid port {0:?}")]
    Port(String),
    /// A quote was not closed.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A bad option keyword.
    #[error("invalid option keyword {0:?}")]
    Keyword(String),
    /// An option value that does not parse.
    #[error("invalid value for {keyword}: {reason}")]
    Value {
        /// The keyword.
        keyword: String,
        /// Why.
        reason: String,
    },
    /// A content modifier with no content before it.
    #[error("{0} without a preceding content")]
    OrphanModifier(String),
    /// The rule has no `sid`.
    #[error("missing sid")]
    MissingSid,
}

/// A rule that could not be parsed, with the line it starts on (1-based; 0 when parsing a
/// lone rule string).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// First line of the rule (1-based), 0 when unknown.
    pub line: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

type PResult<T> = Result<T, ParseErrorKind>;

fn value_err(keyword: &str, reason: impl Into<String>) -> ParseErrorKind {
    ParseErrorKind::Value {
        keyword: keyword.to_string(),
        reason: reason.into(),
    }
}

/// One rule from a rule file: its first line number and the parse result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// First line of the rule (1-based).
    pub line: usize,
    /// The rule text, continuations joined.
    pub text: String,
    /// The rule, or why it could not be parsed.
    pub result: Result<Rule, ParseError>,
}

/// Parses every rule in a rule file: comments (`#`) and blank lines are skipped and lines ending
/// in `\` are joined with the next one. One entry per rule, in file order.
pub fn parse_rules(text: &str) -> Vec<ParsedLine> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end_matches('\r');
        if pending.is_empty() {
            let t = line.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            start = line_no;
        }
        let trimmed = line.trim_end();
        if let Some(body) = trimmed.strip_suffix('\\') {
            pending.push_str(body);
            continue;
        }
        pending.push_str(line);
        let text = std::mem::take(&mut pending);
        let result = parse_rule(&text).map_err(|mut e| {
            e.line = start;
            e
        });
        out.push(ParsedLine {
            line: start,
            text,
            result,
        });
    }
    if !pending.is_empty() {
        let result = parse_rule(&pending).map_err(|mut e| {
            e.line = start;
            e
        });
        out.push(ParsedLine {
            line: start,
            text: pending,
            result,
        });
    }
    out
}

/// Parses one rule.
///
/// # Errors
/// [`ParseError`] (with `line` 0) naming what is wrong.
pub fn parse_rule(text: &str) -> Result<Rule, ParseError> {
    parse_inner(text).map_err(|kind| ParseError { line: 0, kind })
}

/// Whether `text`, if it parses as a rule, prints back to text that parses to the same rule
/// (`true` when `text` does not parse at all). The check behind the `rule_parse` fuzz target
/// and the round-trip property tests.
pub fn display_round_trips(text: &str) -> bool {
    match parse_rule(text) {
        Ok(rule) => parse_rule(&rule.to_string()).as_ref() == Ok(&rule),
        Err(_) => true,
    }
}

impl std::str::FromStr for Rule {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Rule, ParseError> {
        parse_rule(s)
    }
}

fn parse_inner(text: &str) -> PResult<Rule> {
    let open = text.find('(').ok_or(ParseErrorKind::MissingOptions)?;
    let close = text.rfind(')').ok_or(ParseErrorKind::MissingOptions)?;
    if close < open {
        return Err(ParseErrorKind::MissingOptions);
    }
    if !text[close + 1..].trim().is_empty() {
        return Err(ParseErrorKind::TrailingText);
    }
    let header = split_header(&text[..open])?;
    if header.len() != 7 {
        return Err(ParseErrorKind::HeaderParts(header.len()));
    }
    let action = match header[0] {
        "alert" => Action::Alert,
        "drop" => Action::Drop,
        "reject" => Action::Reject,
        "rejectsrc" => Action::RejectSrc,
        "rejectdst" => Action::RejectDst,
        "rejectboth" => Action::RejectBoth,
        "pass" => Action::Pass,
        other => return Err(ParseErrorKind::Action(other.to_string())),
    };
    let protocol = match header[1] {
        "ip" => Protocol::Ip,
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "icmp" => Protocol::Icmp,
        "icmpv6" => Protocol::Icmpv6,
        "sctp" => Protocol::Sctp,
        "ipv4" | "ip4" => Protocol::Ipv4,
        "ipv6" | "ip6" => Protocol::Ipv6,
        other if app_protocol(other).is_some() => {
            Protocol::App(app_protocol(other).unwrap_or_default())
        }
        other
            if !other.is_empty()
                && other
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && other.bytes().any(|b| b.is_ascii_alphabetic()) =>
        {
            Protocol::Other(other.to_string())
        }
        other => return Err(ParseErrorKind::Protocol(other.to_string())),
    };
    let src = parse_addr(header[2])?;
    let src_ports = parse_port(header[3])?;
    let direction = match header[4] {
        "->" => RuleDirection::OneWay,
        "<>" => RuleDirection::Both,
        other => return Err(ParseErrorKind::Direction(other.to_string())),
    };
    let dst = parse_addr(header[5])?;
    let dst_ports = parse_port(header[6])?;
    let options = parse_options(&text[open + 1..close])?;
    let rule = Rule {
        action,
        protocol,
        src,
        src_ports,
        direction,
        dst,
        dst_ports,
        options,
    };
    if rule.sid().is_none() {
        return Err(ParseErrorKind::MissingSid);
    }
    Ok(rule)
}

/// Splits the header on whitespace outside `[...]`, removing whitespace inside lists.
fn split_header(h: &str) -> PResult<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start: Option<usize> = None;
    for (i, c) in h.char_indices() {
        match c {
            '[' => {
                depth += 1;
                start.get_or_insert(i);
            }
            ']' => {
                depth -= 1;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && depth <= 0 => {
                if let Some(s) = start.take() {
                    parts.push(&h[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        parts.push(&h[s..]);
    }
    Ok(parts)
}

/// Splits a list body on commas at depth 0.
fn split_list(s: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    out.push(s[start..].trim());
    Some(out)
}

fn is_var_name(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

const MAX_NESTING: usize = 16;

/// Parses an address spec (`any`, literal, CIDR, `$VAR`, `[list]`, `!x`).
pub(crate) fn parse_addr(s: &str) -> PResult<AddrSpec> {
    parse_addr_depth(s.trim(), 0)
}

fn parse_addr_depth(s: &str, depth: usize) -> PResult<AddrSpec> {
    let bad = || ParseErrorKind::Address(s.to_string());
    if depth > MAX_NESTING {
        return Err(bad());
    }
    if let Some(rest) = s.strip_prefix('!') {
        return Ok(AddrSpec::Not(Box::new(parse_addr_depth(
            rest.trim(),
            depth + 1,
        )?)));
    }
    if let Some(body) = s.strip_prefix('[') {
        let body = body.strip_suffix(']').ok_or_else(bad)?;
        let items = split_list(body).ok_or_else(bad)?;
        let mut list = Vec::with_capacity(items.len());
        for it in items {
            if it.is_empty() {
                return Err(bad());
            }
            list.push(parse_addr_depth(it, depth + 1)?);
        }
        return Ok(AddrSpec::List(list));
    }
    if s == "any" {
        return Ok(AddrSpec::Any);
    }
    if let Some(v) = s.strip_prefix('$') {
        return if is_var_name(v) {
            Ok(AddrSpec::Var(v.to_string()))
        } else {
            Err(bad())
        };
    }
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let full = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => full,
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let n: u8 = p.parse().map_err(|_| bad())?;
            if n > full {
                return Err(bad());
            }
            n
        }
    };
    Ok(AddrSpec::Net(IpNet { addr, prefix }))
}

/// Parses a port spec.
pub(crate) fn parse_port(s: &str) -> PResult<PortSpec> {
    parse_port_depth(s.trim(), 0)
}

fn parse_port_num(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_port_depth(s: &str, depth: usize) -> PResult<PortSpec> {
    let bad = || ParseErrorKind::Port(s.to_string());
    if depth > MAX_NESTING {
        return Err(bad());
    }
    if let Some(rest) = s.strip_prefix('!') {
        return Ok(PortSpec::Not(Box::new(parse_port_depth(
            rest.trim(),
            depth + 1,
        )?)));
    }
    if let Some(body) = s.strip_prefix('[') {
        let body = body.strip_suffix(']').ok_or_else(bad)?;
        let items = split_list(body).ok_or_else(bad)?;
        let mut list = Vec::with_capacity(items.len());
        for it in items {
            if it.is_empty() {
                return Err(bad());
            }
            list.push(parse_port_depth(it, depth + 1)?);
        }
        return Ok(PortSpec::List(list));
    }
    if s == "any" {
        return Ok(PortSpec::Any);
    }
    if let Some(v) = s.strip_prefix('$') {
        return if is_var_name(v) {
            Ok(PortSpec::Var(v.to_string()))
        } else {
            Err(bad())
        };
    }
    if let Some((a, b)) = s.split_once(':') {
        let lo = if a.is_empty() {
            None
        } else {
            Some(parse_port_num(a).ok_or_else(bad)?)
        };
        let hi = if b.is_empty() {
            None
        } else {
            Some(parse_port_num(b).ok_or_else(bad)?)
        };
        if lo.is_none() && hi.is_none() {
            return Err(bad());
        }
        if let (Some(l), Some(h)) = (lo, hi) {
            if l > h {
                return Err(bad());
            }
        }
        return Ok(PortSpec::Range(lo, hi));
    }
    parse_port_num(s).map(PortSpec::Port).ok_or_else(bad)
}

fn push_option<'a>(out: &mut Vec<(&'a str, Option<&'a str>)>, piece: &'a str) -> PResult<()> {
    let piece = piece.trim();
    if piece.is_empty() {
        return Ok(());
    }
    let (kw, val) = match piece.split_once(':') {
        Some((k, v)) => (k.trim(), Some(v.trim())),
        None => (piece, None),
    };
    if kw.is_empty()
        || !kw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(ParseErrorKind::Keyword(kw.to_string()));
    }
    out.push((kw, val));
    Ok(())
}

/// Splits the option section into (keyword, raw value) pairs on unescaped `;` outside quotes.
/// Splits the option section as Suricata does: an option ends at the first `;` not escaped
/// with a backslash, quotes or not (so a `"` inside a `pcre`, which Suricata accepts, does not
/// swallow the rest of the rule; a `;` inside a value must be written `\;`).
fn split_options(s: &str) -> PResult<Vec<(&str, Option<&str>)>> {
    let mut out = Vec::new();
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            ';' => {
                push_option(&mut out, &s[start..i])?;
                start = i + 1;
            }
            _ => {}
        }
    }
    if escaped {
        return Err(ParseErrorKind::UnterminatedQuote);
    }
    push_option(&mut out, &s[start..])?;
    Ok(out)
}

/// Removes one level of backslash escaping.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A string value: quoted (escapes removed) or bare.
fn string_value(kw: &str, v: Option<&str>) -> PResult<String> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| value_err(kw, "unbalanced quotes"))?;
        if ends_with_odd_backslashes(inner) {
            return Err(value_err(kw, "unbalanced quotes"));
        }
        Ok(unescape(inner))
    } else {
        Ok(unescape(v))
    }
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

fn number<T: std::str::FromStr>(kw: &str, v: Option<&str>) -> PResult<T> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(value_err(kw, format!("{v:?} is not a number")));
    }
    v.parse()
        .map_err(|_| value_err(kw, format!("{v:?} is out of range")))
}

fn signed(kw: &str, v: Option<&str>) -> PResult<i32> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(value_err(kw, format!("{v:?} is not a number")));
    }
    v.parse()
        .map_err(|_| value_err(kw, format!("{v:?} is out of range")))
}

/// Decodes a content string body: `|hex|` blocks and backslash escapes.
fn content_bytes(kw: &str, inner: &str) -> PResult<Vec<u8>> {
    let mut out = Vec::with_capacity(inner.len());
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'|' => {
                let end = inner[i + 1..]
                    .find('|')
                    .ok_or_else(|| value_err(kw, "unterminated |hex| block"))?
                    + i
                    + 1;
                let mut hi: Option<u8> = None;
                for c in inner[i + 1..end].chars() {
                    if c.is_whitespace() {
                        continue;
                    }
                    let d = c
                        .to_digit(16)
                        .ok_or_else(|| value_err(kw, format!("{c:?} in |hex| block")))?
                        as u8;
                    match hi.take() {
                        None => hi = Some(d),
                        Some(h) => out.push(h << 4 | d),
                    }
                }
                if hi.is_some() {
                    return Err(value_err(kw, "odd number of hex digits"));
                }
                i = end + 1;
            }
            b'\\' => {
                let rest = &inner[i + 1..];
                let c = rest
                    .chars()
                    .next()
                    .ok_or_else(|| value_err(kw, "dangling backslash"))?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i += 1 + c.len_utf8();
            }
            _ => {
                let c = inner[i..].chars().next().unwrap_or('\0');
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i += c.len_utf8().max(1);
            }
        }
    }
    Ok(out)
}

/// Splits an optional `!` and a quoted body.
fn negated_quoted<'a>(kw: &str, v: Option<&'a str>) -> PResult<(bool, &'a str)> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let (neg, rest) = match v.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, v),
    };
    let inner = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| value_err(kw, "expected a quoted string"))?;
    if ends_with_odd_backslashes(inner) {
        return Err(value_err(kw, "unbalanced quotes"));
    }
    Ok((neg, inner))
}

/// Parses a typed comparison (`N`, `!N`, `<N`, `<=N`, `>N`, `>=N`, `a<>b`, `a-b`, `!a-b`).
pub(crate) fn parse_uint(kw: &str, v: Option<&str>, max: u64) -> PResult<UintCmp> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let num = |s: &str| -> PResult<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(value_err(kw, format!("{v:?} is not a comparison")));
        }
        let n: u64 = s
            .parse()
            .map_err(|_| value_err(kw, format!("{s:?} is out of range")))?;
        if n > max {
            return Err(value_err(kw, format!("{n} is larger than {max}")));
        }
        Ok(n)
    };
    let range = |s: &str| -> PResult<Option<(u64, u64)>> {
        let split = s.split_once("<>").or_else(|| s.split_once('-'));
        match split {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a >= b {
                    return Err(value_err(kw, format!("empty range {a}-{b}")));
                }
                Ok(Some((a, b)))
            }
            None => Ok(None),
        }
    };
    let c = if let Some(r) = v.strip_prefix("<=") {
        UintCmp::Le(num(r)?)
    } else if let Some(r) = v.strip_prefix(">=") {
        UintCmp::Ge(num(r)?)
    } else if let Some(r) = v.strip_prefix('<') {
        UintCmp::Lt(num(r)?)
    } else if let Some(r) = v.strip_prefix('>') {
        UintCmp::Gt(num(r)?)
    } else if let Some(r) = v.strip_prefix('!') {
        match range(r)? {
            Some((a, b)) => UintCmp::NotRange(a, b),
            None => UintCmp::Ne(num(r)?),
        }
    } else {
        match range(v)? {
            Some((a, b)) => UintCmp::Range(a, b),
            None => UintCmp::Eq(num(v)?),
        }
    };
    Ok(c)
}

fn flag_bits(kw: &str, s: &str) -> PResult<u8> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(value_err(kw, "no flags given"));
    }
    let mut bits = 0u8;
    for c in s.chars() {
        let b = match c.to_ascii_uppercase() {
            '1' => 0x80,
            '2' => 0x40,
            u => FLAG_LETTERS
                .iter()
                .find(|(l, _)| *l == u)
                .map(|(_, b)| *b)
                .ok_or_else(|| value_err(kw, format!("unknown flag {c:?}")))?,
        };
        bits |= b;
    }
    Ok(bits)
}

/// The sticky buffer a Snort-style content modifier (`http_uri` …) puts its content in.
fn legacy_buffer(kw: &str) -> StickyBuffer {
    match kw {
        "http_raw_uri" => StickyBuffer::HttpUriRaw,
        "http_header" => StickyBuffer::HttpHeader,
        "http_method" => StickyBuffer::HttpMethod,
        "http_cookie" => StickyBuffer::HttpCookie,
        "http_user_agent" => StickyBuffer::HttpUserAgent,
        "http_host" => StickyBuffer::HttpHost,
        "http_stat_code" => StickyBuffer::HttpStatCode,
        "http_stat_msg" => StickyBuffer::HttpStatMsg,
        _ => StickyBuffer::HttpUri,
    }
}

/// A content modifier of the older syntax (`content:"x"; http_uri;`) moves the last content
/// into its buffer: written as the sticky buffer before it and the buffer in force again
/// after it, so the rule reads (and prints) the same in the newer syntax.
fn legacy_buffer_modifier(opts: &mut Vec<RuleOption>, kw: &str) -> PResult<()> {
    let at = opts
        .iter()
        .rposition(|o| matches!(o, RuleOption::Content(_)))
        .ok_or_else(|| ParseErrorKind::OrphanModifier(kw.to_string()))?;
    let buffer = legacy_buffer(kw);
    let current = opts[..at]
        .iter()
        .rev()
        .find_map(|o| match o {
            RuleOption::Buffer(b) => Some(*b),
            _ => None,
        })
        .unwrap_or(StickyBuffer::PktData);
    if current != buffer {
        opts.insert(at, RuleOption::Buffer(buffer));
        opts.insert(at + 2, RuleOption::Buffer(current));
    }
    Ok(())
}

/// A number of a `byte_test`/`byte_jump`: decimal or `0x` hex, `None` for a variable name.
fn byte_number(kw: &str, s: &str) -> PResult<Option<i64>> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let n = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(None);
    } else {
        None
    };
    let n = n.ok_or_else(|| value_err(kw, format!("invalid number {s:?}")))?;
    Ok(Some(if neg { -n } else { n }))
}

/// One flag of a `byte_test` / `byte_jump` / `byte_extract` (`flag` split into name and
/// argument) that sets how the number is read; `false` when it is not such a flag. A bare
/// `string` takes `string_base` (0: detected from a prefix; `byte_extract` says decimal).
fn read_flag(
    kw: &str,
    read: &mut ByteRead,
    (name, arg): (&str, Option<&str>),
    string_base: u8,
) -> PResult<bool> {
    match name {
        "relative" => read.relative = true,
        "little" => read.little = true,
        "big" => read.little = false,
        "string" => read.base = Some(read.base.unwrap_or(string_base)),
        "hex" => read.base = Some(16),
        "dec" => read.base = Some(10),
        "oct" => read.base = Some(8),
        "dce" => read.dce = true,
        "bitmask" => {
            let mask = arg
                .and_then(|a| byte_number(kw, a).ok().flatten())
                .ok_or_else(|| value_err(kw, "bitmask needs a number"))?;
            read.bitmask = Some(
                u64::try_from(mask).map_err(|_| value_err(kw, "bitmask must not be negative"))?,
            );
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A flag split into its name and its argument (`multiplier 4`).
fn split_flag(flag: &str) -> (&str, Option<&str>) {
    match flag.split_once(char::is_whitespace) {
        Some((n, a)) => (n, Some(a.trim())),
        None => (flag, None),
    }
}

/// A number of a byte keyword, or (as 0) the variable that gives it, noted in `vars`.
fn byte_number_or_var(kw: &str, s: &str, field: VarField, vars: &mut Vec<VarRef>) -> PResult<i64> {
    Ok(match byte_number(kw, s)? {
        Some(n) => n,
        None => {
            vars.push(VarRef {
                field,
                name: s.trim().to_string(),
            });
            0
        }
    })
}

/// `byte_test:<bytes>,[!]<op>,<value>,<offset>[,flags]` and
/// `byte_jump:<bytes>,<offset>[,flags]`; bytes, offset and value may be variables.
fn parse_byte_op(kw: &str, v: Option<&str>) -> PResult<RuleOption> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let fixed = if kw == "byte_test" { 4 } else { 2 };
    if parts.len() < fixed {
        return Err(value_err(kw, format!("needs at least {fixed} fields")));
    }
    let mut vars = Vec::new();
    let bytes = byte_number_or_var(kw, parts[0], VarField::Bytes, &mut vars)?;
    let offset_at = fixed - 1;
    let offset = byte_number_or_var(kw, parts[offset_at], VarField::Offset, &mut vars)?;
    let offset = i32::try_from(offset).map_err(|_| value_err(kw, "offset out of range"))?;
    let mut read = ByteRead {
        // 0 is accepted, as Suricata 7 accepts it (ET Open has `byte_test:0,…,string,dec`);
        // reading no bytes never succeeds, so such an option never matches.
        bytes: u8::try_from(bytes)
            .ok()
            .filter(|b| *b <= 23)
            .ok_or_else(|| value_err(kw, "bytes must be 0..=23"))?,
        offset,
        relative: false,
        little: false,
        base: None,
        bitmask: None,
        dce: false,
    };
    let (mut multiplier, mut align, mut from, mut post_offset) =
        (1u32, false, JumpFrom::Cursor, 0i32);
    for flag in &parts[fixed..] {
        let (name, arg) = split_flag(flag);
        if read_flag(kw, &mut read, (name, arg), 0)? {
            continue;
        }
        let number = |what: &str| -> PResult<i64> {
            arg.and_then(|a| byte_number(kw, a).ok().flatten())
                .ok_or_else(|| value_err(kw, format!("{what} needs a number")))
        };
        match name {
            "multiplier" if kw == "byte_jump" => {
                multiplier = u32::try_from(number("multiplier")?)
                    .map_err(|_| value_err(kw, "multiplier out of range"))?
            }
            "post_offset" if kw == "byte_jump" => {
                post_offset = i32::try_from(number("post_offset")?)
                    .map_err(|_| value_err(kw, "post_offset out of range"))?
            }
            "align" if kw == "byte_jump" => align = true,
            "from_beginning" if kw == "byte_jump" => from = JumpFrom::Beginning,
            "from_end" if kw == "byte_jump" => from = JumpFrom::End,
            other => return Err(value_err(kw, format!("unknown option {other:?}"))),
        }
    }
    if read.base.is_none() && read.bytes > 8 {
        return Err(value_err(kw, "a binary number is at most 8 bytes"));
    }
    if kw == "byte_jump" {
        return Ok(RuleOption::ByteJump(ByteJump {
            read,
            multiplier,
            align,
            from,
            post_offset,
            vars,
        }));
    }
    let (negated, op) = match parts[1].strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, parts[1]),
    };
    let op = match op {
        "" if negated => ByteOp::Eq,
        "=" => ByteOp::Eq,
        other => ByteOp::ALL
            .into_iter()
            .find(|o| o.as_str() == other)
            .ok_or_else(|| value_err(kw, format!("unknown operator {other:?}")))?,
    };
    let value = byte_number_or_var(kw, parts[2], VarField::Value, &mut vars)?;
    Ok(RuleOption::ByteTest(ByteTest {
        read,
        negated,
        op,
        value: u64::try_from(value).map_err(|_| value_err(kw, "negative value"))?,
        vars,
    }))
}

/// A variable name a byte keyword defines.
fn var_name(kw: &str, s: &str) -> PResult<String> {
    if is_variable(Some(s)) {
        Ok(s.trim().to_string())
    } else {
        Err(value_err(kw, format!("invalid variable name {s:?}")))
    }
}

/// `byte_extract:<bytes>,<offset>,<name>[,relative][,multiplier <n>][,big|little|dce]
/// [,string[,hex|dec|oct]][,align 2|4][,bitmask <n>]`.
fn parse_byte_extract(kw: &str, v: Option<&str>) -> PResult<ByteExtract> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    if parts.len() < 3 {
        return Err(value_err(kw, "needs bytes, offset and a name"));
    }
    let bytes = byte_number(kw, parts[0])?
        .and_then(|b| u8::try_from(b).ok())
        .filter(|b| (1..=23).contains(b))
        .ok_or_else(|| value_err(kw, "bytes must be 1..=23"))?;
    let offset = byte_number(kw, parts[1])?
        .and_then(|o| i32::try_from(o).ok())
        .ok_or_else(|| value_err(kw, "invalid offset"))?;
    let name = var_name(kw, parts[2])?;
    let mut read = ByteRead {
        bytes,
        offset,
        relative: false,
        little: false,
        base: None,
        bitmask: None,
        dce: false,
    };
    let (mut multiplier, mut align) = (1u32, 0u8);
    for flag in &parts[3..] {
        let (flag_name, arg) = split_flag(flag);
        if read_flag(kw, &mut read, (flag_name, arg), 10)? {
            continue;
        }
        let number = || -> PResult<i64> {
            arg.and_then(|a| byte_number(kw, a).ok().flatten())
                .ok_or_else(|| value_err(kw, format!("{flag_name} needs a number")))
        };
        match flag_name {
            "multiplier" => {
                multiplier = u32::try_from(number()?)
                    .ok()
                    .filter(|m| *m >= 1)
                    .ok_or_else(|| value_err(kw, "multiplier out of range"))?
            }
            "align" => {
                align = match number()? {
                    2 => 2,
                    4 => 4,
                    _ => return Err(value_err(kw, "align must be 2 or 4")),
                }
            }
            other => return Err(value_err(kw, format!("unknown option {other:?}"))),
        }
    }
    if read.base.is_none() && read.bytes > 8 {
        return Err(value_err(kw, "a binary number is at most 8 bytes"));
    }
    Ok(ByteExtract {
        read,
        name,
        multiplier,
        align,
    })
}

/// `byte_math:bytes <n>,offset <n>,oper <op>,rvalue <n>,result <name>[,relative]
/// [,endian big|little|dce][,dce][,string hex|dec|oct][,bitmask <n>]`.
fn parse_byte_math(kw: &str, v: Option<&str>) -> PResult<ByteMath> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let mut read = ByteRead {
        bytes: 0,
        offset: 0,
        relative: false,
        little: false,
        base: None,
        bitmask: None,
        dce: false,
    };
    let mut vars = Vec::new();
    let (mut bytes, mut offset, mut oper, mut rvalue, mut result) = (None, None, None, None, None);
    for part in v.split(',').map(str::trim) {
        let (name, arg) = match part.split_once(char::is_whitespace) {
            Some((n, a)) => (n, a.trim()),
            None => (part, ""),
        };
        match name {
            "bytes" => bytes = Some(byte_number_or_var(kw, arg, VarField::Bytes, &mut vars)?),
            "offset" => offset = byte_number(kw, arg)?,
            "oper" => {
                oper = Some(
                    MathOp::ALL
                        .into_iter()
                        .find(|o| o.as_str() == arg)
                        .ok_or_else(|| value_err(kw, format!("unknown operator {arg:?}")))?,
                )
            }
            "rvalue" => rvalue = Some(byte_number_or_var(kw, arg, VarField::Rvalue, &mut vars)?),
            "result" => result = Some(var_name(kw, arg)?),
            "relative" => read.relative = true,
            "endian" => match arg {
                "big" => read.little = false,
                "little" => read.little = true,
                "dce" => read.dce = true,
                other => return Err(value_err(kw, format!("unknown endian {other:?}"))),
            },
            "dce" => read.dce = true,
            "string" => {
                read.base = Some(match arg {
                    "hex" => 16,
                    "oct" => 8,
                    "dec" | "" => 10,
                    other => return Err(value_err(kw, format!("unknown base {other:?}"))),
                })
            }
            "bitmask" => {
                read.bitmask = Some(
                    byte_number(kw, arg)?
                        .and_then(|m| u64::try_from(m).ok())
                        .ok_or_else(|| value_err(kw, "invalid bitmask"))?,
                )
            }
            other => return Err(value_err(kw, format!("unknown option {other:?}"))),
        }
    }
    let missing = |what: &str| value_err(kw, format!("missing {what}"));
    read.bytes = bytes
        .and_then(|b| u8::try_from(b).ok())
        .filter(|b| *b <= 10)
        .ok_or_else(|| missing("bytes (1..=10)"))?;
    read.offset = offset
        .and_then(|o| i32::try_from(o).ok())
        .ok_or_else(|| missing("offset"))?;
    Ok(ByteMath {
        read,
        oper: oper.ok_or_else(|| missing("oper"))?,
        rvalue: rvalue
            .and_then(|r| u64::try_from(r).ok())
            .ok_or_else(|| missing("rvalue"))?,
        result: result.ok_or_else(|| missing("result"))?,
        vars,
    })
}

/// `isdataat:[!]<n>[,relative]`; the position may name a variable.
fn parse_isdataat(kw: &str, v: Option<&str>) -> PResult<IsDataAt> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let mut parts = v.split(',').map(str::trim);
    let first = parts.next().unwrap_or("");
    let (negated, position) = match first.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, first),
    };
    let mut relative = false;
    for p in parts {
        match p {
            "relative" => relative = true,
            // `rawbytes` only matters for HTTP normalisation, which raw payloads skip.
            "rawbytes" => {}
            other => return Err(value_err(kw, format!("unknown option {other:?}"))),
        }
    }
    if !position.bytes().all(|b| b.is_ascii_digit()) {
        let is_var = !position.is_empty()
            && position
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        return if is_var {
            Ok(IsDataAt {
                negated,
                position: 0,
                relative,
                var: Some(position.to_string()),
            })
        } else {
            Err(value_err(kw, format!("invalid position {position:?}")))
        };
    }
    let position = position
        .parse()
        .map_err(|_| value_err(kw, format!("{position:?} is out of range")))?;
    Ok(IsDataAt {
        negated,
        position,
        relative,
        var: None,
    })
}

/// A state variable's name (flowbits, xbits, flowint): Suricata takes any name without
/// blanks (`traffic/id/mozilla`); none of `,|&;"` either.
fn state_name(kw: &str, n: &str) -> PResult<String> {
    let ok = !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b',' | b'|' | b'&' | b';' | b'"'));
    if ok {
        Ok(n.to_string())
    } else {
        Err(value_err(kw, format!("invalid name {n:?}")))
    }
}

/// `xbits:<command>,<name>,track <ip_src|ip_dst|ip_pair>[,expire <seconds>]`.
fn parse_xbits(kw: &str, v: Option<&str>) -> PResult<Xbits> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    // `hostbits` keeps the bit on the source host unless told otherwise.
    let min = if kw == "hostbits" { 2 } else { 3 };
    if parts.len() < min {
        return Err(value_err(kw, "needs a command, a name and a track"));
    }
    let command = FlowbitsCommand::from_name(parts[0])
        .filter(|c| *c != FlowbitsCommand::NoAlert)
        .ok_or_else(|| value_err(kw, format!("unknown command {:?}", parts[0])))?;
    let name = state_name(kw, parts[1])?;
    let (mut track, mut expire) = (None, None);
    for p in &parts[2..] {
        match p
            .split_once(char::is_whitespace)
            .map(|(a, b)| (a, b.trim()))
        {
            // `hostbits`' direction: which host of the packet keeps the bit.
            None if kw == "hostbits" && matches!(*p, "src" | "dst") => {
                track = Some(if *p == "src" {
                    XbitsTrack::IpSrc
                } else {
                    XbitsTrack::IpDst
                })
            }
            Some(("track", t)) => {
                track = Some(match t {
                    "ip_src" => XbitsTrack::IpSrc,
                    "ip_dst" => XbitsTrack::IpDst,
                    "ip_pair" => XbitsTrack::IpPair,
                    other => return Err(value_err(kw, format!("unknown track {other:?}"))),
                })
            }
            Some(("expire", n)) => {
                expire = Some(
                    n.parse()
                        .map_err(|_| value_err(kw, format!("invalid expire {n:?}")))?,
                )
            }
            _ => return Err(value_err(kw, format!("unknown option {p:?}"))),
        }
    }
    let track = match track {
        Some(t) => t,
        None if kw == "hostbits" => XbitsTrack::IpSrc,
        None => return Err(value_err(kw, "missing track")),
    };
    Ok(Xbits {
        command,
        name,
        track,
        expire,
    })
}

/// `flowint:<name>,<op>[,<value>]`; `None` when the operand is another variable.
fn parse_flowint(kw: &str, v: Option<&str>) -> PResult<Option<Flowint>> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    if parts.len() < 2 {
        return Err(value_err(kw, "needs a name and an operation"));
    }
    let name = state_name(kw, parts[0])?;
    let op = match parts[1] {
        "isnotset" => FlowintOp::NotSet,
        o => FlowintOp::ALL
            .into_iter()
            .find(|f| f.as_str() == o)
            .ok_or_else(|| value_err(kw, format!("unknown operation {o:?}")))?,
    };
    let value = match (op, parts.get(2)) {
        (FlowintOp::IsSet | FlowintOp::NotSet, None) => 0,
        (FlowintOp::IsSet | FlowintOp::NotSet, Some(_)) => {
            return Err(value_err(kw, "isset and notset take no value"))
        }
        (_, None) => return Err(value_err(kw, "missing value")),
        (_, Some(n)) => match n.parse() {
            Ok(n) => n,
            Err(_) if is_variable(Some(n)) => return Ok(None),
            Err(_) => return Err(value_err(kw, format!("invalid value {n:?}"))),
        },
    };
    Ok(Some(Flowint { name, op, value }))
}

/// Whether a modifier's value is a variable name (`byte_extract`), not a number.
fn is_variable(v: Option<&str>) -> bool {
    v.map(str::trim).is_some_and(|v| {
        v.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// The capture list of a `pcre` value (`"/(.*)/G, flow:key,flow:value"`), if it has one.
fn pcre_capture(v: &str) -> Option<&str> {
    let inner = v.trim().strip_prefix('!').unwrap_or(v.trim());
    let inner = inner.strip_prefix('"')?.strip_suffix('"')?;
    let last_slash = inner.rfind('/')?;
    let (_, capture) = inner[last_slash + 1..].split_once(',')?;
    Some(capture.trim())
}

/// `flowbits:<command>[,<names>]`; names are separated by `|` (Suricata's OR group) or `&`.
/// `dataset:<command>,<name>,type <kind>[,load <file>][,state <file>][,save <file>]
/// [,memcap <n>][,hashsize <n>]`.
fn parse_dataset(kw: &str, v: Option<&str>) -> PResult<Dataset> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let mut parts = v.split(',').map(str::trim);
    let (command, name) = if kw == "datarep" {
        // `datarep:<name>,<op>,<n>,…`
        let name = state_name(kw, parts.next().unwrap_or(""))?;
        let op = parts.next().unwrap_or("");
        let n: u64 = number(kw, parts.next())?;
        let cmp = match op {
            ">" => UintCmp::Gt(n),
            "<" => UintCmp::Lt(n),
            ">=" => UintCmp::Ge(n),
            "<=" => UintCmp::Le(n),
            "==" => UintCmp::Eq(n),
            "!=" => UintCmp::Ne(n),
            other => return Err(value_err(kw, format!("unknown operator {other:?}"))),
        };
        (DatasetCommand::Rep(cmp), name)
    } else {
        let command = match parts.next().unwrap_or("") {
            "isset" => DatasetCommand::IsSet,
            "isnotset" => DatasetCommand::IsNotSet,
            "set" => DatasetCommand::Set,
            "unset" => DatasetCommand::Unset,
            other => return Err(value_err(kw, format!("unknown command {other:?}"))),
        };
        (command, state_name(kw, parts.next().unwrap_or(""))?)
    };
    let (mut kind, mut load, mut other) = (None, None, Vec::new());
    for part in parts {
        let (key, value) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
        let value = value.trim();
        if value.is_empty() {
            return Err(value_err(kw, format!("{key} without a value")));
        }
        match key {
            "type" => {
                kind = Some(match value {
                    "string" => DatasetKind::String,
                    "md5" => DatasetKind::Md5,
                    "sha256" => DatasetKind::Sha256,
                    "ipv4" => DatasetKind::Ipv4,
                    "ip" => DatasetKind::Ip,
                    other => return Err(value_err(kw, format!("unknown type {other:?}"))),
                })
            }
            // `state` is a file loaded and saved; only loading applies here.
            "load" | "state" if load.is_none() => load = Some(value.to_string()),
            "save" | "memcap" | "hashsize" => other.push(format!("{key} {value}")),
            other => return Err(value_err(kw, format!("unknown setting {other:?}"))),
        }
    }
    let kind = kind.ok_or_else(|| value_err(kw, "no type"))?;
    Ok(Dataset {
        command,
        name,
        kind,
        load,
        other,
    })
}

fn parse_flowbits(kw: &str, v: Option<&str>) -> PResult<Flowbits> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let (command, names) = match v.split_once(',') {
        Some((c, n)) => (c.trim(), Some(n)),
        None => (v.trim(), None),
    };
    let command = FlowbitsCommand::from_name(command)
        .ok_or_else(|| value_err(kw, format!("unknown command {command:?}")))?;
    let names: Vec<String> = names
        .map(|n| n.split(['|', '&']).map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    match (command, names.is_empty()) {
        (FlowbitsCommand::NoAlert, true) => {}
        (FlowbitsCommand::NoAlert, false) => {
            return Err(value_err(kw, "noalert takes no name"));
        }
        (_, true) => return Err(value_err(kw, "missing bit name")),
        (_, false) => {
            for n in &names {
                state_name(kw, n)?;
            }
        }
    }
    Ok(Flowbits { command, names })
}

fn parse_flags(kw: &str, v: Option<&str>) -> PResult<FlagsSpec> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let (main, mask) = match v.split_once(',') {
        Some((a, b)) => (a.trim(), Some(b.trim())),
        None => (v, None),
    };
    let modifier_of = |c: char| match c {
        '+' => Some(FlagsModifier::Plus),
        '*' => Some(FlagsModifier::Any),
        '!' => Some(FlagsModifier::Not),
        _ => None,
    };
    let mut modifier = None;
    let mut letters = main;
    if let Some(m) = main.chars().next().and_then(modifier_of) {
        modifier = Some(m);
        letters = &main[1..];
    } else if let Some(m) = main.chars().last().and_then(modifier_of) {
        modifier = Some(m);
        letters = &main[..main.len() - 1];
    }
    let flags = flag_bits(kw, letters.trim())?;
    let mask = match mask {
        Some(m) => Some(flag_bits(kw, m)?),
        None => None,
    };
    Ok(FlagsSpec {
        modifier,
        flags,
        mask,
    })
}

/// The `flow` words we do not support, reported by name.
pub(crate) const UNSUPPORTED_FLOW_WORDS: [&str; 5] = [
    "only_stream",
    "no_stream",
    "only_frag",
    "no_frag",
    "established_stream",
];

fn parse_flow(kw: &str, v: Option<&str>) -> PResult<Result<Vec<FlowOption>, String>> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let mut out = Vec::new();
    for w in v.split(',') {
        let w = w.trim();
        match FlowOption::ALL.iter().find(|o| o.as_str() == w) {
            Some(o) => out.push(*o),
            None if UNSUPPORTED_FLOW_WORDS.contains(&w) => return Ok(Err(w.to_string())),
            None => return Err(value_err(kw, format!("unknown flow option {w:?}"))),
        }
    }
    Ok(Ok(out))
}

fn parse_threshold(kw: &str, v: Option<&str>, typed: bool) -> PResult<Threshold> {
    let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
    let (mut kind, mut track, mut count, mut seconds) = (None, None, None, None);
    for part in v.split(',') {
        let mut words = part.split_whitespace();
        let (Some(k), Some(val), None) = (words.next(), words.next(), words.next()) else {
            return Err(value_err(
                kw,
                format!("expected `name value`, got {part:?}"),
            ));
        };
        match k {
            "type" if typed => {
                kind = Some(match val {
                    "limit" => ThresholdType::Limit,
                    "threshold" => ThresholdType::Threshold,
                    "both" => ThresholdType::Both,
                    other => return Err(value_err(kw, format!("unknown type {other:?}"))),
                })
            }
            "track" => {
                track = Some(match val {
                    "by_src" => Track::BySrc,
                    "by_dst" => Track::ByDst,
                    "by_rule" => Track::ByRule,
                    "by_both" => Track::ByBoth,
                    other => return Err(value_err(kw, format!("unknown track {other:?}"))),
                })
            }
            "count" => count = Some(number::<u32>(kw, Some(val))?),
            "seconds" => seconds = Some(number::<u32>(kw, Some(val))?),
            other => return Err(value_err(kw, format!("unknown part {other:?}"))),
        }
    }
    if typed && kind.is_none() {
        return Err(value_err(kw, "missing type"));
    }
    let track = track.ok_or_else(|| value_err(kw, "missing track"))?;
    let count = count.ok_or_else(|| value_err(kw, "missing count"))?;
    let seconds = seconds.ok_or_else(|| value_err(kw, "missing seconds"))?;
    if count == 0 {
        return Err(value_err(kw, "count must be at least 1"));
    }
    Ok(Threshold {
        kind,
        track,
        count,
        seconds,
    })
}

fn parse_pcre(kw: &str, v: Option<&str>) -> PResult<Pcre> {
    let (negated, inner) = negated_quoted(kw, v)?;
    let body = inner
        .strip_prefix('/')
        .ok_or_else(|| value_err(kw, "pattern must start with /"))?;
    let end = body
        .rfind('/')
        .ok_or_else(|| value_err(kw, "pattern must end with /flags"))?;
    let flags = &body[end + 1..];
    if !flags.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(value_err(kw, format!("invalid flags {flags:?}")));
    }
    // Only `\;` and `\"` are rule-level escapes; every other backslash belongs to the regex.
    let raw = &body[..end];
    let mut pattern = String::with_capacity(raw.len());
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.peek() {
                Some(&n) if n == ';' || n == '"' => {
                    pattern.push(n);
                    it.next();
                }
                Some(&n) => {
                    pattern.push('\\');
                    pattern.push(n);
                    it.next();
                }
                None => pattern.push('\\'),
            }
        } else {
            pattern.push(c);
        }
    }
    Ok(Pcre {
        negated,
        pattern,
        flags: flags.to_string(),
    })
}

fn last_content<'a>(opts: &'a mut [RuleOption], kw: &str) -> PResult<&'a mut Content> {
    opts.iter_mut()
        .rev()
        .find_map(|o| match o {
            RuleOption::Content(c) => Some(c),
            _ => None,
        })
        .ok_or_else(|| ParseErrorKind::OrphanModifier(kw.to_string()))
}

/// The application protocol a rule header names (`unknown` is not one).
fn app_protocol(name: &str) -> Option<AppProto> {
    AppProto::from_name(name).filter(|p| *p != AppProto::Unknown)
}

fn parse_options(s: &str) -> PResult<Vec<RuleOption>> {
    let mut opts: Vec<RuleOption> = Vec::new();
    for (kw_raw, v) in split_options(s)? {
        let kw_lower = kw_raw.to_ascii_lowercase();
        let kw = kw_lower.as_str();
        let opt = match kw {
            "msg" => RuleOption::Msg(string_value(kw, v)?),
            "sid" => RuleOption::Sid(number(kw, v)?),
            "rev" => RuleOption::Rev(number(kw, v)?),
            "gid" => RuleOption::Gid(number(kw, v)?),
            "priority" => RuleOption::Priority(number(kw, v)?),
            "classtype" => {
                let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
                if v.is_empty()
                    || !v
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
                {
                    return Err(value_err(kw, format!("invalid classtype {v:?}")));
                }
                RuleOption::Classtype(v.to_string())
            }
            "uricontent" | "http_uri" | "http_raw_uri" | "http_header" | "http_method"
            | "http_cookie" | "http_user_agent" | "http_host" | "http_stat_code"
            | "http_stat_msg" => {
                if kw == "uricontent" {
                    let (negated, inner) = negated_quoted(kw, v)?;
                    let pattern = content_bytes(kw, inner)?;
                    if pattern.is_empty() {
                        return Err(value_err(kw, "empty content"));
                    }
                    opts.push(RuleOption::Content(Content {
                        negated,
                        pattern,
                        ..Content::default()
                    }));
                } else if v.is_some() {
                    return Err(value_err(kw, "takes no value"));
                }
                legacy_buffer_modifier(&mut opts, kw)?;
                continue;
            }
            "tls.subject" | "tls.issuerdn" | "tls.fingerprint" => {
                // Suricata's older value forms: a (negatable) string the certificate field
                // contains; a fingerprint compared without case.
                let (negated, inner) = negated_quoted(kw, v)?;
                let pattern = content_bytes(kw, inner)?;
                if pattern.is_empty() {
                    return Err(value_err(kw, "empty value"));
                }
                let buffer = match kw {
                    "tls.subject" => StickyBuffer::TlsCertSubject,
                    "tls.issuerdn" => StickyBuffer::TlsCertIssuer,
                    _ => StickyBuffer::TlsCertFingerprint,
                };
                opts.push(RuleOption::Buffer(buffer));
                RuleOption::Content(Content {
                    negated,
                    pattern,
                    nocase: kw == "tls.fingerprint",
                    ..Content::default()
                })
            }
            "tag" => {
                let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
                RuleOption::Tag(v.to_string())
            }
            "prefilter" if v.is_none() => RuleOption::Prefilter,
            "base64_decode" => {
                let mut b = Base64Decode::default();
                for part in v.unwrap_or("").split(',').map(str::trim) {
                    let (key, value) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
                    match key {
                        "" => {}
                        "relative" if value.is_empty() => b.relative = true,
                        "bytes" | "offset" => {
                            let n: u32 = number(kw, Some(value.trim()))?;
                            if key == "bytes" {
                                b.bytes = Some(n);
                            } else {
                                b.offset = Some(n);
                            }
                        }
                        other => return Err(value_err(kw, format!("unknown setting {other:?}"))),
                    }
                }
                RuleOption::Base64Decode(b)
            }
            "dataset" | "datarep" => RuleOption::Dataset(parse_dataset(kw, v)?),
            "reference" | "metadata" | "target" | "requires" => {
                let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
                if v.is_empty() {
                    return Err(value_err(kw, "missing value"));
                }
                match kw {
                    "reference" => RuleOption::Reference(v.to_string()),
                    "metadata" => RuleOption::Metadata(v.to_string()),
                    "requires" => RuleOption::Requires(v.to_string()),
                    _ => RuleOption::Target(v.to_string()),
                }
            }
            "content" => {
                let (negated, inner) = negated_quoted(kw, v)?;
                let pattern = content_bytes(kw, inner)?;
                if pattern.is_empty() {
                    return Err(value_err(kw, "empty content"));
                }
                RuleOption::Content(Content {
                    negated,
                    pattern,
                    ..Content::default()
                })
            }
            "nocase" | "fast_pattern" => {
                let c = last_content(&mut opts, kw)?;
                if kw == "nocase" {
                    if v.is_some() {
                        return Err(value_err(kw, "takes no value"));
                    }
                    c.nocase = true;
                } else {
                    c.fast_pattern = true;
                }
                continue;
            }
            "offset" | "depth" | "within" | "distance" if is_variable(v) => {
                // A position held in a `byte_extract` / `byte_math` variable.
                let field = match kw {
                    "offset" => VarField::Offset,
                    "depth" => VarField::Depth,
                    "within" => VarField::Within,
                    _ => VarField::Distance,
                };
                let name = v.unwrap_or_default().trim().to_string();
                last_content(&mut opts, kw)?
                    .vars
                    .push(VarRef { field, name });
                continue;
            }
            "offset" | "depth" | "within" => {
                let n: u32 = number(kw, v)?;
                let c = last_content(&mut opts, kw)?;
                match kw {
                    "offset" => c.offset = Some(n),
                    "depth" => c.depth = Some(n),
                    _ => c.within = Some(n),
                }
                continue;
            }
            "startswith" | "endswith" => {
                if v.is_some() {
                    return Err(value_err(kw, "takes no value"));
                }
                let c = last_content(&mut opts, kw)?;
                if kw == "startswith" {
                    c.startswith = true;
                } else {
                    c.endswith = true;
                }
                continue;
            }
            "bsize" => RuleOption::Bsize(parse_uint(kw, v, u64::from(u32::MAX))?),
            "urilen" => {
                let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
                let (cmp, form) = match v.split_once(',') {
                    Some((c, f)) => (c.trim(), f.trim()),
                    None => (v.trim(), "norm"),
                };
                let raw = match form {
                    "raw" => true,
                    "norm" => false,
                    other => return Err(value_err(kw, format!("unknown form {other:?}"))),
                };
                let cmp = parse_uint(kw, Some(cmp.replace(' ', "").as_str()), u64::from(u32::MAX))?;
                RuleOption::Urilen { cmp, raw }
            }
            "isdataat" => RuleOption::IsDataAt(parse_isdataat(kw, v)?),
            plain if v.is_none() && Transform::PLAIN.iter().any(|t| t.as_str() == plain) => {
                let t = Transform::PLAIN
                    .into_iter()
                    .find(|t| t.as_str() == plain)
                    .unwrap_or(Transform::DotPrefix);
                RuleOption::Transform(t)
            }
            "xor" => {
                let (_, inner) = negated_quoted(kw, v.map(str::trim))?;
                let hex = inner.as_bytes();
                if hex.is_empty() || hex.len() % 2 != 0 {
                    return Err(value_err(kw, "takes an even number of hex digits"));
                }
                let key = hex
                    .chunks(2)
                    .map(|p| {
                        std::str::from_utf8(p)
                            .ok()
                            .and_then(|d| u8::from_str_radix(d, 16).ok())
                    })
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| value_err(kw, format!("{inner:?} is not hex")))?;
                RuleOption::Transform(Transform::Xor(key))
            }
            "pcrexform" => {
                let (negated, inner) = negated_quoted(kw, v.map(str::trim))?;
                if negated || inner.is_empty() {
                    return Err(value_err(kw, "takes a quoted regular expression"));
                }
                let re = inner.replace("\\\"", "\"").replace("\\;", ";");
                RuleOption::Transform(Transform::Pcrexform(re))
            }
            "byte_test" | "byte_jump" => parse_byte_op(kw, v)?,
            "byte_extract" => RuleOption::ByteExtract(parse_byte_extract(kw, v)?),
            "byte_math" => RuleOption::ByteMath(parse_byte_math(kw, v)?),
            "distance" => {
                let n = signed(kw, v)?;
                last_content(&mut opts, kw)?.distance = Some(n);
                continue;
            }
            // `pcre:"/…/flags, flow:name"`: captures into variables, kept, the rule skipped.
            "pcre" if v.is_some_and(|v| pcre_capture(v).is_some()) => RuleOption::Unsupported {
                keyword: kw.to_string(),
                value: v.map(str::to_string),
            },
            "pcre" => RuleOption::Pcre(parse_pcre(kw, v)?),
            "dsize" => RuleOption::Dsize(parse_uint(kw, v, u64::from(u16::MAX))?),
            "ttl" => RuleOption::Ttl(parse_uint(kw, v, 255)?),
            csum if ChecksumKind::ALL.iter().any(|k| k.keyword() == csum) => {
                let kind = ChecksumKind::ALL
                    .into_iter()
                    .find(|k| k.keyword() == csum)
                    .unwrap_or(ChecksumKind::Ipv4);
                let valid = match v.map(str::trim) {
                    Some("valid") => 1,
                    Some("invalid") => 0,
                    _ => return Err(value_err(kw, "takes valid or invalid")),
                };
                RuleOption::Field(PacketField::Checksum(kind), UintCmp::Eq(valid))
            }
            "stream_size" => {
                let v = v.ok_or_else(|| value_err(kw, "missing value"))?;
                let parts: Vec<&str> = v.split(',').map(str::trim).collect();
                let [side, op, n] = parts[..] else {
                    return Err(value_err(kw, "takes <side>,<operator>,<bytes>"));
                };
                let side = StreamSide::ALL
                    .into_iter()
                    .find(|s| s.as_str() == side)
                    .ok_or_else(|| value_err(kw, format!("unknown side {side:?}")))?;
                let op = match op {
                    "=" => "",
                    "!=" => "!",
                    "<" | "<=" | ">" | ">=" => op,
                    other => return Err(value_err(kw, format!("unknown operator {other:?}"))),
                };
                let cmp = parse_uint(kw, Some(&format!("{op}{n}")), u64::from(u32::MAX))?;
                RuleOption::Field(PacketField::StreamSize(side), cmp)
            }
            field if PacketField::from_keyword(field).is_some() => {
                let field = PacketField::from_keyword(field).unwrap_or(PacketField::TcpSeq);
                let cmp = parse_uint(kw, v, field.max())?;
                if field.exact_only() && !matches!(cmp, UintCmp::Eq(_) | UintCmp::Ne(_)) {
                    return Err(value_err(kw, "takes a number or !number"));
                }
                RuleOption::Field(field, cmp)
            }
            // An event the decoder does not raise would never match: skipped, named.
            "decode-event" => {
                match v.and_then(|v| crate::decode::DecodeEvents::from_name(v.trim())) {
                    Some(e) => RuleOption::DecodeEvent(e),
                    None => RuleOption::Unsupported {
                        keyword: kw.to_string(),
                        value: v.map(str::to_string),
                    },
                }
            }
            "itype" => RuleOption::Itype(parse_uint(kw, v, 255)?),
            "icode" => RuleOption::Icode(parse_uint(kw, v, 255)?),
            "ip_proto" => {
                let named = v.map(|s| {
                    let (neg, name) = match s.strip_prefix('!') {
                        Some(r) => ("!", r),
                        None => ("", s),
                    };
                    let n = match name.to_ascii_lowercase().as_str() {
                        "icmp" => Some(1),
                        "igmp" => Some(2),
                        "tcp" => Some(6),
                        "udp" => Some(17),
                        "gre" => Some(47),
                        "esp" => Some(50),
                        "ah" => Some(51),
                        "ipv6-icmp" | "icmpv6" => Some(58),
                        "sctp" => Some(132),
                        _ => None,
                    };
                    n.map(|n| format!("{neg}{n}"))
                });
                match named.flatten() {
                    Some(s) => RuleOption::IpProto(parse_uint(kw, Some(&s), 255)?),
                    None => RuleOption::IpProto(parse_uint(kw, v, 255)?),
                }
            }
            "flags" | "tcp.flags" => RuleOption::Flags(parse_flags(kw, v)?),
            "flow" => match parse_flow(kw, v)? {
                Ok(list) => RuleOption::Flow(list),
                Err(_) => RuleOption::Unsupported {
                    keyword: kw.to_string(),
                    value: v.map(str::to_string),
                },
            },
            "threshold" => RuleOption::Threshold(parse_threshold(kw, v, true)?),
            "detection_filter" => RuleOption::DetectionFilter(parse_threshold(kw, v, false)?),
            "flowbits" => RuleOption::Flowbits(parse_flowbits(kw, v)?),
            "xbits" | "hostbits" => RuleOption::Xbits(parse_xbits(kw, v)?),
            "flowint" => match parse_flowint(kw, v)? {
                Some(i) => RuleOption::Flowint(i),
                // The operand is another variable.
                None => RuleOption::Unsupported {
                    keyword: kw.to_string(),
                    value: v.map(str::to_string),
                },
            },
            "alert" if v.is_none() => RuleOption::AlertFlag,
            "noalert" if v.is_none() => RuleOption::NoAlert,
            buffer if v.is_none() && StickyBuffer::from_keyword(buffer).is_some() => {
                RuleOption::Buffer(
                    StickyBuffer::from_keyword(buffer).unwrap_or(StickyBuffer::PktData),
                )
            }
            _ => RuleOption::Unsupported {
                keyword: kw.to_string(),
                value: v.map(str::to_string),
            },
        };
        opts.push(opt);
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Rule {
        match parse_rule(s) {
            Ok(r) => r,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn err(s: &str) -> ParseErrorKind {
        match parse_rule(s) {
            Ok(r) => panic!("{s} parsed as {r:?}"),
            Err(e) => e.kind,
        }
    }

    fn roundtrip(r: &Rule) {
        let text = r.to_string();
        assert_eq!(&ok(&text), r, "{text}");
    }

    #[test]
    fn base64_decode_settings() {
        let r = ok("alert http any any -> any any (content:\"arg\"; http_uri; base64_decode:bytes 17, offset 1, relative; base64_data; content:\"x\"; sid:1;)");
        assert!(r.options.contains(&RuleOption::Base64Decode(Base64Decode {
            bytes: Some(17),
            offset: Some(1),
            relative: true,
        })));
        roundtrip(&r);
        roundtrip(&ok(
            "alert tcp any any -> any any (base64_decode; base64_data; content:\"x\"; sid:1;)",
        ));
        assert!(matches!(
            err("alert tcp any any -> any any (base64_decode:bytes x; sid:1;)"),
            ParseErrorKind::Value { .. }
        ));
    }

    #[test]
    fn datarep_parses_as_a_dataset_reputation_command() {
        let r = ok(
            "alert dns any any -> any any (dns.query; to_md5; datarep:dns_md5, >, 200, load dns_md5.rep, type md5, memcap 10mb; sid:1;)",
        );
        let RuleOption::Dataset(d) = &r.options[2] else {
            panic!("{:?}", r.options);
        };
        assert_eq!(d.command, DatasetCommand::Rep(UintCmp::Gt(200)));
        assert_eq!((d.name.as_str(), d.kind), ("dns_md5", DatasetKind::Md5));
        assert_eq!(d.load.as_deref(), Some("dns_md5.rep"));
        roundtrip(&r);
        assert!(matches!(
            err("alert dns any any -> any any (datarep:x, ~, 1, type string; sid:1;)"),
            ParseErrorKind::Value { .. }
        ));
    }

    #[test]
    fn older_certificate_value_keywords_become_buffer_and_content() {
        let r = ok(
            r#"alert tls any any -> any any (tls.subject:!"CN=x"; tls.fingerprint:"AB:cd"; tls_cert_issuer; content:"O=y"; tls.cert_chain_len:>2; sid:1;)"#,
        );
        let content = |negated: bool, pattern: &[u8], nocase: bool| {
            RuleOption::Content(Content {
                negated,
                pattern: pattern.to_vec(),
                nocase,
                ..Content::default()
            })
        };
        assert_eq!(
            r.options[..6],
            [
                RuleOption::Buffer(StickyBuffer::TlsCertSubject),
                content(true, b"CN=x", false),
                RuleOption::Buffer(StickyBuffer::TlsCertFingerprint),
                content(false, b"AB:cd", true),
                RuleOption::Buffer(StickyBuffer::TlsCertIssuer),
                content(false, b"O=y", false),
            ]
        );
        assert_eq!(
            r.options[6],
            RuleOption::Field(PacketField::TlsCertChainLen, UintCmp::Gt(2))
        );
        roundtrip(&r);
    }

    #[test]
    fn happy_path_header_and_meta() {
        let r = ok(
            r#"alert tcp $HOME_NET any -> $EXTERNAL_NET [80,443,8000:8100] (msg:"GPL test \"x\"\; y"; sid:100; rev:3; gid:1; classtype:bad-unknown; priority:2; reference:url,example.com; metadata:created_at 2024_01_01;)"#,
        );
        assert_eq!(r.action, Action::Alert);
        assert_eq!(r.protocol, Protocol::Tcp);
        assert_eq!(r.src, AddrSpec::Var("HOME_NET".into()));
        assert_eq!(
            r.dst_ports,
            PortSpec::List(vec![
                PortSpec::Port(80),
                PortSpec::Port(443),
                PortSpec::Range(Some(8000), Some(8100))
            ])
        );
        assert_eq!(r.msg(), Some("GPL test \"x\"; y"));
        assert_eq!(r.sid(), Some(100));
        assert!(r.options.contains(&RuleOption::Priority(2)));
        assert!(r
            .options
            .contains(&RuleOption::Metadata("created_at 2024_01_01".into())));
        roundtrip(&r);
    }

    #[test]
    fn content_hex_escapes_and_modifiers() {
        let r = ok(
            r#"alert ip any any -> any any (content:"uid=0|28|root|29|"; content:!"a\;b|0d 0A|"; nocase; offset:2; depth:10; distance:-1; within:5; fast_pattern; sid:1;)"#,
        );
        let c: Vec<&Content> = r
            .options
            .iter()
            .filter_map(|o| match o {
                RuleOption::Content(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(c[0].pattern, b"uid=0(root)");
        assert!(!c[0].nocase);
        assert_eq!(c[1].pattern, b"a;b\r\n");
        assert!(c[1].negated && c[1].nocase && c[1].fast_pattern);
        assert_eq!(
            (c[1].offset, c[1].depth, c[1].distance, c[1].within),
            (Some(2), Some(10), Some(-1), Some(5))
        );
        roundtrip(&r);
    }

    #[test]
    fn addresses_lists_negation_ranges() {
        let r = ok("alert udp [10.0.0.0/8,!10.1.2.3,[192.168.1.1, fe80::/10]] !53 <> !$HOME_NET [1024:,:100,!$HTTP_PORTS] (sid:2;)");
        assert_eq!(r.direction, RuleDirection::Both);
        match &r.src {
            AddrSpec::List(l) => {
                assert_eq!(l.len(), 3);
                assert!(matches!(l[1], AddrSpec::Not(_)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.src_ports, PortSpec::Not(Box::new(PortSpec::Port(53))));
        roundtrip(&r);
    }

    #[test]
    fn header_ops() {
        let r = ok("alert tcp any any -> any any (flags:SA+,CE; dsize:>100; ttl:<=64; itype:8; icode:0<>3; ip_proto:tcp; flow:established,to_server; threshold: type limit, track by_src, count 1, seconds 60; detection_filter:track by_dst, count 5, seconds 10; sid:3;)");
        assert!(r.options.contains(&RuleOption::Flags(FlagsSpec {
            modifier: Some(FlagsModifier::Plus),
            flags: 0x12,
            mask: Some(0xc0)
        })));
        assert!(r.options.contains(&RuleOption::Dsize(UintCmp::Gt(100))));
        assert!(r.options.contains(&RuleOption::Ttl(UintCmp::Le(64))));
        assert!(r.options.contains(&RuleOption::Icode(UintCmp::Range(0, 3))));
        assert!(r.options.contains(&RuleOption::IpProto(UintCmp::Eq(6))));
        assert!(r.options.contains(&RuleOption::Flow(vec![
            FlowOption::Established,
            FlowOption::ToServer
        ])));
        roundtrip(&r);
        let f = ok("alert tcp any any -> any any (flags:!0; flags:*FS; flags:S,12; sid:1;)");
        roundtrip(&f);
    }

    #[test]
    fn uint_forms() {
        for (s, c) in [
            ("5", UintCmp::Eq(5)),
            ("!5", UintCmp::Ne(5)),
            ("<5", UintCmp::Lt(5)),
            (">=5", UintCmp::Ge(5)),
            ("1-5", UintCmp::Range(1, 5)),
            ("1<>5", UintCmp::Range(1, 5)),
            ("!1-5", UintCmp::NotRange(1, 5)),
        ] {
            assert_eq!(parse_uint("dsize", Some(s), 65535), Ok(c), "{s}");
        }
        assert!(parse_uint("ttl", Some("256"), 255).is_err());
        assert!(parse_uint("ttl", Some("5-1"), 255).is_err());
        assert!(parse_uint("ttl", Some("x"), 255).is_err());
        assert!(UintCmp::Range(1, 5).matches(3) && !UintCmp::Range(1, 5).matches(5));
    }

    #[test]
    fn pcre_and_unsupported_keywords_are_kept() {
        let r = ok(
            r#"alert tcp any any -> any any (pcre:"/a\;b\d+\/x/iR"; http_client_body; byte_test:4,>,1,0; sid:9;)"#,
        );
        assert!(r.options.contains(&RuleOption::Pcre(Pcre {
            negated: false,
            pattern: r"a;b\d+\/x".into(),
            flags: "iR".into()
        })));
        assert!(r.options.contains(&RuleOption::Unsupported {
            keyword: "http_client_body".into(),
            value: None
        }));
        roundtrip(&r);
        let app = ok(r#"alert http any any -> any any (http.uri; content:"x"; sid:1;)"#);
        assert_eq!(app.protocol, Protocol::App(AppProto::Http));
        assert!(app
            .options
            .contains(&RuleOption::Buffer(StickyBuffer::HttpUri)));
        roundtrip(&app);
        let other = ok(r#"alert smb any any -> any any (content:"x"; sid:1;)"#);
        assert_eq!(other.protocol, Protocol::Other("smb".into()));
    }

    #[test]
    fn alert_noalert_and_actions() {
        let r = ok(r#"pass tcp any any -> any 22 (alert; sid:2; gid:10000003; msg:"PASS SSH";)"#);
        assert_eq!(r.action, Action::Pass);
        assert!(r.options.contains(&RuleOption::AlertFlag));
        roundtrip(&r);
        let d = ok(r#"drop tcp any any -> any any (noalert; sid:1; rev:1;)"#);
        assert!(d.options.contains(&RuleOption::NoAlert));
    }

    #[test]
    fn file_with_comments_blank_lines_and_continuations() {
        let text = "# a comment\n\n  alert tcp any any -> any any (msg:\"one\"; \\\n   content:\"abc\"; \\\n sid:1;)\n#alert ip any any -> any any (sid:5;)\nbogus line\nalert ip any any -> any any (sid:2;)\r\n";
        let rules = parse_rules(text);
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].line, 3);
        assert_eq!(rules[0].result.as_ref().map(|r| r.sid()), Ok(Some(1)));
        assert_eq!(rules[1].line, 7);
        let e = rules[1].result.as_ref().expect_err("bogus");
        assert_eq!(e.line, 7);
        assert!(e.to_string().starts_with("line 7: "), "{e}");
        assert_eq!(rules[2].result.as_ref().map(|r| r.sid()), Ok(Some(2)));
    }

    #[test]
    fn malformed_missing_parens() {
        assert_eq!(
            err("alert tcp any any -> any any"),
            ParseErrorKind::MissingOptions
        );
    }
    #[test]
    fn malformed_trailing() {
        assert_eq!(
            err("alert ip any any -> any any (sid:1;) x"),
            ParseErrorKind::TrailingText
        );
    }
    #[test]
    fn malformed_header_parts() {
        assert_eq!(
            err("alert ip any any -> any (sid:1;)"),
            ParseErrorKind::HeaderParts(6)
        );
    }
    #[test]
    fn malformed_action() {
        assert!(matches!(
            err("log ip any any -> any any (sid:1;)"),
            ParseErrorKind::Action(_)
        ));
    }
    #[test]
    fn malformed_protocol() {
        assert!(matches!(
            err("alert t$p any any -> any any (sid:1;)"),
            ParseErrorKind::Protocol(_)
        ));
    }
    #[test]
    fn malformed_direction() {
        assert!(matches!(
            err("alert ip any any <- any any (sid:1;)"),
            ParseErrorKind::Direction(_)
        ));
    }
    #[test]
    fn malformed_address() {
        for a in [
            "10.0.0.300",
            "10.0.0.0/33",
            "[1.2.3.4",
            "$",
            "[]",
            "1.2.3.4/x",
        ] {
            assert!(
                matches!(
                    err(&format!("alert ip {a} any -> any any (sid:1;)")),
                    ParseErrorKind::Address(_) | ParseErrorKind::HeaderParts(_)
                ),
                "{a}"
            );
        }
    }
    #[test]
    fn malformed_port() {
        for p in ["70000", "5:1", ":", "[1,", "http", "1-2"] {
            assert!(
                matches!(
                    err(&format!("alert tcp any {p} -> any any (sid:1;)")),
                    ParseErrorKind::Port(_) | ParseErrorKind::HeaderParts(_)
                ),
                "{p}"
            );
        }
    }
    #[test]
    fn malformed_unterminated_quote() {
        // As in Suricata an unescaped `;` ends the option, so the quote is left open.
        assert_eq!(
            err(r#"alert ip any any -> any any (msg:"abc; sid:1;)"#),
            value_err("msg", "unbalanced quotes")
        );
        // A `"` inside a pcre (ET's sid 2029732) is fine, as Suricata reads it.
        let r = ok(r#"alert http any any -> any any (pcre:"/^["']?post/Ri"; sid:2029732;)"#);
        assert!(r
            .options
            .iter()
            .any(|o| matches!(o, RuleOption::Pcre(p) if p.pattern == r#"^["']?post"#)));
    }
    #[test]
    fn malformed_keyword() {
        assert!(matches!(
            err("alert ip any any -> any any (ms g:1; sid:1;)"),
            ParseErrorKind::Keyword(_)
        ));
    }
    #[test]
    fn malformed_values() {
        for o in [
            "sid:abc;",
            "content:abc; sid:1;",
            "content:\"\"; sid:1;",
            "content:\"|4|\"; sid:1;",
            "content:\"|zz|\"; sid:1;",
            "content:\"|41\"; sid:1;",
            "content:\"a\"; offset:-1; sid:1;",
            "content:\"a\"; nocase:1; sid:1;",
            "pcre:\"abc\"; sid:1;",
            "pcre:\"/abc/1\"; sid:1;",
            "flags:SX; sid:1;",
            "flow:sideways; sid:1;",
            "threshold:type limit, track by_src, count 1; sid:1;",
            "threshold:type sometimes, track by_src, count 1, seconds 1; sid:1;",
            "threshold:track by_src, count 1, seconds 1; sid:1;",
            "detection_filter:track by_src, count 0, seconds 1; sid:1;",
            "ttl:300; sid:1;",
            "classtype:a b; sid:1;",
            "msg:\"a\" x; sid:1;",
        ] {
            let k = err(&format!("alert ip any any -> any any ({o})"));
            assert!(matches!(k, ParseErrorKind::Value { .. }), "{o}: {k:?}");
        }
    }
    #[test]
    fn malformed_orphan_modifier() {
        assert_eq!(
            err("alert ip any any -> any any (nocase; sid:1;)"),
            ParseErrorKind::OrphanModifier("nocase".into())
        );
        assert_eq!(
            err("alert ip any any -> any any (within:4; sid:1;)"),
            ParseErrorKind::OrphanModifier("within".into())
        );
    }
    #[test]
    fn malformed_missing_sid() {
        assert_eq!(
            err("alert ip any any -> any any (msg:\"x\";)"),
            ParseErrorKind::MissingSid
        );
    }

    #[test]
    fn every_prefix_is_handled_without_panic() {
        let s = r#"alert tcp [10.0.0.0/8,!10.1.1.1] 1:1024 <> any $HTTP_PORTS (msg:"é x"; content:"a|0d|b"; nocase; pcre:"/x\;y/i"; flags:S+; flow:to_server; threshold:type both, track by_dst, count 2, seconds 5; sid:1;)"#;
        for (i, _) in s.char_indices() {
            let _ = parse_rule(&s[..i]);
        }
        roundtrip(&ok(s));
    }
}
