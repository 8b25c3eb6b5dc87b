/* reload.c — configuration reload (see reload.h), nats-server's reload.go.
 *
 * Owns: the table of reload behaviour per option (Go's Options field name,
 * how its value prints, what applying it takes), the diff, and the apply
 * sequence.  Thread: protocol loop only — SIGHUP reaches us through
 * g_unix_signal_add as an ordinary loop callback, so a reload never runs
 * concurrently with accept, a read or a delivery and needs no lock (Go's
 * reloadMu exists because its accept loop is a separate goroutine).
 *
 * Sequence (as Go's Reload/ReloadOptions/applyOptions):
 *   1. no -c: error "can only reload config when a file is provided ...";
 *   2. parse the file into fresh Options, then the startup argv on top (flags
 *      win over the file on reload too); syntax errors fail the reload;
 *   3. diff field by field in Go's Options order; the first field that
 *      cannot change live fails the reload and nothing applies;
 *   4. validate the new options;
 *   5. swap s->opts, log "Reloaded: ..." per change (Go logs before the
 *      logger is reconfigured, so a logtime change shows on the next line),
 *      reconfigure logging, rebuild auth and recheck every client, log
 *      "Reloaded server configuration", free the old options. */
#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "client.h"
#include "const.h"
#include "errors.h"
#include "log.h"
#include "opts.h"
#include "parser.h"
#include "server.h"
#include "tls.h"

/* How a field's value prints in Go's "%v" (for refusals and log lines). */
typedef enum FieldKind {
  FK_BOOL, FK_STRING, FK_INT, FK_INT64, FK_DURATION, FK_SECONDS, FK_PORT,
  FK_STRV,  /* GPtrArray* of char*, NULL = none (e.g. server_tags) */
  FK_FLOAT, /* double, printed as Go's %v of a float64 */
  FK_NONE
} FieldKind;

/* What a change of the field means. */
typedef enum FieldRule {
  FR_REFUSE,          /* Go's default branch: not reloadable */
  FR_APPLY,           /* reloadable: action + log format below */
  FR_PORT,            /* 0/-1 (random) is ignored; any other change refused */
  FR_NO_AUTH_USER,    /* only removal of a user that no longer exists is allowed */
  FR_SYSTEM_ACCOUNT,  /* only "$SYS" → unset is allowed */
  FR_USERS,           /* Go never compares users/accounts: always "changed" */
  FR_ACCOUNTS,
  FR_NKEYS,
  FR_TLS_CONFIG,      /* compared as Go's DeepEqual of *tls.Config would (tls.c) */
  FR_PINNED_CERTS,    /* a set: "Reloaded: N pinned_certs" */
} FieldRule;

typedef struct ReloadField {
  const char *go_name;  /* nats-server's Options field, as in its error text */
  FieldKind kind;
  size_t offset;
  FieldRule rule;
  ReloadAction action;
  const char *log_fmt;  /* "%s" = the new value as Go prints it; NULL = silent */
} ReloadField;

#define OFF(f) offsetof(Options, f)
/* In Go's Options field order, which is the order of its "Reloaded:" lines. */
static const ReloadField reload_fields[] = {
    {"ServerName", FK_STRING, OFF(server_name), FR_REFUSE, 0, NULL},
    {"Host", FK_STRING, OFF(host), FR_REFUSE, 0, NULL},
    {"Port", FK_PORT, OFF(port), FR_PORT, 0, NULL},
    {"ClientAdvertise", FK_STRING, OFF(client_advertise), FR_APPLY, RELOAD_CLIENT_ADVERTISE,
     "Reload: client_advertise = %s"},
    {"Trace", FK_BOOL, OFF(trace), FR_APPLY, RELOAD_LOGGING, "Reloaded: trace = %s"},
    {"Debug", FK_BOOL, OFF(debug), FR_APPLY, RELOAD_LOGGING, "Reloaded: debug = %s"},
    {"TraceVerbose", FK_BOOL, OFF(trace_verbose), FR_APPLY, RELOAD_LOGGING, "Reloaded: trace_verbose = %s"},
    {"NoSublistCache", FK_BOOL, OFF(no_sublist_cache), FR_REFUSE, 0, NULL},
    {"NoHeaderSupport", FK_BOOL, OFF(no_header_support), FR_REFUSE, 0, NULL},
    {"Logtime", FK_BOOL, OFF(logtime), FR_APPLY, RELOAD_LOGGING, "Reloaded: logtime = %s"},
    {"MaxConn", FK_INT64, OFF(max_connections), FR_APPLY, RELOAD_MAX_CONN, "Reloaded: max_connections = %s"},
    {"MaxSubs", FK_INT64, OFF(max_subscriptions), FR_REFUSE, 0, NULL},
    {"MaxSubTokens", FK_INT64, OFF(max_sub_tokens), FR_REFUSE, 0, NULL},
    {"Nkeys", FK_NONE, 0, FR_NKEYS, RELOAD_AUTH, "Reloaded: authorization nkey users"},
    {"Users", FK_NONE, 0, FR_USERS, RELOAD_AUTH, "Reloaded: authorization users"},
    {"Accounts", FK_NONE, 0, FR_ACCOUNTS, RELOAD_AUTH, "Reloaded: accounts"},
    {"NoAuthUser", FK_STRING, OFF(no_auth_user), FR_NO_AUTH_USER, 0, NULL},
    {"SystemAccount", FK_STRING, OFF(system_account), FR_SYSTEM_ACCOUNT, 0, NULL},
    {"NoSystemAccount", FK_BOOL, OFF(no_system_account), FR_REFUSE, 0, NULL},
    {"Username", FK_STRING, OFF(username), FR_APPLY, RELOAD_AUTH, "Reloaded: authorization username"},
    {"Password", FK_STRING, OFF(password), FR_APPLY, RELOAD_AUTH, "Reloaded: authorization password"},
    {"Authorization", FK_STRING, OFF(authorization), FR_APPLY, RELOAD_AUTH, "Reloaded: authorization token"},
    {"PingInterval", FK_DURATION, OFF(ping_interval_us), FR_APPLY, RELOAD_LOG_ONLY, "Reloaded: ping_interval = %s"},
    {"MaxPingsOut", FK_INT64, OFF(max_pings_out), FR_APPLY, RELOAD_LOG_ONLY, "Reloaded: ping_max = %s"},
    {"HTTPHost", FK_STRING, OFF(http_host), FR_REFUSE, 0, NULL},
    {"HTTPPort", FK_INT, OFF(http_port), FR_REFUSE, 0, NULL},
    {"HTTPBasePath", FK_STRING, OFF(http_base_path), FR_REFUSE, 0, NULL},
    {"AuthTimeout", FK_SECONDS, OFF(auth_timeout_us), FR_APPLY, RELOAD_LOG_ONLY,
     "Reloaded: authorization timeout = %s"},
    {"MaxControlLine", FK_INT64, OFF(max_control_line), FR_APPLY, RELOAD_MAX_CONTROL_LINE,
     "Reloaded: max_control_line = %s"},
    {"MaxPayload", FK_INT64, OFF(max_payload), FR_APPLY, RELOAD_MAX_PAYLOAD, "Reloaded: max_payload = %s"},
    {"MaxPending", FK_INT64, OFF(max_pending), FR_REFUSE, 0, NULL},
    {"PidFile", FK_STRING, OFF(pid_file), FR_APPLY, RELOAD_PID_FILE, "Reloaded: pid_file = %s"},
    {"PortsFileDir", FK_STRING, OFF(ports_file_dir), FR_APPLY, RELOAD_PORTS_FILE_DIR,
     "Reloaded: ports_file_dir = %s"},
    {"LogFile", FK_STRING, OFF(log_file), FR_APPLY, RELOAD_LOGGING, "Reloaded: log_file = %s"},
    {"LogSizeLimit", FK_INT64, OFF(log_size_limit), FR_REFUSE, 0, NULL},
    {"Syslog", FK_BOOL, OFF(syslog), FR_APPLY, RELOAD_LOGGING, "Reloaded: syslog = %s"},
    {"RemoteSyslog", FK_STRING, OFF(remote_syslog), FR_APPLY, RELOAD_LOGGING, "Reloaded: remote_syslog = %s"},
    {"TLSTimeout", FK_FLOAT, OFF(tls_timeout), FR_APPLY, RELOAD_LOG_ONLY, "Reloaded: tls timeout = %s"},
    {"TLSMap", FK_BOOL, OFF(tls_map), FR_REFUSE, 0, NULL},
    {"TLSConfig", FK_NONE, OFF(tls_config), FR_TLS_CONFIG, RELOAD_TLS, "Reloaded: tls = %s"},
    {"TLSPinnedCerts", FK_NONE, OFF(tls_pinned_certs), FR_PINNED_CERTS, RELOAD_LOG_ONLY,
     "Reloaded: %u pinned_certs"},
    {"TLSRateLimit", FK_INT64, OFF(tls_rate_limit), FR_REFUSE, 0, NULL},
    {"AllowNonTLS", FK_BOOL, OFF(allow_non_tls), FR_REFUSE, 0, NULL},
    {"WriteDeadline", FK_DURATION, OFF(write_deadline_us), FR_APPLY, RELOAD_LOG_ONLY,
     "Reloaded: write_deadline = %s"},
    {"MaxClosedClients", FK_INT64, OFF(max_closed_clients), FR_REFUSE, 0, NULL},
    {"LameDuckDuration", FK_DURATION, OFF(lame_duck_duration_us), FR_REFUSE, 0, NULL},
    {"LameDuckGracePeriod", FK_DURATION, OFF(lame_duck_grace_period_us), FR_REFUSE, 0, NULL},
    {"MaxTracedMsgLen", FK_INT64, OFF(max_traced_msg_len), FR_APPLY, RELOAD_LOG_ONLY,
     "Reloaded: max_traced_msg_len = %s"},
    {"ConnectErrorReports", FK_INT64, OFF(connect_error_reports), FR_APPLY, RELOAD_LOG_ONLY,
     "Reloaded: connect_error_reports = %s"},
    {"ReconnectErrorReports", FK_INT64, OFF(reconnect_error_reports), FR_APPLY, RELOAD_LOG_ONLY,
     "Reloaded: reconnect_error_reports = %s"},
    {"Tags", FK_STRV, OFF(tags), FR_APPLY, RELOAD_LOG_ONLY, "Reloaded: tags"},
};
#undef OFF

#define RELOAD_MAX_EXTENSIONS 8
static const ReloadExtension *extensions[RELOAD_MAX_EXTENSIONS];
static size_t n_extensions;

void reload_register_extension(const ReloadExtension *ext) {
  for (size_t i = 0; i < n_extensions; i++)
    if (extensions[i] == ext) return;
  g_return_if_fail(n_extensions < RELOAD_MAX_EXTENSIONS);
  extensions[n_extensions++] = ext;
}

/* ---- values --------------------------------------------------------------- */

/* Go's %v of a float64: the shortest text that reads back the same. */
static void format_go_float(double v, char *buf, size_t cap) {
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, cap, "%.*g", prec, v);
    if (g_ascii_strtod(buf, NULL) == v) return;
  }
}

/* The field's value as Go's "%v" prints it. */
static void format_value(const ReloadField *f, const Options *o, char *buf, size_t cap) {
  const char *p = (const char *)o + f->offset;
  switch (f->kind) {
    case FK_BOOL: snprintf(buf, cap, "%s", *(const bool *)p ? "true" : "false"); break;
    case FK_STRING: snprintf(buf, cap, "%s", *(char *const *)p ? *(char *const *)p : ""); break;
    case FK_INT:
    case FK_PORT: snprintf(buf, cap, "%d", *(const int *)p); break;
    case FK_INT64: snprintf(buf, cap, "%" G_GINT64_FORMAT, *(const int64_t *)p); break;
    case FK_DURATION: opts_format_duration(*(const int64_t *)p, buf, cap); break;
    case FK_SECONDS: format_go_float((double)*(const int64_t *)p / G_USEC_PER_SEC, buf, cap); break;
    case FK_FLOAT: format_go_float(*(const double *)p, buf, cap); break;
    case FK_STRV: {
      /* Go prints a []string as [a b c] */
      const GPtrArray *v = *(GPtrArray *const *)p;
      size_t n = (size_t)snprintf(buf, cap, "[");
      for (guint i = 0; v && i < v->len && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "", (const char *)v->pdata[i]);
      if (n < cap) snprintf(buf + n, cap - n, "]");
      break;
    }
    case FK_NONE: snprintf(buf, cap, "%s", ""); break;
  }
}

static bool strv_equal(const GPtrArray *a, const GPtrArray *b) {
  if (!a || !b) return a == b;
  if (a->len != b->len) return false;
  for (guint i = 0; i < a->len; i++)
    if (strcmp(a->pdata[i], b->pdata[i]) != 0) return false;
  return true;
}

static bool field_equal(const ReloadField *f, const Options *a, const Options *b) {
  const char *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;
  switch (f->kind) {
    case FK_BOOL: return *(const bool *)pa == *(const bool *)pb;
    /* Go's zero string and an unset one are the same "" */
    case FK_STRING: return g_strcmp0(*(char *const *)pa ? *(char *const *)pa : "",
                                     *(char *const *)pb ? *(char *const *)pb : "") == 0;
    case FK_INT:
    case FK_PORT: return *(const int *)pa == *(const int *)pb;
    case FK_INT64:
    case FK_DURATION:
    case FK_SECONDS: return *(const int64_t *)pa == *(const int64_t *)pb;
    case FK_FLOAT: return *(const double *)pa == *(const double *)pb;
    case FK_STRV: {
      const GPtrArray *va = *(GPtrArray *const *)pa, *vb = *(GPtrArray *const *)pb;
      if (!va || !vb) return (va ? va->len : 0) == (vb ? vb->len : 0);
      return strv_equal(va, vb);
    }
    case FK_NONE: return true;
  }
  return true;
}

static bool subject_perm_equal(const AuthSubjectPerm *a, const AuthSubjectPerm *b) {
  if (!a || !b) return a == b;
  return strv_equal(a->allow, b->allow) && strv_equal(a->deny, b->deny);
}

static bool perms_equal(const AuthPermissions *a, const AuthPermissions *b) {
  if (!a || !b) return a == b;
  return subject_perm_equal(a->publish, b->publish) && subject_perm_equal(a->subscribe, b->subscribe) &&
         a->has_response == b->has_response && a->resp_max_msgs == b->resp_max_msgs &&
         a->resp_expires_us == b->resp_expires_us;
}

static gint nkey_user_cmp(gconstpointer a, gconstpointer b) {
  return strcmp((*(AuthUser *const *)a)->nkey, (*(AuthUser *const *)b)->nkey);
}

/* Nkey users sorted by key, as Go's imposeOrder does before comparing. */
static GPtrArray *nkey_users(const Options *o) {
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; o->users && i < o->users->len; i++) {
    AuthUser *u = o->users->pdata[i];
    if (u->nkey) g_ptr_array_add(out, u);
  }
  g_ptr_array_sort(out, nkey_user_cmp);
  return out;
}

