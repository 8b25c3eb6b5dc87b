/* accounts_import.c — imports at run time (nats-server client.go
 * addShadowSubscriptions/addShadowSub, processServiceImport, and the
 * response half of accounts.go: newServiceReply, addRespServiceImport,
 * processServiceImportResponse, checkExpiredResponses).
 *
 * Protocol loop thread only.  Callers: client.c (SUB/UNSUB/close and
 * delivery), auth.c (server setup and config reload).
 *
 * Stream imports: a subscription in an importing account gets a "shadow"
 * copy in the exporting account's sublist (same client and sid, subject
 * mapped back to the exported one); delivery through a shadow maps the
 * subject forward again.  Service imports: an internal subscription on
 * the import's subject in the importing account forwards each request
 * into the exporting account, with the reply subject replaced by a fresh
 * "_R_.<acct>.<id>" one; the exporting account's internal "_R_.<acct>.>"
 * subscription routes answers back to the requester's reply subject.  A
 * singleton response mapping goes after the first answer; streamed and
 * chunked ones after the export's response threshold (swept by a timer),
 * or at once when nothing took a message. */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "client.h"
#include "log.h"
#include "monitor_json.h"
#include "server.h"
#include "subject.h"
#include "subject_transform.h"
#include "sublist.h"
#include "subscription.h"

