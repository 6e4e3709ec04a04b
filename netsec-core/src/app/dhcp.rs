//! DHCP (RFC 2131) and BOOTP (RFC 951) messages with their options (RFC 2132), read in place.
//!
//! [`DhcpMessage::parse`] takes a UDP payload (ports 67/68) and checks the fixed 236-byte BOOTP
//! part; the options after the magic cookie are walked lazily by [`DhcpMessage::options`], and
//! the accessors for the common options ([`message_type`](DhcpMessage::message_type),
//! [`requested_ip`](DhcpMessage::requested_ip), [`hostname`](DhcpMessage::hostname),
//! [`vendor_class`](DhcpMessage::vendor_class), [`server_id`](DhcpMessage::server_id)) return the
//! first occurrence. Nothing is copied; after `parse` succeeds no accessor panics.
//!
//! ```
//! use netsec_core::app::dhcp::{DhcpMessage, MessageType};
//!
//! let mut msg = vec![0u8; 236];
//! msg[0] = 1; // BOOTREQUEST
//! msg[1] = 1; // Ethernet
//! msg[2] = 6;
//! msg[28..34].copy_from_slice(&[0x00, 0x0c, 0x29, 0x01, 0x02, 0x03]); // chaddr
//! msg.extend_from_slice(&[99, 130, 83, 99]); // magic cookie
//! msg.extend_from_slice(&[53, 1, 1]); // DHCPDISCOVER
//! msg.extend_from_slice(&[12, 4, b'h', b'o', b's', b't']);
//! msg.extend_from_slice(&[50, 4, 192, 168, 1, 20, 255]);
//! let dhcp = DhcpMessage::parse(&msg)?;
//! assert_eq!(dhcp.message_type(), Some(MessageType::DISCOVER));
//! assert_eq!(dhcp.client_mac(), Some([0x00, 0x0c, 0x29, 0x01, 0x02, 0x03]));
//! assert_eq!(dhcp.hostname(), Some(&b"host"[..]));
//! assert_eq!(dhcp.requested_ip(), Some([192, 168, 1, 20].into()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Not handled
//! - Option overload (option 52: more options in `sname`/`file`) is not followed.
//! - Long options split over several instances (RFC 3396) are not concatenated: the accessors
//!   return the first instance.
//! - DHCPv6 (UDP 546/547) is a different protocol and not parsed here.
//! - A message cut by the snap length yields the options that are whole.

use std::net::Ipv4Addr;

/// Length of the fixed BOOTP part before the options (RFC 2131 §2).
pub const BOOTP_LEN: usize = 236;
/// The magic cookie that starts the DHCP options (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];

mod field {
    use core::ops::Range;
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Range<usize> = 4..8;
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..44;
    pub const COOKIE: Range<usize> = 236..240;
}

/// Option codes the accessors use (RFC 2132).
pub mod code {
    /// Padding (no length byte).
    pub const PAD: u8 = 0;
    /// Host name (option 12).
    pub const HOSTNAME: u8 = 12;
    /// Requested IP address (option 50).
    pub const REQUESTED_IP: u8 = 50;
    /// DHCP message type (option 53).
    pub const MESSAGE_TYPE: u8 = 53;
    /// Server identifier (option 54).
    pub const SERVER_ID: u8 = 54;
    /// Parameter request list (option 55).
    pub const PARAMETER_LIST: u8 = 55;
    /// Vendor class identifier (option 60).
    pub const VENDOR_CLASS: u8 = 60;
    /// Client identifier (option 61).
    pub const CLIENT_ID: u8 = 61;
    /// End of options (no length byte).
    pub const END: u8 = 255;
}

/// Why a payload is not a BOOTP/DHCP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DhcpError {
    /// Shorter than the 236-byte BOOTP part.
    #[error("BOOTP message truncated: {actual} of {BOOTP_LEN} bytes")]
    TooShort {
        /// Bytes available.
        actual: usize,
    },
    /// `op` is neither 1 (request) nor 2 (reply).
    #[error("BOOTP op {0} is neither request nor reply")]
    BadOp(u8),
}

/// A DHCP message type (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageType(pub u8);

impl MessageType {
    /// DHCPDISCOVER.
    pub const DISCOVER: MessageType = MessageType(1);
    /// DHCPOFFER.
    pub const OFFER: MessageType = MessageType(2);
    /// DHCPREQUEST.
    pub const REQUEST: MessageType = MessageType(3);
    /// DHCPDECLINE.
    pub const DECLINE: MessageType = MessageType(4);
    /// DHCPACK.
    pub const ACK: MessageType = MessageType(5);
    /// DHCPNAK.
    pub const NAK: MessageType = MessageType(6);
    /// DHCPRELEASE.
    pub const RELEASE: MessageType = MessageType(7);
    /// DHCPINFORM.
    pub const INFORM: MessageType = MessageType(8);

    /// Upper-case name (`"DISCOVER"` …), `None` for values outside 1–8.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 8] = [
            "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
        ];
        NAMES.get(usize::from(self.0).checked_sub(1)?).copied()
    }
}

