//! The trace as a classic libpcap capture: one raw IP packet (UDP over
//! IPv4, or IPv6 when both ends are IPv6) per datagram, with correct
//! lengths and checksums, so Wireshark and tshark dissect the SIP inside.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use crate::trace::{Trace, TraceEntry};

/// pcap's `LINKTYPE_RAW`: each packet starts with its IP header.
const LINKTYPE_RAW: u32 = 101;

/// Snapshot length: the largest IP packet.
const SNAPLEN: u32 = 65_535;

/// Which datagrams go into the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PcapOptions {
    /// Include datagrams the network dropped (as captured at the sender).
    pub include_lost: bool,
    /// Include the network's duplicate copies.
    pub include_duplicates: bool,
}

impl Default for PcapOptions {
    fn default() -> Self {
        PcapOptions {
            include_lost: true,
            include_duplicates: true,
        }
    }
}

/// A pcap file (microsecond timestamps from the simulation's time zero,
/// little-endian) of the datagrams of `trace`, in send order, each stamped
/// with its send time.
pub fn pcap(trace: &Trace, opts: &PcapOptions) -> Vec<u8> {
    let mut out = Vec::new();
    // Global header (pcap-savefile(5)): magic, version 2.4, zone, sigfigs,
    // snaplen, link type.
    out.extend_from_slice(&0xa1b2_c3d4_u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    let mut ip_ids: HashMap<IpAddr, u16> = HashMap::new();
    for e in trace.entries() {
        if (e.is_lost() && !opts.include_lost) || (e.duplicate && !opts.include_duplicates) {
            continue;
        }
        let id = ip_ids.entry(e.src.ip()).or_insert(0);
        *id = id.wrapping_add(1);
        let packet = ip_packet(e, *id);
        let us = e.sent_at.as_micros();
        let len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
        // Seconds past 2106 do not fit the classic format; they wrap.
        out.extend_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&packet);
    }
    out
}

/// The IP packet carrying `e`'s payload in UDP.
fn ip_packet(e: &TraceEntry, ip_id: u16) -> Vec<u8> {
    match (e.src, e.dst) {
        (SocketAddr::V4(src), SocketAddr::V4(dst)) => ipv4_udp(
            src.ip().octets(),
            dst.ip().octets(),
            src.port(),
            dst.port(),
            &e.data,
            ip_id,
        ),
        (src, dst) => ipv6_udp(
            v6(src.ip()).octets(),
            v6(dst.ip()).octets(),
            src.port(),
            dst.port(),
            &e.data,
        ),
    }
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// UDP/IPv4 (RFC 791, RFC 768). Payloads are at most 65,507 bytes (the
/// network refuses larger ones), so the lengths fit.
fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, data: &[u8], id: u16) -> Vec<u8> {
    let udp_len = (8 + data.len()) as u16;
    let total = udp_len.saturating_add(20);
    let mut p = Vec::with_capacity(usize::from(total));
    p.extend_from_slice(&[0x45, 0]); // version 4, IHL 5; DSCP/ECN 0
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
    p.extend_from_slice(&[64, 17]); // TTL, protocol UDP
    p.extend_from_slice(&[0, 0]); // checksum, filled below
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    // RFC 791 §3.1: the one's complement sum over the header.
    let header_sum = checksum(&[&p[..20]]);
    p[10..12].copy_from_slice(&header_sum.to_be_bytes());
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&udp_len.to_be_bytes());
    push_udp(&mut p, &pseudo, sport, dport, udp_len, data);
    p
}

/// UDP/IPv6 (RFC 8200; the UDP checksum is mandatory, RFC 8200 §8.1).
fn ipv6_udp(src: [u8; 16], dst: [u8; 16], sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let udp_len = (8 + data.len()) as u16;
    let mut p = Vec::with_capacity(40 + usize::from(udp_len));
    p.extend_from_slice(&[0x60, 0, 0, 0]); // version 6, no class or flow
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[17, 64]); // next header UDP, hop limit
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let mut pseudo = Vec::with_capacity(40);
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&u32::from(udp_len).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 17]);
    push_udp(&mut p, &pseudo, sport, dport, udp_len, data);
    p
}

/// Appends a UDP header and payload whose checksum covers `pseudo`.
fn push_udp(p: &mut Vec<u8>, pseudo: &[u8], sport: u16, dport: u16, udp_len: u16, data: &[u8]) {
    let mut header = [0u8; 8];
    header[0..2].copy_from_slice(&sport.to_be_bytes());
    header[2..4].copy_from_slice(&dport.to_be_bytes());
    header[4..6].copy_from_slice(&udp_len.to_be_bytes());
    // RFC 768: a computed zero is sent as all ones (zero means "none").
    let sum = match checksum(&[pseudo, &header, data]) {
        0 => 0xffff,
        s => s,
    };
    header[6..8].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&header);
    p.extend_from_slice(data);
}

/// The Internet checksum (RFC 1071) over the concatenation of `parts`.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                Some(hi) => sum += u64::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u64::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (before the
        // complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&[&data]), !0xddf2);
        // Split anywhere, odd lengths included, the sum is the same.
        assert_eq!(checksum(&[&data[..3], &data[3..]]), !0xddf2);
    }

    #[test]
    fn ipv4_header_verifies_and_lengths_add_up() {
        let p = ipv4_udp([192, 0, 2, 1], [192, 0, 2, 2], 5060, 5062, b"hello", 7);
        assert_eq!(p.len(), 20 + 8 + 5);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 33);
        assert_eq!(u16::from_be_bytes([p[24], p[25]]), 13);
        // A header with its checksum in place sums to zero.
        assert_eq!(checksum(&[&p[..20]]), 0);
        // So does the UDP checksum with its pseudo-header.
        let pseudo = [192, 0, 2, 1, 192, 0, 2, 2, 0, 17, 0, 13];
        assert_eq!(checksum(&[&pseudo, &p[20..]]), 0);
    }

    #[test]
    fn ipv6_udp_checksum_verifies() {
        let src = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets();
        let dst = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).octets();
        let p = ipv6_udp(src, dst, 5060, 5060, b"odd");
        assert_eq!(p.len(), 40 + 8 + 3);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 0, 0, 11, 0, 0, 0, 17]);
        assert_eq!(checksum(&[&pseudo, &p[40..]]), 0);
    }
}
