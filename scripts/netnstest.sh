#!/usr/bin/env bash
# A network namespace for a test node, joined to the host by a veth pair (needs root):
#   scripts/netnstest.sh up NAME SUBNET [OWNER_PID]
#       namespace NAME, host side NAMEh at SUBNET.1/24, inside NAMEn at SUBNET.2/24 and lo up; a
#       stale one of the same name (an earlier run) is removed first. With OWNER_PID, removed
#       when that process is gone (a test process cannot clean up at exit).
#   scripts/netnstest.sh down NAME
set -euo pipefail
# Close inherited descriptors beyond stdin/out/err (a test runner waiting for EOF would hang).
for fd in $(ls /proc/$$/fd); do
  [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
done
case "${1:-}" in
  up)
    name=$2 subnet=$3
    "$0" down "$name"
    ip netns add "$name"
    ip link add "${name}h" type veth peer name "${name}n"
    ip link set "${name}n" netns "$name"
    ip addr add "$subnet.1/24" dev "${name}h"
    ip link set "${name}h" up
    ip netns exec "$name" ip addr add "$subnet.2/24" dev "${name}n"
    ip netns exec "$name" ip link set "${name}n" up
    ip netns exec "$name" ip link set lo up
    if [ -n "${4:-}" ]; then
      nohup bash -c "while kill -0 $4 2>/dev/null; do sleep 1; done; \"$0\" down \"$name\"" </dev/null >/dev/null 2>&1 &
    fi
    ;;
  down)
    ip link del "${2}h" 2>/dev/null || true
    ip netns del "$2" 2>/dev/null || true
    ;;
  *) echo "usage: $0 up NAME SUBNET [OWNER_PID] | down NAME" >&2; exit 2 ;;
esac
