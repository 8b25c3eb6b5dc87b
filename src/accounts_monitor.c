/* accounts_monitor.c — the account sharing parts of /accountz?acc=NAME
 * (nats-server monitor.go accountInfo: mappings, exports, imports,
 * responses).  Protocol loop thread (the monitor runs there); called by
 * monitor.c only.  Writes with monitor_json in Go's field order; Go's maps
 * come out with sorted keys, as encoding/json writes them. */
#include "accounts_monitor.h"

#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "subject_transform.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void write_map_dests(JsonW *w, GPtrArray *dests, bool with_cluster) {
  for (guint i = 0; dests && i < dests->len; i++) {
    AccountMapDest *d = dests->pdata[i];
    jw_begin_object(w, NULL);
    jw_string(w, "subject", subject_transform_dest(d->tr));
    jw_uint(w, "weight", d->weight);
    if (with_cluster && d->cluster) jw_string(w, "cluster", d->cluster);
    jw_end_object(w);
  }
}

static void write_export_common(JsonW *w, const char *subject, const char *type, const ExportAuth *ea) {
  jw_string(w, "subject", subject);
  jw_string(w, "type", type);
  if (ea && ea->token_req) jw_bool(w, "token_req", true);
  (void)ea;
}

static void write_approved(JsonW *w, const ExportAuth *ea) {
  if (!ea->approved || !ea->approved->len) return;
  jw_begin_array(w, "approved_accounts");
  for (guint i = 0; i < ea->approved->len; i++) jw_string(w, NULL, ea->approved->pdata[i]);
  jw_end_array(w);
}

/* Go ExtImport for a service import; type_as_number: Go prints the type
 * of the entries of the responses map as a number (its MarshalJSON has a
 * pointer receiver and map values are not addressable). */
static void write_service_import(JsonW *w, const char *key, const ServiceImport *si, bool type_as_number) {
  jw_begin_object(w, key);
  if (*si->from) jw_string(w, "subject", si->from);
  if (*si->acc->name) jw_string(w, "account", si->acc->name);
  if (*si->to) jw_string(w, "to", si->to);
  if (type_as_number) jw_int(w, "type", 2);
  else jw_string(w, "type", "service");
  jw_bool(w, "invalid", si->invalid);
  jw_bool(w, "share", si->share);
  jw_bool(w, "tracking", false);
  jw_end_object(w);
}

void accounts_monitor_sharing(JsonW *w, Account *acc) {
  if (acc->mappings && acc->mappings->len) {
    jw_begin_object(w, "mappings");
    g_autofree const char **keys = g_new0(const char *, acc->mappings->len);
    for (guint i = 0; i < acc->mappings->len; i++) keys[i] = ((AccountMapping *)acc->mappings->pdata[i])->src;
    qsort(keys, acc->mappings->len, sizeof *keys, cmp_str);
    for (guint k = 0; k < acc->mappings->len; k++)
      for (guint i = 0; i < acc->mappings->len; i++) {
        AccountMapping *m = acc->mappings->pdata[i];
        if (m->src != keys[k]) continue;
        jw_begin_array(w, m->src);
        write_map_dests(w, m->dests, false);
        write_map_dests(w, m->cdests, true);
        jw_end_array(w);
      }
    jw_end_object(w);
  }
  guint nexp = (acc->service_exports ? acc->service_exports->len : 0) + (acc->stream_exports ? acc->stream_exports->len : 0);
  if (nexp) {
    jw_begin_array(w, "exports");
    for (guint i = 0; acc->service_exports && i < acc->service_exports->len; i++) {
      ServiceExport *e = acc->service_exports->pdata[i];
      jw_begin_object(w, NULL);
      write_export_common(w, e->subject, "service", &e->auth);
      jw_string(w, "response_type", account_resp_type_string(e->resp_type));
      if (e->latency_subject) {
        jw_begin_object(w, "service_latency");
        if (e->latency_sampling) jw_int(w, "sampling", e->latency_sampling);
        else jw_string(w, "sampling", "headers");
        jw_string(w, "results", e->latency_subject);
        jw_end_object(w);
      }
      write_approved(w, &e->auth);
      jw_end_object(w);
    }
    for (guint i = 0; acc->stream_exports && i < acc->stream_exports->len; i++) {
      StreamExport *e = acc->stream_exports->pdata[i];
      jw_begin_object(w, NULL);
      write_export_common(w, e->subject, "stream", &e->auth);
      write_approved(w, &e->auth);
      jw_end_object(w);
    }
    jw_end_array(w);
  }
  guint nimp = (acc->stream_imports ? acc->stream_imports->len : 0) + (acc->service_imports ? acc->service_imports->len : 0);
  if (nimp) {
    jw_begin_array(w, "imports");
    for (guint i = 0; acc->stream_imports && i < acc->stream_imports->len; i++) {
      StreamImport *si = acc->stream_imports->pdata[i];
      jw_begin_object(w, NULL);
      jw_string(w, "subject", si->from);
      jw_string(w, "account", si->acc->name);
      if (*si->to) jw_string(w, "local_subject", si->to);
      jw_string(w, "type", "stream");
      jw_bool(w, "invalid", false);
      jw_bool(w, "share", false);
      jw_bool(w, "tracking", false);
      jw_end_object(w);
    }
    for (guint i = 0; acc->service_imports && i < acc->service_imports->len; i++)
      write_service_import(w, NULL, acc->service_imports->pdata[i], false);
    jw_end_array(w);
  }
}

void accounts_monitor_responses(JsonW *w, Account *acc) {
  if (!acc->responses || g_hash_table_size(acc->responses) == 0) return;
  guint n = 0;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array(acc->responses, &n);
  qsort(keys, n, sizeof *keys, cmp_str);
  jw_begin_object(w, "responses");
  for (guint i = 0; i < n; i++) write_service_import(w, keys[i], g_hash_table_lookup(acc->responses, keys[i]), true);
  jw_end_object(w);
}
