#!/usr/bin/env bash
# reqrep-go.sh [passes]: request/reply latency through nats.go against
# /usr/sbin/nats-server (A) and cnatsd (B), alternating A B per pass, fresh
# server each run; prints each run and the medians.  Needs golang-go and
# golang-github-nats-io-go-nats-dev (GOPATH mode).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
passes=${1:-5}
cnatsd=${CNATSD:-$root/build/cnatsd}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/reqrepgo"
cp "$here/reqrep-go/main.go" "$work/src/reqrepgo/"
(cd "$work/src/reqrepgo" && GOPATH="$work:/usr/share/gocode" GO111MODULE=off GOCACHE="$work/cache" go build -o "$work/reqrep-go" .)
run() {  # run <server binary>: prints the JSON line
  local dir; dir=$(mktemp -d -p "$work")
  "$1" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" 2>/dev/null &
  local pid=$!
  for _ in $(seq 50); do ls "$dir"/*.ports >/dev/null 2>&1 && break; sleep 0.1; done
  local port; port=$(grep -o ':[0-9]*"' "$dir"/*.ports | head -1 | tr -d ':"')
  "$work/reqrep-go" "nats://127.0.0.1:$port" 20000 || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
for i in $(seq "$passes"); do
  echo "go     $(run /usr/sbin/nats-server)"
  echo "cnatsd $(run "$cnatsd")"
done | tee "$work/runs"
python3 - "$work/runs" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, js = line.split(None, 1)
    rows.setdefault(name, []).append(json.loads(js))
print("| metric | nats-server | cnatsd | cnatsd/Go |")
print("|---|---:|---:|---:|")
for k in ("rtt_p50_us", "rtt_p99_us", "rtt_p999_us"):
    a = statistics.median(r[k] for r in rows["go"]); b = statistics.median(r[k] for r in rows["cnatsd"])
    print(f"| {k} | {a:.0f} | {b:.0f} | {b/a:.2f} |")
PY
