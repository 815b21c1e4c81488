#!/usr/bin/env python3
"""An mbed TLS DTLS 1.2 server for mote's interop tests (crates/mote/tests/dtls12_mbedtls.rs).

mbed TLS comes from the PyPI package python-mbedtls (its wheel bundles mbed TLS 2.28;
./scripts/test installs it into target/peers-venv). One connection is served the way
python-mbedtls documents DTLS servers: accept, handshake until the HelloVerifyRequest (cookie
bound to the client's address), accept the client's second ClientHello, handshake.

Credentials: `--psk-identity ID --psk-hex KEY` for the PSK suites, or `--cert PEM --key PEM`
(a P-256 certificate) for ECDHE-ECDSA; `--cipher` (repeatable) pins the suites, in mbed TLS
names (TLS-PSK-WITH-AES-128-CCM-8, ...). Printed, one line each, flushed: `listening <port>`
once bound, `connected <cipher> <version>` after the handshake, `received: <line>` for each
record of application data (answered with `ack <data>`), `closed` when the client's
close_notify arrives (python-mbedtls' shutdown() then writes no close_notify back, only an
empty datagram, so the server just exits), `error: ...` on failure.
"""

import argparse
import socket
import sys
from contextlib import suppress

# Importing _common must not leave a __pycache__ in the source tree.
sys.dont_write_bytecode = True

from _common import mbedtls_dtls12_conf, print_connected, report_failure, required  # noqa: E402

with required("mbedtls", "python-mbedtls"):
    from mbedtls import pk, tls, x509
    from mbedtls.exceptions import TLSError

# mbed TLS' error for a received close_notify, which python-mbedtls raises from recv.
MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY = 0x7880


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--psk-identity")
    ap.add_argument("--psk-hex")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--cipher", action="append", required=True)
    a = ap.parse_args()

    conf = mbedtls_dtls12_conf(tls, a.cipher, validate_certificates=False)
    if a.psk_identity:
        conf["pre_shared_key_store"] = {a.psk_identity: bytes.fromhex(a.psk_hex)}
    if a.cert:
        with open(a.cert) as f:
            crt = x509.CRT.from_PEM(f.read())
        with open(a.key) as f:
            key = pk.ECC.from_PEM(f.read())
        conf["certificate_chain"] = ((crt,), key)
    ctx = tls.ServerContext(tls.DTLSConfiguration(**conf))

    srv = ctx.wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    print("listening", a.port, flush=True)

    try:
        conn, addr = srv.accept()
        conn.setcookieparam(addr[0].encode())
        with suppress(tls.HelloVerifyRequest):
            conn.do_handshake()
        conn, addr = conn.accept()
        conn.setcookieparam(addr[0].encode())
        conn.do_handshake()
        print_connected(conn)
        while True:
            try:
                data = conn.recv(4096)
            except TLSError as e:
                if e.err != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
                    raise
                data = b""
            if not data:
                print("closed", flush=True)
                break
            print("received:", data.decode(errors="replace").rstrip("\n"), flush=True)
            conn.send(b"ack " + data)
    except Exception as e:  # reported to the test, which shows it
        report_failure(e)


if __name__ == "__main__":
    main()
