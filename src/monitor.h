/* monitor.h — HTTP monitoring (nats-server's monitor.go): /varz, /connz,
 * /subsz, /accountz, /accstatz, /healthz, /routez, /gatewayz, /leafz, /jsz
 * and the index page, served on the server's main context by the monitor
 * module (libsoup, loaded only when monitoring is configured), plus
 * the ring of recently closed connections that /connz?state=closed shows.
 *
 * One Monitor per Server, created with it; the HTTP listener exists only
 * when http_port is set.  Protocol loop thread only (libsoup runs its
 * sources on the same default context, so handlers read protocol state
 * directly, without locks). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "forward.h"

typedef struct Monitor Monitor;

/* (transfer full) the monitor of `s`; records closed connections from now on. */
Monitor *monitor_new(Server *s);
void monitor_free(Monitor *m);                   /* accepts NULL; stops listening */

/* Starts the HTTP listener when opts->http_port != 0 (nothing to do
 * otherwise) and logs "Starting http monitor on host:port".  False with
 * *error set when the port cannot be bound. */
bool monitor_start(Monitor *m, GError **error);
/* The bound monitoring port, or 0 when monitoring is off. */
int monitor_port(const Monitor *m);
const char *monitor_host(const Monitor *m);      /* borrowed; NULL when off */
bool monitor_is_https(const Monitor *m);         /* listening with https_port */

/* Saves what /connz shows of `c` into the closed-connections ring.  Called
 * by server_client_closed() while c still has its subscriptions and
 * c->close_reason is set. */
void monitor_record_closed(Monitor *m, Client *c);

/* Number of closed connections currently held (for tests). */
guint monitor_closed_count(const Monitor *m);

/* ---- the HTTP layer, in the loadable module "monitor" -------------------
 *
 * monitor.c builds every answer; the module (monitor_http.c, the only file
 * that includes libsoup) only speaks HTTP.  See module.h for how modules are
 * found and loaded. */

enum {
  HTTP_OK = 200,
  HTTP_MOVED_PERMANENTLY = 301,
  HTTP_BAD_REQUEST = 400,
  HTTP_NOT_FOUND = 404,
};

/* One answer.  The module zeroes it and gives body an empty GString before
 * calling serve, then sends it and frees body and location. */
typedef struct MonitorHttpAnswer {
  int status;
  const char *content_type;  /* borrowed: static string */
  GString *body;             /* owned by the module */
  char *location;            /* owned by the module: Location header, or NULL */
  bool nosniff;              /* send X-Content-Type-Options: nosniff */
} MonitorHttpAnswer;

/* What the core gives the module.  All calls on the protocol loop thread. */
typedef struct MonitorHttpHost {
  /* `path` is the request path as received (still percent-encoded), `query`
   * the raw query string or NULL, `method` e.g. "GET". */
  void (*serve)(void *data, const char *method, const char *path, const char *query, MonitorHttpAnswer *ans);
  void (*log_error)(const char *text);
} MonitorHttpHost;

/* Bump when MonitorHttpHost, MonitorHttpAnswer or MonitorHttpModule change. */
#define MONITOR_HTTP_ABI 2u

/* The module's table: symbol `cnatsd_module_monitor`. */
typedef struct MonitorHttpModule {
  uint32_t abi;  /* MONITOR_HTTP_ABI; must stay the first field (module.h) */
  /* HTTPS (https_port): (transfer full) the server certificate and key
   * from PEM files, with GIO TLS; NULL with *error set to GIO's message. */
  void *(*tls_cert_new)(const char *cert_file, const char *key_file, GError **error);
  void (*tls_cert_free)(void *cert);  /* accepts NULL */
  /* Serves HTTP on `listen_fd` (bound, listening, non-blocking; the module
   * owns it from now on) on the default main context; HTTPS when
   * `tls_cert` (borrowed, from tls_cert_new, must outlive the server) is
   * not NULL.  Returns the server handle; never fails. */
  void *(*start)(int listen_fd, void *tls_cert, const MonitorHttpHost *host, void *data);
  /* Closes the listener and every connection; accepts NULL. */
  void (*stop)(void *server);
} MonitorHttpModule;

/* The core side of serve(): routes the request and fills `ans`. */
void monitor_serve(void *monitor, const char *method, const char *path, const char *query, MonitorHttpAnswer *ans);

/* For $SYS requests (events.c): runs the builder of `endpoint` ("varz",
 * "connz", ...) with `query` (borrowed name → value, as the HTTP query
 * parameters; may be NULL) and appends its one-line JSON, or on failure
 * its error text, to `out`.  Returns the HTTP status.  Not counted in
 * http_req_stats. */
int monitor_build(Monitor *m, const char *endpoint, GHashTable *query, GString *out);

/* Formatting helpers (in monitor_json.c), shared with tests and later $SYS endpoints.
 * Go's time.Duration.String() of `ns` nanoseconds. */
void monitor_format_duration(GString *out, int64_t ns);
/* nats-server's myUptime(): "1y2d3h4m5s", "4m5s", "0s". */
void monitor_format_uptime(GString *out, int64_t us);
/* RFC 3339 with nanosecond digits trimmed, as Go's time.Time JSON; `utc`
 * prints Z, otherwise the local offset. */
void monitor_format_time(GString *out, int64_t us_since_epoch, bool utc);
