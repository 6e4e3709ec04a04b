//! IEEE 802.11 MAC header of data frames (IEEE Std 802.11-2020 §9.2.4, §9.3.2.1), as carried
//! by CAPWAP (RFC 5416 §3) and captured on link types 105 / 127.
//!
//! ```text
//! FC(2) Duration(2) Addr1(6) Addr2(6) Addr3(6) SeqCtl(2) [Addr4(6)] [QoS(2)] [HTC(4)] body
//! ```
//!
//! Frame control, as bytes on the air: byte 0 holds protocol version (bits 0–1, always 0),
//! type (bits 2–3: 0 management, 1 control, 2 data, 3 extension) and subtype (bits 4–7);
//! byte 1 the flags ToDS, FromDS, More Fragments, Retry, Power Management, More Data,
//! Protected Frame and +HTC/Order. Addr4 is present when both ToDS and FromDS are set (WDS);
//! QoS Control when the data subtype has bit 3 set; HT Control when a QoS data frame has the
//! +HTC/Order bit set (§9.2.4.1.10). Subtypes with bit 2 set (Null, CF-Ack/Poll without data,
//! QoS Null …) carry no body.
//!
//! Some CAPWAP implementations (Cisco WLCs) write the 16-bit frame-control and sequence-control
//! fields big-endian, i.e. with their bytes swapped; Wireshark has a "swap frame control"
//! preference for it. [`FcOrder`] lets the caller pick the order.
//!
//! After [`DataHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{check_len, tail};

mod field {
    pub const FC: usize = 0;
    pub const ADDR1: usize = 4;
    pub const ADDR2: usize = 10;
    pub const ADDR3: usize = 16;
    pub const SEQ_CTL: usize = 22;
    pub const ADDR4: usize = 24;
}

/// Frame-control length.
pub const FC_LEN: usize = 2;
/// Header length of a three-address data frame without QoS.
pub const BASE_LEN: usize = 24;
/// Type "management".
pub const TYPE_MGMT: u8 = 0;
/// Type "control".
pub const TYPE_CTRL: u8 = 1;
/// Type "data".
pub const TYPE_DATA: u8 = 2;

/// Flag byte: To DS.
pub const FLAG_TO_DS: u8 = 0x01;
/// Flag byte: From DS.
pub const FLAG_FROM_DS: u8 = 0x02;
/// Flag byte: More Fragments.
pub const FLAG_MORE_FRAGS: u8 = 0x04;
/// Flag byte: Protected Frame (WEP/TKIP/CCMP body).
pub const FLAG_PROTECTED: u8 = 0x40;
/// Flag byte: +HTC / Order.
pub const FLAG_ORDER: u8 = 0x80;

const ADDR4_LEN: usize = 6;
const QOS_LEN: usize = 2;
const HTC_LEN: usize = 4;
/// QoS Control bit 7: the body is an A-MSDU (§9.2.4.5.9), not one LLC-framed MSDU.
const QOS_AMSDU: u8 = 0x80;

#[inline]
fn invalid(what: &'static str) -> DecodeError {
    DecodeError::Invalid {
        layer: Layer::Link,
        what,
    }
}

#[inline]
fn mac(b: &[u8], at: usize) -> [u8; 6] {
    [b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5]]
}

/// Byte order of the frame-control and sequence-control fields in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FcOrder {
    /// As on the air (little-endian fields): type/subtype byte first, flags second.
    Standard,
    /// Both fields big-endian: flags first (Cisco CAPWAP data channel; in
    /// `benign/tunnel_capwap.pcap` the sequence numbers only increase when read this way).
    Swapped,
}

/// The frame-control field, decoded into its two bytes in standard order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameControl {
    /// Version, type, subtype.
    kind: u8,
    /// ToDS … Order.
    flags: u8,
}

impl FrameControl {
    /// Reads the frame control at the start of `buf`.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Link`] below 2 bytes; `Invalid` for a protocol version other
    /// than 0 (§9.2.4.1.2: a STA discards frames of a version it does not support).
    #[inline]
    pub fn new_checked(buf: &[u8], order: FcOrder) -> Result<Self, DecodeError> {
        check_len(buf, FC_LEN, Layer::Link)?;
        let (kind, flags) = match order {
            FcOrder::Standard => (buf[field::FC], buf[field::FC + 1]),
            FcOrder::Swapped => (buf[field::FC + 1], buf[field::FC]),
        };
        if kind & 0x03 != 0 {
            return Err(invalid("802.11 protocol version"));
        }
        Ok(FrameControl { kind, flags })
    }

