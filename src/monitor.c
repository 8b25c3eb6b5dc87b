/* monitor.c — HTTP monitoring (see monitor.h).
 *
 * Owns: the monitoring listener socket until it hands it to the monitor
 * module, the ring of closed connections, per-path request counters (varz
 * http_req_stats) and the CPU sample behind varz "cpu".
 *
 * Thread: the protocol loop thread.  The HTTP layer (libsoup) lives in the
 * loadable module cnatsd-monitor.so (monitor_http.c), loaded only when
 * http_port is set, so a server without monitoring maps none of libsoup's
 * libraries.  Its listener and connection sources live on the default
 * GMainContext, the same one the protocol loop runs on, and it calls
 * monitor_serve() for each request, so a handler sees a consistent snapshot
 * of every client without locks.  Monitoring connections are few, so
 * libsoup's own per-connection sources are acceptable here (DESIGN.md §2).
 *
 * Answers follow nats-server 2.9.10's monitor.go: the same JSON field names,
 * order and types (Go struct order, omitempty rules), the same query
 * parameters, and the same plain-text 400 answers for bad values, with Go's
 * strconv error wording.  Features cnatsd does not have yet (routes,
 * gateways, leaf nodes, JetStream) answer as Go does when they are off. */
#include "monitor.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include <json-glib/json-glib.h>  /* operator claims in varz */

#include "accounts.h"
#include "accounts_monitor.h"
#include "client.h"
#include "auth.h"
#include "const.h"
#include "errors.h"
#include "jwt_auth.h"
#include "log.h"
#include "module.h"
#include "monitor_json.h"
#include "opts.h"
#include "server.h"
#include "subject.h"
#include "sublist.h"
#include "subscription.h"
#include "tls.h"

#define DEFAULT_CONN_LIST_SIZE 1024   /* Go DefaultConnListSize */
#define DEFAULT_SUB_LIST_SIZE 1024    /* Go DefaultSubListSize */

/* One subscription as /connz and /subsz show it (Go SubDetail). */
typedef struct SubRec {
  char *account;   /* owned; NULL to omit */
  char *subject;   /* owned */
  char *queue;     /* owned; NULL when none */
  char *sid;       /* owned */
  int64_t msgs, max;
  uint64_t cid;
} SubRec;

/* What /connz shows of a closed connection, captured at close (Go closedClient). */
typedef struct ClosedConn {
  uint64_t cid;
  ClientKind kind;
  char ip[48];
  int port;
  int64_t start, last, stop;   /* µs since epoch */
  const char *reason;          /* borrowed: static string */
  int64_t rtt_us;
  char *uptime, *idle;         /* owned, computed at close as Go does */
  int64_t pending;
  int64_t in_msgs, out_msgs, in_bytes, out_bytes;
  uint32_t num_subs;
  char *name, *lang, *version; /* owned, may be NULL */
  char *user;                  /* owned, may be NULL */
  char *account;               /* owned; NULL for $G, as Go stores it */
  SubRec *subs;                /* owned array of num_subs */
  const char *tls_version;     /* borrowed: static strings of tls.c; NULL = plain */
  const char *tls_cipher;
} ClosedConn;

struct Monitor {
  Server *srv;                 /* borrowed: owns us */
  const MonitorHttpModule *http; /* borrowed (resident module); NULL when monitoring is off */
  void *http_server;            /* owned by the module: its listener and connections */
  char *host;                  /* owned: the bound host as configured */
  int port;                    /* bound port */
  void *tls_cert;              /* owned (http->tls_cert_free); set for https_port (GIO TLS, glib-networking) */
  char *base_path;             /* owned: normalized, "/" or "/x" without trailing '/' */
  GHashTable *req_stats;       /* owned: path (owned) → count (guint64 in pointer) */

  ClosedConn **closed;         /* owned ring of `closed_cap` slots */
  guint closed_cap;
  guint64 closed_total;        /* appended so far; head = total % cap */

  int64_t cpu_last_total;      /* clock ticks at last sample */
  int64_t cpu_last_seconds;
  int64_t cpu_last_sample_us;  /* monotonic */
  double cpu_pcpu;
  bool internal_req;           /* inside monitor_build() */
};

/* ---- Go strconv, for query parameters ------------------------------------ */

/* strconv.Quote, near enough for error messages. */
static void go_quote(GString *out, const char *s) {
  g_string_append_c(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      g_string_append_c(out, '\\');
      g_string_append_c(out, (char)*p);
    } else if (*p == '\n') {
      g_string_append(out, "\\n");
    } else if (*p == '\t') {
      g_string_append(out, "\\t");
    } else if (*p == '\r') {
      g_string_append(out, "\\r");
    } else if (*p < 0x20 || *p == 0x7f) {
      g_string_append_printf(out, "\\x%02x", *p);
    } else {
      g_string_append_c(out, (char)*p);
    }
  }
  g_string_append_c(out, '"');
}

static char *go_num_error(const char *fn, const char *s, bool range) {
  GString *e = g_string_new(NULL);
  g_string_append_printf(e, "strconv.%s: parsing ", fn);
  go_quote(e, s);
  g_string_append(e, range ? ": value out of range" : ": invalid syntax");
  return g_string_free(e, FALSE);
}

static bool go_parse_bool(const char *s, bool *out) {
  static const char *t[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *f[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
    if (strcmp(s, t[i]) == 0) return (*out = true), true;
    if (strcmp(s, f[i]) == 0) return (*out = false), true;
  }
  return false;
}

/* Decimal digits only after an optional sign (ParseInt base 10); *range set on overflow. */
static bool go_parse_int64(const char *s, bool allow_sign, int64_t *out, uint64_t *uout, bool *range) {
  const char *p = s;
  bool neg = false;
  *range = false;
  if (allow_sign && (*p == '+' || *p == '-')) neg = *p++ == '-';
  if (!*p) return false;
  uint64_t v = 0;
  bool overflow = false;
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) overflow = true;
    else v = v * 10 + d;
  }
  if (uout) {
    if (overflow) return (*range = true), false;
    *uout = v;
    return true;
  }
  if (overflow || (!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1)) return (*range = true), false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

/* ---- requests ------------------------------------------------------------ */

typedef struct Req {
  Monitor *m;
  MonitorHttpAnswer *ans;  /* borrowed: the answer being built */
  GHashTable *query;       /* owned: name → value (decoded) */
  bool failed;             /* an error answer has been set */
  bool compact;            /* $SYS request (monitor_build): one-line JSON */
} Req;

static const char *q_get(Req *r, const char *name) {
  const char *v = r->query ? g_hash_table_lookup(r->query, name) : NULL;
  return v ? v : "";
}

static void answer_set(MonitorHttpAnswer *a, int status, const char *content_type, const char *body, size_t len) {
  a->status = status;
  a->content_type = content_type;
  g_string_truncate(a->body, 0);
  g_string_append_len(a->body, body, (gssize)len);
}

static void req_fail(Req *r, int status, const char *text) {
  answer_set(r->ans, status, "text/plain; charset=utf-8", text, strlen(text));
  r->failed = true;
}

static bool q_bool(Req *r, const char *name, bool *out) {
  *out = false;
  const char *v = q_get(r, name);
  if (!*v) return true;
  if (go_parse_bool(v, out)) return true;
  g_autofree char *err = g_strdup_printf("Error decoding boolean for '%s': strconv.ParseBool: parsing ", name);
  GString *e = g_string_new(err);
  go_quote(e, v);
  g_string_append(e, ": invalid syntax");
  req_fail(r, HTTP_BAD_REQUEST, e->str);
  g_string_free(e, TRUE);
  return false;
}

static bool q_int(Req *r, const char *name, int64_t *out) {
  *out = 0;
  const char *v = q_get(r, name);
  if (!*v) return true;
  bool range;
  if (go_parse_int64(v, true, out, NULL, &range)) return true;
  g_autofree char *detail = go_num_error("Atoi", v, range);
  g_autofree char *text = g_strdup_printf("Error decoding int for '%s': %s", name, detail);
  req_fail(r, HTTP_BAD_REQUEST, text);
  return false;
}

static bool q_uint64(Req *r, const char *name, uint64_t *out) {
  *out = 0;
  const char *v = q_get(r, name);
  if (!*v) return true;
  bool range;
  if (go_parse_int64(v, false, NULL, out, &range)) return true;
  g_autofree char *detail = go_num_error("ParseUint", v, range);
  g_autofree char *text = g_strdup_printf("Error decoding uint64 for '%s': %s", name, detail);
  req_fail(r, HTTP_BAD_REQUEST, text);
  return false;
}

