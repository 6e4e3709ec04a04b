#!/bin/sh
# Seeds the app-layer fuzz corpora (tls_hello, http_message, ssh_banner, app_inspect) with
# real TCP/UDP payloads from the captures, extracted by tshark (one file per payload).
# Usage: fuzz/seed_l7.sh [path/to/shared/data/pcaps]   then: cargo +nightly fuzz run tls_hello
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-"$here/../../shared/data/pcaps"}
seed() { # target capture filter field
    dst="$here/corpus/$1"
    mkdir -p "$dst"
    tshark -n -r "$src/$2" -o tcp.desegment_tcp_streams:FALSE -Y "$3" -T fields -e "$4" 2>/dev/null |
        head -n 40 | while read -r hex; do
            [ -n "$hex" ] && printf '%s' "$hex" | xxd -r -p > "$dst/$(printf '%s' "$hex" | sha1sum | cut -c1-16)"
        done
}
for f in benign/tls_443_curl.pcap benign/tls12.pcap benign/sites_22ifaces.pcapng benign/app_netflix.pcap; do
    seed tls_hello "$f" "tls.handshake.type == 1 || tls.handshake.type == 2" tcp.payload
    seed app_inspect "$f" "tls.handshake" tcp.payload
done
for f in benign/http_bro_org.pcap benign/wikipedia.pcap attacks/http_request_smuggling.pcap; do
    seed http_message "$f" "http" tcp.payload
    seed app_inspect "$f" "http" tcp.payload
done
for f in benign/ssh_session.pcap attacks/bruteforce_ssh_guess.pcap; do
    seed ssh_banner "$f" "ssh.protocol" tcp.payload
    seed app_inspect "$f" "ssh.protocol" tcp.payload
done
seed app_inspect benign/wikipedia.pcap "dns" udp.payload
for t in tls_hello http_message ssh_banner app_inspect; do
    echo "$t: $(ls "$here/corpus/$t" | wc -l) seeds"
done
