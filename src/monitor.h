/* monitor.h — HTTP monitoring (nats-server's monitor.go): /varz, /connz,
 * /subsz, /accountz, /accstatz, /healthz, /routez, /gatewayz, /leafz, /jsz
 * and the index page, served by libsoup on the server's main context, plus
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

/* Formatting helpers (in monitor_json.c), shared with tests and later $SYS endpoints.
 * Go's time.Duration.String() of `ns` nanoseconds. */
void monitor_format_duration(GString *out, int64_t ns);
/* nats-server's myUptime(): "1y2d3h4m5s", "4m5s", "0s". */
void monitor_format_uptime(GString *out, int64_t us);
/* RFC 3339 with nanosecond digits trimmed, as Go's time.Time JSON; `utc`
 * prints Z, otherwise the local offset. */
void monitor_format_time(GString *out, int64_t us_since_epoch, bool utc);
