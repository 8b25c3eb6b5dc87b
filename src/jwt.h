/* jwt.h — NATS JWTs (nats-io/jwt v2 format): decoding, Ed25519 signature
 * check against the issuer's nkey, the claims cnatsd uses, and the claim
 * validation nats-server applies (times, permission subjects, src CIDRs,
 * connect time ranges).  Pure functions, any thread; no logging.
 *
 * A token is header.payload.signature, each base64url without padding; the
 * header must be {"typ":"JWT","alg":"ed25519-nkey"}; the signature covers
 * "header.payload" and is made by the key named in "iss". */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define JWT_NO_LIMIT (-1)
#define JWT_MAX_TOKEN_LEN (1024 * 1024)  /* bigger tokens are refused outright */

typedef enum JwtClaimType { JWT_CLAIM_OTHER = 0, JWT_CLAIM_OPERATOR, JWT_CLAIM_ACCOUNT, JWT_CLAIM_USER } JwtClaimType;

typedef struct JwtPermissions {
  GPtrArray *pub_allow, *pub_deny, *sub_allow, *sub_deny; /* owned char*; never NULL */
  bool has_resp;           /* "resp" given */
  int64_t resp_max;        /* resp.max */
  int64_t resp_ttl_ns;     /* resp.ttl (a Go time.Duration) */
} JwtPermissions;

typedef struct JwtTimeRange {
  char *start, *end;       /* owned: "15:04:05" */
} JwtTimeRange;

/* Go's jwt.UserPermissionLimits: what a user JWT (or a scoped signing key's
 * template) grants. */
typedef struct JwtUserLimits {
  JwtPermissions perms;
  GPtrArray *src;          /* owned char*: CIDRs; never NULL */
  GPtrArray *times;        /* owned JwtTimeRange*; never NULL */
  char *locale;            /* owned; NULL = local time */
  int64_t subs, data, payload; /* absent = 0, as Go decodes it */
  bool bearer;
  GPtrArray *conn_types;   /* owned char*; never NULL */
  bool empty;              /* no permission, limit or flag at all (Go's HasEmptyPermissions) */
} JwtUserLimits;

/* An account signing key; scoped keys carry a user template. */
typedef struct JwtSigningKey {
  char *key;               /* owned */
  bool scoped;
  char *role;              /* owned; scoped only */
  JwtUserLimits tmpl;      /* scoped only */
} JwtSigningKey;

typedef struct JwtClaims {
  JwtClaimType type;
  int version;
  char *jti, *issuer, *subject, *name, *audience; /* owned; "" when absent */
  int64_t iat, exp, nbf;   /* unix seconds; 0 = absent */
  GPtrArray *tags;         /* owned char*, lower-cased; never NULL */

  /* operator */
  GPtrArray *op_signing_keys;      /* owned char*; never NULL */
  char *system_account;            /* owned; "" when absent */
  char *account_server_url;        /* owned; "" */
  char *assert_server_version;     /* owned; "" */
  bool strict_signing_key_usage;

  /* account */
  int64_t lim_subs, lim_data, lim_payload, lim_conn, lim_leaf, lim_imports, lim_exports;
  bool lim_wildcards, lim_disallow_bearer;
  GHashTable *acc_signing_keys;    /* owned: key (owned by the entry) → JwtSigningKey* (owned) */
  GHashTable *revocations;         /* owned: pubkey or "*" (owned) → int64_t* (owned) */
  JwtPermissions default_perms;

  /* user */
  JwtUserLimits user;
  char *issuer_account;            /* owned; "" */
} JwtClaims;

/* Decodes and signature-checks token (Go's jwt.Decode).  Returns NULL with
 * *error set to Go's message ("expected 3 chunks", "claim failed V2
 * signature verification", ...) on any problem. (transfer full) */
JwtClaims *jwt_decode(const char *token, char **error);
void jwt_claims_free(JwtClaims *c);   /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JwtClaims, jwt_claims_free)

/* Go's Claims.Validate + IsBlocking(true): blocking issues (time checks and
 * errors) at unix time `now`, described as Go prints them, appended to
 * issues (char*, owned by the array).  Returns true when there are none. */
bool jwt_claims_validate(const JwtClaims *c, int64_t now, GPtrArray *issues);

/* Go's validateSrc: the user's src CIDRs admit host (an IP literal). */
bool jwt_src_allows(const JwtClaims *c, const char *host);
/* Go's validateTimes: whether now (µs since the epoch) falls in one of the
 * user's connect time ranges; *valid_for_us is how long it stays inside
 * (0 when there are no ranges). */
bool jwt_times_allow(const JwtClaims *c, int64_t now_us, int64_t *valid_for_us);
/* Go's isRevoked: revocations holds pubkey (or "*") with a time at or after iat. */
bool jwt_is_revoked(GHashTable *revocations, const char *pubkey, int64_t iat);

/* Go's processUserPermissionsTemplate: expands {{name()}}, {{subject()}},
 * {{account-name()}}, {{account-subject()}}, {{tag(x)}}, {{account-tag(x)}}
 * in the template's permission lists into out (initialised here).  False
 * ("generated invalid permissions") when a deny entry expands badly. */
bool jwt_apply_template(const JwtUserLimits *tmpl, const JwtClaims *user, const char *account_name,
                        GPtrArray *account_tags, JwtPermissions *out);
void jwt_permissions_clear(JwtPermissions *p);

/* The decoded payload (claims JSON text) of token, unverified; NULL when
 * it is not three base64url chunks. (transfer full) */
char *jwt_payload_json(const char *token);

/* For a decorated creds/operator file: the first JWT in text (between
 * "-----BEGIN ... JWT-----" lines), or the whole text trimmed. (transfer full) */
char *jwt_parse_decorated(const char *text);

/* Go's jwt.ParseServerVersion on "major.minor.update"; "" is 0.0.0. */
bool jwt_parse_server_version(const char *v, int *major, int *minor, int *update, char **error);

/* Go's time.Time.String() of a unix time in local time:
 * "2006-01-02 15:04:05 -0700 MST". (transfer full) */
char *jwt_format_time(int64_t unix_secs);
