#!/usr/bin/env bash
# The test command: sets up everything the tests need on this machine (Docker engine, swarm, test
# images, pytest for the legacy-overlay tests, Chromium and xmllint for the report/dashboard tests),
# then runs every test of the project. Extra arguments go to `cargo test` (run as one cargo command).
#
# Without arguments the test binaries are built once and run in two lanes at the same time: the
# end-to-end binary (the longest, mostly waiting on the engine) in one, every other binary one after the
# other in the second. A binary named `faults` (it restarts the engine) runs alone after both lanes.
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

# run NAME: runs one binary, output in $logs/NAME.log, exit code in $logs/NAME.rc.
run() {
  local exe
  exe=$(awk -v n="$1" '$1 == n { print $2 }' "$logs/binaries")
  set +e
  "$exe" >"$logs/$1.log" 2>&1
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
if echo "$names" | grep -qx faults; then run faults; fi

rc=0
for n in $names; do
  echo "==== $n"
  cat "$logs/$n.log"
  [ "$(cat "$logs/$n.rc")" = 0 ] || { rc=1; echo "test.sh: $n FAILED" >&2; }
done
echo "test.sh: tests ran in $((SECONDS - start)) s"
summarize "$logs"/*.log
exit "$rc"
