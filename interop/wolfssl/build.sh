#!/usr/bin/env bash
# Builds wolfSSL's example DTLS server and client with RFC 9146 connection IDs, for
# crates/mote/tests/dtls12_wolfssl_cid.rs, into target/wolfssl/ of the workspace:
#   target/wolfssl/bin/server, target/wolfssl/bin/client
#
# wolfSSL is GPL-2.0-or-later. Its source and these binaries live only under target/; nothing
# here is linked into any mote crate (see README.md beside this file).
#
# Where the source comes from: crates.io's `wolfssl-sys` vendors the whole wolfSSL C source
# (wolfssl-sys 5.3.0 carries wolfSSL 5.9.4). A throwaway crate depending on exactly that
# version is fetched with `cargo fetch` (which checks the .crate against the index'
# checksum); the .crate is then unpacked from cargo's download cache. Nothing of
# wolfssl-sys' own build (bindgen, its patches) is used.
#
# Idempotent: does nothing when both binaries exist and were built with this script's
# configure line. Needs a C compiler, make, autoconf, automake and libtool (Debian:
# build-essential autoconf automake libtool) and cargo.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/target/wolfssl

WOLFSSL_SYS_VERSION=5.3.0
# DTLS 1.2 (1.3 off: RFC 9146 is about DTLS 1.2 records), connection IDs, PSK, ECC and
# AES-CCM. WOLFSSL_STATIC_PSK: without it wolfSSL builds only the (EC)DHE_PSK suites, not
# TLS_PSK_WITH_AES_128_CCM_8. No finite-field DH (mote has none). Static, so the examples
# are plain executables. Debug: the examples then turn wolfSSL's log on (stderr), which
# says why a record was dropped.
CONFIGURE_ARGS=(
  --enable-dtls --disable-dtls13 --enable-dtlscid
  --enable-psk --enable-ecc --enable-aesccm
  --disable-dh
  --enable-static --disable-shared
  --enable-debug
  --disable-crypttests --disable-benchmark
  CPPFLAGS=-DWOLFSSL_STATIC_PSK
)
stamp="wolfssl-sys $WOLFSSL_SYS_VERSION: ${CONFIGURE_ARGS[*]}"

if [ -x "$out/bin/server" ] && [ -x "$out/bin/client" ] && [ -f "$out/run/certs/dh2048.pem" ] \
  && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

for tool in cc make autoreconf automake libtoolize cargo; do
  command -v "$tool" >/dev/null || {
    echo "interop/wolfssl/build.sh: '$tool' is missing (Debian: build-essential autoconf automake libtool; cargo from rustup)" >&2
    exit 1
  }
done

mkdir -p "$out"

# 1. The source: fetch the wolfssl-sys .crate through a throwaway crate. Its own empty
#    [workspace] keeps it out of mote's workspace.
fetch=$out/fetch
mkdir -p "$fetch/src"
cat >"$fetch/Cargo.toml" <<TOML
[package]
name = "wolfssl-source-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
wolfssl-sys = { version = "=$WOLFSSL_SYS_VERSION", default-features = false }

[workspace]
TOML
: >"$fetch/src/lib.rs"
echo "==> cargo fetch wolfssl-sys $WOLFSSL_SYS_VERSION (vendors the wolfSSL C source)"
(cd "$fetch" && cargo fetch -q)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
crate=$(ls "$cargo_home"/registry/cache/*/"wolfssl-sys-$WOLFSSL_SYS_VERSION.crate" 2>/dev/null | head -n1)
[ -n "$crate" ] || { echo "wolfssl-sys-$WOLFSSL_SYS_VERSION.crate not in $cargo_home/registry/cache after cargo fetch" >&2; exit 1; }

src=$out/src
rm -rf "$src"
mkdir -p "$src"
tar -xzf "$crate" -C "$src"
wolf=$src/wolfssl-sys-$WOLFSSL_SYS_VERSION/wolfssl-src
[ -f "$wolf/configure.ac" ] || { echo "no wolfssl-src/configure.ac in $crate" >&2; exit 1; }
grep -m1 '^AC_INIT' "$wolf/configure.ac"

# 2. Configure and build the library and the two examples.
cd "$wolf"
echo "==> autogen, configure ${CONFIGURE_ARGS[*]}"
./autogen.sh >"$out/autogen.log" 2>&1 || { tail -n 30 "$out/autogen.log" >&2; exit 1; }
./configure "${CONFIGURE_ARGS[@]}" >"$out/configure.log" 2>&1 || { tail -n 30 "$out/configure.log" >&2; exit 1; }
echo "==> make examples/server/server examples/client/client"
make -j"$(nproc)" examples/server/server examples/client/client >"$out/make.log" 2>&1 \
  || { tail -n 40 "$out/make.log" >&2; exit 1; }

mkdir -p "$out/bin"
# The examples start by climbing from their working directory until they find
# certs/dh2048.pem (ChangeToWolfRoot in wolfssl/test.h) and exit if there is none. The crate
# leaves certs/ out and this build has no DH, so an empty marker is all they need: the tests
# run them in target/wolfssl/run.
mkdir -p "$out/run/certs"
: >"$out/run/certs/dh2048.pem"
# With --disable-shared the examples are real executables, not libtool wrappers.
install -m 755 examples/server/server "$out/bin/server"
install -m 755 examples/client/client "$out/bin/client"
printf '%s\n' "$stamp" >"$out/stamp"
echo "==> built $out/bin/server and $out/bin/client"
