//! DHCP parser (in progress).