static const char DIGITS[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
#define REQUEST_INFO_HDR "Nats-Request-Info"
#define HDR_LINE "NATS/1.0\r\n"
#define MAX_IMPORT_CHAIN 16

void account_service_import_free(ServiceImport *si);  /* accounts.c */

/* ---- stream imports: shadow subscriptions -------------------------------- */

static char *join_tokens(char **t) { return g_strjoinv(".", t); }

static void add_shadow(Client *c, Subscription *sub, StreamImport *im, const char *overlap, bool dyn) {
  g_autofree char *subj = NULL;
  if (!im->use_pub && dyn && im->tr) {
    if (!im->rtr) im->rtr = subject_transform_reverse(im->tr);
    if (!im->rtr) return;
    const char *s = overlap ? overlap : sub->subject;
    subj = subject_transform_apply_dup(im->rtr, s, strlen(s));
  } else if (!im->use_pub || overlap || !dyn) {
    subj = g_strdup(overlap ? overlap : im->from);
  } else {
    subj = g_strdup(sub->subject);
  }
  if (c) log_debug(CLIENT_LOG_FMT "Creating import subscription on \"%s\" from account \"%s\"", CLIENT_LOG_ARGS(c), subj,
                   im->acc->name);
  Subscription *nsub = subscription_new(sub->client, subj, strlen(subj), sub->queue, sub->queue ? sub->queue_len : 0,
                                        sub->sid, sub->sid_len);
  nsub->im = im;
  if (sublist_insert(im->acc->sublist, nsub) != 0) {
    if (c) log_error(CLIENT_LOG_FMT "Could not add shadow import subscription for account \"%s\"", CLIENT_LOG_ARGS(c),
                     im->acc->name);
    subscription_unref(nsub);
    return;
  }
  sub->shadow = g_renew(Subscription *, sub->shadow, sub->nshadow + 1);
  sub->shadow[sub->nshadow++] = nsub;  /* our reference */
}

void accounts_import_sub_added(Account *acc, Subscription *sub) {
  Client *c = sub->client;
  const char *subj = sub->subject;
  g_auto(GStrv) tokens = g_strsplit(subj, ".", -1);
  guint ntok = g_strv_length(tokens);
  bool has_wc = false;
  for (guint i = 0; i < ntok; i++) has_wc |= strcmp(tokens[i], "*") == 0;
  if (ntok && strcmp(tokens[ntok - 1], ">") == 0) has_wc = true;
  for (guint k = 0; k < acc->stream_imports->len; k++) {
    StreamImport *im = acc->stream_imports->pdata[k];
    if (strcmp(subj, im->to) == 0) {
      add_shadow(c, sub, im, NULL, false);
      continue;
    }
    if (subject_is_subset(subj, strlen(subj), im->to, strlen(im->to))) {
      add_shadow(c, sub, im, NULL, true);
    } else if (has_wc) {
      if (subject_is_subset(im->to, strlen(im->to), subj, strlen(subj))) {
        add_shadow(c, sub, im, NULL, false);
        continue;
      }
      /* Partial overlap: narrow the subscription's wildcards with the
       * import's literals (Go's overlap subject). */
      g_auto(GStrv) t = g_strsplit(subj, ".", -1);
      g_auto(GStrv) it = g_strsplit(im->to, ".", -1);
      guint nt = g_strv_length(t), nit = g_strv_length(it);
      for (guint i = 0; i < nt && i < nit; i++)
        if (strcmp(t[i], "*") == 0 && strcmp(it[i], ">") != 0) g_free(t[i]), t[i] = g_strdup(it[i]);
      GPtrArray *v = g_ptr_array_new();
      for (guint i = 0; i < nt; i++) g_ptr_array_add(v, t[i]);
      if (strcmp(t[nt - 1], ">") == 0 && nit >= nt) {
        v->pdata[nt - 1] = it[nt - 1];
        for (guint i = nt; i < nit; i++) g_ptr_array_add(v, it[i]);
      }
      g_ptr_array_add(v, NULL);
      g_autofree char *ov = join_tokens((char **)v->pdata);
      g_ptr_array_free(v, TRUE);
      if (subject_is_subset(ov, strlen(ov), im->to, strlen(im->to))) add_shadow(c, sub, im, ov, true);
    }
  }
}

void accounts_import_sub_removed(Subscription *sub) {
  for (uint32_t i = 0; i < sub->nshadow; i++) {
    Subscription *ns = sub->shadow[i];
    if (!ns->closed && ns->im) sublist_remove(ns->im->acc->sublist, ns);
    ns->closed = true;
    subscription_unref(ns);
  }
  g_free(sub->shadow);
  sub->shadow = NULL;
  sub->nshadow = 0;
}

void accounts_import_reload_sub(Account *a, Subscription *sub) {
  /* As Go: the new shadows first, then the old ones leave their sublists
   * (their StreamImports are still alive in a->old_stream_imports). */
  Subscription **old = sub->shadow;
  uint32_t nold = sub->nshadow;
  sub->shadow = NULL;
  sub->nshadow = 0;
  if (a->stream_imports) accounts_import_sub_added(a, sub);
  for (uint32_t i = 0; i < nold; i++) {
    Subscription *ns = old[i];
    if (!ns->closed && ns->im) sublist_remove(ns->im->acc->sublist, ns);
    ns->closed = true;
    subscription_unref(ns);
  }
  g_free(old);
}

bool accounts_import_delivery_subject(const StreamImport *im, const char **subject, size_t *len, char *buf,
                                      size_t cap, char **heap) {
  if (im->tr) {
    size_t n = subject_transform_apply(im->tr, *subject, *len, buf, cap);
    if (n > cap) {
      *heap = g_malloc(n);
      subject_transform_apply(im->tr, *subject, *len, *heap, n);
      *subject = *heap;
    } else {
      *subject = buf;
    }
    *len = n;
  } else if (!im->use_pub) {
    *subject = im->to;
    *len = strlen(im->to);
  }
  return *len > 0;
}

/* ---- service imports ------------------------------------------------------ */

/* Go getClientInfo(detailed) as JSON (ClientInfo field order). (transfer full) */
static char *client_info_json(Client *c, Account *fallback, bool detailed) {
  GString *g = g_string_new(NULL);
  JsonW w;
  jw_init(&w, g, false);
  jw_begin_object(&w, NULL);
  if (detailed && c) {
    jw_time(&w, "start", c->start_time_real, true);
    if (*c->host) jw_string(&w, "host", c->host);
    if (c->cid) jw_uint(&w, "id", c->cid);
  }
  jw_string(&w, "acc", c && c->acc ? c->acc->name : fallback->name);
  if (detailed && c) {
    if (c->opts.user && *c->opts.user) jw_string(&w, "user", c->opts.user);
    if (c->opts.name && *c->opts.name) jw_string(&w, "name", c->opts.name);
    if (c->opts.lang && *c->opts.lang) jw_string(&w, "lang", c->opts.lang);
    if (c->opts.version && *c->opts.version) jw_string(&w, "ver", c->opts.version);
  }
  if (c && c->rtt_us) jw_int(&w, "rtt", c->rtt_us * 1000);
  if (detailed && c) {
    Server *s = c->srv;
    jw_string(&w, "server", s->server_name && *s->server_name ? s->server_name : s->identity.encoded_public);
    jw_string(&w, "kind", "Client");
    jw_string(&w, "client_type", "nats");
  }
  jw_end_object(&w);
  return g_string_free(g, FALSE);
}

/* A message made by the server into account a (Go sendInternalAccountMsg). */
static void internal_publish(Account *a, const char *subject, const char *payload, size_t len) {
  ParserPub m = {.subject = subject, .subject_len = strlen(subject), .hdr_len = -1, .total_len = (int64_t)len};
  SublistResult *r = sublist_match(a->sublist, subject, m.subject_len);
  client_process_msg_results(NULL, a, r, &m, payload, CLIENT_PMR_EMPTY_REPLY);
  sublist_result_unref(r);
}

/* Go ServiceLatency event, published in the exporting account a. */
static void send_latency(Account *a, const char *subject, int status, const char *desc, const char *requestor,
                         const char *responder, const char *header, int64_t start_real_us, int64_t service_ns,
                         int64_t system_ns, int64_t total_ns) {
  if (!subject || !a->srv || !a->srv->system_account) return;
  char id[23];
  for (int i = 0; i < 22; i++) id[i] = DIGITS[g_random_int_range(0, 62)];
  id[22] = '\0';
  GString *g = g_string_new(NULL);
  JsonW w;
  jw_init(&w, g, false);
  jw_begin_object(&w, NULL);
  jw_string(&w, "type", "io.nats.server.metric.v1.service_latency");
  jw_string(&w, "id", id);
  jw_time(&w, "timestamp", g_get_real_time(), true);
  jw_int(&w, "status", status);
  if (desc) jw_string(&w, "description", desc);
  if (requestor) {
    jw_key(&w, "requestor");
    g_string_append(g, requestor);
  }
  if (responder) {
    jw_key(&w, "responder");
    g_string_append(g, responder);
  }
  if (header && strcmp(header, "{}") != 0) {
    jw_key(&w, "header");
    g_string_append(g, header);
  }
  jw_time(&w, "start", start_real_us, true);
  jw_int(&w, "service", MAX(service_ns, 0));
  jw_int(&w, "system", MAX(system_ns, 0));
  jw_int(&w, "total", total_ns);
  jw_end_object(&w);
  internal_publish(a, subject, g->str, g->len);
  g_string_free(g, TRUE);
}

/* ---- trace headers that ask for a latency sample (Go shouldSample) ------ */

typedef struct HdrKV {
  char *key, *val;  /* owned; key in Go's canonical MIME form */
} HdrKV;

/* textproto.CanonicalMIMEHeaderKey for the keys that matter here. */
static char *canon_key(const char *k, size_t n) {
  char *out = g_strndup(k, n);
  for (size_t i = 0; i < n; i++)
    if (!(g_ascii_isalnum(out[i]) || out[i] == '-')) return out;  /* left as is, like Go */
  bool up = true;
  for (size_t i = 0; i < n; i++) {
    out[i] = up ? g_ascii_toupper(out[i]) : g_ascii_tolower(out[i]);
    up = out[i] == '-';
  }
  return out;
}

static GArray *parse_headers(const char *h, int64_t hdr_len) {
  GArray *kv = g_array_new(FALSE, FALSE, sizeof(HdrKV));
  const char *p = h, *end = h + hdr_len;
  const char *nl = memchr(p, '\n', (size_t)(end - p));  /* skip "NATS/1.0 ..." */
  p = nl ? nl + 1 : end;
  while (p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    const char *le = e ? e : end;
    size_t n = (size_t)(le - p);
    if (n && p[n - 1] == '\r') n--;
    if (n == 0) break;
    const char *colon = memchr(p, ':', n);
    if (colon) {
      const char *v = colon + 1, *ve = p + n;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      HdrKV x = {canon_key(p, (size_t)(colon - p)), g_strndup(v, (size_t)(ve - v))};
      g_array_append_val(kv, x);
    }
    p = e ? e + 1 : end;
  }
  return kv;
}

static void free_headers(GArray *kv) {
  for (guint i = 0; i < kv->len; i++) {
    g_free(g_array_index(kv, HdrKV, i).key);
    g_free(g_array_index(kv, HdrKV, i).val);
  }
  g_array_free(kv, TRUE);
}

static const char *hdr_get(GArray *kv, const char *key) {
  for (guint i = 0; i < kv->len; i++)
    if (strcmp(g_array_index(kv, HdrKV, i).key, key) == 0) return g_array_index(kv, HdrKV, i).val;
  return NULL;
}

/* Go http.Header JSON for the named keys (sorted, every value). */
static char *hdr_json(GArray *kv, const char *const *keys, const char *prefix) {
  GPtrArray *names = g_ptr_array_new();
  for (guint i = 0; i < kv->len; i++) {
    const char *k = g_array_index(kv, HdrKV, i).key;
    bool want = prefix && g_str_has_prefix(k, prefix);
    for (int j = 0; keys[j] && !want; j++) want = strcmp(keys[j], k) == 0;
    bool seen = false;
    for (guint j = 0; j < names->len && !seen; j++) seen = strcmp(names->pdata[j], k) == 0;
    if (want && !seen) g_ptr_array_add(names, (gpointer)k);
  }
  for (guint i = 1; i < names->len; i++)
    for (guint j = i; j > 0 && strcmp(names->pdata[j - 1], names->pdata[j]) > 0; j--) {
      gpointer t = names->pdata[j];
      names->pdata[j] = names->pdata[j - 1];
      names->pdata[j - 1] = t;
    }
  GString *g = g_string_new(NULL);
  JsonW w;
  jw_init(&w, g, false);
  jw_begin_object(&w, NULL);
  for (guint i = 0; i < names->len; i++) {
    jw_begin_array(&w, names->pdata[i]);
    for (guint k = 0; k < kv->len; k++)
      if (strcmp(g_array_index(kv, HdrKV, k).key, names->pdata[i]) == 0) jw_string(&w, NULL, g_array_index(kv, HdrKV, k).val);
    jw_end_array(&w);
  }
  jw_end_object(&w);
  g_ptr_array_free(names, TRUE);
  return g_string_free(g, FALSE);
}

/* Sampling by trace headers: true with *hdr (transfer full) set to the
 * headers that decided it. */
static bool header_sampled(const ParserPub *m, const char *payload, char **hdr) {
  *hdr = NULL;
  if (m->hdr_len <= 0) return false;
  GArray *kv = parse_headers(payload, m->hdr_len);
  bool yes = false;
  const char *v;
  if ((v = hdr_get(kv, "Uber-Trace-Id"))) {
    g_auto(GStrv) tk = g_strsplit(v, ":", -1);
    if (g_strv_length(tk) == 4 && *tk[3] && strlen(tk[3]) <= 2) {
      int d = g_ascii_xdigit_value(tk[3][strlen(tk[3]) - 1]);
      if (d >= 0 && (d & 1)) {
        static const char *const k[] = {"Uber-Trace-Id", NULL};
        *hdr = hdr_json(kv, k, "Uberctx-");
        yes = true;
      }
    }
  } else if ((v = hdr_get(kv, "X-B3-Sampled")) && strcmp(v, "1") == 0) {
    yes = true;
  } else if (v && strcmp(v, "0") == 0) {
    yes = false;
  } else if (hdr_get(kv, "X-B3-Traceid")) {
    yes = true;
  } else if ((v = hdr_get(kv, "B3"))) {
    g_auto(GStrv) tk = g_strsplit(v, "-", -1);
    guint n = g_strv_length(tk);
    if (!((n > 2 && strcmp(tk[2], "0") == 0) || (n == 1 && strcmp(tk[0], "0") == 0))) {
      static const char *const k[] = {"B3", NULL};
      *hdr = hdr_json(kv, k, NULL);
      yes = true;
    }
  } else if ((v = hdr_get(kv, "Traceparent"))) {
    g_auto(GStrv) tk = g_strsplit(v, "-", -1);
    if (g_strv_length(tk) == 4 && strcmp(tk[3], "01") == 0) {
      static const char *const k[] = {"Traceparent", "Tracestate", NULL};
      *hdr = hdr_json(kv, k, NULL);
      yes = true;
    }
  }
  if (yes && !*hdr) {
    static const char *const k[] = {"X-B3-Sampled", "X-B3-Traceid", "X-B3-Parentspanid", "X-B3-Spanid", NULL};
    *hdr = hdr_json(kv, k, NULL);
  }
  free_headers(kv);
  return yes;
}

/* Go sendBackendErrorTrackingLatency: a tracked request that got no answer. */
static void send_backend_error(Account *a, ServiceImport *rsi, bool timeout) {
  send_latency(a, rsi->latency_subject, timeout ? 504 : 503, timeout ? "Service Timeout" : "Service Unavailable",
               rsi->requestor, NULL, rsi->tracking_hdr, rsi->start_real_us - rsi->requestor_rtt_ns / 1000, 0, 0, 0);
}

static void process_service_import(Client *c, ServiceImport *si, Account *acc, const ParserPub *m,
                                   const char *payload);

static void si_icb(Subscription *sub, Client *pub, Account *acc, const ParserPub *m, const char *payload) {
  process_service_import(pub, sub->icb_data, acc, m, payload);
}

/* Go processServiceImportResponse: the exporter's "_R_.x.>" subscription. */
static void resp_icb(Subscription *sub, Client *pub, Account *acc, const ParserPub *m, const char *payload) {
  Account *a = sub->icb_data;
  if (!a->responses) return;
  g_autofree char *key = g_strndup(m->subject, m->subject_len);
  ServiceImport *si = g_hash_table_lookup(a->responses, key);
  if (!si || si->invalid) return;
  process_service_import(pub, si, a, m, payload);
}

static uint64_t rnd(Account *a) {
  uint64_t x = a->prand;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return a->prand = x;
}

static Subscription *internal_sub(Account *a, const char *subject, void *data,
                                  void (*cb)(Subscription *, Client *, Account *, const ParserPub *, const char *)) {
  char sid[24];
  int n = snprintf(sid, sizeof sid, "%" G_GUINT64_FORMAT, ++a->isid);
  Subscription *sub = subscription_new(NULL, subject, strlen(subject), NULL, 0, sid, (size_t)n);
  sub->icb = cb;
  sub->icb_data = data;
  if (sublist_insert(a->sublist, sub) != 0) {
    subscription_unref(sub);
    return NULL;
  }
  return sub;  /* the caller's reference */
}

/* Go newServiceReply: "_R_.<6>." prefix per account (with its wildcard
 * subscription) plus 6 random characters.  (transfer full) */
static char *new_service_reply(Account *a, bool tracking) {
  if (!a->si_reply) {
    char b[12] = "_R_.";
    uint64_t l = rnd(a);
    for (int i = 4; i < 10; i++, l /= 62) b[i] = DIGITS[l % 62];
    b[10] = '.';
    b[11] = '\0';
    a->si_reply = g_strdup(b);
    g_autofree char *wc = g_strconcat(b, ">", NULL);
    a->resp_sub = internal_sub(a, wc, a, resp_icb);
  }
  char id[7];
  uint64_t l = rnd(a);
  for (int i = 0; i < 6; i++, l /= 62) id[i] = DIGITS[l % 62];
  id[6] = '\0';
  if (tracking && a->srv && a->srv->system_account) {
    /* tracked: ".<server hash>.T" so the measurement finds its way back */
    char h[9];
    server_name_hash(a->srv, h);
    return g_strconcat(a->si_reply, id, ".", h, ".T", NULL);
  }
  return g_strconcat(a->si_reply, id, NULL);
}

/* ---- reverse entries (Go rrMap): requests waiting, by reply subject ----- */

static void resp_entry_free(AccountRespEntry *e) {
  g_free(e->msub);
  g_free(e);
}

static void add_rr_entry(Account *dest, const char *reply, Account *a, const char *msub) {
  if (!dest->rr_map)
    dest->rr_map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  GPtrArray *v = g_hash_table_lookup(dest->rr_map, reply);
  if (!v) {
    v = g_ptr_array_new_with_free_func((GDestroyNotify)resp_entry_free);
    g_hash_table_insert(dest->rr_map, g_strdup(reply), v);
  }
  AccountRespEntry *e = g_new0(AccountRespEntry, 1);
  e->acc = a;
  e->msub = g_strdup(msub);
  g_ptr_array_add(v, e);
}

static void remove_rr_entry(Account *dest, const char *reply, const char *msub) {
  GPtrArray *v = dest->rr_map ? g_hash_table_lookup(dest->rr_map, reply) : NULL;
  if (!v) return;
  for (guint i = 0; i < v->len; i++)
    if (strcmp(((AccountRespEntry *)v->pdata[i])->msub, msub) == 0) {
      g_ptr_array_remove_index(v, i);
      break;
    }
  if (v->len == 0) g_hash_table_remove(dest->rr_map, reply);
}

static void remove_resp(Account *a, ServiceImport *rsi, bool timeout) {
  if (!rsi || !a->responses) return;
  if (rsi->tracking && !rsi->did_deliver) send_backend_error(a, rsi, timeout);
  remove_rr_entry(rsi->acc, rsi->to, rsi->from);
  g_hash_table_remove(a->responses, rsi->from);
}

static void check_reverse(Account *acc, const char *reply) {
  if (!acc->rr_map || g_hash_table_size(acc->rr_map) == 0) return;
  size_t rl = strlen(reply);
  if (subject_has_wildcard(reply, rl)) {
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, acc->rr_map);
    while (g_hash_table_iter_next(&it, &k, &v))
      if (subject_is_subset(k, strlen(k), reply, rl)) g_ptr_array_add(keys, g_strdup(k));
    for (guint i = 0; i < keys->len; i++) check_reverse(acc, keys->pdata[i]);
    g_ptr_array_free(keys, TRUE);
    return;
  }
  if (!g_hash_table_contains(acc->rr_map, reply)) return;
  /* still someone listening on the reply subject: keep them */
  if (sublist_has_interest(acc->sublist, reply, rl)) return;
  gpointer key, val;
  if (!g_hash_table_steal_extended(acc->rr_map, reply, &key, &val)) return;
  GPtrArray *sres = val;
  for (guint i = 0; i < sres->len; i++) {
    AccountRespEntry *e = sres->pdata[i];
    ServiceImport *rsi = e->acc->responses ? g_hash_table_lookup(e->acc->responses, e->msub) : NULL;
    if (!rsi || rsi->did_deliver) continue;
    if (rsi->tracking)  /* Go sendReplyInterestLostTrackLatency */
      send_latency(e->acc, rsi->latency_subject, 408, "Request Timeout", rsi->requestor, NULL, rsi->tracking_hdr,
                   rsi->start_real_us - rsi->requestor_rtt_ns / 1000, 0, 0, 0);
    g_hash_table_remove(e->acc->responses, e->msub);
  }
  g_free(key);
  g_ptr_array_unref(sres);
}

