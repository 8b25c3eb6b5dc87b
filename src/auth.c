/* auth.c — authentication and authorization (see auth.h).
 *
 * Owns: the users/nkeys lookup tables built at startup (Auth), each client's
 * ClientAuth (nonce, bound user, permission caches, reply tracking), and the
 * parsing of the `authorization {}` block, user lists and permissions.
 *
 * Authentication follows nats-server's order: nkey users (when the CONNECT
 * carries an nkey), then users (with no_auth_user filling in a missing
 * username), then the single token, then the single user/password.  A
 * successful login binds the client to the user's account and permissions.
 *
 * Permissions are compiled once per permission set into small Sublists
 * (allow/deny for publish and subscribe) shared by every client of that user;
 * each client keeps Go's bounded publish cache (128 entries, pruned 32 at a
 * time) and, once it subscribed with a wildcard that a deny entry overlaps,
 * Go's delivery-side deny filter with its own cache.
 *
 * Bcrypt checks run inline on the loop (crypt_rn from libxcrypt).  Thread:
 * protocol loop; the config functions run on the main thread before it. */
#include "auth.h"

#include <crypt.h>
#include <gio/gio.h>
#include <sodium.h>
#include <string.h>

#include "accounts.h"
#include "accounts_conf.h"
#include "client.h"
#include "const.h"
#include "jwt_auth.h"
#include "events.h"
#include "log.h"
#include "nkey.h"
#include "opts.h"
#include "server.h"
#include "subject.h"
#include "sublist.h"
#include "subscription.h"
#include "tls.h"

/* Server-wide auth state, built by auth_server_setup. */
struct Auth {
  GHashTable *users;       /* owned table; username → AuthUser* (borrowed from opts->users) */
  GHashTable *nkeys;       /* owned table; public nkey → AuthUser* (borrowed) */
  bool required;           /* Go's info.AuthRequired before the no_auth_user tweak */
  bool info_required;      /* what INFO says */
  bool nonce_required;
  AuthUser *sys_only_user; /* owned: hidden no-auth user when only $G and the system account exist */
  const char *no_auth_user;/* borrowed: opts->no_auth_user or sys_only_user->username */
  GPtrArray *retired_accounts; /* owned Account*: dropped from the config by a reload; their
                                * clients are closed, but may be reaped only after the dispatch */
};

typedef struct ReplyTrack {
  int64_t n;
  int64_t t;               /* µs monotonic when recorded */
} ReplyTrack;

struct ClientAuth {
  char nonce[AUTH_NONCE_LEN + 1];
  bool has_nonce;
  AuthUser *user;          /* borrowed: the server's */
  AuthPermissions *perms;  /* one ref, NULL = no permissions */
  GHashTable *pcache;      /* owned: subject (owned) → GINT_TO_POINTER(1 denied / 2 allowed) */
  bool deliver_deny;       /* Go's mperms: filter deliveries through perms->deliver_deny */
  GHashTable *dcache;      /* owned: subject → GINT_TO_POINTER(1 denied / 2 allowed) */
  GHashTable *replies;     /* owned: reply subject → ReplyTrack* (owned), when allow_responses */
  int64_t pending_payload; /* user JWT payload limit while binding; -1 = none */
};

/* ---- Go %q --------------------------------------------------------------- */

void auth_go_quote(GString *out, const char *s, size_t len) {
  g_string_append_c(out, '"');
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    switch (ch) {
      case '"': g_string_append(out, "\\\""); break;
      case '\\': g_string_append(out, "\\\\"); break;
      case '\a': g_string_append(out, "\\a"); break;
      case '\b': g_string_append(out, "\\b"); break;
      case '\f': g_string_append(out, "\\f"); break;
      case '\n': g_string_append(out, "\\n"); break;
      case '\r': g_string_append(out, "\\r"); break;
      case '\t': g_string_append(out, "\\t"); break;
      case '\v': g_string_append(out, "\\v"); break;
      default:
        if (ch < 0x20 || ch == 0x7f) g_string_append_printf(out, "\\x%02x", ch);
        else g_string_append_c(out, (char)ch);
    }
  }
  g_string_append_c(out, '"');
}

char *auth_redact_password(const char *json, size_t len) {
  g_autofree char *text = g_strndup(json, len);
  if (!strstr(text, "pass")) return g_steal_pointer(&text);
  static GRegex *pass_re;
  if (!pass_re) pass_re = g_regex_new("\"?\\s*pass\\S*?\"?\\s*[:=]\\s*\"?(([^\",\r\n}])*)", G_REGEX_OPTIMIZE, 0, NULL);
  GMatchInfo *mi = NULL;
  int start, end;
  if (!pass_re || !g_regex_match(pass_re, text, 0, &mi) || !g_match_info_fetch_pos(mi, 1, &start, &end)) {
    g_match_info_free(mi);
    return g_steal_pointer(&text);
  }
  g_match_info_free(mi);
  return g_strdup_printf("%.*s[REDACTED]%s", start, text, text + end);
}

/* ---- permissions objects ------------------------------------------------- */

static void subject_perm_free(AuthSubjectPerm *p) {
  if (!p) return;
  if (p->allow) g_ptr_array_unref(p->allow);
  if (p->deny) g_ptr_array_unref(p->deny);
  g_free(p);
}

AuthPermissions *auth_permissions_ref(AuthPermissions *p) {
  if (p) p->refcount++;
  return p;
}

void auth_permissions_unref(AuthPermissions *p) {
  if (!p || --p->refcount > 0) return;
  subject_perm_free(p->publish);
  subject_perm_free(p->subscribe);
  sublist_free(p->pub_allow);
  sublist_free(p->pub_deny);
  sublist_free(p->sub_allow);
  sublist_free(p->sub_deny);
  sublist_free(p->deliver_deny);
  g_free(p);
}

void auth_user_free(AuthUser *u) {
  if (!u) return;
  g_free(u->username);
  if (u->password) sodium_memzero(u->password, strlen(u->password));
  g_free(u->password);
  g_free(u->nkey);
  auth_permissions_unref(u->perms);
  g_free(u->account_name);
  g_free(u);
}

void auth_account_conf_free(AuthAccountConf *a) {
  if (!a) return;
  accounts_conf_free(a->sharing);
  g_free(a->name);
  g_free(a);
}

/* Inserts "subject" or, with split_queue, "subject queue" (Go's
 * splitSubjectQueue) into sl.  Entries the Sublist refuses match nothing,
 * as in Go where they would never match a valid subject either. */
static void perm_insert(Sublist *sl, const char *entry, bool split_queue) {
  g_auto(GStrv) parts = NULL;
  const char *subj = entry, *queue = NULL;
  if (split_queue) {
    parts = g_strsplit_set(entry, " \t\r\n", -1);
    /* collapse empty fields (strings.Fields) */
    const char *f[3] = {NULL, NULL, NULL};
    int n = 0;
    for (int i = 0; parts[i]; i++) {
      if (!*parts[i]) continue;
      if (n == 3) break;
      f[n++] = parts[i];
    }
    if (n == 0 || n > 2) return;
    subj = f[0];
    queue = n == 2 ? f[1] : NULL;
  }
  Subscription *sub = subscription_new(NULL, subj, strlen(subj), queue, queue ? strlen(queue) : 0, "", 0);
  sublist_insert(sl, sub);
  subscription_unref(sub);
}

static Sublist *perm_compile(GPtrArray *list, bool split_queue) {
  Sublist *sl = sublist_new(true);
  for (guint i = 0; i < list->len; i++) perm_insert(sl, list->pdata[i], split_queue);
  return sl;
}

static void perms_compile(AuthPermissions *p) {
  if (p->compiled) return;
  p->compiled = true;
  if (p->publish) {
    /* An empty allow list still counts for publish: allow_responses turns
     * the blanket allow off that way. */
    if (p->publish->allow) p->pub_allow = perm_compile(p->publish->allow, false);
    if (p->publish->deny && p->publish->deny->len) p->pub_deny = perm_compile(p->publish->deny, false);
  }
  if (p->subscribe) {
    if (p->subscribe->allow && p->subscribe->allow->len) p->sub_allow = perm_compile(p->subscribe->allow, true);
    if (p->subscribe->deny && p->subscribe->deny->len) {
      p->sub_deny = perm_compile(p->subscribe->deny, true);
      p->deliver_deny = perm_compile(p->subscribe->deny, false);
    }
  }
}

/* ---- pure permission checks ---------------------------------------------- */

bool auth_perms_pub_allowed(AuthPermissions *p, const char *subject, size_t len) {
  if (!p) return true;
  perms_compile(p);
  if (!p->pub_allow && !p->pub_deny) return true;
  bool allowed = true;
  if (p->pub_allow) {
    SublistResult *r = sublist_match(p->pub_allow, subject, len);
    allowed = r->npsubs > 0;
    sublist_result_unref(r);
  }
  if (allowed && p->pub_deny) {
    SublistResult *r = sublist_match(p->pub_deny, subject, len);
    allowed = r->npsubs == 0;
    sublist_result_unref(r);
  }
  return allowed;
}

/* Go's queueMatches: the queue equals a listed queue name, or falls under a
 * listed one that has wildcards. */
static bool queue_matches(const char *queue, size_t qlen, const SublistResult *r) {
  if (r->nqgroups == 0) return true;
  for (uint32_t g = 0; g < r->nqgroups; g++) {
    const Subscription *qs = r->qsubs[g][0];
    if (qs->queue_len == qlen && memcmp(qs->queue, queue, qlen) == 0) return true;
    if (subject_has_wildcard(qs->queue, qs->queue_len) && subject_is_subset(queue, qlen, qs->queue, qs->queue_len))
      return true;
  }
  return false;
}

