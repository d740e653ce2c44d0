#!/usr/bin/env bash
# scripts/deps.sh [demo|test|bench]: install the Debian packages the demo needs (demo), everything
# the build, the demo and the tests need (test, the default), or the demo's and gnuplot for
# make bench-plot (bench), when missing. Uses sudo when not root.
# Needs neither root nor the network when nothing is missing (a few dpkg-query calls).
#
# For the tests on an x86-64 host it also fetches the sources of libelf and zlib for the static
# musl host (musl_sources: the one network step besides apt-get install) and prepares the aarch64
# lane (make test runs the whole suite a second time as aarch64 code under qemu-user):
#   - the cross compiler, qemu-user and its binfmt rule, and arm64 libelf/zlib by multiarch;
#   - Criterion for arm64 in a private sysroot (build/sysroot-arm64): libcriterion-dev:arm64 does
#     not co-install with the amd64 one, so its runtime set is downloaded and unpacked there;
#   - the binfmt_misc registration, so the kernel runs aarch64 executables through qemu (Criterion
#     re-executes its test binary for every test).
set -euo pipefail
cd "$(dirname "$0")/.."

WHAT=${1:-test}
case $WHAT in demo|test|bench) ;; *) echo "usage: $0 [demo|test|bench]" >&2; exit 2 ;; esac

DEMO_PKGS=(
  gcc libc6-dev make binutils    # the build: the library, the CLI, examples/*.so, examples/host.c; readelf (docs/tour.md)
  pkg-config                     # plugin.pc, for programs built against an installed plugin (pkgconf)
  libelf-dev zlib1g-dev          # libelf (elfutils) for reading ELF; libelf.a needs libz
)
TEST_PKGS=(
  libcriterion-dev               # the test framework
  clang lld                      # fixtures for the other CPU (-target ...), the fuzz target
  gdb                            # the debugger test (tools/plugin-gdb.py)
  libclang-rt-14-dev             # libFuzzer and the sanitizer runtimes for clang (make fuzz)
  clang-19 lld-19 llvm-19        # Mach-O fixtures (ld64.lld, llvm-lipo, llvm-objdump for chained fixups)
  g++                            # the C++ fixture and tests/cxx_host.cpp (mk/cxx.mk)
  libsqlite3-0 libssl3           # real libraries opened by tests/elf/test_reallibs.c
  golang-go                      # the Go c-shared fixture (static TLS pool, mk/tls.mk)
  libgomp1                       # libgomp.so.1, initial-exec TLS (static TLS pool; comes with gcc)
  python3                        # tests/malformed/gen_malformed.py (the malformed corpus), scripts/tour.py
  groff-base man-db              # man pages linted and rendered (tests/cli/test_package.c, make install-check)
)
CROSS_PKGS=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user qemu-user-binfmt
            libelf-dev:arm64 zlib1g-dev:arm64
            g++-aarch64-linux-gnu libstdc++6:arm64 libgcc-s1:arm64   # C++ fixture and host (mk/cxx.mk)
            libsqlite3-0:arm64 libssl3:arm64                          # tests/elf/test_reallibs.c
            libgomp1:arm64                                            # the OpenMP fixture (mk/tls.mk)
            gdb-multiarch)                                            # tests/cli/test_gdb.c under qemu
# The static musl host (mk/musl.mk; x86-64 lane): musl-gcc, and dpkg-dev to unpack the source
# packages of elfutils and zlib that libelf for musl is built from (musl_sources below).
MUSL_PKGS=(musl-tools dpkg-dev)
MUSL_SRC_PKGS=(elfutils zlib)
MUSL_SRC=build/src
# Criterion's arm64 runtime closure (Debian 12), unpacked into the private sysroot.
CRITERION_ARM64=(libcriterion3 libcriterion-dev libnanomsg5 libgit2-1.5 libffi8 libhttp-parser2.9
                 libmbedcrypto7 libmbedx509-1 libmbedtls14 libpcre2-8-0 libssh2-1 libssl3 zlib1g
                 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1)
SYSROOT=build/sysroot-arm64

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
as_root() {
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "deps: not root and no sudo: run as root: bash scripts/deps.sh $WHAT" >&2; exit 1
  fi
  $SUDO "$@"
}
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=300 -q)
updated=0
apt_update() { [ $updated = 1 ] || { as_root "${APT[@]}" update; updated=1; }; }