void accounts_import_check_reply_interest(Account *acc, const char *subject) { check_reverse(acc, subject); }

static void resp_timer_fired(void *data);

static void arm_resp_timer(ServiceExport *se) {
  if (!se || !se->acc || !se->acc->srv || loop_timer_armed(&se->resp_timer)) return;
  Loop *loop = se->acc->srv->loop;
  loop_timer_start(loop, &se->resp_timer, loop_now(loop) + se->resp_thresh_us, resp_timer_fired, se);
}

/* Go checkExpiredResponses */
static void resp_timer_fired(void *data) {
  ServiceExport *se = data;
  Account *a = se->acc;
  if (!a->responses) return;
  int64_t now = loop_now(a->srv->loop), min_ts = now - se->resp_thresh_us;
  GHashTableIter it;
  gpointer k, v;
  guint left = 0;
  g_hash_table_iter_init(&it, a->responses);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    ServiceImport *si = v;
    if (si->se != se) continue;
    if (si->ts <= min_ts) {
      if (si->tracking && !si->did_deliver) send_backend_error(a, si, true);
      remove_rr_entry(si->acc, si->to, si->from);
      g_hash_table_iter_remove(&it);
    } else {
      left++;
    }
  }
  if (left) loop_timer_start(a->srv->loop, &se->resp_timer, now + se->resp_thresh_us, resp_timer_fired, se);
}

