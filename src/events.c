/* events.c — the system account's internal client (nats-server events.go
 * and the system half of accounts.go).
 *
 * Owns: the internal subscriptions in the system account that answer
 * $SYS.REQ.SERVER.* / $SYS.REQ.ACCOUNT.* requests, the service exports of
 * the system account and the imports every other account gets from it
 * ($SYS.REQ.SERVER.PING.CONNZ, $SYS.REQ.ACCOUNT.PING.CONNZ|STATZ), the
 * advisories (client connect/disconnect, auth errors, account connection
 * counts, server shutdown) and the statsz heartbeat.
 *
 * Protocol loop thread only.  Callers: server.c (start/stop, closed
 * clients), client.c (CONNECT done).
 *
 * Design: an internal subscription is a client-less Subscription whose
 * `icb` runs instead of a delivery (as accounts_import.c's).  Requests
 * answer through the queue below: Go sends from its own goroutine, and
 * answering inline would re-enter the service import that carried the
 * request (its cycle check would drop the answer).  So every message the
 * server makes is queued and published into the system account from a
 * zero-delay loop timer; the monitoring endpoints' JSON comes from the
 * same builders as /varz, /connz... (monitor_build). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "accounts.h"
#include "client.h"
#include "const.h"
#include "errors.h"
#include "events.h"
#include "json_scan.h"
#include "log.h"
#include "monitor.h"
#include "monitor_json.h"
#include "opts.h"
#include "parser.h"
#include "server.h"
#include "sublist.h"
#include "subscription.h"

/* Go eventsHBInterval; statsz starts at 250 ms and doubles up to it. */
#define EVENTS_HB_INTERVAL_US (30 * G_USEC_PER_SEC)
#define EVENTS_FIRST_STATSZ_US (250 * 1000)
#define EVENTS_MAX_QUEUED 65536  /* messages waiting for the send timer */
#define EVENTS_MAX_JSON_DEPTH 1000  /* json-glib recurses per level; Go allows 10000 */

typedef struct PendingMsg {
  char *subject;  /* owned */
  GString *body;  /* owned */
} PendingMsg;

struct Events {
  Server *srv;             /* borrowed */
  Account *sys;            /* borrowed: the system account */
  GPtrArray *subs;         /* owned refs: internal subscriptions in sys */
  uint64_t seq;            /* ServerInfo "seq" */
  uint64_t sid;
  char shash[9];           /* Go getHash(server name) */
  GQueue queue;            /* owned PendingMsg* */
  Timer send_timer;
  Timer statsz_timer;
  int64_t cstatsz_us;      /* current statsz interval */
  Timer conns_timer;       /* account connection counts heartbeat */
};

/* What a request subscription answers. */
typedef enum Ep {
  EP_NONE,  /* kept for the subscription count only (clustering features) */
  EP_STATSZ, EP_VARZ, EP_SUBSZ, EP_CONNZ, EP_ROUTEZ, EP_GATEWAYZ, EP_LEAFZ, EP_ACCOUNTZ, EP_JSZ, EP_HEALTHZ,
  EP_ACC_SUBSZ, EP_ACC_CONNZ, EP_ACC_LEAFZ, EP_ACC_JSZ, EP_ACC_INFO, EP_ACC_STATZ, EP_ACC_CONNS, EP_ACC_PING_STATZ,
} Ep;

/* ---- JSON request options (Go json.Unmarshal into *EventOptions) -------- */

typedef enum OptType { OT_BOOL, OT_INT, OT_UINT, OT_STRING, OT_STRLIST, OT_SUBS_DETAIL } OptType;

typedef struct OptField {
  const char *json;   /* Go's json tag */
  OptType type;
  const char *query;  /* the HTTP query parameter it becomes; NULL = only checked */
} OptField;

static const OptField filter_fields[] = {
    {"server_name", OT_STRING, NULL}, {"cluster", OT_STRING, NULL}, {"host", OT_STRING, NULL},
    {"tags", OT_STRLIST, NULL},       {"domain", OT_STRING, NULL},  {NULL, 0, NULL},
};
static const OptField connz_fields[] = {
    {"sort", OT_STRING, "sort"},   {"auth", OT_BOOL, "auth"},   {"subscriptions", OT_BOOL, "subs"},
    {"subscriptions_detail", OT_SUBS_DETAIL, "subs"}, {"offset", OT_INT, "offset"}, {"limit", OT_INT, "limit"},
    {"cid", OT_UINT, "cid"},       {"mqtt_client", OT_STRING, "mqtt_client"}, {"state", OT_INT, "state"},
    {"user", OT_STRING, "user"},   {"acc", OT_STRING, "acc"},   {"filter_subject", OT_STRING, NULL}, {NULL, 0, NULL},
};
static const OptField subsz_fields[] = {
    {"offset", OT_INT, "offset"},  {"limit", OT_INT, "limit"}, {"subscriptions", OT_BOOL, "subs"},
    {"account", OT_STRING, "acc"}, {"test", OT_STRING, "test"}, {NULL, 0, NULL},
};
static const OptField routez_fields[] = {
    {"subscriptions", OT_BOOL, NULL}, {"subscriptions_detail", OT_BOOL, NULL}, {NULL, 0, NULL},
};
static const OptField gatewayz_fields[] = {
    {"name", OT_STRING, NULL}, {"accounts", OT_BOOL, NULL}, {"account_name", OT_STRING, NULL}, {NULL, 0, NULL},
};
static const OptField leafz_fields[] = {
    {"subscriptions", OT_BOOL, "subs"}, {"account", OT_STRING, "acc"}, {NULL, 0, NULL},
};
static const OptField accountz_fields[] = {{"account", OT_STRING, "acc"}, {NULL, 0, NULL}};
static const OptField jsz_fields[] = {
    {"account", OT_STRING, "acc"}, {"accounts", OT_BOOL, "accounts"}, {"streams", OT_BOOL, "streams"},
    {"consumer", OT_BOOL, "consumers"}, {"config", OT_BOOL, "config"}, {"leader_only", OT_BOOL, "leader-only"},
    {"offset", OT_INT, "offset"}, {"limit", OT_INT, "limit"}, {NULL, 0, NULL},
};
static const OptField healthz_fields[] = {
    {"js-enabled-only", OT_BOOL, "js-enabled-only"}, {"js-server-only", OT_BOOL, "js-server-only"}, {NULL, 0, NULL},
};
static const OptField accstatz_fields[] = {
    {"accounts", OT_STRLIST, NULL}, {"include_unused", OT_BOOL, NULL}, {NULL, 0, NULL},
};
static const OptField none_fields[] = {{NULL, 0, NULL}};