    /// Frame type (2 bits): [`TYPE_MGMT`], [`TYPE_CTRL`], [`TYPE_DATA`] or 3 (extension).
    #[inline]
    pub fn frame_type(self) -> u8 {
        (self.kind >> 2) & 0x03
    }

    /// Subtype (4 bits).
    #[inline]
    pub fn subtype(self) -> u8 {
        self.kind >> 4
    }

    /// The flag byte (compare with the `FLAG_*` constants).
    #[inline]
    pub fn flags(self) -> u8 {
        self.flags
    }

    /// A data frame (type 2).
    #[inline]
    pub fn is_data(self) -> bool {
        self.frame_type() == TYPE_DATA
    }

    /// A data frame whose subtype carries a body (subtype bit 2 clear; Null and the
    /// CF-Ack/CF-Poll-only subtypes carry none).
    #[inline]
    pub fn has_body(self) -> bool {
        self.is_data() && self.subtype() & 0x04 == 0
    }

    /// A QoS data subtype (subtype bit 3 set): the header holds QoS Control.
    #[inline]
    pub fn is_qos(self) -> bool {
        self.is_data() && self.subtype() & 0x08 != 0
    }

    /// Protected Frame: the body is encrypted and cannot be decoded.
    #[inline]
    pub fn is_protected(self) -> bool {
        self.flags & FLAG_PROTECTED != 0
    }

    /// To DS.
    #[inline]
    pub fn to_ds(self) -> bool {
        self.flags & FLAG_TO_DS != 0
    }

    /// From DS.
    #[inline]
    #[allow(clippy::wrong_self_convention)] // named after the 802.11 "From DS" bit
    pub fn from_ds(self) -> bool {
        self.flags & FLAG_FROM_DS != 0
    }
}

/// A read-only view of the MAC header of an 802.11 data frame.
#[derive(Debug, Clone, Copy)]
pub struct DataHeader<T: AsRef<[u8]>> {
    buf: T,
    fc: FrameControl,
    order: FcOrder,
    len: usize,
}

