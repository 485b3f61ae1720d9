#!/usr/bin/env bash
# Installs what is missing (Chromium too, for the web app's end-to-end tests), then type-checks,
# lints and runs every test suite against a real PostgreSQL (an embedded PostgreSQL 18 per suite,
# or the server in TEST_DATABASE_URL; the web app's e2e suite starts the product as start.sh does).
#   bash scripts/test.sh               everything
#   bash scripts/test.sh --tests-only  only the test suites (CI's second pass on another server)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$THREADSTORE_ROOT"
pnpm install --frozen-lockfile
# The web app's end-to-end tests are part of "every test": they need Chromium.
bash scripts/ensure-chromium.sh

tasks=(typecheck lint test)
[ "${1:-}" = "--tests-only" ] && tasks=(test)

# Each suite writes its results to .vitest/results.json; stale ones must not be counted.
rm -f apps/*/.vitest/results.json packages/*/.vitest/results.json
status=0
# Two cores: run two tasks at a time (each test suite starts its own PostgreSQL).
pnpm exec turbo run "${tasks[@]}" --concurrency=2 --continue --output-logs=new-only || status=$?
node scripts/test-summary.ts apps/*/.vitest/results.json packages/*/.vitest/results.json || status=1
exit "$status"
