#!/bin/sh
# Regenerates the application-layer golden files from tshark (independent of netsec).
#
#   netsec-core/tests/golden/make.sh            # from anywhere; tshark 4.0.17 was used
#
# For every capture under ../shared/data/pcaps (relative to the repo root), one tshark pass
# decodes TLS hellos, HTTP request and status lines and SSH identification strings with TCP
# reassembly OFF, so that each row is what one segment holds: the scope of netsec's
# single-segment parsers. split.py writes one TSV per protocol, rows `path<TAB>frame<TAB>…`
# with paths relative to the pcaps folder. JA4 is not in tshark 4.0: split.py computes it
# from tshark's own field values (an implementation of the FoxIO spec apart from the Rust one).
set -eu
repo=$(cd "$(dirname "$0")/../../.." && pwd)
data="$repo/../shared/data/pcaps"
out="$repo/netsec-core/tests/golden/app"
mkdir -p "$out"

# Keep in step with the column list in split.py.
set -- frame.number \
    tls.handshake.type tls.handshake.version tls.handshake.extensions.supported_version \
    tls.handshake.extensions_server_name tls.handshake.extensions_alpn_str \
    tls.handshake.ciphersuite tls.handshake.extension.type tls.handshake.sig_hash_alg_len \
    tls.handshake.sig_hash_alg tls.handshake.ja3 \
    http.request.method http.host http.request.uri http.user_agent http.response.code \
    ssh.protocol
fields=""
for e in "$@"; do fields="$fields -e $e"; done

cd "$data"
find . -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sed 's|^\./||' | LC_ALL=C sort |
while read -r f; do
    # shellcheck disable=SC2086
    tshark -n -r "$f" \
        -o tcp.desegment_tcp_streams:FALSE -o tls.desegment_ssl_records:FALSE \
        -o http.desegment_headers:FALSE -o http.desegment_body:FALSE \
        -Y "tls.handshake.type == 1 || tls.handshake.type == 2 || http.request || http.response || ssh.protocol" \
        -T fields -E separator=/t -E occurrence=a -E aggregator=, $fields 2>/dev/null \
        | sed "s|^|$f\t|" || true
done | python3 "$repo/netsec-core/tests/golden/split.py" "$out"
wc -l "$out"/*.tsv
