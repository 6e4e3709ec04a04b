#!/bin/sh
# Regenerates the DNS and DHCP golden files from tshark (expected values for tests/it/app.rs).
#
# Usage (from the repository root): netsec-core/tests/golden/make_dns_dhcp.sh
# Made with TShark (Wireshark) 4.0.17. Reads ../shared/data/pcaps; writes
# netsec-core/tests/golden/dns_<capture>.tsv and dhcp_<capture>.tsv, one row per frame tshark
# dissects as DNS (not mDNS/LLMNR) or DHCP. Multi-valued fields are joined with '|'. The extra
# columns (fragment counts, TCP reassembly, ICMP type) let the test tell apart frames tshark
# decoded from reassembled or ICMP-quoted data, which a single-packet parser does not see.
set -eu
cd "$(dirname "$0")"
PCAPS=../../../../shared/data/pcaps

DNS_CAPTURES="
benign/anyconnect_vpn.pcap benign/app_android.pcap benign/app_instagram.pcap benign/app_iphone.pcap
benign/app_mix_1kxun.pcap benign/app_netflix.pcap benign/app_teams.pcap benign/app_zoom.pcap
benign/communityid_icmp6.pcap benign/communityid_udp.pcap benign/dns_axfr.pcapng
benign/dns_fragmented.pcap benign/dns_over_quic.pcapng benign/dns_tcp.pcapng benign/http_espn.pcapng
benign/ipv6_fragmented_dns.pcap benign/sv_ssh_hassh.pcap benign/tunnel_6in4.pcap
benign/tunnel_capwap.pcap benign/tunnel_gre_sample.pcap benign/tunnel_vxlan.pcap benign/wikipedia.pcap
attacks/arp_poisoning_mitm.pcapng attacks/dns_tunnel_iodine.pcap attacks/sv_smb_psexec_add_user.pcap
malformed/badpackets.pcap malformed/malformed_dns.pcap malformed/pcapng_multi_interface.pcapng
"
DHCP_CAPTURES="
benign/app_android.pcap benign/app_iphone.pcap benign/app_mix_1kxun.pcap benign/app_teams.pcap
benign/app_zoom.pcap benign/dhcp.pcap benign/dhcp_initialization.pcapng benign/gnutella.pcap
benign/tunnel_capwap.pcap attacks/dhcp_flood.pcap malformed/dhcp_big_endian.pcapng
malformed/dhcp_fuzz.pcapng
"

stem() { basename "$1" | sed 's/\.[a-z]*$//'; }

for c in $DNS_CAPTURES; do
    out="dns_$(stem "$c").tsv"
    {
        printf 'frame\tip_frags\tipv6_frags\ttcp_reassembled\ticmp_type\ticmpv6_type\tid\tresponse\topcode\trcode\tqry_name\tqry_type\ta\taaaa\tcname\tptr\ttxt_length\n'
        tshark -r "$PCAPS/$c" -Y 'dns && !mdns && !llmnr' -T fields -E aggregator='|' \
            -e frame.number -e ip.fragment.count -e ipv6.fragment.count -e tcp.reassembled.length \
            -e icmp.type -e icmpv6.type \
            -e dns.id -e dns.flags.response -e dns.flags.opcode -e dns.flags.rcode \
            -e dns.qry.name -e dns.qry.type -e dns.a -e dns.aaaa -e dns.cname \
            -e dns.ptr.domain_name -e dns.txt.length 2>/dev/null
    } >"$out"
done

for c in $DHCP_CAPTURES; do
    out="dhcp_$(stem "$c").tsv"
    {
        printf 'frame\tip_frags\ticmp_type\top\tmsg_type\tmac\trequested_ip\thostname\tvendor_class\tyiaddr\tserver_id\n'
        tshark -r "$PCAPS/$c" -Y 'dhcp' -T fields -E aggregator='|' \
            -e frame.number -e ip.fragment.count -e icmp.type -e dhcp.type -e dhcp.option.dhcp \
            -e dhcp.hw.mac_addr -e dhcp.option.requested_ip_address -e dhcp.option.hostname \
            -e dhcp.option.vendor_class_id -e dhcp.ip.your -e dhcp.option.dhcp_server_id 2>/dev/null
    } >"$out"
done
