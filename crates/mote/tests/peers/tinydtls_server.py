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
import select
import socket
import sys

try:
    from DTLSSocket import dtls
except ImportError as e:
    print(
        f"cannot import DTLSSocket ({e}): pip install DTLSSocket "
        "(./scripts/test installs it into target/peers-venv)",
        flush=True,
    )
    sys.exit(2)

DTLS_EVENT_CONNECTED = 0x1DE


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--psk-identity", required=True)
    ap.add_argument("--psk-hex", required=True)
    ap.add_argument("--debug", action="store_true", help="tinydtls debug log on stderr")
    a = ap.parse_args()

    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::ffff:127.0.0.1", a.port))

    # Answers are written after handleMessageAddr returns, not from inside tinydtls' callback.
    pending = []

    def write(addr, data):
        return sock.sendto(data, (addr[0], addr[1]))

    def read(addr, data):
        print("received:", data.decode(errors="replace").rstrip("\n"), flush=True)
        pending.append((addr, b"ack " + data))
        return len(data)

    def event(level, code):
        if level == 0 and code == DTLS_EVENT_CONNECTED:
            print("connected", flush=True)
        elif level != 0:
            print(f"alert {level} {code}", flush=True)

    identity = a.psk_identity.encode()
    # The wrapper keeps a char* into this bytes object: it must outlive the engine.
    keep = identity
    d = dtls.DTLS(
        read=read,
        write=write,
        event=event,
        pskId=keep,
        pskStore={identity: bytes.fromhex(a.psk_hex)},
    )
    dtls.setLogLevel(dtls.DTLS_LOG_DEBUG if a.debug else dtls.DTLS_LOG_EMERG)
    print("listening", sock.getsockname()[1], flush=True)

    while True:
        r, _, _ = select.select([sock], [], [], 0.1)
        if r:
            data, src = sock.recvfrom(4096)
            ret = d.handleMessageAddr(src[0].split("%")[0], src[1], data)
            if ret != 0:
                print("handleMessage returned", ret, flush=True)
        for addr, data in pending:
            d.write(dtls.Session(addr[0], addr[1]), data)
        pending.clear()
        d.checkRetransmit()


if __name__ == "__main__":
    main()