/* Go addRespServiceImport: in `a` (the responder's account) map a fresh
 * reply subject back to `to` in `dest` (the requester's account). */
static ServiceImport *add_resp_service_import(Account *a, Account *dest, const char *to, size_t to_len,
                                              ServiceImport *osi, bool tracking) {
  ServiceImport *si = g_new0(ServiceImport, 1);
  si->acc = dest;
  si->se = osi->se;
  si->from = new_service_reply(osi->acc, tracking);
  si->to = g_strndup(to, to_len);
  si->rt = osi->rt;
  si->response = true;
  si->share = osi->share;
  si->ts = a->srv ? loop_now(a->srv->loop) : 0;
  if (!a->responses)
    a->responses = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)account_service_import_free);
  g_hash_table_replace(a->responses, si->from, si);
  arm_resp_timer(osi->se);
  add_rr_entry(dest, si->to, a, si->from);
  return si;
}

static void json_str(GString *g, const char *s) {
  g_string_append_c(g, '"');
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') g_string_append_printf(g, "\\%c", ch);
    else if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&') g_string_append_printf(g, "\\u%04x", ch);
    else g_string_append_c(g, (char)ch);
  }
  g_string_append_c(g, '"');
}

/* Go setHeader(ClientInfoHdr, ...): the message with its Nats-Request-Info
 * header set.  (transfer full); new sizes in *hdr, *total. */
