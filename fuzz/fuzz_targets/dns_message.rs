#![no_main]
//! Any bytes as a DNS message (UDP payload, then TCP segment): parsing never panics or loops,
//! and every accessor of a parsed message holds its documented bounds.

use netsec_core::app::dns::{DnsMessage, RData, MAX_NAME_TEXT_LEN, MAX_NAME_WIRE_LEN};

fn walk(msg: &DnsMessage<'_>) {
    let mut buf = [0u8; MAX_NAME_WIRE_LEN];
    let mut text = String::new();
    let mut check = |name: netsec_core::app::dns::Name<'_>| {
        let len = name.text_len();
        assert!(len <= MAX_NAME_TEXT_LEN);
        assert_eq!(name.write_dotted(&mut buf).len(), len);
        text.clear();
        name.write_escaped(&mut text).expect("String never fails");
    };
    let _ = (
        msg.id(),
        msg.flags().rcode(),
        msg.counts(),
        msg.records_complete(),
    );
    for q in msg.questions() {
        check(q.name);
    }
    for r in msg.records() {
        check(r.name);
        match r.data() {
            RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) => check(n),
            RData::Txt(t) => assert!(t.map(<[u8]>::len).sum::<usize>() < r.rdata.len().max(1)),
            _ => {}
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = DnsMessage::parse(data) {
        walk(&msg);
    }
    if let Ok((msg, rest)) = DnsMessage::parse_tcp(data) {
        assert!(rest.len() + msg.as_bytes().len() + 2 == data.len());
        walk(&msg);
    }
});