/* Go decodeSubs: "detail" or a boolean. */
static bool q_subs(Req *r, bool *subs, bool *detail) {
  *subs = false;
  *detail = g_ascii_strcasecmp(q_get(r, "subs"), "detail") == 0;
  if (*detail) return true;
  return q_bool(r, "subs", subs);
}

static void count_req(Monitor *m, const char *path) {
  if (m->internal_req) return;  /* $SYS requests are not HTTP requests */
  gpointer old = g_hash_table_lookup(m->req_stats, path);
  guint64 n = GPOINTER_TO_SIZE(old) + 1;
  if (old) g_hash_table_replace(m->req_stats, g_strdup(path), GSIZE_TO_POINTER(n));
  else g_hash_table_insert(m->req_stats, g_strdup(path), GSIZE_TO_POINTER(n));
}

/* Go ResponseHandler: JSON, or JSONP when callback= is given. */
static void respond_json(Req *r, GString *body) {
  const char *cb = q_get(r, "callback");
  if (*cb) {
    g_autofree char *js = g_strdup_printf("%s(%s)", cb, body->str);
    answer_set(r->ans, HTTP_OK, "application/javascript", js, strlen(js));
  } else {
    answer_set(r->ans, HTTP_OK, "application/json", body->str, body->len);
  }
}

/* ---- CPU and memory (Go's pse package on Linux) --------------------------- */

/* Fields of /proc/self/stat after the ")" of comm; false if unreadable. */
static bool read_proc_stat(int64_t *utime, int64_t *stime, int64_t *start, int64_t *rss_pages) {
  g_autofree char *contents = NULL;
  if (!g_file_get_contents("/proc/self/stat", &contents, NULL, NULL)) return false;
  char *p = strrchr(contents, ')');
  if (!p) return false;
  p++;
  /* After comm: field 3 (state) is index 0 here; Go's 0-based positions
   * utime=13, stime=14, starttime=21, rss=23 become 11, 12, 19, 21. */
  int64_t vals[24] = {0};
  int idx = 0;
  char *save = NULL;
  for (char *tok = strtok_r(p, " \n", &save); tok && idx < 24; tok = strtok_r(NULL, " \n", &save), idx++)
    vals[idx] = g_ascii_strtoll(tok, NULL, 10);
  if (idx < 22) return false;
  *utime = vals[11];
  *stime = vals[12];
  *start = vals[19];
  *rss_pages = vals[21];
  return true;
}

/* Go samples every second on a timer; we sample when /varz asks, at most
 * once a second, over the time since the previous sample.  That keeps an
 * idle server free of wakeups; the value is the same kind of average. */
static void monitor_proc_usage(Monitor *m, double *pcpu, int64_t *rss) {
  int64_t utime, stime, start, rss_pages;
  *pcpu = m->cpu_pcpu;
  *rss = 0;
  if (!read_proc_stat(&utime, &stime, &start, &rss_pages)) return;
  *rss = rss_pages * sysconf(_SC_PAGESIZE);
  int64_t now = g_get_monotonic_time();
  if (m->cpu_last_sample_us && now - m->cpu_last_sample_us < G_USEC_PER_SEC) return;
  struct sysinfo si;
  if (sysinfo(&si) != 0) return;
  int64_t ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) ticks = 100;
  int64_t total = utime + stime;
  int64_t seconds = (int64_t)si.uptime - start / ticks;
  int64_t dt = total - m->cpu_last_total, ds = seconds - m->cpu_last_seconds;
  m->cpu_last_total = total;
  m->cpu_last_seconds = seconds;
  m->cpu_last_sample_us = now;
  if (ds > 0) m->cpu_pcpu = (double)((dt * 1000 / ticks) / ds) / 10.0;
  *pcpu = m->cpu_pcpu;
}

/* ---- accounts ------------------------------------------------------------ */

static guint server_accounts(Server *s, Account **out, guint max) {
  /* The core has $G and $SYS; configured accounts arrive with auth. */
  guint n = 0;
  if (s->global_account && n < max) out[n++] = s->global_account;
  if (s->system_account && n < max) out[n++] = s->system_account;
  return n;
}

/* The accounts of a table as a new array (GLib 2.74 lacks
 * g_hash_table_get_values_as_ptr_array).  (transfer container) */
static gpointer *monitor_account_values(GHashTable *t, guint *n) {
  *n = g_hash_table_size(t);
  gpointer *v = g_new(gpointer, *n + 1);
  GHashTableIter it;
  gpointer k, val;
  guint i = 0;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &val)) v[i++] = val;
  return v;
}

static Account *lookup_account(Server *s, const char *name) {
  if (s->accounts) return g_hash_table_lookup(s->accounts, name);  /* every configured account */
  Account *accs[8];
  guint n = server_accounts(s, accs, G_N_ELEMENTS(accs));
  for (guint i = 0; i < n; i++)
    if (strcmp(accs[i]->name, name) == 0) return accs[i];
  return NULL;
}

static uint32_t total_subscriptions(Server *s) {
  if (s->accounts) {  /* every account, as Go's numSubscriptions */
    uint32_t total = 0;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->accounts);
    while (g_hash_table_iter_next(&it, &k, &v)) total += sublist_count(((Account *)v)->sublist);
    return total;
  }
  Account *accs[8];
  guint n = server_accounts(s, accs, G_N_ELEMENTS(accs));
  uint32_t total = 0;
  for (guint i = 0; i < n; i++) total += sublist_count(accs[i]->sublist);
  return total;
}

/* Go SublistStats.add() over several sublists. */
typedef struct StatsSum {
  SublistStats st;
} StatsSum;

static void stats_add(SublistStats *sum, Sublist *sl) {
  SublistStats one;
  sublist_stats(sl, &one);
  sum->num_subs += one.num_subs;
  sum->num_cache += one.num_cache;
  sum->num_inserts += one.num_inserts;
  sum->num_removes += one.num_removes;
  sum->num_matches += one.num_matches;
  sum->cache_hits += one.cache_hits;
  if (sum->max_fanout < one.max_fanout) sum->max_fanout = one.max_fanout;
  sum->tot_fanout += one.tot_fanout;
  sum->cache_cnt += one.cache_cnt;
  if (sum->tot_fanout > 0) sum->avg_fanout = (double)sum->tot_fanout / (double)sum->cache_cnt;
  if (sum->num_matches > 0) sum->cache_hit_rate = (double)sum->cache_hits / (double)sum->num_matches;
}

static void jw_sublist_stats_fields(JsonW *w, const SublistStats *st) {
  jw_uint(w, "num_subscriptions", st->num_subs);
  jw_uint(w, "num_cache", st->num_cache);
  jw_uint(w, "num_inserts", st->num_inserts);
  jw_uint(w, "num_removes", st->num_removes);
  jw_uint(w, "num_matches", st->num_matches);
  jw_double(w, "cache_hit_rate", st->cache_hit_rate);
  jw_uint(w, "max_fanout", st->max_fanout);
  jw_double(w, "avg_fanout", st->avg_fanout);
}

/* ---- subscriptions as records -------------------------------------------- */

static void subrec_fill(SubRec *r, Subscription *sub, bool with_account) {
  Client *c = sub->client;
  r->account = with_account && c && c->acc ? g_strdup(c->acc->name) : NULL;
  r->subject = g_strdup(sub->subject);
  r->queue = sub->queue ? g_strdup(sub->queue) : NULL;
  r->sid = g_strdup(sub->sid);
  r->msgs = sub->delivered;
  r->max = sub->max;
  r->cid = c ? c->cid : 0;
}

static void subrec_clear(SubRec *r) {
  g_free(r->account);
  g_free(r->subject);
  g_free(r->queue);
  g_free(r->sid);
}

static void jw_subrec(JsonW *w, const SubRec *r) {
  jw_begin_object(w, NULL);
  if (r->account && *r->account) jw_string(w, "account", r->account);
  jw_string(w, "subject", r->subject);
  if (r->queue && *r->queue) jw_string(w, "qgroup", r->queue);
  jw_string(w, "sid", r->sid);
  jw_int(w, "msgs", r->msgs);
  if (r->max) jw_int(w, "max", r->max);
  jw_uint(w, "cid", r->cid);
  jw_end_object(w);
}

/* ---- closed connections -------------------------------------------------- */

static void closed_conn_free(ClosedConn *cc) {
  if (!cc) return;
  for (uint32_t i = 0; i < cc->num_subs; i++) subrec_clear(&cc->subs[i]);
  g_free(cc->subs);
  g_free(cc->uptime);
  g_free(cc->idle);
  g_free(cc->name);
  g_free(cc->lang);
  g_free(cc->version);
  g_free(cc->user);
  g_free(cc->account);
  g_free(cc);
}

