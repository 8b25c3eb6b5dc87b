/* accounts_conf.c — mappings, exports and imports from the config (see
 * accounts_conf.h).
 *
 * Main thread while a config is loaded; the apply functions run on the
 * protocol loop thread during server setup.  Callers: auth.c (accounts
 * block), opts.c (top-level mappings).
 *
 * nats-server checks these the moment it reads them, by adding them to
 * Account objects; we do the same on throwaway accounts so `-t` and
 * startup refuse exactly what nats-server refuses, then keep the parsed
 * form and apply it again to the server's real accounts.  Where Go turns a
 * failed type assertion into an error ("interface conversion: ...") and
 * abandons the rest of the item, we do too (the `bail` paths).  Go walks
 * config maps in random order; we walk them in written order, which is one
 * of the orders Go may take. */
#include "accounts_conf.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "auth.h"
#include "conf_parse.h"
#include "subject.h"
#include "subject_transform.h"

typedef struct MapDestConf {
  char *subject;  /* owned */
  int weight;
  char *cluster;  /* owned; NULL = none */
} MapDestConf;

typedef struct MappingConf {
  char *src;       /* owned */
  GArray *dests;   /* MapDestConf (strings owned) */
} MappingConf;

typedef struct ExportConf {
  bool service;
  char *subject;        /* owned */
  GPtrArray *accounts;  /* owned char*; NULL = public */
  ServiceRespType rt;
  int64_t thresh_us;    /* 0 = default */
  char *lat_subject;    /* owned; NULL = none */
  int lat_sampling;
  uint32_t pos;         /* account_token_position */
} ExportConf;

typedef struct ImportConf {
  bool service;
  char *account, *subject;  /* owned */
  char *prefix, *to;        /* owned; NULL = not given */
  bool share;
} ImportConf;

struct AccountsConf {
  GPtrArray *mappings;  /* owned MappingConf* */
  GPtrArray *exports;   /* owned ExportConf* */
  GPtrArray *imports;   /* owned ImportConf* */
};

static void mapping_conf_free(MappingConf *m) {
  for (guint i = 0; i < m->dests->len; i++) {
    MapDestConf *d = &g_array_index(m->dests, MapDestConf, i);
    g_free(d->subject);
    g_free(d->cluster);
  }
  g_array_free(m->dests, TRUE);
  g_free(m->src);
  g_free(m);
}

static void export_conf_free(ExportConf *e) {
  g_free(e->subject);
  if (e->accounts) g_ptr_array_unref(e->accounts);
  g_free(e->lat_subject);
  g_free(e);
}

static void import_conf_free(ImportConf *i) {
  g_free(i->account);
  g_free(i->subject);
  g_free(i->prefix);
  g_free(i->to);
  g_free(i);
}

AccountsConf *accounts_conf_new(void) {
  AccountsConf *ac = g_new0(AccountsConf, 1);
  ac->mappings = g_ptr_array_new_with_free_func((GDestroyNotify)mapping_conf_free);
  ac->exports = g_ptr_array_new_with_free_func((GDestroyNotify)export_conf_free);
  ac->imports = g_ptr_array_new_with_free_func((GDestroyNotify)import_conf_free);
  return ac;
}

void accounts_conf_free(AccountsConf *ac) {
  if (!ac) return;
  g_ptr_array_unref(ac->mappings);
  g_ptr_array_unref(ac->exports);
  g_ptr_array_unref(ac->imports);
  g_free(ac);
}

/* ---- error helpers -------------------------------------------------------- */

/* Go's failed type assertion v.(T), recovered into an error at `at`. */
static void report_conv(GPtrArray *errors, const ConfValue *at, const ConfValue *v, const char *want) {
  conf_report(errors, at, "interface conversion: interface {} is %s, not %s", conf_value_go_type(v), want);
}

static char *goq(const char *s) {
  GString *g = g_string_new(NULL);
  auth_go_quote(g, s, strlen(s));
  return g_string_free(g, FALSE);
}

/* %q of a config value the way Go prints it for a string (other kinds
 * print as Go's %!q(type=value); only strings reach these messages in
 * practice). */
static char *goq_value(const ConfValue *v) {
  if (conf_value_kind(v) == CONF_STRING) return goq(conf_value_string(v));
  return g_strdup_printf("%%!q(%s)", conf_value_go_type(v));
}