/// One option: its code and value bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    /// Option code.
    pub code: u8,
    /// Value (without code and length bytes).
    pub data: &'a [u8],
}

/// Iterator over the options; stops at END, at the end of the payload, or at an option whose
/// value runs past the end.
#[derive(Debug, Clone)]
pub struct DhcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for DhcpOptions<'a> {
    type Item = DhcpOption<'a>;

    fn next(&mut self) -> Option<DhcpOption<'a>> {
        loop {
            let (&code, tail) = self.rest.split_first()?;
            match code {
                code::PAD => self.rest = tail,
                code::END => {
                    self.rest = &[];
                    return None;
                }
                _ => {
                    let Some((&len, tail)) = tail.split_first() else {
                        self.rest = &[];
                        return None;
                    };
                    let len = usize::from(len);
                    let (Some(data), Some(rest)) = (tail.get(..len), tail.get(len..)) else {
                        self.rest = &[];
                        return None;
                    };
                    self.rest = rest;
                    return Some(DhcpOption { code, data });
                }
            }
        }
    }
}

/// A BOOTP/DHCP message borrowed from a UDP payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpMessage<'a> {
    buf: &'a [u8],
}

impl<'a> DhcpMessage<'a> {
    /// Checks the fixed BOOTP part of `payload`.
    ///
    /// # Errors
    /// [`DhcpError::TooShort`] below 236 bytes, [`DhcpError::BadOp`] when `op` is not 1 or 2.
    pub fn parse(payload: &'a [u8]) -> Result<Self, DhcpError> {
        if payload.len() < BOOTP_LEN {
            return Err(DhcpError::TooShort {
                actual: payload.len(),
            });
        }
        match payload[field::OP] {
            1 | 2 => Ok(DhcpMessage { buf: payload }),
            op => Err(DhcpError::BadOp(op)),
        }
    }

    fn addr(&self, r: core::ops::Range<usize>) -> Ipv4Addr {
        let mut a = [0u8; 4];
        if let Some(b) = self.buf.get(r) {
            a.copy_from_slice(b);
        }
        Ipv4Addr::from(a)
    }