bool auth_perms_can_subscribe(AuthPermissions *p, const char *subject, size_t len, const char *queue,
                              size_t queue_len, bool *load_deliver_deny) {
  if (load_deliver_deny) *load_deliver_deny = false;
  if (!p) return true;
  perms_compile(p);
  bool allowed = true;
  if (p->sub_allow) {
    SublistResult *r = sublist_match(p->sub_allow, subject, len);
    allowed = r->npsubs > 0;
    if (queue_len && r->nqgroups > 0) allowed = queue_matches(queue, queue_len, r);
    sublist_result_unref(r);
  }
  if (allowed && p->sub_deny) {
    SublistResult *r = sublist_match(p->sub_deny, subject, len);
    allowed = r->npsubs == 0;
    if (queue_len && r->nqgroups > 0) allowed = !queue_matches(queue, queue_len, r);
    sublist_result_unref(r);
    /* A wildcard subscription that overlaps a deny entry could receive
     * denied subjects: deliveries must then be filtered (Go's mperms). */
    if (allowed && load_deliver_deny && subject_has_wildcard(subject, len)) {
      GPtrArray *deny = p->subscribe->deny;
      for (guint i = 0; i < deny->len; i++) {
        const char *d = deny->pdata[i];
        if (subject_is_subset(d, strlen(d), subject, len)) {
          *load_deliver_deny = true;
          break;
        }
      }
    }
  }
  return allowed;
}

bool auth_perms_deliver_denied(AuthPermissions *p, const char *subject, size_t len) {
  if (!p) return false;
  perms_compile(p);
  if (!p->deliver_deny) return false;
  SublistResult *r = sublist_match(p->deliver_deny, subject, len);
  bool denied = r->npsubs != 0;
  sublist_result_unref(r);
  return denied;
}

/* ---- secrets ------------------------------------------------------------- */

bool auth_is_bcrypt(const char *s) {
  /* ^\$2[abxy]\$\d{2}\$.* */
  if (!s || strlen(s) < 7) return false;
  return s[0] == '$' && s[1] == '2' && strchr("abxy", s[2]) && s[2] && s[3] == '$' && g_ascii_isdigit(s[4]) &&
         g_ascii_isdigit(s[5]) && s[6] == '$';
}

static bool const_time_equal(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  /* Compare over the longer length so the time does not depend on where
   * the first difference is; the length difference itself still fails. */
  size_t n = MAX(la, lb);
  unsigned char diff = (unsigned char)(la != lb);
  for (size_t i = 0; i < n; i++) {
    unsigned char x = i < la ? (unsigned char)a[i] : 0;
    unsigned char y = i < lb ? (unsigned char)b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool auth_password_matches(const char *server_secret, const char *client_secret) {
  if (!server_secret) server_secret = "";
  if (!client_secret) client_secret = "";
  if (!auth_is_bcrypt(server_secret)) return const_time_equal(server_secret, client_secret);
  /* libxcrypt's bcrypt rehashes the candidate with the stored setting
   * (salt and cost); a match reproduces the stored hash.  crypt_rn is
   * crypt_r with an explicit buffer size and a NULL return on failure
   * (and, unlike crypt_r, is not hijacked by the sanitizers' interceptor). */
  struct crypt_data *data = g_new0(struct crypt_data, 1);
  const char *out = crypt_rn(client_secret, server_secret, data, (int)sizeof *data);
  bool ok = out && out[0] != '*' && const_time_equal(out, server_secret);
  sodium_memzero(data, sizeof *data);
  g_free(data);
  return ok;
}

bool auth_nkey_verify(const char *nkey, const char *nonce, size_t nonce_len, const char *sig) {
  if (!nkey || !sig || !nonce) return false;
  uint8_t pub[32];
  if (!nkey_decode_public(nkey, NKEY_PREFIX_USER, pub)) return false;
  uint8_t raw[128];
  size_t raw_len = 0;
  size_t sig_len = strlen(sig);
  if (sodium_base642bin(raw, sizeof raw, sig, sig_len, NULL, &raw_len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) !=
          0 &&
      sodium_base642bin(raw, sizeof raw, sig, sig_len, NULL, &raw_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  if (raw_len != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(raw, (const unsigned char *)nonce, nonce_len, pub) == 0;
}

void auth_nonce_generate(char out[AUTH_NONCE_LEN + 1]) {
  uint8_t raw[AUTH_NONCE_RAW_LEN];
  randombytes_buf(raw, sizeof raw);
  sodium_bin2base64(out, AUTH_NONCE_LEN + 1, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* ---- config parsing ------------------------------------------------------ */

/* Go's %v of a config value, for the scalars its messages show. (transfer full) */
static char *go_value(const ConfValue *v) {
  switch (conf_value_kind(v)) {
    case CONF_STRING: return g_strdup(conf_value_string(v));
    case CONF_INTEGER: return g_strdup_printf("%" G_GINT64_FORMAT, conf_value_int(v));
    case CONF_BOOL: return g_strdup(conf_value_bool(v) ? "true" : "false");
    case CONF_FLOAT: return g_strdup_printf("%g", conf_value_float(v));
    default: return g_strdup(conf_value_kind(v) == CONF_ARRAY ? "[...]" : "map[...]");
  }
}

/* Where nats-server reports a problem with a whole user entry: at the last
 * field it read. */
static const ConfValue *last_field(const ConfValue *map) {
  size_t n = conf_value_map_len(map);
  return n ? conf_value_map_value(map, n - 1) : map;
}

/* nats-server's v.(string) panics become this error. */
static const char *want_string(const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) == CONF_STRING) return conf_value_string(v);
  conf_report(errors, v, "interface conversion: interface {} is %s, not string", conf_value_go_type(v));
  return NULL;
}

/* Go's checkPermSubjectArray for one entry. */
static bool perm_subject_ok(const char *s, const ConfValue *v, GPtrArray *errors) {
  if (subject_is_valid(s, strlen(s))) return true;
  g_auto(GStrv) f = g_strsplit_set(s, " \t\r\n", -1);
  const char *fields[3];
  int n = 0;
  for (int i = 0; f[i]; i++)
    if (*f[i] && n < 3) fields[n++] = f[i];
  if (n != 2) {
    conf_report(errors, v, "subject \"%s\" is not a valid subject", s);
    return false;
  }
  if (!subject_is_valid(fields[0], strlen(fields[0]))) {
    conf_report(errors, v, "subject \"%s\" is not a valid subject", fields[0]);
    return false;
  }
  return true;
}

/* at: where errors are reported (NULL: nowhere, as for nats-server's old
 * style permissions, whose errors carry no position). */
static GPtrArray *parse_perm_subjects(const ConfValue *v, const ConfValue *at, GPtrArray *errors) {
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  if (conf_value_kind(v) == CONF_STRING) {
    g_ptr_array_add(out, g_strdup(conf_value_string(v)));
  } else if (conf_value_kind(v) == CONF_ARRAY) {
    for (size_t i = 0; i < conf_value_array_len(v); i++) {
      const ConfValue *e = conf_value_array_get(v, i);
      if (conf_value_kind(e) != CONF_STRING) {
        conf_report(errors, e, "Subject in permissions array cannot be cast to string");
        g_ptr_array_unref(out);
        return NULL;
      }
      g_ptr_array_add(out, g_strdup(conf_value_string(e)));
    }
  } else {
    conf_report(errors, at, "Expected subject permissions to be a subject, or array of subjects, got %s", conf_value_go_type(v));
    g_ptr_array_unref(out);
    return NULL;
  }
  for (guint i = 0; i < out->len; i++) {
    if (!perm_subject_ok(out->pdata[i], at, errors)) {
      g_ptr_array_unref(out);
      return NULL;
    }
  }
  return out;
}

/* `publish: "x"`, `publish: [..]` (allow list) or `publish { allow, deny }`.
 * *set tells whether a permission was given (an empty map gives none). */
static AuthSubjectPerm *parse_variable_perms(const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) == CONF_MAP) {
    if (conf_value_map_len(v) == 0) return NULL;
    AuthSubjectPerm *p = g_new0(AuthSubjectPerm, 1);
    for (size_t i = 0; i < conf_value_map_len(v); i++) {
      const char *k = conf_value_map_key(v, i);
      const ConfValue *e = conf_value_map_value(v, i);
      if (g_ascii_strcasecmp(k, "allow") == 0) {
        GPtrArray *s = parse_perm_subjects(e, e, errors);
        if (s) {
          if (p->allow) g_ptr_array_unref(p->allow);
          p->allow = s;
        }
      } else if (g_ascii_strcasecmp(k, "deny") == 0) {
        GPtrArray *s = parse_perm_subjects(e, e, errors);
        if (s) {
          if (p->deny) g_ptr_array_unref(p->deny);
          p->deny = s;
        }
      } else if (!conf_value_is_used_variable(e)) {
        conf_report(errors, e,
               "Unknown field name \"%s\" parsing subject permissions, only 'allow' or 'deny' are permitted", k);
      }
    }
    return p;
  }
  GPtrArray *s = parse_perm_subjects(v, NULL, errors);
  if (!s) return NULL;
  AuthSubjectPerm *p = g_new0(AuthSubjectPerm, 1);
  p->allow = s;
  return p;
}

static bool parse_allow_responses(AuthPermissions *p, const ConfValue *v, GPtrArray *errors) {
  p->resp_max_msgs = DEFAULT_ALLOW_RESPONSE_MAX_MSGS;
  p->resp_expires_us = DEFAULT_ALLOW_RESPONSE_EXPIRATION_US;
  if (conf_value_kind(v) == CONF_BOOL) return conf_value_bool(v);
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "error parsing response permissions, expected a boolean or a map");
    return false;
  }
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *k = conf_value_map_key(v, i);
    const ConfValue *e = conf_value_map_value(v, i);
    if (!g_ascii_strcasecmp(k, "max") || !g_ascii_strcasecmp(k, "max_msgs") || !g_ascii_strcasecmp(k, "max_messages") ||
        !g_ascii_strcasecmp(k, "max_responses")) {
      if (conf_value_kind(e) != CONF_INTEGER) {
        conf_report(errors, e, "interface conversion: interface {} is %s, not int64", conf_value_go_type(e));
        return false;
      }
      /* negative = unlimited; 0 keeps the default */
      if (conf_value_int(e) != 0) p->resp_max_msgs = conf_value_int(e);
    } else if (!g_ascii_strcasecmp(k, "expires") || !g_ascii_strcasecmp(k, "expiration") ||
               !g_ascii_strcasecmp(k, "ttl")) {
      if (conf_value_kind(e) != CONF_STRING) {
        conf_report(errors, e, "error parsing expires, not a duration string");
        return false;
      }
      int64_t us;
      if (!opts_parse_duration(conf_value_string(e), &us)) {
        conf_report(errors, e, "error parsing expires: time: invalid duration \"%s\"", conf_value_string(e));
        return false;
      }
      if (us != 0) p->resp_expires_us = us;
    } else if (!conf_value_is_used_variable(e)) {
      conf_report(errors, e, "Unknown field \"%s\" parsing permissions", k);
    }
  }
  return true;
}

