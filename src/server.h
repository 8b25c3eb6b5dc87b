/* server.h — the Server: listeners, accept with backoff, the clients table,
 * INFO, signals, lame duck, shutdown, pid and ports files, server stats.
 * One per process; created and run on the main thread, which is the
 * protocol loop thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "client_out.h"
#include "forward.h"
#include "loop.h"
#include "nkey.h"

struct Server {
  Options *opts;              /* owned */
  GMainContext *ctx;          /* borrowed: the default context */
  GMainLoop *main_loop;       /* owned */
  Loop *loop;                 /* owned */
  NkeyPair identity;          /* server_id = identity.encoded_public */
  char *server_name;          /* owned */
  char *info_prefix;          /* owned: INFO JSON up to and excluding client_id */
  size_t info_prefix_len;

  int listen_fd;
  LoopWatch listen_watch;
  Timer accept_timer;         /* accept backoff */
  int64_t accept_sleep_us;
  int port;                   /* actual bound port */
  char *ports_file;           /* owned path, removed on exit */

  GHashTable *clients;        /* owned: cid (uint64*) → Client* (owned) */
  uint64_t next_cid;
  GHashTable *accounts;       /* owned: name → Account* (owned), built by auth_server_setup */
  Account *global_account;    /* borrowed from accounts: $G */
  Account *system_account;    /* borrowed from accounts: $SYS or system_account; NULL with no_system_account */
  Auth *auth;                 /* owned (auth.c) */
  JwtAuth *jwt_auth;          /* owned (jwt_auth.c); NULL unless operator mode (trusted keys) */
  Monitor *monitor;           /* owned: HTTP monitoring and the closed-connections ring */
  struct Events *events;      /* owned (events.c): the system account's internal client; NULL without one */

  OutPool out_pool;
  char *read_buf;             /* owned: shared read buffer, one read at a time */
  size_t read_buf_cap;
  Client *flush_head;         /* clients with queued output this dispatch */
  Client *closed_head;        /* clients closed this dispatch, freed after it */

  uint64_t in_msgs, in_bytes, out_msgs, out_bytes, slow_consumers, total_connections;
  int64_t start_time_real;
  int64_t config_load_time;   /* µs since epoch: startup, then each successful reload */
  int argc;                   /* startup command line, re-applied over the file on reload */
  char **argv;                /* borrowed: main's argv; NULL = none */

  uint32_t num_draining;      /* closed clients still flushing */
  bool lame_duck;
  bool shutting_down;
  Timer ldm_timer;
  Timer shutdown_timer;       /* bounds the final flush on shutdown */
  Timer trim_timer;           /* returns freed heap to the OS after mass disconnects */
  uint32_t freed_since_trim;
  GPtrArray *ldm_clients;     /* owned array of cids still to close in lame duck */
  int64_t ldm_interval_us;
  guint signal_sources[5];
  int exit_code;
  /* TLS connection_rate_limit (Go's rateCounter: a window of one second) */
  int64_t tls_rate_end;       /* µs monotonic end of the current window */
  int64_t tls_rate_count;
  uint64_t tls_rate_blocked;  /* rejected since the last warning */
  Timer tls_rate_timer;       /* logs the rejections once a second */
};

/* (transfer full of opts) */
Server *server_new(Options *opts, GError **error);
int server_run(Server *s);           /* runs until shutdown; returns exit code */
void server_free(Server *s);
void server_shutdown(Server *s);     /* from any loop callback */
void server_lame_duck(Server *s);

/* Hooks used by client.c */
void server_schedule_flush(Server *s, Client *c);
void server_client_closed(Server *s, Client *c);
/* Go's getHash of the server name: 8 characters, each a byte of its SHA-256
 * mod 62 in [0-9A-Za-z]; names the server in _R_ replies and $SYS inboxes. */
void server_name_hash(const Server *s, char out[9]);
size_t server_info_json(Server *s, Client *c, bool lame_duck, GString *out);
/* Whether one more TLS handshake may start now (connection_rate_limit). */
bool server_tls_rate_allow(Server *s);
/* What INFO says: TLS required (tls{} without allow_non_tls), verify. */
bool server_tls_required(const Server *s);
bool server_tls_verify(const Server *s);

/* Hooks used by reload.c */
void server_build_info_prefix(Server *s);   /* after max_payload or auth changed */
bool server_write_ports_file(Server *s, GError **error);  /* after ports_file_dir changed */

/* --signal support: sends cmd ("stop", "ldm", "reload"[=pid|pidfile]); prints errors itself. */
int server_send_signal(const char *cmd);
