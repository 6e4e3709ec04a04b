#!/bin/sh
# Rebuilds the shipped default models, their evaluation reports (JSON) and the tables in
# models/*.md from our own pipeline's flows:
#
#   - every benign capture in ../shared/data/pcaps/benign/ (all flows BENIGN);
#   - the attack captures of the families a flow model can learn (scans, SYN floods, UDP
#     floods and amplification, brute force), labelled by models/labels/captures.toml;
#   - two generated captures (models/gen_training.py over ../shared/tools/gen_pcap.py), for
#     training only: never held out, never in the figures.
#
# Evaluation is grouped by capture (netsec_ml::grouped): 5 folds, no capture in two; the
# alert threshold is the lowest score at which at most 3 % of the held-out benign captures
# raise an alert after episode aggregation. The shipped model is then trained on every
# capture with that threshold. See models/README.md for the figures and what they mean.
#
#   models/train.sh            # from anywhere; needs python3 and ../shared
#
# Seeds, folds, hyperparameters, the recorded date and the inputs are fixed and recorded by
# file name (not path), and captures are listed in byte order, so a rerun gives the same bytes
# for both models and reports (the random forest through the patched linfa-trees in
# vendor/linfa-trees; see its PATCHED.md).
set -eu
cd "$(dirname "$0")/.."
export LC_ALL=C
SHARED=${SHARED:-../shared}
PCAPS=$SHARED/data/pcaps
SEED=42
DATE=2026-12-06
VERSION=3
FOLDS=5
BUDGET=0.03
CAP=200
# Generated traffic at 2,000 packets/s (gen_pcap's default is 20,000): 150,000 packets then
# span 75 s, so durations, gaps and the models' 60 s context windows look like a network's,
# not a compressed burst.
PPS=2000

cargo build --release --quiet -p netsec-cli
NETSEC=target/release/netsec

GEN=$(mktemp -d)
trap 'rm -rf "$GEN"' EXIT
python3 models/gen_training.py --gen "$SHARED/tools/gen_pcap.py" -o "$GEN/gen-train-1.pcap" \
    -n 150000 -s 101 --attack-p 0.002 --pps "$PPS" > /dev/null
python3 models/gen_training.py --gen "$SHARED/tools/gen_pcap.py" -o "$GEN/gen-train-2.pcap" \
    -n 150000 -s 102 --attack-p 0.002 --pps "$PPS" > /dev/null

A=$PCAPS/attacks
ATTACKS="$A/portscan_syn_nmap.pcapng $A/osfingerprint_nmap_active.pcapng $A/portscan_tcp.pcapng
$A/portscan_masscan_tcp.pcap $A/portscan_nmap_80_all.pcap $A/scan_icmp.pcap $A/scan_udp.pcap
$A/synflood_spoofed_first5000.pcap $A/ddos_syn_optack_samePort.pcapng
$A/ddos_tcp_reflection_synack_first3000.pcap $A/ddos_snmp_amplification.pcapng
$A/ddos_isakmp_amplification_first3000.pcap $A/dhcp_flood.pcap $A/bruteforce_ftp.pcap
$A/bruteforce_ssh_guess.pcap"

for KIND in rf iforest; do
    case $KIND in
        rf) NAME=rf-default; TITLE="random forest" ;;
        iforest) NAME=iforest-default; TITLE="isolation forest" ;;
    esac
    # shellcheck disable=SC2086
    "$NETSEC" train "$KIND" --captures "$PCAPS"/benign/* $ATTACKS \
        --train-only "$GEN/gen-train-1.pcap" "$GEN/gen-train-2.pcap" \
        --labels models/labels/captures.toml \
        --folds "$FOLDS" --alert-budget "$BUDGET" --attack-rows-per-capture "$CAP" \
        --seed "$SEED" --trees 100 --max-depth 20 --subsample 256 \
        --name "$NAME" --model-version "$VERSION" --date "$DATE" \
        --out "models/$NAME.json" --report "models/$NAME.eval.json" \
        --markdown "$GEN/$NAME.md" > /dev/null
    {
        echo "# $NAME: $TITLE over the 25 flow features, evaluated by capture"
        echo
        echo "Written by \`models/train.sh\` (see models/README.md for the method and what the"
        echo "figures mean). Every figure is out of fold: each capture was scored by a model"
        echo "trained without it, at a threshold calibrated without its fold. Reproduce with"
        echo "\`netsec eval --by-capture --model models/$NAME.json --captures … --labels"
        echo "models/labels/captures.toml --train-only …\` (the same inputs as train.sh)."
        echo
        cat "$GEN/$NAME.md"
    } > "models/$NAME.md"
done