AuthPermissions *auth_conf_parse_permissions(const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "Expected permissions to be a map/struct, got %s", conf_value_go_type(v));
    return NULL;
  }
  AuthPermissions *p = g_new0(AuthPermissions, 1);
  p->refcount = 1;
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *k = conf_value_map_key(v, i);
    const ConfValue *e = conf_value_map_value(v, i);
    if (!g_ascii_strcasecmp(k, "pub") || !g_ascii_strcasecmp(k, "publish") || !g_ascii_strcasecmp(k, "import")) {
      subject_perm_free(p->publish);
      p->publish = parse_variable_perms(e, errors);
    } else if (!g_ascii_strcasecmp(k, "sub") || !g_ascii_strcasecmp(k, "subscribe") ||
               !g_ascii_strcasecmp(k, "export")) {
      subject_perm_free(p->subscribe);
      p->subscribe = parse_variable_perms(e, errors);
    } else if (!g_ascii_strcasecmp(k, "publish_allow_responses") || !g_ascii_strcasecmp(k, "allow_responses")) {
      p->has_response = parse_allow_responses(p, e, errors);
    } else if (!conf_value_is_used_variable(e)) {
      conf_report(errors, e, "Unknown field \"%s\" parsing permissions", k);
    }
  }
  /* nats-server's validateResponsePermissions: responses turn the blanket
   * publish allow off. */
  if (p->has_response) {
    if (!p->publish) p->publish = g_new0(AuthSubjectPerm, 1);
    if (!p->publish->allow) p->publish->allow = g_ptr_array_new_with_free_func(g_free);
  }
  return p;
}

static uint32_t parse_conn_types(const ConfValue *v, GPtrArray *errors) {
  uint32_t bits = 0;
  if (conf_value_kind(v) != CONF_ARRAY && conf_value_kind(v) != CONF_STRING) {
    conf_report(errors, v, "allowed connection types should be an array of strings");
    return 0;
  }
  size_t n = conf_value_kind(v) == CONF_ARRAY ? conf_value_array_len(v) : 1;
  g_autoptr(GString) unknown = g_string_new(NULL);
  for (size_t i = 0; i < n; i++) {
    const ConfValue *e = conf_value_kind(v) == CONF_ARRAY ? conf_value_array_get(v, i) : v;
    const char *s = want_string(e, errors);
    if (!s) continue;
    g_autofree char *up = g_ascii_strup(s, -1);
    static const struct { const char *name; uint32_t bit; } types[] = {
        {"STANDARD", AUTH_CT_STANDARD}, {"WEBSOCKET", AUTH_CT_WEBSOCKET}, {"LEAFNODE", AUTH_CT_LEAFNODE},
        {"LEAFNODE_WS", AUTH_CT_LEAFNODE_WS}, {"MQTT", AUTH_CT_MQTT}, {"MQTT_WS", AUTH_CT_MQTT_WS}};
    bool found = false;
    for (size_t t = 0; t < G_N_ELEMENTS(types); t++)
      if (strcmp(up, types[t].name) == 0) bits |= types[t].bit, found = true;
    if (!found) g_string_append_printf(unknown, "%s\"%s\"", unknown->len ? " " : "", up);
  }
  if (unknown->len) conf_report(errors, v, "invalid connection types [%s]", unknown->str);
  return bits;
}

/* Parses a users array; returns NULL after reporting when it is not one. */
static GPtrArray *parse_users(const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) != CONF_ARRAY) {
    g_autofree char *val = go_value(v);
    conf_report(errors, v, "Expected users field to be an array, got %s", val);
    return NULL;
  }
  GPtrArray *users = g_ptr_array_new_with_free_func((GDestroyNotify)auth_user_free);
  for (size_t i = 0; i < conf_value_array_len(v); i++) {
    const ConfValue *u = conf_value_array_get(v, i);
    if (conf_value_kind(u) != CONF_MAP) {
      g_autofree char *val = go_value(u);
      conf_report(errors, u, "Expected user entry to be a map/struct, got %s", val);
      continue;
    }
    AuthUser *user = g_new0(AuthUser, 1);
    for (size_t k = 0; k < conf_value_map_len(u); k++) {
      const char *key = conf_value_map_key(u, k);
      const ConfValue *e = conf_value_map_value(u, k);
      const char *s;
      if (!g_ascii_strcasecmp(key, "nkey")) {
        if ((s = want_string(e, errors))) g_free(user->nkey), user->nkey = g_strdup(s);
      } else if (!g_ascii_strcasecmp(key, "user") || !g_ascii_strcasecmp(key, "username")) {
        if ((s = want_string(e, errors))) g_free(user->username), user->username = g_strdup(s);
      } else if (!g_ascii_strcasecmp(key, "pass") || !g_ascii_strcasecmp(key, "password")) {
        if ((s = want_string(e, errors))) g_free(user->password), user->password = g_strdup(s);
      } else if (!g_ascii_strcasecmp(key, "permission") || !g_ascii_strcasecmp(key, "permissions") ||
                 !g_ascii_strcasecmp(key, "authorization")) {
        AuthPermissions *p = auth_conf_parse_permissions(e, errors);
        if (p) auth_permissions_unref(user->perms), user->perms = p;
      } else if (!g_ascii_strcasecmp(key, "allowed_connection_types") ||
                 !g_ascii_strcasecmp(key, "connection_types") || !g_ascii_strcasecmp(key, "clients")) {
        user->conn_types = parse_conn_types(e, errors);
      } else if (!conf_value_is_used_variable(e)) {
        conf_report(errors, e, "unknown field \"%s\"", key);
      }
    }
    bool has_user = user->username && *user->username;
    bool has_nkey = user->nkey && *user->nkey;
    if (!has_nkey && !has_user) {
      conf_report(errors, last_field(u), "User entry requires a user");
      auth_user_free(user);
      break;
    }
    if (has_nkey) {
      uint8_t raw[32];
      if (!nkey_decode_public(user->nkey, NKEY_PREFIX_USER, raw)) {
        conf_report(errors, last_field(u), "Not a valid public nkey for a user");
        auth_user_free(user);
        break;
      }
      if ((user->username && *user->username) || (user->password && *user->password)) {
        conf_report(errors, last_field(u), "Nkey users do not take usernames or passwords");
        auth_user_free(user);
        break;
      }
      g_clear_pointer(&user->username, g_free);
    }
    g_ptr_array_add(users, user);
  }
  return users;
}

static void apply_default_permissions(GPtrArray *users, AuthPermissions *def) {
  if (!users || !def) return;
  for (guint i = 0; i < users->len; i++) {
    AuthUser *u = users->pdata[i];
    if (!u->perms) u->perms = auth_permissions_ref(def);
  }
}

static bool users_contain(const Options *o, const char *name) {
  if (!o->users) return false;
  for (guint i = 0; i < o->users->len; i++) {
    AuthUser *u = o->users->pdata[i];
    if ((u->username && strcmp(u->username, name) == 0) || (u->nkey && strcmp(u->nkey, name) == 0)) return true;
  }
  return false;
}

/* Moves users into o->users, refusing duplicates as nats-server does. */
static void take_users(Options *o, GPtrArray *users, const ConfValue *at, GPtrArray *errors) {
  if (!o->users) o->users = g_ptr_array_new_with_free_func((GDestroyNotify)auth_user_free);
  for (guint i = 0; i < users->len; i++) {
    AuthUser *u = users->pdata[i];
    const char *name = u->nkey ? u->nkey : u->username;
    if (users_contain(o, name)) {
      conf_report(errors, at, "Duplicate %s \"%s\" detected", u->nkey ? "nkey" : "user", name);
      continue;
    }
    g_ptr_array_add(o->users, g_steal_pointer(&users->pdata[i]));
  }
}

