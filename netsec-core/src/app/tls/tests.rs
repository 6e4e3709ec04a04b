use super::*;

/// Builds a TLS record holding one ClientHello with these ciphers and extensions.
fn client_hello(ciphers: &[u16], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend([7u8; 32]);
    body.push(0); // session id
    body.extend(((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        body.extend(c.to_be_bytes());
    }
    body.extend([1, 0]); // compression: null
    let mut block = Vec::new();
    for (kind, data) in exts {
        block.extend(kind.to_be_bytes());
        block.extend((data.len() as u16).to_be_bytes());
        block.extend(data);
    }
    body.extend((block.len() as u16).to_be_bytes());
    body.extend(block);
    record(1, &body)
}

fn record(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut msg = vec![kind];
    msg.extend(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend(body);
    let mut rec = vec![22, 3, 1];
    rec.extend((msg.len() as u16).to_be_bytes());
    rec.extend(msg);
    rec
}

fn list16(items: &[u16]) -> Vec<u8> {
    let mut v = ((items.len() * 2) as u16).to_be_bytes().to_vec();
    for i in items {
        v.extend(i.to_be_bytes());
    }
    v
}

fn sni(name: &str) -> Vec<u8> {
    let mut entry = vec![0];
    entry.extend((name.len() as u16).to_be_bytes());
    entry.extend(name.as_bytes());
    let mut v = (entry.len() as u16).to_be_bytes().to_vec();
    v.extend(entry);
    v
}

fn alpn(names: &[&str]) -> Vec<u8> {
    let mut list = Vec::new();
    for n in names {
        list.push(n.len() as u8);
        list.extend(n.as_bytes());
    }
    let mut v = (list.len() as u16).to_be_bytes().to_vec();
    v.extend(list);
    v
}

/// The ClientHello of FoxIO's published JA4 example (Chrome), with GREASE added in front of
/// the ciphers and extensions as Chrome sends it: `JA4=t13d1516h2_8daaf6152771_e5627efa2ab1`,
/// `JA4_r=t13d1516h2_002f,0035,…,cca9_0005,000a,…,ff01_0403,0804,…,0601`.
fn foxio_example() -> Vec<u8> {
    let ciphers = [
        0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
        0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let sig_algs = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];
    let mut versions = vec![6u8];
    for v in [0x8a8au16, 0x0304, 0x0303] {
        versions.extend(v.to_be_bytes());
    }
    let exts = vec![
        (0x4a4a, vec![]),
        (0x0000, sni("example.com")),
        (0x0017, vec![]),
        (0xff01, vec![0]),
        (0x000a, list16(&[0x1a1a, 0x001d, 0x0017])),
        (0x000b, vec![1, 0]),
        (0x0023, vec![]),
        (0x0010, alpn(&["h2", "http/1.1"])),
        (0x0005, vec![1, 0, 0, 0, 0]),
        (0x000d, list16(&sig_algs)),
        (0x0012, vec![]),
        (0x0033, vec![0, 0]),
        (0x002d, vec![1, 1]),
        (0x002b, versions),
        (0x001b, vec![0, 2, 0, 2]),
        (0x4469, vec![0, 0]),
        (0x0015, vec![0; 4]),
        (0xfafa, vec![0]),
    ];
    client_hello(&ciphers, &exts)
}

#[test]
fn ja4_matches_the_published_example() {
    let bytes = foxio_example();
    let Ok(Hello::Client(hello)) = parse(&bytes) else {
        panic!("parses");
    };
    assert!(hello.complete);
    assert_eq!(hello.sni_str(), Some("example.com"));
    assert_eq!(hello.version(), 0x0304);
    let alpn: Vec<&[u8]> = hello.alpn().collect();
    assert_eq!(alpn, [&b"h2"[..], b"http/1.1"]);
    assert_eq!(
        hello.ja4().map(|j| j.to_string()).as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
}

#[test]
fn ja3_of_a_simple_hello() {
    // JA3 string "771,49195-49199,0-11,,0": computed by hand below.
    let bytes = client_hello(
        &[0xc02b, 0x0a0a, 0xc02f],
        &[(0, sni("a.b")), (0x0a0a, vec![]), (11, vec![1, 0])],
    );
    let Ok(Hello::Client(hello)) = parse(&bytes) else {
        panic!("parses");
    };
    let expected = format!("{:x}", Md5::digest(b"771,49195-49199,0-11,,0"));
    assert_eq!(hello.ja3().map(|j| j.to_string()), Some(expected));
    // 2 ciphers, 2 extensions (GREASE ignored), no ALPN, no signature algorithms.
    let ja4 = hello.ja4().expect("complete").to_string();
    assert!(ja4.starts_with("t12d020200_"), "{ja4}");
    let c = format!("{:x}", Sha256::digest(b"000b"));
    assert!(ja4.ends_with(&c[..12]), "{ja4}");
}

#[test]
fn ja4_edge_cases() {
    assert_eq!(ja4_alpn(None), *b"00");
    assert_eq!(ja4_alpn(Some(b"")), *b"00");
    assert_eq!(ja4_alpn(Some(b"h")), *b"hh");
    assert_eq!(ja4_alpn(Some(b"http/1.1")), *b"h1");
    assert_eq!(ja4_alpn(Some(&[0xab, b'x', 0xcd])), *b"ad");
    assert_eq!(two_digits(7), *b"07");
    assert_eq!(two_digits(1234), *b"99");
    assert!(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a));
    // No ciphers and no extensions: both hashes are zeros, no SNI is `i`.
    let bytes = client_hello(&[], &[]);
    let Ok(Hello::Client(hello)) = parse(&bytes) else {
        panic!("parses");
    };
    assert_eq!(
        hello.ja4().expect("complete").as_str(),
        "t12i000000_000000000000_000000000000"
    );
}

#[test]
fn truncated_hello_keeps_early_extensions() {
    let bytes = foxio_example();
    // Cut inside the extension block, after SNI.
    let cut = &bytes[..bytes.len() - 30];
    let Ok(Hello::Client(hello)) = parse(cut) else {
        panic!("parses");
    };
    assert!(!hello.complete);
    assert_eq!(hello.sni_str(), Some("example.com"));
    assert_eq!(hello.ja4(), None);
    assert_eq!(hello.ja3(), None);
}

#[test]
fn server_hello_version_and_cipher() {
    let mut body = vec![3, 3];
    body.extend([1u8; 32]);
    body.push(0);
    body.extend([0x13, 0x01, 0]);
    body.extend([0, 6, 0, 43, 0, 2, 3, 4]);
    let Ok(Hello::Server(hello)) = parse(&record(2, &body)) else {
        panic!("parses");
    };
    assert_eq!(hello.cipher, 0x1301);
    assert_eq!(hello.version(), 0x0304);
    assert_eq!(version_name(hello.version()), Some("TLS 1.3"));
    // Without extensions: the legacy version.
    let Ok(Hello::Server(hello)) = parse(&record(2, &body[..38])) else {
        panic!("parses");
    };
    assert_eq!((hello.version(), hello.cipher), (0x0303, 0x1301));
}

#[test]
fn alert_before_the_hello_is_skipped() {
    let mut body = vec![3, 3];
    body.extend([1u8; 32]);
    body.extend([0, 0xc0, 0x2f, 0]);
    let mut bytes = vec![21, 3, 3, 0, 2, 1, 112];
    bytes.extend(record(2, &body));
    let Ok(Hello::Server(hello)) = parse(&bytes) else {
        panic!("parses");
    };
    assert_eq!(hello.cipher, 0xc02f);
    bytes[0] = 23; // application data first: not a hello
    assert_eq!(parse(&bytes), Err(TlsError::NotTls));
}

#[test]
fn rejects_what_is_not_a_hello() {
    assert_eq!(parse(b""), Err(TlsError::NotTls));
    assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Err(TlsError::NotTls));
    assert_eq!(
        parse(&[23, 3, 3, 0, 5, 1, 2, 3, 4, 5]),
        Err(TlsError::NotTls)
    );
    assert_eq!(parse(&record(11, &[0; 8])), Err(TlsError::OtherMessage(11)));
    assert_eq!(parse(&record(1, &[3, 3, 0])), Err(TlsError::Truncated));
}

#[test]
fn every_prefix_and_garbage_is_harmless() {
    let bytes = foxio_example();
    for n in 0..bytes.len() {
        if let Ok(Hello::Client(h)) = parse(&bytes[..n]) {
            let _ = (h.ja4(), h.ja3(), h.version(), h.alpn().count());
        }
    }
    let mut x = 0x1234_5678u32;
    for _ in 0..2000 {
        let mut b = bytes.clone();
        for _ in 0..4 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let i = x as usize % b.len();
            b[i] = (x >> 8) as u8;
        }
        if let Ok(Hello::Client(h)) = parse(&b) {
            let _ = (h.ja4(), h.ja3(), h.version(), h.alpn().count());
        }
    }
}
