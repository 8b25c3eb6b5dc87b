/* jwt.c — NATS JWT decoding, verification and validation (see jwt.h).
 *
 * Owns nothing long-lived: jwt_decode returns a JwtClaims the caller owns.
 * Pure code, any thread, no logging (callers log, with Go's texts).  Called
 * by auth.c (CONNECT in operator mode, resolver preloads, the operator
 * option) and by tests.
 *
 * The JSON payload is read the way Go's encoding/json fills the jwt/v2
 * structs: member names match case-insensitively, null is "absent", a member
 * of the wrong type fails the whole decode, absent numbers are 0.  Only JWT
 * v2 payloads (claims under "nats") are accepted; v1 tokens (a top-level
 * "type") are refused. */
#include "jwt.h"

#include <arpa/inet.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "nkey.h"
#include "subject.h"

/* ---- small helpers ----------------------------------------------------------- */

static GPtrArray *strv_new(void) { return g_ptr_array_new_with_free_func(g_free); }

static void set_error(char **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_error(char **error, const char *fmt, ...) {
  if (!error || *error) return;
  va_list ap;
  va_start(ap, fmt);
  *error = g_strdup_vprintf(fmt, ap);
  va_end(ap);
}

/* base64url without padding (Go's RawURLEncoding). (transfer full) or NULL */
static guint8 *b64url_decode(const char *s, size_t len, size_t *out_len) {
  size_t cap = len / 4 * 3 + 3;
  guint8 *buf = g_malloc(cap + 1);
  if (sodium_base642bin(buf, cap, s, len, NULL, out_len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    g_free(buf);
    return NULL;
  }
  buf[*out_len] = 0;
  return buf;
}

/* Go's json field matching is case-insensitive; exact matches win. */
static JsonNode *member(JsonObject *o, const char *name) {
  if (!o) return NULL;
  JsonNode *n = json_object_get_member(o, name);
  if (!n) {
    g_autoptr(GList) names = json_object_get_members(o);
    for (GList *l = names; l; l = l->next)
      if (g_ascii_strcasecmp(l->data, name) == 0) n = json_object_get_member(o, l->data);
  }
  if (n && JSON_NODE_HOLDS_NULL(n)) return NULL;
  return n;
}

static bool get_string(JsonObject *o, const char *name, char **out, char **error) {
  JsonNode *n = member(o, name);
  if (!n) {
    if (!*out) *out = g_strdup("");
    return true;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    set_error(error, "json: cannot unmarshal %s into field %s of type string", json_node_type_name(n), name);
    return false;
  }
  g_free(*out);
  *out = g_strdup(json_node_get_string(n));
  return true;
}

static bool get_int(JsonObject *o, const char *name, int64_t *out, char **error) {
  JsonNode *n = member(o, name);
  if (!n) return true;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
    set_error(error, "json: cannot unmarshal %s into field %s of type int64", json_node_type_name(n), name);
    return false;
  }
  *out = json_node_get_int(n);
  return true;
}

static bool get_bool(JsonObject *o, const char *name, bool *out, char **error) {
  JsonNode *n = member(o, name);
  if (!n) return true;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
    set_error(error, "json: cannot unmarshal %s into field %s of type bool", json_node_type_name(n), name);
    return false;
  }
  *out = json_node_get_boolean(n);
  return true;
}

static bool get_object(JsonObject *o, const char *name, JsonObject **out, char **error) {
  JsonNode *n = member(o, name);
  *out = NULL;
  if (!n) return true;
  if (!JSON_NODE_HOLDS_OBJECT(n)) {
    set_error(error, "json: cannot unmarshal %s into field %s of type object", json_node_type_name(n), name);
    return false;
  }
  *out = json_node_get_object(n);
  return true;
}

/* A string list; with comma_string (Go's CIDRList) a single string is
 * split on commas, lower-cased and de-duplicated. */
static bool get_strlist(JsonObject *o, const char *name, GPtrArray *out, bool comma_string, char **error) {
  JsonNode *n = member(o, name);
  if (!n) return true;
  if (comma_string && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
    g_auto(GStrv) parts = g_strsplit(json_node_get_string(n), ",", -1);
    for (int i = 0; parts[i]; i++) {
      g_autofree char *t = g_ascii_strdown(g_strstrip(parts[i]), -1);
      bool dup = !*t;
      for (guint k = 0; k < out->len && !dup; k++) dup = strcmp(out->pdata[k], t) == 0;
      if (!dup) g_ptr_array_add(out, g_steal_pointer(&t));
    }
    return true;
  }
  if (!JSON_NODE_HOLDS_ARRAY(n)) {
    set_error(error, "json: cannot unmarshal %s into field %s of type []string", json_node_type_name(n), name);
    return false;
  }
  JsonArray *a = json_node_get_array(n);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
      set_error(error, "json: cannot unmarshal %s into field %s of type string", json_node_type_name(e), name);
      return false;
    }
    g_ptr_array_add(out, g_strdup(json_node_get_string(e)));
  }
  return true;
}

