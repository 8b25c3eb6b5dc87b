/* auth_test.c — the pure parts of auth.c: bcrypt and plain secret checks,
 * NKey signature verification (vectors made with Go's nkeys and bcrypt
 * packages), permission evaluation as nats-server does it (allow/deny,
 * wildcards, queue groups, delivery deny), permission config parsing and
 * Go's %q quoting. */
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <sodium.h>
#include <string.h>

#include "auth.h"
#include "conf_parse.h"
#include "nkey.h"
#include "opts.h"

/* Made with golang.org/x/crypto/bcrypt (cost 4 and 6) for "s3cr3t-pw". */
static const char *go_bcrypt[] = {
    "$2a$04$CJSv2MxCrmtLkDN7d8.IdeCjZyJukaxzufQHlDxKl2RS7nqgkVSFe",
    "$2a$06$EOFc5Mopp/5KjNiSyvbObecfZnvLLdlb1dda.6MVBM1i67SehNBZu",
};

static void test_bcrypt(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(go_bcrypt); i++) {
    g_assert_true(auth_is_bcrypt(go_bcrypt[i]));
    g_assert_true(auth_password_matches(go_bcrypt[i], "s3cr3t-pw"));
    g_assert_false(auth_password_matches(go_bcrypt[i], "s3cr3t-pW"));
    g_assert_false(auth_password_matches(go_bcrypt[i], ""));
    g_assert_false(auth_password_matches(go_bcrypt[i], NULL));
    /* the hash itself is not the password */
    g_assert_false(auth_password_matches(go_bcrypt[i], go_bcrypt[i]));
  }
  /* $2b$ and $2y$ are the same algorithm under other names */
  g_autofree char *b = g_strdup(go_bcrypt[0]);
  b[2] = 'b';
  g_assert_true(auth_password_matches(b, "s3cr3t-pw"));
  b[2] = 'y';
  g_assert_true(auth_password_matches(b, "s3cr3t-pw"));
  /* a truncated hash never matches */
  g_autofree char *cut = g_strndup(go_bcrypt[0], 40);
  g_assert_true(auth_is_bcrypt(cut));
  g_assert_false(auth_password_matches(cut, "s3cr3t-pw"));
}

static void test_is_bcrypt(void) {
  g_assert_true(auth_is_bcrypt("$2a$10$x"));
  g_assert_true(auth_is_bcrypt("$2x$04$"));
  g_assert_false(auth_is_bcrypt("$2c$10$x"));
  g_assert_false(auth_is_bcrypt("$2a$1$xx"));
  g_assert_false(auth_is_bcrypt("$2a$ab$xx"));
  g_assert_false(auth_is_bcrypt("2a$10$xx"));
  g_assert_false(auth_is_bcrypt("$1$abc$def"));
  g_assert_false(auth_is_bcrypt(""));
  g_assert_false(auth_is_bcrypt(NULL));
}

static void test_plain(void) {
  g_assert_true(auth_password_matches("porkchop", "porkchop"));
  g_assert_false(auth_password_matches("porkchop", "porkcho"));
  g_assert_false(auth_password_matches("porkchop", "porkchopp"));
  g_assert_false(auth_password_matches("porkchop", "Porkchop"));
  g_assert_false(auth_password_matches("porkchop", NULL));
  g_assert_true(auth_password_matches("", NULL));
  g_assert_true(auth_password_matches(NULL, ""));
  /* a "$" secret that is not bcrypt compares as text */
  g_assert_true(auth_password_matches("$2q$10$abc", "$2q$10$abc"));
}

/* Made with github.com/nats-io/nkeys: a user key signing the nonce. */
#define GO_USER_PUB "UCEO7YXHQXCFB2L3HEB43LK3DXM5X7HZU73AOPXEU4KGEZ7YTTEX5VNX"
#define GO_NONCE "aBcDeFgHiJkLmNo"
#define GO_SIG_URL "s8y5B5ecK7-Pcfp3tZNDu9vPTNCXA3claWKWoWia9U9GqhTAGXn8TnpTuRz-aDyP4DmOKu82wkb77X4CYvlxCg"
#define GO_SIG_STD "s8y5B5ecK7+Pcfp3tZNDu9vPTNCXA3claWKWoWia9U9GqhTAGXn8TnpTuRz+aDyP4DmOKu82wkb77X4CYvlxCg=="
#define GO_ACCOUNT_PUB "ABIZYJFAX7YKIIXJ5QDD2SVIBSRIO6EO5CPMYB2326OW2SO5III34DVF"