void auth_conf_parse_authorization(Options *o, const ConfValue *v, GPtrArray *errors, GPtrArray *warnings) {
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "interface conversion: interface {} is %s, not map[string]interface {}", conf_value_go_type(v));
    return;
  }
  g_autofree char *user = NULL, *pass = NULL, *token = NULL;
  double timeout = 0;
  g_autoptr(GPtrArray) users = NULL;
  AuthPermissions *def = NULL;
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *k = conf_value_map_key(v, i);
    const ConfValue *e = conf_value_map_value(v, i);
    const char *s;
    if (!g_ascii_strcasecmp(k, "user") || !g_ascii_strcasecmp(k, "username")) {
      if ((s = want_string(e, errors))) g_free(user), user = g_strdup(s);
    } else if (!g_ascii_strcasecmp(k, "pass") || !g_ascii_strcasecmp(k, "password")) {
      if ((s = want_string(e, errors))) g_free(pass), pass = g_strdup(s);
    } else if (!g_ascii_strcasecmp(k, "token")) {
      if ((s = want_string(e, errors))) g_free(token), token = g_strdup(s);
    } else if (!g_ascii_strcasecmp(k, "timeout")) {
      /* seconds, integer or float; anything else counts as 1s (nats-server) */
      timeout = conf_value_kind(e) == CONF_INTEGER ? (double)conf_value_int(e)
                : conf_value_kind(e) == CONF_FLOAT ? conf_value_float(e)
                                                   : 1.0;
    } else if (!g_ascii_strcasecmp(k, "users")) {
      if (users) g_ptr_array_unref(users);
      users = parse_users(e, errors);
    } else if (!g_ascii_strcasecmp(k, "default_permission") || !g_ascii_strcasecmp(k, "default_permissions") ||
               !g_ascii_strcasecmp(k, "permissions")) {
      AuthPermissions *p = auth_conf_parse_permissions(e, errors);
      if (p) auth_permissions_unref(def), def = p;
    } else if (!conf_value_is_used_variable(e)) {
      conf_report(errors, e, "unknown field \"%s\"", k);
    }
  }
  apply_default_permissions(users, def);
  auth_permissions_unref(def);

  g_free(o->username), o->username = g_steal_pointer(&user);
  g_free(o->password), o->password = g_steal_pointer(&pass);
  g_free(o->authorization), o->authorization = g_steal_pointer(&token);
  /* 0 (or absent) means nats-server's default */
  o->auth_timeout_us = timeout > 0 ? (int64_t)(timeout * G_USEC_PER_SEC) : AUTH_TIMEOUT_US;
  if (timeout < 0) o->auth_timeout_us = (int64_t)(timeout * G_USEC_PER_SEC);
  o->auth_timeout_set = timeout != 0;
  if ((o->username || o->password) && o->authorization) {
    conf_report(errors, v, "Cannot have a user/pass and token");
    return;
  }
  bool have_users = (users && users->len) || (o->users && o->users->len);
  if (users || have_users) {
    if (o->username) {
      conf_report(errors, v, "Can not have a single user/pass and a users array");
      return;
    }
    if (o->authorization) {
      conf_report(errors, v, "Can not have a token and a users array");
      return;
    }
  }
  if (users && users->len) take_users(o, users, v, errors);
}

static void parse_account_limits(AuthAccountConf *acc, const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "Expected account limits to be a map/struct, got %s", conf_value_go_type(v));
    return;
  }
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *k = conf_value_map_key(v, i);
    const ConfValue *e = conf_value_map_value(v, i);
    int64_t *field = NULL;
    if (!g_ascii_strcasecmp(k, "max_connections") || !g_ascii_strcasecmp(k, "max_conn")) field = &acc->max_connections;
    else if (!g_ascii_strcasecmp(k, "max_subscriptions") || !g_ascii_strcasecmp(k, "max_subs"))
      field = &acc->max_subscriptions;
    else if (!g_ascii_strcasecmp(k, "max_payload") || !g_ascii_strcasecmp(k, "max_pay")) field = &acc->max_payload;
    else if (!g_ascii_strcasecmp(k, "max_leafnodes") || !g_ascii_strcasecmp(k, "max_leafs")) continue;
    else {
      if (!conf_value_is_used_variable(e)) conf_report(errors, e, "Unknown field \"%s\" parsing account limits", k);
      continue;
    }
    if (conf_value_kind(e) != CONF_INTEGER) {
      conf_report(errors, e, "interface conversion: interface {} is %s, not int64", conf_value_go_type(e));
      continue;
    }
    *field = (int32_t)conf_value_int(e);
  }
}

static AuthAccountConf *account_conf_new(Options *o, const char *name) {
  AuthAccountConf *a = g_new0(AuthAccountConf, 1);
  a->name = g_strdup(name);
  a->max_connections = a->max_subscriptions = a->max_payload = -1;
  if (!o->accounts) o->accounts = g_ptr_array_new_with_free_func((GDestroyNotify)auth_account_conf_free);
  g_ptr_array_add(o->accounts, a);
  return a;
}

void auth_conf_parse_accounts(Options *o, const ConfValue *v, GPtrArray *errors, GPtrArray *warnings) {
  if (conf_value_kind(v) == CONF_ARRAY) {
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < conf_value_array_len(v); i++) {
      const ConfValue *e = conf_value_array_get(v, i);
      const char *name = want_string(e, errors);
      if (!name) continue;
      if (strcmp(name, DEFAULT_GLOBAL_ACCOUNT) == 0) {
        conf_report(errors, e, "\"%s\" is a Reserved Account", name);
        continue;
      }
      if (g_hash_table_contains(seen, name)) {
        conf_report(errors, e, "Duplicate Account Entry: %s", name);
        continue;
      }
      g_hash_table_add(seen, (gpointer)name);
      account_conf_new(o, name);
    }
    return;
  }
  if (conf_value_kind(v) != CONF_MAP) return;
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *name = conf_value_map_key(v, i);
    const ConfValue *av = conf_value_map_value(v, i);
    if (conf_value_is_used_variable(av)) continue;
    if (conf_value_kind(av) != CONF_MAP) {
      conf_report(errors, av, "Expected map entries for accounts");
      continue;
    }
    if (strcmp(name, DEFAULT_GLOBAL_ACCOUNT) == 0) {
      conf_report(errors, av, "\"%s\" is a Reserved Account", name);
      continue;
    }
    AuthAccountConf *acc = account_conf_new(o, name);
    g_autoptr(GPtrArray) users = NULL;
    const ConfValue *users_at = NULL;
    AuthPermissions *def = NULL;
    for (size_t k = 0; k < conf_value_map_len(av); k++) {
      const char *key = conf_value_map_key(av, k);
      const ConfValue *e = conf_value_map_value(av, k);
      if (!g_ascii_strcasecmp(key, "users")) {
        if (users) g_ptr_array_unref(users);
        users = parse_users(e, errors);
        users_at = e;
      } else if (!g_ascii_strcasecmp(key, "default_permissions")) {
        AuthPermissions *p = auth_conf_parse_permissions(e, errors);
        if (p) auth_permissions_unref(def), def = p;
      } else if (!g_ascii_strcasecmp(key, "limits")) {
        parse_account_limits(acc, e, errors);
      } else if (!g_ascii_strcasecmp(key, "imports") || !g_ascii_strcasecmp(key, "exports") ||
                 !g_ascii_strcasecmp(key, "mappings") || !g_ascii_strcasecmp(key, "maps")) {
        if (!acc->sharing) acc->sharing = accounts_conf_new();
        if (!g_ascii_strcasecmp(key, "imports")) accounts_conf_parse_imports(acc->sharing, e, errors);
        else if (!g_ascii_strcasecmp(key, "exports")) accounts_conf_parse_exports(acc->sharing, e, errors);
        else accounts_conf_parse_mappings(acc->sharing, name, e, errors);
      } else if (!g_ascii_strcasecmp(key, "nkey") || !g_ascii_strcasecmp(key, "jetstream")) {
        conf_report(errors, e, "field \"%s\" is not supported by cnatsd yet", key);
      } else if (!conf_value_is_used_variable(e)) {
        conf_report(errors, e, "unknown field \"%s\"", key);
      }
    }
    if (users && users->len) {
      if (o->username) {
        conf_report(errors, users_at, "Can not have a single user/pass and accounts");
        auth_permissions_unref(def);
        continue;
      }
      if (o->authorization) {
        conf_report(errors, users_at, "Can not have a token and accounts");
        auth_permissions_unref(def);
        continue;
      }
      apply_default_permissions(users, def);
      for (guint u = 0; u < users->len; u++) {
        AuthUser *user = users->pdata[u];
        g_free(user->account_name);
        user->account_name = g_strdup(name);
      }
      take_users(o, users, users_at, errors);
    }
    auth_permissions_unref(def);
  }
  /* nats-server adds exports and imports once every account is known, and
   * only when nothing failed so far. */
  if (errors->len == 0 && o->accounts) {
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(GPtrArray) confs = g_ptr_array_new();
    for (guint i = 0; i < o->accounts->len; i++) {
      AuthAccountConf *a = o->accounts->pdata[i];
      g_ptr_array_add(names, a->name);
      g_ptr_array_add(confs, a->sharing);
    }
    accounts_conf_check(names, confs, o->no_system_account, v, errors);
  }
}

char *auth_validate_options(const Options *o) {
  if (!o->no_auth_user || !*o->no_auth_user) return NULL;
  if (!o->users || o->users->len == 0)
    return g_strdup_printf("no_auth_user: \"%s\" present, but users are not defined", o->no_auth_user);
  for (guint i = 0; i < o->users->len; i++) {
    AuthUser *u = o->users->pdata[i];
    if (u->username && strcmp(u->username, o->no_auth_user) == 0) return NULL;
  }
  return g_strdup_printf("no_auth_user: \"%s\" not present as user in authorization block or account configuration",
                         o->no_auth_user);
}

/* ---- server -------------------------------------------------------------- */

static Account *server_account(Server *s, const char *name) {
  return g_hash_table_lookup(s->accounts, name ? name : DEFAULT_GLOBAL_ACCOUNT);
}

/* Creates or updates the configured accounts with their limits; returns
 * the number of accounts the config names, $G included (Go's numAccounts). */
static guint auth_configure_accounts(Server *s) {
  Options *o = s->opts;
  bool cache = !o->no_sublist_cache;
  g_autoptr(GHashTable) named = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_add(named, (gpointer)DEFAULT_GLOBAL_ACCOUNT);
  for (guint i = 0; o->accounts && i < o->accounts->len; i++) {
    AuthAccountConf *ac = o->accounts->pdata[i];
    Account *acc = g_hash_table_lookup(s->accounts, ac->name);
    if (!acc) {
      acc = account_new(ac->name, cache);
      g_hash_table_insert(s->accounts, acc->name, acc);
    }
    acc->max_connections = ac->max_connections;
    acc->max_subscriptions = ac->max_subscriptions;
    acc->max_payload = ac->max_payload;
    g_hash_table_add(named, ac->name);
  }
  return g_hash_table_size(named);
}