/* ---- mappings ------------------------------------------------------------- */

/* Go strconv.Atoi */
static bool atoi_go(const char *s, int64_t *out) {
  if (!*s) return false;
  char *end;
  errno = 0;
  long long v = g_ascii_strtoll(s, &end, 10);
  if (*end || errno || g_ascii_isspace(*s)) return false;
  *out = v;
  return true;
}

/* Go parseAccountMapDest.  Returns false (error reported) or fills d.
 * *bail: a type assertion failed (Go panics out of the whole mappings block). */
static bool parse_map_dest_fields(const ConfValue *v, GPtrArray *errors, MapDestConf *d, bool *bail);
static bool parse_map_dest(const ConfValue *v, GPtrArray *errors, MapDestConf *d, bool *bail) {
  memset(d, 0, sizeof *d);
  if (parse_map_dest_fields(v, errors, d, bail)) return true;
  g_free(d->subject);
  g_free(d->cluster);
  memset(d, 0, sizeof *d);
  return false;
}

static bool parse_map_dest_fields(const ConfValue *v, GPtrArray *errors, MapDestConf *d, bool *bail) {
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "Expected an entry for the mapping destination");
    return false;
  }
  bool sw = false;
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *k = conf_value_map_key(v, i);
    const ConfValue *e = conf_value_map_value(v, i);
    if (!g_ascii_strcasecmp(k, "dest") || !g_ascii_strcasecmp(k, "destination")) {
      if (conf_value_kind(e) != CONF_STRING) {
        report_conv(errors, v, e, "string");
        *bail = true;
        return false;
      }
      g_free(d->subject);
      d->subject = g_strdup(conf_value_string(e));
    } else if (!g_ascii_strcasecmp(k, "weight")) {
      int64_t w;
      if (conf_value_kind(e) == CONF_STRING) {
        g_autofree char *ws = g_strdup(conf_value_string(e));
        size_t n = strlen(ws);
        if (n && ws[n - 1] == '%') ws[n - 1] = '\0';
        if (!atoi_go(ws, &w)) {
          g_autofree char *q = goq(ws);
          conf_report(errors, e, "Invalid weight %s for mapping destination", q);
          return false;
        }
      } else if (conf_value_kind(e) == CONF_INTEGER) {
        w = conf_value_int(e);
      } else {
        conf_report(errors, e, "Unknown entry type for weight of %s\n",
               conf_value_kind(e) == CONF_BOOL ? (conf_value_bool(e) ? "true" : "false") : conf_value_go_type(e));
        return false;
      }
      if (w > 100 || w < 0) {
        conf_report(errors, e, "Invalid weight %" G_GINT64_FORMAT " for mapping destination", w);
        return false;
      }
      d->weight = (int)w;
      sw = true;
    } else if (!g_ascii_strcasecmp(k, "cluster")) {
      if (conf_value_kind(e) != CONF_STRING) {
        report_conv(errors, v, e, "string");
        *bail = true;
        return false;
      }
      g_free(d->cluster);
      d->cluster = g_strdup(conf_value_string(e));
    } else {
      conf_report(errors, e, "Unknown field \"%s\" for mapping destination", k);
      return false;
    }
  }
  if (!sw) {
    g_autofree char *q = goq(d->subject ? d->subject : "");
    conf_report(errors, v, "Missing weight for mapping destination %s", q);
    return false;
  }
  if (!d->subject) d->subject = g_strdup("");
  return true;
}

static char *apply_mapping(Account *acc, const MappingConf *m) {
  AccountMapDestSpec *specs = g_new0(AccountMapDestSpec, m->dests->len + 1);
  for (guint i = 0; i < m->dests->len; i++) {
    MapDestConf *d = &g_array_index(m->dests, MapDestConf, i);
    specs[i] = (AccountMapDestSpec){d->subject, d->weight, d->cluster};
  }
  char *e = account_add_mapping(acc, m->src, specs, m->dests->len);
  g_free(specs);
  return e;
}

