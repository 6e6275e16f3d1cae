#!/usr/bin/env bash
# The test command: sets up the engine, swarm and test images, then runs every test of the project.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-engine.sh
command -v pytest >/dev/null 2>&1 || python3 -m pip install -q pytest >/dev/null 2>&1 || true
cargo test "$@"