typedef struct EpInfo {
  const char *name;          /* subject token */
  const char *endpoint;      /* monitor_build() endpoint; NULL = built here */
  const char *go_type;       /* Go options type, for unmarshal errors */
  const OptField *fields;
} EpInfo;

static const EpInfo ep_info[] = {
    [EP_NONE] = {"", NULL, "", none_fields},
    [EP_STATSZ] = {"STATSZ", NULL, "StatszEventOptions", none_fields},
    [EP_VARZ] = {"VARZ", "varz", "VarzEventOptions", none_fields},
    [EP_SUBSZ] = {"SUBSZ", "subsz", "SubszEventOptions", subsz_fields},
    [EP_CONNZ] = {"CONNZ", "connz", "ConnzEventOptions", connz_fields},
    [EP_ROUTEZ] = {"ROUTEZ", "routez", "RoutezEventOptions", routez_fields},
    [EP_GATEWAYZ] = {"GATEWAYZ", "gatewayz", "GatewayzEventOptions", gatewayz_fields},
    [EP_LEAFZ] = {"LEAFZ", "leafz", "LeafzEventOptions", leafz_fields},
    [EP_ACCOUNTZ] = {"ACCOUNTZ", "accountz", "AccountzEventOptions", accountz_fields},
    [EP_JSZ] = {"JSZ", "jsz", "JszEventOptions", jsz_fields},
    [EP_HEALTHZ] = {"HEALTHZ", "healthz", "HealthzEventOptions", healthz_fields},
    [EP_ACC_SUBSZ] = {"SUBSZ", "subsz", "SubszEventOptions", subsz_fields},
    [EP_ACC_CONNZ] = {"CONNZ", "connz", "ConnzEventOptions", connz_fields},
    [EP_ACC_LEAFZ] = {"LEAFZ", "leafz", "LeafzEventOptions", leafz_fields},
    [EP_ACC_JSZ] = {"JSZ", NULL, "JszEventOptions", jsz_fields},
    [EP_ACC_INFO] = {"INFO", NULL, "AccInfoEventOptions", none_fields},
    [EP_ACC_STATZ] = {"STATZ", NULL, "AccountStatzEventOptions", accstatz_fields},
    [EP_ACC_CONNS] = {"CONNS", NULL, "", none_fields},
    [EP_ACC_PING_STATZ] = {"STATZ", NULL, "AccountStatzEventOptions", accstatz_fields},
};

static const char *json_type_name(JsonNode *n) {
  switch (JSON_NODE_TYPE(n)) {
    case JSON_NODE_OBJECT: return "object";
    case JSON_NODE_ARRAY: return "array";
    case JSON_NODE_NULL: return NULL;
    default: break;
  }
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_STRING) return "string";
  if (t == G_TYPE_BOOLEAN) return "bool";
  return "number";
}

static const char *go_type_name(OptType t) {
  switch (t) {
    case OT_BOOL: case OT_SUBS_DETAIL: return "bool";
    case OT_INT: return "int";
    case OT_UINT: return "uint64";
    case OT_STRING: return "string";
    case OT_STRLIST: return "[]string";
  }
  return "";
}

/* Go's syntax error text for the first bad character, near enough:
 * encoding/json's scanner messages for the common cases. */
static char *syntax_error(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && g_ascii_isspace(s[i])) i++;
  if (i == n) return g_strdup("unexpected end of JSON input");
  char c = s[i];
  if (c == '{') {
    i++;
    while (i < n && g_ascii_isspace(s[i])) i++;
    if (i == n) return g_strdup("unexpected end of JSON input");
    if (s[i] != '"' && s[i] != '}')
      return g_strdup_printf("invalid character '%c' looking for beginning of object key string", s[i]);
    return g_strdup("unexpected end of JSON input");
  }
  if (!strchr("[\"-0123456789tfn", c) && (unsigned char)c >= 0x20)
    return g_strdup_printf("invalid character '%c' looking for beginning of value", c);
  return g_strdup("unexpected end of JSON input");
}

/* Decodes `body` against the fields of `ep` (and the filter fields) into
 * query parameters.  (transfer full) error text on failure. */