static int64_t client_last_activity_real(Client *c, int64_t now_real) {
  /* last_activity is monotonic; Go's c.last starts at c.start. */
  if (!c->last_activity) return c->start_time_real;
  int64_t ago = g_get_monotonic_time() - c->last_activity;
  int64_t t = now_real - (ago > 0 ? ago : 0);
  return t < c->start_time_real ? c->start_time_real : t;
}

static const char *client_raw_auth_user(Client *c) {
  if (c->opts.nkey && *c->opts.nkey) return c->opts.nkey;
  if (c->opts.user && *c->opts.user) return c->opts.user;
  if (c->opts.jwt && *c->opts.jwt) return jwt_auth_client_pubkey(c);  /* Go: the user's public key */
  if (c->opts.auth_token && *c->opts.auth_token) return c->opts.auth_token;
  return NULL;
}

void monitor_record_closed(Monitor *m, Client *c) {
  if (!m || !m->closed_cap || c->kind != CLIENT_KIND_CLIENT) return;
  int64_t now = g_get_real_time();
  ClosedConn *cc = g_new0(ClosedConn, 1);
  cc->cid = c->cid;
  cc->kind = c->kind;
  g_strlcpy(cc->ip, c->host, sizeof cc->ip);
  cc->port = c->port;
  cc->start = c->start_time_real;
  cc->last = client_last_activity_real(c, now);
  cc->stop = now;
  cc->reason = errors_closed_state_string(c->close_reason);
  cc->rtt_us = c->rtt_us;
  cc->uptime = jw_uptime_string(now - cc->start);
  cc->idle = jw_uptime_string(now - cc->last);
  cc->pending = (int64_t)c->out.pending;
  cc->in_msgs = (int64_t)c->in_msgs;
  cc->out_msgs = (int64_t)c->out_msgs;
  cc->in_bytes = (int64_t)c->in_bytes;
  cc->out_bytes = (int64_t)c->out_bytes;
  cc->name = g_strdup(c->opts.name);
  cc->lang = g_strdup(c->opts.lang);
  cc->version = g_strdup(c->opts.version);
  cc->user = g_strdup(c->opts.user);
  if (c->acc && strcmp(c->acc->name, DEFAULT_GLOBAL_ACCOUNT) != 0) cc->account = g_strdup(c->acc->name);
  if (c->tls && c->tls_state == CLIENT_TLS_ACTIVE) {
    cc->tls_version = tls_conn_version(c->tls);
    cc->tls_cipher = tls_conn_cipher(c->tls);
  }
  guint n = g_hash_table_size(c->subs);
  cc->subs = g_new0(SubRec, n ? n : 1);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, c->subs);
  while (g_hash_table_iter_next(&it, &key, &value) && cc->num_subs < n)
    subrec_fill(&cc->subs[cc->num_subs++], value, true);

  guint slot = (guint)(m->closed_total % m->closed_cap);
  closed_conn_free(m->closed[slot]);
  m->closed[slot] = cc;
  m->closed_total++;
}

guint monitor_closed_count(const Monitor *m) {
  return m ? (guint)MIN(m->closed_total, (guint64)m->closed_cap) : 0;
}

/* Oldest first, as Go's closedRingBuffer.closedClients(). */
static GPtrArray *closed_list(Monitor *m) {
  GPtrArray *a = g_ptr_array_new();
  guint n = monitor_closed_count(m);
  guint head = (guint)(m->closed_total % m->closed_cap);
  guint first = m->closed_total <= m->closed_cap ? 0 : head;
  for (guint i = 0; i < n; i++) g_ptr_array_add(a, m->closed[(first + i) % m->closed_cap]);
  return a;
}

/* ---- /connz -------------------------------------------------------------- */

typedef enum { SORT_CID, SORT_START, SORT_SUBS, SORT_PENDING, SORT_MSGS_TO, SORT_MSGS_FROM, SORT_BYTES_TO,
               SORT_BYTES_FROM, SORT_LAST, SORT_IDLE, SORT_UPTIME, SORT_STOP, SORT_REASON } SortOpt;

static const char *const sort_names[] = {"cid", "start", "subs", "pending", "msgs_to", "msgs_from", "bytes_to",
                                         "bytes_from", "last", "idle", "uptime", "stop", "reason"};

typedef enum { CONN_OPEN, CONN_CLOSED, CONN_ALL } ConnState;

/* One row of /connz, open or closed. */
typedef struct ConnRow {
  Client *open;        /* borrowed, or NULL */
  ClosedConn *closed;  /* borrowed, or NULL */
  uint64_t cid;
  int64_t start, last, stop;   /* stop = 0 for open */
  int64_t pending, in_msgs, out_msgs, in_bytes, out_bytes;
  uint32_t num_subs;
  const char *reason;
} ConnRow;

static int64_t g_sort_now;   /* for SORT_UPTIME; the loop is single-threaded */

static int cmp_i64(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

static int row_key_cmp(const ConnRow *a, const ConnRow *b, SortOpt s) {
  switch (s) {
    case SORT_CID:
    case SORT_START: return cmp_i64((int64_t)a->cid, (int64_t)b->cid);
    case SORT_SUBS: return -cmp_i64(a->num_subs, b->num_subs);
    case SORT_PENDING: return -cmp_i64(a->pending, b->pending);
    case SORT_MSGS_TO: return -cmp_i64(a->out_msgs, b->out_msgs);
    case SORT_MSGS_FROM: return -cmp_i64(a->in_msgs, b->in_msgs);
    case SORT_BYTES_TO: return -cmp_i64(a->out_bytes, b->out_bytes);
    case SORT_BYTES_FROM: return -cmp_i64(a->in_bytes, b->in_bytes);
    case SORT_LAST: return -cmp_i64(a->last, b->last);
    case SORT_IDLE: return -cmp_i64(a->last - a->start, b->last - b->start);  /* Go's byIdle, as written */
    case SORT_UPTIME: {
      int64_t ua = (a->stop ? a->stop : g_sort_now) - a->start;
      int64_t ub = (b->stop ? b->stop : g_sort_now) - b->start;
      return cmp_i64(ua, ub);
    }
    case SORT_STOP: return -cmp_i64(a->stop, b->stop);
    case SORT_REASON: return strcmp(a->reason ? a->reason : "", b->reason ? b->reason : "");
  }
  return 0;
}

static SortOpt g_sort_opt;

static int row_cmp(const void *pa, const void *pb) {
  const ConnRow *a = pa, *b = pb;
  int c = row_key_cmp(a, b, g_sort_opt);
  /* Go's sort is not stable and its input is map order: ties are in no
   * particular order there; cid order here. */
  return c ? c : cmp_i64((int64_t)a->cid, (int64_t)b->cid);
}

static void row_from_client(ConnRow *r, Client *c, int64_t now) {
  memset(r, 0, sizeof *r);
  r->open = c;
  r->cid = c->cid;
  r->start = c->start_time_real;
  r->last = client_last_activity_real(c, now);
  r->pending = (int64_t)c->out.pending;
  r->in_msgs = (int64_t)c->in_msgs;
  r->out_msgs = (int64_t)c->out_msgs;
  r->in_bytes = (int64_t)c->in_bytes;
  r->out_bytes = (int64_t)c->out_bytes;
  r->num_subs = g_hash_table_size(c->subs);
}

static void row_from_closed(ConnRow *r, ClosedConn *cc) {
  memset(r, 0, sizeof *r);
  r->closed = cc;
  r->cid = cc->cid;
  r->start = cc->start;
  r->last = cc->last;
  r->stop = cc->stop;
  r->pending = cc->pending;
  r->in_msgs = cc->in_msgs;
  r->out_msgs = cc->out_msgs;
  r->in_bytes = cc->in_bytes;
  r->out_bytes = cc->out_bytes;
  r->num_subs = cc->num_subs;
  r->reason = cc->reason;
}

static const char *kind_string(ClientKind k) {
  switch (k) {
    case CLIENT_KIND_CLIENT: return "Client";
    case CLIENT_KIND_ROUTER: return "Router";
    case CLIENT_KIND_GATEWAY: return "Gateway";
    case CLIENT_KIND_LEAF: return "Leafnode";
    case CLIENT_KIND_JETSTREAM: return "JetStream";
    case CLIENT_KIND_ACCOUNT: return "Account";
    case CLIENT_KIND_SYSTEM: return "System";
  }
  return "Unknown Type";
}

static void jw_opt_string(JsonW *w, const char *key, const char *v) {
  if (v && *v) jw_string(w, key, v);
}

/* A json-glib node through the writer (operator claims in varz). */
static void jw_node(JsonW *w, const char *key, JsonNode *n) {
  if (JSON_NODE_HOLDS_OBJECT(n)) {
    jw_begin_object(w, key);
    JsonObject *o = json_node_get_object(n);
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) jw_node(w, l->data, json_object_get_member(o, l->data));
    jw_end_object(w);
  } else if (JSON_NODE_HOLDS_ARRAY(n)) {
    jw_begin_array(w, key);
    JsonArray *a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a); i++) jw_node(w, NULL, json_array_get_element(a, i));
    jw_end_array(w);
  } else if (JSON_NODE_HOLDS_NULL(n)) {
    jw_null(w, key);
  } else if (json_node_get_value_type(n) == G_TYPE_INT64) {
    jw_int(w, key, json_node_get_int(n));
  } else if (json_node_get_value_type(n) == G_TYPE_BOOLEAN) {
    jw_bool(w, key, json_node_get_boolean(n));
  } else if (json_node_get_value_type(n) == G_TYPE_DOUBLE) {
    jw_double(w, key, json_node_get_double(n));
  } else {
    jw_string(w, key, json_node_get_string(n));
  }
}

