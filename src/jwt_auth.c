/* jwt_auth.c — decentralized (operator mode) authentication (see jwt_auth.h).
 *
 * Owns: the operator-mode options (JwtAuthConf, through Options), the
 * server's JwtAuth (trusted keys, the MEMORY resolver's account JWTs, and a
 * JwtAccount per account built from a JWT), and each JWT client's JwtClient
 * (its per-connection AuthUser and expiry timer).
 *
 * Accounts are created on first use: a CONNECT naming an account the server
 * does not have yet fetches its JWT from the resolver, checks it (trusted
 * issuer, not expired, valid) and builds the Account with the claim's limits;
 * the JwtAccount keeps the claims for signing keys, revocations, bearer
 * policy, default permissions and the account's own expiry timer.  Users get
 * an AuthUser of their own, owned by the connection, carrying permissions
 * and limits from the user JWT (or the scoped signing key's template).
 *
 * Only the MEMORY resolver exists.  A URL resolver (given, or implied by a
 * lone operator) passes -t as in nats-server but fails at startup; the
 * directory (full/cache NATS) resolvers are refused at config time.
 * Thread: protocol loop; the conf functions run on the main thread before
 * it starts. */
#include "jwt_auth.h"

#include <string.h>

#include "accounts.h"
#include "auth.h"
#include "client.h"
#include "const.h"
#include "jwt.h"
#include "log.h"
#include "nkey.h"
#include "opts.h"
#include "server.h"

typedef struct JwtAccount {
  Server *srv;             /* borrowed */
  Account *acc;            /* borrowed: s->accounts owns it */
  JwtClaims *claims;       /* owned */
  char *jwt;               /* owned: the raw account JWT */
  bool expired;
  Timer exp_timer;         /* account JWT expiry */
  AuthPermissions *default_perms; /* one ref; NULL = none */
} JwtAccount;

struct JwtAuth {
  GPtrArray *trusted;      /* owned char*: trusted operator keys */
  GHashTable *strict;      /* owned set: operator signing keys of strict operators */
  GHashTable *resolver;    /* owned: pubkey → JWT (MEMORY resolver store); NULL = no resolver */
  GHashTable *accounts;    /* owned: account pubkey (borrowed from Account) → JwtAccount* (owned) */
  GHashTable *pinned;      /* owned set or NULL */
  uint64_t pinned_fails;   /* users refused by resolver_pinned_accounts (varz) */
};

struct JwtClient {
  Client *c;               /* borrowed: the owner */
  AuthUser *user;          /* owned */
  Timer expiry;
  char *issuer_key;        /* owned: signing key, or the account (connz issuer_key) */
  char *name_tag;          /* owned: the user JWT's name */
  GPtrArray *tags;         /* owned char*: the user JWT's tags */
};

/* ---- options ---------------------------------------------------------------------- */

void jwt_auth_conf_free(JwtAuthConf *c) {
  if (!c) return;
  if (c->operators) g_ptr_array_unref(c->operators);
  if (c->operator_jwts) g_ptr_array_unref(c->operator_jwts);
  if (c->operator_claims) g_ptr_array_unref(c->operator_claims);
  if (c->trusted_keys) g_ptr_array_unref(c->trusted_keys);
  if (c->preload) g_hash_table_destroy(c->preload);
  if (c->pinned) g_ptr_array_unref(c->pinned);
  g_free(c->resolver_url);
  g_free(c);
}

static JwtAuthConf *conf(Options *o) {
  if (!o->jwt) o->jwt = g_new0(JwtAuthConf, 1);
  return o->jwt;
}

static void set_url_resolver(JwtAuthConf *jc, const char *base, const char *suffix) {
  jc->resolver = JWT_RESOLVER_URL;
  g_free(jc->resolver_url);
  g_autofree char *u = g_strconcat(base, suffix, NULL);
  jc->resolver_url = g_str_has_suffix(u, "/") ? g_strdup(u) : g_strconcat(u, "/", NULL);
}

/* Go's readOperatorJWT: a file (maybe decorated), or the JWT inline.
 * *kept: the JWT text as nats-server keeps it (an undecorated file whole,
 * newline included). */
static JwtClaims *read_operator(const char *fname, char **kept, char **error) {
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!g_file_get_contents(fname, &contents, &len, NULL)) {
    if (!g_str_has_prefix(fname, "eyJ")) {
      *error = g_strdup_printf("open %s: no such file or directory", fname);
      return NULL;
    }
    contents = g_strdup(fname);
  }
  g_autofree char *token = jwt_parse_decorated(contents);
  *kept = strstr(contents, "-----BEGIN") ? g_strdup(token) : g_strdup(contents);
  JwtClaims *c = jwt_decode(token, error);
  if (c && c->type != JWT_CLAIM_OPERATOR) {
    jwt_claims_free(c);
    *error = g_strdup("not operator claim");
    return NULL;
  }
  return c;
}

