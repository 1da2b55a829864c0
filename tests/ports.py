"""Ports on 127.0.0.1 for servers the tests start, chosen where no other connection can take them first."""

from __future__ import annotations

import random
import socket

OUTGOING_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
LOWEST_PORT = 10000


def _outgoing_ports_start() -> int:
    """The first port the system hands out to outgoing connections (32768 where it does not say)."""
    try:
        with open(OUTGOING_RANGE_FILE) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports nobody listens on now, below the range of outgoing connections' own ports.

    A port the system picked for ``bind(0)`` comes from that range: between the moment it is chosen and the
    moment a test's server binds it, any connection of any process on the machine (another test worker's
    TensorFlow, a download) may get it as its local port, and the bind fails. Below the range only an
    explicit bind can take it, and the choice is random, so parallel test workers rarely meet.
    """
    start = _outgoing_ports_start()
    choose = random.SystemRandom()
    ports: list[int] = []
    while len(ports) < n:
        port = choose.randrange(LOWEST_PORT, start)
        if port in ports:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    return ports


def free_port() -> int:
    """One port as :func:`free_ports` chooses them."""
    return free_ports(1)[0]