static void jw_conn_row(JsonW *w, const ConnRow *r, int64_t now, bool auth, bool subs, bool detail) {
  Client *c = r->open;
  ClosedConn *cc = r->closed;
  ClientKind kind = c ? c->kind : cc->kind;
  jw_begin_object(w, NULL);
  jw_uint(w, "cid", r->cid);
  jw_string(w, "kind", kind_string(kind));
  if (kind == CLIENT_KIND_CLIENT) jw_string(w, "type", "nats");
  int port = c ? c->port : cc->port;
  jw_string(w, "ip", port ? (c ? c->host : cc->ip) : "");
  jw_int(w, "port", port);
  jw_time(w, "start", r->start, false);
  jw_time(w, "last_activity", r->last, false);
  if (cc) {
    jw_time(w, "stop", cc->stop, true);
    jw_opt_string(w, "reason", cc->reason);
  }
  jw_rtt(w, "rtt", c ? c->rtt_us : cc->rtt_us);
  if (c) {
    jw_uptime(w, "uptime", now - r->start);
    jw_uptime(w, "idle", now - r->last);
  } else {
    jw_string(w, "uptime", cc->uptime);
    jw_string(w, "idle", cc->idle);
  }
  jw_int(w, "pending_bytes", r->pending);
  jw_int(w, "in_msgs", r->in_msgs);
  jw_int(w, "out_msgs", r->out_msgs);
  jw_int(w, "in_bytes", r->in_bytes);
  jw_int(w, "out_bytes", r->out_bytes);
  jw_uint(w, "subscriptions", r->num_subs);
  jw_opt_string(w, "name", c ? c->opts.name : cc->name);
  jw_opt_string(w, "lang", c ? c->opts.lang : cc->lang);
  jw_opt_string(w, "version", c ? c->opts.version : cc->version);
  if (c && c->tls && c->tls_state == CLIENT_TLS_ACTIVE) {
    jw_string(w, "tls_version", tls_conn_version(c->tls));
    jw_string(w, "tls_cipher_suite", tls_conn_cipher(c->tls));
    g_autoptr(GPtrArray) certs = auth ? tls_conn_peer_certs(c->tls) : NULL;
    if (certs && certs->len) {
      jw_begin_array(w, "tls_peer_certs");
      for (guint i = 0; i < certs->len; i++) {
        TlsPeerCert *pc = certs->pdata[i];
        jw_begin_object(w, NULL);
        jw_opt_string(w, "subject", pc->subject);
        jw_opt_string(w, "spki_sha256", pc->spki_sha256);
        jw_opt_string(w, "cert_sha256", pc->cert_sha256);
        jw_end_object(w);
      }
      jw_end_array(w);
    }
  } else if (cc && cc->tls_version) {
    jw_string(w, "tls_version", cc->tls_version);
    jw_string(w, "tls_cipher_suite", cc->tls_cipher);
  }
  if (auth) {
    jw_opt_string(w, "authorized_user", c ? client_raw_auth_user(c) : cc->user);
    const char *acc = c ? (c->acc ? c->acc->name : NULL) : cc->account;
    if (acc && strcmp(acc, DEFAULT_GLOBAL_ACCOUNT) != 0) jw_string(w, "account", acc);
  }
  if (r->num_subs > 0 && (subs || detail)) {
    jw_begin_array(w, detail ? "subscriptions_list_detail" : "subscriptions_list");
    if (c) {
      GHashTableIter it;
      gpointer key, value;
      g_hash_table_iter_init(&it, c->subs);
      while (g_hash_table_iter_next(&it, &key, &value)) {
        Subscription *sub = value;
        if (detail) {
          SubRec rec;
          subrec_fill(&rec, sub, false);  /* Go omits the account under a client */
          jw_subrec(w, &rec);
          subrec_clear(&rec);
        } else {
          jw_string(w, NULL, sub->subject);
        }
      }
    } else {
      for (uint32_t i = 0; i < cc->num_subs; i++) {
        if (detail) jw_subrec(w, &cc->subs[i]);
        else jw_string(w, NULL, cc->subs[i].subject);
      }
    }
    jw_end_array(w);
  }
  if (auth && c && c->opts.jwt && *c->opts.jwt) {
    jw_string(w, "jwt", c->opts.jwt);
    jw_opt_string(w, "issuer_key", jwt_auth_client_issuer_key(c));
    jw_opt_string(w, "name_tag", jwt_auth_client_name_tag(c));
    GPtrArray *tags = jwt_auth_client_tags(c);
    if (tags && tags->len) {
      jw_begin_array(w, "tags");
      for (guint i = 0; i < tags->len; i++) jw_string(w, NULL, tags->pdata[i]);
      jw_end_array(w);
    }
  }
  jw_end_object(w);
}

