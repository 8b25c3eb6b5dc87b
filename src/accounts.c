/* accounts.c — account objects and the rules nats-server's accounts.go
 * applies when mappings, exports and imports are added (see accounts.h).
 *
 * Protocol loop thread (and the main thread while a config is checked, on
 * accounts that have no server).  Callers: auth.c builds the server's
 * accounts, accounts_conf.c checks a config by building throwaway ones,
 * client.c asks for mapped subjects, accounts_import.c runs the imports.
 *
 * Exports and imports live in arrays in config order: nats-server keeps
 * them in Go maps (random order), so where it picks "the first matching
 * export" we pick the first configured one.  Error results are Go's texts. */
#include "accounts.h"

#include <glib.h>
#include <string.h>

#include "auth.h"
#include "server.h"
#include "subject.h"
#include "subject_transform.h"
#include "sublist.h"
#include "subscription.h"

static void map_dest_free(AccountMapDest *d) {
  if (!d) return;
  subject_transform_free(d->tr);
  g_free(d->cluster);
  g_free(d);
}

static void mapping_free(AccountMapping *m) {
  if (!m) return;
  g_free(m->src);
  if (m->dests) g_ptr_array_unref(m->dests);
  if (m->cdests) g_ptr_array_unref(m->cdests);
  g_free(m);
}

static void export_auth_clear(ExportAuth *ea) {
  if (ea->approved) g_ptr_array_unref(ea->approved);
  ea->approved = NULL;
}

static void stream_export_free(StreamExport *e) {
  if (!e) return;
  export_auth_clear(&e->auth);
  g_free(e->subject);
  g_free(e);
}

static void service_export_free(ServiceExport *e) {
  if (!e) return;
  if (loop_timer_armed(&e->resp_timer) && e->acc && e->acc->srv && e->acc->srv->loop)
    loop_timer_stop(e->acc->srv->loop, &e->resp_timer);
  export_auth_clear(&e->auth);
  g_free(e->subject);
  g_free(e->latency_subject);
  g_free(e);
}

static void stream_import_free(StreamImport *si) {
  if (!si) return;
  g_free(si->from);
  g_free(si->to);
  subject_transform_free(si->tr);
  subject_transform_free(si->rtr);
  g_free(si);
}

void account_service_import_free(ServiceImport *si);
void account_service_import_free(ServiceImport *si) {
  if (!si) return;
  if (si->busy) {
    si->dead = true;  /* the delivery in progress frees it */
    return;
  }
  if (si->sub) {
    si->sub->closed = true;
    subscription_unref(si->sub);
  }
  g_free(si->from);
  g_free(si->to);
  g_free(si->requestor);
  g_free(si->tracking_hdr);
  subject_transform_free(si->tr);
  g_free(si);
}

Account *account_new(const char *name, bool sublist_cache) {
  Account *acc = g_new0(Account, 1);
  acc->name = g_strdup(name);
  acc->sublist = sublist_new(sublist_cache);
  acc->max_connections = acc->max_subscriptions = acc->max_payload = -1;
  acc->prand = g_random_int() | ((uint64_t)g_random_int() << 32) | 1;
  return acc;
}

void account_free(Account *acc) {
  if (!acc) return;
  if (acc->responses) g_hash_table_destroy(acc->responses);
  if (acc->rr_map) g_hash_table_destroy(acc->rr_map);
  if (acc->service_imports) g_ptr_array_unref(acc->service_imports);
  if (acc->stream_imports) g_ptr_array_unref(acc->stream_imports);
  if (acc->service_exports) g_ptr_array_unref(acc->service_exports);
  if (acc->stream_exports) g_ptr_array_unref(acc->stream_exports);
  if (acc->mappings) g_ptr_array_unref(acc->mappings);
  if (acc->old_stream_imports) g_ptr_array_unref(acc->old_stream_imports);
  if (acc->retired_service_exports) g_ptr_array_unref(acc->retired_service_exports);
  if (acc->resp_sub) {
    acc->resp_sub->closed = true;
    subscription_unref(acc->resp_sub);
  }
  for (guint i = 0; acc->old_resp_subs && i < acc->old_resp_subs->len; i++) {
    Subscription *sub = acc->old_resp_subs->pdata[i];
    sub->closed = true;
    subscription_unref(sub);
  }
  if (acc->old_resp_subs) g_ptr_array_unref(acc->old_resp_subs);
  g_free(acc->si_reply);
  sublist_free(acc->sublist);
  g_free(acc->name);
  g_free(acc);
}

