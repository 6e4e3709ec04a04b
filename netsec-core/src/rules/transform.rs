//! Compiled buffer transforms (`to_lowercase`, `xor`, `pcrexform` …): a rule's chain of them
//! applied, in order, to a copy of the buffer it inspects.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::ast::Transform;

/// One compiled transform.
#[derive(Debug, Clone)]
enum Step {
    DotPrefix,
    ToLowercase,
    ToUppercase,
    StripWhitespace,
    CompressWhitespace,
    UrlDecode,
    ToMd5,
    ToSha1,
    ToSha256,
    Xor(Vec<u8>),
    Pcrexform(regex::bytes::Regex),
}

/// The transforms a rule applies to one buffer, in order.
#[derive(Debug, Clone)]
pub(crate) struct TransformChain {
    steps: Vec<Step>,
}

impl TransformChain {
    /// Compiles `transforms`; the error names a `pcrexform` the regex crate cannot take or
    /// one without a capture group.
    pub(crate) fn compile(transforms: &[Transform]) -> Result<TransformChain, String> {
        let steps = transforms
            .iter()
            .map(|t| {
                Ok(match t {
                    Transform::DotPrefix => Step::DotPrefix,
                    Transform::ToLowercase => Step::ToLowercase,
                    Transform::ToUppercase => Step::ToUppercase,
                    Transform::StripWhitespace => Step::StripWhitespace,
                    Transform::CompressWhitespace => Step::CompressWhitespace,
                    Transform::UrlDecode => Step::UrlDecode,
                    Transform::ToMd5 => Step::ToMd5,
                    Transform::ToSha1 => Step::ToSha1,
                    Transform::ToSha256 => Step::ToSha256,
                    Transform::Xor(key) => Step::Xor(key.clone()),
                    Transform::Pcrexform(re) => {
                        let regex = regex::bytes::RegexBuilder::new(&format!("(?s-u){re}"))
                            .size_limit(1 << 20)
                            .build()
                            .map_err(|e| format!("pcrexform {re:?}: {e}"))?;
                        if regex.captures_len() < 2 {
                            return Err(format!("pcrexform {re:?} has no capture group"));
                        }
                        Step::Pcrexform(regex)
                    }
                })
            })
            .collect::<Result<Vec<Step>, String>>()?;
        Ok(TransformChain { steps })
    }

    /// Whether the chain is `dotprefix` alone (whose literals the prefilter can look for
    /// without the dot, and whose buffer is cached per packet).
    pub(crate) fn is_dotprefix(&self) -> bool {
        matches!(self.steps[..], [Step::DotPrefix])
    }

    /// Applies the chain to `buf` in place, using `tmp` as scratch.
    pub(crate) fn apply(&self, buf: &mut Vec<u8>, tmp: &mut Vec<u8>) {
        for step in &self.steps {
            match step {
                Step::DotPrefix => buf.insert(0, b'.'),
                Step::ToLowercase => buf.make_ascii_lowercase(),
                Step::ToUppercase => buf.make_ascii_uppercase(),
                Step::StripWhitespace => buf.retain(|b| !b.is_ascii_whitespace()),
                Step::CompressWhitespace => {
                    let mut prev_space = false;
                    buf.retain_mut(|b| {
                        let space = b.is_ascii_whitespace();
                        let keep = !(space && prev_space);
                        if space {
                            *b = b' ';
                        }
                        prev_space = space;
                        keep
                    });
                }
                Step::UrlDecode => url_decode(buf, tmp),
                Step::ToMd5 => replace(buf, &Md5::digest(&buf[..])),
                Step::ToSha1 => replace(buf, &Sha1::digest(&buf[..])),
                Step::ToSha256 => replace(buf, &Sha256::digest(&buf[..])),
                Step::Xor(key) => {
                    for (b, k) in buf.iter_mut().zip(key.iter().cycle()) {
                        *b ^= k;
                    }
                }
                Step::Pcrexform(re) => {
                    let group = re.captures(buf).and_then(|c| c.get(1)).map(|m| m.range());
                    if let Some(r) = group {
                        tmp.clear();
                        tmp.extend_from_slice(&buf[r]);
                        std::mem::swap(buf, tmp);
                    }
                }
            }
        }
    }
}

fn replace(buf: &mut Vec<u8>, with: &[u8]) {
    buf.clear();
    buf.extend_from_slice(with);
}

/// `%XX` escapes decoded (an invalid one is kept as it is) and `+` made a space.
fn url_decode(buf: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    let hex = |b: u8| (b as char).to_digit(16);
    tmp.clear();
    let mut i = 0;
    while i < buf.len() {
        let b = buf[i];
        let escaped = (b == b'%')
            .then(|| Some((hex(*buf.get(i + 1)?)?, hex(*buf.get(i + 2)?)?)))
            .flatten();
        match (b, escaped) {
            (_, Some((hi, lo))) => {
                tmp.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', None) => {
                tmp.push(b' ');
                i += 1;
            }
            (b, None) => {
                tmp.push(b);
                i += 1;
            }
        }
    }
    std::mem::swap(buf, tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ts: &[Transform], input: &[u8]) -> Vec<u8> {
        let chain = TransformChain::compile(ts).expect("compiles");
        let (mut buf, mut tmp) = (input.to_vec(), Vec::new());
        chain.apply(&mut buf, &mut tmp);
        buf
    }

    #[test]
    fn each_transform_does_what_suricata_documents() {
        use Transform::*;
        assert_eq!(run(&[DotPrefix], b"a.com"), b".a.com");
        assert_eq!(run(&[ToLowercase], b"AbC"), b"abc");
        assert_eq!(run(&[ToUppercase], b"AbC"), b"ABC");
        assert_eq!(run(&[StripWhitespace], b" a b\t\r\nc "), b"abc");
        assert_eq!(run(&[CompressWhitespace], b"a  \t b\r\nc"), b"a b c");
        assert_eq!(run(&[UrlDecode], b"%41+b%zz%4"), b"A b%zz%4");
        assert_eq!(run(&[ToMd5], b"abc").len(), 16);
        assert_eq!(run(&[ToSha1], b"abc").len(), 20);
        assert_eq!(run(&[ToSha256], b"abc")[..2], [0xba, 0x78]);
        assert_eq!(run(&[Xor(vec![0x0d, 0x0a])], b"\x0d\x0a\x0e"), b"\0\0\x03");
        let pcrexform = || Pcrexform(r"[a-zA-Z]+\s+(.*)\s+HTTP".into());
        assert_eq!(run(&[pcrexform()], b"GET /x.jpg HTTP/1.1"), b"/x.jpg");
        // No match: the buffer as it was.
        assert_eq!(run(&[pcrexform()], b"nothing"), b"nothing");
        // In order: decode, then lower-case.
        assert_eq!(run(&[UrlDecode, ToLowercase], b"%41B"), b"ab");
    }

    #[test]
    fn a_pcrexform_needs_a_capture_group_and_a_valid_regex() {
        assert!(TransformChain::compile(&[Transform::Pcrexform("abc".into())]).is_err());
        assert!(TransformChain::compile(&[Transform::Pcrexform("(a".into())]).is_err());
        assert!(TransformChain::compile(&[Transform::DotPrefix])
            .expect("compiles")
            .is_dotprefix());
    }
}