static char *decode_options(const EpInfo *ep, const char *body, size_t len, GHashTable *query, JsonObject **out_obj,
                            JsonParser **out_parser) {
  /* json-glib parses recursively: refuse deep nesting before it does
   * (Go's decoder stops at 10000 levels with this text). */
  size_t first_end;
  int depth;
  json_scan(body, len, &first_end, &depth);
  if (depth > EVENTS_MAX_JSON_DEPTH) return g_strdup("exceeded max depth");
  JsonParser *p = json_parser_new();
  if (!json_parser_load_from_data(p, body, (gssize)len, NULL) || !json_parser_get_root(p)) {
    g_object_unref(p);
    return syntax_error(body, len);
  }
  JsonNode *root = json_parser_get_root(p);
  if (JSON_NODE_TYPE(root) == JSON_NODE_NULL) {
    *out_parser = p;
    return NULL;
  }
  if (JSON_NODE_TYPE(root) != JSON_NODE_OBJECT) {
    const char *tn = json_type_name(root);
    char *e = g_strdup_printf("json: cannot unmarshal %s into Go value of type server.%s", tn, ep->go_type);
    g_object_unref(p);
    return e;
  }
  JsonObject *o = json_node_get_object(root);
  GList *members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *key = l->data;
    const OptField *f = NULL;
    for (const OptField *t = ep->fields; t->json && !f; t++)
      if (g_ascii_strcasecmp(t->json, key) == 0) f = t;
    for (const OptField *t = filter_fields; t->json && !f; t++)
      if (g_ascii_strcasecmp(t->json, key) == 0) f = t;
    if (!f) continue;  /* unknown members are ignored, as Go */
    JsonNode *n = json_object_get_member(o, key);
    const char *tn = json_type_name(n);
    if (!tn) continue;  /* null leaves the default */
    bool ok;
    switch (f->type) {
      case OT_BOOL: case OT_SUBS_DETAIL: ok = strcmp(tn, "bool") == 0; break;
      case OT_INT: case OT_UINT:
        ok = strcmp(tn, "number") == 0 && json_node_get_value_type(n) == G_TYPE_INT64 &&
             (f->type == OT_INT || json_node_get_int(n) >= 0);
        if (!ok && strcmp(tn, "number") == 0) {
          g_autofree char *num = json_to_string(n, FALSE);
          g_list_free(members);
          char *e = g_strdup_printf("json: cannot unmarshal number %s into Go struct field %s.%s of type %s", num,
                                    ep->go_type, f->json, go_type_name(f->type));
          g_object_unref(p);
          return e;
        }
        break;
      case OT_STRING: ok = strcmp(tn, "string") == 0; break;
      case OT_STRLIST: ok = strcmp(tn, "array") == 0; break;
      default: ok = false;
    }
    if (ok && f->type == OT_STRLIST) {
      JsonArray *a = json_node_get_array(n);
      for (guint i = 0; i < json_array_get_length(a) && ok; i++) {
        JsonNode *e = json_array_get_element(a, i);
        const char *et = json_type_name(e);
        if (et && strcmp(et, "string") != 0) {
          g_list_free(members);
          char *err = g_strdup_printf("json: cannot unmarshal %s into Go struct field %s.%s of type string", et,
                                      ep->go_type, f->json);
          g_object_unref(p);
          return err;
        }
      }
    }
    if (!ok) {
      g_list_free(members);
      char *e = g_strdup_printf("json: cannot unmarshal %s into Go struct field %s.%s of type %s", tn, ep->go_type,
                                f->json, go_type_name(f->type));
      g_object_unref(p);
      return e;
    }
    if (!f->query) continue;
    char *v = NULL;
    switch (f->type) {
      case OT_BOOL: v = g_strdup(json_node_get_boolean(n) ? "true" : "false"); break;
      case OT_SUBS_DETAIL:
        if (json_node_get_boolean(n)) g_hash_table_replace(query, g_strdup(f->query), g_strdup("detail"));
        continue;
      case OT_INT: case OT_UINT: v = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n)); break;
      case OT_STRING: v = g_strdup(json_node_get_string(n)); break;
      default: break;
    }
    if (!v) continue;
    if (strcmp(f->query, "state") == 0) {  /* Go ConnState: 0 open, 1 closed, 2 all */
      int64_t st = json_node_get_int(n);
      g_free(v);
      v = g_strdup(st == 1 ? "closed" : st == 2 ? "all" : "open");
    }
    /* subscriptions_detail wins over subscriptions */
    if (strcmp(f->query, "subs") == 0 && g_strcmp0(g_hash_table_lookup(query, "subs"), "detail") == 0) {
      g_free(v);
      continue;
    }
    g_hash_table_replace(query, g_strdup(f->query), v);
  }
  g_list_free(members);
  *out_obj = o;
  *out_parser = p;
  return NULL;
}

/* Go filterRequest: true when this server is not the one asked for. */
static bool filtered_out(Server *s, JsonObject *o) {
  if (!o) return false;
  const char *v;
  if (json_object_has_member(o, "server_name") && (v = json_object_get_string_member(o, "server_name")) && *v &&
      !strstr(s->server_name, v))
    return true;
  if (json_object_has_member(o, "host") && (v = json_object_get_string_member(o, "host")) && *v &&
      !strstr(s->opts->host ? s->opts->host : "", v))
    return true;
  if (json_object_has_member(o, "cluster") && (v = json_object_get_string_member(o, "cluster")) && *v) return true;
  if (json_object_has_member(o, "domain") && (v = json_object_get_string_member(o, "domain")) && *v) return true;
  if (json_object_has_member(o, "tags")) {
    JsonNode *n = json_object_get_member(o, "tags");
    if (JSON_NODE_TYPE(n) == JSON_NODE_ARRAY) {
      JsonArray *a = json_node_get_array(n);
      for (guint i = 0; i < json_array_get_length(a); i++) {
        const char *t = json_array_get_string_element(a, i);
        bool found = false;
        for (guint k = 0; s->opts->tags && k < s->opts->tags->len && !found; k++)
          found = t && g_ascii_strcasecmp(s->opts->tags->pdata[k], t) == 0;
        if (!found) return true;
      }
    }
  }
  return false;
}

/* ---- sending -------------------------------------------------------------- */

