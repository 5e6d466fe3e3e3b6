# SPDX-License-Identifier: MIT
"""Whether an address is this machine's loopback: only a local process (or the local proxy) can use one."""

import ipaddress


def is_loopback(address):
    """'localhost', 127.0.0.0/8 or ::1, also as an IPv4-mapped IPv6 address (a dual-stack listener's peers);
    '' (every interface) and names are not."""
    if address == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback
