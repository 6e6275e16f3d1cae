#!/usr/bin/env bash
# Parse check for every .nix file of the repository: `nix-instantiate --parse` on each, failing with the
# file's name on the first syntax error (all errors are printed, the exit code is 1 when any file fails).
# Installs Debian's nix-bin when `nix-instantiate` is missing (idempotent). Nothing is evaluated or built:
# no nixpkgs is reachable here; the real builds and the VM test run on the CI host (see docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'check-nix: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v nix-instantiate >/dev/null 2>&1; then
  log "installing nix-bin (for nix-instantiate)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || die "apt-get update failed"
  $SUDO apt-get install -y -qq nix-bin >/dev/null || die "apt-get install nix-bin failed"
  command -v nix-instantiate >/dev/null 2>&1 || die "nix-bin installed but nix-instantiate is not on PATH"
fi

# A parse needs no store, but nix still opens its state and store directories: keep them in a
# throw-away place so the check works without a nix daemon and never touches /nix.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export NIX_STATE_DIR="$scratch/state" NIX_LOG_DIR="$scratch/log" NIX_CONF_DIR="$scratch/conf"
export NIX_REMOTE="" HOME="$scratch/home" XDG_CACHE_HOME="$scratch/cache"
mkdir -p "$NIX_STATE_DIR" "$NIX_LOG_DIR" "$NIX_CONF_DIR" "$HOME"

# Every tracked or new .nix file outside target directories, in a stable order.
mapfile -t files < <(find . \( -name target -o -name 'target-*' -o -name .git \) -prune -o \
  -type f -name '*.nix' -print | LC_ALL=C sort)
[ ${#files[@]} -gt 0 ] || die "no .nix file found (expected at least flake.nix and nix/*.nix)"

failed=()
for f in "${files[@]}"; do
  if ! out=$(nix-instantiate --parse "$f" 2>&1 >/dev/null); then
    log "FAIL ${f#./}"
    printf '%s\n' "$out" >&2
    failed+=("${f#./}")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  log "${#failed[@]} of ${#files[@]} .nix files do not parse: ${failed[*]}"
  exit 1
fi
log "${#files[@]} .nix files parse: ${files[*]#./}"