void jwt_auth_conf_operator(Options *o, const ConfValue *v, GPtrArray *errors) {
  JwtAuthConf *jc = conf(o);
  if (jc->operators) g_ptr_array_unref(jc->operators);
  jc->operators = g_ptr_array_new_with_free_func((GDestroyNotify)jwt_claims_free);
  if (jc->operator_jwts) g_ptr_array_unref(jc->operator_jwts);
  jc->operator_jwts = g_ptr_array_new_with_free_func(g_free);
  if (jc->operator_claims) g_ptr_array_unref(jc->operator_claims);
  jc->operator_claims = g_ptr_array_new_with_free_func(g_free);
  if (conf_value_kind(v) != CONF_STRING) {
    /* nats-server takes a string only: even an array of file names is an
     * "[]interface {}" it does not handle */
    conf_report(errors, v, "error parsing operators: unsupported type %s", conf_value_go_type(v));
    return;
  }
  char *err = NULL, *kept = NULL;
  JwtClaims *op = read_operator(conf_value_string(v), &kept, &err);
  if (!op) {
    conf_report(errors, v, "error parsing operator JWT: %s", err);
    g_free(err);
    g_free(kept);
    return;
  }
  g_ptr_array_add(jc->operators, op);
  g_autofree char *trimmed = g_strstrip(g_strdup(kept));
  char *claims = jwt_payload_json(trimmed);
  g_ptr_array_add(jc->operator_claims, claims ? claims : g_strdup("{}"));
  g_ptr_array_add(jc->operator_jwts, kept);
  /* One operator and no resolver yet: nats-server makes a URL resolver
   * from the operator's account server URL (even an empty one). */
  if (jc->resolver == JWT_RESOLVER_NONE) set_url_resolver(jc, op->account_server_url, "/accounts");
  if (!o->system_account && *op->system_account) o->system_account = g_strdup(op->system_account);
}

static GPtrArray *string_list(const ConfValue *v, const char *what, GPtrArray *errors) {
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  if (conf_value_kind(v) == CONF_STRING) {
    g_ptr_array_add(out, g_strdup(conf_value_string(v)));
  } else if (conf_value_kind(v) == CONF_ARRAY) {
    for (size_t i = 0; i < conf_value_array_len(v); i++) {
      const ConfValue *e = conf_value_array_get(v, i);
      if (conf_value_kind(e) != CONF_STRING) {
        conf_report(errors, e, "error parsing %s: unsupported type in array %s", what, conf_value_go_type(e));
        continue;
      }
      g_ptr_array_add(out, g_strdup(conf_value_string(e)));
    }
  } else {
    conf_report(errors, v, "error parsing %s: unsupported type %s", what, conf_value_go_type(v));
    g_ptr_array_unref(out);
    return NULL;
  }
  return out;
}

void jwt_auth_conf_trusted(Options *o, const ConfValue *v, GPtrArray *errors) {
  JwtAuthConf *jc = conf(o);
  GPtrArray *keys = string_list(v, "trusted", errors);
  if (!keys) return;
  if (jc->trusted_keys) g_ptr_array_unref(jc->trusted_keys);
  jc->trusted_keys = keys;
  for (guint i = 0; i < keys->len; i++) {
    uint8_t raw[32];
    if (!nkey_decode_public(keys->pdata[i], NKEY_PREFIX_OPERATOR, raw))
      conf_report(errors, v, "trust key \"%s\" required to be a valid public operator nkey", (char *)keys->pdata[i]);
  }
}

void jwt_auth_conf_resolver(Options *o, const ConfValue *v, GPtrArray *errors) {
  JwtAuthConf *jc = conf(o);
  jc->resolver = JWT_RESOLVER_NONE;
  g_clear_pointer(&jc->resolver_url, g_free);
  if (conf_value_kind(v) == CONF_MAP) {
    conf_report(errors, v, "field \"resolver\" with dir/type (NATS account resolver) is not supported by cnatsd yet");
    return;
  }
  if (conf_value_kind(v) != CONF_STRING) {
    conf_report(errors, v, "error parsing operator resolver, wrong type %s", conf_value_go_type(v));
    return;
  }
  /* nats-server: (?i)(MEM|MEMORY)\s* anywhere in the string, else URL(...) */
  g_autofree char *up = g_ascii_strup(conf_value_string(v), -1);
  if (strstr(up, "MEM")) {
    jc->resolver = JWT_RESOLVER_MEMORY;
    return;
  }
  const char *open = strchr(conf_value_string(v), '(');
  if (strstr(up, "URL") && open) {
    /* URL("http://host/path"): accepted here, refused at startup */
    g_autofree char *inner = g_strstrip(g_strdup(open + 1));
    char *close = strrchr(inner, ')');
    if (close) *close = '\0';
    g_strstrip(inner);
    size_t n = strlen(inner);
    if (n >= 2 && inner[0] == '"' && inner[n - 1] == '"') inner[n - 1] = '\0', memmove(inner, inner + 1, n - 1);
    set_url_resolver(jc, inner, "");
    return;
  }
  conf_report(errors, v,
         "error parsing account resolver, should be MEM or  URL(\"url\") or a map containing dir and type "
         "state=[FULL|CACHE])");
}