static void nuid(char out[23]) {
  static const char D[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (int i = 0; i < 22; i++) out[i] = D[g_random_int_range(0, 62)];
  out[22] = '\0';
}

/* Go ServerInfo, as the "server" member. */
static void jw_server_info(Events *ev, JsonW *w, const char *key) {
  Server *s = ev->srv;
  jw_begin_object(w, key);
  jw_string(w, "name", s->server_name);
  jw_string(w, "host", s->opts->host ? s->opts->host : "0.0.0.0");
  jw_string(w, "id", s->identity.encoded_public);
  jw_string(w, "ver", NATS_VERSION);
  if (s->opts->tags && s->opts->tags->len) {
    jw_begin_array(w, "tags");
    for (guint i = 0; i < s->opts->tags->len; i++) jw_string(w, NULL, s->opts->tags->pdata[i]);
    jw_end_array(w);
  }
  jw_uint(w, "seq", ++ev->seq);
  jw_bool(w, "jetstream", false);
  jw_time(w, "time", g_get_real_time(), true);
  jw_end_object(w);
}

static void publish_now(Events *ev, const char *subject, const char *body, size_t len) {
  Account *sys = ev->sys;
  size_t sl = strlen(subject);
  ParserPub m = {.subject = subject, .subject_len = sl, .hdr_len = -1, .total_len = (int64_t)len};
  SublistResult *r = sublist_match(sys->sublist, subject, sl);
  client_process_msg_results(NULL, sys, r, &m, body, CLIENT_PMR_EMPTY_REPLY);
  sublist_result_unref(r);
}

static void pending_free(PendingMsg *p) {
  g_free(p->subject);
  g_string_free(p->body, TRUE);
  g_free(p);
}

static void send_queued(void *data) {
  Events *ev = data;
  PendingMsg *p;
  /* Messages queued while sending (answers to our own events) go next time. */
  guint n = g_queue_get_length(&ev->queue);
  while (n-- && (p = g_queue_pop_head(&ev->queue))) {
    publish_now(ev, p->subject, p->body->str, p->body->len);
    pending_free(p);
  }
  if (!g_queue_is_empty(&ev->queue))
    loop_timer_start(ev->srv->loop, &ev->send_timer, loop_now(ev->srv->loop), send_queued, ev);
}

/* Queues `body` (transfer full) for `subject`. */
static void enqueue(Events *ev, const char *subject, GString *body) {
  if (g_queue_get_length(&ev->queue) >= EVENTS_MAX_QUEUED) {
    g_string_free(body, TRUE);
    return;
  }
  PendingMsg *p = g_new0(PendingMsg, 1);
  p->subject = g_strdup(subject);
  p->body = body;
  g_queue_push_tail(&ev->queue, p);
  if (!loop_timer_armed(&ev->send_timer))
    loop_timer_start(ev->srv->loop, &ev->send_timer, loop_now(ev->srv->loop), send_queued, ev);
}

/* Go ServerAPIResponse: {"server":..,"data":..,"error":{..}}.  `data` NULL
 * = omitted, "" = null. */
static void send_api_response(Events *ev, const char *reply, const char *data, int code, const char *desc) {
  GString *g = g_string_sized_new(512);
  JsonW w;
  jw_init(&w, g, false);
  jw_begin_object(&w, NULL);
  jw_server_info(ev, &w, "server");
  if (data) {
    jw_key(&w, "data");
    g_string_append(g, *data ? data : "null");
  }
  if (desc) {
    jw_begin_object(&w, "error");
    jw_int(&w, "code", code);
    jw_string(&w, "description", desc);
    jw_end_object(&w);
  }
  jw_end_object(&w);
  enqueue(ev, reply, g);
}

/* ---- statsz ----------------------------------------------------------------- */

static int64_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, rss = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &rss) != 2) rss = 0;
    fclose(f);
  }
  return (int64_t)rss * sysconf(_SC_PAGESIZE);
}

static uint32_t num_subscriptions(Server *s) {
  uint32_t n = 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, s->accounts);
  while (g_hash_table_iter_next(&it, &k, &v)) n += sublist_count(((Account *)v)->sublist);
  return n;
}

static void send_statsz(Events *ev, const char *subject) {
  Server *s = ev->srv;
  GString *g = g_string_sized_new(512);
  JsonW w;
  jw_init(&w, g, false);
  jw_begin_object(&w, NULL);
  jw_server_info(ev, &w, "server");
  jw_begin_object(&w, "statsz");
  jw_time(&w, "start", s->start_time_real, true);
  jw_int(&w, "mem", rss_bytes());
  jw_int(&w, "cores", g_get_num_processors());
  jw_int(&w, "cpu", 0);
  jw_uint(&w, "connections", g_hash_table_size(s->clients));
  jw_uint(&w, "total_connections", s->total_connections);
  guint active = 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, s->accounts);
  while (g_hash_table_iter_next(&it, &k, &v)) active += ((Account *)v)->num_clients > 0;
  jw_uint(&w, "active_accounts", active);
  jw_uint(&w, "subscriptions", num_subscriptions(s));
  jw_begin_object(&w, "sent");
  jw_uint(&w, "msgs", s->out_msgs);
  jw_uint(&w, "bytes", s->out_bytes);
  jw_end_object(&w);
  jw_begin_object(&w, "received");
  jw_uint(&w, "msgs", s->in_msgs);
  jw_uint(&w, "bytes", s->in_bytes);
  jw_end_object(&w);
  jw_uint(&w, "slow_consumers", s->slow_consumers);
  jw_int(&w, "active_servers", 1);
  jw_end_object(&w);
  jw_end_object(&w);
  enqueue(ev, subject, g);
}

static void statsz_subject(Events *ev, char *buf, size_t cap) {
  snprintf(buf, cap, "$SYS.SERVER.%s.STATSZ", ev->srv->identity.encoded_public);
}

