//! The Internet checksum (RFC 1071) over IP, TCP, UDP and ICMP headers, for the rule
//! keywords that check it (`tcpv4-csum` …). smoltcp computes it too, but keeps the function
//! private.

use std::net::IpAddr;

/// The one's-complement sum of `data` as big-endian 16-bit words (an odd last byte padded
/// with zero), added to `acc`, carries not yet folded.
pub fn sum(mut acc: u64, data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// The sum of the TCP/UDP/ICMPv6 pseudo-header for a segment of `length` bytes.
pub fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, length: u32) -> u64 {
    let acc = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => sum(sum(0, &s.octets()), &d.octets()),
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
                IpAddr::V6(a) => a.octets(),
            };
            sum(sum(0, &v6(s)), &v6(d))
        }
    };
    acc + u64::from(protocol) + u64::from(length >> 16) + u64::from(length & 0xffff)
}

/// Whether a sum over data that includes its checksum field folds to all ones (valid).
pub fn is_valid(mut acc: u64) -> bool {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_header_from_rfc_1071_examples_checks() {
        // A real IPv4 header (checksum 0xb861 in place).
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(is_valid(sum(0, &h)));
        let mut bad = h;
        bad[11] ^= 1;
        assert!(!is_valid(sum(0, &bad)));
    }

    #[test]
    fn odd_lengths_pad_with_zero() {
        assert_eq!(sum(0, &[0x01]), 0x0100);
        assert_eq!(sum(0, &[0x01, 0x02, 0x03]), 0x0102 + 0x0300);
    }
}
