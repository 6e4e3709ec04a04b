//! Link layer: Ethernet, Linux SLL/SLL2, null/loop, IEEE 802.11 (bare or after radiotap), and
//! the EtherType dispatch shared by every link type and by tunnels that carry EtherTypes (GRE,
//! Geneve, CAPWAP).

use smoltcp::wire::{ArpPacket, EthernetFrame};

use super::ip;
use super::{ArpInfo, Ctx, DecodeError, Decoded, Layer};
use crate::wire::ieee80211::{self, FcOrder};
use crate::wire::{self, check_len, llc, mpls, nsh, null, pppoe, radiotap, sll, sll2, tail, vlan};

/// EtherType of IPv4.
pub(super) const ETH_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub(super) const ETH_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub(super) const ETH_IPV6: u16 = 0x86dd;
/// MPLS unicast.
const ETH_MPLS_UC: u16 = 0x8847;
/// MPLS multicast.
const ETH_MPLS_MC: u16 = 0x8848;
/// PPPoE session stage.
const ETH_PPPOE_SESSION: u16 = 0x8864;
/// Ethernet II header length.
const ETH_HEADER_LEN: usize = 14;

/// Ethernet II (also 802.3, whose "EtherType" is a length below 0x0600 and lands in `Other`).
///
/// The MACs recorded in [`super::L2Info`] are those of the innermost Ethernet header, so they
/// belong to the same hosts as the IP addresses in the meta; the VLAN id is the outermost tag.
#[inline]
pub(super) fn ethernet<'a>(mut ctx: Ctx, buf: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    check_len(buf, ETH_HEADER_LEN, Layer::Link)?;
    // Length checked above, so smoltcp's accessors cannot panic.
    let eth = EthernetFrame::new_unchecked(buf);
    ctx.l2.src_mac = Some(eth.src_addr().0);
    ctx.l2.dst_mac = Some(eth.dst_addr().0);
    ethertype(ctx, u16::from(eth.ethertype()), tail(buf, ETH_HEADER_LEN))
}

/// Decodes what follows an EtherType: VLAN tags (any depth), PPPoE, MPLS, then IP or ARP.
///
/// Every loop turn consumes at least 4 bytes, so it ends on any input.
pub(super) fn ethertype<'a>(
    mut ctx: Ctx,
    mut ethertype: u16,
    mut buf: &'a [u8],
) -> Result<Decoded<'a>, DecodeError> {
    loop {
        match ethertype {
            ETH_IPV4 => return ip::ipv4(ctx, buf),
            ETH_IPV6 => return ip::ipv6(ctx, buf),
            ETH_ARP => return arp(ctx, buf),
            t if vlan::is_vlan_tpid(t) => {
                let tag = vlan::VlanTag::new_checked(buf)?;
                if ctx.l2.vlan.is_none() {
                    ctx.l2.vlan = Some(tag.vid());
                }
                ethertype = tag.ethertype();
                buf = tag.payload();
            }
            ETH_MPLS_UC | ETH_MPLS_MC => {
                let inner = mpls::skip_stack(buf)?;
                // RFC 3032 does not name the payload; like routers doing ECMP (RFC 4928 §2) we
                // guess from the first nibble. Pseudowires (nibble 0, RFC 4385) are not decoded.
                return match inner.first().map(|b| b >> 4) {
                    Some(4) => ip::ipv4(ctx, inner),
                    Some(6) => ip::ipv6(ctx, inner),
                    Some(_) => Ok(Decoded::Other { ethertype }),
                    None => Err(wire::truncated(Layer::Mpls, 1, 0)),
                };
            }
            nsh::ETHERTYPE => {
                // Service function chaining (RFC 8300): the carried packet is the one to see.
                let h = nsh::NshHeader::new_checked(buf)?;
                buf = h.payload();
                ethertype = match h.next_protocol() {
                    nsh::NEXT_IPV4 => ETH_IPV4,
                    nsh::NEXT_IPV6 => ETH_IPV6,
                    nsh::NEXT_MPLS => ETH_MPLS_UC,
                    nsh::NEXT_NSH => nsh::ETHERTYPE,
                    // An Ethernet frame inside counts against the tunnel depth, so nesting
                    // cannot recurse without bound.
                    nsh::NEXT_ETHERNET if ctx.depth < ip::MAX_TUNNEL_DEPTH => {
                        ctx.depth += 1;
                        return ethernet(ctx, buf);
                    }
                    _ => return Ok(Decoded::Other { ethertype }),
                };
            }
            ETH_PPPOE_SESSION => {
                let p = pppoe::PppoeSession::new_checked(buf)?;
                ethertype = match p.ppp_protocol() {
                    pppoe::PPP_IPV4 => ETH_IPV4,
                    pppoe::PPP_IPV6 => ETH_IPV6,
                    _ => return Ok(Decoded::Other { ethertype }),
                };
                buf = p.payload();
            }
            _ => return Ok(Decoded::Other { ethertype }),
        }
    }
}

