#!/usr/bin/env bash
# Identity benchmark: argon2id time per password hash with identity's parameters (AUTH-2), using
# identity's own password.c (tests/programs/argon2_bench), next to libsodium's "interactive"
# preset as a reference. Login and password changes cost one hash each; sizing note in
# docs/IDENTITY.md. No infrastructure needed.
#
#   bash bench/identity.sh [BUILD_DIR]          default: build
#   env: MKT_ARGON2_OPS (2), MKT_ARGON2_MEM_KIB (19456), BENCH_ARGON2_N (20)
set -euo pipefail
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -x "$B/bin/argon2_bench" ] || make -s "$B/bin/argon2_bench" >/dev/null
echo "== identity: argon2id per hash (MKT_ARGON2_OPS=${MKT_ARGON2_OPS:-2} MKT_ARGON2_MEM_KIB=${MKT_ARGON2_MEM_KIB:-19456})"
"$B/bin/argon2_bench"