static void test_nkey_verify(void) {
  g_assert_true(auth_nkey_verify(GO_USER_PUB, GO_NONCE, strlen(GO_NONCE), GO_SIG_URL));
  g_assert_true(auth_nkey_verify(GO_USER_PUB, GO_NONCE, strlen(GO_NONCE), GO_SIG_STD));
  /* other data, truncated sig, bad base64, wrong key type */
  g_assert_false(auth_nkey_verify(GO_USER_PUB, "aBcDeFgHiJkLmNp", 15, GO_SIG_URL));
  g_assert_false(auth_nkey_verify(GO_USER_PUB, GO_NONCE, strlen(GO_NONCE), "s8y5B5ecK7"));
  g_assert_false(auth_nkey_verify(GO_USER_PUB, GO_NONCE, strlen(GO_NONCE), "!!!!"));
  g_assert_false(auth_nkey_verify(GO_USER_PUB, GO_NONCE, strlen(GO_NONCE), ""));
  g_assert_false(auth_nkey_verify(GO_ACCOUNT_PUB, GO_NONCE, strlen(GO_NONCE), GO_SIG_URL));
  g_assert_false(auth_nkey_verify("UBAD", GO_NONCE, strlen(GO_NONCE), GO_SIG_URL));
  g_assert_false(auth_nkey_verify(NULL, GO_NONCE, strlen(GO_NONCE), GO_SIG_URL));
  g_assert_false(auth_nkey_verify(GO_USER_PUB, GO_NONCE, strlen(GO_NONCE), NULL));
  /* a flipped bit anywhere in the signature */
  for (size_t i = 0; i < strlen(GO_SIG_URL) - 1; i += 7) {
    g_autofree char *bad = g_strdup(GO_SIG_URL);
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    g_assert_false(auth_nkey_verify(GO_USER_PUB, GO_NONCE, strlen(GO_NONCE), bad));
  }
  /* our own keys */
  NkeyPair kp;
  g_assert_true(nkey_pair_create(&kp, NKEY_PREFIX_USER));
  char nonce[AUTH_NONCE_LEN + 1];
  auth_nonce_generate(nonce);
  uint8_t sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, NULL, (const uint8_t *)nonce, strlen(nonce), kp.secret_key);
  char b64[128];
  sodium_bin2base64(b64, sizeof b64, sig, sizeof sig, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  g_assert_true(auth_nkey_verify(kp.encoded_public, nonce, strlen(nonce), b64));
  g_assert_false(auth_nkey_verify(GO_USER_PUB, nonce, strlen(nonce), b64));
}

static void test_nonce(void) {
  char a[AUTH_NONCE_LEN + 1], b[AUTH_NONCE_LEN + 1];
  auth_nonce_generate(a);
  auth_nonce_generate(b);
  g_assert_cmpuint(strlen(a), ==, AUTH_NONCE_LEN);
  g_assert_cmpstr(a, !=, b);
  for (const char *p = a; *p; p++) g_assert_true(g_ascii_isalnum(*p) || *p == '-' || *p == '_');
}

static AuthPermissions *perms_from(const char *text) {
  GError *err = NULL;
  g_autofree char *conf = g_strdup_printf("p {%s}\n", text);
  g_autoptr(ConfValue) root = conf_parse_string(conf, NULL, &err);
  g_assert_no_error(err);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  AuthPermissions *p = auth_conf_parse_permissions(conf_value_map_get(root, "p"), errors);
  for (guint i = 0; i < errors->len; i++) g_test_message("%s", (char *)errors->pdata[i]);
  g_assert_cmpuint(errors->len, ==, 0);
  g_assert_nonnull(p);
  return p;
}

