#!/usr/bin/env python3
"""Deterministic generator of Suricata content rules for netsec benchmarks.

    python3 benches/gen_rules.py --count 1000 --seed 1 > /tmp/gen1000.rules

Each rule has a random 8-16 byte fast pattern over [A-Za-z0-9/_.-], a protocol
(tcp/udp/ip), a destination port (any, 80, 443, 53, $HTTP_PORTS, 1024:), sometimes
`nocase`, and half of them a second content relative to the first. The same
arguments always print the same bytes (a fixed xorshift generator, no `random`).
`benches/benches/analyze.rs` builds the same shape of rules in Rust.
"""
import argparse

ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-."
MASK = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        self.s = (seed * 0x9E3779B97F4A7C15 + 1) & MASK or 1

    def next(self):
        s = self.s
        s ^= (s << 13) & MASK
        s ^= s >> 7
        s ^= (s << 17) & MASK
        self.s = s
        return s

    def below(self, n):
        return self.next() % n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = Rng(a.seed)
    print(f"# {a.count} generated content rules (benches/gen_rules.py --count {a.count} --seed {a.seed})")
    for i in range(a.count):
        n = 8 + rng.below(9)
        pat = "".join(ALPHA[rng.below(len(ALPHA))] for _ in range(n))
        proto = ["tcp", "tcp", "tcp", "udp", "ip"][rng.below(5)]
        port = ["any", "80", "443", "53", "$HTTP_PORTS", "1024:"][rng.below(6)]
        nocase = " nocase;" if rng.below(3) == 0 else ""
        second = f' content:"{pat[:4]}"; distance:0; within:64;' if rng.below(2) == 0 else ""
        print(
            f'alert {proto} any any -> any {port} (msg:"GEN rule {i}"; content:"{pat}";{nocase}{second} '
            f"classtype:bad-unknown; sid:{9500000 + i}; rev:1;)"
        )


if __name__ == "__main__":
    main()