const char *account_resp_type_string(ServiceRespType rt) {
  switch (rt) {
    case SERVICE_RESP_SINGLETON: return "Singleton";
    case SERVICE_RESP_STREAMED: return "Streamed";
    case SERVICE_RESP_CHUNKED: return "Chunked";
  }
  return "Unknown ServiceResType";
}

static uint64_t account_rand(Account *a) {
  uint64_t x = a->prand;  /* xorshift64: a weighted pick needs spread, not secrecy */
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return a->prand = x;
}

/* Go's %q for the error texts. (transfer full) */
static char *goq(const char *s) {
  GString *g = g_string_new(NULL);
  auth_go_quote(g, s, strlen(s));
  return g_string_free(g, FALSE);
}

/* ---- mappings ------------------------------------------------------------ */

static char *new_dest(AccountMapping *m, const char *subject, uint8_t weight, const char *cluster, bool validate,
                      AccountMapDest **out) {
  if (validate) {
    char *e = subject_transform_validate_dest(subject);
    if (e) return e;
  }
  char *err = NULL;
  SubjectTransform *tr = subject_transform_new(m->src, subject, &err);
  if (!tr) return err;
  AccountMapDest *d = g_new0(AccountMapDest, 1);
  d->tr = tr;
  d->weight = d->conf_weight = weight;
  d->cluster = cluster ? g_strdup(cluster) : NULL;
  *out = d;
  return NULL;
}

/* Go processDestinations: the source itself takes what the weights leave
 * (unless listed), then sorted by weight and made cumulative. */
static char *process_dests(AccountMapping *m, GPtrArray *dests, GHashTable *seen) {
  unsigned ltw = 0;
  for (guint i = 0; i < dests->len; i++) ltw += ((AccountMapDest *)dests->pdata[i])->weight;
  if (ltw != 100 && !g_hash_table_contains(seen, m->src)) {
    g_autofree char *dest = m->wc ? subject_transform_tokenize(m->src) : g_strdup(m->src);
    AccountMapDest *d = NULL;
    char *e = new_dest(m, dest, (uint8_t)(dests->len == 0 ? 100 : 100 - ltw), NULL, false, &d);
    if (e) return e;
    g_ptr_array_add(dests, d);
  }
  /* insertion sort: stable, as Go's sort.Slice is for short slices */
  for (guint i = 1; i < dests->len; i++) {
    AccountMapDest *x = dests->pdata[i];
    guint j = i;
    while (j > 0 && ((AccountMapDest *)dests->pdata[j - 1])->weight > x->weight) {
      dests->pdata[j] = dests->pdata[j - 1];
      j--;
    }
    dests->pdata[j] = x;
  }
  unsigned lw = 0;
  for (guint i = 0; i < dests->len; i++) {
    AccountMapDest *d = dests->pdata[i];
    d->weight = (uint8_t)(d->weight + lw);
    lw = d->weight;
  }
  return NULL;
}