static bool nkeys_equal(const Options *a, const Options *b) {
  g_autoptr(GPtrArray) na = nkey_users(a);
  g_autoptr(GPtrArray) nb = nkey_users(b);
  if (na->len != nb->len) return false;
  for (guint i = 0; i < na->len; i++) {
    const AuthUser *x = na->pdata[i], *y = nb->pdata[i];
    /* Go's DeepEqual also walks the bound Account, which differs between two
     * loads whenever there is one: users in accounts{} count as changed. */
    if (strcmp(x->nkey, y->nkey) != 0 || x->account_name || y->account_name || x->conn_types != y->conn_types ||
        !perms_equal(x->perms, y->perms))
      return false;
  }
  return true;
}

static bool pinned_equal(GHashTable *a, GHashTable *b) {
  guint na = a ? g_hash_table_size(a) : 0, nb = b ? g_hash_table_size(b) : 0;
  if (na != nb) return false;
  if (na == 0) return true;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, a);
  while (g_hash_table_iter_next(&it, &key, NULL))
    if (!g_hash_table_contains(b, key)) return false;
  return true;
}

/* ---- diff ----------------------------------------------------------------- */

static void change_free(gpointer p) {
  ReloadChange *c = p;
  g_free(c->log_line);
  g_free(c);
}

GPtrArray *reload_changes_new(void) { return g_ptr_array_new_with_free_func(change_free); }

static void add_change(GPtrArray *changes, ReloadAction action, char *log_line, const ReloadExtension *ext) {
  ReloadChange *c = g_new0(ReloadChange, 1);
  c->action = action;
  c->log_line = log_line;
  c->ext = ext;
  g_ptr_array_add(changes, c);
}

static char *refusal(const ReloadField *f, const Options *old_opts, const Options *new_opts) {
  char ov[256], nv[256];
  format_value(f, old_opts, ov, sizeof ov);
  format_value(f, new_opts, nv, sizeof nv);
  return g_strdup_printf("config reload not supported for %s: old=%s, new=%s", f->go_name, ov, nv);
}

static bool has_password_user(const Options *o, const char *name) {
  for (guint i = 0; o->users && i < o->users->len; i++) {
    AuthUser *u = o->users->pdata[i];
    if (!u->nkey && u->username && strcmp(u->username, name) == 0) return true;
  }
  return false;
}

char *reload_diff(const Options *old_opts, const Options *new_opts, GPtrArray *changes) {
  for (size_t i = 0; i < G_N_ELEMENTS(reload_fields); i++) {
    const ReloadField *f = &reload_fields[i];
    switch (f->rule) {
      case FR_USERS:
      case FR_ACCOUNTS:
        add_change(changes, f->action, g_strdup(f->log_fmt), NULL);
        continue;
      case FR_NKEYS:
        if (!nkeys_equal(old_opts, new_opts)) add_change(changes, f->action, g_strdup(f->log_fmt), NULL);
        continue;
      case FR_TLS_CONFIG:
        if (!tls_config_reload_same(old_opts->tls_config, new_opts->tls_config))
          add_change(changes, f->action, g_strdup_printf(f->log_fmt, new_opts->tls_config ? "enabled" : "disabled"),
                     NULL);
        continue;
      case FR_PINNED_CERTS:
        if (!pinned_equal(old_opts->tls_pinned_certs, new_opts->tls_pinned_certs))
          add_change(changes, f->action,
                     g_strdup_printf(f->log_fmt,
                                     new_opts->tls_pinned_certs ? g_hash_table_size(new_opts->tls_pinned_certs) : 0),
                     NULL);
        continue;
      default:
        break;
    }
    if (field_equal(f, old_opts, new_opts)) continue;
    switch (f->rule) {
      case FR_APPLY: {
        char nv[4096];
        format_value(f, new_opts, nv, sizeof nv);
        /* Go logs a pid_file change only when a file is named. */
        char *line = f->action == RELOAD_PID_FILE && !*nv ? NULL : g_strdup_printf(f->log_fmt, nv);
        add_change(changes, f->action, line, NULL);
        break;
      }
      case FR_PORT:
        /* a random port (-1, or 0) in the new options keeps the bound one */
        if (new_opts->port <= 0) break;
        return refusal(f, old_opts, new_opts);
      case FR_NO_AUTH_USER: {
        const char *old_v = old_opts->no_auth_user ? old_opts->no_auth_user : "";
        const char *new_v = new_opts->no_auth_user ? new_opts->no_auth_user : "";
        if (*old_v && !*new_v && !has_password_user(new_opts, old_v)) break;
        return refusal(f, old_opts, new_opts);
      }
      case FR_SYSTEM_ACCOUNT:
        if (g_strcmp0(old_opts->system_account, DEFAULT_SYSTEM_ACCOUNT) == 0 &&
            (!new_opts->system_account || !*new_opts->system_account))
          break;
        return refusal(f, old_opts, new_opts);
      default:
        return refusal(f, old_opts, new_opts);
    }
  }
  for (size_t i = 0; i < n_extensions; i++) {
    char *line = NULL, *error = NULL;
    int r = extensions[i]->diff(old_opts, new_opts, &line, &error);
    if (r < 0) {
      g_free(line);
      return error ? error : g_strdup_printf("config reload not supported for %s", extensions[i]->name);
    }
    if (r > 0) add_change(changes, RELOAD_EXTENSION, line, extensions[i]);
    else g_free(line);
  }
  return NULL;
}

/* ---- apply ---------------------------------------------------------------- */

static GPtrArray *client_snapshot(Server *s) {
  GPtrArray *out = g_ptr_array_sized_new(g_hash_table_size(s->clients));
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, s->clients);
  while (g_hash_table_iter_next(&it, &key, &value)) g_ptr_array_add(out, value);
  return out;
}

static void apply_max_conn(Server *s) {
  int64_t max = s->opts->max_connections;
  g_autoptr(GPtrArray) clients = client_snapshot(s);
  guint open = 0;
  for (guint i = 0; i < clients->len; i++)
    if (((Client *)clients->pdata[i])->state == CLIENT_OPEN) open++;
  if (max <= 0 || open <= (guint)max) return;
  /* Go closes whichever connections its map iteration yields: arbitrary. */
  guint to_close = open - (guint)max, closed = 0;
  for (guint i = 0; i < clients->len && closed < to_close; i++) {
    Client *c = clients->pdata[i];
    if (c->state != CLIENT_OPEN) continue;
    log_error(CLIENT_LOG_FMT "%s", CLIENT_LOG_ARGS(c), errors_text(NATS_ERR_MAX_CONNECTIONS));
    client_send_err(c, errors_text(NATS_ERR_MAX_CONNECTIONS));
    client_close(c, errors_closed_state(NATS_ERR_MAX_CONNECTIONS));
    closed++;
  }
  log_info("Closed %u connections to fall within max_connections", closed);
}

static void apply_limits_to_clients(Server *s, bool payload, bool control_line) {
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, s->clients);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Client *c = value;
    if (control_line) c->parser.max_control_line = s->opts->max_control_line;
    if (payload) c->parser.max_payload = s->opts->max_payload;
  }
}

static void apply_ports_file_dir(Server *s) {
  if (s->ports_file) {
    if (unlink(s->ports_file) != 0)
      log_error("Error cleaning up ports file %s: remove %s: %s", s->ports_file, s->ports_file, g_strerror(errno));
    g_clear_pointer(&s->ports_file, g_free);
  }
  GError *error = NULL;
  if (!server_write_ports_file(s, &error)) {
    log_error("%s", error->message);
    g_error_free(error);
  }
}

