/* jwt_test.c — src/jwt.c: decoding, signature and prefix checks, malformed
 * input, claim validation, src/time limits, revocations and permission
 * templates.  Tokens are minted here with libsodium keys (the encoder below
 * is the test's own); tokens made by the reference jwt library are checked
 * too when fixtures/jwt is found (and by the parity scenarios). */
#include <glib.h>
#include <sodium.h>
#include <string.h>

#include "jwt.h"
#include "nkey.h"

typedef struct Key {
  uint8_t pk[32], sk[64];
  char pub[NKEY_PUBLIC_LEN + 1];
} Key;

static Key key_new(uint8_t prefix) {
  Key k;
  crypto_sign_keypair(k.pk, k.sk);
  nkey_encode_public(prefix, k.pk, k.pub);
  return k;
}

static void b64(GString *out, const void *data, size_t len) {
  size_t cap = sodium_base64_encoded_len(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  g_autofree char *s = g_malloc(cap);
  sodium_bin2base64(s, cap, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  g_string_append(out, s);
}

/* header.payload.sig with the given header and payload JSON, signed by k. */
static char *mint_raw(const Key *k, const char *header, const char *payload) {
  GString *t = g_string_new(NULL);
  b64(t, header, strlen(header));
  g_string_append_c(t, '.');
  b64(t, payload, strlen(payload));
  uint8_t sig[64];
  crypto_sign_detached(sig, NULL, (const uint8_t *)t->str, t->len, k->sk);
  g_string_append_c(t, '.');
  b64(t, sig, sizeof sig);
  return g_string_free(t, FALSE);
}

static const char *HDR = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";

/* A token issued by k for subject with `nats` members (without braces) and extra top-level members. */
static char *mint(const Key *k, const char *sub, const char *type, const char *nats, const char *top) {
  g_autofree char *payload = g_strdup_printf(
      "{\"jti\":\"J\",\"iat\":1000,\"iss\":\"%s\",\"name\":\"n\",\"sub\":\"%s\"%s%s,\"nats\":{%s%s\"type\":\"%s\","
      "\"version\":2}}",
      k->pub, sub, top && *top ? "," : "", top ? top : "", nats ? nats : "", nats && *nats ? "," : "", type);
  return mint_raw(k, HDR, payload);
}

static void expect_error(const char *token, const char *want) {
  g_autofree char *err = NULL;
  JwtClaims *c = jwt_decode(token, &err);
  g_assert_null(c);
  g_assert_nonnull(err);
  if (want) g_assert_cmpstr(err, ==, want);
}

static void test_decode_user(void) {
  Key acc = key_new(NKEY_PREFIX_ACCOUNT), usr = key_new(NKEY_PREFIX_USER);
  g_autofree char *tok = mint(&acc, usr.pub, "user",
                              "\"pub\":{\"allow\":[\"a.>\"],\"deny\":[\"a.b\"]},\"sub\":{\"allow\":[\"x\"]},"
                              "\"resp\":{\"max\":3,\"ttl\":1000000000},\"subs\":5,\"payload\":-1,\"bearer_token\":true,"
                              "\"src\":\"10.0.0.0/8, 127.0.0.1/32\",\"tags\":[\"A:B\",\" a:b \",\"c\"],"
                              "\"allowed_connection_types\":[\"STANDARD\"]",
                              "\"exp\":4000000000");
  g_autofree char *err = NULL;
  g_autoptr(JwtClaims) c = jwt_decode(tok, &err);
  g_assert_null(err);
  g_assert_nonnull(c);
  g_assert_cmpint(c->type, ==, JWT_CLAIM_USER);
  g_assert_cmpstr(c->issuer, ==, acc.pub);
  g_assert_cmpstr(c->subject, ==, usr.pub);
  g_assert_cmpint(c->exp, ==, 4000000000);
  g_assert_cmpuint(c->user.perms.pub_allow->len, ==, 1);
  g_assert_cmpstr(c->user.perms.pub_deny->pdata[0], ==, "a.b");
  g_assert_true(c->user.perms.has_resp);
  g_assert_cmpint(c->user.perms.resp_ttl_ns, ==, 1000000000);
  g_assert_cmpint(c->user.subs, ==, 5);
  g_assert_cmpint(c->user.data, ==, 0);  /* absent = 0, as Go decodes it */
  g_assert_true(c->user.bearer);
  g_assert_false(c->user.empty);
  g_assert_cmpuint(c->user.src->len, ==, 2);  /* comma form of CIDRList */
  g_assert_cmpstr(c->user.src->pdata[1], ==, "127.0.0.1/32");
  g_assert_cmpuint(c->tags->len, ==, 2);      /* TagList: lower-cased, unique */
  g_assert_cmpstr(c->tags->pdata[0], ==, "a:b");
  g_assert_true(jwt_claims_validate(c, 2000, NULL));
  g_assert_true(jwt_src_allows(c, "127.0.0.1"));
  g_assert_true(jwt_src_allows(c, "10.1.2.3"));
  g_assert_false(jwt_src_allows(c, "192.168.0.1"));
  g_assert_false(jwt_src_allows(c, "::1"));
  g_assert_false(jwt_src_allows(c, "not-an-ip"));
  g_assert_true(jwt_src_allows(c, "::ffff:10.0.0.1"));
}

static void test_decode_account_operator(void) {
  Key op = key_new(NKEY_PREFIX_OPERATOR), acc = key_new(NKEY_PREFIX_ACCOUNT), sk = key_new(NKEY_PREFIX_ACCOUNT),
      scoped = key_new(NKEY_PREFIX_ACCOUNT);
  g_autofree char *nats = g_strdup_printf(
      "\"limits\":{\"subs\":2,\"conn\":1,\"payload\":16,\"disallow_bearer\":true},\"signing_keys\":[\"%s\","
      "{\"kind\":\"user_scope\",\"key\":\"%s\",\"role\":\"r\",\"template\":{\"pub\":{\"allow\":[\"{{name()}}.>\"]}}}],"
      "\"revocations\":{\"UX\":100,\"*\":50}",
      sk.pub, scoped.pub);
  g_autofree char *tok = mint(&op, acc.pub, "account", nats, NULL);
  g_autofree char *err = NULL;
  g_autoptr(JwtClaims) c = jwt_decode(tok, &err);
  g_assert_null(err);
  g_assert_cmpint(c->type, ==, JWT_CLAIM_ACCOUNT);
  g_assert_cmpint(c->lim_subs, ==, 2);
  g_assert_cmpint(c->lim_conn, ==, 1);
  g_assert_cmpint(c->lim_payload, ==, 16);
  g_assert_cmpint(c->lim_leaf, ==, 0);
  g_assert_true(c->lim_disallow_bearer);
  JwtSigningKey *k1 = g_hash_table_lookup(c->acc_signing_keys, sk.pub);
  JwtSigningKey *k2 = g_hash_table_lookup(c->acc_signing_keys, scoped.pub);
  g_assert_nonnull(k1);
  g_assert_false(k1->scoped);
  g_assert_nonnull(k2);
  g_assert_true(k2->scoped);
  g_assert_cmpint(k2->tmpl.subs, ==, JWT_NO_LIMIT);  /* NewUserScope default */
  g_assert_true(jwt_claims_validate(c, 2000, NULL));
  /* revocation at or after iat revokes; "*" covers every key */
  g_assert_true(jwt_is_revoked(c->revocations, "UX", 100));
  g_assert_false(jwt_is_revoked(c->revocations, "UX", 101));
  g_assert_true(jwt_is_revoked(c->revocations, "UY", 50));
  g_assert_false(jwt_is_revoked(c->revocations, "UY", 51));
  g_assert_false(jwt_is_revoked(NULL, "UY", 0));

  g_autofree char *onats = g_strdup_printf("\"signing_keys\":[\"%s\"],\"system_account\":\"%s\"", op.pub, acc.pub);
  g_autofree char *otok = mint(&op, op.pub, "operator", onats, "\"aud\":\"X\"");
  g_autoptr(JwtClaims) oc = jwt_decode(otok, NULL);
  g_assert_nonnull(oc);
  g_assert_cmpint(oc->type, ==, JWT_CLAIM_OPERATOR);
  g_assert_cmpstr(oc->system_account, ==, acc.pub);
  g_assert_cmpstr(oc->audience, ==, "X");
  g_assert_cmpuint(oc->op_signing_keys->len, ==, 1);
}

static void test_malformed(void) {
  Key acc = key_new(NKEY_PREFIX_ACCOUNT), usr = key_new(NKEY_PREFIX_USER), op = key_new(NKEY_PREFIX_OPERATOR);
  expect_error(NULL, "expected 3 chunks");
  expect_error("", "expected 3 chunks");
  expect_error("a.b", "expected 3 chunks");
  expect_error("a.b.c.d", "expected 3 chunks");
  expect_error("!!.e30.AA", NULL);
  expect_error("..", NULL);
  g_autofree char *good = mint(&acc, usr.pub, "user", NULL, NULL);
  {
    g_autoptr(JwtClaims) ok = jwt_decode(good, NULL);
    g_assert_nonnull(ok);
  }
  /* flip one payload byte: signature fails */
  g_autofree char *bad = g_strdup(good);
  char *dot = strchr(bad, '.');
  dot[3] = dot[3] == 'A' ? 'B' : 'A';
  expect_error(bad, NULL);
  /* truncated signature */
  g_autofree char *trunc = g_strndup(good, strlen(good) - 4);
  expect_error(trunc, NULL);
  /* a valid signature by someone who is not "iss" */
  g_autofree char *payload = g_strdup_printf(
      "{\"iss\":\"%s\",\"sub\":\"%s\",\"nats\":{\"type\":\"user\",\"version\":2}}", acc.pub, usr.pub);
  Key other = key_new(NKEY_PREFIX_ACCOUNT);
  g_autofree char *forged = mint_raw(&other, HDR, payload);
  expect_error(forged, "claim failed V2 signature verification");
  /* headers */
  g_autofree char *typ = mint_raw(&acc, "{\"typ\":\"XYZ\",\"alg\":\"ed25519-nkey\"}", payload);
  expect_error(typ, "not supported type \"XYZ\"");
  g_autofree char *alg = mint_raw(&acc, "{\"typ\":\"jwt\",\"alg\":\"HS256\"}", payload);
  expect_error(alg, "unexpected \"HS256\" algorithm");
  g_autofree char *hdrjson = mint_raw(&acc, "[1,2]", payload);
  expect_error(hdrjson, NULL);
  /* payloads */
  g_autofree char *notjson = mint_raw(&acc, HDR, "{\"iss\":");
  expect_error(notjson, NULL);
  g_autofree char *arr = mint_raw(&acc, HDR, "[]");
  expect_error(arr, NULL);
  g_autofree char *wrongtype = mint(&acc, usr.pub, "user", NULL, "\"exp\":\"soon\"");
  expect_error(wrongtype, NULL);
  g_autofree char *wronglist = mint(&acc, usr.pub, "user", "\"pub\":{\"allow\":[1]}", NULL);
  expect_error(wronglist, NULL);
  g_autofree char *floatint = mint(&acc, usr.pub, "user", "\"subs\":1.5", NULL);
  expect_error(floatint, NULL);
  g_autofree char *newer = mint_raw(&acc, HDR, "{\"iss\":\"x\",\"nats\":{\"type\":\"user\",\"version\":3}}");
  expect_error(newer, "JWT was generated by a newer version ");
  g_autofree char *v1 = mint_raw(&acc, HDR, "{\"type\":\"user\"}");
  expect_error(v1, NULL);
  g_autofree char *cluster = mint(&acc, usr.pub, "cluster", NULL, NULL);
  expect_error(cluster, "ClusterClaims are not supported");
  /* user claims must be issued by an account key */
  g_autofree char *by_op = mint(&op, usr.pub, "user", NULL, NULL);
  expect_error(by_op, "unable to validate expected prefixes");
  /* account claims by a user key */
  g_autofree char *acc_by_user = mint(&usr, acc.pub, "account", NULL, NULL);
  expect_error(acc_by_user, "unable to validate expected prefixes");
  /* oversized */
  g_autofree char *huge = g_strnfill(JWT_MAX_TOKEN_LEN + 1, 'a');
  expect_error(huge, NULL);
  /* a bad scope kind in signing keys */
  g_autofree char *scope = mint(&op, acc.pub, "account", "\"signing_keys\":[{\"kind\":\"other\"}]", NULL);
  expect_error(scope, NULL);
}

static void test_validate(void) {
  Key acc = key_new(NKEY_PREFIX_ACCOUNT), usr = key_new(NKEY_PREFIX_USER);
  g_autofree char *tok = mint(&acc, usr.pub, "user",
                              "\"pub\":{\"allow\":[\"a b\",\"a b c\",\"\"]},\"sub\":{\"allow\":[\"q g\"]},"
                              "\"src\":[\"10.0.0.0/33\",\"x\"],\"times\":[{\"start\":\"25:00:00\",\"end\":\"\"}],"
                              "\"times_location\":\"Not/AZone\",\"issuer_account\":\"nope\"",
                              "\"exp\":100,\"nbf\":3000");
  g_autoptr(JwtClaims) c = jwt_decode(tok, NULL);
  g_assert_nonnull(c);
  g_autoptr(GPtrArray) issues = g_ptr_array_new_with_free_func(g_free);
  g_assert_false(jwt_claims_validate(c, 2000, issues));
  g_autofree char *all = NULL;
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < issues->len; i++) g_string_append_printf(s, "%s|", (char *)issues->pdata[i]);
  all = g_string_free(s, FALSE);
  g_assert_nonnull(strstr(all, "claim is expired|"));
  g_assert_nonnull(strstr(all, "claim is not yet valid|"));
  g_assert_nonnull(strstr(all, "Permission Subject \"a b\" is not allowed to contain queue|"));
  g_assert_nonnull(strstr(all, "Permission Subject \"a b c\" contains too many spaces|"));
  g_assert_nonnull(strstr(all, "subject cannot be empty|"));
  g_assert_null(strstr(all, "\"q g\""));  /* queues are fine in subscribe permissions */
  g_assert_nonnull(strstr(all, "invalid cidr \"10.0.0.0/33\" in user src limits|"));
  g_assert_nonnull(strstr(all, "invalid cidr \"x\" in user src limits|"));
  g_assert_nonnull(strstr(all, "start in time range is invalid \"25:00:00\"|"));
  g_assert_nonnull(strstr(all, "time ranges end must contain an end|"));
  g_assert_nonnull(strstr(all, "could not parse iana time zone by name"));
  g_assert_nonnull(strstr(all, "account_id is not an account public key|"));
}

static char *clock_at(GDateTime *t, int delta_s) {
  GDateTime *d = g_date_time_add_seconds(t, delta_s);
  char *s = g_date_time_format(d, "%H:%M:%S");
  g_date_time_unref(d);
  return s;
}

static void test_times(void) {
  Key acc = key_new(NKEY_PREFIX_ACCOUNT), usr = key_new(NKEY_PREFIX_USER);
  /* a fixed noon in UTC avoids midnight wrap-around in the test */
  GDateTime *noon = g_date_time_new_utc(2030, 6, 1, 12, 0, 0);
  int64_t now_us = g_date_time_to_unix(noon) * G_USEC_PER_SEC;
  g_autofree char *s1 = clock_at(noon, -60), *e1 = clock_at(noon, 90);
  g_autofree char *s2 = clock_at(noon, 60), *e2 = clock_at(noon, 120);
  g_autofree char *in = g_strdup_printf("\"times\":[{\"start\":\"%s\",\"end\":\"%s\"}],\"times_location\":\"UTC\"", s1, e1);
  g_autofree char *out = g_strdup_printf("\"times\":[{\"start\":\"%s\",\"end\":\"%s\"}],\"times_location\":\"UTC\"", s2, e2);
  g_autofree char *t_in = mint(&acc, usr.pub, "user", in, NULL);
  g_autofree char *t_out = mint(&acc, usr.pub, "user", out, NULL);
  g_autofree char *t_none = mint(&acc, usr.pub, "user", NULL, NULL);
  g_autoptr(JwtClaims) ci = jwt_decode(t_in, NULL), co = jwt_decode(t_out, NULL), cn = jwt_decode(t_none, NULL);
  int64_t valid = -1;
  g_assert_true(jwt_times_allow(ci, now_us, &valid));
  g_assert_cmpint(valid, ==, 90 * G_USEC_PER_SEC);
  g_assert_false(jwt_times_allow(co, now_us, &valid));
  g_assert_true(jwt_times_allow(cn, now_us, &valid));
  g_assert_cmpint(valid, ==, 0);
  /* an end before the start runs into the next day */
  g_autofree char *wrap = g_strdup_printf("\"times\":[{\"start\":\"11:00:00\",\"end\":\"01:00:00\"}],\"times_location\":\"UTC\"");
  g_autofree char *t_wrap = mint(&acc, usr.pub, "user", wrap, NULL);
  g_autoptr(JwtClaims) cw = jwt_decode(t_wrap, NULL);
  g_assert_true(jwt_times_allow(cw, now_us, &valid));
  g_assert_cmpint(valid, ==, (int64_t)13 * 3600 * G_USEC_PER_SEC);
  g_date_time_unref(noon);
}

static void test_templates(void) {
  Key acc = key_new(NKEY_PREFIX_ACCOUNT), usr = key_new(NKEY_PREFIX_USER), sc = key_new(NKEY_PREFIX_ACCOUNT);
  g_autofree char *issuer = g_strdup_printf("\"issuer_account\":\"%s\",\"tags\":[\"dept:a\",\"dept:b\",\"site:x\",\"site:y\"]", acc.pub);
  g_autofree char *utok2 = mint(&sc, usr.pub, "user", issuer, NULL);
  g_autoptr(JwtClaims) u = jwt_decode(utok2, NULL);
  g_assert_nonnull(u);
  JwtUserLimits t = {0};
  t.perms.pub_allow = g_ptr_array_new_with_free_func(g_free);
  t.perms.pub_deny = g_ptr_array_new_with_free_func(g_free);
  t.perms.sub_allow = g_ptr_array_new_with_free_func(g_free);
  t.perms.sub_deny = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(t.perms.pub_allow, g_strdup("{{name()}}.{{subject()}}"));
  g_ptr_array_add(t.perms.pub_allow, g_strdup("{{account-name()}}.{{account-subject()}}.plain"));
  g_ptr_array_add(t.perms.pub_allow, g_strdup("{{unknown()}}.x"));
  g_ptr_array_add(t.perms.sub_allow, g_strdup("{{tag(dept)}}.{{tag(site)}}"));
  g_ptr_array_add(t.perms.sub_allow, g_strdup("{{tag(none)}}.z"));
  g_autoptr(GPtrArray) acc_tags = g_ptr_array_new();
  JwtPermissions out;
  g_assert_true(jwt_apply_template(&t, u, "ACC", acc_tags, &out));
  g_assert_cmpuint(out.pub_allow->len, ==, 2);  /* the unknown function's entry is dropped */
  g_autofree char *first = g_strdup_printf("n.%s", usr.pub);
  g_assert_cmpstr(out.pub_allow->pdata[0], ==, first);
  g_autofree char *second = g_strdup_printf("ACC.%s.plain", acc.pub);
  g_assert_cmpstr(out.pub_allow->pdata[1], ==, second);
  /* cartesian product of tag values, in order */
  g_assert_cmpuint(out.sub_allow->len, ==, 4);
  g_assert_cmpstr(out.sub_allow->pdata[0], ==, "a.x");
  g_assert_cmpstr(out.sub_allow->pdata[1], ==, "a.y");
  g_assert_cmpstr(out.sub_allow->pdata[2], ==, "b.x");
  g_assert_cmpstr(out.sub_allow->pdata[3], ==, "b.y");
  g_assert_cmpuint(out.pub_deny->len, ==, 0);
  jwt_permissions_clear(&out);
  /* an allow list that expands to nothing turns into deny ">" */
  g_ptr_array_set_size(t.perms.sub_allow, 0);
  g_ptr_array_add(t.perms.sub_allow, g_strdup("{{tag(none)}}"));
  g_assert_true(jwt_apply_template(&t, u, "ACC", acc_tags, &out));
  g_assert_cmpuint(out.sub_allow->len, ==, 0);
  g_assert_cmpuint(out.sub_deny->len, ==, 1);
  g_assert_cmpstr(out.sub_deny->pdata[0], ==, ">");
  jwt_permissions_clear(&out);
  /* a deny entry that expands to an invalid subject fails the user */
  g_ptr_array_add(t.perms.pub_deny, g_strdup("{{bogus()}}"));
  g_assert_false(jwt_apply_template(&t, u, "ACC", acc_tags, &out));
  jwt_permissions_clear(&t.perms);
}

static void test_misc(void) {
  g_autofree char *plain = jwt_parse_decorated("  eyJabc.def.ghi \n");
  g_assert_cmpstr(plain, ==, "eyJabc.def.ghi");
  g_autofree char *dec = jwt_parse_decorated(
      "-----BEGIN NATS OPERATOR JWT-----\neyJx.y.z\n------END NATS OPERATOR JWT------\n\nmore\n");
  g_assert_cmpstr(dec, ==, "eyJx.y.z");
  int a, b, c;
  g_assert_true(jwt_parse_server_version("", &a, &b, &c, NULL));
  g_assert_true(jwt_parse_server_version("2.9.10", &a, &b, &c, NULL));
  g_assert_cmpint(a, ==, 2);
  g_assert_cmpint(b, ==, 9);
  g_assert_cmpint(c, ==, 10);
  g_autofree char *err = NULL;
  g_assert_false(jwt_parse_server_version("2.x", &a, &b, &c, &err));
  g_assert_nonnull(err);
}

/* Tokens made by nats-io/jwt (fixtures/jwt) decode; the tampered one does not. */
static void test_reference_fixtures(void) {
  g_autofree char *here = g_path_get_dirname(__FILE__);
  g_autofree char *dir = g_build_filename(here, "..", "..", "fixtures", "jwt", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d) {
    g_test_skip("fixtures/jwt not found from the build directory");
    return;
  }
  const char *name;
  int n = 0;
  while ((name = g_dir_read_name(d))) {
    if (!g_str_has_suffix(name, ".jwt")) continue;
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_strstrip(text);
    g_autofree char *err = NULL;
    g_autoptr(JwtClaims) c = jwt_decode(text, &err);
    if (strcmp(name, "u_badsig.jwt") == 0) {
      g_assert_null(c);
      g_assert_cmpstr(err, ==, "claim failed V2 signature verification");
    } else {
      if (!c) g_error("%s: %s", name, err);
      n++;
    }
  }
  g_assert_cmpint(n, >, 20);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_assert_cmpint(sodium_init(), >=, 0);
  g_test_add_func("/jwt/decode-user", test_decode_user);
  g_test_add_func("/jwt/decode-account-operator", test_decode_account_operator);
  g_test_add_func("/jwt/malformed", test_malformed);
  g_test_add_func("/jwt/validate", test_validate);
  g_test_add_func("/jwt/times", test_times);
  g_test_add_func("/jwt/templates", test_templates);
  g_test_add_func("/jwt/misc", test_misc);
  g_test_add_func("/jwt/reference-fixtures", test_reference_fixtures);
  return g_test_run();
}
