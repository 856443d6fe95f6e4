#!/usr/bin/env bash
# Installs the Debian packages the platform needs to build, test and run, and only those that
# are missing: nothing happens when everything is present, and `apt-get update` runs at most once.
# Used by `make up`, `make test` and `make bench`.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  nats-server libnats-dev
  postgresql libpq-dev
  libprotobuf-c-dev protobuf-c-compiler
  libuv1-dev libcurl4-openssl-dev libjansson-dev
  libcriterion-dev libmicrohttpd-dev libsodium-dev libssl-dev
  python3 python3-aiosmtpd curl wrk procps
  libjson-validator-perl libyaml-libyaml-perl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing missing packages: ${missing[*]}" >&2
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "deps: missing packages (${missing[*]}) and not root, no sudo: install them and retry" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -qq; then
  echo "deps: 'apt-get update' failed: check the network or the apt sources" >&2; exit 1
fi
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "deps: 'apt-get install ${missing[*]}' failed; see the apt output above" >&2; exit 1
fi
echo "deps: done" >&2
