#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages tinyforge needs to build and run firmware:
# the Arm cross compiler and binutils, newlib, and QEMU. Idempotent: when everything is present it
# only checks (a fraction of a second) and changes nothing. Uses sudo when not run as root.
#
#   toolchain/install.sh [extra-package...]    e.g. toolchain/install.sh make
set -euo pipefail

packages=(gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm "$@")

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "toolchain/install.sh: this script needs Debian or Ubuntu (dpkg and apt-get)." >&2
  echo "Elsewhere install: an arm-none-eabi GCC with newlib (nano, rdimon and nosys specs), and" >&2
  echo "qemu-system-arm >= 7.2, then check with 'tinyforge doctor'." >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "toolchain: all present (${packages[*]})"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "toolchain/install.sh: need root to install ${missing[*]}: run it as root (sudo is not installed)." >&2
  exit 1
fi

echo "toolchain: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
${sudo[@]+"${sudo[@]}"} apt-get update
${sudo[@]+"${sudo[@]}"} apt-get install -y --no-install-recommends "${missing[@]}"
echo "toolchain: installed ${missing[*]}"