static void statsz_timer_fired(void *data) {
  Events *ev = data;
  ev->cstatsz_us = MIN(ev->cstatsz_us * 2, EVENTS_HB_INTERVAL_US);
  loop_timer_start(ev->srv->loop, &ev->statsz_timer, loop_now(ev->srv->loop) + ev->cstatsz_us, statsz_timer_fired, ev);
  char subj[128];
  statsz_subject(ev, subj, sizeof subj);
  send_statsz(ev, subj);
}

/* ---- account statistics ------------------------------------------------------ */

/* Go AccountStat members (inside an open object). */
static void jw_account_stat(JsonW *w, Account *a) {
  jw_string(w, "acc", a->name);
  jw_uint(w, "conns", a->num_clients);
  jw_int(w, "leafnodes", 0);
  jw_uint(w, "total_conns", a->num_clients);
  jw_begin_object(w, "sent");
  jw_uint(w, "msgs", a->out_msgs);
  jw_uint(w, "bytes", a->out_bytes);
  jw_end_object(w);
  jw_begin_object(w, "received");
  jw_uint(w, "msgs", a->in_msgs);
  jw_uint(w, "bytes", a->in_bytes);
  jw_end_object(w);
  jw_uint(w, "slow_consumers", a->slow_consumers);
}

/* Go sendAccConnsUpdate: to `reply`, or to both the old and new subjects. */
static void send_acc_conns(Events *ev, Account *a, const char *reply) {
  char id[23];
  nuid(id);
  int64_t now = g_get_real_time();
  const char *subjects[2];
  g_autofree char *old = g_strdup_printf("$SYS.SERVER.ACCOUNT.%s.CONNS", a->name);
  g_autofree char *new_ = g_strdup_printf("$SYS.ACCOUNT.%s.SERVER.CONNS", a->name);
  guint n = 0;
  if (reply) subjects[n++] = reply;
  else subjects[n++] = old, subjects[n++] = new_;
  for (guint i = 0; i < n; i++) {
    GString *g = g_string_sized_new(512);
    JsonW w;
    jw_init(&w, g, false);
    jw_begin_object(&w, NULL);
    jw_string(&w, "type", "io.nats.server.advisory.v1.account_connections");
    jw_string(&w, "id", id);
    jw_time(&w, "timestamp", now, true);
    jw_server_info(ev, &w, "server");
    jw_account_stat(&w, a);
    jw_end_object(&w);
    enqueue(ev, subjects[i], g);
  }
}

static void conns_timer_fired(void *data) {
  Events *ev = data;
  bool any = false;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, ev->srv->accounts);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    Account *a = v;
    if (a->num_clients == 0) continue;
    send_acc_conns(ev, a, NULL);
    any = true;
  }
  if (any)
    loop_timer_start(ev->srv->loop, &ev->conns_timer, loop_now(ev->srv->loop) + EVENTS_HB_INTERVAL_US,
                     conns_timer_fired, ev);
}

static void acc_conns_changed(Events *ev, Account *a) {
  send_acc_conns(ev, a, NULL);
  if (!loop_timer_armed(&ev->conns_timer))
    loop_timer_start(ev->srv->loop, &ev->conns_timer, loop_now(ev->srv->loop) + EVENTS_HB_INTERVAL_US,
                     conns_timer_fired, ev);
}

/* Go AccountStatz: {"server_id","now","account_statz":[...]}.  `names`
 * NULL = every account.  Returns how many accounts went in. */
static guint build_account_statz(Server *s, const char *const *names, guint nnames, bool unused, GString *out) {
  JsonW w;
  jw_init(&w, out, false);
  jw_begin_object(&w, NULL);
  jw_string(&w, "server_id", s->identity.encoded_public);
  jw_time(&w, "now", g_get_real_time(), true);
  jw_begin_array(&w, "account_statz");
  guint n = 0;
  if (names) {
    for (guint i = 0; i < nnames; i++) {
      Account *a = g_hash_table_lookup(s->accounts, names[i]);
      if (!a || (!unused && a->num_clients == 0)) continue;
      jw_begin_object(&w, NULL);
      jw_account_stat(&w, a);
      jw_end_object(&w);
      n++;
    }
  } else {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->accounts);
    while (g_hash_table_iter_next(&it, &k, &v)) {
      Account *a = v;
      if (!unused && a->num_clients == 0) continue;
      jw_begin_object(&w, NULL);
      jw_account_stat(&w, a);
      jw_end_object(&w);
      n++;
    }
  }
  jw_end_array(&w);
  jw_end_object(&w);
  return n;
}

/* The value of member `key` of the JSON object text `json` (a substring
 * copy, so numbers keep the builder's formatting).  (transfer full) */
static char *json_member_text(const char *json, const char *key) {
  g_autofree char *pat = g_strdup_printf("\"%s\":", key);
  const char *p = strstr(json, pat);
  if (!p) return NULL;
  p += strlen(pat);
  int depth = 0;
  bool str = false;
  const char *q = p;
  for (; *q; q++) {
    if (str) {
      if (*q == '\\' && q[1]) q++;
      else if (*q == '"') str = false;
      continue;
    }
    if (*q == '"') str = true;
    else if (*q == '{' || *q == '[') depth++;
    else if (*q == '}' || *q == ']') {
      if (depth == 0) break;
      if (--depth == 0) {
        q++;
        break;
      }
    } else if (*q == ',' && depth == 0) break;
  }
  return g_strndup(p, (gsize)(q - p));
}

/* ---- requests ------------------------------------------------------------- */