# Names without an architecture mean the native one (with arm64 added, both may be installed).
NATIVE=$(dpkg --print-architecture)
missing_of() {
  local p q status
  for p in "$@"; do
    q=$p; [[ $p == *:* ]] || q=$p:$NATIVE
    status=$(dpkg-query -W -f='${Status}' "$q" 2>/dev/null ||      # arch: all packages have
             dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)   # no qualified name
    [ "$status" = "install ok installed" ] || echo "$p"
  done
}

install_missing() {
  local missing
  mapfile -t missing < <(missing_of "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "deps: installing ${missing[*]}"
  apt_update
  as_root "${APT[@]}" install -y --no-install-recommends "${missing[@]}"
}

# apt-get download needs no root, only package lists that know the arm64 packages: tried first,
# then again after an apt-get update (lists missing or out of date). As root, apt would hand the
# download to its unprivileged _apt user, which cannot write our temporary directory: no sandbox.
criterion_sysroot() {
  [ -f "$SYSROOT/.complete" ] && return 0
  echo "deps: unpacking Criterion for arm64 into $SYSROOT"
  local tmp debs=("${CRITERION_ARM64[@]/%/:arm64}") nosandbox=()
  [ -z "$SUDO" ] && nosandbox=(-o APT::Sandbox::User=root)
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get -q "${nosandbox[@]}" download "${debs[@]}" 2>/dev/null); then
    echo "deps: not downloadable with the current package lists: apt-get update, then again"
    rm -f "$tmp"/*.deb
    apt_update
    (cd "$tmp" && apt-get -q "${nosandbox[@]}" download "${debs[@]}")
  fi
  mkdir -p "$SYSROOT"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$SYSROOT"; done
  rm -rf "$tmp"
  touch "$SYSROOT/.complete"
}

# Debian's source packages of elfutils and zlib, into $MUSL_SRC/elfutils and $MUSL_SRC/zlib, for
# scripts/musl-libelf.sh (Debian has no libelf for musl). Through a private apt configuration
# (its own sources list, package lists and cache under $MUSL_SRC/apt; the system's apt setup is
# neither read for sources nor changed): apt checks the Release file's signature against
# Debian's archive keyring and each downloaded file's SHA-256 against the signed Sources index,
# as for any package; dpkg-source then unpacks each and applies Debian's patches (it also tries
# the uploader's signature of the .dsc, and says it cannot check it: that key is in
# debian-keyring, not installed; the trust comes from apt's checks above). Done once:
# $MUSL_SRC/.complete. Needs no root (as root, apt's download sandbox is turned off: its _apt
# user could not write here).
musl_sources() {
  [ -f "$MUSL_SRC/.complete" ] && return 0
  echo "deps: fetching the source packages ${MUSL_SRC_PKGS[*]} (bookworm) into $MUSL_SRC"
  local apt_dir opts nosandbox=()
  [ -z "$SUDO" ] && nosandbox=(-o APT::Sandbox::User=root)
  rm -rf "$MUSL_SRC"
  mkdir -p "$MUSL_SRC/apt/lists/partial" "$MUSL_SRC/apt/cache/archives/partial"
  apt_dir=$(cd "$MUSL_SRC/apt" && pwd)
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
    > "$apt_dir/sources.list"
  opts=(-q -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" "${nosandbox[@]}")
  apt-get "${opts[@]}" update
  (cd "$MUSL_SRC" && apt-get "${opts[@]}" source --download-only "${MUSL_SRC_PKGS[@]}")
  local p dsc
  for p in "${MUSL_SRC_PKGS[@]}"; do
    dsc=$(ls "$MUSL_SRC/${p}_"*.dsc)
    (cd "$MUSL_SRC" && dpkg-source -q -x "$(basename "$dsc")" "$p")
  done
  touch "$MUSL_SRC/.complete"
}

# Mounted first (a chroot may not see the host's mount): the rule may already be there.
register_binfmt() {
  [ -e /proc/sys/fs/binfmt_misc/register ] ||
    as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && return 0
  echo "deps: registering qemu-aarch64 with binfmt_misc"
  grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf | as_root tee /proc/sys/fs/binfmt_misc/register >/dev/null
}

install_missing "${DEMO_PKGS[@]}"
[ "$WHAT" = demo ] && exit 0
if [ "$WHAT" = bench ]; then                # make bench-plot: the plotting tool only
  install_missing gnuplot-nox
  exit 0
fi
install_missing "${TEST_PKGS[@]}"
if [ "$(uname -m)" = x86_64 ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root dpkg --add-architecture arm64
    updated=0
  fi
  install_missing "${CROSS_PKGS[@]}" "${MUSL_PKGS[@]}"
  musl_sources
  criterion_sysroot
  register_binfmt
fi
