#!/bin/sh
# Seeds the pcap_reader corpus with the real captures (all of them are good fuzz seeds).
# Usage: fuzz/seed.sh [path/to/shared/data/pcaps]   then: cargo +nightly fuzz run pcap_reader
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-"$here/../../shared/data/pcaps"}
dst="$here/corpus/pcap_reader"
mkdir -p "$dst"
find "$src" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.bin' \) -size -64k \
    -exec cp {} "$dst/" \;
echo "seeded $(ls "$dst" | wc -l) files into $dst"
