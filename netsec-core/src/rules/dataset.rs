//! `dataset` (Suricata 6+): sets of buffer values that rules test and change; `datarep`:
//! their values' reputations compared.
//!
//! `dataset:<isset|isnotset|set|unset>,<name>,type <string|md5|sha256|ipv4|ip>[,load
//! <file>][,save <file>][,state <file>][,memcap <n>][,hashsize <n>]` looks the current
//! buffer up in the set `name`: `isset`/`isnotset` match on membership, `set` matches when
//! it adds the value (it was absent), `unset` when it removes it. Sets are shared by name
//! across rules and start from their `load` file (or `state` file): one value per line,
//! base64 for `string`, hex for `md5`/`sha256`, an address for `ipv4`/`ip`, then for a
//! `datarep` set a comma and the value's reputation. `datarep:<name>,<op>,<n>,…` matches
//! when the buffer's value is in the set with a reputation comparing as asked. Relative file names are resolved against
//! the directory of the rule file. Sets are kept in memory only: `save` and `state` files
//! are not written.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use base64::Engine as _;
use foldhash::fast::RandomState;

use super::ast::{DatasetCommand, DatasetKind};

/// Most values one set holds at run time; a `set` beyond it is not made (and counted).
pub const MAX_DATASET_ENTRIES: usize = 1 << 16;

/// One set: its name, kind and starting values.
#[derive(Debug, Clone)]
pub(crate) struct DatasetDef {
    pub(crate) name: String,
    pub(crate) kind: DatasetKind,
    /// Each value with its reputation (0 when its file gives none).
    pub(crate) values: HashMap<Box<[u8]>, u32, RandomState>,
}

/// The value of a buffer as a set of `kind` stores it: addresses as 4 bytes (IPv4, and
/// IPv4-mapped IPv6 in an `ip` set) or 16; others as they are.
fn key(kind: DatasetKind, value: &[u8]) -> &[u8] {
    match (kind, value.len()) {
        (DatasetKind::Ip, 16) if value[..12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] => {
            &value[12..]
        }
        _ => value,
    }
}

/// A set's value with its reputation.
pub(crate) type RepValue = (Box<[u8]>, u32);

/// Reads a set's file: one value per line, as `kind` writes them, optionally followed by a
/// comma and its reputation (a `datarep` file).
///
/// # Errors
/// A line that is not a value of `kind` (or whose reputation is not a number), naming its
/// number; or the file's read error.
pub(crate) fn load(path: &Path, kind: DatasetKind) -> Result<Vec<RepValue>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("dataset file {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let (value, rep) = match line.split_once(',') {
            Some((v, r)) => (v.trim(), Some(r.trim())),
            None => (line.trim(), None),
        };
        if value.is_empty() || value.starts_with('#') {
            continue;
        }
        let bad = |what: &str| {
            format!(
                "dataset file {} line {}: not a {what}: {line:?}",
                path.display(),
                i + 1
            )
        };
        let parsed =
            parse_value(kind, value).ok_or_else(|| bad(&format!("{} value", kind.as_str())))?;
        let rep = match rep {
            Some(r) => r.parse().map_err(|_| bad("reputation"))?,
            None => 0,
        };
        out.push((parsed.into_boxed_slice(), rep));
    }
    Ok(out)
}

/// One value as a set file writes it.
fn parse_value(kind: DatasetKind, s: &str) -> Option<Vec<u8>> {
    match kind {
        DatasetKind::String => base64::engine::general_purpose::STANDARD.decode(s).ok(),
        DatasetKind::Md5 => hex(s, 16),
        DatasetKind::Sha256 => hex(s, 32),
        DatasetKind::Ipv4 => match s.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => Some(a.octets().to_vec()),
            IpAddr::V6(a) => a.to_ipv4_mapped().map(|a| a.octets().to_vec()),
        },
        DatasetKind::Ip => Some(match s.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => key(DatasetKind::Ip, &a.octets()).to_vec(),
        }),
    }
}