void accounts_conf_parse_mappings(AccountsConf *ac, const char *acc_name, const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) != CONF_MAP) {
    report_conv(errors, v, v, "map[string]interface {}");
    return;
  }
  /* Checked on a throwaway account, as Go adds them to one while parsing. */
  Account *scratch = account_new(acc_name, false);
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *subj = conf_value_map_key(v, i);
    const ConfValue *mv = conf_value_map_value(v, i);
    if (!subject_is_valid(subj, strlen(subj))) {
      g_autofree char *q = goq(subj);
      conf_report(errors, v, "Subject %s is not a valid subject", q);
      continue;
    }
    MappingConf *m = g_new0(MappingConf, 1);
    m->src = g_strdup(subj);
    m->dests = g_array_new(FALSE, TRUE, sizeof(MapDestConf));
    bool bail = false;
    const ConfValue *last = mv;
    if (conf_value_kind(mv) == CONF_STRING) {
      MapDestConf d = {g_strdup(conf_value_string(mv)), 100, NULL};
      g_array_append_val(m->dests, d);
    } else if (conf_value_kind(mv) == CONF_ARRAY) {
      for (size_t k = 0; k < conf_value_array_len(mv) && !bail; k++) {
        const ConfValue *e = conf_value_array_get(mv, k);
        last = e;
        MapDestConf d;
        if (parse_map_dest(e, errors, &d, &bail)) g_array_append_val(m->dests, d);
      }
    } else {
      MapDestConf d;
      if (!parse_map_dest(mv, errors, &d, &bail)) {
        mapping_conf_free(m);
        if (bail) break;
        continue;
      }
      g_array_append_val(m->dests, d);
    }
    if (bail) {
      mapping_conf_free(m);
      break;
    }
    g_autofree char *err = apply_mapping(scratch, m);
    if (err) {
      if (conf_value_kind(mv) == CONF_STRING) {
        g_autofree char *qs = goq(subj), *qd = goq(conf_value_string(mv));
        conf_report(errors, mv, "Error adding mapping for %s to %s : %s", qs, qd, err);
        mapping_conf_free(m);
        continue;
      }
      /* Go formats this message with v.(string) on a list or map and panics. */
      report_conv(errors, last, mv, "string");
      mapping_conf_free(m);
      break;
    }
    g_ptr_array_add(ac->mappings, m);
  }
  account_free(scratch);
}

/* ---- exports -------------------------------------------------------------- */

/* Go parseServiceLatency (string subject, or {sampling, subject}). */
static bool parse_latency(const ConfValue *v, GPtrArray *errors, char **subject, int *sampling) {
  *sampling = DEFAULT_SERVICE_LATENCY_SAMPLING;
  if (conf_value_kind(v) == CONF_STRING) {
    *subject = g_strdup(conf_value_string(v));
    return true;
  }
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "Expected latency entry to be a map/struct or string, got %s", conf_value_go_type(v));
    return false;
  }
  const ConfValue *s = conf_value_map_get(v, "sampling");
  if (s) {
    int64_t sample = 0;
    bool header = false;
    if (conf_value_kind(s) == CONF_INTEGER) {
      sample = conf_value_int(s);
    } else if (conf_value_kind(s) == CONF_STRING) {
      g_autofree char *t = g_strstrip(g_ascii_strdown(conf_value_string(s), -1));
      if (strcmp(t, "headers") == 0) {
        header = true;
      } else {
        g_autofree char *n = g_strdup(conf_value_string(s));
        size_t l = strlen(n);
        if (l && n[l - 1] == '%') n[l - 1] = '\0';
        if (!atoi_go(n, &sample)) {
          g_autofree char *q = goq(n);
          conf_report(errors, s, "Failed to parse latency sample: strconv.Atoi: parsing %s: invalid syntax", q);
          return false;
        }
      }
    } else {
      conf_report(errors, s, "Expected latency sample to be a string or map/struct, got %s", conf_value_go_type(s));
      return false;
    }
    if (!header && (sample < 1 || sample > 100)) {
      conf_report(errors, s, "bad sampling percentage, should be 1-100");
      return false;
    }
    *sampling = (int)sample;
  }
  const ConfValue *subj = conf_value_map_get(v, "subject");
  if (!subj) {
    conf_report(errors, v, "Latency subject required, but missing");
    return false;
  }
  if (conf_value_kind(subj) != CONF_STRING) {
    conf_report(errors, subj, "Expected latency subject to be a string, got string");
    return false;
  }
  *subject = g_strdup(conf_value_string(subj));
  return true;
}