void jwt_auth_conf_preload(Options *o, const ConfValue *v, GPtrArray *errors) {
  JwtAuthConf *jc = conf(o);
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "preload should be a map of account_public_key:account_jwt");
    return;
  }
  if (jc->preload) g_hash_table_destroy(jc->preload);
  jc->preload = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const ConfValue *e = conf_value_map_value(v, i);
    if (conf_value_kind(e) != CONF_STRING) {
      conf_report(errors, e, "preload map value should be a string JWT");
      continue;
    }
    g_autofree char *err = NULL;
    g_autoptr(JwtClaims) c = jwt_decode(conf_value_string(e), &err);
    if (!c || c->type != JWT_CLAIM_ACCOUNT) {
      conf_report(errors, e, "invalid account JWT");
      continue;
    }
    g_hash_table_replace(jc->preload, g_strdup(conf_value_map_key(v, i)), g_strdup(conf_value_string(e)));
  }
}

void jwt_auth_conf_pinned(Options *o, const ConfValue *v, GPtrArray *errors) {
  JwtAuthConf *jc = conf(o);
  GPtrArray *keys = string_list(v, "resolver_pinned_accounts", errors);
  if (!keys) return;
  if (jc->pinned) g_ptr_array_unref(jc->pinned);
  jc->pinned = keys;
}

char *jwt_auth_validate_options(Options *o) {
  JwtAuthConf *jc = o->jwt;
  if (!jc || !jc->operators || jc->operators->len == 0 || jc->validated) return NULL;
  jc->validated = true;
  if (jc->resolver == JWT_RESOLVER_NONE) return g_strdup("operators require an account resolver to be configured");
  if (o->accounts && o->accounts->len) return g_strdup("operators do not allow Accounts to be configured directly");
  if (o->users && o->users->len) return g_strdup("operators do not allow users to be configured directly");
  if (jc->trusted_keys && jc->trusted_keys->len)
    return g_strdup("conflicting options for 'TrustedKeys' and 'TrustedOperators'");
  if (o->system_account && *o->system_account) {
    bool found = false, non_empty = false;
    for (guint i = 0; i < jc->operators->len; i++) {
      JwtClaims *op = jc->operators->pdata[i];
      if (*op->system_account) non_empty = true;
      if (strcmp(op->system_account, o->system_account) == 0) {
        found = true;
        break;
      }
    }
    if (non_empty && !found) return g_strdup("system_account in config and operator JWT must be identical");
  }
  int smaj, smin, supd;
  jwt_parse_server_version(NATS_VERSION, &smaj, &smin, &supd, NULL);
  for (guint i = 0; i < jc->operators->len; i++) {
    JwtClaims *op = jc->operators->pdata[i];
    int maj, min, upd;
    char *err = NULL;
    if (!jwt_parse_server_version(op->assert_server_version, &maj, &min, &upd, &err)) {
      char *m = g_strdup_printf("operator %s expects version %s got error instead: %s", op->subject,
                                op->assert_server_version, err);
      g_free(err);
      return m;
    }
    if (maj > smaj)
      return g_strdup_printf("operator %s expected major version %d > server major version %d", op->subject, maj, smaj);
    if (smaj > maj) continue;
    if (min > smin)
      return g_strdup_printf("operator %s expected minor version %d > server minor version %d", op->subject, min, smin);
    if (smin > min) continue;
    if (upd > supd)
      return g_strdup_printf("operator %s expected update version %d > server update version %d", op->subject, upd,
                             supd);
  }
  /* The operators' keys become the trusted keys. */
  if (!jc->trusted_keys) jc->trusted_keys = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < jc->operators->len; i++) {
    JwtClaims *op = jc->operators->pdata[i];
    if (!op->strict_signing_key_usage) g_ptr_array_add(jc->trusted_keys, g_strdup(op->subject));
    for (guint k = 0; k < op->op_signing_keys->len; k++)
      g_ptr_array_add(jc->trusted_keys, g_strdup(op->op_signing_keys->pdata[k]));
  }
  for (guint i = 0; i < jc->trusted_keys->len; i++) {
    uint8_t raw[32];
    if (!nkey_decode_public(jc->trusted_keys->pdata[i], NKEY_PREFIX_OPERATOR, raw))
      return g_strdup_printf("trusted Keys \"%s\" are required to be a valid public operator nkey",
                             (char *)jc->trusted_keys->pdata[i]);
  }
  if (jc->pinned) {
    for (guint i = 0; i < jc->pinned->len; i++) {
      uint8_t raw[32];
      if (!nkey_decode_public(jc->pinned->pdata[i], NKEY_PREFIX_ACCOUNT, raw))
        return g_strdup_printf("pinned account key \"%s\" is not a valid public account nkey",
                               (char *)jc->pinned->pdata[i]);
    }
    if (o->system_account && *o->system_account) g_ptr_array_add(jc->pinned, g_strdup(o->system_account));
  }
  return NULL;
}

