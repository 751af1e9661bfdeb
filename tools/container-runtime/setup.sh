#!/usr/bin/env bash
# Make `sam build` / `sam local invoke` of image functions work on a machine without Docker.
#
#   bash tools/container-runtime/setup.sh            # ensure engine + stand-in base image (idempotent)
#   bash tools/container-runtime/setup.sh --stop     # stop the Podman API service this script started
#   bash tools/container-runtime/setup.sh --rebuild  # rebuild the stand-in base image
#
# If a Docker-compatible engine already answers, it only says so. Otherwise (as root, Debian):
# installs Podman + runc + debootstrap, configures /etc/containers/containers.conf, starts
# `podman system service` on unix:///run/podman/podman.sock and builds a Lambda-compatible stand-in
# tagged public.ecr.aws/lambda/python:3.11 (see standin/Containerfile). Re-runs take ~1 s.
# Env: PYTHON (default python3) must import samcli: the RIE binary is taken from that package.
#      DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOCK_PATH=/run/podman/podman.sock
SOCK_URL="unix://${SOCK_PATH}"
PID_FILE=/run/podman/retail-platform-service.pid
LOG_FILE=/var/log/retail-platform-podman-service.log
CACHE_DIR=/var/cache/retail-platform
BASE_TAG=public.ecr.aws/lambda/python:3.11
PYTHON="${PYTHON:-python3}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
APT_PACKAGES=(podman runc debootstrap netavark aardvark-dns iptables uidmap curl ca-certificates)
ROOTFS_PACKAGES=python3,python3-pip,ca-certificates,libgomp1
ROOTFS_VERSION="bookworm-minbase-v1-$(echo "${ROOTFS_PACKAGES}" | md5sum | cut -c1-8)"
ROOTFS_TAR="${CACHE_DIR}/rootfs-${ROOTFS_VERSION}.tar"
ROOTFS_IMAGE="localhost/retail-platform/lambda-rootfs:${ROOTFS_VERSION}"

log() { echo "[container-runtime] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

socket_answers() {  # $1: unix socket path
  [ -S "$1" ] && curl -fsS --max-time 5 --unix-socket "$1" http://d/_ping >/dev/null 2>&1
}

stop_service() {
  if [ -f "$PID_FILE" ]; then
    local pid
    pid="$(cat "$PID_FILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" && log "stopped podman service (pid $pid)"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$PID_FILE"
  else
    log "no podman service started by this script"
  fi
}

# --- 0. arguments -----------------------------------------------------------------------------
REBUILD=0
case "${1:-}" in
  --stop) stop_service; exit 0 ;;
  --rebuild) REBUILD=1 ;;
  "") ;;
  *) die "unknown argument $1 (use --stop or --rebuild)" ;;
esac

# --- 1. an engine that is not ours already answers: leave it alone ----------------------------
foreign_engine() {
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "${SOCK_URL}" ]; then
    case "$DOCKER_HOST" in
      unix://*) socket_answers "${DOCKER_HOST#unix://}" && { echo "$DOCKER_HOST"; return 0; } ;;
      *) command -v docker >/dev/null && docker info >/dev/null 2>&1 && { echo "$DOCKER_HOST"; return 0; } ;;
    esac
    return 1
  fi
  [ -z "${DOCKER_HOST:-}" ] && socket_answers /var/run/docker.sock && { echo unix:///var/run/docker.sock; return 0; }
  return 1
}
if [ "$REBUILD" = 0 ] && engine="$(foreign_engine)"; then
  log "a Docker-compatible engine already answers at ${engine}: nothing to do"
  echo "export DOCKER_HOST=${engine}"
  exit 0
fi

[ "$(uname -s)" = Linux ] || die "no Docker engine answers and Podman setup needs Linux"
[ "$(id -u)" = 0 ] || die "Podman setup needs root (no Docker engine answers)"

# --- 2. packages ------------------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 3. containers.conf: runc, no default ulimits (crun and ulimits are refused here) -----------
CONF=/etc/containers/containers.conf
if ! { [ -f "$CONF" ] && grep -q '^runtime *= *"runc"' "$CONF" && grep -q '^default_ulimits *= *\[\]' "$CONF"; }; then
  mkdir -p /etc/containers
  [ -f "$CONF" ] && cp "$CONF" "${CONF}.bak.$(date +%s)"
  cat > "$CONF" <<'EOF'
# Written by tools/container-runtime/setup.sh
[containers]
default_ulimits = []

[engine]
runtime = "runc"
EOF
  log "wrote $CONF"
fi

