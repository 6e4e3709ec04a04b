#!/usr/bin/env bash
# ET Open (../shared/data/rules/etopen/all.rules) in `netsec analyze` beside Suricata 7.0.10,
# on the same machine and files. Not run in CI: it installs Suricata (Debian
# bookworm-backports) and mergecap (wireshark-common) when missing, so it needs root.
#
#   benches/etopen/compare.sh [rounds]     (default 3 rounds, runs alternated)
#
# Inputs: every Ethernet capture of ../shared/data/pcaps/{attacks,benign} merged in time
# order (`mergecap -F pcap`), that merge concatenated ten times (so processing time stands
# out of Suricata's ~10 s load), and the merge's first packet alone (load time and memory).
# Processing time = time on the x10 file − time on the one-packet file.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data
RULES=$DATA/rules/etopen/all.rules
ROUNDS=${1:-3}

if ! command -v suricata >/dev/null; then
  cat > /etc/apt/sources.list.d/netsec-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports suricata
fi
command -v mergecap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wireshark-common
suricata -V

cargo build --release -q -p netsec-cli
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
awk -F'\t' 'NR>1 && $4=="EN10MB(1)" && ($1 ~ /^attacks\// || $1 ~ /^benign\//) {print "'$DATA'/pcaps/"$1}' \
  $DATA/pcaps/MANIFEST.tsv > "$W/list"
mergecap -F pcap -w "$W/merged.pcap" $(cat "$W/list")
mergecap -F pcap -a -w "$W/merged10.pcap" $(for _ in $(seq 10); do echo "$W/merged.pcap"; done)
editcap -r "$W/merged.pcap" "$W/one.pcap" 1-1
PACKETS=$(capinfos -cM "$W/merged10.pcap" | awk '/Number of packets/ {print $NF}')
BYTES=$(stat -c %s "$W/merged10.pcap")
echo "inputs: $(wc -l < "$W/list") captures merged; x10 = $PACKETS packets, $BYTES bytes"

netsec() {
  /usr/bin/time -f "%e %M" -o "$W/t" ./target/release/netsec analyze "$1" --no-default-rules \
    --rules "$RULES" --format jsonl --alerts /dev/null > /dev/null 2>&1
  cat "$W/t"
}
suri() {
  rm -rf "$W/suri" && mkdir -p "$W/suri"
  /usr/bin/time -f "%e %M" -o "$W/t" suricata -c $DATA/groundtruth/etopen-suricata/suricata.yaml \
    -S "$RULES" -k none --runmode single -r "$1" -l "$W/suri" > /dev/null 2>&1
  cat "$W/t"
}

for r in $(seq "$ROUNDS"); do
  for tool in netsec suri; do
    one=$($tool "$W/one.pcap")
    ten=$($tool "$W/merged10.pcap")
    echo "$r $tool $one $ten" | tee -a "$W/runs"
  done
done
python3 - "$W/runs" "$PACKETS" "$BYTES" <<'PY'
import sys, statistics as st
runs = [l.split() for l in open(sys.argv[1])]
packets, size = int(sys.argv[2]), int(sys.argv[3])
res = {}
for r, tool, t1, m1, t10, m10 in runs:
    d = res.setdefault(tool, {"load": [], "proc": [], "rss": []})
    d["load"].append(float(t1))
    d["proc"].append(float(t10) - float(t1))
    d["rss"].append(max(int(m1), int(m10)) / 1024)
for tool, d in res.items():
    proc = st.median(d["proc"])
    print(f"{tool:7} load {st.median(d['load']):6.2f} s   processing {proc:6.3f} s "
          f"({packets / proc / 1e3:7.0f} k packets/s, {size / proc / 1e6:6.1f} MB/s)   "
          f"peak RSS {max(d['rss']):6.0f} MiB")
n, s = res["netsec"], res["suri"]
print(f"netsec / suricata: load {st.median(n['load']) / st.median(s['load']):.2f}x time, "
      f"processing {st.median(n['proc']) / st.median(s['proc']):.2f}x time, "
      f"peak RSS {max(n['rss']) / max(s['rss']):.2f}x")
PY
