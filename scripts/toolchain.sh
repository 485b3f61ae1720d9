# Sourced by the other scripts: puts a supported Node and the pinned pnpm on PATH.
#
# Why this exists: machines of our type ship Node 20, on which MikroORM 7 fails at import
# and vitest 5 can exit 0 on a failed run. Rather than trust whatever `node` is on PATH,
# we use it only when it is new enough and otherwise install Node 24 from the npm registry
# into .tools/ (once; later runs reuse it).
# (sourced: the calling script sets its own shell options)

THREADSTORE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION="24.21.0"
PNPM_VERSION="10.34.9"
MIN_NODE="22.17.0"
TOOLS_DIR="$THREADSTORE_ROOT/.tools"

node_is_supported() {
  command -v node >/dev/null 2>&1 || return 1
  node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    const [wantMaj, wantMin] = process.argv[1].split(".").map(Number);
    // 23.x and 25.x are odd (non-LTS) lines that vitest 5 excludes.
    const ok = (maj === 22 && min >= wantMin) || maj === 24 || maj >= 26;
    process.exit(ok && maj >= wantMaj ? 0 : 1);
  ' "$MIN_NODE"
}

if [ -x "$TOOLS_DIR/node/node_modules/node/bin/node" ]; then
  export PATH="$TOOLS_DIR/node/node_modules/node/bin:$PATH"
fi
if ! node_is_supported; then
  echo "toolchain: system Node $(node --version 2>/dev/null || echo missing) is unsupported (need >= $MIN_NODE); installing Node $NODE_VERSION into .tools/node" >&2
  command -v npm >/dev/null 2>&1 || { echo "toolchain: npm is required to fetch Node $NODE_VERSION" >&2; exit 1; }
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/node" "node@$NODE_VERSION" >&2
  export PATH="$TOOLS_DIR/node/node_modules/node/bin:$PATH"
  node_is_supported || { echo "toolchain: Node $NODE_VERSION did not install correctly" >&2; exit 1; }
fi

if ! [ -x "$TOOLS_DIR/pnpm/node_modules/.bin/pnpm" ] || [ "$("$TOOLS_DIR/pnpm/node_modules/.bin/pnpm" --version)" != "$PNPM_VERSION" ]; then
  echo "toolchain: installing pnpm $PNPM_VERSION into .tools/pnpm" >&2
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/pnpm" "pnpm@$PNPM_VERSION" >&2
fi
export PATH="$TOOLS_DIR/pnpm/node_modules/.bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1
export DO_NOT_TRACK=1
