#!/bin/sh
# Install the pinned nats.js clients (package-lock.json) into node_modules.
# Idempotent: does nothing when node_modules already matches the lock file.
# Needs node >= 20 and npm with access to the npm registry.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
stamp=node_modules/.cnatsd-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "nats-js: node_modules up to date"
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
