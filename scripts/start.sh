#!/usr/bin/env bash
# Installs what is missing and brings up Threadstore: the API and the worker, on an embedded
# PostgreSQL (data in .data/postgres) unless DATABASE_URL points at a server. Ctrl-C stops all.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$THREADSTORE_ROOT"
pnpm install --frozen-lockfile
exec pnpm start
