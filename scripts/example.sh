#!/usr/bin/env bash
# The main job on the bundled example recipe: sets up the engine (and swarm, and test images), builds
# cc-ci, turns examples/recipes/hello into a git repository with release history (as a recipe PR would
# look), and runs all four tiers on it with the built-in stack deployer. Extra arguments go to `cc-ci run`
# (e.g. `--stages install`, `-k http`, `--deployer abra --abra tests/support/abra-double`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-engine.sh
cargo build --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash examples/make-recipe-repo.sh examples/recipes/hello "$work/hello" >/dev/null
out=${CCCI_EXAMPLE_OUT:-target/example}
mkdir -p "$out"
./target/debug/cc-ci run --recipe "$work/hello" --data-dir . \
  --junitxml "$out/junit.xml" --summary-md "$out/summary.md" --artifacts "$out" "$@"