static bool nkey_valid(const char *key, uint8_t prefix) {
  uint8_t raw[32];
  return key && nkey_decode_public(key, prefix, raw);
}

/* ---- claims objects ------------------------------------------------------------ */

static void perms_init(JwtPermissions *p) {
  p->pub_allow = strv_new();
  p->pub_deny = strv_new();
  p->sub_allow = strv_new();
  p->sub_deny = strv_new();
}

void jwt_permissions_clear(JwtPermissions *p) {
  if (!p) return;
  g_clear_pointer(&p->pub_allow, g_ptr_array_unref);
  g_clear_pointer(&p->pub_deny, g_ptr_array_unref);
  g_clear_pointer(&p->sub_allow, g_ptr_array_unref);
  g_clear_pointer(&p->sub_deny, g_ptr_array_unref);
}

static void time_range_free(JwtTimeRange *t) {
  g_free(t->start);
  g_free(t->end);
  g_free(t);
}

static void user_limits_init(JwtUserLimits *u) {
  perms_init(&u->perms);
  u->src = strv_new();
  u->times = g_ptr_array_new_with_free_func((GDestroyNotify)time_range_free);
  u->conn_types = strv_new();
}

static void user_limits_clear(JwtUserLimits *u) {
  jwt_permissions_clear(&u->perms);
  g_clear_pointer(&u->src, g_ptr_array_unref);
  g_clear_pointer(&u->times, g_ptr_array_unref);
  g_clear_pointer(&u->conn_types, g_ptr_array_unref);
  g_clear_pointer(&u->locale, g_free);
}

static void signing_key_free(JwtSigningKey *k) {
  if (!k) return;
  g_free(k->key);
  g_free(k->role);
  if (k->scoped) user_limits_clear(&k->tmpl);
  g_free(k);
}

void jwt_claims_free(JwtClaims *c) {
  if (!c) return;
  g_free(c->jti);
  g_free(c->issuer);
  g_free(c->subject);
  g_free(c->name);
  g_free(c->audience);
  g_ptr_array_unref(c->tags);
  g_ptr_array_unref(c->op_signing_keys);
  g_free(c->system_account);
  g_free(c->account_server_url);
  g_free(c->assert_server_version);
  g_hash_table_destroy(c->acc_signing_keys);
  g_hash_table_destroy(c->revocations);
  jwt_permissions_clear(&c->default_perms);
  user_limits_clear(&c->user);
  g_free(c->issuer_account);
  g_free(c);
}

static JwtClaims *claims_new(void) {
  JwtClaims *c = g_new0(JwtClaims, 1);
  c->tags = strv_new();
  c->op_signing_keys = strv_new();
  c->acc_signing_keys = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)signing_key_free);
  c->revocations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  perms_init(&c->default_perms);
  user_limits_init(&c->user);
  return c;
}

/* {"pub":{allow,deny},"sub":{allow,deny},"resp":{max,ttl}} */
static bool parse_permissions(JsonObject *o, JwtPermissions *p, char **error) {
  JsonObject *pub, *sub, *resp;
  if (!get_object(o, "pub", &pub, error) || !get_object(o, "sub", &sub, error) || !get_object(o, "resp", &resp, error))
    return false;
  if (!get_strlist(pub, "allow", p->pub_allow, false, error) || !get_strlist(pub, "deny", p->pub_deny, false, error) ||
      !get_strlist(sub, "allow", p->sub_allow, false, error) || !get_strlist(sub, "deny", p->sub_deny, false, error))
    return false;
  if (resp) {
    p->has_resp = true;
    if (!get_int(resp, "max", &p->resp_max, error) || !get_int(resp, "ttl", &p->resp_ttl_ns, error)) return false;
  }
  return true;
}

