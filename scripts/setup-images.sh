#!/usr/bin/env bash
# Builds the Debian-based test images from images/ (no registry is reachable here; Debian's mirror is):
#   ccci/debian:bookworm  debootstrap --variant=minbase bookworm, then `docker import`
#   ccci/nginx:1          images/nginx/     FROM ccci/debian:bookworm
#   ccci/postgres:15      images/postgres/  FROM ccci/debian:bookworm
#   ccci/forwarder:1      images/forwarder/ FROM ccci/debian:bookworm (socat: the screenshot forwarder)
# Idempotent and cached: every image carries the label cc-ci.image-source, a SHA-256 of what it was built
# from (the debootstrap parameters; the files of its folder and the id of its base image). An image whose
# label matches is left alone, so a second run takes seconds; a changed Dockerfile rebuilds that image
# (and the layer cache keeps the unchanged steps). Builds use the legacy builder (DOCKER_BUILDKIT=0).
# Concurrent runs on one host wait for each other (flock). CCCI_DEBIAN_MIRROR overrides the mirror.
# Called by setup-engine.sh. Exits non-zero with a message naming what failed.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup-images: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
MIRROR=${CCCI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
LABEL=cc-ci.image-source
export DOCKER_BUILDKIT=0

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || die "apt-get update failed"
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# The source label an image carries now (empty when the image is missing).
have_source() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }

exec 9>"${TMPDIR:-/tmp}/cc-ci-setup-images.lock"
flock 9

# ---- ccci/debian:bookworm ------------------------------------------------------------------------
WORK=""
# debootstrap mounts /proc and /sys inside the root while it works: unmount whatever is left before
# removing it, and never let rm cross into another file system.
cleanup_work() {
  [ -n "$WORK" ] || return 0
  { grep -o " $WORK/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do $SUDO umount -l "$m" || true; done
  $SUDO rm -rf --one-file-system "$WORK"
  WORK=""
}
trap cleanup_work EXIT

build_debian() {
  local tag=ccci/debian:bookworm
  local source="debootstrap --variant=minbase bookworm $MIRROR"
  [ "$(have_source "$tag")" = "$source" ] && return 0
  apt_install debootstrap
  log "building $tag ($source)"
  local start=$SECONDS
  WORK=$(mktemp -d)
  local root="$WORK/rootfs"
  if ! $SUDO debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    die "debootstrap bookworm from $MIRROR failed"
  fi
  # Nothing of the download cache belongs in the image; apt-get update refreshes the lists.
  $SUDO rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  $SUDO tar --numeric-owner -C "$root" -c . \
    | docker import --change 'CMD ["bash"]' --change "LABEL $LABEL=\"$source\"" - "$tag" >/dev/null \
    || die "docker import $tag failed"
  cleanup_work
  log "built $tag in $((SECONDS - start)) s"
}

# ---- images from images/<dir>/ -------------------------------------------------------------------
build_from() { # TAG DIR BASE
  local tag=$1 dir=$2 base=$3 base_id source
  base_id=$(docker image inspect -f '{{.Id}}' "$base") || die "base image $base is missing"
  source=$({ echo "$base_id"; cd "$dir" && find . -type f -printf '%m %p\n' | LC_ALL=C sort \
    && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1)
  [ "$(have_source "$tag")" = "$source" ] && return 0
  log "building $tag from $dir"
  local out start=$SECONDS
  out=$(mktemp)
  if ! docker build --label "$LABEL=$source" -t "$tag" "$dir" >"$out" 2>&1; then
    tail -n 30 "$out" >&2
    rm -f "$out"
    die "docker build $tag from $dir failed"
  fi
  rm -f "$out"
  log "built $tag in $((SECONDS - start)) s"
}

build_debian
build_from ccci/nginx:1 images/nginx ccci/debian:bookworm
build_from ccci/postgres:15 images/postgres ccci/debian:bookworm
build_from ccci/forwarder:1 images/forwarder ccci/debian:bookworm
log "images ready: ccci/debian:bookworm ccci/nginx:1 ccci/postgres:15 ccci/forwarder:1"
