#!/bin/sh
# conf_diff.sh SRC_ROOT CONF_DUMP — differential TAP test: every config file in
# the corpus is parsed by nats-server's own conf package (tests/conf_oracle,
# built with the Debian Go sources) and by conf_parse; the canonical dumps —
# values, kinds, file:line:column of every value, used-variable flags, or the
# exact error message — must be identical. Skips when Go or the nats-server
# sources are missing.
set -u
root=$1
dump=$2
gopath=${GOPATH:-/usr/share/gocode}
if ! command -v go >/dev/null 2>&1 || [ ! -d "$gopath/src/github.com/nats-io/nats-server/conf" ]; then
  echo "1..0 # SKIP go or nats-server sources not installed"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$root/tests/conf_oracle" && GOPATH=$gopath GO111MODULE=off GOCACHE=$tmp/cache GOFLAGS= \
      go build -o "$tmp/oracle" . 2>"$tmp/build.log"); then
  echo "1..0 # SKIP conf_oracle does not build: $(head -1 "$tmp/build.log")"
  exit 0
fi
n=0
fails=0
run_dir() { # dir glob...: compare in the files' own directory (relative includes, same paths)
  d=$1
  shift
  (cd "$d" && for g in "$@"; do for f in $g; do [ -f "$f" ] && echo "$f"; done; done) >"$tmp/list"
  [ -s "$tmp/list" ] || return 0
  (cd "$d" && xargs "$tmp/oracle" <"$tmp/list") >"$tmp/go.out"
  (cd "$d" && xargs "$dump" <"$tmp/list") >"$tmp/c.out"
  # one result per line; error texts cannot hold newlines on either side
  i=0
  while IFS= read -r f; do
    i=$((i + 1))
    a=$(sed -n "${i}p" "$tmp/go.out")
    b=$(sed -n "${i}p" "$tmp/c.out")
    n=$((n + 1))
    if [ "$a" = "$b" ]; then echo "ok $n - $d/$f"
    else fails=$((fails + 1)); echo "not ok $n - $d/$f"; echo "# go: $a"; echo "# c : $b"; fi
  done <"$tmp/list"
}
run_dir "$root/fixtures/conf/valid" '*.conf' 'inc/*.conf'
run_dir "$root/fixtures/conf/invalid" '*.conf'
run_dir "$root/fixtures/conf/options" '*.conf'
run_dir "$root/tests/fuzz/corpus/conf" '*'
echo "1..$n"
[ $fails -eq 0 ]