static void handle_connz(Req *r) {
  Monitor *m = r->m;
  Server *s = m->srv;
  const char *sort_str = q_get(r, "sort");
  bool auth, subs, detail;
  int64_t offset, limit;
  uint64_t cid;
  if (!q_bool(r, "auth", &auth) || !q_subs(r, &subs, &detail) || !q_int(r, "offset", &offset) ||
      !q_int(r, "limit", &limit) || !q_uint64(r, "cid", &cid))
    return;
  ConnState state = CONN_OPEN;
  const char *st = q_get(r, "state");
  if (*st) {
    if (g_ascii_strcasecmp(st, "open") == 0) state = CONN_OPEN;
    else if (g_ascii_strcasecmp(st, "closed") == 0) state = CONN_CLOSED;
    else if (g_ascii_strcasecmp(st, "any") == 0 || g_ascii_strcasecmp(st, "all") == 0) state = CONN_ALL;
    else {
      g_autofree char *text = g_strdup_printf("Error decoding state for %s", st);
      req_fail(r, HTTP_BAD_REQUEST, text);
      return;
    }
  }
  const char *user = q_get(r, "user");
  const char *acc = q_get(r, "acc");
  const char *mqtt_cid = q_get(r, "mqtt_client");
  count_req(m, "/connz");

  SortOpt sort = SORT_CID;
  if (*sort_str) {
    bool found = false;
    for (size_t i = 0; i < G_N_ELEMENTS(sort_names); i++)
      if (strcmp(sort_str, sort_names[i]) == 0) sort = (SortOpt)i, found = true;
    if (!found) {
      g_autofree char *text = g_strdup_printf("invalid sorting option: %s", sort_str);
      req_fail(r, HTTP_BAD_REQUEST, text);
      return;
    }
  }
  if (offset < 0) offset = 0;
  if (limit <= 0) limit = DEFAULT_CONN_LIST_SIZE;
  if (sort == SORT_STOP && state != CONN_CLOSED) {
    req_fail(r, HTTP_BAD_REQUEST, "sort by stop only valid on closed connections");
    return;
  }
  if (sort == SORT_REASON && state != CONN_CLOSED) {
    req_fail(r, HTTP_BAD_REQUEST, "sort by reason only valid on closed connections");
    return;
  }
  if (cid > 0) limit = 1;

  int64_t now = g_get_real_time();
  g_autoptr(GString) body = g_string_sized_new(4096);
  JsonW w;
  jw_init(&w, body, !r->compact);

  Account *filter_acc = NULL;
  if (*acc) {
    filter_acc = lookup_account(s, acc);
    if (!filter_acc) {
      /* Go answers before filling in the server id, with no list at all. */
      jw_begin_object(&w, NULL);
      jw_string(&w, "server_id", "");
      jw_time(&w, "now", now, true);
      jw_int(&w, "num_connections", 0);
      jw_int(&w, "total", 0);
      jw_int(&w, "offset", offset);
      jw_int(&w, "limit", limit);
      jw_null(&w, "connections");
      jw_end_object(&w);
      respond_json(r, body);
      return;
    }
  }

  /* Open candidates: the account's clients, or every client. */
  GPtrArray *open_list = g_ptr_array_new();
  {
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->clients);
    while (g_hash_table_iter_next(&it, &key, &value)) {
      Client *c = value;
      if (filter_acc && (c->acc != filter_acc || (c->kind != CLIENT_KIND_CLIENT && c->kind != CLIENT_KIND_LEAF)))
        continue;
      g_ptr_array_add(open_list, c);
    }
  }
  GPtrArray *closed = NULL;
  int64_t total = 0;
  if (state == CONN_OPEN || state == CONN_ALL) total += open_list->len;
  if (state == CONN_CLOSED || state == CONN_ALL) {
    closed = closed_list(m);
    total += closed->len;
    if (filter_acc) {
      /* Closed $G clients carry no account name, so acc=$G drops them, as in Go. */
      GPtrArray *kept = g_ptr_array_new();
      for (guint i = 0; i < closed->len; i++) {
        ClosedConn *cc = closed->pdata[i];
        if (cc->account && strcmp(cc->account, acc) == 0) g_ptr_array_add(kept, cc);
      }
      total -= closed->len - kept->len;
      g_ptr_array_free(closed, TRUE);
      closed = kept;
    }
  }

  GArray *rows = g_array_new(FALSE, FALSE, sizeof(ConnRow));
  if (cid > 0) {
    /* Go looks in the closed ring for closed and any, the open table only for open. */
    if (state == CONN_CLOSED || state == CONN_ALL) {
      for (guint i = 0; closed && i < closed->len; i++) {
        ClosedConn *cc = closed->pdata[i];
        if (cc->cid == cid) {
          ConnRow row;
          row_from_closed(&row, cc);
          g_array_append_val(rows, row);
          break;
        }
      }
    } else {
      Client *c = g_hash_table_lookup(s->clients, &cid);
      if (c) {
        ConnRow row;
        row_from_client(&row, c, now);
        g_array_append_val(rows, row);
      }
    }
  } else {
    if (state == CONN_OPEN || state == CONN_ALL) {
      for (guint i = 0; i < open_list->len; i++) {
        Client *c = open_list->pdata[i];
        if (*user && g_strcmp0(c->opts.user, user) != 0) continue;
        if (*mqtt_cid) continue;  /* no MQTT clients yet: none matches */
        ConnRow row;
        row_from_client(&row, c, now);
        g_array_append_val(rows, row);
      }
    }
    for (guint i = 0; closed && i < closed->len; i++) {
      ClosedConn *cc = closed->pdata[i];
      if (*user && g_strcmp0(cc->user, user) != 0) continue;
      if (*mqtt_cid) continue;
      ConnRow row;
      row_from_closed(&row, cc);
      g_array_append_val(rows, row);
    }
  }

  jw_begin_object(&w, NULL);
  jw_string(&w, "server_id", s->identity.encoded_public);
  jw_time(&w, "now", now, true);
  if (rows->len == 0) {
    jw_int(&w, "num_connections", 0);
    jw_int(&w, "total", total);
    jw_int(&w, "offset", offset);
    jw_int(&w, "limit", limit);
    jw_begin_array(&w, "connections");
    jw_end_array(&w);
  } else {
    g_sort_opt = sort;
    g_sort_now = now;
    qsort(rows->data, rows->len, sizeof(ConnRow), row_cmp);
    int64_t maxidx = rows->len;
    int64_t minoff = MIN(offset, maxidx);
    int64_t maxoff = offset > maxidx - limit ? maxidx : MIN(offset + limit, maxidx);
    jw_int(&w, "num_connections", maxoff - minoff);
    jw_int(&w, "total", total);
    jw_int(&w, "offset", offset);
    jw_int(&w, "limit", limit);
    jw_begin_array(&w, "connections");
    for (int64_t i = minoff; i < maxoff; i++)
      jw_conn_row(&w, &g_array_index(rows, ConnRow, i), now, auth, subs, detail);
    jw_end_array(&w);
  }
  jw_end_object(&w);
  g_array_free(rows, TRUE);
  g_ptr_array_free(open_list, TRUE);
  if (closed) g_ptr_array_free(closed, TRUE);
  respond_json(r, body);
}

/* ---- /varz --------------------------------------------------------------- */

static void jw_http_req_stats(JsonW *w, Monitor *m) {
  jw_begin_object(w, "http_req_stats");
  GList *keys = g_list_sort(g_hash_table_get_keys(m->req_stats), (GCompareFunc)strcmp);
  for (GList *l = keys; l; l = l->next)
    jw_uint(w, l->data, GPOINTER_TO_SIZE(g_hash_table_lookup(m->req_stats, l->data)));
  g_list_free(keys);
  jw_end_object(w);
}

static void handle_varz(Req *r) {
  Monitor *m = r->m;
  Server *s = m->srv;
  Options *o = s->opts;
  double pcpu;
  int64_t rss;
  monitor_proc_usage(m, &pcpu, &rss);
  count_req(m, "/varz");
  int64_t now = g_get_real_time();
  g_autoptr(GString) body = g_string_sized_new(2048);
  JsonW w;
  jw_init(&w, body, !r->compact);
  jw_begin_object(&w, NULL);
  jw_string(&w, "server_id", s->identity.encoded_public);
  jw_string(&w, "server_name", s->server_name);
  jw_string(&w, "version", NATS_VERSION);
  jw_int(&w, "proto", PROTO_VERSION);
  jw_key(&w, "go");
  g_string_append(body, "\"cnatsd " CNATSD_VERSION "\"");
  jw_string(&w, "host", o->host);
  jw_int(&w, "port", s->port);
  if (auth_info_required(s)) jw_bool(&w, "auth_required", true);  /* as INFO says */
  if (server_tls_required(s)) jw_bool(&w, "tls_required", true);
  if (server_tls_verify(s)) jw_bool(&w, "tls_verify", true);
  jw_int(&w, "max_connections", o->max_connections);
  if (o->max_subscriptions) jw_int(&w, "max_subscriptions", o->max_subscriptions);
  jw_int(&w, "ping_interval", o->ping_interval_us * 1000);
  jw_int(&w, "ping_max", o->max_pings_out);
  jw_string(&w, "http_host", o->http_host ? o->http_host : o->host);
  jw_int(&w, "http_port", o->http_port);
  jw_string(&w, "http_base_path", o->http_base_path ? o->http_base_path : "");
  jw_int(&w, "https_port", o->https_port);
  jw_double(&w, "auth_timeout", (double)o->auth_timeout_us / 1e6);
  jw_int(&w, "max_control_line", o->max_control_line);
  jw_int(&w, "max_payload", o->max_payload);
  jw_int(&w, "max_pending", o->max_pending);
  /* Cluster, gateway, leaf, MQTT, websocket and JetStream are not
   * configured: Go prints their option blocks empty. */
  static const char *const blocks[] = {"cluster", "gateway", "leaf", "mqtt", "websocket", "jetstream"};
  for (size_t i = 0; i < G_N_ELEMENTS(blocks); i++) {
    jw_begin_object(&w, blocks[i]);
    jw_end_object(&w);
  }
  jw_double(&w, "tls_timeout", o->tls_timeout);
  jw_int(&w, "write_deadline", o->write_deadline_us * 1000);
  jw_time(&w, "start", s->start_time_real, false);
  jw_time(&w, "now", now, true);
  jw_uptime(&w, "uptime", now - s->start_time_real);
  jw_int(&w, "mem", rss);
  int cores = (int)g_get_num_processors();
  jw_int(&w, "cores", cores);
  jw_int(&w, "gomaxprocs", cores);
  jw_double(&w, "cpu", pcpu);
  jw_uint(&w, "connections", g_hash_table_size(s->clients));
  jw_uint(&w, "total_connections", s->total_connections);
  jw_int(&w, "routes", 0);
  jw_int(&w, "remotes", 0);
  jw_int(&w, "leafnodes", 0);
  jw_uint(&w, "in_msgs", s->in_msgs);
  jw_uint(&w, "out_msgs", s->out_msgs);
  jw_uint(&w, "in_bytes", s->in_bytes);
  jw_uint(&w, "out_bytes", s->out_bytes);
  jw_uint(&w, "slow_consumers", s->slow_consumers);
  jw_uint(&w, "subscriptions", total_subscriptions(s));
  jw_http_req_stats(&w, m);
  jw_time(&w, "config_load_time", s->config_load_time, false);
  if (s->opts->tags) {
    jw_begin_array(&w, "tags");
    for (guint i = 0; i < s->opts->tags->len; i++) jw_string(&w, NULL, s->opts->tags->pdata[i]);
    jw_end_array(&w);
  }
  GPtrArray *op_jwts = jwt_auth_operator_jwts(s), *op_claims = jwt_auth_operator_claims_json(s);
  if (op_jwts && op_jwts->len) {
    jw_begin_array(&w, "trusted_operators_jwt");
    for (guint i = 0; i < op_jwts->len; i++) jw_string(&w, NULL, op_jwts->pdata[i]);
    jw_end_array(&w);
    jw_begin_array(&w, "trusted_operators_claim");
    for (guint i = 0; op_claims && i < op_claims->len; i++) {
      g_autoptr(JsonParser) jp = json_parser_new();
      if (json_parser_load_from_data(jp, op_claims->pdata[i], -1, NULL) && json_parser_get_root(jp))
        jw_node(&w, NULL, json_parser_get_root(jp));
    }
    jw_end_array(&w);
  }
  if (s->system_account) jw_string(&w, "system_account", s->system_account->name);
  if (jwt_auth_pinned_fails(s)) jw_uint(&w, "pinned_account_fails", jwt_auth_pinned_fails(s));
  jw_end_object(&w);
  respond_json(r, body);
}