static char *with_request_info(const char *payload, int64_t hdr_len, int64_t total_len, const char *value, int64_t *hdr,
                               int64_t *total) {
  GString *b = g_string_sized_new((gsize)total_len + 128);
  int64_t body_at = 0;
  if (hdr_len > 2) {
    body_at = hdr_len;
    const char *h = payload;
    size_t hl = (size_t)hdr_len - 2, key = strlen(REQUEST_INFO_HDR);
    const char *start = g_strstr_len(h, (gssize)hl, REQUEST_INFO_HDR);
    if (start && start > h && start[-1] == '\n' && (size_t)(start - h) + key < hl && start[key] == ':') {
      const char *end = g_strstr_len(start, (gssize)(hl - (size_t)(start - h)), "\r\n");
      if (end) {
        g_string_append_len(b, h, start - h);
        g_string_append_len(b, end + 2, (gssize)(hl - (size_t)(end + 2 - h)));
      } else {
        g_string_append_len(b, h, (gssize)hl);
      }
    } else {
      g_string_append_len(b, h, (gssize)hl);
    }
    if (b->len <= strlen(HDR_LINE)) g_string_assign(b, HDR_LINE);
  } else {
    g_string_append(b, HDR_LINE);
  }
  g_string_append_printf(b, "%s: %s\r\n\r\n", REQUEST_INFO_HDR, value);
  *hdr = (int64_t)b->len;
  g_string_append_len(b, payload + body_at, (gssize)(total_len - body_at));
  *total = (int64_t)b->len;
  return g_string_free(b, FALSE);
}

