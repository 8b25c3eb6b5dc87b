#!/bin/sh
# Run the nats.js interop tests against the server in NATS_SERVER_BIN.
#   run.sh v2   npm `nats` 2.29.x
#   run.sh v3   `@nats-io/transport-node` 3.x
# Prints TAP (node:test's reporter). A missing node or node_modules is a TAP
# skip ("1..0 # SKIP"), which meson reports as SKIP; under protocol 'tap' meson
# would count exit 77 as an error. Install with ./setup.sh (ci/setup does).
set -u
here=$(cd "$(dirname "$0")" && pwd)
gen=${1:-v2}
case "$gen" in
  v2) need="$here/node_modules/nats" ;;
  v3) need="$here/node_modules/@nats-io/transport-node" ;;
  *) echo "usage: $0 v2|v3" >&2; exit 2 ;;
esac

if ! command -v node >/dev/null 2>&1; then
  echo "1..0 # SKIP node not found (apt: nodejs)"; exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "1..0 # SKIP node $major is older than 20"; exit 0
fi
if [ ! -d "$need" ]; then
  echo "1..0 # SKIP $need missing: run tests/interop/nats-js/setup.sh"; exit 0
fi

cd "$here" || exit 1
exec node --test --test-reporter=tap "test/$gen.test.mjs"