impl<T: AsRef<[u8]>> DataHeader<T> {
    /// Wraps `buf`, whose frame control is in `order`, checking that it is a data frame and
    /// that its whole MAC header (Addr4, QoS Control, HT Control as the frame control says)
    /// is present.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Link`]; `Invalid` for a version other than 0 or a frame that is
    /// not a data frame (management and control frames have other layouts).
    #[inline]
    pub fn new_checked(buf: T, order: FcOrder) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        let fc = FrameControl::new_checked(b, order)?;
        if !fc.is_data() {
            return Err(invalid("802.11 frame is not a data frame"));
        }
        let mut len = BASE_LEN;
        if fc.to_ds() && fc.from_ds() {
            len += ADDR4_LEN;
        }
        if fc.is_qos() {
            len += QOS_LEN;
            // +HTC is only meaningful on QoS data frames (§9.2.4.1.10); on others the bit
            // is the legacy "Order" flag and adds nothing.
            if fc.flags() & FLAG_ORDER != 0 {
                len += HTC_LEN;
            }
        }
        check_len(b, len, Layer::Link)?;
        Ok(DataHeader {
            buf,
            fc,
            order,
            len,
        })
    }

    /// The frame control.
    #[inline]
    pub fn frame_control(&self) -> FrameControl {
        self.fc
    }

    /// MAC header length (24, 26, 30, 32, 36).
    #[inline]
    pub fn header_len(&self) -> usize {
        self.len
    }

    /// Address 1 (receiver).
    #[inline]
    pub fn addr1(&self) -> [u8; 6] {
        mac(self.buf.as_ref(), field::ADDR1)
    }

    /// Address 2 (transmitter).
    #[inline]
    pub fn addr2(&self) -> [u8; 6] {
        mac(self.buf.as_ref(), field::ADDR2)
    }

    /// Address 3.
    #[inline]
    pub fn addr3(&self) -> [u8; 6] {
        mac(self.buf.as_ref(), field::ADDR3)
    }

    /// Address 4, present when both ToDS and FromDS are set.
    #[inline]
    pub fn addr4(&self) -> Option<[u8; 6]> {
        (self.fc.to_ds() && self.fc.from_ds()).then(|| mac(self.buf.as_ref(), field::ADDR4))
    }

    /// Destination address (DA) per the ToDS/FromDS table (§9.3.2.1, Table 9-60).
    #[inline]
    pub fn dst_addr(&self) -> [u8; 6] {
        if self.fc.to_ds() {
            self.addr3()
        } else {
            self.addr1()
        }
    }

    /// Source address (SA) per the ToDS/FromDS table (§9.3.2.1, Table 9-60).
    #[inline]
    pub fn src_addr(&self) -> [u8; 6] {
        match (self.fc.to_ds(), self.fc.from_ds()) {
            (_, false) => self.addr2(),
            (false, true) => self.addr3(),
            (true, true) => self.addr4().unwrap_or_default(),
        }
    }

    /// Sequence Control: sequence number (12 bits) then fragment number (low 4 bits).
    #[inline]
    pub fn sequence_control(&self) -> u16 {
        let b = self.buf.as_ref();
        let raw = [b[field::SEQ_CTL], b[field::SEQ_CTL + 1]];
        match self.order {
            FcOrder::Standard => u16::from_le_bytes(raw),
            FcOrder::Swapped => u16::from_be_bytes(raw),
        }
    }

    /// Fragment number; non-zero for the second and later fragments of an MSDU, whose body
    /// starts mid-packet.
    #[inline]
    pub fn fragment_number(&self) -> u8 {
        (self.sequence_control() & 0x0f) as u8
    }

    /// QoS Control (little-endian), for QoS subtypes.
    #[inline]
    pub fn qos_control(&self) -> Option<u16> {
        if !self.fc.is_qos() {
            return None;
        }
        let at = BASE_LEN + if self.addr4().is_some() { ADDR4_LEN } else { 0 };
        let b = self.buf.as_ref();
        Some(u16::from_le_bytes([b[at], b[at + 1]]))
    }

    /// The body is an A-MSDU (QoS Control bit 7), a sequence of subframes rather than one
    /// LLC-framed MSDU.
    #[inline]
    pub fn is_amsdu(&self) -> bool {
        self.qos_control()
            .is_some_and(|q| q & u16::from(QOS_AMSDU) != 0)
    }
}

impl<'a> DataHeader<&'a [u8]> {
    /// The frame body (for unprotected frames: LLC/SNAP then the MSDU; may end with the FCS
    /// when the capture kept it).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    /// A ToDS data frame from benign/tunnel_capwap.pcap (frame control as on the air; the
    /// capture has it swapped), followed by the first LLC byte.
    const TODS: [u8; 25] = [
        0x08, 0x01, 0x3c, 0x00, // FC, duration
        0x00, 0x1a, 0x1e, 0x01, 0x02, 0x03, // A1 = BSSID
        0x1c, 0xab, 0xa7, 0xf2, 0x13, 0x9d, // A2 = SA
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // A3 = DA
        0x50, 0x00, // seq
        0xaa,
    ];

    #[test]
    fn happy_path_to_ds() {
        let h = DataHeader::new_checked(&TODS[..], FcOrder::Standard).expect("header");
        let fc = h.frame_control();
        assert!(fc.is_data() && fc.has_body() && !fc.is_qos() && !fc.is_protected());
        assert!(fc.to_ds() && !fc.from_ds());
        assert_eq!(fc.subtype(), 0);
        assert_eq!(h.header_len(), 24);
        assert_eq!(h.src_addr(), [0x1c, 0xab, 0xa7, 0xf2, 0x13, 0x9d]);
        assert_eq!(h.dst_addr(), [0xff; 6]);
        assert_eq!(h.addr1(), [0x00, 0x1a, 0x1e, 0x01, 0x02, 0x03]);
        assert_eq!(h.addr4(), None);
        assert_eq!(h.qos_control(), None);
        assert_eq!(h.sequence_control(), 0x0050);
        assert_eq!(h.fragment_number(), 0);
        assert_eq!(h.payload(), &[0xaa]);
    }