static bool parse_user_limits(JsonObject *o, JwtUserLimits *u, char **error) {
  if (!parse_permissions(o, &u->perms, error)) return false;
  if (!get_strlist(o, "src", u->src, true, error) || !get_strlist(o, "allowed_connection_types", u->conn_types, false, error))
    return false;
  JsonNode *times = member(o, "times");
  if (times) {
    if (!JSON_NODE_HOLDS_ARRAY(times)) {
      set_error(error, "json: cannot unmarshal %s into field times", json_node_type_name(times));
      return false;
    }
    JsonArray *a = json_node_get_array(times);
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonNode *e = json_array_get_element(a, i);
      if (!JSON_NODE_HOLDS_OBJECT(e)) {
        set_error(error, "json: cannot unmarshal %s into field times", json_node_type_name(e));
        return false;
      }
      JwtTimeRange *t = g_new0(JwtTimeRange, 1);
      g_ptr_array_add(u->times, t);
      if (!get_string(json_node_get_object(e), "start", &t->start, error) ||
          !get_string(json_node_get_object(e), "end", &t->end, error))
        return false;
    }
  }
  char *locale = NULL;
  if (!get_string(o, "times_location", &locale, error)) {
    g_free(locale);
    return false;
  }
  if (*locale) u->locale = locale;
  else g_free(locale);
  if (!get_int(o, "subs", &u->subs, error) || !get_int(o, "data", &u->data, error) ||
      !get_int(o, "payload", &u->payload, error) || !get_bool(o, "bearer_token", &u->bearer, error))
    return false;
  u->empty = !u->perms.pub_allow->len && !u->perms.pub_deny->len && !u->perms.sub_allow->len &&
             !u->perms.sub_deny->len && !u->perms.has_resp && !u->src->len && !u->times->len && !u->locale &&
             !u->subs && !u->data && !u->payload && !u->bearer && !u->conn_types->len;
  return true;
}

static bool parse_account(JsonObject *nats, JwtClaims *c, char **error) {
  JsonObject *lim;
  if (!get_object(nats, "limits", &lim, error)) return false;
  if (!get_int(lim, "subs", &c->lim_subs, error) || !get_int(lim, "data", &c->lim_data, error) ||
      !get_int(lim, "payload", &c->lim_payload, error) || !get_int(lim, "conn", &c->lim_conn, error) ||
      !get_int(lim, "leaf", &c->lim_leaf, error) || !get_int(lim, "imports", &c->lim_imports, error) ||
      !get_int(lim, "exports", &c->lim_exports, error) || !get_bool(lim, "wildcards", &c->lim_wildcards, error) ||
      !get_bool(lim, "disallow_bearer", &c->lim_disallow_bearer, error))
    return false;
  JsonNode *sk = member(nats, "signing_keys");
  if (sk) {
    if (!JSON_NODE_HOLDS_ARRAY(sk)) {
      set_error(error, "json: cannot unmarshal %s into field signing_keys", json_node_type_name(sk));
      return false;
    }
    JsonArray *a = json_node_get_array(sk);
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonNode *e = json_array_get_element(a, i);
      JwtSigningKey *k = g_new0(JwtSigningKey, 1);
      if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING) {
        k->key = g_strdup(json_node_get_string(e));
      } else if (JSON_NODE_HOLDS_OBJECT(e)) {
        JsonObject *so = json_node_get_object(e);
        JsonNode *kind = member(so, "kind");
        if (!kind || !JSON_NODE_HOLDS_VALUE(kind) || json_node_get_value_type(kind) != G_TYPE_STRING ||
            strcmp(json_node_get_string(kind), "user_scope") != 0) {
          set_error(error, "unknown signing key scope \"\"");
          g_free(k);
          return false;
        }
        k->scoped = true;
        user_limits_init(&k->tmpl);
        /* NewUserScope: an absent template limit means unlimited */
        k->tmpl.subs = k->tmpl.data = k->tmpl.payload = JWT_NO_LIMIT;
        JsonObject *tmpl = NULL;
        bool ok = get_string(so, "key", &k->key, error) && get_string(so, "role", &k->role, error) &&
                  get_object(so, "template", &tmpl, error) && (!tmpl || parse_user_limits(tmpl, &k->tmpl, error));
        if (!ok) {
          signing_key_free(k);
          return false;
        }
      } else {
        /* Go skips elements of other types */
        g_free(k);
        continue;
      }
      g_hash_table_replace(c->acc_signing_keys, k->key, k);
    }
  }
  JsonObject *rev;
  if (!get_object(nats, "revocations", &rev, error)) return false;
  if (rev) {
    g_autoptr(GList) names = json_object_get_members(rev);
    for (GList *l = names; l; l = l->next) {
      int64_t t = 0;
      if (!get_int(rev, l->data, &t, error)) return false;
      int64_t *v = g_new(int64_t, 1);
      *v = t;
      g_hash_table_replace(c->revocations, g_strdup(l->data), v);
    }
  }
  JsonObject *dp;
  if (!get_object(nats, "default_permissions", &dp, error)) return false;
  return !dp || parse_permissions(dp, &c->default_perms, error);
}