char *account_add_mapping(Account *a, const char *src, const AccountMapDestSpec *dests, size_t n) {
  if (!subject_is_valid(src, strlen(src))) return g_strdup("invalid subject");
  AccountMapping *m = g_new0(AccountMapping, 1);
  m->src = g_strdup(src);
  m->wc = subject_has_wildcard(src, strlen(src));
  m->dests = g_ptr_array_new_with_free_func((GDestroyNotify)map_dest_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GHashTable) clusters = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
  unsigned tw = 0;
  char *err = NULL;
  for (size_t i = 0; i < n && !err; i++) {
    const AccountMapDestSpec *d = &dests[i];
    if (g_hash_table_contains(seen, d->subject)) {
      g_autofree char *q = goq(d->subject);
      err = g_strdup_printf("duplicate entry for %s", q);
      break;
    }
    g_hash_table_add(seen, (gpointer)d->subject);
    uint8_t w = (uint8_t)d->weight;
    if (w > 100) {
      err = g_strdup("individual weights need to be <= 100");
      break;
    }
    tw += w;
    if (tw > 100) {
      err = g_strdup("total weight needs to be <= 100");
      break;
    }
    AccountMapDest *md = NULL;
    const char *cl = d->cluster && *d->cluster ? d->cluster : NULL;
    if ((err = new_dest(m, d->subject, w, cl, true, &md))) break;
    if (!cl) {
      g_ptr_array_add(m->dests, md);
    } else {
      GPtrArray *ad = g_hash_table_lookup(clusters, cl);
      if (!ad) {
        ad = g_ptr_array_new_with_free_func((GDestroyNotify)map_dest_free);
        g_hash_table_insert(clusters, md->cluster, ad);
      }
      g_ptr_array_add(ad, md);
    }
  }
  if (!err) err = process_dests(m, m->dests, seen);
  if (!err && g_hash_table_size(clusters)) {
    m->cdests = g_ptr_array_new_with_free_func((GDestroyNotify)map_dest_free);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, clusters);
    while (!err && g_hash_table_iter_next(&it, &k, &v)) {
      GPtrArray *ad = v;
      if ((err = process_dests(m, ad, seen))) break;
      for (guint i = 0; i < ad->len; i++) g_ptr_array_add(m->cdests, ad->pdata[i]);
      g_ptr_array_set_free_func(ad, NULL);
    }
  }
  if (err) {
    mapping_free(m);
    return err;
  }
  if (!a->mappings) a->mappings = g_ptr_array_new_with_free_func((GDestroyNotify)mapping_free);
  for (guint i = 0; i < a->mappings->len; i++) {
    AccountMapping *em = a->mappings->pdata[i];
    if (strcmp(em->src, src) == 0) {
      mapping_free(em);
      a->mappings->pdata[i] = m;
      return NULL;
    }
  }
  g_ptr_array_add(a->mappings, m);
  return NULL;
}

bool account_select_mapping(Account *a, const char *subject, size_t len, const SubjectTransform **tr) {
  AccountMapping *m = NULL;
  for (guint i = 0; a->mappings && i < a->mappings->len && !m; i++) {
    AccountMapping *rm = a->mappings->pdata[i];
    if (!rm->wc ? (strlen(rm->src) == len && memcmp(rm->src, subject, len) == 0)
                : subject_is_subset(subject, len, rm->src, strlen(rm->src)))
      m = rm;
  }
  if (!m) return false;
  /* Cluster-scoped destinations apply to the server's cluster: there are no
   * clusters here, so the main list is used, as Go does with no match. */
  GPtrArray *dests = m->dests;
  AccountMapDest *d = NULL;
  if (dests->len == 1 && ((AccountMapDest *)dests->pdata[0])->weight == 100) {
    d = dests->pdata[0];
  } else {
    unsigned w = (unsigned)(account_rand(a) % 100);
    for (guint i = 0; i < dests->len && !d; i++)
      if (w < ((AccountMapDest *)dests->pdata[i])->weight) d = dests->pdata[i];
  }
  *tr = d ? d->tr : NULL;
  return true;
}

/* ---- exports ------------------------------------------------------------- */

static char *set_export_auth(ExportAuth *ea, const char *subject, GPtrArray *accounts, uint32_t pos) {
  if (pos > 0) {
    g_auto(GStrv) toks = g_strsplit(subject, ".", -1);
    if (g_strv_length(toks) < pos || strcmp(toks[pos - 1], "*") != 0) return g_strdup("sublist: invalid subject");
  }
  ea->account_pos = pos;
  if (!accounts) return NULL;
  if (accounts->len == 0) {
    ea->token_req = true;
    return NULL;
  }
  if (!ea->approved) ea->approved = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < accounts->len; i++) {
    bool dup = false;
    for (guint k = 0; k < ea->approved->len && !dup; k++) dup = strcmp(ea->approved->pdata[k], accounts->pdata[i]) == 0;
    if (!dup) g_ptr_array_add(ea->approved, g_strdup(accounts->pdata[i]));
  }
  return NULL;
}

