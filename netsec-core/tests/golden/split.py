"""Splits tshark's rows (see make.sh) into tls.tsv, http.tsv and ssh.tsv, adding JA4.

FoxIO JA4 (TCP): t + version + d/i + cipher count + extension count + ALPN first/last char,
then truncated SHA-256 of the sorted ciphers, then of the sorted extensions (without SNI and
ALPN) + "_" + the signature_algorithms extension's list in order. GREASE values are ignored.
Only ClientHellos that tshark read whole (it computed JA3) get a value.
"""
import hashlib
import os
import sys

COLS = ["path", "frame", "type", "legacy_version", "supported_versions", "sni", "alpn",
        "ciphers", "ext_types", "sig_lens", "sig_algs", "ja3",
        "method", "host", "uri", "user_agent", "status", "protocol"]
VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
            0x0200: "s2", 0xfeff: "d1", 0xfefd: "d2", 0xfefc: "d3"}
# Extensions whose data is a SignatureSchemeList: tshark's sig_hash_alg field holds all of
# them in extension order; JA4 takes signature_algorithms (13) only.
SIG_LIST_EXTS = (13, 34, 50)


def grease(v):
    return v & 0x0F0F == 0x0A0A and v >> 8 == v & 0xFF


def nums(s):
    return [int(x, 0) for x in s.split(",") if x]


def h12(s):
    return hashlib.sha256(s.encode()).hexdigest()[:12] if s else "0" * 12


def sig_algs(row):
    exts = [e for e in nums(row["ext_types"]) if e in SIG_LIST_EXTS]
    algs, pos = nums(row["sig_algs"]), 0
    for ext, length in zip(exts, nums(row["sig_lens"])):
        if ext == 13:
            return algs[pos:pos + length // 2]
        pos += length // 2
    return []


def ja4(row):
    ciphers = [c for c in nums(row["ciphers"]) if not grease(c)]
    exts = [e for e in nums(row["ext_types"]) if not grease(e)]
    versions = [v for v in nums(row["supported_versions"]) if not grease(v)]
    version = max(versions) if versions else nums(row["legacy_version"])[0]
    alpn = row["alpn"].split(",")[0] if row["alpn"] else ""
    if not alpn:
        a = "00"
    elif alpn[0].isascii() and alpn[0].isalnum() and alpn[-1].isascii() and alpn[-1].isalnum():
        a = alpn[0] + alpn[-1]
    else:
        hx = alpn.encode().hex()
        a = hx[0] + hx[-1]
    head = "t%s%s%02d%02d%s" % (VERSIONS.get(version, "00"), "d" if 0 in exts else "i",
                                min(len(ciphers), 99), min(len(exts), 99), a)
    b = h12(",".join("%04x" % c for c in sorted(ciphers)))
    c = ",".join("%04x" % e for e in sorted(e for e in exts if e not in (0, 16)))
    sig = ",".join("%04x" % s for s in sig_algs(row))
    if sig and c:
        c += "_" + sig
    return "%s_%s_%s" % (head, b, h12(c))


out = sys.argv[1]
files = {
    "tls": ["path", "frame", "type", "legacy_version", "supported_versions", "sni", "alpn",
            "ciphers", "ja3", "ja4"],
    "http": ["path", "frame", "method", "host", "uri", "user_agent", "status"],
    "ssh": ["path", "frame", "protocol"],
}
handles = {k: open(os.path.join(out, k + ".tsv"), "w") for k in files}
for k, cols in files.items():
    handles[k].write("\t".join(cols) + "\n")
for line in sys.stdin.read().splitlines():
    row = dict(zip(COLS, line.split("\t")))
    row.setdefault("protocol", "")
    kinds = []
    if row["type"].split(",")[0] in ("1", "2"):
        row["ja4"] = ja4(row) if row["type"].startswith("1") and row["ja3"] else ""
        kinds.append("tls")
    if row["method"] or row["status"]:
        kinds.append("http")
    if row["protocol"]:
        kinds.append("ssh")
    for k in kinds:
        handles[k].write("\t".join(row.get(c, "") for c in files[k]) + "\n")