/* Imports being processed right now (Go's c.pa.psi): a chain that comes
 * back to an export already on it is a cycle and stops there. */
static struct {
  ServiceExport *se;
  const char *acc_name;  /* borrowed: the requester's account */
  int64_t rtt_ns;
} chain[MAX_IMPORT_CHAIN];
static int chain_len;

static void process_service_import(Client *c, ServiceImport *si, Account *acc, const ParserPub *m,
                                   const char *payload) {
  bool is_response = si->response;
  for (int i = chain_len - 1; i >= 0; i--)
    if (chain[i].se == si->se) return;
  if (si->invalid || chain_len >= MAX_IMPORT_CHAIN) return;

  ServiceImport *rsi = NULL;
  g_autofree char *nrr = NULL;
  /* Latency sampling (Go shouldSample; trace-header sampling is not done). */
  ServiceExport *se = si->se;
  g_autofree char *tracking_hdr = NULL;
  bool tracking = false;
  if (!is_response && se && se->latency_subject) {
    tracking = se->latency_sampling >= 100 ||
               (se->latency_sampling > 0 && g_random_int_range(0, 100) <= se->latency_sampling);
    if (!tracking) tracking = header_sampled(m, payload, &tracking_hdr);
  }
  if (m->reply_len > 0) {
    if (m->reply_len > 8 && memcmp(m->reply, "$JS.ACK.", 8) == 0) {
      nrr = g_strndup(m->reply, m->reply_len);
    } else {
      rsi = add_resp_service_import(si->acc, acc, m->reply, m->reply_len, si, tracking);
      nrr = g_strdup(rsi->from);
      if (tracking && si->rt == SERVICE_RESP_SINGLETON) {
        rsi->tracking = true;
        rsi->latency_subject = se->latency_subject;
        rsi->requestor = client_info_json(c, acc, si->share);
        rsi->requestor_rtt_ns = c ? c->rtt_us * 1000 : 0;
        rsi->start_real_us = g_get_real_time();
        rsi->tracking_hdr = g_steal_pointer(&tracking_hdr);
      }
    }
  } else if (tracking) {
    /* Go sendBadRequestTrackingLatency: a sampled request without a reply */
    g_autofree char *req = client_info_json(c, acc, si->share);
    int64_t rtt_us = c ? c->rtt_us : 0;
    send_latency(si->acc, se->latency_subject, 400, "Bad Request", req, NULL, tracking_hdr, g_get_real_time() - rtt_us, 0,
                 0, 0);
  }
  if (si->tracking && !si->did_deliver && acc->srv) {
    /* Go sendTrackingLatency: the answer to a sampled request */
    si->did_deliver = true;
    int64_t now = loop_now(acc->srv->loop);
    int64_t service_rtt_ns = (now - si->ts) * 1000;
    int64_t resp_rtt_ns = c ? c->rtt_us * 1000 : 0;
    g_autofree char *responder = client_info_json(c, acc, true);
    int64_t system_ns = resp_rtt_ns > 0 ? (loop_now(acc->srv->loop) - now) * 1000 : 0;
    send_latency(acc, si->latency_subject, 200, NULL, si->requestor, responder, si->tracking_hdr,
                 si->start_real_us - si->requestor_rtt_ns / 1000, service_rtt_ns - resp_rtt_ns, system_ns,
                 si->requestor_rtt_ns + service_rtt_ns + system_ns);
  }

  /* The subject in the destination account. */
  const char *to = si->to;
  size_t to_len = strlen(si->to);
  g_autofree char *to_heap = NULL;
  if (si->tr) {
    to = to_heap = subject_transform_apply_dup(si->tr, m->subject, m->subject_len);
    to_len = strlen(to_heap);
  } else if (si->use_pub) {
    to = m->subject;
    to_len = m->subject_len;
  }
  g_autofree char *mapped = NULL;
  const SubjectTransform *mtr;
  if (si->acc->mappings && account_select_mapping(si->acc, to, to_len, &mtr)) {
    mapped = mtr ? subject_transform_apply_dup(mtr, to, to_len) : g_strdup("");
    to = mapped;
    to_len = strlen(mapped);
  }

  ParserPub fwd = *m;
  fwd.subject = to;
  fwd.subject_len = to_len;
  fwd.reply = nrr;
  fwd.reply_len = nrr ? strlen(nrr) : 0;
  const char *body = payload;
  g_autofree char *hdr_msg = NULL;
  const char *req_acc = chain_len ? chain[chain_len - 1].acc_name : (c && c->acc ? c->acc->name : acc->name);
  int64_t rtt_ns = chain_len ? chain[chain_len - 1].rtt_ns : (c ? c->rtt_us * 1000 : 0);
  if (!is_response) {
    /* Who asked, for the responder (Go ClientInfo; details when shared). */
    g_autoptr(GString) ci = g_string_new(NULL);
    if (si->share && !chain_len) {
      g_autofree char *full = client_info_json(c, acc, true);
      g_string_assign(ci, full);
    } else {
      g_string_append(ci, "{\"acc\":");
      json_str(ci, req_acc);
      if (chain_len) {
        g_string_append(ci, ",\"svc\":");
        json_str(ci, acc->name);
      }
      if (rtt_ns) g_string_append_printf(ci, ",\"rtt\":%" G_GINT64_FORMAT, rtt_ns);
      g_string_append_c(ci, '}');
    }
    hdr_msg = with_request_info(payload, m->hdr_len, m->total_len, ci->str, &fwd.hdr_len, &fwd.total_len);
    body = hdr_msg;
    fwd.hdr_text = fwd.size_text = NULL;
    fwd.hdr_text_len = fwd.size_text_len = 0;
  }

  chain[chain_len].se = si->se;
  chain[chain_len].acc_name = req_acc;
  chain[chain_len].rtt_ns = rtt_ns;
  chain_len++;
  Account *dest = si->acc;
  ServiceRespType rt = si->rt;
  si->busy++;
  if (rsi) rsi->busy++;
  SublistResult *r = sublist_match(dest->sublist, to, to_len);
  bool delivered = client_process_msg_results(c, dest, r, &fwd, body, CLIENT_PMR_IMPORTED_FROM_SERVICE);
  sublist_result_unref(r);
  chain_len--;
  si->busy--;
  if (rsi) rsi->busy--;
  if (rsi && rsi->dead) {
    /* dropped during the delivery: out of the table already */
    if (!rsi->busy) account_service_import_free(rsi);
    rsi = NULL;
  }
  if (si->dead) {
    if (!si->busy) account_service_import_free(si);
    return;
  }

  /* Responses: a singleton is done after its answer, as is any stream on an
   * empty message (EOF); a mapping nothing took is dropped. */
  bool remove = !delivered || (is_response && (rt == SERVICE_RESP_SINGLETON || m->total_len == 0));
  if (rt != SERVICE_RESP_SINGLETON && delivered && acc->srv) si->ts = loop_now(acc->srv->loop);
  if (remove) {
    if (is_response) remove_resp(acc, si, false);
    else remove_resp(si->acc, rsi, false);
  }
}

void accounts_import_start(Server *s, GHashTable *skip) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, s->accounts);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    Account *a = v;
    if (skip && g_hash_table_contains(skip, a)) continue;
    for (guint i = 0; a->service_imports && i < a->service_imports->len; i++) {
      ServiceImport *si = a->service_imports->pdata[i];
      if (!si->sub) si->sub = internal_sub(a, si->from, si, si_icb);
    }
  }
}

void accounts_import_subscribe(Account *a, ServiceImport *si) {
  if (!si->sub) si->sub = internal_sub(a, si->from, si, si_icb);
}
