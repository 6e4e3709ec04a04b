#!/usr/bin/env python3
"""Seeds the decode_packet corpus with real frames from the classic-pcap captures.

Each seed is 2 bytes selecting the link type (as the target reads them), 1 snap byte (0),
then the frame. Usage: fuzz/seed_frames.py [path/to/shared/data/pcaps]
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../shared/data/pcaps")
DST = os.path.join(HERE, "corpus/decode_packet")
# The target's LINK_TYPES order.
ORDER = [1, 101, 12, 14, 228, 229, 113, 276, 0, 108]

os.makedirs(DST, exist_ok=True)
n = 0
for folder in ("malformed", "benign", "attacks"):
    d = os.path.join(SRC, folder)
    for name in sorted(os.listdir(d)):
        data = open(os.path.join(d, name), "rb").read()
        if len(data) < 24:
            continue
        magic = data[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            e = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            e = ">"
        else:
            continue
        lt = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
        if lt not in ORDER:
            continue
        off, taken = 24, 0
        while off + 16 <= len(data) and taken < 8:
            incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            frame = data[off + 16:off + 16 + incl]
            off += 16 + incl
            if len(frame) != incl:
                break
            with open(os.path.join(DST, f"seed-{name}-{taken}"), "wb") as f:
                f.write(struct.pack(">H", ORDER.index(lt)) + b"\0" + frame)
            taken += 1
            n += 1
print(f"seeded {n} frames into {DST}")