/* ---- accounts from JWTs ----------------------------------------------------------- */

static void jwt_account_free(JwtAccount *ja) {
  if (!ja) return;
  if (ja->srv && ja->srv->loop) loop_timer_stop(ja->srv->loop, &ja->exp_timer);
  jwt_claims_free(ja->claims);
  g_free(ja->jwt);
  auth_permissions_unref(ja->default_perms);
  g_free(ja);
}

static bool trusted_issuer(JwtAuth *ja, const char *issuer) {
  for (guint i = 0; i < ja->trusted->len; i++)
    if (strcmp(ja->trusted->pdata[i], issuer) == 0) return true;
  return false;
}

static GPtrArray *strv_copy(GPtrArray *in) {
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < in->len; i++) g_ptr_array_add(out, g_strdup(in->pdata[i]));
  return out;
}

/* Go's buildPermissionsFromJwt (+ validateResponsePermissions). NULL = none. */
static AuthPermissions *perms_from_jwt(const JwtPermissions *jp) {
  bool pub = jp->pub_allow->len || jp->pub_deny->len, sub = jp->sub_allow->len || jp->sub_deny->len;
  if (!pub && !sub && !jp->has_resp) return NULL;
  AuthPermissions *p = g_new0(AuthPermissions, 1);
  p->refcount = 1;
  if (pub) {
    p->publish = g_new0(AuthSubjectPerm, 1);
    if (jp->pub_allow->len) p->publish->allow = strv_copy(jp->pub_allow);
    if (jp->pub_deny->len) p->publish->deny = strv_copy(jp->pub_deny);
  }
  if (sub) {
    p->subscribe = g_new0(AuthSubjectPerm, 1);
    if (jp->sub_allow->len) p->subscribe->allow = strv_copy(jp->sub_allow);
    if (jp->sub_deny->len) p->subscribe->deny = strv_copy(jp->sub_deny);
  }
  if (jp->has_resp) {
    p->has_response = true;
    p->resp_max_msgs = jp->resp_max ? jp->resp_max : DEFAULT_ALLOW_RESPONSE_MAX_MSGS;
    p->resp_expires_us = jp->resp_ttl_ns ? jp->resp_ttl_ns / 1000 : DEFAULT_ALLOW_RESPONSE_EXPIRATION_US;
    if (!p->publish) p->publish = g_new0(AuthSubjectPerm, 1);
    if (!p->publish->allow) p->publish->allow = g_ptr_array_new_with_free_func(g_free);
  }
  return p;
}

static void account_expired_fired(void *data) {
  JwtAccount *ja = data;
  ja->expired = true;
  /* every client of the account goes, with Go's message */
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, ja->srv->clients);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    Client *c = v;
    if (c->acc != ja->acc || c->state != CLIENT_OPEN) continue;
    log_debug(CLIENT_LOG_FMT "%s", CLIENT_LOG_ARGS(c), errors_text(NATS_ERR_ACCOUNT_AUTH_EXPIRED));
    client_send_err(c, errors_text(NATS_ERR_ACCOUNT_AUTH_EXPIRED));
    client_close(c, errors_closed_state(NATS_ERR_ACCOUNT_AUTH_EXPIRED));
  }
}

/* Go's updateAccountClaims, for what cnatsd has: limits, signing keys,
 * revocations, bearer policy, default permissions, expiry. */
static void account_apply_claims(JwtAccount *ja) {
  JwtClaims *ac = ja->claims;
  Account *acc = ja->acc;
  log_debug("Updating account claims: %s/%s", acc->name, ac->name);
  loop_timer_stop(ja->srv->loop, &ja->exp_timer);
  int64_t now = g_get_real_time() / G_USEC_PER_SEC;
  ja->expired = false;
  if (ac->exp) {
    if (ac->exp <= now) ja->expired = true;
    else
      loop_timer_start(ja->srv->loop, &ja->exp_timer,
                       loop_now(ja->srv->loop) + (ac->exp - now) * G_USEC_PER_SEC, account_expired_fired, ja);
  }
  acc->max_connections = ac->lim_conn;
  acc->max_subscriptions = ac->lim_subs;
  acc->max_payload = ac->lim_payload;
  auth_permissions_unref(ja->default_perms);
  ja->default_perms = perms_from_jwt(&ac->default_perms);
}

/* The account's own key signs users too, unless its operator is strict. */
static bool account_has_issuer(JwtAuth *a, JwtAccount *ja, const char *issuer, JwtSigningKey **scope) {
  *scope = NULL;
  JwtSigningKey *k = g_hash_table_lookup(ja->claims->acc_signing_keys, issuer);
  if (k) {
    *scope = k->scoped ? k : NULL;
    return true;
  }
  bool strict = g_hash_table_contains(a->strict, ja->claims->issuer);
  return !strict && strcmp(issuer, ja->acc->name) == 0;
}