static void handle_request_inner(Subscription *sub, Account *acc, const ParserPub *m, const char *payload) {
  Server *s = acc->srv;
  Events *ev = s ? s->events : NULL;
  Ep ep = (Ep)GPOINTER_TO_INT(sub->icb_data);
  if (!ev || ep == EP_NONE) return;
  const EpInfo *info = &ep_info[ep];
  g_autofree char *reply = m->reply_len ? g_strndup(m->reply, m->reply_len) : NULL;
  g_autofree char *subject = g_strndup(m->subject, m->subject_len);
  const char *body = payload;
  size_t len = (size_t)m->total_len;
  if (m->hdr_len > 0) {
    body += m->hdr_len;
    len -= (size_t)m->hdr_len;
  }
  /* $SYS.REQ.ACCOUNT.<acc>.<ep> */
  g_autofree char *acc_name = NULL;
  if (ep >= EP_ACC_SUBSZ && ep <= EP_ACC_CONNS) {
    g_auto(GStrv) tk = g_strsplit(subject, ".", -1);
    if (g_strv_length(tk) != 5) return;
    acc_name = g_strdup(tk[3]);
  }
  if (ep == EP_ACC_CONNS) {
    /* Go connsRequest: only the number of local connections, only if any */
    Account *a = g_hash_table_lookup(s->accounts, acc_name);
    if (reply && a && a->num_clients > 0) send_acc_conns(ev, a, reply);
    return;
  }
  bool statsz = ep == EP_STATSZ;
  if (!reply && !statsz) return;
  char statsz_subj[128];
  if (!reply) {
    statsz_subject(ev, statsz_subj, sizeof statsz_subj);
    reply = g_strdup(statsz_subj);
  }
  g_autoptr(GHashTable) query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  JsonObject *opts = NULL;
  JsonParser *parser = NULL;
  if (len > 0) {
    g_autofree char *err = decode_options(info, body, len, query, &opts, &parser);
    if (err) {
      send_api_response(ev, reply, NULL, 400, err);
      return;
    }
    if (filtered_out(s, opts)) {
      g_object_unref(parser);
      return;
    }
  }
  if (statsz) {
    send_statsz(ev, reply);
    if (parser) g_object_unref(parser);
    return;
  }
  g_autoptr(GString) data = g_string_sized_new(1024);
  if (ep == EP_ACC_STATZ || ep == EP_ACC_PING_STATZ) {
    bool unused = opts && json_object_has_member(opts, "include_unused") &&
                  json_node_get_value_type(json_object_get_member(opts, "include_unused")) == G_TYPE_BOOLEAN &&
                  json_object_get_boolean_member(opts, "include_unused");
    guint n;
    if (ep == EP_ACC_STATZ) {
      if (strcmp(acc_name, "PING") == 0) goto out;  /* answered by the PING subscription */
      const char *names[1] = {acc_name};
      n = build_account_statz(s, names, 1, unused, data);
    } else {
      JsonArray *arr = opts && json_object_has_member(opts, "accounts") &&
                               JSON_NODE_TYPE(json_object_get_member(opts, "accounts")) == JSON_NODE_ARRAY
                           ? json_object_get_array_member(opts, "accounts")
                           : NULL;
      if (arr && json_array_get_length(arr) > 0) {
        guint na = json_array_get_length(arr);
        g_autofree const char **names = g_new0(const char *, na);
        guint k = 0;
        for (guint i = 0; i < na; i++) {
          const char *nm = json_array_get_string_element(arr, i);
          if (nm) names[k++] = nm;
        }
        n = build_account_statz(s, names, k, unused, data);
      } else {
        n = build_account_statz(s, NULL, 0, unused, data);
      }
    }
    if (n == 0 && !unused) goto out;  /* Go errSkipZreq */
    send_api_response(ev, reply, data->str, 0, NULL);
    goto out;
  }
  if (ep == EP_ACC_JSZ) {
    send_api_response(ev, reply, "", 500, "jetstream not enabled");
    goto out;
  }
  if (ep == EP_ACC_INFO) {
    g_autoptr(GHashTable) q = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(q, "acc", acc_name);
    g_autoptr(GString) az = g_string_new(NULL);
    int st = monitor_build(s->monitor, "accountz", q, az);
    g_autofree char *detail = st == HTTP_OK ? json_member_text(az->str, "account_detail") : NULL;
    if (detail) send_api_response(ev, reply, detail, 0, NULL);
    else send_api_response(ev, reply, NULL, 500, st == HTTP_OK ? "account not found" : az->str);
    goto out;
  }
  if (acc_name) {
    if (ep == EP_ACC_SUBSZ) g_hash_table_replace(query, g_strdup("subs"), g_strdup("true"));
    g_hash_table_replace(query, g_strdup("acc"), g_strdup(acc_name));
  }
  int st = monitor_build(s->monitor, info->endpoint, query, data);
  if (st == HTTP_OK) {
    send_api_response(ev, reply, data->str, 0, NULL);
  } else {
    g_strchomp(data->str);
    send_api_response(ev, reply, "", 500, data->str);  /* Go: a nil *Connz etc. is "data":null */
  }
out:
  if (parser) g_object_unref(parser);
}

/* Go counts a client's inbound messages once its read buffer is parsed,
 * so an answer built while the request is being processed does not
 * include the request itself: take it out of the counters meanwhile. */
static void uncount(Client *pub, uint64_t bytes, int sign) {
  if (!pub) return;
  uint64_t n = sign < 0 ? (uint64_t)-1 : 1, b = sign < 0 ? (uint64_t)0 - bytes : bytes;
  pub->in_msgs += n, pub->in_bytes += b;
  pub->srv->in_msgs += n, pub->srv->in_bytes += b;
  if (pub->acc) pub->acc->in_msgs += n, pub->acc->in_bytes += b;
}