/* Go parseExportStreamOrService; NULL when nothing is exported. */
static ExportConf *parse_export(const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "Export Items should be a map with type entry, got %s", conf_value_go_type(v));
    return NULL;
  }
  bool have_stream = false, have_service = false, rt_seen = false, thresh_seen = false;
  const ConfValue *rt_tok = NULL, *lat_tok = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  ServiceRespType rt = SERVICE_RESP_SINGLETON;
  int64_t thresh = 0;
  g_autofree char *subject = NULL, *lat_subject = NULL;
  int lat_sampling = 0;
  uint32_t pos = 0;
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *k = conf_value_map_key(v, i);
    const ConfValue *e = conf_value_map_value(v, i);
    g_autofree char *lk = g_ascii_strdown(k, -1);
    if (!strcmp(lk, "stream")) {
      if (have_service) {
        g_autofree char *q = goq_value(e);
        conf_report(errors, e, "Detected stream %s but already saw a service", q);
        continue;
      }
      if (rt_tok) {
        conf_report(errors, rt_tok, "Detected response directive on non-service");
        continue;
      }
      if (lat_tok) {
        conf_report(errors, lat_tok, "Detected latency directive on non-service");
        continue;
      }
      if (conf_value_kind(e) != CONF_STRING) {
        conf_report(errors, e, "Expected stream name to be string, got %s", conf_value_go_type(e));
        continue;
      }
      have_stream = true;
      g_free(subject);
      subject = g_strdup(conf_value_string(e));
    } else if (!strcmp(lk, "service")) {
      if (have_stream) {
        g_autofree char *q = goq_value(e);
        conf_report(errors, e, "Detected service %s but already saw a stream", q);
        continue;
      }
      if (conf_value_kind(e) != CONF_STRING) {
        conf_report(errors, e, "Expected service name to be string, got %s", conf_value_go_type(e));
        continue;
      }
      have_service = true;
      g_free(subject);
      subject = g_strdup(conf_value_string(e));
    } else if (!strcmp(lk, "response") || !strcmp(lk, "response_type")) {
      if (rt_seen) {
        conf_report(errors, e, "Duplicate response type definition");
        continue;
      }
      rt_seen = true;
      rt_tok = e;
      if (conf_value_kind(e) != CONF_STRING) {
        conf_report(errors, e, "Expected response type to be string, got %s", conf_value_go_type(e));
        continue;
      }
      g_autofree char *l = g_ascii_strdown(conf_value_string(e), -1);
      if (!strcmp(l, "single") || !strcmp(l, "singleton")) rt = SERVICE_RESP_SINGLETON;
      else if (!strcmp(l, "stream")) rt = SERVICE_RESP_STREAMED;
      else if (!strcmp(l, "chunk") || !strcmp(l, "chunked")) rt = SERVICE_RESP_CHUNKED;
      else {
        g_autofree char *q = goq(conf_value_string(e));
        conf_report(errors, e, "Unknown response type: %s", q);
        continue;
      }
      if (have_stream) conf_report(errors, e, "Detected response directive on non-service");
    } else if (!strcmp(lk, "threshold") || !strcmp(lk, "response_threshold") || !strcmp(lk, "response_max_time") ||
               !strcmp(lk, "response_time")) {
      if (thresh_seen) {
        conf_report(errors, e, "Duplicate response threshold detected");
        continue;
      }
      thresh_seen = true;
      if (conf_value_kind(e) != CONF_STRING) {
        conf_report(errors, e, "Expected response threshold to be a parseable time duration, got %s", conf_value_go_type(e));
        continue;
      }
      int64_t ns;
      if (!conf_parse_duration(conf_value_string(e), &ns, NULL)) {
        g_autofree char *q = goq(conf_value_string(e));
        conf_report(errors, e, "Expected response threshold to be a parseable time duration, got %s", q);
        continue;
      }
      thresh = ns / 1000;
      if (have_stream) conf_report(errors, e, "Detected response directive on non-service");
    } else if (!strcmp(lk, "accounts")) {
      if (conf_value_kind(e) != CONF_ARRAY) {
        report_conv(errors, e, e, "[]interface {}");
        return NULL;
      }
      if (!accounts) accounts = g_ptr_array_new_with_free_func(g_free);
      for (size_t k2 = 0; k2 < conf_value_array_len(e); k2++) {
        const ConfValue *n = conf_value_array_get(e, k2);
        if (conf_value_kind(n) != CONF_STRING) {
          report_conv(errors, n, n, "string");
          return NULL;
        }
        g_ptr_array_add(accounts, g_strdup(conf_value_string(n)));
      }
    } else if (!strcmp(lk, "latency")) {
      lat_tok = e;
      g_free(lat_subject);
      lat_subject = NULL;
      if (!parse_latency(e, errors, &lat_subject, &lat_sampling)) continue;
      if (have_stream) {
        conf_report(errors, e, "Detected latency directive on non-service");
        continue;
      }
    } else if (!strcmp(lk, "account_token_position")) {
      if (conf_value_kind(e) != CONF_INTEGER) {
        report_conv(errors, e, e, "int64");
        return NULL;
      }
      pos = (uint32_t)conf_value_int(e);
    } else if (!conf_value_is_used_variable(e)) {
      conf_report(errors, e, "unknown field \"%s\"", k);
    }
  }
  if (!have_stream && !have_service) return NULL;
  ExportConf *ex = g_new0(ExportConf, 1);
  ex->service = have_service;
  ex->subject = g_steal_pointer(&subject);
  /* Go: an empty list leaves the export public (nil slice). */
  ex->accounts = accounts && accounts->len ? g_ptr_array_ref(accounts) : NULL;
  ex->pos = pos;
  if (have_service) {
    ex->rt = rt;
    ex->thresh_us = thresh;
    ex->lat_subject = g_steal_pointer(&lat_subject);
    ex->lat_sampling = lat_sampling;
  }
  return ex;
}