static bool parse_payload(JwtClaims *c, JsonObject *root, char **error) {
  if (!get_string(root, "jti", &c->jti, error) || !get_string(root, "iss", &c->issuer, error) ||
      !get_string(root, "sub", &c->subject, error) || !get_string(root, "name", &c->name, error) ||
      !get_string(root, "aud", &c->audience, error) || !get_int(root, "iat", &c->iat, error) ||
      !get_int(root, "exp", &c->exp, error) || !get_int(root, "nbf", &c->nbf, error))
    return false;
  JsonObject *nats;
  if (!get_object(root, "nats", &nats, error)) return false;
  g_autofree char *type = NULL;
  int64_t version = 0;
  if (!get_string(nats, "type", &type, error) || !get_int(nats, "version", &version, error)) return false;
  JsonNode *v1type = member(root, "type");
  if (v1type) {
    set_error(error, "JWT v1 claims are not supported");
    return false;
  }
  if (version > 2) {
    set_error(error, "JWT was generated by a newer version ");
    return false;
  }
  c->version = (int)version;
  g_autoptr(GPtrArray) tags = strv_new();
  if (!get_strlist(nats, "tags", tags, false, error)) return false;
  for (guint i = 0; i < tags->len; i++) {
    /* TagList.Add: trimmed, lower-cased, unique */
    g_autofree char *t = g_ascii_strdown(g_strstrip((char *)tags->pdata[i]), -1);
    bool dup = !*t;
    for (guint k = 0; k < c->tags->len && !dup; k++) dup = strcmp(c->tags->pdata[k], t) == 0;
    if (!dup) g_ptr_array_add(c->tags, g_steal_pointer(&t));
  }
  if (strcmp(type, "operator") == 0) {
    c->type = JWT_CLAIM_OPERATOR;
    return get_strlist(nats, "signing_keys", c->op_signing_keys, false, error) &&
           get_string(nats, "system_account", &c->system_account, error) &&
           get_string(nats, "account_server_url", &c->account_server_url, error) &&
           get_string(nats, "assert_server_version", &c->assert_server_version, error) &&
           get_bool(nats, "strict_signing_key_usage", &c->strict_signing_key_usage, error);
  }
  if (strcmp(type, "account") == 0) {
    c->type = JWT_CLAIM_ACCOUNT;
    return parse_account(nats, c, error);
  }
  if (strcmp(type, "user") == 0) {
    c->type = JWT_CLAIM_USER;
    return parse_user_limits(nats ? nats : NULL, &c->user, error) &&
           get_string(nats, "issuer_account", &c->issuer_account, error);
  }
  if (strcmp(type, "cluster") == 0) set_error(error, "ClusterClaims are not supported");
  else if (strcmp(type, "server") == 0) set_error(error, "ServerClaims are not supported");
  else set_error(error, "unsupported claim type %s", type);
  return false;
}

JwtClaims *jwt_decode(const char *token, char **error) {
  if (!token) {
    set_error(error, "expected 3 chunks");
    return NULL;
  }
  size_t tlen = strlen(token);
  if (tlen > JWT_MAX_TOKEN_LEN) {
    set_error(error, "token too large");
    return NULL;
  }
  const char *d1 = strchr(token, '.');
  const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  if (!d1 || !d2 || strchr(d2 + 1, '.')) {
    set_error(error, "expected 3 chunks");
    return NULL;
  }
  size_t hlen = 0, plen = 0, slen = 0;
  g_autofree guint8 *hdr = b64url_decode(token, (size_t)(d1 - token), &hlen);
  if (!hdr) {
    set_error(error, "illegal base64 data in header");
    return NULL;
  }
  g_autoptr(JsonParser) jp = json_parser_new();
  if (!json_parser_load_from_data(jp, (const char *)hdr, (gssize)hlen, NULL) || !json_parser_get_root(jp) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(jp))) {
    set_error(error, "invalid header JSON");
    return NULL;
  }
  JsonObject *ho = json_node_get_object(json_parser_get_root(jp));
  g_autofree char *typ = NULL, *alg = NULL;
  if (!get_string(ho, "typ", &typ, error) || !get_string(ho, "alg", &alg, error)) return NULL;
  if (g_ascii_strcasecmp(typ, "JWT") != 0) {
    set_error(error, "not supported type \"%s\"", typ);
    return NULL;
  }
  if (g_ascii_strcasecmp(alg, "ed25519-nkey") != 0) {
    set_error(error, "unexpected \"%s\" algorithm", alg);
    return NULL;
  }
  g_autofree guint8 *payload = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &plen);
  if (!payload) {
    set_error(error, "illegal base64 data in payload");
    return NULL;
  }
  g_autoptr(JsonParser) pp = json_parser_new();
  if (!json_parser_load_from_data(pp, (const char *)payload, (gssize)plen, NULL) || !json_parser_get_root(pp) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(pp))) {
    set_error(error, "invalid payload JSON");
    return NULL;
  }
  JwtClaims *c = claims_new();
  if (!parse_payload(c, json_node_get_object(json_parser_get_root(pp)), error)) {
    jwt_claims_free(c);
    return NULL;
  }
  g_autofree guint8 *sig = b64url_decode(d2 + 1, strlen(d2 + 1), &slen);
  if (!sig) {
    set_error(error, "illegal base64 data in signature");
    jwt_claims_free(c);
    return NULL;
  }
  /* The issuer may carry any public prefix for the check itself; the claim
   * type then restricts which (Go's ExpectedPrefixes). */
  static const uint8_t prefixes[] = {NKEY_PREFIX_OPERATOR, NKEY_PREFIX_ACCOUNT, NKEY_PREFIX_USER,
                                     NKEY_PREFIX_SERVER, NKEY_PREFIX_CLUSTER};
  uint8_t pub[32];
  int found = -1;
  for (size_t i = 0; i < G_N_ELEMENTS(prefixes) && found < 0; i++)
    if (nkey_decode_public(c->issuer, prefixes[i], pub)) found = prefixes[i];
  if (found < 0 || slen != crypto_sign_BYTES ||
      crypto_sign_verify_detached(sig, (const unsigned char *)token, (size_t)(d2 - token), pub) != 0) {
    set_error(error, "claim failed V2 signature verification");
    jwt_claims_free(c);
    return NULL;
  }
  bool prefix_ok = c->type == JWT_CLAIM_OPERATOR ? found == NKEY_PREFIX_OPERATOR
                   : c->type == JWT_CLAIM_ACCOUNT ? (found == NKEY_PREFIX_OPERATOR || found == NKEY_PREFIX_ACCOUNT)
                                                  : found == NKEY_PREFIX_ACCOUNT;
  if (!prefix_ok) {
    set_error(error, "unable to validate expected prefixes");
    jwt_claims_free(c);
    return NULL;
  }
  return c;
}

