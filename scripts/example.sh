#!/usr/bin/env bash
# The main job on the bundled example recipe: sets up the engine, builds cc-ci, provisions the coord tree.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-engine.sh
cargo build --quiet
./target/debug/cc-ci coord provision
