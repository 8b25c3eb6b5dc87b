/* jwt_auth.h — decentralized auth ("operator mode"): the operator, trusted,
 * resolver and resolver_preload options, trusted keys, the MEMORY account
 * resolver, accounts built from account JWTs, and the CONNECT path for
 * user JWTs (signed nonce or bearer), with expiry, revocation, limits and
 * permissions from the claims (nats-server jwt.go, the JWT half of
 * auth.go's processClientOrLeafAuthentication, the resolver and claim parts
 * of accounts.go).  auth.c calls in; JWT parsing itself is jwt.c.
 * Thread: protocol loop; the conf functions run on the main thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "conf_parse.h"
#include "forward.h"

typedef enum JwtResolverKind { JWT_RESOLVER_NONE = 0, JWT_RESOLVER_MEMORY, JWT_RESOLVER_URL } JwtResolverKind;

/* Operator-mode options (Options.jwt). */
typedef struct JwtAuthConf {
  GPtrArray *operators;        /* owned JwtClaims*: trusted operators (operator option) */
  GPtrArray *operator_jwts;    /* owned char*: each operator JWT as nats-server keeps it (varz) */
  GPtrArray *trusted_keys;     /* owned char*; NULL = not configured */
  bool validated;              /* jwt_auth_validate_options ran (it expands trusted_keys once) */
  JwtResolverKind resolver;
  char *resolver_url;          /* owned: URL resolver base, ends in '/'; NULL unless JWT_RESOLVER_URL */
  GHashTable *preload;         /* owned: account pubkey → account JWT (both owned); NULL = none */
  GPtrArray *pinned;           /* owned char*: resolver_pinned_accounts; NULL = none */
  GPtrArray *operator_claims;  /* owned char*: payload JSON of each operator JWT (varz) */
} JwtAuthConf;

void jwt_auth_conf_free(JwtAuthConf *c);   /* accepts NULL */

/* Option parsers (opts.c's table rows); errors as nats-server words them. */
void jwt_auth_conf_operator(Options *o, const ConfValue *v, GPtrArray *errors);
void jwt_auth_conf_trusted(Options *o, const ConfValue *v, GPtrArray *errors);
void jwt_auth_conf_resolver(Options *o, const ConfValue *v, GPtrArray *errors);
void jwt_auth_conf_preload(Options *o, const ConfValue *v, GPtrArray *errors);
void jwt_auth_conf_pinned(Options *o, const ConfValue *v, GPtrArray *errors);
/* nats-server's validateTrustedOperators (also expands the trusted keys
 * from the operators).  Error message (transfer full) or NULL. */
char *jwt_auth_validate_options(Options *o);

/* Server side.  jwt_auth_server_setup returns false with *error set when the
 * resolver preloads are unusable.  Active only with trusted keys. */
bool jwt_auth_server_setup(Server *s, char **error);
void jwt_auth_server_free(Server *s);
bool jwt_auth_enabled(const Server *s);
/* The "Trusted Operators" startup lines and preload warnings. */
void jwt_auth_log_startup(Server *s);

/* Finds or fetches (from the resolver) the account `name` (the system
 * account at startup).  NULL with *error (transfer full) when the resolver
 * cannot provide a valid one. */
Account *jwt_auth_ensure_account(Server *s, const char *name, char **error);

/* Monitoring.  connz: the JWT user's public key, issuer key, name and tags
 * (NULL when c has no JWT user; tags borrowed).  varz: the operator JWTs,
 * their claims as JSON text (both borrowed char* arrays, NULL = none), and
 * the count of users refused by resolver_pinned_accounts. */
const char *jwt_auth_client_pubkey(const Client *c);
const char *jwt_auth_client_issuer_key(const Client *c);
const char *jwt_auth_client_name_tag(const Client *c);
GPtrArray *jwt_auth_client_tags(const Client *c);
GPtrArray *jwt_auth_operator_jwts(const Server *s);
GPtrArray *jwt_auth_operator_claims_json(const Server *s);
uint64_t jwt_auth_pinned_fails(const Server *s);

/* CONNECT with trusted keys: 1 authenticated, 0 refused (the caller logs
 * the violation), -1 the client was closed while binding. */
int jwt_auth_client_connect(Client *c);
/* Client teardown: stops its expiry timer, frees its JWT user. */
void jwt_auth_client_free(Client *c);
