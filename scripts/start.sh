#!/usr/bin/env bash
# Installs what is missing and brings up Threadstore: the API and the worker, on an embedded
# PostgreSQL (data in .data/postgres) unless DATABASE_URL points at a server. Ctrl-C stops all.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$THREADSTORE_ROOT"
# Settings from .env (see .env.example) when there is one; the environment wins over it.
if [ -f .env ]; then
  while IFS='=' read -r name value; do
    if [ -z "${!name+set}" ]; then export "$name=$value"; fi
  done < <(grep -E '^[A-Z_][A-Z0-9_]*=' .env)
fi
pnpm install --frozen-lockfile
exec pnpm start
