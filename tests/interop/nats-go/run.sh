#!/bin/sh
# Run the nats.go interop tests (GOPATH mode, Debian's nats.go) against the
# server in NATS_SERVER_BIN and print TAP: one line per top-level Go test,
# everything else as TAP comments; exits with go test's status. A missing toolchain or nats.go is a TAP
# skip ("1..0 # SKIP"), which meson reports as SKIP (exit 77 would be an
# error under protocol 'tap').
set -u
here=$(cd "$(dirname "$0")" && pwd)
gocode=/usr/share/gocode

if ! command -v go >/dev/null 2>&1; then
  echo "1..0 # SKIP go toolchain not found (apt: golang-go)"; exit 0
fi
if [ ! -d "$gocode/src/github.com/nats-io/nats.go" ]; then
  echo "1..0 # SKIP nats.go not found (apt: golang-github-nats-io-go-nats-dev)"; exit 0
fi

# Configs and scripts the auth/TLS scenarios use (meson passes it too).
export INTEROP_FIXTURES="${INTEROP_FIXTURES:-$(cd "$here/../../../fixtures" && pwd)}"

work=${INTEROP_GO_WORK:-}
if [ -z "$work" ]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fi
pkg="$work/src/cnatsd-interop"
rm -rf "$pkg"; mkdir -p "$pkg"
cp "$here"/*.go "$pkg/"

export INTEROP_SRCDIR="$here/../../.."  # fixtures/tls for the TLS tests
export GO111MODULE=off GOPATH="$work:$gocode" GOPROXY=off GOTOOLCHAIN=local
export GOCACHE="${GOCACHE:-$work/cache}"
unset GOFLAGS GOWORK
cd "$pkg" || exit 1

out="$work/go-test.out"
go test -v -count=1 -timeout 200s . >"$out" 2>&1
rc=$?
awk -v rc="$rc" '
  /^--- (PASS|FAIL|SKIP): / {
    n++; name = $3
    if ($2 == "PASS:") print "ok " n " - " name
    else if ($2 == "SKIP:") print "ok " n " - " name " # SKIP"
    else { print "not ok " n " - " name; failed++ }
    next
  }
  { print "# " $0 }
  END {
    if (rc != 0 && failed == 0) { n++; print "not ok " n " - go test exited with status " rc }
    print "1.." n
  }' "$out"
# Non-zero on failure too, for runs outside meson.
exit $rc
