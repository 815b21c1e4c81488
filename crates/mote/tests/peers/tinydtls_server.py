#!/usr/bin/env python3
"""A tinydtls DTLS 1.2 PSK server for mote's interop tests (crates/mote/tests/dtls12_tinydtls.rs).

tinydtls comes from the PyPI package DTLSSocket (a Cython wrapper that builds tinydtls;
./scripts/test installs it into target/peers-venv). The wrapper's `dtls.DTLS` engine is driven
here on a plain UDP socket: every datagram goes to handleMessageAddr, tinydtls' write callback
sends, its read callback gets the application data. The wrapper only registers tinydtls'
PSK callback (no get_ecdsa_key), so only the PSK suites tinydtls has can be negotiated:
TLS_PSK_WITH_AES_128_CCM_8 and TLS_PSK_WITH_AES_128_CCM.

The wrapper's sessions are IPv6 (sockaddr_in6), so the socket is AF_INET6, bound to
::ffff:127.0.0.1 (a client on 127.0.0.1 reaches it). Printed, one line each, flushed:
`listening <port>` once bound, `connected` when a handshake completes, `received: <line>` for
each record of application data (answered with `ack <data>`), `alert <level> <description>`
for each alert tinydtls reports (close_notify: `alert 1 0`). Runs until killed.
"""

import argparse
import sys

# Importing _common must not leave a __pycache__ in the source tree.
sys.dont_write_bytecode = True

from _common import (  # noqa: E402
    DTLS_EVENT_CONNECTED,
    ipv6_udp_socket,
    required,
    tinydtls_engine,
    tinydtls_receive,
)

with required("DTLSSocket", "DTLSSocket"):
    from DTLSSocket import dtls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--psk-identity", required=True)
    ap.add_argument("--psk-hex", required=True)
    ap.add_argument("--debug", action="store_true", help="tinydtls debug log on stderr")
    a = ap.parse_args()

    sock = ipv6_udp_socket()
    sock.bind(("::ffff:127.0.0.1", a.port))

    # Answers are written after handleMessageAddr returns, not from inside tinydtls' callback.
    pending = []

    def read(addr, data):
        print("received:", data.decode(errors="replace").rstrip("\n"), flush=True)
        pending.append((addr, b"ack " + data))
        return len(data)

    def event(level, code):
        if level == 0 and code == DTLS_EVENT_CONNECTED:
            print("connected", flush=True)
        elif level != 0:
            print(f"alert {level} {code}", flush=True)

    d = tinydtls_engine(dtls, sock, a.psk_identity, a.psk_hex, a.debug, read, event)
    print("listening", sock.getsockname()[1], flush=True)

    while True:
        tinydtls_receive(d, sock, 0.1)
        for addr, data in pending:
            d.write(dtls.Session(addr[0], addr[1]), data)
        pending.clear()
        d.checkRetransmit()


if __name__ == "__main__":
    main()