static bool pub(AuthPermissions *p, const char *s) { return auth_perms_pub_allowed(p, s, strlen(s)); }
static bool sub(AuthPermissions *p, const char *s, const char *q) {
  return auth_perms_can_subscribe(p, s, strlen(s), q, q ? strlen(q) : 0, NULL);
}

static void test_publish_perms(void) {
  AuthPermissions *p = perms_from("publish: {allow: [\"foo.>\", \"bar.*\", \"baz\"], deny: [\"foo.secret\", \"foo.x.>\"]}");
  g_assert_true(pub(p, "foo.a"));
  g_assert_true(pub(p, "foo.a.b.c"));
  g_assert_true(pub(p, "bar.x"));
  g_assert_true(pub(p, "baz"));
  g_assert_false(pub(p, "foo"));
  g_assert_false(pub(p, "bar.x.y"));
  g_assert_false(pub(p, "bazz"));
  g_assert_false(pub(p, "foo.secret"));
  g_assert_false(pub(p, "foo.x.y"));
  g_assert_true(pub(p, "foo.x"));
  g_assert_true(sub(p, "anything", NULL)); /* no subscribe permissions */
  auth_permissions_unref(p);

  /* old style: a bare list is the allow list */
  p = perms_from("publish: [\"a\", \"b\"]");
  g_assert_true(pub(p, "a"));
  g_assert_false(pub(p, "c"));
  auth_permissions_unref(p);
  p = perms_from("pub: \"only\"");
  g_assert_true(pub(p, "only"));
  g_assert_false(pub(p, "other"));
  auth_permissions_unref(p);

  /* deny only: everything else allowed */
  p = perms_from("publish: {deny: \">\"}");
  g_assert_false(pub(p, "a"));
  auth_permissions_unref(p);
  p = perms_from("publish: {deny: \"a.*\"}");
  g_assert_false(pub(p, "a.b"));
  g_assert_true(pub(p, "a"));
  g_assert_true(pub(p, "a.b.c"));
  auth_permissions_unref(p);
}

static void test_subscribe_perms(void) {
  AuthPermissions *p =
      perms_from("subscribe: {allow: [\"foo.*\", \"bar\", \"q.* v1\", \"w.* g.*\"], deny: [\"foo.hidden\", \"bar dq\"]}");
  g_assert_true(sub(p, "foo.a", NULL));
  g_assert_true(sub(p, "foo.*", NULL));
  g_assert_false(sub(p, "foo.hidden", NULL));
  g_assert_false(sub(p, "foo", NULL));
  g_assert_false(sub(p, ">", NULL));
  g_assert_true(sub(p, "bar", NULL));
  /* queue permissions */
  g_assert_true(sub(p, "foo.a", "any"));   /* plain allow: any queue */
  g_assert_true(sub(p, "q.x", "v1"));
  g_assert_false(sub(p, "q.x", "v2"));
  g_assert_false(sub(p, "q.x", NULL));     /* only as queue v1 */
  g_assert_true(sub(p, "w.a", "g.1"));     /* wildcard queue names */
  g_assert_false(sub(p, "w.a", "h.1"));
  g_assert_false(sub(p, "bar", "dq"));     /* denied queue */
  g_assert_true(sub(p, "bar", "ok"));
  g_assert_true(pub(p, "whatever"));
  auth_permissions_unref(p);
}

static void test_deliver_deny(void) {
  AuthPermissions *p = perms_from("subscribe: {deny: [\"priv.>\", \"x.secret\"]}");
  bool load = false;
  /* a literal subscription outside the deny list needs no filter */
  g_assert_true(auth_perms_can_subscribe(p, "a.b", 3, NULL, 0, &load));
  g_assert_false(load);
  /* a wildcard that overlaps a deny entry turns the filter on */
  g_assert_true(auth_perms_can_subscribe(p, "x.*", 3, NULL, 0, &load));
  g_assert_true(load);
  g_assert_true(auth_perms_can_subscribe(p, ">", 1, NULL, 0, &load));
  g_assert_true(load);
  g_assert_true(auth_perms_can_subscribe(p, "y.*", 3, NULL, 0, &load));
  g_assert_false(load);
  g_assert_true(auth_perms_deliver_denied(p, "priv.a", 6));
  g_assert_true(auth_perms_deliver_denied(p, "x.secret", 8));
  g_assert_false(auth_perms_deliver_denied(p, "x.public", 8));
  g_assert_false(auth_perms_deliver_denied(p, "priv", 4));
  auth_permissions_unref(p);
}

