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
  pkill -TERM -f "$work/postgres" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

EMBEDDED_PG_DIR="$work/postgres" EMBEDDED_PG_PORT=0 API_PORT="$port" API_HOST=127.0.0.1 \
  bash scripts/start.sh >"$log" 2>&1 &
starter=$!

ready=""
for _ in $(seq 1 240); do
  if body=$(curl -fsS "http://127.0.0.1:$port/readyz" 2>/dev/null); then ready=$body; break; fi
  if ! kill -0 "$starter" 2>/dev/null; then break; fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "smoke: /readyz never answered 200; start output follows" >&2
  cat "$log" >&2
  exit 1
fi
echo "smoke: /readyz -> $ready"
grep -q '"worker started"' "$log" || { echo "smoke: the worker did not report starting" >&2; cat "$log" >&2; exit 1; }

# The node process itself, not the `sh -c "… && node apps/launcher/dist/main.js"` pnpm runs it from.
launcher=$(pgrep -f '^(\S*/)?node apps/launcher/dist/main\.js' | head -n 1)
[ -n "$launcher" ] || { echo "smoke: launcher process not found" >&2; exit 1; }
kill -TERM "$launcher"
code=0
wait "$starter" || code=$?
if [ "$code" -ne 0 ]; then
  echo "smoke: start command exited $code after SIGTERM" >&2
  cat "$log" >&2
  exit 1
fi
if pgrep -f "$work/postgres" >/dev/null; then
  echo "smoke: PostgreSQL still running after shutdown" >&2
  exit 1
fi
echo "smoke: started, answered ready, and stopped cleanly"