    #[test]
    fn swapped_frame_control() {
        let mut b = TODS;
        b.swap(0, 1);
        let h = DataHeader::new_checked(&b[..], FcOrder::Swapped).expect("header");
        assert!(h.frame_control().to_ds());
        assert_eq!(h.header_len(), 24);
        // Sequence control big-endian too: 0x5000 is sequence 0x500, fragment 0.
        assert_eq!(h.sequence_control(), 0x5000);
        assert_eq!(h.fragment_number(), 0);
        // Read in standard order, the flags byte 0x01 has protocol version 1.
        assert!(matches!(
            DataHeader::new_checked(&b[..], FcOrder::Standard),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn from_ds_addresses() {
        let mut b = TODS;
        b[1] = FLAG_FROM_DS;
        let h = DataHeader::new_checked(&b[..], FcOrder::Standard).expect("header");
        assert_eq!(h.dst_addr(), h.addr1());
        assert_eq!(h.src_addr(), h.addr3());
    }

    #[test]
    fn wds_qos_htc_header() {
        // QoS data (subtype 8), ToDS + FromDS + Order: 24 + 6 + 2 + 4 = 36.
        let mut b = [0u8; 37];
        b[0] = 0x88;
        b[1] = FLAG_TO_DS | FLAG_FROM_DS | FLAG_ORDER;
        b[24..30].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        b[30] = 0x80; // A-MSDU present
        b[36] = 0xaa;
        let h = DataHeader::new_checked(&b[..], FcOrder::Standard).expect("header");
        assert_eq!(h.header_len(), 36);
        assert_eq!(h.addr4(), Some([1, 2, 3, 4, 5, 6]));
        assert_eq!(h.src_addr(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(h.qos_control(), Some(0x0080));
        assert!(h.is_amsdu());
        assert_eq!(h.payload(), &[0xaa]);
        every_prefix_errors(&b, 36, |p| {
            DataHeader::new_checked(p, FcOrder::Standard).map(|_| ())
        });
    }

    #[test]
    fn order_bit_on_non_qos_adds_nothing() {
        let mut b = TODS;
        b[1] |= FLAG_ORDER;
        let h = DataHeader::new_checked(&b[..], FcOrder::Standard).expect("header");
        assert_eq!(h.header_len(), 24);
    }

    #[test]
    fn null_and_protected_are_flagged() {
        let mut b = TODS;
        b[0] = 0x48; // Null (subtype 4)
        let fc = FrameControl::new_checked(&b, FcOrder::Standard).expect("fc");
        assert!(fc.is_data() && !fc.has_body());
        b[0] = 0xc8; // QoS Null (subtype 12)
        let fc = FrameControl::new_checked(&b, FcOrder::Standard).expect("fc");
        assert!(fc.is_qos() && !fc.has_body());
        b[0] = 0x08;
        b[1] |= FLAG_PROTECTED;
        let fc = FrameControl::new_checked(&b, FcOrder::Standard).expect("fc");
        assert!(fc.has_body() && fc.is_protected());
    }

    #[test]
    fn management_frame_is_not_data() {
        // Probe request (type 0, subtype 4).
        let mut b = TODS;
        b[0] = 0x40;
        b[1] = 0;
        let fc = FrameControl::new_checked(&b, FcOrder::Standard).expect("fc");
        assert_eq!((fc.frame_type(), fc.subtype()), (TYPE_MGMT, 4));
        assert!(matches!(
            DataHeader::new_checked(&b[..], FcOrder::Standard),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn bad_version() {
        let mut b = TODS;
        b[0] |= 0x02;
        assert!(matches!(
            FrameControl::new_checked(&b, FcOrder::Standard),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&TODS, BASE_LEN, |b| {
            DataHeader::new_checked(b, FcOrder::Standard).map(|_| ())
        });
        every_prefix_errors(&TODS[..2], FC_LEN, |b| {
            FrameControl::new_checked(b, FcOrder::Standard).map(|_| ())
        });
    }
}
