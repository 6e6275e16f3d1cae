#!/usr/bin/env bash
# Stops and starts the local Docker engine by pid, the way scripts/setup-engine.sh starts it: reads the
# pid of the running dockerd from its pid file, remembers its command line and working directory, sends
# it SIGTERM (SIGKILL after 90 s), optionally stays down for a while, starts the same command line again
# (its output appended to /var/log/cc-ci-dockerd.log) and waits until the engine answers with its swarm
# active. Never stops anything by name. Whatever happens after the stop (an error, SIGINT, SIGTERM), the
# engine is started again before the script exits.
#
# Other people's tests share the engine: hold the engine lock exclusively around it, e.g.
#   flock -x -w 1800 /work/.engine.lock scripts/engine-restart.sh --down 5
#
# Usage: engine-restart.sh [--down SECONDS]   stop, stay down SECONDS (0–600, default 0), start
#        engine-restart.sh --ensure-up         start the engine only when none answers (a guard)
# Environment: DOCKERD_PIDFILE (default /var/run/docker.pid), DOCKERD_LOG (default
# /var/log/cc-ci-dockerd.log), CCCI_ENGINE_STATE (where the command line is kept between a stop and a
# start, default /var/run).
set -euo pipefail

log() { printf 'engine-restart: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

PIDFILE=${DOCKERD_PIDFILE:-/var/run/docker.pid}
LOG=${DOCKERD_LOG:-/var/log/cc-ci-dockerd.log}
STATE=${CCCI_ENGINE_STATE:-/var/run}/cc-ci-dockerd.argv
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }
swarm_active() {
  [ "$(timeout 10 docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null)" = "active true" ] \
    && timeout 10 docker node ls >/dev/null 2>&1
}

# The running dockerd's pid, checked to be a dockerd (a stale pid file may name another process).
dockerd_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(tr -dc '0-9' <"$PIDFILE")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm")" = dockerd ] || return 1
  echo "$pid"
}

# Starts the remembered command line (plain `dockerd` when none was remembered) and waits for it.
start() {
  local cwd=/ argv=(dockerd)
  if [ -s "$STATE" ]; then
    cwd=$(head -n 1 "$STATE")
    mapfile -t argv < <(tail -n +2 "$STATE")
  fi
  [ -d "$cwd" ] || cwd=/
  log "starting: ${argv[*]} (in $cwd)"
  $SUDO mkdir -p "$(dirname "$LOG")"
  # The engine must not inherit this script's descriptors: a `flock` held around this script would
  # otherwise stay held by dockerd (and containerd) for as long as they run.
  (
    cd "$cwd"
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
    done
    $SUDO setsid nohup "${argv[@]}" >>"$LOG" 2>&1 </dev/null &
  )
  local i
  for i in $(seq 1 120); do
    if engine_answers && swarm_active; then
      log "engine back with its swarm active after ${i}s"
      return 0
    fi
    sleep 1
  done
  tail -n 20 "$LOG" >&2 || true
  die "dockerd did not come back with an active swarm within 120 s"
}

ensure_up() {
  if engine_answers; then
    swarm_active && return 0
    for _ in $(seq 1 60); do swarm_active && return 0; sleep 1; done
    die "the engine answers but its swarm is not active"
  fi
  dockerd_pid >/dev/null && die "dockerd runs (pid $(dockerd_pid)) but does not answer"
  start
}

down=0
case "${1:-}" in
  --ensure-up) ensure_up; exit 0 ;;
  --down) down=${2:?--down needs SECONDS} ;;
  "") ;;
  *) die "unknown argument $1 (usage: engine-restart.sh [--down SECONDS] | --ensure-up)" ;;
esac
case "$down" in ''|*[!0-9]*) die "--down takes whole seconds, got $down" ;; esac
[ "$down" -le 600 ] || die "--down is at most 600 seconds, got $down"

pid=$(dockerd_pid) || die "no running dockerd found through $PIDFILE"
# Remember how it was started: working directory, then one argument per line.
{ readlink "/proc/$pid/cwd" || echo /; tr '\0' '\n' <"/proc/$pid/cmdline"; } >"$STATE.tmp"
mv "$STATE.tmp" "$STATE"
trap 'trap - EXIT INT TERM; ensure_up' EXIT INT TERM
log "stopping dockerd (pid $pid)"
$SUDO kill -TERM "$pid"
for _ in $(seq 1 900); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
if [ -e "/proc/$pid" ]; then
  log "dockerd (pid $pid) still runs after 90 s: SIGKILL"
  $SUDO kill -KILL "$pid" || true
  for _ in $(seq 1 100); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
fi
log "dockerd (pid $pid) stopped"
[ "$down" -eq 0 ] || sleep "$down"
trap - EXIT INT TERM
start
