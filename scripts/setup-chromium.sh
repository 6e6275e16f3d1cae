#!/usr/bin/env bash
# Installs what the report and dashboard tests need to look at their output as a person would:
#   - Debian's `chromium` (headless: --dump-dom and --screenshot of the static dashboard; the app
#     screenshots of `cc-ci run --screenshots auto`);
#   - Debian's `libxml2-utils` (`xmllint --schema` validates the JUnit XML against tests/fixtures/junit.xsd).
# Idempotent: does nothing when both are present. Exits non-zero with a message naming what failed.
set -euo pipefail

log() { printf 'setup-chromium: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
# Fonts, so screenshots show text rather than boxes (chromium depends on none by default in slim images).
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -eq 0 ]; then
  log "ready ($(chromium --version 2>/dev/null || echo chromium), $(xmllint --version 2>&1 | head -n1))"
  exit 0
fi

log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Other jobs on a shared machine may hold the dpkg lock: wait for it rather than fail.
APT_OPTS=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${APT_OPTS[@]}" update -qq || die "apt-get update failed"
install_missing() { $SUDO apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
# A dpkg interrupted by a concurrent job leaves packages half-configured: finish them and try once more.
install_missing || { log "retrying after dpkg --configure -a"; $SUDO dpkg --configure -a >/dev/null 2>&1 || true; install_missing; } \
  || die "apt-get install ${missing[*]} failed"
command -v chromium >/dev/null 2>&1 || die "chromium is still missing after installing it"
command -v xmllint >/dev/null 2>&1 || die "xmllint is still missing after installing libxml2-utils"
log "ready ($(chromium --version 2>/dev/null || echo chromium), $(xmllint --version 2>&1 | head -n1))"