void accounts_conf_parse_exports(AccountsConf *ac, const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) != CONF_ARRAY) {
    conf_report(errors, v, "Exports should be an array, got %s", conf_value_go_type(v));
    return;
  }
  for (size_t i = 0; i < conf_value_array_len(v); i++) {
    ExportConf *e = parse_export(conf_value_array_get(v, i), errors);
    if (e) g_ptr_array_add(ac->exports, e);
  }
}

/* ---- imports -------------------------------------------------------------- */

/* Go parseAccount: {account, subject}.  False when Go panics (bad type). */
static bool parse_import_account(const ConfValue *m, GPtrArray *errors, char **account, char **subject) {
  for (size_t i = 0; i < conf_value_map_len(m); i++) {
    const char *k = conf_value_map_key(m, i);
    const ConfValue *e = conf_value_map_value(m, i);
    g_autofree char *lk = g_ascii_strdown(k, -1);
    if (!strcmp(lk, "account") || !strcmp(lk, "subject")) {
      if (conf_value_kind(e) != CONF_STRING) {
        report_conv(errors, e, e, "string");
        return false;
      }
      char **dst = !strcmp(lk, "account") ? account : subject;
      g_free(*dst);
      *dst = g_strdup(conf_value_string(e));
    } else if (!conf_value_is_used_variable(e)) {
      conf_report(errors, e, "unknown field \"%s\"", k);
    }
  }
  return true;
}

