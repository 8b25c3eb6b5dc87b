#!/bin/sh
# tls_gen_certs.sh SRCDIR — fixtures/tls/gen-certs.sh still produces a PKI that
# works: the server and client certificates verify against ca.pem, the
# untrusted one does not, the server certificate names localhost and
# 127.0.0.1.  Needs certtool (gnutls-bin); skipped (77) without it.
set -eu
command -v certtool >/dev/null 2>&1 || { echo "certtool not installed"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$1/fixtures/tls/gen-certs.sh" "$out"
for c in server client client-email client-dns weird-dn; do
  cat "$out/$c-cert.pem" "$out/ca.pem" | certtool --verify-chain >/dev/null || { echo "FAIL: $c does not verify"; exit 1; }
done
if cat "$out/untrusted-client-cert.pem" "$out/ca.pem" | certtool --verify-chain >/dev/null 2>&1; then
  echo "FAIL: untrusted client verifies against ca.pem"; exit 1
fi
info=$(certtool -i < "$out/server-cert.pem")
echo "$info" | grep -q "DNSname: localhost" || { echo "FAIL: no localhost SAN"; exit 1; }
echo "$info" | grep -q "IPAddress: 127.0.0.1" || { echo "FAIL: no 127.0.0.1 SAN"; exit 1; }
certtool -i < "$out/client-email-cert.pem" | grep -q "RFC822Name: mailer@example.com" || { echo "FAIL: no e-mail SAN"; exit 1; }
echo "ok"