static void apply_pid_file(Server *s) {
  if (!s->opts->pid_file || !*s->opts->pid_file) return;
  g_autofree char *pid = g_strdup_printf("%ld", (long)getpid());
  GError *error = NULL;
  if (!g_file_set_contents(s->opts->pid_file, pid, -1, &error)) {
    log_error("Failed to write pidfile: %s", error->message);
    g_error_free(error);
  }
}

static void apply_logging(Server *s) {
  g_autofree char *error = NULL;
  if (!log_apply_options(s->opts, &error)) log_error("%s", error);
}

static void apply_changes(Server *s, const Options *old_opts, GPtrArray *changes) {
  bool logging = false, auth = false, payload = false, control_line = false;
  for (guint i = 0; i < changes->len; i++) {
    ReloadChange *c = changes->pdata[i];
    switch (c->action) {
      case RELOAD_LOG_ONLY: break;
      case RELOAD_LOGGING: logging = true; break;
      case RELOAD_AUTH: auth = true; break;
      case RELOAD_MAX_PAYLOAD:
        server_build_info_prefix(s);
        payload = true;
        break;
      case RELOAD_MAX_CONTROL_LINE: control_line = true; break;
      case RELOAD_MAX_CONN: apply_max_conn(s); break;
      case RELOAD_PID_FILE: apply_pid_file(s); break;
      case RELOAD_PORTS_FILE_DIR: apply_ports_file_dir(s); break;
      case RELOAD_CLIENT_ADVERTISE: break; /* INFO carries no connect_urls without a cluster */
      case RELOAD_TLS: server_build_info_prefix(s); break;
      case RELOAD_EXTENSION:
        if (c->ext && c->ext->apply) c->ext->apply(s, old_opts);
        break;
    }
    if (c->log_line) log_info("%s", c->log_line);
  }
  if (payload || control_line) apply_limits_to_clients(s, payload, control_line);
  if (logging) apply_logging(s);
  /* Go rebuilds accounts and rechecks every client on every reload (users
   * and accounts always count as changed); so do we. */
  if (auth) {
    auth_server_reload(s);
    server_build_info_prefix(s);  /* auth_required may have changed */
  }
  log_info("Reloaded server configuration");
}

/* Loads the file and the startup flags into fresh options. (transfer full) or
 * NULL with *error. */
static Options *load_new_options(Server *s, char **error) {
  g_autoptr(Options) o = opts_new_default();
  g_autofree char *report = NULL;
  if (!opts_load_config(o, s->opts->config_file, false, &report)) {
    *error = g_steal_pointer(&report);
    return NULL;
  }
  if (s->argv) {
    g_autofree char *ignored = NULL;
    /* Already accepted at startup, so this cannot fail or print. */
    opts_parse_args(o, s->argc, s->argv, &ignored);
  }
  opts_derive_defaults(o);
  return g_steal_pointer(&o);
}

bool reload_server(Server *s) {
  if (!s->opts->config_file) {
    log_error("Failed to reload server configuration: can only reload config when a file is provided using -c or --config");
    return false;
  }
  g_autofree char *error = NULL;
  Options *new_opts = load_new_options(s, &error);
  if (!new_opts) {
    log_error("Failed to reload server configuration: %s", error);
    return false;
  }
  /* As Go, the old options know the port actually bound (a refusal names it). */
  if (s->opts->port <= 0 && s->port > 0) s->opts->port = s->port;
  g_autoptr(GPtrArray) changes = reload_changes_new();
  error = reload_diff(s->opts, new_opts, changes);
  if (!error && changes->len > 0) error = opts_validate(new_opts);
  if (error) {
    log_error("Failed to reload server configuration: %s", error);
    opts_free(new_opts);
    return false;
  }
  Options *old_opts = s->opts;
  s->opts = new_opts;
  apply_changes(s, old_opts, changes);
  s->config_load_time = g_get_real_time();
  /* Clients and auth now point into the new options only. */
  opts_free(old_opts);
  return true;
}