fn hex(s: &str, len: usize) -> Option<Vec<u8>> {
    if s.len() != 2 * len || !s.is_ascii() {
        return None;
    }
    (0..len)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// The sets of one rule detector, changed by `set` and `unset` as packets go by.
#[derive(Debug, Clone, Default)]
pub(crate) struct Datasets {
    sets: Vec<DatasetDef>,
    /// `set` commands not carried out because the set was full.
    pub(crate) drops: u64,
}

impl Datasets {
    pub(crate) fn new(sets: Vec<DatasetDef>) -> Datasets {
        Datasets { sets, drops: 0 }
    }

    /// Runs one command on set `id` with `value`; whether it matches.
    pub(crate) fn apply(&mut self, id: u32, command: DatasetCommand, value: &[u8]) -> bool {
        let Some(set) = self.sets.get_mut(id as usize) else {
            return false;
        };
        let value = key(set.kind, value);
        match command {
            DatasetCommand::IsSet => set.values.contains_key(value),
            DatasetCommand::IsNotSet => !set.values.contains_key(value),
            DatasetCommand::Set => {
                if set.values.contains_key(value) {
                    false
                } else if set.values.len() >= MAX_DATASET_ENTRIES {
                    self.drops += 1;
                    false
                } else {
                    set.values.insert(value.into(), 0).is_none()
                }
            }
            DatasetCommand::Unset => set.values.remove(value).is_some(),
            DatasetCommand::Rep(cmp) => set
                .values
                .get(value)
                .is_some_and(|&rep| cmp.matches(u64::from(rep))),
        }
    }

    /// Values held now, over all sets.
    pub(crate) fn len(&self) -> usize {
        self.sets.iter().map(|s| s.values.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ast::UintCmp;

    fn def(kind: DatasetKind, values: &[&[u8]]) -> DatasetDef {
        DatasetDef {
            name: "s".into(),
            kind,
            values: values
                .iter()
                .enumerate()
                .map(|(i, v)| (Box::<[u8]>::from(*v), i as u32 * 100))
                .collect(),
        }
    }

    #[test]
    fn commands_follow_suricata() {
        let mut d = Datasets::new(vec![def(DatasetKind::String, &[b"curl"])]);
        assert!(d.apply(0, DatasetCommand::IsSet, b"curl"));
        assert!(!d.apply(0, DatasetCommand::IsNotSet, b"curl"));
        assert!(d.apply(0, DatasetCommand::Set, b"wget"), "added");
        assert!(!d.apply(0, DatasetCommand::Set, b"wget"), "already there");
        assert!(d.apply(0, DatasetCommand::Unset, b"wget"), "removed");
        assert!(!d.apply(0, DatasetCommand::Unset, b"wget"));
        assert!(!d.apply(7, DatasetCommand::IsSet, b"curl"), "no such set");
    }

    #[test]
    fn datarep_compares_the_reputation_of_values_in_the_set() {
        // Reputations 0 and 100.
        let mut d = Datasets::new(vec![def(DatasetKind::String, &[b"a", b"b"])]);
        let rep = |cmp| DatasetCommand::Rep(cmp);
        assert!(d.apply(0, rep(UintCmp::Gt(50)), b"b"));
        assert!(!d.apply(0, rep(UintCmp::Gt(50)), b"a"));
        assert!(d.apply(0, rep(UintCmp::Eq(0)), b"a"));
        assert!(
            !d.apply(0, rep(UintCmp::Lt(1000)), b"absent"),
            "not in the set"
        );
    }

    #[test]
    fn ip_sets_hold_ipv4_as_four_bytes() {
        let mut d = Datasets::new(vec![def(DatasetKind::Ip, &[&[10, 0, 0, 1]])]);
        let mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1];
        assert!(d.apply(0, DatasetCommand::IsSet, &[10, 0, 0, 1]));
        assert!(d.apply(0, DatasetCommand::IsSet, &mapped));
    }

    #[test]
    fn files_load_per_kind_and_name_bad_lines() {
        let dir = std::env::temp_dir().join(format!("netsec-dataset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("ua.csv");
        std::fs::write(&file, "Y3VybA==\n\nd2dldA==,5\n").expect("write");
        let values = load(&file, DatasetKind::String).expect("loads");
        assert_eq!(
            values,
            vec![
                (Box::<[u8]>::from(&b"curl"[..]), 0),
                (Box::from(&b"wget"[..]), 5)
            ]
        );
        std::fs::write(&file, "Y3VybA==,high\n").expect("write");
        let err = load(&file, DatasetKind::String).expect_err("a reputation is a number");
        assert!(
            err.contains("line 1") && err.contains("reputation"),
            "{err}"
        );
        std::fs::write(&file, "10.0.0.1\n::ffff:10.0.0.2\n2001:db8::1\n").expect("write");
        let values = load(&file, DatasetKind::Ip).expect("loads");
        assert_eq!(
            values.iter().map(|(v, _)| v.len()).collect::<Vec<_>>(),
            [4, 4, 16]
        );
        let err = load(&file, DatasetKind::Ipv4).expect_err("IPv6 in an ipv4 set");
        assert!(err.contains("line 3"), "{err}");
        std::fs::write(&file, "not base64!\n").expect("write");
        assert!(load(&file, DatasetKind::String).is_err());
        assert!(load(&dir.join("missing.csv"), DatasetKind::String)
            .expect_err("missing")
            .contains("missing.csv"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn hashes_are_hex() {
        assert_eq!(
            parse_value(DatasetKind::Md5, &"ab".repeat(16)),
            Some(vec![0xab; 16])
        );
        assert_eq!(parse_value(DatasetKind::Md5, "abc"), None);
        assert_eq!(
            parse_value(DatasetKind::Sha256, &"0".repeat(64)),
            Some(vec![0; 32])
        );
    }
}