/* ---- /subsz -------------------------------------------------------------- */

static void handle_subsz(Req *r) {
  Monitor *m = r->m;
  Server *s = m->srv;
  count_req(m, "/subsz");
  bool subs;
  int64_t offset, limit;
  if (!q_bool(r, "subs", &subs) || !q_int(r, "offset", &offset) || !q_int(r, "limit", &limit)) return;
  const char *test = q_get(r, "test");
  const char *filter = q_get(r, "acc");
  if (offset < 0) offset = 0;
  if (limit <= 0) limit = DEFAULT_SUB_LIST_SIZE;
  if (*test && !subject_is_valid_literal(test, strlen(test))) {
    g_autofree char *text = g_strdup_printf("invalid test subject, must be valid publish subject: %s", test);
    req_fail(r, HTTP_BAD_REQUEST, text);
    return;
  }
  SublistStats st;
  memset(&st, 0, sizeof st);
  Account *accs_buf[8], **accs = accs_buf;
  g_autofree Account **all = NULL;
  guint nacc;
  if (s->accounts) {  /* every account, as Go */
    accs = all = (Account **)monitor_account_values(s->accounts, &nacc);
  } else {
    nacc = server_accounts(s, accs_buf, G_N_ELEMENTS(accs_buf));
  }
  GArray *list = g_array_new(FALSE, FALSE, sizeof(SubRec));
  for (guint a = 0; a < nacc; a++) {
    if (*filter && strcmp(accs[a]->name, filter) != 0) continue;
    stats_add(&st, accs[a]->sublist);
    if (!subs) continue;
    Subscription **local = NULL;
    size_t n = sublist_local_subs(accs[a]->sublist, &local, false);
    for (size_t i = 0; i < n; i++) {
      Subscription *sub = local[i];
      if (*test && !subject_matches(sub->subject, sub->subject_len, test, strlen(test))) continue;
      if (!sub->client && !sub->icb) continue;
      SubRec rec;
      subrec_fill(&rec, sub, true);
      /* internal subscriptions (imports, $SYS) belong to the account's internal client in Go */
      if (!sub->client) rec.account = g_strdup(accs[a]->name);
      g_array_append_val(list, rec);
    }
    g_free(local);
  }
  int64_t maxidx = list->len;
  int64_t minoff = MIN(offset, maxidx);
  int64_t maxoff = offset > maxidx - limit ? maxidx : MIN(offset + limit, maxidx);
  g_autoptr(GString) body = g_string_sized_new(1024);
  JsonW w;
  jw_init(&w, body, !r->compact);
  jw_begin_object(&w, NULL);
  if (maxoff - minoff == 0 && !r->compact) {
    /* Go's HTTP handler prints only the sublist statistics when no
     * subscription is listed ($SYS requests get the whole Subsz). */
    jw_sublist_stats_fields(&w, &st);
  } else {
    jw_string(&w, "server_id", s->identity.encoded_public);
    jw_time(&w, "now", g_get_real_time(), true);
    jw_sublist_stats_fields(&w, &st);
    jw_int(&w, "total", maxoff - minoff);   /* Go: the size of this page */
    jw_int(&w, "offset", offset);
    jw_int(&w, "limit", limit);
    if (maxoff > minoff) {  /* Go: omitempty */
      jw_begin_array(&w, "subscriptions_list");
      for (int64_t i = minoff; i < maxoff; i++) jw_subrec(&w, &g_array_index(list, SubRec, i));
      jw_end_array(&w);
    }
  }
  jw_end_object(&w);
  for (guint i = 0; i < list->len; i++) subrec_clear(&g_array_index(list, SubRec, i));
  g_array_free(list, TRUE);
  respond_json(r, body);
}

/* ---- /accountz, /accstatz ------------------------------------------------ */

static void handle_accountz(Req *r) {
  Monitor *m = r->m;
  Server *s = m->srv;
  count_req(m, "/accountz");
  const char *name = q_get(r, "acc");
  Account *acc = NULL;
  if (*name && !(acc = lookup_account(s, name))) {
    g_autofree char *text = g_strdup_printf("Account %s does not exist", name);
    req_fail(r, HTTP_BAD_REQUEST, text);
    return;
  }
  g_autoptr(GString) body = g_string_sized_new(1024);
  JsonW w;
  jw_init(&w, body, !r->compact);
  jw_begin_object(&w, NULL);
  jw_string(&w, "server_id", s->identity.encoded_public);
  jw_time(&w, "now", g_get_real_time(), true);
  if (s->system_account) jw_string(&w, "system_account", s->system_account->name);
  if (!acc) {
    Account *accs[8];
    guint n = server_accounts(s, accs, G_N_ELEMENTS(accs));
    jw_begin_array(&w, "accounts");
    for (guint i = 0; i < n; i++) jw_string(&w, NULL, accs[i]->name);
    jw_end_array(&w);
  } else {
    jw_begin_object(&w, "account_detail");
    jw_string(&w, "account_name", acc->name);
    jw_time(&w, "update_time", s->start_time_real, false);
    if (acc == s->system_account) jw_bool(&w, "is_system", true);
    jw_bool(&w, "expired", false);
    jw_bool(&w, "complete", true);
    jw_bool(&w, "jetstream_enabled", false);
    jw_int(&w, "leafnode_connections", 0);
    jw_uint(&w, "client_connections", acc->num_clients);
    jw_uint(&w, "subscriptions", sublist_count(acc->sublist));
    accounts_monitor_sharing(&w, acc);
    SublistStats st;
    memset(&st, 0, sizeof st);
    stats_add(&st, acc->sublist);
    jw_begin_object(&w, "sublist_stats");
    jw_sublist_stats_fields(&w, &st);
    jw_end_object(&w);
    accounts_monitor_responses(&w, acc);
    jw_end_object(&w);
  }
  jw_end_object(&w);
  respond_json(r, body);
}

static void handle_accstatz(Req *r) {
  Monitor *m = r->m;
  Server *s = m->srv;
  count_req(m, "/accstatz");
  bool unused;
  if (!q_bool(r, "unused", &unused)) return;
  g_autoptr(GString) body = g_string_sized_new(1024);
  JsonW w;
  jw_init(&w, body, !r->compact);
  jw_begin_object(&w, NULL);
  jw_string(&w, "server_id", s->identity.encoded_public);
  jw_time(&w, "now", g_get_real_time(), true);
  jw_begin_array(&w, "account_statz");
  Account *accs[8];
  guint n = server_accounts(s, accs, G_N_ELEMENTS(accs));
  for (guint i = 0; i < n; i++) {
    Account *a = accs[i];
    if (!unused && a->num_clients == 0) continue;
    jw_begin_object(&w, NULL);
    jw_string(&w, "acc", a->name);
    jw_uint(&w, "conns", a->num_clients);
    jw_int(&w, "leafnodes", 0);
    jw_uint(&w, "total_conns", a->num_clients);
    jw_begin_object(&w, "sent");
    jw_uint(&w, "msgs", a->out_msgs);
    jw_uint(&w, "bytes", a->out_bytes);
    jw_end_object(&w);
    jw_begin_object(&w, "received");
    jw_uint(&w, "msgs", a->in_msgs);
    jw_uint(&w, "bytes", a->in_bytes);
    jw_end_object(&w);
    jw_uint(&w, "slow_consumers", a->slow_consumers);
    jw_end_object(&w);
  }
  jw_end_array(&w);
  jw_end_object(&w);
  respond_json(r, body);
}

/* ---- features that are off: routes, gateways, leaf nodes, JetStream ------ */

static void begin_id_now(JsonW *w, Server *s) {
  jw_begin_object(w, NULL);
  jw_string(w, "server_id", s->identity.encoded_public);
  jw_time(w, "now", g_get_real_time(), true);
}