/* ---- validation ------------------------------------------------------------------ */

static void add_issue(GPtrArray *issues, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void add_issue(GPtrArray *issues, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (issues) g_ptr_array_add(issues, s);
  else g_free(s);
}

static void check_subject(const char *s, GPtrArray *issues, int *n) {
  if (!*s) add_issue(issues, "subject cannot be empty"), (*n)++;
  if (strchr(s, ' ')) add_issue(issues, "subject \"%s\" cannot have spaces", s), (*n)++;
}

static void check_permission_list(GPtrArray *list, bool permit_queue, GPtrArray *issues, int *n) {
  for (guint i = 0; i < list->len; i++) {
    const char *subj = list->pdata[i];
    g_auto(GStrv) tk = g_strsplit(subj, " ", -1);
    guint ntk = g_strv_length(tk);
    if (ntk <= 1) {  /* g_strsplit gives no token for "" where Go gives one empty one */
      check_subject(ntk ? tk[0] : "", issues, n);
    } else if (ntk == 2) {
      check_subject(tk[0], issues, n);
      check_subject(tk[1], issues, n);
      if (!permit_queue) add_issue(issues, "Permission Subject \"%s\" is not allowed to contain queue", subj), (*n)++;
    } else {
      add_issue(issues, "Permission Subject \"%s\" contains too many spaces", subj), (*n)++;
    }
  }
}

/* Go's net.ParseCIDR: "ip/bits". */
static bool parse_cidr(const char *cidr, uint8_t addr[16], int *family, int *bits) {
  const char *slash = strchr(cidr, '/');
  if (!slash || !slash[1]) return false;
  g_autofree char *ip = g_strndup(cidr, (gsize)(slash - cidr));
  char *end = NULL;
  long b = strtol(slash + 1, &end, 10);
  if (*end || !g_ascii_isdigit(slash[1])) return false;
  if (inet_pton(AF_INET, ip, addr) == 1) {
    *family = AF_INET;
    if (b < 0 || b > 32) return false;
  } else if (inet_pton(AF_INET6, ip, addr) == 1) {
    *family = AF_INET6;
    if (b < 0 || b > 128) return false;
  } else {
    return false;
  }
  *bits = (int)b;
  return true;
}

/* "15:04:05" as Go's time.Parse reads it: two-digit fields in range. */
static bool parse_clock(const char *s, int *secs) {
  if (!s || strlen(s) != 8 || s[2] != ':' || s[5] != ':') return false;
  for (int i = 0; i < 8; i++)
    if (i != 2 && i != 5 && !g_ascii_isdigit(s[i])) return false;
  int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0', sec = (s[6] - '0') * 10 + s[7] - '0';
  if (h > 23 || m > 59 || sec > 59) return false;
  *secs = h * 3600 + m * 60 + sec;
  return true;
}

static GTimeZone *load_zone(const char *locale) {
  if (!locale || !*locale || strcmp(locale, "Local") == 0) return g_time_zone_new_local();
  if (strcmp(locale, "UTC") == 0) return g_time_zone_new_utc();
  return g_time_zone_new_identifier(locale);  /* NULL when unknown */
}

static void check_user_limits(const JwtUserLimits *u, GPtrArray *issues, int *n) {
  check_permission_list(u->perms.pub_allow, false, issues, n);
  check_permission_list(u->perms.pub_deny, false, issues, n);
  check_permission_list(u->perms.sub_allow, true, issues, n);
  check_permission_list(u->perms.sub_deny, true, issues, n);
  for (guint i = 0; i < u->src->len; i++) {
    uint8_t a[16];
    int fam, bits;
    if (!parse_cidr(u->src->pdata[i], a, &fam, &bits))
      add_issue(issues, "invalid cidr \"%s\" in user src limits", (char *)u->src->pdata[i]), (*n)++;
  }
  for (guint i = 0; i < u->times->len; i++) {
    JwtTimeRange *t = u->times->pdata[i];
    int x;
    if (!*t->start) add_issue(issues, "time ranges start must contain a start"), (*n)++;
    else if (!parse_clock(t->start, &x)) add_issue(issues, "start in time range is invalid \"%s\"", t->start), (*n)++;
    if (!*t->end) add_issue(issues, "time ranges end must contain an end"), (*n)++;
    else if (!parse_clock(t->end, &x)) add_issue(issues, "end in time range is invalid \"%s\"", t->end), (*n)++;
  }
  if (u->locale) {
    GTimeZone *tz = load_zone(u->locale);
    if (!tz) add_issue(issues, "could not parse iana time zone by name: unknown time zone %s", u->locale), (*n)++;
    else g_time_zone_unref(tz);
  }
}

bool jwt_claims_validate(const JwtClaims *c, int64_t now, GPtrArray *issues) {
  int n = 0;
  if (c->exp > 0 && now > c->exp) add_issue(issues, "claim is expired"), n++;
  if (c->nbf > 0 && c->nbf > now) add_issue(issues, "claim is not yet valid"), n++;
  switch (c->type) {
    case JWT_CLAIM_USER:
      check_user_limits(&c->user, issues, &n);
      if (*c->issuer_account && !nkey_valid(c->issuer_account, NKEY_PREFIX_ACCOUNT))
        add_issue(issues, "account_id is not an account public key"), n++;
      break;
    case JWT_CLAIM_ACCOUNT: {
      if (!nkey_valid(c->subject, NKEY_PREFIX_ACCOUNT)) add_issue(issues, "subject is not an account public key"), n++;
      GHashTableIter it;
      gpointer v;
      g_hash_table_iter_init(&it, c->acc_signing_keys);
      while (g_hash_table_iter_next(&it, NULL, &v)) {
        JwtSigningKey *k = v;
        if (!nkey_valid(k->key, NKEY_PREFIX_ACCOUNT)) {
          if (k->scoped) add_issue(issues, "%s is not an account public key", k->key);
          else add_issue(issues, "\"%s\" is not a valid account signing key", k->key);
          n++;
        }
        if (k->scoped) check_user_limits(&k->tmpl, issues, &n);
      }
      check_permission_list(c->default_perms.pub_allow, false, issues, &n);
      check_permission_list(c->default_perms.pub_deny, false, issues, &n);
      check_permission_list(c->default_perms.sub_allow, true, issues, &n);
      check_permission_list(c->default_perms.sub_deny, true, issues, &n);
      break;
    }
    case JWT_CLAIM_OPERATOR:
      for (guint i = 0; i < c->op_signing_keys->len; i++)
        if (!nkey_valid(c->op_signing_keys->pdata[i], NKEY_PREFIX_OPERATOR))
          add_issue(issues, "%s is not an operator public key", (char *)c->op_signing_keys->pdata[i]), n++;
      if (*c->system_account && !nkey_valid(c->system_account, NKEY_PREFIX_ACCOUNT))
        add_issue(issues, "%s is not an account public key", c->system_account), n++;
      break;
    default:
      break;
  }
  return n == 0;
}

bool jwt_src_allows(const JwtClaims *c, const char *host) {
  GPtrArray *src = c->user.src;
  if (!src->len) return true;
  if (!host || !*host) return false;
  uint8_t ip[16];
  int fam;
  if (inet_pton(AF_INET, host, ip) == 1) fam = AF_INET;
  else if (inet_pton(AF_INET6, host, ip) == 1) fam = AF_INET6;
  else return false;
  for (guint i = 0; i < src->len; i++) {
    uint8_t net[16];
    int nfam, bits;
    if (!parse_cidr(src->pdata[i], net, &nfam, &bits)) return false;
    /* Go compares v4 addresses with v4 networks, also for v4-mapped v6 */
    const uint8_t *a = ip;
    int afam = fam;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (fam == AF_INET6 && nfam == AF_INET && memcmp(ip, mapped, 12) == 0) a = ip + 12, afam = AF_INET;
    if (afam != nfam) continue;
    bool match = true;
    for (int b = 0; b < bits && match; b++)
      match = ((a[b / 8] ^ net[b / 8]) & (0x80 >> (b % 8))) == 0;
    if (match) return true;
  }
  return false;
}

bool jwt_times_allow(const JwtClaims *c, int64_t now_us, int64_t *valid_for_us) {
  *valid_for_us = 0;
  GPtrArray *times = c->user.times;
  if (!times->len) return true;
  GTimeZone *tz = load_zone(c->user.locale);
  if (!tz) return false;
  GDateTime *now = g_date_time_new_from_unix_utc(now_us / G_USEC_PER_SEC);
  GDateTime *local = g_date_time_to_timezone(now, tz);
  g_date_time_unref(now);
  bool ok = false;
  for (guint i = 0; i < times->len && !ok; i++) {
    JwtTimeRange *t = times->pdata[i];
    int s, e;
    if (!parse_clock(t->start, &s) || !parse_clock(t->end, &e)) break;
    GDateTime *day = g_date_time_new(tz, g_date_time_get_year(local), g_date_time_get_month(local),
                                     g_date_time_get_day_of_month(local), 0, 0, 0);
    GDateTime *start = g_date_time_add_seconds(day, s);
    /* an end before the start means the range ends the next day */
    GDateTime *end = g_date_time_add_seconds(day, e + (s > e ? 86400 : 0));
    if (g_date_time_compare(start, local) < 0 && g_date_time_compare(end, local) > 0) {
      ok = true;
      *valid_for_us = g_date_time_difference(end, local);
    }
    g_date_time_unref(day);
    g_date_time_unref(start);
    g_date_time_unref(end);
  }
  g_date_time_unref(local);
  g_time_zone_unref(tz);
  return ok;
}

bool jwt_is_revoked(GHashTable *revocations, const char *pubkey, int64_t iat) {
  if (!revocations || !g_hash_table_size(revocations)) return false;
  const int64_t *t = g_hash_table_lookup(revocations, pubkey);
  if (t && *t >= iat) return true;
  t = g_hash_table_lookup(revocations, "*");
  return t && *t >= iat;
}

/* ---- permission templates --------------------------------------------------------- */

static bool is_template(const char *tk) {
  size_t n = strlen(tk);
  return n >= 4 && g_str_has_prefix(tk, "{{") && g_str_has_suffix(tk, "}}");
}

/* Values of tags "prefix:value" in tags for tag name `name`. */
static GPtrArray *tag_values(GPtrArray *tags, const char *name) {
  GPtrArray *out = g_ptr_array_new();
  if (!tags) return out;
  g_autofree char *prefix = g_strdup_printf("%s:", name);
  for (guint i = 0; i < tags->len; i++)
    if (g_str_has_prefix(tags->pdata[i], prefix)) g_ptr_array_add(out, (char *)tags->pdata[i] + strlen(prefix));
  return out;
}

/* Expands one list; false when fail_bad and a generated subject is invalid. */
static bool expand_list(GPtrArray *in, bool fail_bad, const JwtClaims *u, const char *acc_name, GPtrArray *acc_tags,
                        GPtrArray *out) {
  bool any = false;
  for (guint i = 0; i < in->len && !any; i++) {
    g_auto(GStrv) tks = g_strsplit(in->pdata[i], ".", -1);
    for (int k = 0; tks[k] && !any; k++) any = is_template(tks[k]);
  }
  if (!any) {
    for (guint i = 0; i < in->len; i++) g_ptr_array_add(out, g_strdup(in->pdata[i]));
    return true;
  }
  for (guint i = 0; i < in->len; i++) {
    g_auto(GStrv) tks = g_strsplit(in->pdata[i], ".", -1);
    guint ntk = g_strv_length(tks);
    /* per token: fixed text, or the index of a tag value list */
    g_autoptr(GPtrArray) lists = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    g_autofree int *slot = g_new0(int, ntk);
    g_autofree char **fixed = g_new0(char *, ntk + 1);
    for (guint k = 0; k < ntk; k++) {
      slot[k] = -1;
      fixed[k] = tks[k];
      if (!is_template(tks[k])) continue;
      g_autofree char *op = g_ascii_strdown(tks[k] + 2, (gssize)strlen(tks[k]) - 4);
      if (strcmp(op, "name()") == 0) fixed[k] = u->name;
      else if (strcmp(op, "subject()") == 0) fixed[k] = u->subject;
      else if (strcmp(op, "account-name()") == 0) fixed[k] = (char *)acc_name;
      else if (strcmp(op, "account-subject()") == 0) fixed[k] = u->issuer_account;
      else if ((g_str_has_prefix(op, "tag(") || g_str_has_prefix(op, "account-tag(")) && g_str_has_suffix(op, ")")) {
        bool acct = g_str_has_prefix(op, "account-tag(");
        const char *nm = op + (acct ? 12 : 4);
        g_autofree char *tag = g_strndup(nm, strlen(nm) - 1);
        GPtrArray *vals = tag_values(acct ? acc_tags : u->tags, tag);
        fixed[k] = "";
        if (vals->len) {
          slot[k] = (int)lists->len;
          g_ptr_array_add(lists, vals);
        } else {
          /* nothing found: an empty token makes the subject invalid */
          g_ptr_array_unref(vals);
        }
      } else {
        fixed[k] = " ";  /* unknown function: invalid on purpose */
      }
    }
    /* every combination of the tag values (cartesian product) */
    guint nl = lists->len;
    g_autofree guint *idx = g_new0(guint, nl + 1);
    for (;;) {
      GString *s = g_string_new(NULL);
      for (guint k = 0; k < ntk; k++) {
        if (k) g_string_append_c(s, '.');
        if (slot[k] >= 0) g_string_append(s, ((GPtrArray *)lists->pdata[slot[k]])->pdata[idx[slot[k]]]);
        else g_string_append(s, fixed[k] ? fixed[k] : "");
      }
      if (subject_is_valid(s->str, s->len)) {
        g_ptr_array_add(out, g_string_free(s, FALSE));
      } else {
        g_string_free(s, TRUE);
        if (fail_bad) return false;
      }
      int j = (int)nl - 1;
      for (; j >= 0; j--) {
        if (++idx[j] < ((GPtrArray *)lists->pdata[j])->len) break;
        idx[j] = 0;
      }
      if (j < 0) break;
    }
  }
  return true;
}

bool jwt_apply_template(const JwtUserLimits *tmpl, const JwtClaims *user, const char *account_name,
                        GPtrArray *account_tags, JwtPermissions *out) {
  perms_init(out);
  out->has_resp = tmpl->perms.has_resp;
  out->resp_max = tmpl->perms.resp_max;
  out->resp_ttl_ns = tmpl->perms.resp_ttl_ns;
  const char *an = account_name ? account_name : "";
  if (!expand_list(tmpl->perms.sub_allow, false, user, an, account_tags, out->sub_allow) ||
      !expand_list(tmpl->perms.sub_deny, true, user, an, account_tags, out->sub_deny) ||
      !expand_list(tmpl->perms.pub_allow, false, user, an, account_tags, out->pub_allow) ||
      !expand_list(tmpl->perms.pub_deny, true, user, an, account_tags, out->pub_deny)) {
    jwt_permissions_clear(out);
    return false;
  }
  /* an allow list that expanded to nothing must not become "allow all" */
  if (tmpl->perms.sub_allow->len && !out->sub_allow->len) g_ptr_array_add(out->sub_deny, g_strdup(">"));
  if (tmpl->perms.pub_allow->len && !out->pub_allow->len) g_ptr_array_add(out->pub_deny, g_strdup(">"));
  return true;
}

/* ---- misc ------------------------------------------------------------------------- */

char *jwt_payload_json(const char *token) {
  const char *d1 = token ? strchr(token, '.') : NULL;
  const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  if (!d2) return NULL;
  size_t len = 0;
  return (char *)b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &len);
}

