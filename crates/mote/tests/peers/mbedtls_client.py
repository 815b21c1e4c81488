#!/usr/bin/env python3
"""An mbed TLS DTLS 1.2 client for mote's interop tests (crates/mote/tests/dtls12_server_python.rs).

mbed TLS comes from the PyPI package python-mbedtls (its wheel bundles mbed TLS 2.28;
./scripts/test installs it into target/peers-venv). The client connects a UDP socket to
127.0.0.1:--port, does the handshake (answering the server's HelloVerifyRequest), sends
`--line` (a newline is added), prints the one record it gets back and closes with
close_notify.

Credentials: `--psk-identity ID --psk-hex KEY` for the PSK suites, or `--ca PEM` (the server
certificate's CA) with `--server-name NAME` for ECDHE-ECDSA, the chain and name verified;
`--cipher` (repeatable) pins the suites, in mbed TLS names (TLS-PSK-WITH-AES-128-CCM-8, ...).
Printed, one line each, flushed: `connected <cipher> <version>` after the handshake,
`received: <data>` for the answer, `closed` at the end; `error: ...` and exit status 1 on
failure.
"""

import argparse
import socket
import sys

# Importing _common must not leave a __pycache__ in the source tree.
sys.dont_write_bytecode = True

from _common import mbedtls_dtls12_conf, print_connected, report_failure, required  # noqa: E402

with required("mbedtls", "python-mbedtls"):
    from mbedtls import tls, x509


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--psk-identity")
    ap.add_argument("--psk-hex")
    ap.add_argument("--ca")
    ap.add_argument("--server-name")
    ap.add_argument("--cipher", action="append", required=True)
    ap.add_argument("--line", required=True)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()

    conf = mbedtls_dtls12_conf(tls, a.cipher, validate_certificates=bool(a.ca))
    if a.psk_identity:
        conf["pre_shared_key"] = (a.psk_identity, bytes.fromhex(a.psk_hex))
    if a.ca:
        with open(a.ca) as f:
            conf["trust_store"] = tls.TrustStore([x509.CRT.from_PEM(f.read())])
    ctx = tls.ClientContext(tls.DTLSConfiguration(**conf))

    try:
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.settimeout(a.timeout)
        conn = ctx.wrap_socket(raw, server_hostname=a.server_name)
        conn.connect(("127.0.0.1", a.port))
        conn.do_handshake()
        print_connected(conn)
        conn.send((a.line + "\n").encode())
        data = conn.recv(4096)
        print("received:", data.decode(errors="replace").rstrip("\n"), flush=True)
        # python-mbedtls' shutdown() sends close_notify.
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()
        print("closed", flush=True)
    except Exception as e:  # reported to the test, which shows it
        report_failure(e)


if __name__ == "__main__":
    main()
