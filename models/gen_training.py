#!/usr/bin/env python3
"""Generated training traffic for the flow models (see models/train.sh and models/README.md).

The shared captures hold few examples of some families (two amplification floods, one UDP
flood, two brute-force sessions, no ICMP or UDP scan besides the one held out), so the models
also train on traffic from ../shared/tools/gen_pcap.py: its ordinary mix (web, TLS, bulk, SSH,
DNS, NTP, QUIC-like, ICMP; IPv6 and VLANs) with these attack episodes, spawned at random:

  * nmap-style SYN scan of one host (gen_pcap's own)           -> Portscan
  * ICMP echo sweep of a /24                                    -> Portscan
  * UDP port scan of one host                                   -> Portscan
  * UDP sweep: empty probes to one port across a /24, retried  -> Portscan
  * SSH password guessing (gen_pcap's own)                      -> Brute_Force
  * FTP password guessing, one refused login per connection     -> Brute_Force
  * UDP amplification: reflectors (DNS, NTP, SNMP, SSDP, ISAKMP, memcached, CLDAP, chargen
    source ports) answering a spoofed victim with large datagrams -> DDoS_Amplification
  * spoofed UDP flood of random ports                           -> UDP_Flood
  * spoofed SYN flood of one port (victims in 10.2.0.0/16)       -> DoS_SYN_Flood

A spoofed SYN's flow looks exactly like a SYN scan's probe (one SYN, no answer); what tells
them apart is the context the models read beside the flow (many peers at one port of the
victim, against one peer at many ports), so the generated floods teach that.

Attackers are in TEST-NET-2 (198.51.100.0/24); victims in 10.1.0.0/16: amplification victims
in 10.1.0.0/17, UDP-flood victims in 10.1.128.0/17 (models/labels/captures.toml relies on
this). Ordinary clients are 10.0.0.0/16. Same arguments and seed give the same bytes.

    models/gen_training.py --gen ../shared/tools/gen_pcap.py -o gen-train-1.pcap -n 150000 -s 101
"""
import argparse
import importlib.util
import struct
import sys


def load_gen(path):
    spec = importlib.util.spec_from_file_location('gen_pcap', path)
    g = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(g)
    return g