char *jwt_parse_decorated(const char *text) {
  /* A decorated file: "-----BEGIN NATS OPERATOR JWT-----\n<jwt>\n------END ...". */
  const char *p = strstr(text, "-----BEGIN");
  if (p) {
    const char *nl = strchr(p, '\n');
    if (nl) {
      const char *start = nl + 1;
      const char *end = strstr(start, "------END");
      if (!end) end = strstr(start, "-----END");
      if (end) return g_strstrip(g_strndup(start, (gsize)(end - start)));
    }
  }
  return g_strstrip(g_strdup(text));
}

bool jwt_parse_server_version(const char *v, int *major, int *minor, int *update, char **error) {
  *major = *minor = *update = 0;
  if (!v || !*v) return true;
  g_auto(GStrv) parts = g_strsplit(v, ".", -1);
  if (g_strv_length(parts) != 3) {
    set_error(error, "asserted server version cannot be parsed: invalid version format %s", v);
    return false;
  }
  int *out[3] = {major, minor, update};
  for (int i = 0; i < 3; i++) {
    char *end = NULL;
    long n = strtol(parts[i], &end, 10);
    if (!*parts[i] || *end || n < 0) {
      set_error(error, "asserted server version cannot be parsed: invalid version format %s", v);
      return false;
    }
    *out[i] = (int)n;
  }
  return true;
}

char *jwt_format_time(int64_t unix_secs) {
  GDateTime *dt = g_date_time_new_from_unix_local(unix_secs);
  if (!dt) return g_strdup_printf("%" G_GINT64_FORMAT, unix_secs);
  char *s = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S %z %Z");
  g_date_time_unref(dt);
  return s;
}
