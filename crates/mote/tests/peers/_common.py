"""What the Python DTLS peers of mote's interop tests share (imported by the scripts next to
it: Python puts a script's own folder first on sys.path).

- `required`: an import of the peer's PyPI package that, when it fails, prints what to
  install and exits with status 2 (the Rust test shows the output).
- tinydtls (PyPI package DTLSSocket): its engine with the test PSK on an IPv6 UDP socket,
  and one step of feeding it a received datagram.
- mbed TLS (PyPI package python-mbedtls): the DTLS 1.2-only configuration, the `connected`
  line, and reporting an exception as `error: ...` with exit status 1.
"""

import select
import socket
import sys
from contextlib import contextmanager

# tinydtls' event code for a completed handshake (DTLS_EVENT_CONNECTED).
DTLS_EVENT_CONNECTED = 0x1DE


@contextmanager
def required(name, package):
    """Imports in the block that fail name `package` and exit with status 2."""
    try:
        yield
    except ImportError as e:
        print(
            f"cannot import {name} ({e}): pip install {package} "
            "(./scripts/test installs it into target/peers-venv)",
            flush=True,
        )
        sys.exit(2)


# ----------------------------------------------------------------------------- tinydtls


def ipv6_udp_socket():
    """A UDP socket for tinydtls: the wrapper's sessions are IPv6 (sockaddr_in6), so the socket
    is AF_INET6, dual-stack, and IPv4 peers are ::ffff:<IPv4>."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return sock


# The PSK identities handed to tinydtls engines: the wrapper keeps a char* into the bytes
# object, so it must outlive the engine (here: the process).
_kept = []


def tinydtls_engine(dtls, sock, psk_identity, psk_hex, debug, read, event):
    """The wrapper's `dtls.DTLS` engine with the PSK `psk_identity` / `psk_hex`, writing to
    `sock`; `read(addr, data)` gets application data, `event(level, code)` alerts and
    events. `debug` turns on tinydtls' debug log (stderr)."""

    def write(addr, data):
        return sock.sendto(data, (addr[0], addr[1]))

    identity = psk_identity.encode()
    _kept.append(identity)
    d = dtls.DTLS(
        read=read,
        write=write,
        event=event,
        pskId=identity,
        pskStore={identity: bytes.fromhex(psk_hex)},
    )
    dtls.setLogLevel(dtls.DTLS_LOG_DEBUG if debug else dtls.DTLS_LOG_EMERG)
    return d


def tinydtls_receive(d, sock, wait):
    """Waits up to `wait` seconds for a datagram on `sock` and hands it to the engine `d`."""
    r, _, _ = select.select([sock], [], [], wait)
    if r:
        data, src = sock.recvfrom(4096)
        ret = d.handleMessageAddr(src[0].split("%")[0], src[1], data)
        if ret != 0:
            print("handleMessage returned", ret, flush=True)


# ----------------------------------------------------------------------------- mbed TLS


def mbedtls_dtls12_conf(tls, ciphers, validate_certificates):
    """The keyword arguments of a DTLSConfiguration pinned to DTLS 1.2 and `ciphers`."""
    return dict(
        ciphers=ciphers,
        lowest_supported_version=tls.DTLSVersion.DTLSv1_2,
        highest_supported_version=tls.DTLSVersion.DTLSv1_2,
        validate_certificates=validate_certificates,
    )


def print_connected(conn):
    """`connected <cipher> <version>` for a connection after its handshake."""
    cipher = conn.cipher()
    cipher = cipher if isinstance(cipher, str) else cipher[0]
    print("connected", cipher, conn.negotiated_tls_version().name, flush=True)


def report_failure(e):
    """Reports `e` to the test, which shows it, and exits with status 1."""
    print(f"error: {type(e).__name__}: {e}", flush=True)
    sys.exit(1)