static void handle_request(Subscription *sub, Client *pub, Account *acc, const ParserPub *m, const char *payload) {
  uint64_t bytes = (uint64_t)(m->total_len - (m->hdr_len > 0 ? m->hdr_len : 0));
  uncount(pub, bytes, -1);
  handle_request_inner(sub, acc, m, payload);
  uncount(pub, bytes, 1);
}

static void sys_subscribe(Events *ev, const char *subject, Ep ep) {
  char sid[24];
  int n = snprintf(sid, sizeof sid, "%" G_GUINT64_FORMAT, ++ev->sid);
  Subscription *sub = subscription_new(NULL, subject, strlen(subject), NULL, 0, sid, (size_t)n);
  sub->icb = handle_request;
  sub->icb_data = GINT_TO_POINTER(ep);
  if (sublist_insert(ev->sys->sublist, sub) != 0) {
    log_error("Error setting up internal tracking: %s", subject);
    subscription_unref(sub);
    return;
  }
  g_ptr_array_add(ev->subs, sub);
}

/* Go addSystemAccountExports + registerSystemImports. */
static void add_system_imports(Events *ev) {
  Account *sys = ev->sys;
  static const char *const exports[] = {"$SYS.REQ.ACCOUNT.*.CONNZ", "$SYS.REQ.ACCOUNT.*.STATZ"};
  for (size_t i = 0; i < G_N_ELEMENTS(exports); i++) {
    if (account_get_service_export(sys, exports[i])) continue;
    g_autofree char *err = account_add_service_export(sys, exports[i], SERVICE_RESP_STREAMED, NULL, 4);
    if (err) log_error("Error adding system service export for \"%s\": %s", exports[i], err);
  }
  if (!account_get_service_export(sys, "$SYS.DEBUG.SUBSCRIBERS")) {
    g_autofree char *err = account_add_service_export(sys, "$SYS.DEBUG.SUBSCRIBERS", SERVICE_RESP_SINGLETON, NULL, 0);
    if (err) log_error("Error adding system service export for \"$SYS.DEBUG.SUBSCRIBERS\": %s", err);
  }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, ev->srv->accounts);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    Account *a = v;
    if (a == sys) continue;
    static const char *const imp[][2] = {
        {"$SYS.REQ.ACCOUNT.PING.CONNZ", "CONNZ"},
        {"$SYS.REQ.SERVER.PING.CONNZ", "CONNZ"},
        {"$SYS.REQ.ACCOUNT.PING.STATZ", "STATZ"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(imp); i++) {
      bool exists = false;
      for (guint j = 0; a->service_imports && j < a->service_imports->len && !exists; j++)
        exists = strcmp(((ServiceImport *)a->service_imports->pdata[j])->from, imp[i][0]) == 0;
      if (exists) continue;
      g_autofree char *to = g_strdup_printf("$SYS.REQ.ACCOUNT.%s.%s", a->name, imp[i][1]);
      g_autofree char *err = account_add_service_import(a, sys, imp[i][0], to);
      if (err) {
        log_error("Error setting up system service import %s for account: %s", imp[i][0], err);
        continue;
      }
      /* only these: config imports of accounts a reload added wait for the
       * next reload, as in Go */
      accounts_import_subscribe(a, a->service_imports->pdata[a->service_imports->len - 1]);
    }
  }
}

void events_start(Server *s) {
  if (!s->system_account || !s->accounts) return;
  Events *ev = s->events;
  if (!ev) {
    ev = s->events = g_new0(Events, 1);
    ev->srv = s;
    ev->sys = s->system_account;
    ev->subs = g_ptr_array_new_with_free_func((GDestroyNotify)subscription_unref);
    g_queue_init(&ev->queue);
    server_name_hash(s, ev->shash);
    const char *id = s->identity.encoded_public;
    char subj[256];
#define SUBF(ep, ...)                            \
  do {                                           \
    snprintf(subj, sizeof subj, __VA_ARGS__);    \
    sys_subscribe(ev, subj, ep);                 \
  } while (0)
    SUBF(EP_NONE, "$SYS._INBOX.%s.*", ev->shash);
    SUBF(EP_NONE, "$SYS.SERVER.ACCOUNT.*.CONNS");
    SUBF(EP_NONE, "$SYS._INBOX_.%s", id);
    SUBF(EP_NONE, "$SYS.REQ.ACCOUNT.NSUBS");
    SUBF(EP_NONE, "$SYS.SERVER.*.STATSZ");
    SUBF(EP_NONE, "$SYS.SERVER.*.SHUTDOWN");
    SUBF(EP_NONE, "$SYS.ACCOUNT.*.CLAIMS.UPDATE");
    SUBF(EP_NONE, "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE");
    SUBF(EP_STATSZ, "$SYS.REQ.SERVER.PING");
    for (Ep e = EP_STATSZ; e <= EP_HEALTHZ; e++) {
      SUBF(e, "$SYS.REQ.SERVER.%s.%s", id, ep_info[e].name);
      SUBF(e, "$SYS.REQ.SERVER.PING.%s", ep_info[e].name);
    }
    for (Ep e = EP_ACC_SUBSZ; e <= EP_ACC_CONNS; e++) SUBF(e, "$SYS.REQ.ACCOUNT.*.%s", ep_info[e].name);
    SUBF(EP_ACC_PING_STATZ, "$SYS.REQ.ACCOUNT.PING.STATZ");
    SUBF(EP_NONE, "$SYS.ACCOUNT.*.LEAFNODE.CONNECT");
    SUBF(EP_NONE, "$SYS.LATENCY.M2.%s", ev->shash);
    SUBF(EP_NONE, "$SYS.DEBUG.SUBSCRIBERS");
#undef SUBF
    ev->cstatsz_us = EVENTS_FIRST_STATSZ_US;
    loop_timer_start(s->loop, &ev->statsz_timer, loop_now(s->loop) + ev->cstatsz_us, statsz_timer_fired, ev);
  }
  add_system_imports(ev);
}