def install(g):
    R = g.R
    v4 = g.v4

    def attacker():
        return v4(198, 51, 100, R.randrange(1, 255))

    def paths(src, dst):
        return g.make_paths(v6=False, client=src, server=dst, vlan=0, cmac=g.ROUTER_MAC, smac=g.SERVER_MAC)

    def icmp(path, typ, ident, seq, data):
        m = struct.pack('!BBHHH', typ, 0, 0, ident, seq) + data
        return path.ip(1, m[:2] + g._pk_H(g.csum(m)) + m[4:])

    def atk_icmp_sweep(stats):
        """One host pings every address of a /24; about a third answer."""
        stats['attack_scan'] += 1
        att, net = attacker(), (10, 1, R.randrange(256))
        ident = R.randrange(65536)
        for host in range(1, 255):
            c2s, s2c = paths(att, v4(*net, host))
            stats['icmp'] += 1
            yield icmp(c2s, 8, ident, host, b'')
            if R.random() < 0.35:
                yield icmp(s2c, 0, ident, host, b'')

    def atk_udp_scan(stats):
        """Empty UDP probes to many ports of one host, a few services answer."""
        stats['attack_scan'] += 1
        att, vic = attacker(), v4(10, 1, R.randrange(256), R.randrange(1, 255))
        sp = R.randrange(40000, 65000)
        ports = list(range(1, 1025))
        R.shuffle(ports)
        for dp in ports[:R.randint(100, 1000)]:
            c2s, s2c = paths(att, vic)
            stats['udp'] += 1
            yield g.udp(c2s, sp, dp, b'')
            if dp in (53, 123, 161) and R.random() < 0.5:
                yield g.udp(s2c, dp, sp, g.rand_payload(R.randint(20, 90)))

    reflector_ports = (53, 123, 161, 1900, 500, 11211, 389, 19)

    def atk_amplification(stats):
        """Reflectors answer a spoofed victim (10.1.0.0/17) with large datagrams."""
        stats['attack_flood'] += 1
        vic = v4(10, 1, R.randrange(128), R.randrange(1, 255))
        sport = R.choice(reflector_ports)
        dport = R.randrange(1024, 65535)
        for _ in range(R.randint(1500, 5000)):
            refl = v4(R.randrange(1, 224), R.randrange(256), R.randrange(256), R.randrange(1, 255))
            c2s, _ = paths(refl, vic)
            stats['udp'] += 1
            for _ in range(R.choice((1, 1, 1, 2, 3))):
                yield g.udp(c2s, sport, dport, g.rand_payload(R.randint(400, 1472)))

    def atk_udp_flood(stats):
        """Spoofed sources send datagrams to random ports of one victim (10.1.128.0/17)."""
        stats['attack_flood'] += 1
        vic = v4(10, 1, R.randrange(128, 256), R.randrange(1, 255))
        size = R.choice((0, 18, 64, 512, 1400))
        for _ in range(R.randint(1500, 5000)):
            src = v4(R.randrange(1, 224), R.randrange(256), R.randrange(256), R.randrange(1, 255))
            c2s, _ = paths(src, vic)
            stats['udp'] += 1
            yield g.udp(c2s, R.randrange(1024, 65535), R.randrange(1, 65535), g.rand_payload(size))

    def atk_syn_flood(stats):
        """Spoofed sources send SYNs to one port of one victim (10.2.0.0/16); a few SYN-ACKs."""
        stats['attack_flood'] += 1
        vic, dp = v4(10, 2, R.randrange(256), R.randrange(1, 255)), R.choice((80, 443, 22, 25))
        for _ in range(R.randint(1500, 5000)):
            src = v4(R.randrange(1, 224), R.randrange(256), R.randrange(256), R.randrange(1, 255))
            c2s, s2c = paths(src, vic)
            t = g.Tcp(c2s, s2c, R.randrange(1024, 65535), dp)
            t.cwin = R.choice((512, 1024, 5840, 64240))
            stats['tcp'] += 1
            yield t.c(g.SYN, opts=g.MSS_OPT if R.random() < 0.5 else b'')
            if R.random() < 0.3:
                yield t.s(g.SYN | g.ACK, opts=g.MSS_OPT)

    def atk_udp_sweep(stats):
        """Empty UDP probes to one port across a /24, in up to four passes: a host that does
        not answer is probed again on the next pass, a whole sweep later (as nmap retries)."""
        stats['attack_scan'] += 1
        att, net = attacker(), (10, 1, R.randrange(256))
        sp, dp = R.randrange(40000, 65000), R.randrange(1, 65535)
        hosts = list(range(1, 255))
        stats['udp'] += len(hosts)
        for _ in range(R.randint(1, 4)):
            for host in hosts:
                c2s, _ = paths(att, v4(*net, host))
                yield g.udp(c2s, sp, dp, b'')

    def atk_ftp_brute(stats):
        """FTP password guessing: one login attempt per connection, all refused."""
        stats['attack_brute'] += 1
        att, vic = attacker(), v4(10, 1, R.randrange(256), R.randrange(1, 255))
        sp = R.randrange(33000, 50000)
        for _ in range(R.randint(20, 150)):
            sp += 1
            c2s, s2c = paths(att, vic)
            t = g.Tcp(c2s, s2c, sp, 21)
            stats['tcp'] += 1
            yield t.c(g.SYN, opts=g.MSS_OPT)
            yield t.s(g.SYN | g.ACK, opts=g.MSS_OPT)
            yield t.c(g.ACK)
            yield t.s(g.PSH | g.ACK, b'220 (vsFTPd 3.0.3)\r\n')
            yield t.c(g.PSH | g.ACK, b'USER admin\r\n')
            yield t.s(g.PSH | g.ACK, b'331 Please specify the password.\r\n')
            yield t.c(g.PSH | g.ACK, b'PASS ' + bytes(R.choice(b'abcdefgh12345') for _ in range(R.randint(4, 12))) + b'\r\n')
            yield t.s(g.PSH | g.ACK, b'530 Login incorrect.\r\n')
            yield from g.tcp_teardown(t)

    def atk_forced_flood(stats):
        return (atk_amplification if R.random() < 0.5 else atk_udp_flood)(stats)

    # main() builds its forced episodes from these module globals at run time.
    g.atk_flood = atk_forced_flood
    g.ATTACKS[:] = [g.atk_scan, atk_icmp_sweep, atk_udp_scan, atk_udp_sweep, g.atk_brute,
                     atk_ftp_brute, atk_amplification, atk_udp_flood, atk_syn_flood]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--gen', required=True, help='path of gen_pcap.py')
    args, rest = ap.parse_known_args()
    g = load_gen(args.gen)
    install(g)
    sys.argv = [sys.argv[0]] + rest
    g.main()


if __name__ == '__main__':
    main()