    /// `op`: 1 BOOTREQUEST (client to server), 2 BOOTREPLY.
    pub fn op(&self) -> u8 {
        self.buf[field::OP]
    }
    /// Whether this is a BOOTREQUEST (sent by a client).
    pub fn is_request(&self) -> bool {
        self.op() == 1
    }
    /// Hardware address type (1 = Ethernet).
    pub fn htype(&self) -> u8 {
        self.buf[field::HTYPE]
    }
    /// Hardware address length.
    pub fn hlen(&self) -> u8 {
        self.buf[field::HLEN]
    }
    /// Relay hops.
    pub fn hops(&self) -> u8 {
        self.buf[field::HOPS]
    }
    /// Transaction id.
    pub fn xid(&self) -> u32 {
        let mut x = [0u8; 4];
        x.copy_from_slice(&self.buf[field::XID]);
        u32::from_be_bytes(x)
    }
    /// Flags (bit 15: broadcast).
    pub fn flags(&self) -> u16 {
        u16::from_be_bytes([
            self.buf[field::FLAGS.start],
            self.buf[field::FLAGS.start + 1],
        ])
    }
    /// `ciaddr`: the client's current address (renewing clients).
    pub fn ciaddr(&self) -> Ipv4Addr {
        self.addr(field::CIADDR)
    }
    /// `yiaddr`: the address the server assigns ("your" address).
    pub fn yiaddr(&self) -> Ipv4Addr {
        self.addr(field::YIADDR)
    }
    /// `siaddr`: the next server (boot server).
    pub fn siaddr(&self) -> Ipv4Addr {
        self.addr(field::SIADDR)
    }
    /// `giaddr`: the relay agent.
    pub fn giaddr(&self) -> Ipv4Addr {
        self.addr(field::GIADDR)
    }
    /// `chaddr`, cut to `hlen` (at most 16 bytes).
    pub fn chaddr(&self) -> &'a [u8] {
        let n = usize::from(self.hlen()).min(field::CHADDR.len());
        &self.buf[field::CHADDR.start..field::CHADDR.start + n]
    }
    /// The client MAC address: the first 6 bytes of `chaddr` when `htype` is Ethernet (1) and
    /// `hlen` is 6, as Wireshark and Zeek read it.
    pub fn client_mac(&self) -> Option<[u8; 6]> {
        if self.htype() != 1 || self.hlen() != 6 {
            return None;
        }
        <[u8; 6]>::try_from(self.chaddr()).ok()
    }
    /// Whether the DHCP magic cookie follows the BOOTP part (plain BOOTP has none).
    pub fn is_dhcp(&self) -> bool {
        self.buf.get(field::COOKIE) == Some(&MAGIC_COOKIE[..])
    }

    /// The options after the magic cookie (none without the cookie).
    pub fn options(&self) -> DhcpOptions<'a> {
        let rest = if self.is_dhcp() {
            self.buf.get(field::COOKIE.end..).unwrap_or(&[])
        } else {
            &[]
        };
        DhcpOptions { rest }
    }

    /// The value of the first option with `code`.
    pub fn option(&self, code: u8) -> Option<&'a [u8]> {
        self.options().find(|o| o.code == code).map(|o| o.data)
    }

    fn option_addr(&self, code: u8) -> Option<Ipv4Addr> {
        <[u8; 4]>::try_from(self.option(code)?)
            .ok()
            .map(Ipv4Addr::from)
    }

    /// DHCP message type (option 53); `None` for plain BOOTP or a malformed option.
    pub fn message_type(&self) -> Option<MessageType> {
        match self.option(code::MESSAGE_TYPE)? {
            [t] => Some(MessageType(*t)),
            _ => None,
        }
    }
    /// Requested IP address (option 50), when it is 4 bytes long.
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        self.option_addr(code::REQUESTED_IP)
    }
    /// Server identifier (option 54), when it is 4 bytes long.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.option_addr(code::SERVER_ID)
    }
    /// Host name (option 12), raw bytes (usually ASCII; may end with NUL on some clients).
    pub fn hostname(&self) -> Option<&'a [u8]> {
        self.option(code::HOSTNAME)
    }
    /// Vendor class identifier (option 60), raw bytes (`"MSFT 5.0"`, `"android-dhcp-13"` …).
    pub fn vendor_class(&self) -> Option<&'a [u8]> {
        self.option(code::VENDOR_CLASS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Vec<u8> {
        let mut m = vec![0u8; BOOTP_LEN];
        m[0] = 1;
        m[1] = 1;
        m[2] = 6;
        m[4..8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        m[10] = 0x80;
        m[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        m.extend_from_slice(&MAGIC_COOKIE);
        m.extend_from_slice(&[53, 1, 3, 0, 0]); // REQUEST, then padding
        m.extend_from_slice(&[50, 4, 10, 0, 0, 5, 54, 4, 10, 0, 0, 1]);
        m.extend_from_slice(&[12, 3, b'p', b'c', b'1', 60, 8]);
        m.extend_from_slice(b"MSFT 5.0");
        m.extend_from_slice(&[12, 3, b'x', b'x', b'x', 255, 12, 1, b'z']);
        m
    }

    #[test]
    fn reads_fields_and_options() {
        let m = request();
        let d = DhcpMessage::parse(&m).expect("parses");
        assert!(d.is_request() && d.is_dhcp());
        assert_eq!((d.htype(), d.hlen(), d.hops()), (1, 6, 0));
        assert_eq!((d.xid(), d.flags()), (0xdeadbeef, 0x8000));
        assert_eq!(d.client_mac(), Some([2, 0, 0, 0, 0, 9]));
        assert_eq!(d.message_type(), Some(MessageType::REQUEST));
        assert_eq!(
            d.message_type().and_then(MessageType::name),
            Some("REQUEST")
        );
        assert_eq!(d.requested_ip(), Some(Ipv4Addr::new(10, 0, 0, 5)));
        assert_eq!(d.server_id(), Some(Ipv4Addr::new(10, 0, 0, 1)));
        // First instance wins; nothing after END is read.
        assert_eq!(d.hostname(), Some(&b"pc1"[..]));
        assert_eq!(d.vendor_class(), Some(&b"MSFT 5.0"[..]));
        assert_eq!(d.options().count(), 6);
        assert_eq!(d.yiaddr(), Ipv4Addr::UNSPECIFIED);
    }

    #[test]
    fn truncated_prefixes_never_panic() {
        let m = request();
        for n in 0..m.len() {
            match DhcpMessage::parse(&m[..n]) {
                Ok(d) => {
                    assert!(n >= BOOTP_LEN);
                    let _ = (d.message_type(), d.hostname(), d.vendor_class());
                    let _ = (d.requested_ip(), d.server_id(), d.client_mac());
                    assert!(d.options().count() <= 6);
                }
                Err(e) => assert_eq!(e, DhcpError::TooShort { actual: n }),
            }
        }
    }

    #[test]
    fn rejects_bad_op_and_handles_plain_bootp() {
        let mut m = request();
        m[0] = 3;
        assert_eq!(DhcpMessage::parse(&m), Err(DhcpError::BadOp(3)));
        m[0] = 2;
        m[236] = 0; // no cookie: BOOTP
        let d = DhcpMessage::parse(&m).expect("bootp");
        assert!(!d.is_dhcp());
        assert_eq!((d.message_type(), d.options().count()), (None, 0));
        // A non-Ethernet hardware type has no MAC.
        m[1] = 6;
        assert_eq!(DhcpMessage::parse(&m).expect("bootp").client_mac(), None);
    }

    #[test]
    fn wrong_length_options_are_none() {
        let mut m = request();
        m.truncate(240);
        m.extend_from_slice(&[53, 2, 1, 1, 50, 3, 1, 2, 3, 12, 9, b'a']);
        let d = DhcpMessage::parse(&m).expect("parses");
        assert_eq!(
            (d.message_type(), d.requested_ip(), d.hostname()),
            (None, None, None)
        );
        assert_eq!(MessageType(9).name(), None);
        assert_eq!(MessageType(0).name(), None);
    }
}