char *account_add_stream_export(Account *a, const char *subject, GPtrArray *accounts, uint32_t pos) {
  if (!a->stream_exports) a->stream_exports = g_ptr_array_new_with_free_func((GDestroyNotify)stream_export_free);
  StreamExport *e = NULL;
  for (guint i = 0; i < a->stream_exports->len && !e; i++)
    if (strcmp(((StreamExport *)a->stream_exports->pdata[i])->subject, subject) == 0) e = a->stream_exports->pdata[i];
  bool fresh = !e;
  if (fresh) {
    e = g_new0(StreamExport, 1);
    e->subject = g_strdup(subject);
  }
  if (accounts || pos > 0) {
    e->has_auth = true;
    char *err = set_export_auth(&e->auth, subject, accounts, pos);
    if (err) {
      if (fresh) stream_export_free(e);
      return err;
    }
  }
  if (fresh) g_ptr_array_add(a->stream_exports, e);
  return NULL;
}

ServiceExport *account_get_service_export(Account *a, const char *subject) {
  if (!a->service_exports) return NULL;
  for (guint i = 0; i < a->service_exports->len; i++) {
    ServiceExport *e = a->service_exports->pdata[i];
    if (strcmp(e->subject, subject) == 0) return e;
  }
  for (guint i = 0; i < a->service_exports->len; i++) {
    ServiceExport *e = a->service_exports->pdata[i];
    if (subject_is_subset(subject, strlen(subject), e->subject, strlen(e->subject))) return e;
  }
  return NULL;
}

char *account_add_service_export(Account *a, const char *subject, ServiceRespType rt, GPtrArray *accounts,
                                 uint32_t pos) {
  if (!a->service_exports) a->service_exports = g_ptr_array_new_with_free_func((GDestroyNotify)service_export_free);
  ServiceExport *e = NULL;
  for (guint i = 0; i < a->service_exports->len && !e; i++)
    if (strcmp(((ServiceExport *)a->service_exports->pdata[i])->subject, subject) == 0) e = a->service_exports->pdata[i];
  bool fresh = !e;
  if (fresh) {
    e = g_new0(ServiceExport, 1);
    e->subject = g_strdup(subject);
  }
  if (rt != SERVICE_RESP_SINGLETON) e->resp_type = rt;
  if (accounts || pos > 0) {
    char *err = set_export_auth(&e->auth, subject, accounts, pos);
    if (err) {
      if (fresh) service_export_free(e);
      return err;
    }
  }
  e->acc = a;
  e->resp_thresh_us = DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD_US;
  if (fresh) g_ptr_array_add(a->service_exports, e);
  return NULL;
}

/* Go checkAuth (no JWT activations: a token-required export refuses). */
static bool check_auth(const ExportAuth *ea, const Account *importer, char **tokens) {
  bool approved_empty = !ea->approved || ea->approved->len == 0;
  if (approved_empty && !ea->token_req && ea->account_pos == 0) return true;
  if (ea->account_pos > 0)
    return tokens && ea->account_pos <= g_strv_length(tokens) && strcmp(tokens[ea->account_pos - 1], importer->name) == 0;
  if (ea->token_req) return false;
  if (!ea->approved) return false;
  for (guint i = 0; i < ea->approved->len; i++)
    if (strcmp(ea->approved->pdata[i], importer->name) == 0) return true;
  return false;
}

static bool stream_import_authorized(Account *exporter, Account *importer, const char *subject) {
  if (!exporter->stream_exports || !subject_is_valid(subject, strlen(subject))) return false;
  for (guint i = 0; i < exporter->stream_exports->len; i++) {
    StreamExport *e = exporter->stream_exports->pdata[i];
    if (strcmp(e->subject, subject) == 0) return !e->has_auth || check_auth(&e->auth, importer, NULL);
  }
  g_auto(GStrv) toks = g_strsplit(subject, ".", -1);
  for (guint i = 0; i < exporter->stream_exports->len; i++) {
    StreamExport *e = exporter->stream_exports->pdata[i];
    if (subject_is_subset(subject, strlen(subject), e->subject, strlen(e->subject)))
      return !e->has_auth || check_auth(&e->auth, importer, toks);
  }
  return false;
}

