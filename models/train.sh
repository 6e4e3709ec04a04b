#!/bin/sh
# Retrains the shipped default models and their evaluation reports from the labelled
# CIC-IDS2017 sample, which lives outside the repo (../shared/data/flows, see its README:
# the data may not be redistributed, so only the models trained on it are committed).
#
#   models/train.sh            # from anywhere; writes models/*.json
#   CIC_DATA=/path/to/csvs models/train.sh
#
# Seeds, split, hyperparameters and the recorded date are fixed, and the data path is
# recorded as given below, so a rerun gives the same bytes for both models and reports
# (the random forest through the patched linfa-trees in vendor/linfa-trees, which iterates
# class counts in label order rather than in std HashMap order; see its PATCHED.md).
set -eu
cd "$(dirname "$0")/.."
DATA=${CIC_DATA:-../shared/data/flows/cicids2017_improved_rnd2500}
SEED=42
DATE=2026-11-21

cargo build --release --quiet -p netsec-cli
NETSEC=target/release/netsec

# Random forest: 100 trees, depth ≤ 20 (about 0.7 MB; deeper trees add size, not F1).
"$NETSEC" train rf --csv "$DATA" --seed "$SEED" --test-fraction 0.2 \
    --trees 100 --max-depth 20 --min-samples-leaf 1 \
    --name rf-default --model-version 1 --date "$DATE" \
    --out models/rf-default.json --report models/rf-default.eval.json

# Isolation forest: 100 trees, ψ = 256, on the benign training rows; alert threshold at
# the 99th percentile of benign training scores (about 1 % false positives).
"$NETSEC" train iforest --csv "$DATA" --seed "$SEED" --test-fraction 0.2 \
    --trees 100 --subsample 256 --target-fpr 0.01 \
    --name iforest-default --model-version 1 --date "$DATE" \
    --out models/iforest-default.json --report models/iforest-default.eval.json
