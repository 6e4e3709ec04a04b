#!/usr/bin/env python3
"""Builds netsec-core/data/oui.bin, the MAC-prefix -> vendor table of netsec_core::inventory::oui.

Source: the IEEE Registration Authority public listings as shipped by the Debian package
`ieee-data` (`apt-get install ieee-data`): /usr/share/ieee-data/{oui,mam,oui36,iab}.csv
(MA-L 24-bit, MA-M 28-bit, MA-S and IAB 36-bit prefixes). IEEE does not assert copyright on
the listing nor restrict its distribution (Debian's copyright file for ieee-data).

Usage (from the repository root): python3 netsec-core/data/make_oui.py [/usr/share/ieee-data]

Format (all integers big-endian), read by netsec-core/src/inventory/oui.rs:
    b"OUI1", u32 record count R, u32 vendor count V,
    R records of 8 bytes sorted by (prefix, bits): prefix as the first 5 bytes of a MAC with
    the bits past the prefix length zeroed, the prefix length in bits (24, 28 or 36), the
    vendor index (u16),
    V + 1 u32 offsets into the name blob, then the UTF-8 name blob.
"""
import csv
import os
import struct
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/ieee-data"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oui.bin")
FILES = [("oui.csv", 24), ("mam.csv", 28), ("oui36.csv", 36), ("iab.csv", 36)]

records = {}
for name, bits in FILES:
    with open(os.path.join(SRC, name), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            hexa = row["Assignment"].strip()
            vendor = " ".join(row["Organization Name"].split())
            if not vendor or len(hexa) * 4 != bits:
                continue
            value = int(hexa, 16) << (40 - bits)
            records[(value, bits)] = vendor

vendors = sorted(set(records.values()))
index = {v: i for i, v in enumerate(vendors)}
assert len(vendors) < 65536
out = bytearray(b"OUI1")
out += struct.pack(">II", len(records), len(vendors))
for (value, bits), vendor in sorted(records.items()):
    out += value.to_bytes(5, "big") + bytes([bits]) + struct.pack(">H", index[vendor])
blob = bytearray()
offsets = []
for v in vendors:
    offsets.append(len(blob))
    blob += v.encode("utf-8")
offsets.append(len(blob))
for o in offsets:
    out += struct.pack(">I", o)
out += blob
with open(OUT, "wb") as f:
    f.write(out)
print(f"{OUT}: {len(records)} prefixes, {len(vendors)} vendors, {len(out)} bytes")
