#!/usr/bin/env bash
# Assembles the CPU image's runtime filesystem without a Docker engine, then runs the smoke test
# inside it: debootstrap a Debian 12 minbase with deploy/runtime-packages.txt (what the
# Dockerfile's runtime stage installs), add the same non-root user, stage the runtime with
# deploy/stage-runtime.sh (what the Dockerfile copies from its build stage), and in a chroot with
# its own mount and PID namespaces (unshare), as uid 10001 with an empty environment, run
# `swapline doctor` and the demo's image swap. Nothing else from this machine enters the tree.
# Needs root, debootstrap, and a reachable Debian mirror. Takes minutes (the first run downloads).
#   deploy/build-rootfs.sh ROOTFS [MIRROR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOTFS=${1:?usage: deploy/build-rootfs.sh ROOTFS [MIRROR]}
MIRROR=${2:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || echo http://deb.debian.org/debian)}
PACKAGES=$(grep -v '^#' deploy/runtime-packages.txt | paste -sd, -)
log() { printf '[rootfs] %s\n' "$*"; }

if [ ! -x "$ROOTFS/usr/bin/ffmpeg" ]; then
  log "debootstrap bookworm (minbase + runtime-packages.txt) into $ROOTFS from $MIRROR"
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" > "$ROOTFS.debootstrap.log" 2>&1 \
    || { tail -20 "$ROOTFS.debootstrap.log"; exit 1; }
fi
# The same user as the Dockerfile.
chroot "$ROOTFS" /bin/sh -c 'getent passwd swapline >/dev/null || { groupadd --gid 10001 swapline && useradd --uid 10001 --gid 10001 --home-dir /home/swapline --create-home swapline; }'
deploy/stage-runtime.sh "$ROOTFS"
rm -rf "$ROOTFS/var/lib/apt/lists/"* "$ROOTFS/var/cache/apt/archives/"*.deb

# Inside: a fresh /proc, uid 10001, only the image's environment (ENV lines of the Dockerfile).
inside() {
  unshare --mount --pid --fork --mount-proc="$ROOTFS/proc" \
    chroot --userspec=10001:10001 "$ROOTFS" /usr/bin/env -i HOME=/home/swapline PATH=/usr/local/bin:/usr/bin:/bin \
      SWAPLINE_MODELS_DIR=/opt/swapline/models /bin/sh -c "cd /home/swapline && $1"
}
log "smoke test: swapline doctor"
inside "swapline doctor"
log "smoke test: the demo's image swap"
inside "swapline swap -s /opt/swapline/samples/grace_hopper.jpg -t /opt/swapline/samples/astronaut.png -o /home/swapline/astronaut_swapped.png"
inside "test -s /home/swapline/astronaut_swapped.png && ls -l /home/swapline/astronaut_swapped.png"
log "ok: $(du -sh "$ROOTFS" | cut -f1) root filesystem, smoke test passed"
