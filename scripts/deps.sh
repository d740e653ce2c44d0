#!/usr/bin/env bash
# Install every Debian package the build, the demo and the tests need, when missing.
# Quick when nothing is missing (one dpkg-query). Uses sudo when not root.
set -euo pipefail

PKGS=(
  gcc make pkg-config binutils   # the build
  libelf-dev zlib1g-dev          # libelf (elfutils) for reading ELF; libelf.a needs libz
  libcriterion-dev               # the test framework
  clang lld                      # fixtures for other CPUs (-target aarch64-linux-gnu)
  libclang-rt-14-dev             # libFuzzer and the sanitizer runtimes for clang (make fuzz)
)

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -q
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
