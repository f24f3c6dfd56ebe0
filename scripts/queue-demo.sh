#!/usr/bin/env bash
# Issue 19's measurement: the demo of PROFILE (tiny|default) run locally, through 1 worker and through
# 2 workers (a fresh cache each), one after another; wall times with the load average, and whether
# each queued run's results.json rows equal the local run's; then a 2-worker run in which one worker
# is killed with kill -9 once KILL_AFTER (default 60) seconds have passed and a third one started.
# Needs redis-server (Debian package). AUV_DEMO_SET="k=v k=v" adds --set overrides to every run.
# Usage: scripts/queue-demo.sh [tiny|default] [work folder]   (prefix with `nice -n 10` on a shared machine)
set -euo pipefail
PROFILE=${1:-tiny}
W=${2:-/tmp/auv-queue-demo-$PROFILE}
cd "$(dirname "$0")/.."
rm -rf "$W"; mkdir -p "$W/redis"
CLI=(node --import tsx src/cli/main.ts --quiet)
SETS=()
for kv in ${AUV_DEMO_SET:-}; do SETS+=(--set "$kv"); done
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
URL=redis://127.0.0.1:$PORT
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$W/redis" --appendonly yes --save '' > "$W/redis.log" 2>&1 &
REDIS=$!
WORKERS=()
cleanup() { for p in "${WORKERS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; kill -TERM "$REDIS" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
sleep 1
run() { # name, then the command
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  echo "$name: start $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$@" > "$W/$name.out" 2> "$W/$name.err"
  echo "$name: $(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f') s, load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
}
worker() { "${CLI[@]}" worker --queue "$URL" > "$W/worker-$1.log" 2>&1 & WORKERS+=($!); }
demo() { "${CLI[@]}" demo --profile "$PROFILE" --out "$W/out-$1" --cache "$W/cache-$1" ${SETS[@]+"${SETS[@]}"} "${@:2}"; }
run local demo local
worker 1; sleep 5
run w1 demo w1 --queue "$URL"
worker 2; sleep 5
run w2 demo w2 --queue "$URL"
killed() { # the 2 workers take the run; one is killed with kill -9, a fresh one replaces it
  demo killed --queue "$URL" &
  local sub=$!
  sleep "${KILL_AFTER:-60}"
  kill -KILL "${WORKERS[0]}"; echo "killed worker ${WORKERS[0]} (kill -9) at $(date -u +%T)"
  worker 3
  wait "$sub"
}
run killed killed
node -e '
const fs = require("fs");
const rows = (n) => JSON.parse(fs.readFileSync(`${process.argv[1]}/out-${n}/results.json`, "utf8")).rows;
const local = JSON.stringify(rows("local"));
for (const n of ["w1", "w2", "killed"]) {
  const j = JSON.parse(fs.readFileSync(`${process.argv[1]}/out-${n}/jobs.json`, "utf8"));
  console.log(`${n}: ${rows(n).length} rows, identical to local: ${JSON.stringify(rows(n)) === local}; ${j.cells} cells in ${j.wallSeconds} s on ${j.workers.length} worker(s); per stage ${JSON.stringify(j.perStage)}`);
}' "$W"