static void handle_routez(Req *r) {
  bool subs, detail;
  if (!q_subs(r, &subs, &detail)) return;
  count_req(r->m, "/routez");
  g_autoptr(GString) body = g_string_new(NULL);
  JsonW w;
  jw_init(&w, body, !r->compact);
  begin_id_now(&w, r->m->srv);
  jw_int(&w, "num_routes", 0);
  jw_begin_array(&w, "routes");
  jw_end_array(&w);
  jw_end_object(&w);
  respond_json(r, body);
}

static void handle_gatewayz(Req *r) {
  count_req(r->m, "/gatewayz");
  bool accs;
  if (!q_bool(r, "accs", &accs)) return;
  g_autoptr(GString) body = g_string_new(NULL);
  JsonW w;
  jw_init(&w, body, !r->compact);
  begin_id_now(&w, r->m->srv);
  jw_begin_object(&w, "outbound_gateways");
  jw_end_object(&w);
  jw_begin_object(&w, "inbound_gateways");
  jw_end_object(&w);
  jw_end_object(&w);
  respond_json(r, body);
}

static void handle_leafz(Req *r) {
  count_req(r->m, "/leafz");
  bool subs;
  if (!q_bool(r, "subs", &subs)) return;
  g_autoptr(GString) body = g_string_new(NULL);
  JsonW w;
  jw_init(&w, body, !r->compact);
  begin_id_now(&w, r->m->srv);
  jw_int(&w, "leafnodes", 0);
  jw_null(&w, "leafs");
  jw_end_object(&w);
  respond_json(r, body);
}

static void handle_jsz(Req *r) {
  count_req(r->m, "/jsz");
  bool b;
  int64_t n;
  if (!q_bool(r, "accounts", &b) || !q_bool(r, "streams", &b) || !q_bool(r, "consumers", &b) ||
      !q_bool(r, "config", &b) || !q_int(r, "offset", &n) || !q_int(r, "limit", &n) || !q_bool(r, "leader-only", &b))
    return;
  g_autoptr(GString) body = g_string_new(NULL);
  JsonW w;
  jw_init(&w, body, !r->compact);
  begin_id_now(&w, r->m->srv);
  jw_bool(&w, "disabled", true);
  jw_begin_object(&w, "config");
  jw_int(&w, "max_memory", 0);
  jw_int(&w, "max_storage", 0);
  jw_end_object(&w);
  static const char *const zeros[] = {"memory", "storage", "reserved_memory", "reserved_storage", "accounts",
                                      "ha_assets"};
  for (size_t i = 0; i < G_N_ELEMENTS(zeros); i++) jw_int(&w, zeros[i], 0);
  jw_begin_object(&w, "api");
  jw_int(&w, "total", 0);
  jw_int(&w, "errors", 0);
  jw_end_object(&w);
  jw_int(&w, "streams", 0);
  jw_int(&w, "consumers", 0);
  jw_int(&w, "messages", 0);
  jw_int(&w, "bytes", 0);
  jw_end_object(&w);
  respond_json(r, body);
}

static void handle_healthz(Req *r) {
  count_req(r->m, "/healthz");
  bool b;
  if (!q_bool(r, "js-enabled", &b) || !q_bool(r, "js-enabled-only", &b) || !q_bool(r, "js-server-only", &b)) return;
  /* Without JetStream configured nats-server stops at "ok". */
  g_autoptr(GString) body = g_string_new(NULL);
  JsonW w;
  jw_init(&w, body, false);
  jw_begin_object(&w, NULL);
  jw_string(&w, "status", "ok");
  jw_end_object(&w);
  respond_json(r, body);
}

/* ---- / ------------------------------------------------------------------- */

static const char root_page_head[] =
    "<html lang=\"en\">\n"
    "\t<head>\n"
    "\t<link rel=\"shortcut icon\" href=\"https://nats.io/favicon.ico\">\n"
    "\t<style type=\"text/css\">\n"
    "\t\tbody { font-family: ui-sans-serif,system-ui,-apple-system,BlinkMacSystemFont,\"Segoe UI\",Roboto,\"Helvetica "
    "Neue\",Arial,\"Noto Sans\",sans-serif; font-size: 18; font-weight: light-bold; margin-left: 32px }\n"
    "\t\ta { display:block; margin-left: 7px; padding-bottom: 6px; color: rgb(72 72 92); text-decoration: none }\n"
    "\t\ta:hover { font-weight: 600; color: rgb(59 50 202) }\n"
    "\t\ta.help { display:inline; font-weight: 600; color: rgb(59 50 202); font-size: 20}\n"
    "\t\ta.last { padding-bottom: 16px }\n"
    "\t\ta.version { font-size: 14; font-weight: 400; width: 312px; text-align: right; margin-top: -2rem }\n"
    "\t\ta.version:hover { color: rgb(22 22 32) }\n"
    "\n"
    "\t</style>\n"
    "\t</head>\n"
    "\t<body>\n"
    "   <h1 style=\"font-size: 40px; margin-left: 7px\">NATS</h1>\n"
    "\n";

static void handle_root(Req *r) {
  Monitor *m = r->m;
  count_req(m, "/");
  const char *b = strcmp(m->base_path, "/") == 0 ? "" : m->base_path;
  GString *page = g_string_new(root_page_head);
  g_string_append_printf(page, "\t<a href=https://github.com/nats-io/nats-server class='version'>v%s</a>\n\n",
                         NATS_VERSION);
  g_string_append(page, "\t</div>\n\t<br/>\n");
  static const char *const links[][2] = {{"/varz", "General"},        {"/jsz", "JetStream"},
                                         {"/connz", "Connections"},   {"/accountz", "Accounts"},
                                         {"/accstatz", "Account Stats"}, {"/subsz", "Subscriptions"},
                                         {"/routez", "Routes"},       {"/leafz", "LeafNodes"},
                                         {"/gatewayz", "Gateways"}};
  for (size_t i = 0; i < G_N_ELEMENTS(links); i++)
    g_string_append_printf(page, "\t<a href=.%s%s>%s</a>\n", b, links[i][0], links[i][1]);
  g_string_append_printf(page, "\t<a href=.%s/healthz class=last>Health Probe</a>\n", b);
  g_string_append(page,
                  "    <a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring "
                  "class=\"help\">Help</a>\n  </body>\n</html>");
  answer_set(r->ans, HTTP_OK, "text/html; charset=utf-8", page->str, page->len);
  g_string_free(page, TRUE);
}

/* ---- dispatch ------------------------------------------------------------ */

static char *normalize_base_path(const char *p);

typedef void (*Handler)(Req *r);

static const struct {
  const char *path;
  Handler fn;
} routes[] = {
    {"/varz", handle_varz},       {"/connz", handle_connz},       {"/routez", handle_routez},
    {"/gatewayz", handle_gatewayz}, {"/leafz", handle_leafz},     {"/subsz", handle_subsz},
    {"/subscriptionsz", handle_subsz}, {"/accountz", handle_accountz}, {"/accstatz", handle_accstatz},
    {"/jsz", handle_jsz},         {"/healthz", handle_healthz},
};

static void monitor_not_found(MonitorHttpAnswer *a) {
  static const char text[] = "404 page not found\n";
  a->nosniff = true;
  answer_set(a, HTTP_NOT_FOUND, "text/plain; charset=utf-8", text, sizeof text - 1);
}