static void test_allow_responses(void) {
  AuthPermissions *p = perms_from("subscribe: \"req\"\nallow_responses: true");
  g_assert_true(p->has_response);
  g_assert_cmpint(p->resp_max_msgs, ==, DEFAULT_ALLOW_RESPONSE_MAX_MSGS);
  g_assert_cmpint(p->resp_expires_us, ==, DEFAULT_ALLOW_RESPONSE_EXPIRATION_US);
  /* responses switch the blanket publish allow off */
  g_assert_false(pub(p, "anything"));
  auth_permissions_unref(p);
  p = perms_from("allow_responses: {max: 5, expires: \"1s\"}\npublish: \"x\"");
  g_assert_cmpint(p->resp_max_msgs, ==, 5);
  g_assert_cmpint(p->resp_expires_us, ==, G_USEC_PER_SEC);
  g_assert_true(pub(p, "x"));
  g_assert_false(pub(p, "y"));
  auth_permissions_unref(p);
  p = perms_from("allow_responses: false");
  g_assert_false(p->has_response);
  g_assert_true(pub(p, "y"));
  auth_permissions_unref(p);
}

static void expect_perm_error(const char *text, const char *fragment) {
  GError *err = NULL;
  g_autofree char *conf = g_strdup_printf("p {%s}\n", text);
  g_autoptr(ConfValue) root = conf_parse_string(conf, NULL, &err);
  g_assert_no_error(err);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  auth_permissions_unref(auth_conf_parse_permissions(conf_value_map_get(root, "p"), errors));
  g_assert_cmpuint(errors->len, >=, 1);
  g_test_message("%s", (char *)errors->pdata[0]);
  g_assert_nonnull(strstr(errors->pdata[0], fragment));
}

static void test_perm_config_errors(void) {
  expect_perm_error("publish: [\"a..b\"]", "subject \"a..b\" is not a valid subject");
  expect_perm_error("subscribe: [\"a b c\"]", "is not a valid subject");
  expect_perm_error("subscribe: {allow: [true, \"x\"]}", "Subject in permissions array cannot be cast to string");
  expect_perm_error("publish: {allow: \"a\", nope: \"b\"}", "Unknown field name \"nope\" parsing subject permissions");
  expect_perm_error("bogus: 1", "Unknown field \"bogus\" parsing permissions");
  expect_perm_error("allow_responses: \"yes\"", "expected a boolean or a map");
  expect_perm_error("allow_responses: {expires: \"soon\"}", "error parsing expires");
}

static bool load_config(const char *text, char **report) {
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp("auth-test-XXXXXX.conf", &path, NULL);
  g_assert_cmpint(fd, >=, 0);
  close(fd);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  g_autoptr(Options) o = opts_new_default();
  bool ok = opts_load_config(o, path, false, report);
  if (ok) *report = opts_validate(o);
  g_unlink(path);
  return ok && !*report;
}

static void expect_config(const char *text, const char *fragment) {
  char *report = NULL;
  bool ok = load_config(text, &report);
  if (!fragment) {
    if (report) g_test_message("%s", report);
    g_assert_true(ok);
  } else {
    g_assert_false(ok);
    g_test_message("%s", report);
    g_assert_nonnull(strstr(report, fragment));
  }
  g_free(report);
}