/* Go's verifyAccountClaims. */
static JwtClaims *verify_account_jwt(JwtAuth *a, const char *jwt, char **error) {
  JwtClaims *c = jwt_decode(jwt, error);
  if (!c) return NULL;
  if (c->type != JWT_CLAIM_ACCOUNT) {
    jwt_claims_free(c);
    *error = g_strdup("not account claim");
    return NULL;
  }
  if (!trusted_issuer(a, c->issuer) || !jwt_claims_validate(c, g_get_real_time() / G_USEC_PER_SEC, NULL)) {
    jwt_claims_free(c);
    *error = g_strdup("account validation failed");
    return NULL;
  }
  return c;
}

/* Go's lookupAccount with the MEMORY resolver.  NULL with *error. */
static JwtAccount *lookup_account(Server *s, const char *name, char **error, bool log) {
  JwtAuth *a = s->jwt_auth;
  JwtAccount *ja = g_hash_table_lookup(a->accounts, name);
  if (ja) {
    if (ja->expired) log_debug("Requested account [%s] has expired", name);
    return ja;
  }
  if (!a->resolver) {
    *error = g_strdup("account missing");
    return NULL;
  }
  uint8_t raw[32];
  if (!nkey_decode_public(name, NKEY_PREFIX_ACCOUNT, raw)) {
    *error = g_strdup("will only fetch valid account keys");
    if (log) log_warn("Account fetch failed: %s", *error);
    return NULL;
  }
  const char *jwt = g_hash_table_lookup(a->resolver, name);
  if (log) log_debug("Account [%s] fetch took %s", name, "0s");
  if (!jwt) {
    *error = g_strdup("account missing");
    if (log) log_warn("Account fetch failed: %s", *error);
    return NULL;
  }
  JwtClaims *c = verify_account_jwt(a, jwt, error);
  if (!c) return NULL;
  if (strcmp(c->subject, name) != 0) {
    jwt_claims_free(c);
    *error = g_strdup("account validation failed");
    return NULL;
  }
  Account *acc = g_hash_table_lookup(s->accounts, name);
  if (!acc) {
    acc = account_new(name, !s->opts->no_sublist_cache);
    g_hash_table_insert(s->accounts, acc->name, acc);
  }
  ja = g_new0(JwtAccount, 1);
  ja->srv = s;
  ja->acc = acc;
  ja->claims = c;
  ja->jwt = g_strdup(jwt);
  g_hash_table_insert(a->accounts, acc->name, ja);
  account_apply_claims(ja);
  return ja;
}

/* ---- server ----------------------------------------------------------------------- */

Account *jwt_auth_ensure_account(Server *s, const char *name, char **error) {
  JwtAccount *ja = lookup_account(s, name, error, false);
  return ja ? ja->acc : NULL;
}

bool jwt_auth_enabled(const Server *s) { return s->jwt_auth != NULL; }

bool jwt_auth_server_setup(Server *s, char **error) {
  JwtAuthConf *jc = s->opts->jwt;
  if (!jc) return true;
  if (jc->resolver == JWT_RESOLVER_URL) {
    /* nats-server fetches "" once at startup to see if anyone is home */
    if (!g_str_has_prefix(jc->resolver_url, "http://") && !g_str_has_prefix(jc->resolver_url, "https://")) {
      const char *colon = strchr(jc->resolver_url, ':');
      g_autofree char *scheme = colon ? g_strndup(jc->resolver_url, (gsize)(colon - jc->resolver_url)) : g_strdup("");
      *error = g_strdup_printf("could not fetch <\"%s\">: Get \"%s\": unsupported protocol scheme \"%s\"",
                               jc->resolver_url, jc->resolver_url, scheme);
    } else {
      *error = g_strdup("URL account resolver is not supported by cnatsd yet");
    }
    return false;
  }
  JwtAuth *a = NULL;
  if (jc->trusted_keys) {
    a = g_new0(JwtAuth, 1);
    s->jwt_auth = a;
    a->trusted = strv_copy(jc->trusted_keys);
    a->strict = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a->accounts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)jwt_account_free);
    for (guint i = 0; jc->operators && i < jc->operators->len; i++) {
      JwtClaims *op = jc->operators->pdata[i];
      if (!op->strict_signing_key_usage) continue;
      for (guint k = 0; k < op->op_signing_keys->len; k++)
        g_hash_table_add(a->strict, g_strdup(op->op_signing_keys->pdata[k]));
    }
    if (jc->pinned) {
      a->pinned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < jc->pinned->len; i++) g_hash_table_add(a->pinned, g_strdup(jc->pinned->pdata[i]));
    }
  }
  if (jc->resolver == JWT_RESOLVER_MEMORY) {
    if (!a) return true;  /* a resolver without trusted keys is never consulted */
    a->resolver = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (jc->preload) {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init(&it, jc->preload);
      while (g_hash_table_iter_next(&it, &k, &v)) {
        g_autofree char *err = NULL;
        g_autoptr(JwtClaims) c = jwt_decode(v, &err);
        if (!c) {
          *error = g_strdup_printf("preload account error for \"%s\": %s", (char *)k, err);
          return false;
        }
        g_hash_table_replace(a->resolver, g_strdup(k), g_strdup(v));
      }
    }
  }
  return true;
}