void monitor_serve(void *data, const char *method, const char *path, const char *raw, MonitorHttpAnswer *ans) {
  Monitor *m = data;
  Req r = {.m = m, .ans = ans};
  /* Parse the raw query ourselves: Go's Query().Get() takes the first value. */
  r.query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (raw) {
    gchar **pairs = g_strsplit(raw, "&", -1);
    for (gchar **p = pairs; *p; p++) {
      if (!**p) continue;
      char *eq = strchr(*p, '=');
      g_autofree char *k = eq ? g_strndup(*p, (gsize)(eq - *p)) : g_strdup(*p);
      g_autofree char *v = g_strdup(eq ? eq + 1 : "");
      for (char *c = k; *c; c++) if (*c == '+') *c = ' ';
      for (char *c = v; *c; c++) if (*c == '+') *c = ' ';
      char *dk = g_uri_unescape_string(k, NULL), *dv = g_uri_unescape_string(v, NULL);
      if (!dk || !dv || g_hash_table_contains(r.query, dk)) {
        g_free(dk);
        g_free(dv);
        continue;
      }
      g_hash_table_insert(r.query, dk, dv);
    }
    g_strfreev(pairs);
  }
  g_autofree char *decoded = g_uri_unescape_string(path, NULL);
  const char *p = decoded ? decoded : path;
  /* Go's ServeMux answers a path that is not in clean form ("//varz",
   * "/a/../varz") with a permanent redirect to the clean one. */
  g_autofree char *clean = normalize_base_path(p);
  size_t plen = strlen(p);
  if (plen > 1 && p[plen - 1] == '/' && strcmp(clean, "/") != 0) {
    char *with_slash = g_strconcat(clean, "/", NULL);
    g_free(clean);
    clean = with_slash;
  }
  if (strcmp(clean, p) != 0 && strcmp(method, "CONNECT") != 0) {
    char *loc = raw ? g_strconcat(clean, "?", raw, NULL) : g_strdup(clean);
    g_autofree char *esc = g_markup_escape_text(loc, -1);
    g_autofree char *body = g_strdup_printf("<a href=\"%s\">Moved Permanently</a>.\n\n", esc);
    g_free(ans->location);
    ans->location = loc;
    answer_set(ans, HTTP_MOVED_PERMANENTLY, "text/html; charset=utf-8", body, strlen(body));
    g_hash_table_destroy(r.query);
    return;
  }
  size_t blen = strcmp(m->base_path, "/") == 0 ? 0 : strlen(m->base_path);
  bool handled = false;
  if (strcmp(p, m->base_path) == 0) {
    handle_root(&r);
    handled = true;
  } else if (strncmp(p, m->base_path, blen) == 0) {
    for (size_t i = 0; i < G_N_ELEMENTS(routes); i++) {
      if (strcmp(p + blen, routes[i].path) == 0) {
        routes[i].fn(&r);
        handled = true;
        break;
      }
    }
  }
  if (!handled) monitor_not_found(ans);
  g_hash_table_destroy(r.query);
}

int monitor_build(Monitor *m, const char *endpoint, GHashTable *query, GString *out) {
  MonitorHttpAnswer ans = {.body = g_string_new(NULL)};
  Req r = {.m = m, .ans = &ans, .compact = true};
  r.query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (query) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, query);
    while (g_hash_table_iter_next(&it, &k, &v)) g_hash_table_insert(r.query, g_strdup(k), g_strdup(v));
  }
  ans.status = HTTP_NOT_FOUND;
  m->internal_req = true;
  for (size_t i = 0; i < G_N_ELEMENTS(routes); i++)
    if (strcmp(endpoint, routes[i].path + 1) == 0) {
      routes[i].fn(&r);
      break;
    }
  m->internal_req = false;
  g_string_append_len(out, ans.body->str, (gssize)ans.body->len);
  g_string_free(ans.body, TRUE);
  g_free(ans.location);
  g_hash_table_destroy(r.query);
  return ans.status;
}

/* ---- lifecycle ----------------------------------------------------------- */

static char *normalize_base_path(const char *p) {
  /* Go: "" → "/", add a leading '/', then path.Clean. */
  if (!p || !*p) return g_strdup("/");
  g_autofree char *with = p[0] == '/' ? g_strdup(p) : g_strconcat("/", p, NULL);
  gchar **parts = g_strsplit(with, "/", -1);
  GPtrArray *kept = g_ptr_array_new();
  for (gchar **q = parts; *q; q++) {
    if (!**q || strcmp(*q, ".") == 0) continue;
    if (strcmp(*q, "..") == 0) {
      if (kept->len) g_ptr_array_remove_index(kept, kept->len - 1);
      continue;
    }
    g_ptr_array_add(kept, *q);
  }
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < kept->len; i++) g_string_append_printf(out, "/%s", (char *)kept->pdata[i]);
  if (!out->len) g_string_append_c(out, '/');
  g_ptr_array_free(kept, TRUE);
  g_strfreev(parts);
  return g_string_free(out, FALSE);
}

Monitor *monitor_new(Server *s) {
  Monitor *m = g_new0(Monitor, 1);
  m->srv = s;
  int64_t cap = s->opts->max_closed_clients;
  if (cap <= 0) cap = DEFAULT_MAX_CLOSED_CLIENTS;
  m->closed_cap = (guint)MIN(cap, (int64_t)G_MAXINT32);
  m->closed = g_new0(ClosedConn *, m->closed_cap);
  m->req_stats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  m->base_path = normalize_base_path(s->opts->http_base_path);
  return m;
}

void monitor_free(Monitor *m) {
  if (!m) return;
  if (m->http_server) m->http->stop(m->http_server);
  if (m->tls_cert) m->http->tls_cert_free(m->tls_cert);
  for (guint i = 0; i < m->closed_cap; i++) closed_conn_free(m->closed[i]);
  g_free(m->closed);
  g_hash_table_destroy(m->req_stats);
  g_free(m->base_path);
  g_free(m->host);
  g_free(m);
}

static void monitor_log_error(const char *text) { log_error("%s", text); }

bool monitor_start(Monitor *m, GError **error) {
  Options *o = m->srv->opts;
  if (o->http_port != 0 && o->https_port != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Can't start monitoring: can't specify both HTTP (%d) and HTTPs (%d) ports",
                o->http_port, o->https_port);
    return false;
  }
  if (o->http_port == 0 && o->https_port == 0) return true;
  bool https = o->http_port == 0;
  if (https && (!o->tls_config || !tls_config_cert_file(o->tls_config))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Can't start monitoring: TLS cert and key required for HTTPS");
    return false;
  }
  /* libsoup and what it pulls in (~1.5 MiB of mapped libraries) live in
   * the monitor module, loaded only now that monitoring is configured. */
  g_autoptr(GError) lerr = NULL;
  const MonitorHttpModule *http = module_load("monitor", MONITOR_HTTP_ABI, &lerr);
  if (!http) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Can't start monitoring: %s", lerr->message);
    return false;
  }
  m->http = http;
  if (https) {
    GError *terr = NULL;
    m->tls_cert = http->tls_cert_new(tls_config_cert_file(o->tls_config), tls_config_key_file(o->tls_config), &terr);
    if (!m->tls_cert) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Can't start monitoring: %s", terr->message);
      g_error_free(terr);
      return false;
    }
  }
  const char *host = o->http_host ? o->http_host : o->host;
  if (https && o->https_host) host = o->https_host;
  int cfg_port = https ? o->https_port : o->http_port;
  int port = cfg_port == RANDOM_PORT ? 0 : cfg_port;
  g_autoptr(GInetAddress) ia = NULL;
  if (!*host) {
    ia = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
  } else {
    ia = g_inet_address_new_from_string(host);
    if (!ia) {
      g_autoptr(GResolver) res = g_resolver_get_default();
      GList *addrs = g_resolver_lookup_by_name(res, host, NULL, NULL);
      if (addrs) ia = g_object_ref(addrs->data);
      g_resolver_free_addresses(addrs);
    }
  }
  if (!ia || port < 0 || port > 65535) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "can't listen to the monitor port: listen tcp %s:%d: invalid address",
                host, cfg_port);
    return false;
  }
  /* Bind the socket ourselves so a failure reads as nats-server's
   * ("listen tcp 127.0.0.1:8222: bind: address already in use"). */
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, (guint16)port);
  struct sockaddr_storage ss;
  gsize sslen = g_socket_address_get_native_size(sa);
  g_socket_address_to_native(sa, &ss, sizeof ss, NULL);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const char *step = "socket";
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    step = "bind";
    if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) == 0) {
      step = "listen";
      if (listen(fd, 128) == 0) step = NULL;
    }
  }
  if (step) {
    int e = errno;
    if (fd >= 0) close(fd);
    g_autofree char *msg = g_ascii_strdown(g_strerror(e), -1);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                strchr(host, ':') ? "Can't start monitoring: can't listen to the monitor port: listen tcp [%s]:%d: %s: %s"
                                  : "Can't start monitoring: can't listen to the monitor port: listen tcp %s:%d: %s: %s",
                host, port, step, msg);
    return false;
  }
  g_unix_set_fd_nonblocking(fd, TRUE, NULL);
  static const MonitorHttpHost host_fns = {monitor_serve, monitor_log_error};
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
    m->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
  m->http_server = http->start(fd, m->tls_cert, &host_fns, m);  /* takes fd */
  m->host = g_strdup(host);
  const char *proto = https ? "https" : "http";
  if (strchr(host, ':')) log_info("Starting %s monitor on [%s]:%d", proto, host, m->port);
  else log_info("Starting %s monitor on %s:%d", proto, host, m->port);
  /* First CPU sample, so the first /varz has a window to measure. */
  double pcpu;
  int64_t rss;
  monitor_proc_usage(m, &pcpu, &rss);
  return true;
}

int monitor_port(const Monitor *m) { return m && m->http_server ? m->port : 0; }
const char *monitor_host(const Monitor *m) { return m && m->http_server ? m->host : NULL; }
bool monitor_is_https(const Monitor *m) { return m && m->tls_cert; }