/* Mappings, exports and imports of every account (checked when the config
 * was read), in Go's order: all mappings, then exports, then imports.
 * `fresh` (Account*, may be NULL): accounts a reload just created, whose
 * service imports Go leaves without their subscription until the next
 * reload (its configureAccounts skips them while reloading and only
 * accounts that existed before get addAllServiceImportSubs). */
static void auth_apply_account_sharing(Server *s, GHashTable *fresh) {
  Options *o = s->opts;
  GHashTableIter ait;
  gpointer ak, av;
  g_hash_table_iter_init(&ait, s->accounts);
  while (g_hash_table_iter_next(&ait, &ak, &av)) ((Account *)av)->srv = s;
  accounts_conf_apply_mappings(o->mappings, s->global_account);
  for (int pass = 0; pass < 3 && o->accounts; pass++)
    for (guint i = 0; i < o->accounts->len; i++) {
      AuthAccountConf *ac = o->accounts->pdata[i];
      Account *acc = g_hash_table_lookup(s->accounts, ac->name);
      if (!ac->sharing || !acc) continue;
      if (pass == 0) accounts_conf_apply_mappings(ac->sharing, acc);
      else if (pass == 1) accounts_conf_apply_exports(ac->sharing, acc, s->accounts);
      else accounts_conf_apply_imports(ac->sharing, acc, s->accounts);
    }
  accounts_import_start(s, fresh);
}

/* Builds the users/nkeys tables of a from s->opts; `sys_only` (transfer
 * full, may be NULL) is the hidden user to reuse when one is needed again, so
 * that clients logged in through it on reload keep their name. */
static void auth_build_users(Server *s, Auth *a, guint configured, AuthUser *sys_only) {
  Options *o = s->opts;
  if (o->users) {
    for (guint i = 0; i < o->users->len; i++) {
      AuthUser *u = o->users->pdata[i];
      u->account = server_account(s, u->account_name);
      if (!u->account) u->account = s->global_account;
      if (u->nkey) g_hash_table_insert(a->nkeys, u->nkey, u);
      else g_hash_table_insert(a->users, u->username, u);
    }
  }
  a->no_auth_user = o->no_auth_user && *o->no_auth_user ? o->no_auth_user : NULL;
  /* Only $G and a configured system account: nats-server lets clients
   * without credentials into $G through a hidden user, so that users can be
   * added to the system account alone. */
  if (o->system_account && configured == 2 && !a->no_auth_user) {
    if (sys_only) {
      a->sys_only_user = g_steal_pointer(&sys_only);
    } else {
      a->sys_only_user = g_new0(AuthUser, 1);
      char rnd[9];
      for (int i = 0; i < 8; i++) rnd[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[randombytes_uniform(36)];
      rnd[8] = '\0';
      a->sys_only_user->username = g_strdup_printf("nats-%s", rnd);
      a->sys_only_user->password = g_strdup(rnd);
    }
    a->sys_only_user->account = s->global_account;
    g_hash_table_insert(a->users, a->sys_only_user->username, a->sys_only_user);
    a->no_auth_user = a->sys_only_user->username;
  }
  auth_user_free(sys_only);

  a->required = g_hash_table_size(a->users) > 0 || g_hash_table_size(a->nkeys) > 0 ||
                (o->username && *o->username) || (o->authorization && *o->authorization);
  a->info_required = a->required && !(o->no_auth_user && *o->no_auth_user);
  a->nonce_required = g_hash_table_size(a->nkeys) > 0;
}

static Auth *auth_new(void) {
  Auth *a = g_new0(Auth, 1);
  a->users = g_hash_table_new(g_str_hash, g_str_equal);
  a->nkeys = g_hash_table_new(g_str_hash, g_str_equal);
  return a;
}

bool auth_server_setup(Server *s, GError **error) {
  Options *o = s->opts;
  Auth *a = auth_new();
  s->auth = a;

  /* Accounts: $G always, then the configured ones, then the system account. */
  bool cache = !o->no_sublist_cache;
  s->accounts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)account_free);
  s->global_account = account_new(DEFAULT_GLOBAL_ACCOUNT, cache);
  g_hash_table_insert(s->accounts, s->global_account->name, s->global_account);
  guint configured = auth_configure_accounts(s);
  const char *sys_name = o->system_account;
  if (!sys_name && g_hash_table_lookup(s->accounts, DEFAULT_SYSTEM_ACCOUNT)) sys_name = DEFAULT_SYSTEM_ACCOUNT;
  g_autofree char *jwt_err = NULL;
  if (!jwt_auth_server_setup(s, &jwt_err)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", jwt_err);
    return false;
  }
  /* operator mode: the system account comes from the resolver */
  if (jwt_auth_enabled(s) && sys_name && !jwt_auth_ensure_account(s, sys_name, &jwt_err)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "error resolving system account: %s", jwt_err);
    return false;
  }
  if (sys_name) {
    s->system_account = g_hash_table_lookup(s->accounts, sys_name);
    if (!s->system_account) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "error resolving system account: account missing");
      return false;
    }
  } else if (!o->no_system_account) {
    s->system_account = account_new(DEFAULT_SYSTEM_ACCOUNT, cache);
    g_hash_table_insert(s->accounts, s->system_account->name, s->system_account);
  }

  auth_apply_account_sharing(s, NULL);

  /* Users and nkeys, each bound to its account ($G when none). */
  auth_build_users(s, a, configured, NULL);

  /* Go warns once about plain-text secrets. */
  bool plain = o->password && *o->password && !auth_is_bcrypt(o->password);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, a->users);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    AuthUser *u = value;
    if (u != a->sys_only_user && !auth_is_bcrypt(u->password)) plain = true;
  }
  if (plain) log_warn("Plaintext passwords detected, use nkeys or bcrypt");
  /* Operator mode: every client needs a user JWT and gets a nonce (also
   * read through jwt_auth_enabled where Auth may have been rebuilt). */
  if (jwt_auth_enabled(s)) a->required = a->info_required = a->nonce_required = true;
  return true;
}

static void auth_free(Auth *a) {
  g_hash_table_destroy(a->users);
  g_hash_table_destroy(a->nkeys);
  auth_user_free(a->sys_only_user);
  if (a->retired_accounts) g_ptr_array_unref(a->retired_accounts);
  g_free(a);
}

void auth_server_free(Server *s) {
  if (!s->auth) return;
  auth_free(s->auth);
  s->auth = NULL;
}

/* Operator mode requires auth (and a nonce) whatever the Auth tables say. */
bool auth_info_required(const Server *s) { return jwt_auth_enabled(s) || (s->auth && s->auth->info_required); }

/* ---- client -------------------------------------------------------------- */

static ClientAuth *client_auth(Client *c) {
  if (!c->auth) {
    c->auth = g_new0(ClientAuth, 1);
    c->auth->pending_payload = -1;
  }
  return c->auth;
}

static void auth_timer_fired(void *data) {
  Client *c = data;
  if (c->state != CLIENT_OPEN) return;
  log_debug(CLIENT_LOG_FMT "Authentication Timeout", CLIENT_LOG_ARGS(c));
  client_send_err(c, errors_text(NATS_ERR_AUTH_TIMEOUT));
  client_close(c, errors_closed_state(NATS_ERR_AUTH_TIMEOUT));
}

void auth_client_start(Client *c) {
  Server *s = c->srv;
  Auth *a = s->auth;
  if (!a) return;
  if (a->nonce_required || jwt_auth_enabled(s)) {
    ClientAuth *ca = client_auth(c);
    auth_nonce_generate(ca->nonce);
    ca->has_nonce = true;
  }
  if (a->required || jwt_auth_enabled(s)) {
    c->parser.connect_required_first = true;
    loop_timer_start(s->loop, &c->auth_timer, loop_now(s->loop) + s->opts->auth_timeout_us, auth_timer_fired, c);
  }
}

void auth_client_restart_timer(Client *c) {
  Server *s = c->srv;
  if (s->auth && (s->auth->required || jwt_auth_enabled(s)))
    loop_timer_start(s->loop, &c->auth_timer, loop_now(s->loop) + s->opts->auth_timeout_us, auth_timer_fired, c);
}

void auth_client_free(Client *c) {
  jwt_auth_client_free(c);
  ClientAuth *ca = c->auth;
  if (!ca) return;
  auth_permissions_unref(ca->perms);
  if (ca->pcache) g_hash_table_destroy(ca->pcache);
  if (ca->dcache) g_hash_table_destroy(ca->dcache);
  if (ca->replies) g_hash_table_destroy(ca->replies);
  g_free(ca);
  c->auth = NULL;
}

const char *auth_client_nonce(const Client *c) { return c->auth && c->auth->has_nonce ? c->auth->nonce : NULL; }

/* Moves c to acc (Go's registerWithAccount), checking the account's
 * connection limit.  False when the client was closed for it. */