static ImportConf *parse_import(const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) != CONF_MAP) {
    conf_report(errors, v, "Import Items should be a map with type entry, got %s", conf_value_go_type(v));
    return NULL;
  }
  ImportConf *im = NULL;
  g_autofree char *pre = NULL, *to = NULL;
  bool share = false;
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    const char *k = conf_value_map_key(v, i);
    const ConfValue *e = conf_value_map_value(v, i);
    g_autofree char *lk = g_ascii_strdown(k, -1);
    if (!strcmp(lk, "stream") || !strcmp(lk, "service")) {
      bool service = lk[1] == 'e';
      if (im && im->service != service) {
        conf_report(errors, e, service ? "Detected service but already saw a stream" : "Detected stream but already saw a service");
        continue;
      }
      if (conf_value_kind(e) != CONF_MAP) {
        conf_report(errors, e, "%s entry should be an account map, got %s", service ? "Service" : "Stream",
               conf_value_go_type(e));
        continue;
      }
      char *account = NULL, *subject = NULL;
      if (!parse_import_account(e, errors, &account, &subject)) {
        g_free(account);
        g_free(subject);
        if (im) import_conf_free(im);
        return NULL;
      }
      if (!account || !*account || !subject || !*subject) {
        conf_report(errors, e, "Expect an account name and a subject");
        g_free(account);
        g_free(subject);
        continue;
      }
      if (im) import_conf_free(im);
      im = g_new0(ImportConf, 1);
      im->service = service;
      im->account = account;
      im->subject = subject;
      if (to) im->to = g_strdup(to);
      if (!service && pre) im->prefix = g_strdup(pre);
      if (service) im->share = share;
    } else if (!strcmp(lk, "prefix") || !strcmp(lk, "to")) {
      if (conf_value_kind(e) != CONF_STRING) {
        report_conv(errors, e, e, "string");
        if (im) import_conf_free(im);
        return NULL;
      }
      const char *s = conf_value_string(e);
      if (lk[0] == 'p') {
        g_free(pre), pre = g_strdup(s);
        if (im && !im->service) g_free(im->prefix), im->prefix = g_strdup(s);
      } else {
        g_free(to), to = g_strdup(s);
        if (im) {
          g_free(im->to), im->to = g_strdup(s);
          if (!im->service && im->prefix && *im->prefix) {
            conf_report(errors, e, "Stream import can not have a 'prefix' and a 'to' property");
            continue;
          }
        }
      }
    } else if (!strcmp(lk, "share")) {
      if (conf_value_kind(e) != CONF_BOOL) {
        report_conv(errors, e, e, "bool");
        if (im) import_conf_free(im);
        return NULL;
      }
      share = conf_value_bool(e);
      if (im && im->service) im->share = share;
    } else if (!conf_value_is_used_variable(e)) {
      conf_report(errors, e, "unknown field \"%s\"", k);
    }
  }
  if (im && im->service && (!im->to || !*im->to)) {
    g_free(im->to);
    im->to = g_strdup(im->subject);
  }
  return im;
}

void accounts_conf_parse_imports(AccountsConf *ac, const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) != CONF_ARRAY) {
    conf_report(errors, v, "Imports should be an array, got %s", conf_value_go_type(v));
    return;
  }
  for (size_t i = 0; i < conf_value_array_len(v); i++) {
    const ConfValue *e = conf_value_array_get(v, i);
    ImportConf *im = parse_import(e, errors);
    if (!im) continue;
    if (im->service) {
      ImportConf *dup = NULL;
      for (guint k = 0; k < ac->imports->len && !dup; k++) {
        ImportConf *o = ac->imports->pdata[k];
        if (o->service && strcmp(o->to, im->to) == 0) dup = o;
      }
      if (dup) {
        g_autofree char *q1 = goq(im->to), *q2 = goq(dup->account), *q3 = goq(dup->subject);
        conf_report(errors, e, "Duplicate service import subject %s, previously used in import for account %s, subject %s",
               q1, q2, q3);
        import_conf_free(im);
        continue;
      }
    }
    g_ptr_array_add(ac->imports, im);
  }
}

/* ---- second pass and setup ------------------------------------------------ */

void accounts_conf_apply_mappings(const AccountsConf *ac, Account *acc) {
  for (guint i = 0; ac && i < ac->mappings->len; i++) g_free(apply_mapping(acc, ac->mappings->pdata[i]));
}

/* Names that exist, in a new array (NULL when none, making the export
 * public, as Go's nil slice); missing ones are reported. */
static GPtrArray *resolve_accounts(GPtrArray *names, GHashTable *by_name, const char *what, const ConfValue *where,
                                   GPtrArray *errors) {
  if (!names) return NULL;
  GPtrArray *out = NULL;
  for (guint i = 0; i < names->len; i++) {
    if (!g_hash_table_lookup(by_name, names->pdata[i])) {
      if (errors) {
        g_autofree char *q = goq(names->pdata[i]);
        conf_report(errors, where, "%s account not defined for %s", q, what);
      }
      continue;
    }
    if (!out) out = g_ptr_array_new();
    g_ptr_array_add(out, names->pdata[i]);
  }
  return out;
}

