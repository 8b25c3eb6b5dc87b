/* tls_test.c — unit tests for tls.c: what Go's crypto/x509 prints of a
 * certificate subject (checked against Go 1.19 on the same fixture files),
 * the SPKI pin hash (checked against openssl), DN matching for
 * verify_and_map, Go's cipher/curve names, and config-time errors. */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "tls.h"

static char *fixture(const char *name) {
  /* __FILE__ is relative to the build dir (meson), which is two levels above this executable. */
  if (g_path_is_absolute(__FILE__)) {
    g_autofree char *dir = g_path_get_dirname(__FILE__);
    return g_build_filename(dir, "..", "..", "fixtures", "tls", name, NULL);
  }
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  g_autofree char *exedir = g_path_get_dirname(exe);
  g_autofree char *src = g_build_filename(exedir, "..", "..", __FILE__, NULL);
  g_autofree char *dir = g_path_get_dirname(src);
  return g_build_filename(dir, "..", "..", "fixtures", "tls", name, NULL);
}

static char *read_fixture(const char *name, gsize *len) {
  g_autofree char *path = fixture(name);
  char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, len, NULL));
  return text;
}

static void test_subject_string(void) {
  static const struct { const char *file, *want; } cases[] = {
      {"client-cert.pem", "CN=client,O=Synadia,C=US"},
      {"client-dns-cert.pem", "CN=dnsclient,OU=ops"},
      {"client-email-cert.pem", "CN=mailer"},
      /* Go: standard attributes in its fixed order, ';' escaped, the others (e-mail as a
       * UTF8String, DCs as PrintableStrings) hex-encoded at the end. */
      {"weird-dn-cert.pem",
       "SERIALNUMBER=42,CN=weird name,OU=a,O=Org\\;Inc,C=US,1.2.840.113549.1.9.1=#0c057840792e7a,"
       "0.9.2342.19200300.100.1.25=#13076578616d706c65,0.9.2342.19200300.100.1.25=#1303636f6d"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    gsize len;
    g_autofree char *pem = read_fixture(cases[i].file, &len);
    g_autofree char *s = tls_pem_subject_string(pem, len);
    g_assert_cmpstr(s, ==, cases[i].want);
  }
  g_assert_null(tls_pem_subject_string("not a certificate", 17));
}

static void test_spki_pin(void) {
  gsize len;
  g_autofree char *pem = read_fixture("client-cert.pem", &len);
  char hex[65];
  g_assert_true(tls_pem_spki_sha256(pem, len, hex));
  /* openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum */
  g_assert_cmpstr(hex, ==, "5286042f9f0cd935e78ec9b1e8637dc9d8fac967887ffdf9c31632c22e349a83");
  g_autofree char *other = read_fixture("client-email-cert.pem", &len);
  char hex2[65];
  g_assert_true(tls_pem_spki_sha256(other, len, hex2));
  g_assert_cmpstr(hex2, !=, hex);
  g_assert_false(tls_pem_spki_sha256("junk", 4, hex));
}

static void test_dn_match(void) {
  const char *cert = "CN=client,O=Synadia,C=US";
  g_assert_true(tls_dn_match("CN=client,O=Synadia,C=US", cert, true));
  g_assert_true(tls_dn_match("cn=client, o=Synadia, c=US", cert, true));   /* types: any case */
  g_assert_false(tls_dn_match("CN=Client,O=Synadia,C=US", cert, true));    /* values: exact */
  g_assert_false(tls_dn_match("C=US,O=Synadia,CN=client", cert, true));
  g_assert_true(tls_dn_match("C=US,O=Synadia,CN=client", cert, false));    /* RDNs reordered */
  g_assert_false(tls_dn_match("O=Synadia,CN=client", cert, false));        /* one missing */
  g_assert_false(tls_dn_match("CN=client,O=Synadia,C=US,DC=x", cert, false));
  g_assert_true(tls_dn_match("CN=a+OU=b,O=x", "OU=b+CN=a,O=x", true));     /* multi-valued RDN */
  g_assert_false(tls_dn_match("CN=a+OU=b,O=x", "CN=a,OU=b,O=x", false));
  g_assert_true(tls_dn_match("CN=a\\,b,O=x", "CN=a\\2cb,O=x", true));       /* escapes */
  g_assert_false(tls_dn_match("=x", cert, false));
  g_assert_false(tls_dn_match("CN", cert, false));
  g_assert_false(tls_dn_match("CN=x\\", "CN=x", false));
  g_assert_false(tls_dn_match("", "", true));
  g_assert_false(tls_dn_match("mailer@example.com", cert, false));
  g_assert_false(tls_dn_match(NULL, cert, false));
}

static void test_names(void) {
  g_assert_true(tls_cipher_name_known("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
  g_assert_true(tls_cipher_name_known("TLS_AES_256_GCM_SHA384"));
  g_assert_false(tls_cipher_name_known("TLS_NOPE"));
  g_assert_false(tls_cipher_name_known("tls_aes_256_gcm_sha384"));
  g_assert_true(tls_curve_name_known("X25519"));
  g_assert_true(tls_curve_name_known("CurveP521"));
  g_assert_false(tls_curve_name_known("P256"));
}

static void test_config_errors(void) {
  g_autofree char *cert = fixture("server-cert.pem");
  g_autofree char *key = fixture("server-key.pem");
  g_autofree char *ca = fixture("ca.pem");
  GError *error = NULL;
  TlsConfigOpts o = {.cert_file = cert};
  g_assert_null(tls_config_new(&o, &error));
  g_assert_cmpstr(error->message, ==, "missing 'key_file' in TLS configuration");
  g_clear_error(&error);
  o = (TlsConfigOpts){.key_file = key};
  g_assert_null(tls_config_new(&o, &error));
  g_assert_cmpstr(error->message, ==, "missing 'cert_file' in TLS configuration");
  g_clear_error(&error);
  o = (TlsConfigOpts){.cert_file = cert, .key_file = "/nonexistent/key.pem"};
  g_assert_null(tls_config_new(&o, &error));
  g_assert_cmpstr(error->message, ==,
                  "error parsing X509 certificate/key pair: open /nonexistent/key.pem: no such file or directory");
  g_clear_error(&error);
  /* the CA file given as key: PEM, but no private key in it */
  o = (TlsConfigOpts){.cert_file = cert, .key_file = ca};
  g_assert_null(tls_config_new(&o, &error));
  g_assert_true(g_str_has_prefix(error->message, "error parsing X509 certificate/key pair: "));
  g_clear_error(&error);
  /* a key that does not belong to the certificate */
  g_autofree char *other_key = fixture("client-key.pem");
  o = (TlsConfigOpts){.cert_file = cert, .key_file = other_key};
  g_assert_null(tls_config_new(&o, &error));
  g_assert_cmpstr(error->message, ==, "error parsing X509 certificate/key pair: tls: private key does not match public key");
  g_clear_error(&error);
  o = (TlsConfigOpts){.cert_file = cert, .key_file = key, .ca_file = "/nonexistent/ca.pem"};
  g_assert_null(tls_config_new(&o, &error));
  g_assert_cmpstr(error->message, ==, "open /nonexistent/ca.pem: no such file or directory");
  g_clear_error(&error);
  o = (TlsConfigOpts){.cert_file = cert, .key_file = key, .ca_file = key};
  g_assert_null(tls_config_new(&o, &error));
  g_assert_cmpstr(error->message, ==, "failed to parse root ca certificate");
  g_clear_error(&error);
  o = (TlsConfigOpts){.cert_file = cert, .key_file = key, .ca_file = ca, .verify = true};
  g_autoptr(TlsConfig) cfg = tls_config_new(&o, &error);
  g_assert_no_error(error);
  g_assert_true(tls_config_verify(cfg));
  g_assert_cmpstr(tls_config_cert_file(cfg), ==, cert);
  tls_config_free(NULL);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tls/subject-string", test_subject_string);
  g_test_add_func("/tls/spki-pin", test_spki_pin);
  g_test_add_func("/tls/dn-match", test_dn_match);
  g_test_add_func("/tls/go-names", test_names);
  g_test_add_func("/tls/config-errors", test_config_errors);
  return g_test_run();
}
