//! Zero-copy wire views for the headers smoltcp does not cover (VLAN, MPLS, Linux SLL …).
