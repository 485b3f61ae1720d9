#!/usr/bin/env bash
# Installs what is missing and brings up Threadstore: the API and the worker, on an embedded
# PostgreSQL (data in .data/postgres) unless DATABASE_URL points at a server. Ctrl-C stops all.
# Settings may come from .env (read by each process itself, with Node's .env parser).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$THREADSTORE_ROOT"
pnpm install --frozen-lockfile
pnpm exec turbo run build --filter=@threadstore/launcher... --output-logs=errors-only
# exec: this script's process becomes the launcher, so the SIGTERM or Ctrl-C a supervisor, a
# terminal or a CI runner sends to the process it started reaches the launcher, which stops the
# API, the worker and PostgreSQL gracefully. (Neither pnpm nor bash forwards SIGTERM.)
exec node apps/launcher/dist/main.js
