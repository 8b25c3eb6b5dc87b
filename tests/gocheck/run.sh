#!/bin/sh
# Differential check of src/sublist.c against nats-server's own Sublist:
# the installed sublist.go (Debian golang-github-nats-io-nats-server-dev
# source) is built at test time with small stubs (nothing of it is stored
# here), random programs from gen.py run on both, outputs must be identical:
# insert/remove results, counts, match and reverse-match sets, notifications.
# Usage: run.sh <sublist_driver> [programs] [ops]; exit 77 = skipped.
set -eu
driver=$1
programs=${2:-20}
ops=${3:-4000}
here=$(cd "$(dirname "$0")" && pwd)
gosrc=/usr/share/gocode/src/github.com/nats-io/nats-server/server/sublist.go
if ! command -v go >/dev/null 2>&1 || [ ! -f "$gosrc" ] || ! command -v python3 >/dev/null 2>&1; then
  echo "go, python3 or $gosrc missing: skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
# package main, and without the one function that needs the rest of the server
python3 - "$gosrc" "$tmp/src/sublist.go" <<'PY'
import re, sys
s = open(sys.argv[1]).read().replace('package server', 'package main', 1)
m = re.search(r'^func ValidateMappingDestination\(.*?^}\n', s, re.S | re.M)
if m:
    s = s[:m.start()] + s[m.end():]
open(sys.argv[2], 'w').write(s)
PY
cp "$here/stubs.go.in" "$tmp/src/stubs.go"
cp "$here/main.go.in" "$tmp/src/main.go"
(cd "$tmp/src" && GO111MODULE=off GOCACHE="$tmp/cache" GOPATH=/usr/share/gocode go build -o "$tmp/gosl" .)
fail=0
seed=1
while [ "$seed" -le "$programs" ]; do
  python3 "$here/gen.py" "$seed" "$ops" > "$tmp/ops"
  "$tmp/gosl" < "$tmp/ops" > "$tmp/go.out"
  "$driver" < "$tmp/ops" > "$tmp/c.out"
  if ! cmp -s "$tmp/go.out" "$tmp/c.out"; then
    echo "program $seed differs (< Go, > C):"
    diff "$tmp/go.out" "$tmp/c.out" | head -20
    fail=1
  fi
  seed=$((seed + 1))
done
[ "$fail" = 0 ] && echo "$programs programs of $ops ops: identical"
exit "$fail"