static bool client_bind_account(Client *c, Account *acc) {
  if (!acc || acc == c->acc) return true;
  Account *old = c->acc;
  if (old && old->num_clients) old->num_clients--;
  c->acc = acc;
  if (acc->max_connections >= 0 && acc->num_clients >= (uint32_t)acc->max_connections) {
    log_error(CLIENT_LOG_FMT "%s", CLIENT_LOG_ARGS(c), errors_text(NATS_ERR_MAX_ACCOUNT_CONNECTIONS));
    client_send_err(c, errors_text(NATS_ERR_MAX_ACCOUNT_CONNECTIONS));
    /* counted again so that the close path's decrement balances */
    acc->num_clients++;
    client_close(c, errors_closed_state(NATS_ERR_MAX_ACCOUNT_CONNECTIONS));
    return false;
  }
  acc->num_clients++;
  if (c->srv->events) events_account_conns(c->srv, acc);
  if (acc->max_payload >= 0 && acc->max_payload < c->parser.max_payload) c->parser.max_payload = acc->max_payload;
  if (c->auth && c->auth->pending_payload >= 0 && c->auth->pending_payload < c->parser.max_payload)
    c->parser.max_payload = c->auth->pending_payload;
  /* Subscriptions made before (no_auth_user path allows none, but a second
   * CONNECT may switch accounts) follow the client. */
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, c->subs);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Subscription *sub = value;
    if (sub->closed) continue;
    sublist_remove(old->sublist, sub);
    sublist_insert(acc->sublist, sub);
  }
  return true;
}

/* Go's minLimit: negative is unlimited. */
static void min_limit(int64_t *v, int64_t limit) {
  if (limit < 0) return;
  if (*v < 0 || limit < *v) *v = limit;
}

/* Go's applyAccountLimits logs when the server's own limit is the smaller. */
static void log_limit_overrides(Client *c, const AuthUser *u) {
  const Options *o = c->srv->opts;
  int64_t pay = u->jwt_limits ? u->max_payload : -1, subs = u->jwt_limits ? u->max_subs : -1;
  if (c->acc) min_limit(&pay, c->acc->max_payload), min_limit(&subs, c->acc->max_subscriptions);
  if (pay >= 0 && o->max_payload > 0 && o->max_payload < pay)
    log_error(CLIENT_LOG_FMT "Max Payload set to %" G_GINT64_FORMAT " from server overrides account or user config",
              CLIENT_LOG_ARGS(c), o->max_payload);
  if (subs >= 0 && o->max_subscriptions > 0 && o->max_subscriptions < subs)
    log_error(CLIENT_LOG_FMT "Max Subscriptions set to %" G_GINT64_FORMAT
                             " from server overrides account or user config",
              CLIENT_LOG_ARGS(c), o->max_subscriptions);
}

/* Go's RegisterUser / RegisterNkeyUser. */
static bool client_register_user(Client *c, AuthUser *u) {
  /* a user JWT's payload limit applies with the account's (Go's applyAccountLimits) */
  client_auth(c)->pending_payload = u->jwt_limits ? u->max_payload : -1;
  if (!client_bind_account(c, u->account)) return false;
  log_limit_overrides(c, u);
  ClientAuth *ca = client_auth(c);
  ca->user = u;
  auth_permissions_unref(ca->perms);
  ca->perms = auth_permissions_ref(u->perms);
  if (ca->pcache) g_hash_table_remove_all(ca->pcache);
  if (ca->dcache) g_hash_table_remove_all(ca->dcache);
  ca->deliver_deny = false;
  if (ca->perms && ca->perms->has_response && !ca->replies)
    ca->replies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (u->username) {
    g_free(c->opts.user);
    c->opts.user = g_strdup(u->username);
  }
  return true;
}

bool auth_client_register_user(Client *c, AuthUser *u) { return client_register_user(c, u); }

static void log_auth_violation(Client *c) {
  Auth *a = c->srv->auth;
  g_autoptr(GString) who = g_string_new(NULL);
  if (jwt_auth_enabled(c->srv)) {
    /* operator mode: no user or nkey named */
  } else if (a && g_hash_table_size(a->nkeys) > 0) {
    g_string_append(who, " - Nkey ");
    auth_go_quote(who, c->opts.nkey ? c->opts.nkey : "", c->opts.nkey ? strlen(c->opts.nkey) : 0);
  } else if (a && g_hash_table_size(a->users) > 0) {
    g_string_append(who, " - User ");
    auth_go_quote(who, c->opts.user ? c->opts.user : "", c->opts.user ? strlen(c->opts.user) : 0);
  }
  log_error(CLIENT_LOG_FMT "authentication error%s", CLIENT_LOG_ARGS(c), who->str);
}

static bool conn_type_allowed(const AuthUser *u) {
  return u->conn_types == 0 || (u->conn_types & AUTH_CT_STANDARD);
}

static bool nonempty(const char *s) { return s && *s; }

/* 1 authenticated, 0 refused, -1 closed while binding. */
/* Go's checkClientTLSCertSubject with the users table: e-mail addresses,
 * DNS names and URIs of the certificate, then its subject DN (exact, then
 * reordered RDNs), then Go's string forms of the subject. */
static AuthUser *auth_tls_lookup(Client *c, const char *name) {
  AuthUser *u = g_hash_table_lookup(c->srv->auth->users, name);
  return u && conn_type_allowed(u) ? u : NULL;
}

static AuthUser *auth_tls_map_user(Client *c) {
  if (!c->tls || c->tls_state != CLIENT_TLS_ACTIVE) {
    log_debug(CLIENT_LOG_FMT "User required in cert, no TLS connection state", CLIENT_LOG_ARGS(c));
    return NULL;
  }
  g_autoptr(TlsPeerIdentity) id = tls_conn_peer_identity(c->tls);
  if (!id) {
    log_debug(CLIENT_LOG_FMT "User required in cert, no peer certificates found", CLIENT_LOG_ARGS(c));
    return NULL;
  }
  AuthUser *u;
  char **lists[] = {id->emails, id->dns_names, id->uris};
  static const char *const what[] = {"email", "SAN", "URI"};
  for (int l = 0; l < 3; l++) {
    for (char **p = lists[l]; p && *p; p++) {
      if ((u = auth_tls_lookup(c, *p))) {
        log_debug(CLIENT_LOG_FMT "Using %s found in cert for auth [\"%s\"]", CLIENT_LOG_ARGS(c), what[l], u->username);
        return u;
      }
    }
  }
  if (id->dn_rfc4514) {
    for (int ordered = 1; ordered >= 0; ordered--) {
      GHashTableIter it;
      gpointer key, value;
      g_hash_table_iter_init(&it, c->srv->auth->users);
      while (g_hash_table_iter_next(&it, &key, &value)) {
        u = value;
        if (conn_type_allowed(u) && tls_dn_match(u->username, id->dn_rfc4514, ordered)) {
          log_debug(CLIENT_LOG_FMT "Using DistinguishedNameMatch for auth [\"%s\"]", CLIENT_LOG_ARGS(c), u->username);
          return u;
        }
      }
    }
  }
  if (*id->dcs) {
    g_autofree char *full = g_strdup_printf("%s,%s", id->rdn_string, id->dcs);
    if ((u = auth_tls_lookup(c, full))) {
      log_debug(CLIENT_LOG_FMT "Using RDNSequence for auth [\"%s\"]", CLIENT_LOG_ARGS(c), u->username);
      return u;
    }
  }
  if ((u = auth_tls_lookup(c, id->rdn_string))) {
    log_debug(CLIENT_LOG_FMT "Using certificate subject for auth [\"%s\"]", CLIENT_LOG_ARGS(c), u->username);
    return u;
  }
  log_debug(CLIENT_LOG_FMT "User in cert [\"%s\"], not found", CLIENT_LOG_ARGS(c), id->rdn_string);
  return NULL;
}

static int authenticate(Client *c) {
  Server *s = c->srv;
  Auth *a = s->auth;
  Options *o = s->opts;
  ClientConnectOpts *co = &c->opts;
  if (jwt_auth_enabled(s)) return jwt_auth_client_connect(c);
  if (!a || !a->required) return 1;
  AuthUser *nk = NULL, *user = NULL;
  if (g_hash_table_size(a->nkeys) > 0 && nonempty(co->nkey)) {
    nk = g_hash_table_lookup(a->nkeys, co->nkey);
    if (!nk || !conn_type_allowed(nk)) return 0;
  } else if (g_hash_table_size(a->users) > 0 && o->tls_map) {
    /* verify_and_map: the user comes from the client certificate */
    user = auth_tls_map_user(c);
    if (!user) return 0;
    if (nonempty(co->user))
      log_warn("User \"%s\" found in connect proto, but user required from cert", co->user);
    g_free(co->user), co->user = g_strdup(user->username);
  } else if (g_hash_table_size(a->users) > 0) {
    if (a->no_auth_user && !nonempty(co->user) && !nonempty(co->pass) && !nonempty(co->auth_token)) {
      AuthUser *u = g_hash_table_lookup(a->users, a->no_auth_user);
      if (u) {
        g_free(co->user), co->user = g_strdup(u->username);
        g_free(co->pass), co->pass = g_strdup(u->password);
      }
    }
    if (nonempty(co->user)) {
      user = g_hash_table_lookup(a->users, co->user);
      if (!user || !conn_type_allowed(user)) return 0;
    }
  }
  if (nk) {
    if (!nonempty(co->sig)) {
      log_debug(CLIENT_LOG_FMT "Signature missing", CLIENT_LOG_ARGS(c));
      return 0;
    }
    const char *nonce = auth_client_nonce(c);
    if (!auth_nkey_verify(co->nkey, nonce ? nonce : "", nonce ? strlen(nonce) : 0, co->sig)) {
      log_debug(CLIENT_LOG_FMT "Signature not verified", CLIENT_LOG_ARGS(c));
      return 0;
    }
    return client_register_user(c, nk) ? 1 : -1;
  }
  if (user) {
    if (!auth_password_matches(user->password, co->pass)) return 0;
    return client_register_user(c, user) ? 1 : -1;
  }
  if (nonempty(o->authorization)) return auth_password_matches(o->authorization, co->auth_token) ? 1 : 0;
  if (nonempty(o->username)) {
    if (!co->user || strcmp(o->username, co->user) != 0) return 0;
    return auth_password_matches(o->password, co->pass) ? 1 : 0;
  }
  return 0;
}

