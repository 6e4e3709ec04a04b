//! `requires:` (Suricata 7.0.3+): the Suricata versions, features and keywords a rule needs.
//!
//! netsec answers as the Suricata it follows, 7.0.10. The check runs on a rule's text before
//! the rest is parsed, so a rule written for a later version (with syntax this one lacks) is
//! skipped quietly, as Suricata skips it, rather than reported malformed.

use super::ast::RuleOption;
use super::parse::parse_rule;

/// The Suricata version whose rules this engine follows.
pub const SURICATA_VERSION: [u64; 3] = [7, 0, 10];

/// The `requires: feature` names this engine provides. None yet: Suricata's `ja4` means JA4
/// for TLS and QUIC, and netsec computes it for TLS only.
const FEATURES: [&str; 0] = [];

/// Why a rule's `requires:` options are not met (`None` when they are, or it has none).
pub(crate) fn unmet(text: &str) -> Option<String> {
    let open = text.find('(')?;
    let close = text.rfind(')').filter(|&c| c > open)?;
    for option in split_unescaped(&text[open + 1..close]) {
        let Some((kw, value)) = option.split_once(':') else {
            continue;
        };
        if kw.trim() != "requires" {
            continue;
        }
        for item in value.split(',') {
            let item = item.trim();
            let (what, arg) = item.split_once(char::is_whitespace).unwrap_or((item, ""));
            let arg = arg.trim();
            let met = match what {
                "version" => version_met(arg),
                "feature" => FEATURES.contains(&arg),
                "keyword" => keyword_known(arg),
                _ => false,
            };
            if !met {
                return Some(format!("requires {item} (netsec follows Suricata 7.0.10)"));
            }
        }
    }
    None
}

/// The options of a rule's option section, split on `;` not escaped by a backslash.
fn split_unescaped(s: &str) -> impl Iterator<Item = &str> {
    let mut escaped = false;
    s.split(move |c| {
        let end = c == ';' && !escaped;
        escaped = c == '\\' && !escaped;
        end
    })
}

/// `>= 7 < 8 | >= 9.0.99`: any `|` alternative whose every comparison holds.
fn version_met(expr: &str) -> bool {
    expr.split('|').any(|alt| {
        let tokens: Vec<&str> = alt.split_whitespace().collect();
        !tokens.is_empty()
            && tokens.len() % 2 == 0
            && tokens.chunks(2).all(|pair| {
                let Some(v) = parse_version(pair[1]) else {
                    return false;
                };
                let ord = SURICATA_VERSION.cmp(&v);
                match pair[0] {
                    ">=" => ord.is_ge(),
                    ">" => ord.is_gt(),
                    "<=" => ord.is_le(),
                    "<" => ord.is_lt(),
                    "=" | "==" => ord.is_eq(),
                    _ => false,
                }
            })
    })
}

/// `7`, `7.0`, `7.0.3` as three numbers (missing ones 0).
fn parse_version(s: &str) -> Option<[u64; 3]> {
    let mut v = [0u64; 3];
    let mut parts = s.split('.');
    for slot in &mut v {
        match parts.next() {
            Some(p) => *slot = p.parse().ok()?,
            None => break,
        }
    }
    parts.next().is_none().then_some(v)
}

/// Whether this engine supports a keyword (written alone or with a value).
fn keyword_known(kw: &str) -> bool {
    if kw.is_empty()
        || !kw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        return false;
    }
    [format!("{kw};"), format!("{kw}:1;")].iter().any(|opt| {
        parse_rule(&format!("alert ip any any -> any any ({opt} sid:1;)")).is_ok_and(|r| {
            !r.options
                .iter()
                .any(|o| matches!(o, RuleOption::Unsupported { .. }))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_suricata_7_0_10() {
        for (expr, met) in [
            (">= 7 < 8", true),
            (">= 7.0.3 < 8 | >= 9.0.99", true),
            (">= 8.0.0", false),
            (">= 8 | < 7", false),
            ("< 7.0.10", false),
            ("<= 7.0.10", true),
            (">= 10", false),
            (">=", false),
            ("7", false),
            (">= 7.x", false),
        ] {
            assert_eq!(version_met(expr), met, "{expr}");
        }
    }

    #[test]
    fn unmet_requirements_name_the_item() {
        let rule = |opts: &str| format!("alert http any any -> any any ({opts} sid:1;)");
        assert_eq!(unmet(&rule("requires: version >= 7 < 8;")), None);
        assert_eq!(unmet(&rule("content:\"a\\;b\";")), None);
        assert!(unmet(&rule("requires: feature ja4;")).is_some());
        let why = unmet(&rule("requires: version >= 8.0.0, keyword sid;")).expect("unmet");
        assert!(why.contains("version >= 8.0.0"), "{why}");
        let why = unmet(&rule("requires: version >= 7, keyword foobar;")).expect("unmet");
        assert!(why.contains("keyword foobar"), "{why}");
        assert!(unmet(&rule("requires: feature output::file-store;")).is_some());
        assert!(unmet(&rule("requires: colour blue;")).is_some());
        // Checked before parsing: later syntax in such a rule is no error.
        assert!(unmet("alert http any any => any any (requires: version >= 10; sid:3;)").is_some());
    }

    #[test]
    fn keywords_known_with_or_without_a_value() {
        assert!(keyword_known("sid") && keyword_known("http.uri") && keyword_known("dsize"));
        assert!(!keyword_known("foobar") && !keyword_known("vxlan_vni") && !keyword_known(""));
    }
}