# --- 4. the Docker-compatible API socket --------------------------------------------------------
# A service started from a folder that was deleted since (a CI clone removed after its run) still answers
# pings, but every container it starts fails ("write child: broken pipe"; conmon: "Failed to get working
# directory"): restart it.
if [ -f "$PID_FILE" ]; then
  case "$(readlink "/proc/$(cat "$PID_FILE")/cwd" 2>/dev/null)" in
    *" (deleted)") log "the podman service's working directory was deleted: restarting it"; stop_service ;;
  esac
fi
if ! socket_answers "$SOCK_PATH"; then
  mkdir -p "$(dirname "$SOCK_PATH")"
  rm -f "$SOCK_PATH"
  # setsid + redirections: the service must outlive this script and hold none of its pipes; it runs from /,
  # which no clone's deletion can take away.
  (cd / && exec setsid podman system service --time=0 "$SOCK_URL" </dev/null >>"$LOG_FILE" 2>&1) &
  echo $! > "$PID_FILE"
  for _ in $(seq 100); do socket_answers "$SOCK_PATH" && break; sleep 0.2; done
  socket_answers "$SOCK_PATH" || die "podman service did not answer on $SOCK_PATH (see $LOG_FILE)"
  log "started podman service (pid $(cat "$PID_FILE")) on $SOCK_URL"
fi

# --- 5. the stand-in base image -----------------------------------------------------------------
standin_version() {  # the recipe's hash: a changed recipe rebuilds the image
  cat "$HERE/standin/"* <(echo "$ROOTFS_VERSION") | md5sum | cut -c1-12
}
WANT_VERSION="$(standin_version)"
HAVE_VERSION="$(podman image inspect --format '{{index .Labels "org.retail-platform.standin"}}' "$BASE_TAG" 2>/dev/null || true)"

if [ "$REBUILD" = 1 ] || [ "$HAVE_VERSION" != "$WANT_VERSION" ]; then
  start=$(date +%s)
  if ! podman image exists "$ROOTFS_IMAGE"; then
    if [ ! -s "$ROOTFS_TAR" ]; then
      log "debootstrap bookworm (${ROOTFS_PACKAGES}) -> ${ROOTFS_TAR} (~1.5 min, cached afterwards)"
      mkdir -p "$CACHE_DIR"
      rootfs="$(mktemp -d "${CACHE_DIR}/rootfs.XXXXXX")"
      debootstrap --variant=minbase --include="$ROOTFS_PACKAGES" bookworm "$rootfs" "$DEBIAN_MIRROR" \
        >"${CACHE_DIR}/debootstrap.log" 2>&1 || die "debootstrap failed (see ${CACHE_DIR}/debootstrap.log)"
      mirror="${DEBIAN_MIRROR%/debian}"
      printf 'deb %s/debian bookworm main\ndeb %s/debian bookworm-updates main\ndeb %s/debian-security bookworm-security main\n' \
        "$mirror" "$mirror" "$mirror" > "$rootfs/etc/apt/sources.list"
      rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
             "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
      tar --numeric-owner -C "$rootfs" -cf "${ROOTFS_TAR}.tmp" .
      mv "${ROOTFS_TAR}.tmp" "$ROOTFS_TAR"
      rm -rf "$rootfs"
    fi
    podman import --quiet "$ROOTFS_TAR" "$ROOTFS_IMAGE" >/dev/null
  fi

  rie="$("$PYTHON" -c 'import os, samcli; print(os.path.join(os.path.dirname(samcli.__file__), "local", "rapid", "aws-lambda-rie-x86_64"))')" \
    || die "$PYTHON cannot import samcli: set PYTHON to the python of a venv with aws-sam-cli"
  [ -x "$rie" ] || die "RIE binary not found at $rie"

  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  cp "$HERE/standin/"* "$ctx/"
  cp "$rie" "$ctx/aws-lambda-rie"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  mkdir -p "$ctx/extra-ca"
  cp /usr/local/share/ca-certificates/*.crt "$ctx/extra-ca/" 2>/dev/null || true
  log "building ${BASE_TAG} (stand-in ${WANT_VERSION})"
  mkdir -p "$CACHE_DIR"
  podman build --build-arg "ROOTFS_IMAGE=${ROOTFS_IMAGE}" \
    --label "org.retail-platform.standin=${WANT_VERSION}" \
    -t "$BASE_TAG" -f "$ctx/Containerfile" "$ctx" >"${CACHE_DIR}/standin-build.log" 2>&1 \
    || { tail -30 "${CACHE_DIR}/standin-build.log" >&2; die "stand-in build failed (see ${CACHE_DIR}/standin-build.log)"; }
  log "built ${BASE_TAG} in $(( $(date +%s) - start )) s"
else
  log "${BASE_TAG} stand-in ${WANT_VERSION} present"
fi

log "ready: podman $(podman version --format '{{.Client.Version}}') on ${SOCK_URL}"
echo "export DOCKER_HOST=${SOCK_URL}"