int auth_client_connect(Client *c) {
  loop_timer_stop(c->srv->loop, &c->auth_timer);
  int r = authenticate(c);
  if (r < 0) return NATS_ERR_CLIENT_CLOSED;
  /* Asking for an account in CONNECT is refused (nats-server: an error
   * since dynamic sandbox accounts were dropped). */
  if (r == 0 || c->opts.account_requested) {
    log_auth_violation(c);
    return NATS_ERR_AUTH_VIOLATION;
  }
  return NATS_OK;
}

int auth_client_op_before_connect(Client *c) {
  Auth *a = c->srv->auth;
  if (a && a->no_auth_user) {
    AuthUser *u = g_hash_table_lookup(a->users, a->no_auth_user);
    if (u) {
      if (!client_register_user(c, u)) return NATS_ERR_CLIENT_CLOSED;
      loop_timer_stop(c->srv->loop, &c->auth_timer);
      c->connect_received = true;
      return NATS_OK;
    }
  }
  log_auth_violation(c);
  return NATS_ERR_AUTH_VIOLATION;
}

static void auth_user_desc(Client *c, GString *out) {
  /* Go's getAuthUser */
  if (nonempty(c->opts.nkey)) {
    g_string_append(out, "Nkey ");
    auth_go_quote(out, c->opts.nkey, strlen(c->opts.nkey));
  } else if (nonempty(c->opts.user)) {
    g_string_append(out, "User ");
    auth_go_quote(out, c->opts.user, strlen(c->opts.user));
  } else {
    g_string_append(out, "User \"N/A\"");
  }
}

static void cache_prune(GHashTable *cache) {
  /* Go drops arbitrary entries, pruneSize at a time. */
  GHashTableIter it;
  g_hash_table_iter_init(&it, cache);
  int n = 0;
  while (g_hash_table_iter_next(&it, NULL, NULL) && n++ <= AUTH_PRUNE_SIZE) g_hash_table_iter_remove(&it);
}

/* A NUL-terminated copy of subject for hash lookups: on the stack when it
 * fits (no allocation per message), else in *heap. */
static const char *lookup_key(const char *subject, size_t len, char *buf, size_t cap, char **heap) {
  if (len < cap) {
    memcpy(buf, subject, len);
    buf[len] = '\0';
    return buf;
  }
  return *heap = g_strndup(subject, len);
}

static bool client_pub_allowed(Client *c, const char *subject, size_t len) {
  ClientAuth *ca = c->auth;
  AuthPermissions *p = ca ? ca->perms : NULL;
  if (!p) return true;
  perms_compile(p);
  if (!p->pub_allow && !p->pub_deny) return true;
  if (!ca->pcache) ca->pcache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  char key_buf[256];
  g_autofree char *key_heap = NULL;
  const char *key = lookup_key(subject, len, key_buf, sizeof key_buf, &key_heap);
  gpointer hit = g_hash_table_lookup(ca->pcache, key);
  if (hit) return GPOINTER_TO_INT(hit) == 2;
  bool allowed = auth_perms_pub_allowed(p, subject, len);
  if (!allowed && p->has_response && ca->replies) {
    /* Reply subjects learned from deliveries are allowed, within the limits;
     * such answers never enter the cache. */
    ReplyTrack *rt = g_hash_table_lookup(ca->replies, key);
    if (rt) {
      rt->n++;
      int64_t now = loop_now(c->srv->loop);
      if (p->resp_max_msgs > 0 && rt->n > p->resp_max_msgs) g_hash_table_remove(ca->replies, key);
      else if (p->resp_expires_us > 0 && now - rt->t > p->resp_expires_us) g_hash_table_remove(ca->replies, key);
      else allowed = true;
    }
    return allowed;
  }
  g_hash_table_insert(ca->pcache, g_strdup(key), GINT_TO_POINTER(allowed ? 2 : 1));
  if (g_hash_table_size(ca->pcache) > AUTH_MAX_PERM_CACHE_SIZE) cache_prune(ca->pcache);
  return allowed;
}

static bool has_prefix(const char *s, size_t len, const char *prefix, size_t plen) {
  return len > plen && memcmp(s, prefix, plen) == 0;
}

/* Go's isReservedReply: service import, JetStream ack and gateway routed
 * reply subjects cannot be set by clients. */
static bool reserved_reply(const char *r, size_t len) {
  /* "_R_." needs only length 4; the other two need something after the prefix */
  return (len >= 4 && memcmp(r, "_R_.", 4) == 0) || has_prefix(r, len, "$JS.ACK.", 8) ||
         has_prefix(r, len, "_GR_.", 5);
}

static bool publish_violation(Client *c, NatsError err, const char *what, const char *s, size_t len) {
  g_autoptr(GString) q = g_string_new(NULL);
  auth_go_quote(q, s, len);
  g_autofree char *text = g_strdup_printf(errors_text(err), q->str);
  client_send_err(c, text);
  g_autoptr(GString) who = g_string_new(NULL);
  auth_user_desc(c, who);
  log_error(CLIENT_LOG_FMT "Publish Violation - %s, %s %s", CLIENT_LOG_ARGS(c), who->str, what, q->str);
  return false;
}

bool auth_client_check_publish(Client *c, const char *subject, size_t len, const char *reply, size_t reply_len) {
  /* Hot path: with no permissions and ordinary subjects this is two byte
   * compares.  Gateway-routed reply subjects are the server's own, even
   * without permissions. */
  if ((len && subject[0] == '_' && has_prefix(subject, len, "_GR_.", 5)) || (c->auth && !client_pub_allowed(c, subject, len)))
    return publish_violation(c, NATS_ERR_PERMISSIONS_PUBLISH, "Subject", subject, len);
  if (reply_len && (reply[0] == '_' || reply[0] == '$') && reserved_reply(reply, reply_len))
    return publish_violation(c, NATS_ERR_PERMISSIONS_REPLY, "Reply", reply, reply_len);
  return true;
}

/* max_sub_tokens: nats-server counts the subject's '.'-separated pieces. */
static bool sub_tokens_exceeded(const Client *c, const char *subject, size_t len) {
  int64_t max = c->srv->opts->max_sub_tokens;
  if (max <= 0) return false;
  int64_t n = 1;
  for (size_t i = 0; i < len; i++) n += subject[i] == '.';
  return n > max;
}

bool auth_client_check_subscribe(Client *c, const char *subject, size_t len, const char *queue, size_t queue_len,
                                 const char *sid, size_t sid_len) {
  ClientAuth *ca = c->auth;
  bool allowed = true;
  if (ca && ca->perms) {
    bool load = false;
    allowed = auth_perms_can_subscribe(ca->perms, subject, len, queue, queue_len, ca->deliver_deny ? NULL : &load);
    if (allowed && load) ca->deliver_deny = true;
  }
  bool too_many = allowed && sub_tokens_exceeded(c, subject, len);
  if (allowed && !too_many) return true;
  g_autoptr(GString) qs = g_string_new(NULL);
  auth_go_quote(qs, subject, len);
  g_autoptr(GString) who = g_string_new(NULL);
  auth_user_desc(c, who);
  g_autofree char *text = NULL;
  if (too_many) {
    text = g_strdup_printf(errors_text(NATS_ERR_SUBSCRIBE_TOO_MANY_TOKENS), qs->str);
    log_error(CLIENT_LOG_FMT "Subscription Violation Too Many Tokens - %s, Subject %s, SID %.*s", CLIENT_LOG_ARGS(c),
              who->str, qs->str, (int)sid_len, sid);
  } else if (queue_len) {
    g_autoptr(GString) qq = g_string_new(NULL);
    auth_go_quote(qq, queue, queue_len);
    text = g_strdup_printf(errors_text(NATS_ERR_PERMISSIONS_SUBSCRIBE_QUEUE), qs->str, qq->str);
    log_error(CLIENT_LOG_FMT "Subscription Violation - %s, Subject %s, Queue: %s, SID %.*s", CLIENT_LOG_ARGS(c),
              who->str, qs->str, qq->str, (int)sid_len, sid);
  } else {
    text = g_strdup_printf(errors_text(NATS_ERR_PERMISSIONS_SUBSCRIBE), qs->str);
    log_error(CLIENT_LOG_FMT "Subscription Violation - %s, Subject %s, SID %.*s", CLIENT_LOG_ARGS(c), who->str,
              qs->str, (int)sid_len, sid);
  }
  client_send_err(c, text);
  return false;
}

bool auth_client_deliver_allowed(Client *c, const char *subject, size_t len) {
  ClientAuth *ca = c->auth;
  if (!ca || !ca->deliver_deny || !ca->perms) return true;
  if (!ca->dcache) ca->dcache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  char key_buf[256];
  g_autofree char *key_heap = NULL;
  const char *key = lookup_key(subject, len, key_buf, sizeof key_buf, &key_heap);
  gpointer hit = g_hash_table_lookup(ca->dcache, key);
  if (hit) return GPOINTER_TO_INT(hit) == 2;
  bool denied = auth_perms_deliver_denied(ca->perms, subject, len);
  g_hash_table_insert(ca->dcache, g_strdup(key), GINT_TO_POINTER(denied ? 1 : 2));
  if (g_hash_table_size(ca->dcache) > AUTH_MAX_DENY_PERM_CACHE_SIZE) cache_prune(ca->dcache);
  return !denied;
}

void auth_client_track_reply(Client *c, const char *reply, size_t len) {
  ClientAuth *ca = c->auth;
  if (!ca || !ca->replies || len == 0) return;
  ReplyTrack *rt = g_new0(ReplyTrack, 1);
  rt->t = loop_now(c->srv->loop);
  g_hash_table_replace(ca->replies, g_strndup(reply, len), rt);
  if (g_hash_table_size(ca->replies) > AUTH_REPLY_PERM_LIMIT) {
    /* Go's pruneReplyPerms: drop the spent and the expired. */
    AuthPermissions *p = ca->perms;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, ca->replies);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
      ReplyTrack *r = value;
      if ((p->resp_max_msgs > 0 && r->n >= p->resp_max_msgs) ||
          (p->resp_expires_us > 0 && rt->t - r->t > p->resp_expires_us))
        g_hash_table_iter_remove(&it);
    }
  }
}

