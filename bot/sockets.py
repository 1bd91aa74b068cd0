"""Listening sockets for our HTTP servers (the service's and the local doubles')."""

from __future__ import annotations

import socket


def listening_socket(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """Bound and listening; raises OSError when the address is taken or not ours. `shared`
    lets several workers listen on one port, the kernel spreading connections among them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # Accepted connections inherit this: a response written in two parts must not
        # wait for the peer's delayed ACK (about 40 ms per request otherwise).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock
