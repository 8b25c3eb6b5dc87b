/* auth.h — client authentication and authorization (nats-server auth.go and
 * the permission parts of client.go): users with plain or bcrypt passwords,
 * a single user/password or token, NKey users answering the INFO nonce,
 * no_auth_user, and publish/subscribe permissions with their caches.
 *
 * Three layers:
 *  - config: AuthUser/AuthPermissions parsed from `authorization {}` and
 *    `accounts {}` (auth_conf_*), owned by Options;
 *  - server: Auth, built once at startup from the options (auth_server_new);
 *  - client: ClientAuth, per connection (nonce, bound user, caches).
 * Pure checks (auth_password_matches, auth_nkey_verify, auth_perms_*) have no
 * server state so unit tests can call them directly.
 * Thread: protocol loop (config parsing on the main thread before it). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf_parse.h"
#include "forward.h"

#define AUTH_NONCE_RAW_LEN 11
#define AUTH_NONCE_LEN 15               /* base64url (raw) of 11 bytes */
#define AUTH_MAX_PERM_CACHE_SIZE 128     /* Go's maxPermCacheSize */
#define AUTH_MAX_DENY_PERM_CACHE_SIZE 256 /* Go's maxDenyPermCacheSize */
#define AUTH_PRUNE_SIZE 32               /* Go's pruneSize */
#define AUTH_REPLY_PERM_LIMIT 4096       /* Go's replyPermLimit */
#define DEFAULT_ALLOW_RESPONSE_MAX_MSGS 1
#define DEFAULT_ALLOW_RESPONSE_EXPIRATION_US (2 * 60 * G_USEC_PER_SEC)

typedef struct AuthSubjectPerm {
  GPtrArray *allow;   /* owned char*; NULL = not given (everything allowed) */
  GPtrArray *deny;    /* owned char*; NULL = not given */
} AuthSubjectPerm;

typedef struct AuthPermissions {
  int refcount;
  AuthSubjectPerm *publish;    /* owned; NULL = not given */
  AuthSubjectPerm *subscribe;  /* owned; NULL = not given */
  bool has_response;           /* allow_responses */
  int64_t resp_max_msgs;       /* <= 0: unlimited */
  int64_t resp_expires_us;     /* <= 0: never */
  /* Compiled on first use (Go builds these per client in setPermissions;
   * here once per permission set, shared by its clients).  All owned. */
  bool compiled;
  Sublist *pub_allow, *pub_deny, *sub_allow, *sub_deny;
  Sublist *deliver_deny;       /* subscribe.deny entries taken whole (Go's mperms) */
} AuthPermissions;

/* Connection types (allowed_connection_types), as a bit set; 0 = all. */
enum { AUTH_CT_STANDARD = 1, AUTH_CT_WEBSOCKET = 2, AUTH_CT_LEAFNODE = 4, AUTH_CT_LEAFNODE_WS = 8,
       AUTH_CT_MQTT = 16, AUTH_CT_MQTT_WS = 32 };

typedef struct AuthUser {
  char *username;          /* owned; NULL for nkey users */
  char *password;          /* owned; plain or bcrypt; may be NULL */
  char *nkey;              /* owned; NULL for password users */
  AuthPermissions *perms;  /* one ref; NULL = no permissions */
  char *account_name;      /* owned; NULL = the global account */
  Account *account;        /* borrowed: resolved by auth_server_new */
  uint32_t conn_types;     /* AUTH_CT_* bits, 0 = any */
  bool jwt_limits;         /* user JWT: max_subs/max_payload apply (-1 = unlimited) */
  int64_t max_subs, max_payload;
} AuthUser;

/* Account declared in the config (accounts {} block). */
typedef struct AuthAccountConf {
  char *name;              /* owned */
  int64_t max_connections; /* -1 = unlimited */
  int64_t max_subscriptions;
  int64_t max_payload;
  struct AccountsConf *sharing; /* owned: mappings, exports, imports (accounts_conf.c); NULL = none */
} AuthAccountConf;

/* ---- config ------------------------------------------------------------- */

AuthPermissions *auth_permissions_ref(AuthPermissions *p);
void auth_permissions_unref(AuthPermissions *p);          /* accepts NULL */
void auth_user_free(AuthUser *u);                         /* accepts NULL */
void auth_account_conf_free(AuthAccountConf *a);          /* accepts NULL */

/* Parses `authorization { ... }` into o.  Errors (nats-server texts,
 * "file:line:col: msg") are appended to errors. */
void auth_conf_parse_authorization(Options *o, const ConfValue *v, GPtrArray *errors, GPtrArray *warnings);
/* Parses `accounts { NAME { users [...] ... } }` or `accounts [A, B]`. */
void auth_conf_parse_accounts(Options *o, const ConfValue *v, GPtrArray *errors, GPtrArray *warnings);
/* Parses a permissions map (exposed for tests). (transfer full) or NULL */
AuthPermissions *auth_conf_parse_permissions(const ConfValue *v, GPtrArray *errors);
/* Startup checks of nats-server's validateAuth (no_auth_user must name a user).
 * Returns an error message (transfer full) or NULL. */
char *auth_validate_options(const Options *o);

/* ---- pure checks -------------------------------------------------------- */

/* Go's isBcrypt: "$2a$", "$2b$", "$2x$" or "$2y$" followed by two digits and '$'. */
bool auth_is_bcrypt(const char *s);
/* Server-side secret vs what the client sent: bcrypt via crypt_r(3), plain
 * text in constant time.  NULL counts as "". */
bool auth_password_matches(const char *server_secret, const char *client_secret);
/* Verifies a CONNECT sig (base64url raw, or standard base64) made by the user
 * nkey `nkey` over `nonce`. */
bool auth_nkey_verify(const char *nkey, const char *nonce, size_t nonce_len, const char *sig);
/* Fills out with a fresh nonce (AUTH_NONCE_LEN chars + NUL). */
void auth_nonce_generate(char out[AUTH_NONCE_LEN + 1]);

/* Permission checks without caches, as nats-server evaluates them. */
bool auth_perms_pub_allowed(AuthPermissions *p, const char *subject, size_t len);
bool auth_perms_can_subscribe(AuthPermissions *p, const char *subject, size_t len, const char *queue,
                              size_t queue_len, bool *load_deliver_deny);
bool auth_perms_deliver_denied(AuthPermissions *p, const char *subject, size_t len);

/* ---- server ------------------------------------------------------------- */

/* Builds the server's accounts and auth state from s->opts.  On failure
 * returns false with a message nats-server would print. */
bool auth_server_setup(Server *s, GError **error);
void auth_server_free(Server *s);
/* After a config reload put the new options in s->opts (the old ones still
 * alive): rebuilds accounts and users, then rechecks every client as Go's
 * reloadAuthorization does — moved or removed users are closed, failing
 * credentials get 'Authorization Violation', subscriptions the new
 * permissions refuse are removed with an -ERR.  Accounts that stay keep their
 * sublist and clients; their mappings, exports and imports are replaced by
 * the new config's (service import subscriptions renewed, stream import
 * shadows rebuilt where the stream imports changed, pending service
 * responses kept).  Nothing points into the old options afterwards. */
void auth_server_reload(Server *s);
/* INFO "auth_required" (false when no_auth_user is set). */
bool auth_info_required(const Server *s);

/* ---- client ------------------------------------------------------------- */

/* At accept: nonce, parser gate, auth timer. */
/* Starts the auth timer afresh (after a TLS handshake, as nats-server). */
void auth_client_restart_timer(Client *c);
void auth_client_start(Client *c);
/* Frees c->auth. */
void auth_client_free(Client *c);
/* The nonce for INFO, or NULL. */
const char *auth_client_nonce(const Client *c);
/* CONNECT received (options parsed): stops the auth timer and authenticates.
 * Returns NATS_OK, NATS_ERR_AUTH_VIOLATION (logged here; the caller sends
 * the -ERR and closes), or NATS_ERR_CLIENT_CLOSED when auth closed it. */
int auth_client_connect(Client *c);
/* Binds c to u (account, permissions, limits): Go's RegisterNkeyUser.
 * False when the client was closed (account connection limit). */
bool auth_client_register_user(Client *c, AuthUser *u);
/* The parser's hook for an op before CONNECT (no_auth_user path). */
int auth_client_op_before_connect(Client *c);
/* PUB: true if allowed (permissions, reserved subject and reply prefixes);
 * otherwise the -ERR is sent and logged. */
bool auth_client_check_publish(Client *c, const char *subject, size_t len, const char *reply, size_t reply_len);
/* SUB: true if allowed; otherwise the -ERR is sent and logged. */
bool auth_client_check_subscribe(Client *c, const char *subject, size_t len, const char *queue, size_t queue_len,
                                 const char *sid, size_t sid_len);
/* Delivery to c: false if c's subscribe deny list covers subject. */
bool auth_client_deliver_allowed(Client *c, const char *subject, size_t len);
/* After delivering a message with a reply subject to c (allow_responses). */
void auth_client_track_reply(Client *c, const char *reply, size_t len);
/* Effective max subscriptions for c (-1 = unlimited), from server and account. */
int64_t auth_client_max_subs(const Client *c);
/* CONNECT JSON for the trace log with the first password value replaced by
 * [REDACTED], as nats-server's removePassFromTrace does. (transfer full) */
char *auth_redact_password(const char *json, size_t len);
/* Writes s as Go's %q does. */
void auth_go_quote(GString *out, const char *s, size_t len);
