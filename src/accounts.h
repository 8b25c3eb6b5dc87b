/* accounts.h — accounts: each has its own subject space (Sublist), and may
 * share parts of it with others through exports and imports (streams and
 * services), and rewrite published subjects through mappings (nats-server
 * accounts.go).  Owned by the Server; clients hold a borrowed pointer for
 * their lifetime.  Protocol loop thread only.
 *
 * Files: accounts.c (this state and Go's Add... and check... rules), accounts_conf.c
 * (the `accounts {}` exports/imports and `mappings {}` config), and
 * accounts_import.c (runtime: shadow subscriptions for stream imports,
 * request forwarding and response routing for service imports). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "forward.h"
#include "loop.h"

typedef struct SubjectTransform SubjectTransform;

/* Go ServiceRespType */
typedef enum ServiceRespType { SERVICE_RESP_SINGLETON = 0, SERVICE_RESP_STREAMED, SERVICE_RESP_CHUNKED } ServiceRespType;
const char *account_resp_type_string(ServiceRespType rt);  /* "Singleton", "Streamed", "Chunked" */

/* Go DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD */
#define DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD_US (2 * 60 * G_USEC_PER_SEC)
#define DEFAULT_SERVICE_LATENCY_SAMPLING 100
/* Go MaxAccountCycleSearchDepth */
#define MAX_ACCOUNT_CYCLE_SEARCH_DEPTH 1024

/* One weighted destination of a mapping; weight is cumulative once the
 * mapping is complete (Go sorts and accumulates). */
typedef struct AccountMapDest {
  SubjectTransform *tr;   /* owned */
  uint8_t weight;
  uint8_t conf_weight;    /* as configured, for monitoring */
  char *cluster;          /* owned; NULL = any cluster */
} AccountMapDest;

typedef struct AccountMapping {
  char *src;              /* owned */
  bool wc;                /* src has a wildcard */
  GPtrArray *dests;       /* owned AccountMapDest*, cluster-less, cumulative weights */
  GPtrArray *cdests;      /* owned AccountMapDest*: cluster-scoped (never selected: no clusters) */
} AccountMapping;

/* Go exportAuth */
typedef struct ExportAuth {
  bool token_req;
  uint32_t account_pos;
  GPtrArray *approved;    /* owned char* account names; NULL = public */
} ExportAuth;

typedef struct StreamExport {
  char *subject;          /* owned */
  bool has_auth;          /* Go: a non-nil *streamExport */
  ExportAuth auth;
} StreamExport;

typedef struct ServiceExport {
  char *subject;          /* owned */
  Account *acc;           /* borrowed: the exporting account */
  ExportAuth auth;
  ServiceRespType resp_type;
  int64_t resp_thresh_us;
  char *latency_subject;  /* owned; NULL = no latency tracking */
  int latency_sampling;
  Timer resp_timer;       /* response threshold sweep (Go rtmr) */
  bool timer_armed;
} ServiceExport;

typedef struct StreamImport {
  Account *acc;           /* borrowed: exporting account */
  char *from, *to;        /* owned */
  SubjectTransform *tr;   /* owned; NULL unless from has wildcards and to differs */
  SubjectTransform *rtr;  /* owned; reverse, built on first use */
  bool use_pub;
} StreamImport;

typedef struct ServiceImport {
  Account *acc;           /* borrowed: destination (exporter; for responses, the requester's account) */
  ServiceExport *se;      /* borrowed; may be NULL */
  char *from, *to;        /* owned */
  SubjectTransform *tr;   /* owned */
  ServiceRespType rt;
  bool use_pub, response, share, invalid;
  int64_t ts;             /* µs monotonic: response created / last used */
  /* Latency tracking of a sampled singleton response (Go si.tracking). */
  bool tracking, did_deliver;
  char *requestor;        /* owned: requestor's ClientInfo JSON */
  char *tracking_hdr;     /* owned: JSON of the trace headers that asked for the sample; NULL = none */
  int64_t requestor_rtt_ns;
  int64_t start_real_us;  /* wall clock of the request, for "start" */
  const char *latency_subject; /* borrowed from the ServiceExport */
  Subscription *sub;      /* one ref: the internal subscription on `from` (configured imports) */
  /* A response mapping removed while a message through it is still being
   * delivered (e.g. the requester's subscription auto-unsubscribed) is
   * freed by that delivery when it ends, not under its feet. */
  int busy;
  bool dead;
} ServiceImport;

/* Go serviceRespEntry: a response mapping `msub` in account `acc`. */
typedef struct AccountRespEntry {
  Account *acc;  /* borrowed */
  char *msub;    /* owned */
} AccountRespEntry;

struct Account {
  char *name;            /* owned */
  Sublist *sublist;      /* owned */
  Server *srv;           /* borrowed; NULL for accounts built only to check a config */
  uint32_t num_clients;  /* local clients bound to it */
  int64_t max_connections, max_subscriptions, max_payload; /* accounts{} limits; -1 = none */
  uint64_t in_msgs, in_bytes, out_msgs, out_bytes;
  uint64_t slow_consumers;   /* of its clients (/accstatz) */

