# tap.sh — sourced by the shell TAP tests: counters, ok/notok, the plan line,
# and $ref, the reference nats-server (empty when it is not installed, so a
# check against it is skipped rather than failed).
# shellcheck shell=sh
set -u
ref=${NATS_SERVER:-/usr/sbin/nats-server}
[ -x "$ref" ] || ref=
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
# notok NAME [DIAGNOSTIC LINE ...]
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# Prints the plan and sets the exit status.
tap_done() { echo "1..$n"; [ $fails -eq 0 ]; }