static void apply_exports(const AccountsConf *ac, Account *acc, GHashTable *by_name, bool no_sys,
                          const ConfValue *where, GPtrArray *errors, bool services) {
  for (guint i = 0; ac && i < ac->exports->len; i++) {
    ExportConf *e = ac->exports->pdata[i];
    if (e->service != services) continue;
    g_autoptr(GPtrArray) accs =
        resolve_accounts(e->accounts, by_name, e->service ? "service export" : "stream export", where, errors);
    g_autofree char *err = e->service ? account_add_service_export(acc, e->subject, e->rt, accs, e->pos)
                                      : account_add_stream_export(acc, e->subject, accs, e->pos);
    g_autofree char *q = goq(e->subject);
    if (err) {
      if (errors) conf_report(errors, where, "Error adding %s export %s: %s", e->service ? "service" : "stream", q, err);
      continue;
    }
    if (!e->service) continue;
    ServiceExport *se = account_get_service_export(acc, e->subject);
    if (e->thresh_us && se) se->resp_thresh_us = e->thresh_us;
    if (e->lat_subject) {
      if (no_sys) {
        if (errors) conf_report(errors, where, "Error adding service latency sampling for %s: system account not setup", q);
        continue;
      }
      if (se) {
        g_free(se->latency_subject);
        se->latency_subject = g_strdup(e->lat_subject);
        se->latency_sampling = e->lat_sampling;
      }
    }
  }
}

static void apply_imports(const AccountsConf *ac, Account *acc, GHashTable *by_name, const ConfValue *where,
                          GPtrArray *errors, bool services) {
  for (guint i = 0; ac && i < ac->imports->len; i++) {
    ImportConf *im = ac->imports->pdata[i];
    if (im->service != services) continue;
    g_autofree char *q = goq(im->subject);
    Account *ta = g_hash_table_lookup(by_name, im->account);
    if (!ta) {
      if (errors) {
        g_autofree char *qa = goq(im->account);
        conf_report(errors, where, "%s account not defined for %s import", qa, services ? "service" : "stream");
      }
      continue;
    }
    g_autofree char *err = NULL;
    if (!services) {
      if (im->prefix && *im->prefix) err = account_add_stream_import(acc, ta, im->subject, im->prefix);
      else err = account_add_mapped_stream_import(acc, ta, im->subject, im->to);
    } else {
      err = account_add_service_import(acc, ta, im->to, im->subject);
      if (!err) {
        ServiceImport *si = acc->service_imports->pdata[acc->service_imports->len - 1];
        si->share = im->share;
      }
    }
    if (err && errors) conf_report(errors, where, "Error adding %s import %s: %s", services ? "service" : "stream", q, err);
  }
}

void accounts_conf_apply_exports(const AccountsConf *ac, Account *acc, GHashTable *by_name) {
  apply_exports(ac, acc, by_name, false, NULL, NULL, false);
  apply_exports(ac, acc, by_name, false, NULL, NULL, true);
}

void accounts_conf_apply_imports(const AccountsConf *ac, Account *acc, GHashTable *by_name) {
  apply_imports(ac, acc, by_name, NULL, NULL, false);
  apply_imports(ac, acc, by_name, NULL, NULL, true);
}

void accounts_conf_check(GPtrArray *names, GPtrArray *confs, bool no_sys, const ConfValue *where, GPtrArray *errors) {
  g_autoptr(GHashTable) by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)account_free);
  Account **accs = g_new0(Account *, names->len + 1);
  for (guint i = 0; i < names->len; i++) {
    Account *a = g_hash_table_lookup(by_name, names->pdata[i]);
    if (!a) {
      a = account_new(names->pdata[i], false);
      g_hash_table_insert(by_name, a->name, a);
    }
    accs[i] = a;
  }
  /* Go's order: stream exports, service exports, stream imports, service
   * imports, each over all accounts. */
  for (int pass = 0; pass < 4; pass++)
    for (guint i = 0; i < names->len; i++) {
      AccountsConf *ac = confs->pdata[i];
      if (!ac) continue;
      if (pass < 2) apply_exports(ac, accs[i], by_name, no_sys, where, errors, pass == 1);
      else apply_imports(ac, accs[i], by_name, where, errors, pass == 3);
    }
  g_free(accs);
}