/// ARP for Ethernet/IPv4 (RFC 826); other hardware/protocol pairs are `Other`.
fn arp<'a>(ctx: Ctx, buf: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    const ARP_ETH_IPV4_LEN: usize = 28;
    check_len(buf, 8, Layer::Arp)?;
    // 8 bytes checked: the fixed part smoltcp reads before the addresses.
    let a = ArpPacket::new_unchecked(buf);
    if u16::from(a.hardware_type()) != 1
        || u16::from(a.protocol_type()) != ETH_IPV4
        || a.hardware_len() != 6
        || a.protocol_len() != 4
    {
        return Ok(Decoded::Other { ethertype: ETH_ARP });
    }
    check_len(buf, ARP_ETH_IPV4_LEN, Layer::Arp)?;
    let mac = |s: &[u8]| <[u8; 6]>::try_from(s).unwrap_or_default();
    let ip4 = |s: &[u8]| {
        <[u8; 4]>::try_from(s)
            .map(Into::into)
            .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)
    };
    let info = ArpInfo {
        operation: u16::from(a.operation()),
        sender_mac: mac(a.source_hardware_addr()),
        sender_ip: ip4(a.source_protocol_addr()),
        target_mac: mac(a.target_hardware_addr()),
        target_ip: ip4(a.target_protocol_addr()),
    };
    Ok(Decoded::Arp(info, ctx.l2))
}

/// Linux cooked capture v1.
#[inline]
pub(super) fn sll<'a>(mut ctx: Ctx, buf: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    let h = sll::SllHeader::new_checked(buf)?;
    ctx.l2.src_mac = h.src_mac();
    ethertype(ctx, h.protocol(), h.payload())
}

/// Linux cooked capture v2.
#[inline]
pub(super) fn sll2<'a>(mut ctx: Ctx, buf: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    let h = sll2::Sll2Header::new_checked(buf)?;
    ctx.l2.src_mac = h.src_mac();
    ethertype(ctx, h.protocol(), h.payload())
}

/// BSD null (host byte order) or OpenBSD loop (network byte order).
#[inline]
pub(super) fn null<'a>(
    ctx: Ctx,
    buf: &'a [u8],
    network_order: bool,
) -> Result<Decoded<'a>, DecodeError> {
    let h = null::NullHeader::new_checked(buf)?;
    let family = if network_order {
        h.family_network_order()
    } else {
        h.family_host_order()
    };
    match family {
        null::AF_INET => ip::ipv4(ctx, h.payload()),
        f if null::is_af_inet6(f) => ip::ipv6(ctx, h.payload()),
        f => Ok(Decoded::Other {
            ethertype: u16::try_from(f).unwrap_or(u16::MAX),
        }),
    }
}

/// `Other` for an 802.11 frame that carries no EtherType we can follow.
const NO_ETHERTYPE: Decoded<'static> = Decoded::Other { ethertype: 0 };

/// IEEE 802.11 (link type 105, CAPWAP with WBID 1): data frames with an LLC/SNAP body lead to
/// the EtherType dispatch; SA and DA become the MACs in [`super::L2Info`].
///
/// Frames that hold no decodable MSDU are `Other { ethertype: 0 }` (not errors: they are
/// well-formed): management and control frames, data subtypes without a body (Null, QoS Null,
/// CF-only), protected frames (the body is encrypted), non-first fragments, A-MSDUs, and bodies
/// whose LLC is not SNAP; an SNAP header with a vendor OUI gives `Other` with its protocol id.
pub(super) fn ieee80211<'a>(
    mut ctx: Ctx,
    buf: &'a [u8],
    order: FcOrder,
) -> Result<Decoded<'a>, DecodeError> {
    let fc = ieee80211::FrameControl::new_checked(buf, order)?;
    if !fc.has_body() || fc.is_protected() {
        return Ok(NO_ETHERTYPE);
    }
    let h = ieee80211::DataHeader::new_checked(buf, order)?;
    if h.fragment_number() != 0 || h.is_amsdu() {
        return Ok(NO_ETHERTYPE);
    }
    let Ok(snap) = llc::SnapHeader::new_checked(h.payload()) else {
        return Ok(NO_ETHERTYPE);
    };
    if !snap.is_ethertype() {
        return Ok(Decoded::Other {
            ethertype: snap.protocol(),
        });
    }
    ctx.l2.src_mac = Some(h.src_addr());
    ctx.l2.dst_mac = Some(h.dst_addr());
    ethertype(ctx, snap.protocol(), snap.payload())
}

/// Radiotap then IEEE 802.11 (link type 127). The radiotap fields are skipped; an FCS kept at
/// the end of the frame is harmless, since IP trims the buffer to its own length.
#[inline]
pub(super) fn radiotap<'a>(ctx: Ctx, buf: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    let r = radiotap::RadiotapHeader::new_checked(buf)?;
    ieee80211(ctx, r.payload(), FcOrder::Standard)
}
