#!/usr/bin/env bash
# The test command: sets up everything the tests need on this machine (Docker engine, swarm, test
# images, pytest for the legacy-overlay tests, Chromium and xmllint for the report/dashboard tests),
# then runs every test of the project. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-engine.sh
bash scripts/setup-chromium.sh
if ! python3 -m pytest --version >/dev/null 2>&1; then
  echo "test.sh: installing pytest (legacy pytest overlays are tested for real)" >&2
  python3 -m pip install -q pytest >/dev/null 2>&1 \
    || { echo "test.sh: error: python3 -m pip install pytest failed" >&2; exit 1; }
fi
# --no-fail-fast: every test binary runs and reports, even after a failure. The last line sums every
# `test result:` line (unit, integration and the runner's own trials) as one plain closing line.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --no-fail-fast "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# The fault tests restart the shared engine: alone, after every other binary, one test at a time
# (each holds the engine lock exclusively while the engine may be down). Under a shared hold of that
# lock taken by a caller of this script they could only wait for themselves: then they are not run,
# and this says so. Skipped too when the arguments select something else.
engine_lock=${CCCI_ENGINE_LOCK:-/work/.engine.lock}
# True when an ancestor of this script holds a flock on the engine lock (from /proc/locks).
lock_held_above() {
  [ -e "$engine_lock" ] || return 1
  local ino holders p
  ino=$(stat -c %i "$engine_lock")
  holders=$(awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks)
  p=$$
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    for h in $holders; do [ "$h" = "$p" ] && return 0; done
    p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null || true)
  done
  return 1
}
if [ $# -eq 0 ]; then
  if lock_held_above; then
    echo "test.sh: NOT RUN: the fault tests (tests/faults) restart the engine and need $engine_lock exclusively, but a caller of this script holds it; run them alone: cargo test --test faults -- --test-threads=1" | tee -a "$log" >&2
  else
    cargo test --no-fail-fast --test faults -- --test-threads=1 2>&1 | tee -a "$log"
    frc=${PIPESTATUS[0]}
    [ "$rc" -ne 0 ] || rc=$frc
  fi
fi
set -e
{ grep -E '^test result:' "$log" || true; } | awk '
  { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;/) p += $(i-1); if ($(i) ~ /^failed;/) f += $(i-1) } }
  END { printf "tests: %d passed, %d failed\n", p, f }'
exit "$rc"