int64_t auth_client_max_subs(const Client *c) {
  /* Go's applyAccountLimits: the smaller of server and account limits. */
  int64_t srv = c->srv->opts->max_subscriptions > 0 ? c->srv->opts->max_subscriptions : -1;
  int64_t acc = c->acc ? c->acc->max_subscriptions : -1;
  int64_t m = srv;
  if (acc >= 0 && (m < 0 || acc < m)) m = acc;
  const AuthUser *u = c->auth ? c->auth->user : NULL;
  if (u && u->jwt_limits && u->max_subs >= 0 && (m < 0 || u->max_subs < m)) m = u->max_subs;
  return m;
}

/* ---- reload --------------------------------------------------------------- */

/* Go's clientHasMovedToDifferentAccount: a client that logged in as a user
 * or nkey that is gone, or now belongs to another account, must reconnect.
 * As in Go, a CONNECT "user" that is not in the users table (the single
 * authorization user, or any name while auth is off) counts as moved, so such
 * clients are closed by every reload (fixtures R130-reload-single-user). */
static bool client_moved_account(Client *c, Auth *a) {
  AuthUser *u = NULL;
  if (nonempty(c->opts.nkey)) u = g_hash_table_lookup(a->nkeys, c->opts.nkey);
  else if (nonempty(c->opts.user)) u = g_hash_table_lookup(a->users, c->opts.user);
  else return false;
  return !u || !u->account || u->account != c->acc;
}

/* Go's processSubsOnConfigReload: drop the subscriptions the (new)
 * permissions no longer allow, telling the client and the log. */
static void client_recheck_subs(Client *c) {
  ClientAuth *ca = c->auth;
  AuthPermissions *perms = ca ? ca->perms : NULL;
  /* The account's stream imports changed: the allowed subscriptions get
   * shadows for the new ones (Go rebuilds only in such accounts). */
  Account *rebuild = c->acc && c->acc->old_stream_imports ? c->acc : NULL;
  if (!perms && !rebuild) return;
  if (perms) {
    ca->deliver_deny = false;
    if (ca->dcache) g_hash_table_remove_all(ca->dcache);
  }
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func((GDestroyNotify)subscription_unref);
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func((GDestroyNotify)subscription_unref);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, c->subs);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Subscription *sub = value;
    bool load = false, ok = true;
    if (perms) {
      ok = auth_perms_can_subscribe(perms, sub->subject, sub->subject_len, NULL, 0, &load);
      if (!ok && sub->queue)
        ok = auth_perms_can_subscribe(perms, sub->subject, sub->subject_len, sub->queue, sub->queue_len, &load);
      if (load) ca->deliver_deny = true;
    }
    if (!ok) g_ptr_array_add(removed, subscription_ref(sub));
    else if (rebuild) g_ptr_array_add(kept, subscription_ref(sub));
  }
  for (guint i = 0; i < kept->len; i++) accounts_import_reload_sub(rebuild, kept->pdata[i]);
  for (guint i = 0; i < removed->len; i++) {
    Subscription *sub = removed->pdata[i];
    client_remove_sub(c, sub);
    g_autoptr(GString) subj = g_string_new(NULL);
    auth_go_quote(subj, sub->subject, sub->subject_len);
    g_autoptr(GString) sid = g_string_new(NULL);
    auth_go_quote(sid, sub->sid, sub->sid_len);
    g_autofree char *text = g_strdup_printf(errors_text(NATS_ERR_PERMISSIONS_SUBSCRIBE_RELOAD), subj->str, sid->str);
    client_send_err(c, text);
    g_autoptr(GString) who = g_string_new(NULL);
    auth_user_desc(c, who);
    log_info("Removed sub %s (sid %s) for %s - not authorized", subj->str, sid->str, who->str);
  }
}

static bool auth_account_named(const Options *o, const char *name) {
  for (guint i = 0; o->accounts && i < o->accounts->len; i++)
    if (strcmp(((AuthAccountConf *)o->accounts->pdata[i])->name, name) == 0) return true;
  return false;
}

void auth_server_reload(Server *s) {
  Auth *old = s->auth;
  Auth *a = auth_new();
  a->retired_accounts = g_steal_pointer(&old->retired_accounts);

  /* Accounts keep their identity (sublist, clients, stats) across a reload
   * when the new config still names them, as Go transfers them; the others
   * leave the table but live on until the server goes, since clients being
   * closed below still point at them until they are reaped. */
  g_autoptr(GHashTable) existed = g_hash_table_new(NULL, NULL);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, s->accounts);
  while (g_hash_table_iter_next(&it, &key, &value)) g_hash_table_add(existed, value);
  guint configured = auth_configure_accounts(s);
  g_autoptr(GHashTable) keep = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_add(keep, (gpointer)DEFAULT_GLOBAL_ACCOUNT);
  if (s->system_account) g_hash_table_add(keep, s->system_account->name);
  for (guint i = 0; s->opts->accounts && i < s->opts->accounts->len; i++)
    g_hash_table_add(keep, ((AuthAccountConf *)s->opts->accounts->pdata[i])->name);
  g_hash_table_iter_init(&it, s->accounts);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Account *acc = value;
    if (g_hash_table_contains(keep, acc->name)) continue;
    if (!a->retired_accounts) a->retired_accounts = g_ptr_array_new_with_free_func((GDestroyNotify)account_free);
    g_hash_table_iter_steal(&it);
    g_ptr_array_add(a->retired_accounts, acc);
  }
  /* Accounts dropped by the config get their default limits back. */
  g_hash_table_iter_init(&it, s->accounts);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Account *acc = value;
    if (!auth_account_named(s->opts, acc->name)) acc->max_connections = acc->max_subscriptions = acc->max_payload = -1;
  }

  /* Mappings, exports and imports: every account that is left (retired ones
   * too, so that nothing keeps pointing into another account's old
   * exports) drops its own, then the new config's are applied to the
   * accounts of the table, as Go does on the accounts it rebuilds. */
  g_autoptr(GPtrArray) all = g_ptr_array_new();
  g_autoptr(GHashTable) fresh = g_hash_table_new(NULL, NULL);
  g_hash_table_iter_init(&it, s->accounts);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    g_ptr_array_add(all, value);
    if (!g_hash_table_contains(existed, value)) g_hash_table_add(fresh, value);
  }
  for (guint i = 0; a->retired_accounts && i < a->retired_accounts->len; i++)
    g_ptr_array_add(all, a->retired_accounts->pdata[i]);
  for (guint i = 0; i < all->len; i++) {
    Account *acc = all->pdata[i];
    accounts_import_reload_detach(acc);
    /* Go makes new objects of $G and the configured accounts; the default
     * system account it keeps. */
    if (g_hash_table_contains(existed, acc) && (acc == s->global_account || auth_account_named(s->opts, acc->name)))
      accounts_import_reload_renew_reply(acc);
  }
  auth_apply_account_sharing(s, fresh);
  for (guint i = 0; i < all->len; i++) accounts_import_reload_streams_changed(all->pdata[i]);

  auth_build_users(s, a, configured, g_steal_pointer(&old->sys_only_user));
  s->auth = a;

  g_autoptr(GPtrArray) clients = g_ptr_array_new();
  g_hash_table_iter_init(&it, s->clients);
  while (g_hash_table_iter_next(&it, &key, &value)) g_ptr_array_add(clients, value);
  g_autoptr(GHashTable) rechecked = g_hash_table_new(NULL, NULL);
  for (guint i = 0; i < clients->len; i++) {
    Client *c = clients->pdata[i];
    if (c->state != CLIENT_OPEN || c->kind != CLIENT_KIND_CLIENT) continue;
    /* The bound user lives in the old options, about to be freed. */
    if (c->auth) c->auth->user = NULL;
    if (client_moved_account(c, a)) {
      client_close(c, CLOSED_CLIENT_CLOSED);
      continue;
    }
    int r = authenticate(c);
    if (r < 0) continue;
    if (r == 0) {
      log_auth_violation(c);
      client_send_err(c, errors_text(NATS_ERR_AUTH_VIOLATION));
      client_close(c, errors_closed_state(NATS_ERR_AUTH_VIOLATION));
      continue;
    }
    /* Go's applyAccountLimits: the smaller of server and account payload. */
    int64_t mpay = s->opts->max_payload;
    if (c->acc && c->acc->max_payload >= 0 && c->acc->max_payload < mpay) mpay = c->acc->max_payload;
    c->parser.max_payload = mpay;
    client_recheck_subs(c);
    g_hash_table_add(rechecked, c);
  }
  /* Whoever was not rechecked above (not past CONNECT yet) and still has
   * subscriptions in an account whose stream imports changed gets its
   * shadows rebuilt too: the old imports are freed next. */
  for (guint i = 0; i < clients->len; i++) {
    Client *c = clients->pdata[i];
    if (g_hash_table_contains(rechecked, c) || !c->acc || !c->acc->old_stream_imports || !c->subs) continue;
    g_autoptr(GPtrArray) subs = g_ptr_array_new_with_free_func((GDestroyNotify)subscription_unref);
    g_hash_table_iter_init(&it, c->subs);
    while (g_hash_table_iter_next(&it, &key, &value)) g_ptr_array_add(subs, subscription_ref(value));
    for (guint k = 0; k < subs->len; k++) accounts_import_reload_sub(c->acc, subs->pdata[k]);
  }
  accounts_import_reload_finish(all);
  auth_free(old);
}