void jwt_auth_server_free(Server *s) {
  JwtAuth *a = s->jwt_auth;
  if (!a) return;
  g_ptr_array_unref(a->trusted);
  g_hash_table_destroy(a->strict);
  if (a->resolver) g_hash_table_destroy(a->resolver);
  g_hash_table_destroy(a->accounts);
  if (a->pinned) g_hash_table_destroy(a->pinned);
  g_free(a);
  s->jwt_auth = NULL;
}

void jwt_auth_log_startup(Server *s) {
  JwtAuthConf *jc = s->opts->jwt;
  if (!jc || !jc->operators || !jc->operators->len) return;
  log_info("Trusted Operators");
  for (guint i = 0; i < jc->operators->len; i++) {
    JwtClaims *op = jc->operators->pdata[i];
    /* nats-server prints the audience under "System" */
    log_info("  System  : \"%s\"", op->audience);
    log_info("  Operator: \"%s\"", op->name);
    g_autofree char *issued = jwt_format_time(op->iat);
    log_info("  Issued  : %s", issued);
    if (op->exp == 0) {
      log_info("  Expires : Never");
    } else {
      g_autofree char *exp = jwt_format_time(op->exp);
      log_info("  Expires : %s", exp);
    }
  }
  if (!s->opts->system_account || !*s->opts->system_account) log_warn("Trusted Operators should utilize a System Account");
  if (!jc->preload) return;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, jc->preload);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_autofree char *err = NULL;
    g_autoptr(JwtClaims) c = jwt_decode(v, &err);
    if (!c) {
      log_error("Preloaded account [%s] not valid", (char *)k);
      continue;
    }
    g_autoptr(GPtrArray) issues = g_ptr_array_new_with_free_func(g_free);
    if (!jwt_claims_validate(c, g_get_real_time() / G_USEC_PER_SEC, issues)) {
      log_warn("Account [%s] has validation issues:", (char *)k);
      for (guint i = 0; i < issues->len; i++) log_warn("  - %s", (char *)issues->pdata[i]);
    }
  }
}

/* ---- clients ---------------------------------------------------------------------- */

void jwt_auth_client_free(Client *c) {
  JwtClient *jc = c->jwt;
  if (!jc) return;
  loop_timer_stop(c->srv->loop, &jc->expiry);
  auth_user_free(jc->user);
  g_free(jc->issuer_key);
  g_free(jc->name_tag);
  if (jc->tags) g_ptr_array_unref(jc->tags);
  g_free(jc);
  c->jwt = NULL;
}

static void client_expired_fired(void *data) {
  Client *c = data;
  if (c->state != CLIENT_OPEN) return;
  log_debug(CLIENT_LOG_FMT "%s", CLIENT_LOG_ARGS(c), errors_text(NATS_ERR_AUTH_EXPIRED));
  client_send_err(c, errors_text(NATS_ERR_AUTH_EXPIRED));
  client_close(c, errors_closed_state(NATS_ERR_AUTH_EXPIRED));
}

/* Go's %q of a []string: ["a" "b"]. */
static void go_quote_list(GString *out, GPtrArray *list) {
  g_string_append_c(out, '[');
  for (guint i = 0; list && i < list->len; i++) {
    if (i) g_string_append_c(out, ' ');
    auth_go_quote(out, list->pdata[i], strlen(list->pdata[i]));
  }
  g_string_append_c(out, ']');
}

/* Go's convertAllowedConnectionTypes then connectionTypeAllowed for a
 * plain client connection. */
static bool conn_types_allow(Client *c, GPtrArray *types, uint32_t *bits_out) {
  static const struct { const char *name; uint32_t bit; } known[] = {
      {"STANDARD", AUTH_CT_STANDARD}, {"WEBSOCKET", AUTH_CT_WEBSOCKET}, {"LEAFNODE", AUTH_CT_LEAFNODE},
      {"LEAFNODE_WS", AUTH_CT_LEAFNODE_WS}, {"MQTT", AUTH_CT_MQTT}, {"MQTT_WS", AUTH_CT_MQTT_WS}};
  uint32_t bits = 0;
  g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < types->len; i++) {
    g_autofree char *up = g_ascii_strup(types->pdata[i], -1);
    bool found = false;
    for (size_t k = 0; k < G_N_ELEMENTS(known); k++)
      if (strcmp(up, known[k].name) == 0) bits |= known[k].bit, found = true;
    if (!found) g_ptr_array_add(unknown, g_steal_pointer(&up));
  }
  *bits_out = bits;
  if (unknown->len) {
    g_autoptr(GString) q = g_string_new(NULL);
    go_quote_list(q, unknown);
    log_debug(CLIENT_LOG_FMT "invalid connection types %s", CLIENT_LOG_ARGS(c), q->str);
    if (!bits) return false;
  }
  if (bits && !(bits & AUTH_CT_STANDARD)) {
    log_debug(CLIENT_LOG_FMT "Connection type not allowed", CLIENT_LOG_ARGS(c));
    return false;
  }
  return true;
}

