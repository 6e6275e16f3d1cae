#!/usr/bin/env bash
# The test command: sets up everything the tests need on this machine (Docker engine, swarm, test
# images, pytest for the legacy-overlay tests, Chromium and xmllint for the report/dashboard tests),
# then runs every test of the project. Extra arguments go to `cargo test` (run as one cargo command).
#
# Without arguments the test binaries are built once and run in two lanes at the same time: the
# end-to-end binary (the longest, mostly waiting on the engine) in one, every other binary one after the
# other in the second (the engine binary among them: a run's janitor pass reaps only its own coord
# tree's dead runs, so the janitor test's planted dead run is safe beside e2e). `faults` (it restarts
# the engine) runs alone after both lanes.
# Each binary's output is kept and printed whole, in a fixed order, once it is done.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-engine.sh
bash scripts/setup-chromium.sh
if ! python3 -m pytest --version >/dev/null 2>&1; then
  echo "test.sh: installing pytest (legacy pytest overlays are tested for real)" >&2
  python3 -m pip install -q pytest >/dev/null 2>&1 \
    || { echo "test.sh: error: python3 -m pip install pytest failed" >&2; exit 1; }
fi
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# The closing line sums every `test result:` line (unit, integration and the runner's own trials).
summarize() {
  { grep -hE '^test result:' "$@" || true; } | awk '
    { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;/) p += $(i-1); if ($(i) ~ /^failed;/) f += $(i-1) } }
    END { printf "tests: %d passed, %d failed\n", p, f }'
}

if [ "$#" -gt 0 ]; then
  set +e
  cargo test --no-fail-fast "$@" 2>&1 | tee "$logs/all"
  rc=${PIPESTATUS[0]}
  set -e
  summarize "$logs/all"
  exit "$rc"
fi

# Build every test binary once; list them as "name path" (the order cargo test would run them in).
cargo test --no-run --message-format=json-render-diagnostics >"$logs/build.json"
# The fault tests are not a default test target (they restart the engine): built by name.
cargo test --no-run --test faults --message-format=json-render-diagnostics >>"$logs/build.json"
python3 - "$logs/build.json" >"$logs/binaries" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["profile"]["test"] and m.get("executable"):
        name = m["target"]["name"]
        if "lib" in m["target"]["kind"]:
            name = "lib"
        print(name, m["executable"])
PY
[ -s "$logs/binaries" ] || { echo "test.sh: error: cargo built no test binary" >&2; exit 1; }

# run NAME [ARGS]: runs one binary, output in $logs/NAME.log, exit code in $logs/NAME.rc.
run() {
  local exe
  exe=$(awk -v n="$1" '$1 == n { print $2 }' "$logs/binaries")
  set +e
  "$exe" "${@:2}" >"$logs/$1.log" 2>&1
  echo $? >"$logs/$1.rc"
  set -e
  echo "test.sh: $1 done (exit $(cat "$logs/$1.rc"))" >&2
}
names=$(awk '{ print $1 }' "$logs/binaries")
lane2=$(echo "$names" | grep -vxE 'e2e|faults' || true)
start=$SECONDS
if echo "$names" | grep -qx e2e; then run e2e & e2e_pid=$!; fi
for n in $lane2; do run "$n"; done
[ -n "${e2e_pid:-}" ] && wait "$e2e_pid"
# The fault tests restart the shared engine: alone, after every other binary, one test at a time
# (each holds the engine lock exclusively while the engine may be down). Under a shared hold of that
# lock taken by a caller of this script they could only wait for themselves: then they are not run,
# and this says so.
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
if echo "$names" | grep -qx faults; then
  if lock_held_above; then
    echo "test.sh: NOT RUN: the fault tests (tests/faults) restart the engine and need $engine_lock exclusively, but a caller of this script holds it; run them alone: cargo test --test faults -- --test-threads=1" | tee "$logs/faults.log" >&2
    echo 0 >"$logs/faults.rc"
  else
    run faults --test-threads=1
  fi
fi

rc=0
for n in $names; do
  echo "==== $n"
  cat "$logs/$n.log"
  [ "$(cat "$logs/$n.rc")" = 0 ] || { rc=1; echo "test.sh: $n FAILED" >&2; }
done
echo "test.sh: tests ran in $((SECONDS - start)) s"
summarize "$logs"/*.log
exit "$rc"
