#!/usr/bin/env bash
# Load on the HTTP API (loopback only, bounded): wrk GETs one job's status at 200 connections for
# 20 s while a video job renders, against /healthz (no auth, no store) in the same run as the
# baseline. Usage: scripts/bench_api.sh [seconds] [connections]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-20}
CONNECTIONS=${2:-200}
BIN=${SWAPLINE_BIN:-.build/release/swapline}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=$("$BIN" tenants create bench --data-dir "$work/data" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
"$BIN" serve --data-dir "$work/data" --port "$port" > "$work/serve.log" 2>&1 &
server=$!
api="http://127.0.0.1:$port"
until curl -sf "$api/healthz" >/dev/null; do sleep 0.2; done
# A 20 s 640x360 clip keeps the worker busy for the whole run.
ffmpeg -v error -y -f lavfi -i color=c=0x404040:s=640x360:r=25:d=40 -loop 1 -i samples/astronaut.png -filter_complex \
  "[1]scale=270:270[f];[0][f]overlay=x='80+5*t':y=36:shortest=1,format=yuv420p[v]" -map "[v]" -t 40 -c:v libx264 -preset veryfast "$work/clip.mp4"
auth="Authorization: Bearer $key"
upload() { curl -sf -H "$auth" --data-binary @"$1" "$api/v1/assets" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
source_id=$(upload samples/grace_hopper.jpg)
target_id=$(upload "$work/clip.mp4")
job=$(curl -sf -H "$auth" -H 'Content-Type: application/json' -d "{\"sources\":[\"$source_id\"],\"target\":\"$target_id\"}" "$api/v1/jobs" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
until curl -sf -H "$auth" "$api/v1/jobs/$job" | grep -q '"status":"processing"'; do sleep 0.2; done
run() {  # label, path, headers...
  local label=$1 path=$2; shift 2
  echo "== $label: GET $path, $CONNECTIONS connections, ${SECONDS_PER_RUN}s"
  wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" --latency "$@" "$api$path" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors"
}
run "baseline (no auth, no store)" /healthz
run "job status while the job renders" "/v1/jobs/$job" -H "$auth"
echo "== job after the runs:"
curl -sf -H "$auth" "$api/v1/jobs/$job" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["progress"]["frames_done"], "/", j["progress"]["frames_total"], "frames,", j["progress"]["fps"], "fps")'
