#!/bin/sh
# auth_conf_check.sh CNATSD DIR — TAP: every DIR/invalid/Rnnn-name.conf is
# rejected by `cnatsd -t` with the message `nats-server -t` prints (compared
# without the program-name prefix; skipped when /usr/sbin/nats-server is
# absent, the rejection itself is still checked).
. "$(dirname "$0")/../lib/tap.sh"
cnatsd=$1
dir=$2
for f in "$dir"/invalid/*.conf; do
  base=$(basename "$f" .conf)
  rowid=${base%%-*}
  name=${base#*-}
  path="/parity/authentication-authorization/$rowid/conf-$name"
  mine=$(cd "$dir/invalid" && "$cnatsd" -t -c "$(basename "$f")" 2>&1 </dev/null)
  rc=$?
  mine=$(printf '%s\n' "$mine" | head -1 | sed 's/^cnatsd: //')
  if [ $rc -eq 0 ]; then
    notok "$path" "cnatsd accepted it"; continue
  fi
  if [ -n "$ref" ]; then
    # nats-server walks config maps in Go's random order, so a file with two
    # conflicts can get either message: ours must be one it gives.
    tries=0
    while :; do
      theirs=$(cd "$dir/invalid" && "$ref" -t -c "$(basename "$f")" 2>&1 </dev/null | head -1 | sed 's/^nats-server: //')
      tries=$((tries + 1))
      [ "$theirs" = "$mine" ] || [ $tries -ge 12 ] && break
    done
    if [ "$theirs" != "$mine" ]; then
      notok "$path" "nats-server: $theirs" "cnatsd:      $mine"; continue
    fi
  fi
  ok "$path"
done
tap_done
