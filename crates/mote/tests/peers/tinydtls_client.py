#!/usr/bin/env python3
"""A tinydtls DTLS 1.2 PSK client for mote's interop tests
(crates/mote/tests/dtls12_server_python.rs) and for scripts/bench-dtls.

tinydtls comes from the PyPI package DTLSSocket (a Cython wrapper that builds tinydtls;
./scripts/test installs it into target/peers-venv). The wrapper's `dtls.DTLS` engine is driven
on a plain UDP socket: connect() makes tinydtls send its ClientHello through the write
callback, every datagram received goes to handleMessageAddr, the read callback gets the
application data. The wrapper registers only tinydtls' PSK callback, and tinydtls offers
TLS_PSK_WITH_AES_128_CCM_8 first (then TLS_PSK_WITH_AES_128_CCM, if built with it).

The wrapper's sessions are IPv6 (sockaddr_in6), so the socket is AF_INET6 and the server is
reached at ::ffff:<IPv4> (a server on 127.0.0.1 sees a client on 127.0.0.1).

Once connected, sends `--line` (a newline is added unless --no-newline), waits for one
record of application data, prints it, sends close_notify and exits. Printed, one line
each, flushed: `connected` when the handshake completes, `received: <data>` for the answer,
`alert <level> <code>` for each alert tinydtls reports, `closed` at the end; `error: ...`
and exit status 1 on failure (no handshake or no answer within --timeout seconds).
"""

import argparse
import sys
import time

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
    ap.add_argument("--host", default="127.0.0.1", help="the server's IPv4 address")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--psk-identity", required=True)
    ap.add_argument("--psk-hex", required=True)
    ap.add_argument("--line", required=True)
    ap.add_argument("--no-newline", action="store_true", help="send --line exactly")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--debug", action="store_true", help="tinydtls debug log on stderr")
    a = ap.parse_args()

    host = "::ffff:" + a.host
    sock = ipv6_udp_socket()

    state = {"connected": False, "answer": None}

    def read(addr, data):
        state["answer"] = data
        return len(data)

    def event(level, code):
        if level == 0 and code == DTLS_EVENT_CONNECTED:
            state["connected"] = True
        elif level != 0:
            print(f"alert {level} {code}", flush=True)

    d = tinydtls_engine(dtls, sock, a.psk_identity, a.psk_hex, a.debug, read, event)

    session = d.connect(host, a.port)
    if not session:
        print("error: tinydtls could not start the handshake", flush=True)
        sys.exit(1)

    deadline = time.monotonic() + a.timeout
    sent = False
    while time.monotonic() < deadline:
        tinydtls_receive(d, sock, 0.05)
        if state["connected"] and not sent:
            print("connected", flush=True)
            d.write(session, (a.line if a.no_newline else a.line + "\n").encode())
            sent = True
        if state["answer"] is not None:
            text = state["answer"].decode(errors="replace").rstrip("\n")
            print("received:", text, flush=True)
            # close_notify; tinydtls sends it at once.
            d.close(session)
            print("closed", flush=True)
            return
        d.checkRetransmit()
    what = "answer" if sent else "handshake"
    print(f"error: no {what} within {a.timeout} s", flush=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