static bool sig_verified(Client *c, const char *subject) {
  const char *nonce = auth_client_nonce(c);
  if (!c->opts.sig || !*c->opts.sig) {
    log_debug(CLIENT_LOG_FMT "Signature missing", CLIENT_LOG_ARGS(c));
    return false;
  }
  uint8_t raw[32];
  if (!nkey_decode_public(subject, NKEY_PREFIX_USER, raw)) {
    log_debug(CLIENT_LOG_FMT "User nkey not valid: invalid public key", CLIENT_LOG_ARGS(c));
    return false;
  }
  if (!auth_nkey_verify(subject, nonce ? nonce : "", nonce ? strlen(nonce) : 0, c->opts.sig)) {
    log_debug(CLIENT_LOG_FMT "Signature not verified", CLIENT_LOG_ARGS(c));
    return false;
  }
  return true;
}

int jwt_auth_client_connect(Client *c) {
  Server *s = c->srv;
  JwtAuth *a = s->jwt_auth;
  if (!c->opts.jwt || !*c->opts.jwt) {
    log_debug(CLIENT_LOG_FMT "Authentication requires a user JWT", CLIENT_LOG_ARGS(c));
    return 0;
  }
  g_autofree char *err = NULL;
  g_autoptr(JwtClaims) uc = jwt_decode(c->opts.jwt, &err);
  if (uc && uc->type != JWT_CLAIM_USER) {
    g_clear_pointer(&uc, jwt_claims_free);
    err = g_strdup("not user claim");
  }
  if (!uc) {
    log_debug(CLIENT_LOG_FMT "User JWT not valid: %s", CLIENT_LOG_ARGS(c), err);
    return 0;
  }
  g_autoptr(GPtrArray) issues = g_ptr_array_new_with_free_func(g_free);
  if (!jwt_claims_validate(uc, g_get_real_time() / G_USEC_PER_SEC, issues)) {
    g_autoptr(GString) list = g_string_new(NULL);
    for (guint i = 0; i < issues->len; i++) g_string_append_printf(list, "%s%s", i ? " " : "", (char *)issues->pdata[i]);
    log_debug(CLIENT_LOG_FMT "User JWT no longer valid: &{Issues:[%s]}", CLIENT_LOG_ARGS(c), list->str);
    return 0;
  }
  uint32_t ct_bits = 0;
  if (!conn_types_allow(c, uc->user.conn_types, &ct_bits)) return 0;
  const char *issuer = *uc->issuer_account ? uc->issuer_account : uc->issuer;
  if (a->pinned && !g_hash_table_contains(a->pinned, issuer)) {
    log_debug(CLIENT_LOG_FMT "Account %s not listed as operator pinned account", CLIENT_LOG_ARGS(c), issuer);
    a->pinned_fails++;
    return 0;
  }
  g_autofree char *lerr = NULL;
  JwtAccount *ja = lookup_account(s, issuer, &lerr, true);
  if (!ja) {
    log_debug(CLIENT_LOG_FMT "Account JWT lookup error: %s", CLIENT_LOG_ARGS(c), lerr);
    return 0;
  }
  if (!trusted_issuer(a, ja->claims->issuer)) {
    log_debug(CLIENT_LOG_FMT "Account JWT not signed by trusted operator", CLIENT_LOG_ARGS(c));
    return 0;
  }
  JwtSigningKey *scope = NULL;
  JwtPermissions templated = {0};
  bool have_templated = false;
  if (!account_has_issuer(a, ja, uc->issuer, &scope)) {
    log_debug(CLIENT_LOG_FMT "User JWT issuer is not known", CLIENT_LOG_ARGS(c));
    return 0;
  }
  if (scope) {
    if (!uc->user.empty) {
      log_debug(CLIENT_LOG_FMT "User JWT is not valid: scoped users require no permissions or limits set",
                CLIENT_LOG_ARGS(c));
      return 0;
    }
    if (!jwt_apply_template(&scope->tmpl, uc, ja->claims->name, ja->claims->tags, &templated)) {
      log_debug(CLIENT_LOG_FMT "User JWT generated invalid permissions", CLIENT_LOG_ARGS(c));
      return 0;
    }
    have_templated = true;
  }
  int result = 0;
  if (ja->expired) {
    log_debug(CLIENT_LOG_FMT "Account JWT has expired", CLIENT_LOG_ARGS(c));
    goto out;
  }
  /* a scoped user takes bearer and limits from the template */
  const JwtUserLimits *lim = scope ? &scope->tmpl : &uc->user;
  if (lim->bearer && ja->claims->lim_disallow_bearer) {
    log_debug(CLIENT_LOG_FMT "Account does not allow bearer token", CLIENT_LOG_ARGS(c));
    goto out;
  }
  if (!lim->bearer && !sig_verified(c, uc->subject)) goto out;
  if (jwt_is_revoked(ja->claims->revocations, uc->subject, uc->iat)) {
    log_debug(CLIENT_LOG_FMT "User authentication revoked", CLIENT_LOG_ARGS(c));
    goto out;
  }
  if (!jwt_src_allows(uc, c->host)) {
    log_error(CLIENT_LOG_FMT "Bad src Ip %s", CLIENT_LOG_ARGS(c), c->host);
    goto out;
  }
  int64_t valid_for = 0;
  if (!jwt_times_allow(uc, g_get_real_time(), &valid_for)) {
    log_error(CLIENT_LOG_FMT "Outside connect times", CLIENT_LOG_ARGS(c));
    goto out;
  }

  /* Go's buildInternalNkeyUser + RegisterNkeyUser */
  JwtClient *jc = c->jwt;
  if (!jc) {
    jc = c->jwt = g_new0(JwtClient, 1);
    jc->c = c;
  }
  loop_timer_stop(s->loop, &jc->expiry);
  AuthUser *old = jc->user;
  AuthUser *u = jc->user = g_new0(AuthUser, 1);
  u->nkey = g_strdup(uc->subject);
  u->account = ja->acc;
  u->conn_types = ct_bits;
  u->perms = perms_from_jwt(have_templated ? &templated : &uc->user.perms);
  if (!u->perms) u->perms = auth_permissions_ref(ja->default_perms);
  u->jwt_limits = true;
  u->max_subs = lim->subs;
  u->max_payload = lim->payload;
  if (!auth_client_register_user(c, u)) {
    /* the client still points at its previous user (if any): keep that one */
    jc->user = old;
    auth_user_free(u);
    result = -1;
    goto out;
  }

  /* Go's setExpiration: the sooner of exp and the end of the time range */
  int64_t now_s = g_get_real_time() / G_USEC_PER_SEC;
  int64_t expires_in = 0;
  bool arm = false;
  if (uc->exp == 0) {
    if (valid_for) expires_in = valid_for, arm = true;
  } else {
    int64_t at = uc->exp > now_s ? (uc->exp - now_s) * G_USEC_PER_SEC : 0;
    expires_in = valid_for && valid_for < at ? valid_for : at;
    arm = true;
  }
  if (arm) loop_timer_start(s->loop, &jc->expiry, loop_now(s->loop) + expires_in, client_expired_fired, c);

  if (log_debug_enabled) {
    g_autoptr(GString) utags = g_string_new(NULL), atags = g_string_new(NULL);
    go_quote_list(utags, uc->tags);
    go_quote_list(atags, ja->claims->tags);
    log_debug(CLIENT_LOG_FMT "Authenticated JWT: Client \"%s\" (claim-name: \"%s\", claim-tags: %s) signed with \"%s\" "
                             "by Account \"%s\" (claim-name: \"%s\", claim-tags: %s) signed with \"%s\" has mappings "
                             "false accused %p",
              CLIENT_LOG_ARGS(c), uc->subject, uc->name, utags->str, uc->issuer, issuer, ja->claims->name, atags->str,
              ja->claims->issuer, (void *)ja->acc);
  }
  g_free(jc->issuer_key);
  jc->issuer_key = g_strdup(*uc->issuer_account ? uc->issuer : ja->acc->name);
  g_free(jc->name_tag);
  jc->name_tag = g_strdup(uc->name);
  if (jc->tags) g_ptr_array_unref(jc->tags);
  jc->tags = g_ptr_array_ref(uc->tags);
  result = 1;
  auth_user_free(old);
out:
  if (have_templated) jwt_permissions_clear(&templated);
  return result;
}

/* ---- monitoring ------------------------------------------------------------------- */

const char *jwt_auth_client_pubkey(const Client *c) { return c->jwt && c->jwt->user ? c->jwt->user->nkey : NULL; }
const char *jwt_auth_client_issuer_key(const Client *c) { return c->jwt ? c->jwt->issuer_key : NULL; }
const char *jwt_auth_client_name_tag(const Client *c) { return c->jwt ? c->jwt->name_tag : NULL; }
GPtrArray *jwt_auth_client_tags(const Client *c) { return c->jwt ? c->jwt->tags : NULL; }
GPtrArray *jwt_auth_operator_jwts(const Server *s) { return s->opts->jwt ? s->opts->jwt->operator_jwts : NULL; }
GPtrArray *jwt_auth_operator_claims_json(const Server *s) {
  return s->opts->jwt ? s->opts->jwt->operator_claims : NULL;
}
uint64_t jwt_auth_pinned_fails(const Server *s) { return s->jwt_auth ? s->jwt_auth->pinned_fails : 0; }
