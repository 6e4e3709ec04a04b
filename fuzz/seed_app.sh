#!/bin/sh
# Seeds the dns_message and dhcp_message corpora with the DNS and DHCP payloads of the real
# captures, extracted with tshark (UDP payloads as they are; TCP payloads keep their length
# prefix, which the target's parse_tcp path reads).
# Usage: fuzz/seed_app.sh [path/to/shared/data/pcaps]   then: cargo fuzz run dns_message
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-"$here/../../shared/data/pcaps"}
mkdir -p "$here/corpus/dns_message" "$here/corpus/dhcp_message"
seed() { # target display-filter
    find "$src" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort | while read -r f; do
        tshark -r "$f" -Y "$2" -T fields -e udp.payload -e tcp.payload 2>/dev/null
    done | tr -d '\t' | grep . | sort -u | head -2000 | while read -r hex; do
        h=$(printf '%s' "$hex" | md5sum | cut -c1-16)
        printf '%s' "$hex" | xxd -r -p >"$here/corpus/$1/seed-$h"
    done
    echo "seeded $(ls "$here/corpus/$1" | wc -l) files into corpus/$1"
}
seed dns_message 'dns && !mdns && !icmp && !icmpv6'
seed dhcp_message 'dhcp && !icmp'