static void test_config(void) {
  expect_config("authorization { token: x, timeout: 1.5 }", NULL);
  expect_config("authorization { user: a, password: b }", NULL);
  expect_config("authorization { user: a, token: b }", "Cannot have a user/pass and token");
  expect_config("authorization { user: a, users: [{user: b}] }", "Can not have a single user/pass and a users array");
  expect_config("authorization { token: a, users: [{user: b}] }", "Can not have a token and a users array");
  expect_config("authorization { users: [{user: a}, {user: a}] }", "Duplicate user \"a\" detected");
  expect_config("authorization { users: [{password: a}] }", "User entry requires a user");
  expect_config("authorization { users: [{nkey: UBAD}] }", "Not a valid public nkey for a user");
  expect_config("authorization { users: [{nkey: " GO_USER_PUB ", user: x}] }",
                "Nkey users do not take usernames or passwords");
  expect_config("authorization { users: [{nkey: " GO_USER_PUB "}] }", NULL);
  expect_config("authorization { users: \"x\" }", "Expected users field to be an array");
  expect_config("authorization { bogus: 1 }", "unknown field \"bogus\"");
  expect_config("accounts { $G { } }", "\"$G\" is a Reserved Account");
  expect_config("accounts: [A, A]", "Duplicate Account Entry: A");
  expect_config("accounts {\n A { users: [{user: u}] }\n B { users: [{user: u}] }\n}", "Duplicate user \"u\" detected");
  expect_config("accounts { A { users: [{user: u, password: p}] } }\nno_auth_user: u", NULL);
  expect_config("accounts { A { users: [{user: u}] } }\nno_auth_user: v",
                "no_auth_user: \"v\" not present as user in authorization block or account configuration");
  expect_config("no_auth_user: v", "no_auth_user: \"v\" present, but users are not defined");
  expect_config("accounts { A { limits { max_connections: 2, bogus: 1 } } }",
                "Unknown field \"bogus\" parsing account limits");
  expect_config("authorization { users: [{user: a, allowed_connection_types: [\"STANDARD\", \"nope\"]}] }",
                "invalid connection types");
}

static void test_redact(void) {
  /* expectations from nats-server's removePassFromTrace */
  const char *in = "{\"verbose\":false,\"user\":\"derek\",\"pass\":\"s3cr3t\",\"name\":\"x\"}";
  g_autofree char *out = auth_redact_password(in, strlen(in));
  g_assert_cmpstr(out, ==, "{\"verbose\":false,\"user\":\"derek\",\"pass\":\"[REDACTED]\",\"name\":\"x\"}");
  const char *none = "{\"auth_token\":\"t\"}";
  g_autofree char *same = auth_redact_password(none, strlen(none));
  g_assert_cmpstr(same, ==, none);
  const char *last = "{\"pass\":\"p\"}";
  g_autofree char *l = auth_redact_password(last, strlen(last));
  g_assert_cmpstr(l, ==, "{\"pass\":\"[REDACTED]\"}");
}

static void test_go_quote(void) {
  g_autoptr(GString) s = g_string_new(NULL);
  auth_go_quote(s, "a\"b\\c\n\x01", 7);
  g_assert_cmpstr(s->str, ==, "\"a\\\"b\\\\c\\n\\x01\"");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_assert_cmpint(sodium_init(), >=, 0);
  g_test_add_func("/auth/bcrypt", test_bcrypt);
  g_test_add_func("/auth/is-bcrypt", test_is_bcrypt);
  g_test_add_func("/auth/plain", test_plain);
  g_test_add_func("/auth/nkey-verify", test_nkey_verify);
  g_test_add_func("/auth/nonce", test_nonce);
  g_test_add_func("/auth/perms/publish", test_publish_perms);
  g_test_add_func("/auth/perms/subscribe", test_subscribe_perms);
  g_test_add_func("/auth/perms/deliver-deny", test_deliver_deny);
  g_test_add_func("/auth/perms/allow-responses", test_allow_responses);
  g_test_add_func("/auth/perms/config-errors", test_perm_config_errors);
  g_test_add_func("/auth/config", test_config);
  g_test_add_func("/auth/go-quote", test_go_quote);
  g_test_add_func("/auth/redact-password", test_redact);
  return g_test_run();
}