  /* Exports, imports and mappings; all NULL for a plain account, so the
   * publish path pays one pointer test. */
  GPtrArray *mappings;        /* owned AccountMapping*; NULL = none */
  GPtrArray *stream_exports;  /* owned StreamExport* */
  GPtrArray *service_exports; /* owned ServiceExport* */
  GPtrArray *stream_imports;  /* owned StreamImport* */
  GPtrArray *service_imports; /* owned ServiceImport*, config order */
  GHashTable *responses;      /* reply subject → ServiceImport* (owned): pending responses (Go exports.responses) */
  GHashTable *rr_map;         /* requester's reply subject (owned) → GPtrArray of AccountRespEntry* (owned):
                                 this account's requests waiting in other accounts (Go imports.rrMap) */
  char *si_reply;             /* owned: "_R_.xxxxxx." once needed */
  Subscription *resp_sub;     /* one ref: internal "_R_.xxxxxx.>" subscription */
  /* Config reload (accounts_import_reload_*): the stream imports a reload
   * replaced, kept while shadow subscriptions still point at them; and
   * service exports a reload replaced that pending responses still name
   * (Go keeps the old export alive through them). */
  GPtrArray *old_stream_imports;      /* owned StreamImport*; NULL outside a reload */
  GPtrArray *retired_service_exports; /* owned ServiceExport*; NULL = none */
  GPtrArray *old_resp_subs;  /* owned refs: "_R_" subscriptions of reply prefixes a reload retired; they stay in
                                the sublist for answers still pending, as Go's do (and count in /accountz) */
  uint64_t isid;              /* internal subscription ids */
  uint64_t prand;             /* xorshift state for weighted mappings and reply ids */
};

Account *account_new(const char *name, bool sublist_cache);   /* (transfer full) */
void account_free(Account *acc);                             /* accepts NULL */

/* ---- Go's Account API (accounts.go); errors are Go's texts (transfer full) */

/* AddWeightedMappings: dests are (subject, weight 0-100, cluster or NULL). */
typedef struct AccountMapDestSpec {
  const char *subject;
  int weight;
  const char *cluster;
} AccountMapDestSpec;
char *account_add_mapping(Account *a, const char *src, const AccountMapDestSpec *dests, size_t n);
char *account_add_stream_export(Account *a, const char *subject, GPtrArray *accounts /* char*, NULL = public */,
                                uint32_t account_pos);
char *account_add_service_export(Account *a, const char *subject, ServiceRespType rt,
                                 GPtrArray *accounts, uint32_t account_pos);
ServiceExport *account_get_service_export(Account *a, const char *subject);
/* AddStreamImport (prefix) / AddMappedStreamImport (to). */
char *account_add_stream_import(Account *a, Account *exporter, const char *from, const char *prefix);
char *account_add_mapped_stream_import(Account *a, Account *exporter, const char *from, const char *to);
/* AddServiceImport(destination, from, to). */
char *account_add_service_import(Account *a, Account *dest, const char *from, const char *to);

/* Go selectMappedSubject, in two steps so the caller can size its buffer:
 * returns false when no mapping applies; else *tr is the picked
 * destination's transform, or NULL when the weighted pick chose none (the
 * message then goes nowhere, as in Go).  Apply it with
 * subject_transform_apply(). */
bool account_select_mapping(Account *a, const char *subject, size_t len, const SubjectTransform **tr);

/* ---- runtime (accounts_import.c) -------------------------------------- */

/* After the server's accounts exist: internal subscriptions for the
 * service imports, except in the accounts in `skip` (Account*; may be NULL). */
void accounts_import_start(Server *s, GHashTable *skip);

/* Config reload (Go reloadAuthorization with configured accounts), on
 * accounts that keep their identity, sublist and clients:
 *   1. _detach: mappings and exports go (an export that pending responses
 *      still use is retired, not freed), service imports go with their
 *      internal subscriptions, stream imports are put aside;
 *   2. the new config's sharing is applied as at startup;
 *   3. _streams_changed: false when the new stream imports equal the old ones
 *      (by account name, from and to: Go checkStreamImportsEqual), which are
 *      then kept so existing shadow subscriptions stay as they are;
 *   4. _sub: for each subscription of a changed account, shadows for the new
 *      imports replace the old ones (Go processSubsOnConfigReload);
 *   5. _finish: frees the put-aside imports and the retired exports no
 *      pending response names any more. */
void accounts_import_reload_detach(Account *a);
/* For the accounts Go rebuilds as new objects (configured ones and $G): the
 * next request through a service export starts a new "_R_" reply prefix;
 * the old prefix's subscription stays for the answers pending under it. */
void accounts_import_reload_renew_reply(Account *a);
bool accounts_import_reload_streams_changed(Account *a);
void accounts_import_reload_sub(Account *a, Subscription *sub);
void accounts_import_reload_finish(GPtrArray *accounts /* Account*, every one alive */);
/* A client subscription was added to / removed from acc: shadow
 * subscriptions in the exporting accounts of its stream imports. */
void accounts_import_sub_added(Account *acc, Subscription *sub);
void accounts_import_sub_removed(Subscription *sub);
/* A subscription on `subject` left acc: response mappings waiting for a
 * reply subject nobody in acc listens to any more are dropped (Go
 * checkForReverseEntry). */
void accounts_import_check_reply_interest(Account *acc, const char *subject);
/* The subject a shadow subscription delivers under: points *subject at
 * buf (cap bytes) or at a new *heap.  False if it cannot be built. */
bool accounts_import_delivery_subject(const StreamImport *im, const char **subject, size_t *len, char *buf,
                                      size_t cap, char **heap);
/* The internal subscription of one service import the server adds by
 * itself (events.c: the system imports every account gets). */
void accounts_import_subscribe(Account *a, ServiceImport *si);
