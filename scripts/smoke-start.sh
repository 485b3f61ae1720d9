#!/usr/bin/env bash
# Runs the README's start command on a throwaway data directory, waits until the API's
# /readyz says ready (API + worker up, schema migrated), then asks the launcher to stop and
# checks that everything, PostgreSQL included, shut down cleanly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$THREADSTORE_ROOT"

work=$(mktemp -d)
chmod 755 "$work"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
log="$work/start.log"
cleanup() {
  # On failure, leave nothing running: the launcher (and with it the apps), then its PostgreSQL.
  local pid
  pid=$(grep -o '"service":"launcher","pid":[0-9]*' "$log" 2>/dev/null | head -n 1 | grep -o '[0-9]*$' || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    sleep 5
    kill -KILL "$pid" 2>/dev/null || true
  fi
  pkill -INT -f "$work/postgres" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

EMBEDDED_PG_DIR="$work/postgres" EMBEDDED_PG_PORT=0 API_PORT="$port" API_HOST=127.0.0.1 \
  bash scripts/start.sh >"$log" 2>&1 &
starter=$!

fail() {
  echo "smoke: $1; start output follows" >&2
  cat "$log" >&2
  exit 1
}

# Up means both: the API answers /readyz and the worker has said it started.
ready=""
for _ in $(seq 1 240); do
  if grep -q '"worker started"' "$log" && body=$(curl -fsS "http://127.0.0.1:$port/readyz" 2>/dev/null); then
    ready=$body
    break
  fi
  kill -0 "$starter" 2>/dev/null || break
  sleep 0.5
done
[ -n "$ready" ] || fail "the API's /readyz never answered 200 with the worker started"
echo "smoke: /readyz -> $ready"

# Stop it the way a supervisor does: SIGTERM to the launcher (its pid is on its own log lines).
launcher=$(grep -o '"service":"launcher","pid":[0-9]*' "$log" | head -n 1 | grep -o '[0-9]*$')
[ -n "$launcher" ] || fail "no launcher pid in the log"
kill -TERM "$launcher"
for _ in $(seq 1 120); do
  kill -0 "$starter" 2>/dev/null || break
  sleep 0.5
done
kill -0 "$starter" 2>/dev/null && fail "still running 60 s after SIGTERM"
code=0
wait "$starter" || code=$?
[ "$code" -eq 0 ] || fail "start command exited $code after SIGTERM"
grep -q '"service":"api".*"msg":"shutdown complete"' "$log" || fail "the API did not shut down gracefully"
grep -q '"service":"worker".*"msg":"shutdown complete"' "$log" || fail "the worker did not shut down gracefully"
if pgrep -f "$work/postgres" >/dev/null; then
  echo "smoke: PostgreSQL still running after shutdown" >&2
  exit 1
fi
echo "smoke: started, answered ready, and stopped cleanly"
