#!/bin/sh
# conf_corpus_check.sh FIXTURES_DIR CONF_DUMP — TAP test of the config corpus.
# valid/*.conf and options/*.conf must parse, invalid/*.conf and limits/*.conf must not. When
# /usr/sbin/nats-server exists, valid/invalid files are also run through
# `nats-server -t -c` and must get the same verdict, and for invalid files the
# same error message.
. "$(dirname "$0")/../lib/tap.sh"
dir=$1
dump=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

check() { # kind file
  kind=$1 f=$2
  ours=$(cd "$(dirname "$f")" && "$dump" "$(basename "$f")")
  case "$ours" in ERR:*) got=reject ;; *) got=accept ;; esac
  want=accept
  [ "$kind" = valid ] || want=reject
  if [ "$got" = "$want" ]; then ok "cnatsd $kind/$(basename "$f")"; else notok "cnatsd $kind/$(basename "$f")" "expected $want: $ours"; fi
  [ -n "$ref" ] && [ "$kind" != limits ] || return 0
  (cd "$(dirname "$f")" && timeout 30 "$ref" -t -c "$(basename "$f")" >/dev/null 2>"$out")
  rc=$?
  if [ "$want" = accept ]; then
    if [ $rc -eq 0 ]; then ok "nats-server $kind/$(basename "$f")"; else notok "nats-server $kind/$(basename "$f")" "rc=$rc $(tr -d '\000' <"$out")"; fi
  else
    theirs=$(tr -d '\000' <"$out" | sed -n '1s/^nats-server: //p')
    mine=${ours#ERR: }
    if [ $rc -eq 1 ] && [ "$theirs" = "$mine" ]; then ok "nats-server $kind/$(basename "$f")"
    else notok "nats-server $kind/$(basename "$f")" "rc=$rc" "nats-server: $theirs" "cnatsd:      $mine"; fi
  fi
}

for f in "$dir"/valid/*.conf "$dir"/options/*.conf; do check valid "$f"; done
for f in "$dir"/invalid/*.conf; do check invalid "$f"; done
for f in "$dir"/limits/*.conf; do check limits "$f"; done
tap_done