static bool service_import_authorized(Account *exporter, Account *importer, const char *subject) {
  if (!exporter->service_exports) return false;
  for (guint i = 0; i < exporter->service_exports->len; i++) {
    ServiceExport *e = exporter->service_exports->pdata[i];
    if (strcmp(e->subject, subject) == 0) return check_auth(&e->auth, importer, NULL);
  }
  g_auto(GStrv) toks = g_strsplit(subject, ".", -1);
  for (guint i = 0; i < exporter->service_exports->len; i++) {
    ServiceExport *e = exporter->service_exports->pdata[i];
    if (subject_is_subset(subject, strlen(subject), e->subject, strlen(e->subject)))
      return check_auth(&e->auth, importer, toks);
  }
  return false;
}

/* ---- imports ------------------------------------------------------------- */

static bool has_stream_export_matching(Account *a, const char *to) {
  for (guint i = 0; a->stream_exports && i < a->stream_exports->len; i++) {
    StreamExport *e = a->stream_exports->pdata[i];
    if (subject_is_subset(to, strlen(to), e->subject, strlen(e->subject))) return true;
  }
  return false;
}

static char *check_stream_cycles(Account *a, const char *to, GHashTable *visited) {
  if (g_hash_table_size(visited) >= MAX_ACCOUNT_CYCLE_SEARCH_DEPTH) return g_strdup("search cycle depth exhausted");
  if (!has_stream_export_matching(a, to)) return NULL;
  for (guint i = 0; a->stream_imports && i < a->stream_imports->len; i++) {
    StreamImport *si = a->stream_imports->pdata[i];
    if (!subject_collide(to, strlen(to), si->to, strlen(si->to))) continue;
    if (g_hash_table_contains(visited, si->acc->name)) return g_strdup("import forms a cycle");
    g_hash_table_add(visited, a->name);
    if (subject_is_subset(si->to, strlen(si->to), to, strlen(to))) to = si->to;
    char *e = check_stream_cycles(si->acc, to, visited);
    if (e) return e;
  }
  return NULL;
}

static char *check_service_cycles(Account *a, const char *from, GHashTable *visited) {
  if (g_hash_table_size(visited) >= MAX_ACCOUNT_CYCLE_SEARCH_DEPTH) return g_strdup("search cycle depth exhausted");
  for (guint i = 0; a->service_imports && i < a->service_imports->len; i++) {
    ServiceImport *si = a->service_imports->pdata[i];
    if (!subject_collide(from, strlen(from), si->to, strlen(si->to))) continue;
    if (g_hash_table_contains(visited, si->acc->name)) return g_strdup("import forms a cycle");
    g_hash_table_add(visited, a->name);
    if (subject_is_subset(si->from, strlen(si->from), from, strlen(from))) from = si->from;
    char *e = check_service_cycles(si->acc, from, visited);
    if (e) return e;
  }
  return NULL;
}

