#!/usr/bin/env bash
# ET Open (../shared/data/rules/etopen/all.rules) in `netsec analyze` beside Suricata 7.0.10,
# on the same machine and files. Not run in CI: it installs Suricata (Debian
# bookworm-backports) and mergecap (wireshark-common) when missing, so it needs root.
#
#   benches/etopen/compare.sh [rounds] [copies]   (default 3 rounds, runs alternated;
#                                                  30 copies of the merge)
#
# Inputs: every Ethernet capture of ../shared/data/pcaps/{attacks,benign} merged in time
# order (`mergecap -F pcap`), that merge concatenated `copies` times (so processing time
# stands out of Suricata's 10-13 s load, which varies by a second or two from run to run:
# with 10 copies Suricata's processing came out 0.9-1.7 s, with 30 within 1 %), and the
# merge's first packet alone (load time and memory).
# Processing time = time on the many-copies file − time on the one-packet file.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data
RULES=$DATA/rules/etopen/all.rules
ROUNDS=${1:-3}
COPIES=${2:-30}

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
# Each copy two hours after the one before (editcap -t): concatenated as they are, the copies
# would replay the same TCP sessions with sequence numbers Suricata's stream engine has seen,
# which it drops as old data without inspecting them (its time on 40 copies was below its time
# on 10); two hours apart, every copy's flows have timed out and are new again to both tools.
for i in $(seq "$COPIES"); do
  editcap -F pcap -t $(( (i - 1) * 7200 )) "$W/merged.pcap" "$W/copy$i.pcap"
done
mergecap -F pcap -a -w "$W/merged10.pcap" $(for i in $(seq "$COPIES"); do echo "$W/copy$i.pcap"; done)
rm -f "$W"/copy*.pcap
editcap -r "$W/merged.pcap" "$W/one.pcap" 1-1
PACKETS=$(capinfos -cM "$W/merged10.pcap" | awk '/Number of packets/ {print $NF}')
BYTES=$(stat -c %s "$W/merged10.pcap")
echo "inputs: $(wc -l < "$W/list") captures merged; x$COPIES = $PACKETS packets, $BYTES bytes"

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
