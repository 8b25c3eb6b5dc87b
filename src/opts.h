/* opts.h — server options: defaults, command line (Go flag syntax), and
 * later the config file.  An Options value is built once at startup (and
 * again on reload) and then read-only; the server keeps a borrowed pointer. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "forward.h"

struct Options {
  char *host;                 /* owned; -a */
  int port;                   /* -p; -1 or 0 = random */
  char *server_name;          /* owned; -n */
  char *client_advertise;     /* owned */
  char *pid_file;             /* owned; -P */
  char *ports_file_dir;       /* owned */
  char *config_file;          /* owned; -c */
  char *log_file;             /* owned; -l */
  int64_t log_size_limit;     /* logfile_size_limit / --log_size_limit; 0 = no rotation */
  int64_t log_max_num;        /* logfile_max_num (2.10); 0 = keep every rotated file */
  bool syslog;                /* -s */
  char *remote_syslog;        /* owned; -r */
  bool debug, trace, trace_verbose, logtime, logtime_utc;
  bool check_config;          /* -t */
  int http_port;              /* -m: 0 = off, -1 = random */
  char *http_host;            /* owned; NULL = same as host */
  char *http_base_path;       /* owned; NULL = "/" */
  int64_t max_connections;
  int64_t max_subscriptions;  /* 0 = unlimited */
  int64_t max_payload;
  int64_t max_control_line;
  int64_t max_pending;
  int64_t write_deadline_us;
  int64_t ping_interval_us;
  int64_t max_pings_out;
  int64_t auth_timeout_us;
  bool auth_timeout_set;      /* authorization{timeout} given: no TLS-based default */
  int64_t lame_duck_duration_us;
  int64_t lame_duck_grace_period_us;
  int64_t max_closed_clients;
  bool no_header_support;
  int64_t max_traced_msg_len;  /* 0 = unlimited */
  bool no_sublist_cache;
  int64_t max_sub_tokens;      /* 0 = unlimited; else 1..255 tokens in a SUB subject */
  GPtrArray *tags;             /* owned char*: server_tags, lower-cased, unique; NULL = none */
  int64_t connect_error_reports;    /* routes/gateways/leafs: how often to log failed connects */
  int64_t reconnect_error_reports;
  /* auth (auth.c parses the authorization{} and accounts{} blocks) */
  char *username, *password;  /* owned; authorization{} user/pass or --user/--pass */
  char *authorization;        /* owned; token: authorization{} token or --auth */
  char *no_auth_user;         /* owned */
  char *system_account;       /* owned */
  JwtAuthConf *jwt;           /* owned (jwt_auth.c): operator, trusted, resolver, resolver_preload; NULL = none */
  bool no_system_account;
  GPtrArray *users;           /* owned AuthUser*: password and nkey users; NULL = none */
  GPtrArray *accounts;        /* owned AuthAccountConf*, in config order; NULL = none */
  /* TLS for clients (tls{} block, --tls* flags; tls.c).  tls_config is built
   * when the options load (Go's GenTLSConfig), so bad files fail at startup. */
  TlsConfig *tls_config;      /* owned; NULL = no TLS */
  double tls_timeout;         /* seconds (Go keeps a float); 0 = TLS_TIMEOUT */
  bool tls_map;               /* verify_and_map */
  GHashTable *tls_pinned_certs; /* owned set of lower-case hex SPKI SHA-256; NULL = any */
  int64_t tls_rate_limit;     /* connection_rate_limit: TLS handshakes per second; 0 = off */
  bool allow_non_tls;
  bool tls_handshake_first;   /* tls{handshake_first} (nats-server 2.10.4): TLS before INFO */
  int https_port;             /* -ms / https_port: monitoring over TLS */
  char *https_host;           /* owned; from "https: host:port" */
  /* The --tls* flags as given; applied after the config file (flags win). */
  bool flag_tls, flag_tls_verify, flag_tls_seen, flag_tls_disabled;
  char *flag_tls_cert, *flag_tls_key, *flag_tls_ca; /* owned */
  struct AccountsConf *mappings; /* owned: top-level mappings{} for $G (accounts_conf.c); NULL = none */
};

/* What main should do after parsing the command line. */
typedef enum OptsAction { OPTS_RUN, OPTS_EXIT_OK, OPTS_EXIT_ERROR, OPTS_SIGNAL } OptsAction;

Options *opts_new_default(void);                       /* (transfer full) */
void opts_free(Options *o);                            /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Options, opts_free)

/* Parses argv with Go's flag rules (-x / --x, "-x v" / "-x=v", bool flags
 * take only "=value").  Prints help/version/errors itself, as nats-server
 * does.  For OPTS_SIGNAL, *signal_cmd receives the --signal argument. */
OptsAction opts_parse_args(Options *o, int argc, char **argv, char **signal_cmd);

/* Loads a nats-server config file into o (keys of the options table).
 * Returns false with every error (and warning) in *report, one per line as
 * nats-server prints them ("file:line:col: message").  With `pedantic`
 * (as under -t), warnings count as errors, as they do for nats-server. */
bool opts_load_config(Options *o, const char *path, bool pedantic, char **report);

/* Cross-option checks nats-server makes at startup (e.g. max_payload vs
 * max_pending).  Returns an error message (transfer full) or NULL. */
char *opts_validate(const Options *o);
/* Defaults that depend on other options (the auth timeout under TLS); run
 * once the file and the flags are in, at startup and on every reload. */
void opts_derive_defaults(Options *o);

/* Formats like Go's time.Duration.String(): "500ms", "2s", "1m30s", "1h0m0s". */
const char *opts_format_duration(int64_t us, char *buf, size_t cap);

/* Parses a Go duration ("2s", "1m30s", "500ms"); false on bad syntax. */
bool opts_parse_duration(const char *s, int64_t *out_us);