void events_stop(Server *s) {
  Events *ev = s->events;
  if (!ev) return;
  Loop *loop = s->loop;
  loop_timer_stop(loop, &ev->statsz_timer);
  loop_timer_stop(loop, &ev->conns_timer);
  loop_timer_stop(loop, &ev->send_timer);
  PendingMsg *p;
  while ((p = g_queue_pop_head(&ev->queue))) pending_free(p);
  for (guint i = 0; i < ev->subs->len; i++) {
    Subscription *sub = ev->subs->pdata[i];
    if (!sub->closed) sublist_remove(ev->sys->sublist, sub);
    sub->closed = true;
  }
  g_ptr_array_free(ev->subs, TRUE);
  g_free(ev);
  s->events = NULL;
}

/* Go sendShutdownEvent: the ServerInfo itself, published at once, before
 * clients close. */
void events_shutdown(Server *s) {
  Events *ev = s->events;
  if (!ev) return;
  loop_timer_stop(s->loop, &ev->send_timer);
  send_queued(ev);
  char subj[128];
  snprintf(subj, sizeof subj, "$SYS.SERVER.%s.SHUTDOWN", s->identity.encoded_public);
  GString *g = g_string_sized_new(256);
  JsonW w;
  jw_init(&w, g, false);
  jw_server_info(ev, &w, NULL);
  publish_now(ev, subj, g->str, g->len);
  g_string_free(g, TRUE);
}

/* ---- client advisories ------------------------------------------------------ */

/* Go ClientInfo of a client (the members Go fills for events). */
static void jw_client_info(JsonW *w, Client *c, bool stop) {
  jw_begin_object(w, "client");
  jw_time(w, "start", c->start_time_real, true);
  if (*c->host) jw_string(w, "host", c->host);
  if (c->cid) jw_uint(w, "id", c->cid);
  jw_string(w, "acc", c->acc ? c->acc->name : "");
  if (c->opts.user && *c->opts.user) jw_string(w, "user", c->opts.user);
  if (c->opts.name && *c->opts.name) jw_string(w, "name", c->opts.name);
  if (c->opts.lang && *c->opts.lang) jw_string(w, "lang", c->opts.lang);
  if (c->opts.version && *c->opts.version) jw_string(w, "ver", c->opts.version);
  if (stop && c->rtt_us) jw_int(w, "rtt", c->rtt_us * 1000);
  if (stop) jw_time(w, "stop", g_get_real_time(), true);
  jw_string(w, "kind", "Client");
  jw_string(w, "client_type", "nats");
  jw_end_object(w);
}

void events_client_connect(Client *c) {
  Server *s = c->srv;
  Events *ev = s->events;
  if (!ev || c->sys_connect_sent) return;
  c->sys_connect_sent = true;
  char id[23];
  nuid(id);
  GString *g = g_string_sized_new(512);
  JsonW w;
  jw_init(&w, g, false);
  jw_begin_object(&w, NULL);
  jw_string(&w, "type", "io.nats.server.advisory.v1.client_connect");
  jw_string(&w, "id", id);
  jw_time(&w, "timestamp", g_get_real_time(), true);
  jw_server_info(ev, &w, "server");
  jw_client_info(&w, c, false);
  jw_end_object(&w);
  g_autofree char *subj = g_strdup_printf("$SYS.ACCOUNT.%s.CONNECT", c->acc->name);
  enqueue(ev, subj, g);
}

static GString *disconnect_msg(Events *ev, Client *c) {
  char id[23];
  nuid(id);
  GString *g = g_string_sized_new(640);
  JsonW w;
  jw_init(&w, g, false);
  jw_begin_object(&w, NULL);
  jw_string(&w, "type", "io.nats.server.advisory.v1.client_disconnect");
  jw_string(&w, "id", id);
  jw_time(&w, "timestamp", g_get_real_time(), true);
  jw_server_info(ev, &w, "server");
  jw_client_info(&w, c, true);
  /* Go: "sent" is what the client sent us */
  jw_begin_object(&w, "sent");
  jw_uint(&w, "msgs", c->in_msgs);
  jw_uint(&w, "bytes", c->in_bytes);
  jw_end_object(&w);
  jw_begin_object(&w, "received");
  jw_uint(&w, "msgs", c->out_msgs);
  jw_uint(&w, "bytes", c->out_bytes);
  jw_end_object(&w);
  jw_string(&w, "reason", errors_closed_state_string(c->close_reason));
  jw_end_object(&w);
  return g;
}

void events_client_closed(Client *c) {
  Server *s = c->srv;
  Events *ev = s->events;
  if (!ev) return;
  if (c->close_reason == CLOSED_AUTHENTICATION_VIOLATION) {
    g_autofree char *subj = g_strdup_printf("$SYS.SERVER.%s.CLIENT.AUTH.ERR", s->identity.encoded_public);
    enqueue(ev, subj, disconnect_msg(ev, c));
  }
  if (!c->acc) return;
  if (c->sys_connect_sent) {
    g_autofree char *subj = g_strdup_printf("$SYS.ACCOUNT.%s.DISCONNECT", c->acc->name);
    enqueue(ev, subj, disconnect_msg(ev, c));
  }
  /* Go leaves $G out of removal updates.  The count drops right after this
   * call: say what it will be. */
  if (c->acc == s->global_account || c->acc->num_clients == 0) return;
  c->acc->num_clients--;
  acc_conns_changed(ev, c->acc);
  c->acc->num_clients++;
}

void events_account_conns(Server *s, Account *a) {
  if (s->events && a) acc_conns_changed(s->events, a);
}