char *account_add_mapped_stream_import(Account *a, Account *exporter, const char *from, const char *to) {
  if (!exporter) return g_strdup("account missing");
  if (!stream_import_authorized(exporter, a, from)) return g_strdup("stream import not authorized");
  if (!to || !*to) to = from;
  g_autoptr(GHashTable) visited = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_add(visited, a->name);
  char *err = check_stream_cycles(exporter, to, visited);
  if (err) return err;
  bool use_pub = false;
  SubjectTransform *tr = NULL;
  g_autofree char *nto = g_strdup(to);
  if (subject_has_wildcard(from, strlen(from))) {
    if (strcmp(to, from) == 0) {
      use_pub = true;
    } else {
      g_autofree char *tok = subject_transform_tokenize(to);
      char *e = NULL;
      if (!(tr = subject_transform_new(from, tok, &e))) {
        g_autofree char *qf = goq(from), *qt = goq(to);
        char *msg = g_strdup_printf("failed to create mapping transform for stream import subject %s to %s: %s", qf, qt, e);
        g_free(e);
        return msg;
      }
      g_free(nto);
      nto = subject_transform_untokenize(to);
    }
  }
  for (guint i = 0; a->stream_imports && i < a->stream_imports->len; i++) {
    StreamImport *si = a->stream_imports->pdata[i];
    if (si->acc == exporter && strcmp(si->from, from) == 0) {
      subject_transform_free(tr);
      return g_strdup("stream import already exists");
    }
  }
  if (!a->stream_imports) a->stream_imports = g_ptr_array_new_with_free_func((GDestroyNotify)stream_import_free);
  StreamImport *si = g_new0(StreamImport, 1);
  si->acc = exporter;
  si->from = g_strdup(from);
  si->to = g_steal_pointer(&nto);
  si->tr = tr;
  si->use_pub = use_pub;
  g_ptr_array_add(a->stream_imports, si);
  return NULL;
}

char *account_add_stream_import(Account *a, Account *exporter, const char *from, const char *prefix) {
  if (!exporter) return g_strdup("account missing");
  if (!stream_import_authorized(exporter, a, from)) return g_strdup("stream import not authorized");
  g_autofree char *to = NULL;
  if (prefix && *prefix) {
    if (subject_has_wildcard(prefix, strlen(prefix))) return g_strdup("stream import prefix can not contain wildcard tokens");
    size_t n = strlen(prefix);
    to = g_strconcat(prefix, prefix[n - 1] == '.' ? "" : ".", from, NULL);
  } else {
    to = g_strdup(from);
  }
  return account_add_mapped_stream_import(a, exporter, from, to);
}

char *account_add_service_import(Account *a, Account *dest, const char *from, const char *to) {
  if (!dest) return g_strdup("account missing");
  if (!to || !*to) to = from;
  if (!subject_is_valid(from, strlen(from)) || !subject_is_valid(to, strlen(to)))
    return g_strdup("sublist: invalid subject");
  if (!service_import_authorized(dest, a, to)) return g_strdup("service import not authorized");
  g_autoptr(GHashTable) visited = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_add(visited, a->name);
  char *err = check_service_cycles(dest, from, visited);
  if (err) return err;

  /* Go addServiceImport */
  ServiceExport *se = account_get_service_export(dest, to);
  for (guint i = 0; a->service_imports && i < a->service_imports->len; i++) {
    ServiceImport *dup = a->service_imports->pdata[i];
    if (strcmp(dup->from, from) == 0) {
      g_autofree char *qf = goq(from), *qa = goq(dup->acc->name), *qt = goq(dup->to);
      return g_strdup_printf("duplicate service import subject %s, previously used in import for account %s, subject %s",
                             qf, qa, qt);
    }
  }
  bool use_pub = false;
  SubjectTransform *tr = NULL;
  g_autofree char *nfrom = g_strdup(from), *nto = g_strdup(to);
  if (subject_has_wildcard(to, strlen(to))) {
    if (strcmp(to, from) == 0) {
      use_pub = true;
    } else {
      g_free(nto);
      nto = subject_transform_untokenize(to);
      g_autofree char *tok = subject_transform_tokenize(from);
      char *e = NULL;
      SubjectTransform *fwd = subject_transform_new(nto, tok, &e);
      if (!fwd) {
        g_autofree char *qf = goq(from), *qt = goq(nto);
        char *msg = g_strdup_printf("failed to create mapping transform for service import subject %s to %s: %s", qf,
                                    qt, e);
        g_free(e);
        return msg;
      }
      g_free(nfrom);
      nfrom = subject_transform_untokenize(from);
      tr = subject_transform_reverse(fwd);
      subject_transform_free(fwd);
    }
  }
  if (!a->service_imports)
    a->service_imports = g_ptr_array_new_with_free_func((GDestroyNotify)account_service_import_free);
  ServiceImport *si = g_new0(ServiceImport, 1);
  si->acc = dest;
  si->se = se;
  si->from = g_steal_pointer(&nfrom);
  si->to = g_steal_pointer(&nto);
  si->tr = tr;
  si->rt = se ? se->resp_type : SERVICE_RESP_SINGLETON;
  si->use_pub = use_pub;
  g_ptr_array_add(a->service_imports, si);
  return NULL;
}

