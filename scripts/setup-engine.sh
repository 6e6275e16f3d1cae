#!/usr/bin/env bash
# Sets up what cc-ci's tests and the example run need on this machine, and does nothing already done:
#   1. a Docker engine (Debian's docker.io) answering on the socket, started here when none runs;
#   2. a single-node swarm (--advertise-addr 127.0.0.1);
#   3. the local test images (FROM scratch + Debian's static busybox), since no registry is reachable;
#   4. the external overlay network `proxy` that web recipes join (traefik's), never removed;
#   5. the Debian-based test images ccci/debian:bookworm, ccci/nginx:1, ccci/postgres:15, ccci/forwarder:1
#      (scripts/setup-images.sh: debootstrap + docker build, cached).
# Idempotent. Exits non-zero with a message naming what failed.
set -euo pipefail

log() { printf 'setup-engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

engine_answers() { docker info >/dev/null 2>&1; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || die "apt-get update failed"
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# 1. Engine.
if ! engine_answers; then
  if [ -n "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST=$DOCKER_HOST is set but no engine answers there"
  fi
  apt_install docker.io busybox-static
  if ! engine_answers; then
    log "starting dockerd"
    $SUDO mkdir -p /var/log
    ( $SUDO nohup dockerd >/var/log/cc-ci-dockerd.log 2>&1 & )
    for _ in $(seq 1 60); do engine_answers && break; sleep 1; done
    engine_answers || { tail -n 20 /var/log/cc-ci-dockerd.log >&2 || true; die "dockerd did not answer within 60 s"; }
  fi
else
  apt_install busybox-static
fi
log "engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null)"

# 2. Swarm.
state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown)
if [ "$state" != "active" ]; then
  log "initialising a single-node swarm"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null || die "docker swarm init failed"
fi

# 3. Test images. Tags are what the example and fixture recipes use.
# Debian's busybox-static installs a static /bin/busybox; a scratch image needs exactly that.
BUSYBOX=""
[ -x /bin/busybox ] && BUSYBOX=/bin/busybox
[ -n "$BUSYBOX" ] || die "no busybox binary found after installing busybox-static"
build_image() {
  local tag=$1
  if docker image inspect "$tag" >/dev/null 2>&1; then return 0; fi
  log "building $tag"
  local ctx
  ctx=$(mktemp -d)
  cp "$BUSYBOX" "$ctx/busybox"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null 2>&1 || { rm -rf "$ctx"; die "docker build $tag failed"; }
  rm -rf "$ctx"
}
for tag in ccci/busybox:1 ccci/busybox:2 ccci/busybox:latest; do build_image "$tag"; done
# 4. The proxy network (a concurrent creator may win the race: that is fine).
if ! docker network inspect proxy >/dev/null 2>&1; then
  log "creating the overlay network proxy"
  docker network create -d overlay --attachable proxy >/dev/null 2>&1 \
    || docker network inspect proxy >/dev/null 2>&1 || die "docker network create proxy failed"
fi
# 5. Debian-based images (real nginx and PostgreSQL), built from images/.
bash "$(dirname "$0")/setup-images.sh" || die "scripts/setup-images.sh failed"
log "ready"