/* ---- config reload (see accounts.h) --------------------------------------- */

void accounts_import_reload_detach(Account *a) {
  if (a->mappings) g_ptr_array_unref(g_steal_pointer(&a->mappings));
  if (a->stream_exports) g_ptr_array_unref(g_steal_pointer(&a->stream_exports));
  if (a->service_exports) {
    /* Pending responses (and their threshold timer) point at these: they
     * stay until _finish finds them unused. */
    if (!a->retired_service_exports)
      a->retired_service_exports = g_ptr_array_new_with_free_func((GDestroyNotify)service_export_free);
    GPtrArray *v = g_steal_pointer(&a->service_exports);
    for (guint i = 0; i < v->len; i++) g_ptr_array_add(a->retired_service_exports, v->pdata[i]);
    g_ptr_array_set_free_func(v, NULL);
    g_ptr_array_unref(v);
  }
  if (a->service_imports) {
    /* Go removeAllServiceImportSubs */
    for (guint i = 0; i < a->service_imports->len; i++) {
      ServiceImport *si = a->service_imports->pdata[i];
      if (si->sub && !si->sub->closed) sublist_remove(a->sublist, si->sub);
    }
    g_ptr_array_unref(g_steal_pointer(&a->service_imports));
  }
  if (a->old_stream_imports) g_ptr_array_unref(a->old_stream_imports);  /* not expected: a reload finishes */
  a->old_stream_imports = g_steal_pointer(&a->stream_imports);
}

void accounts_import_reload_renew_reply(Account *a) {
  if (!a->si_reply) return;
  g_clear_pointer(&a->si_reply, g_free);
  if (!a->resp_sub) return;
  if (!a->old_resp_subs) a->old_resp_subs = g_ptr_array_new();
  g_ptr_array_add(a->old_resp_subs, g_steal_pointer(&a->resp_sub));
}

static bool stream_import_same(const StreamImport *x, const StreamImport *y) {
  return strcmp(x->acc->name, y->acc->name) == 0 && strcmp(x->from, y->from) == 0 && strcmp(x->to, y->to) == 0;
}

bool accounts_import_reload_streams_changed(Account *a) {
  GPtrArray *o = a->old_stream_imports, *n = a->stream_imports;
  bool same = (o ? o->len : 0) == (n ? n->len : 0);
  for (guint i = 0; same && o && i < o->len; i++) {
    bool found = false;
    for (guint k = 0; n && k < n->len && !found; k++) found = stream_import_same(o->pdata[i], n->pdata[k]);
    same = found;
  }
  if (!same) return true;
  /* Equal: keep the objects the shadow subscriptions already use. */
  if (n) g_ptr_array_unref(n);
  a->stream_imports = g_steal_pointer(&a->old_stream_imports);
  return false;
}

void accounts_import_reload_finish(GPtrArray *accounts) {
  g_autoptr(GHashTable) used = g_hash_table_new(NULL, NULL);
  for (guint i = 0; i < accounts->len; i++) {
    Account *a = accounts->pdata[i];
    if (a->old_stream_imports) g_ptr_array_unref(g_steal_pointer(&a->old_stream_imports));
    if (!a->responses) continue;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, a->responses);
    while (g_hash_table_iter_next(&it, &k, &v))
      if (((ServiceImport *)v)->se) g_hash_table_add(used, ((ServiceImport *)v)->se);
  }
  for (guint i = 0; i < accounts->len; i++) {
    Account *a = accounts->pdata[i];
    GPtrArray *r = a->retired_service_exports;
    for (guint k = r ? r->len : 0; k > 0; k--)
      if (!g_hash_table_contains(used, r->pdata[k - 1])) g_ptr_array_remove_index(r, k - 1);
    if (r && r->len == 0) g_ptr_array_unref(g_steal_pointer(&a->retired_service_exports));
  }
}
