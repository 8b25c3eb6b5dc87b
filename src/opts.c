/* opts.c — options: defaults and the command line.
 *
 * The command line follows Go's `flag` package, which nats-server uses: a
 * flag may start with one or two dashes, takes its value as the next
 * argument or after '=', boolean flags take a value only after '=', and
 * parsing stops at the first non-flag argument.  The flag table below is the
 * single place a flag is declared; each row names the option it sets.
 *
 * Runs on the main thread before the loop starts. */
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts_conf.h"
#include "auth.h"
#include "jwt_auth.h"
#include "conf_parse.h"
#include "const.h"
#include "tls.h"

Options *opts_new_default(void) {
  Options *o = g_new0(Options, 1);
  o->host = g_strdup(DEFAULT_HOST);
  o->port = DEFAULT_PORT;
  o->logtime = true;
  o->max_connections = DEFAULT_MAX_CONNECTIONS;
  o->max_payload = MAX_PAYLOAD_SIZE;
  o->max_control_line = MAX_CONTROL_LINE_SIZE;
  o->max_pending = MAX_PENDING_SIZE;
  o->write_deadline_us = DEFAULT_FLUSH_DEADLINE_US;
  o->ping_interval_us = DEFAULT_PING_INTERVAL_US;
  o->max_pings_out = DEFAULT_PING_MAX_OUT;
  o->connect_error_reports = DEFAULT_CONNECT_ERROR_REPORTS;
  o->reconnect_error_reports = DEFAULT_RECONNECT_ERROR_REPORTS;
  o->auth_timeout_us = AUTH_TIMEOUT_US;
  o->lame_duck_duration_us = DEFAULT_LAME_DUCK_DURATION_US;
  o->lame_duck_grace_period_us = DEFAULT_LAME_DUCK_GRACE_PERIOD_US;
  o->max_closed_clients = DEFAULT_MAX_CLOSED_CLIENTS;
  o->tls_timeout = (double)TLS_TIMEOUT_US / G_USEC_PER_SEC;
  return o;
}

void opts_free(Options *o) {
  if (!o) return;
  g_free(o->host);
  g_free(o->server_name);
  g_free(o->client_advertise);
  g_free(o->pid_file);
  g_free(o->ports_file_dir);
  g_free(o->config_file);
  g_free(o->log_file);
  g_free(o->remote_syslog);
  g_free(o->http_host);
  g_free(o->http_base_path);
  g_free(o->username);
  if (o->password) memset(o->password, 0, strlen(o->password));
  g_free(o->password);
  if (o->authorization) memset(o->authorization, 0, strlen(o->authorization));
  g_free(o->authorization);
  g_free(o->no_auth_user);
  g_free(o->system_account);
  jwt_auth_conf_free(o->jwt);
  if (o->tags) g_ptr_array_unref(o->tags);
  if (o->users) g_ptr_array_unref(o->users);
  if (o->accounts) g_ptr_array_unref(o->accounts);
  tls_config_free(o->tls_config);
  if (o->tls_pinned_certs) g_hash_table_unref(o->tls_pinned_certs);
  g_free(o->https_host);
  g_free(o->flag_tls_cert);
  g_free(o->flag_tls_key);
  g_free(o->flag_tls_ca);
  accounts_conf_free(o->mappings);
  g_free(o);
}

/* ---- Go duration syntax -------------------------------------------------- */

bool opts_parse_duration(const char *s, int64_t *out_us) {
  /* [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ with units ns us µs ms s m h; "0" alone is valid. */
  static const struct { const char *unit; double us; } units[] = {
      {"ns", 1e-3}, {"us", 1}, {"\xc2\xb5s", 1}, {"\xce\xbcs", 1}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}, {"h", 3600e6}};
  const char *p = s;
  bool neg = false;
  if (*p == '-' || *p == '+') neg = *p++ == '-';
  if (strcmp(p, "0") == 0) {
    *out_us = 0;
    return true;
  }
  if (!*p) return false;
  double total = 0;
  while (*p) {
    char *end;
    if (!(g_ascii_isdigit(*p) || *p == '.')) return false;
    double v = g_ascii_strtod(p, &end);
    if (end == p) return false;
    p = end;
    size_t best = 0;
    double mult = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
      size_t n = strlen(units[i].unit);
      if (strncmp(p, units[i].unit, n) == 0 && n > best) {
        best = n;
        mult = units[i].us;
      }
    }
    if (!best) return false;
    p += best;
    total += v * mult;
  }
  if (total > 9.2e18) return false;
  *out_us = (int64_t)(neg ? -total : total);
  return true;
}

const char *opts_format_duration(int64_t us, char *buf, size_t cap) {
  bool neg = us < 0;
  uint64_t u = neg ? (uint64_t)(-us) : (uint64_t)us;
  const char *sign = neg ? "-" : "";
  if (u == 0) {
    snprintf(buf, cap, "0s");
  } else if (u < 1000) {
    snprintf(buf, cap, "%s%" G_GUINT64_FORMAT "\xc2\xb5s", sign, u);
  } else if (u < G_USEC_PER_SEC) {
    /* milliseconds with up to 3 fractional digits, trailing zeros dropped */
    char frac[8] = "";
    if (u % 1000) {
      snprintf(frac, sizeof frac, ".%03u", (unsigned)(u % 1000));
      for (size_t n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--) frac[n - 1] = '\0';
    }
    snprintf(buf, cap, "%s%" G_GUINT64_FORMAT "%sms", sign, u / 1000, frac);
  } else {
    uint64_t h = u / (3600ull * G_USEC_PER_SEC), m = u / (60ull * G_USEC_PER_SEC) % 60, sec = u / G_USEC_PER_SEC % 60;
    uint64_t fus = u % G_USEC_PER_SEC;
    char frac[16] = "";
    if (fus) {
      snprintf(frac, sizeof frac, ".%06u", (unsigned)fus);
      for (size_t n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--) frac[n - 1] = '\0';
    }
    if (h) snprintf(buf, cap, "%s%" G_GUINT64_FORMAT "h%" G_GUINT64_FORMAT "m%" G_GUINT64_FORMAT "%ss", sign, h, m, sec, frac);
    else if (m) snprintf(buf, cap, "%s%" G_GUINT64_FORMAT "m%" G_GUINT64_FORMAT "%ss", sign, m, sec, frac);
    else snprintf(buf, cap, "%s%" G_GUINT64_FORMAT "%ss", sign, sec, frac);
  }
  return buf;
}

/* ---- command line -------------------------------------------------------- */

typedef enum FlagKind { FLAG_STRING, FLAG_INT, FLAG_INT64, FLAG_BOOL, FLAG_SPECIAL } FlagKind;

typedef struct FlagSpec {
  const char *names;   /* '|'-separated spellings without dashes */
  FlagKind kind;
  size_t offset;       /* into Options, for STRING/INT/BOOL */
  int special;         /* for FLAG_SPECIAL */
  bool supported;      /* false: accepted by nats-server, not by cnatsd yet */
} FlagSpec;

enum { SP_HELP = 1, SP_VERSION, SP_SIGNAL, SP_DV, SP_VV, SP_DVV, SP_HELP_TLS };

#define OFF(f) offsetof(Options, f)
static const FlagSpec flag_table[] = {
    {"a|addr|net", FLAG_STRING, OFF(host), 0, true},
    {"p|port", FLAG_INT, OFF(port), 0, true},
    {"n|name|server_name", FLAG_STRING, OFF(server_name), 0, true},
    {"P|pid", FLAG_STRING, OFF(pid_file), 0, true},
    {"ports_file_dir", FLAG_STRING, OFF(ports_file_dir), 0, true},
    {"client_advertise", FLAG_STRING, OFF(client_advertise), 0, true},
    {"c|config", FLAG_STRING, OFF(config_file), 0, true},
    {"t", FLAG_BOOL, OFF(check_config), 0, true},
    {"l|log", FLAG_STRING, OFF(log_file), 0, true},
    {"T|logtime", FLAG_BOOL, OFF(logtime), 0, true},
    {"logtime_utc", FLAG_BOOL, OFF(logtime_utc), 0, true},  /* 2.10 */
    {"s|syslog", FLAG_BOOL, OFF(syslog), 0, true},
    {"r|remote_syslog", FLAG_STRING, OFF(remote_syslog), 0, true},
    {"log_size_limit", FLAG_INT64, OFF(log_size_limit), 0, true},
    {"D|debug", FLAG_BOOL, OFF(debug), 0, true},
    {"V|trace", FLAG_BOOL, OFF(trace), 0, true},
    {"VV", FLAG_SPECIAL, 0, SP_VV, true},
    {"DV", FLAG_SPECIAL, 0, SP_DV, true},
    {"DVV", FLAG_SPECIAL, 0, SP_DVV, true},
    {"sl|signal", FLAG_SPECIAL, 0, SP_SIGNAL, true},
    {"h|help", FLAG_SPECIAL, 0, SP_HELP, true},
    {"v|version", FLAG_SPECIAL, 0, SP_VERSION, true},
    {"help_tls", FLAG_SPECIAL, 0, SP_HELP_TLS, true},
    {"m|http_port", FLAG_INT, OFF(http_port), 0, true},
    {"user", FLAG_STRING, OFF(username), 0, true},
    {"pass", FLAG_STRING, OFF(password), 0, true},
    {"auth", FLAG_STRING, OFF(authorization), 0, true},
    /* Flags of later work (configuration/auth/TLS/cluster/JetStream issues):
     * refused with a clear message instead of silently ignored. */
    {"ms|https_port", FLAG_INT, OFF(https_port), 0, true},
    {"max_traced_msg_len", FLAG_INT64, OFF(max_traced_msg_len), 0, true},
    {"js|jetstream", FLAG_BOOL, 0, 0, false},
    {"sd|store_dir", FLAG_STRING, 0, 0, false},
    {"tls", FLAG_BOOL, OFF(flag_tls), 0, true},
    {"tlscert", FLAG_STRING, OFF(flag_tls_cert), 0, true},
    {"tlskey", FLAG_STRING, OFF(flag_tls_key), 0, true},
    {"tlsverify", FLAG_BOOL, OFF(flag_tls_verify), 0, true},
    {"tlscacert", FLAG_STRING, OFF(flag_tls_ca), 0, true},
    {"routes", FLAG_STRING, 0, 0, false},
    {"cluster", FLAG_STRING, 0, 0, false},
    {"cluster_name", FLAG_STRING, 0, 0, false},
    {"no_advertise", FLAG_BOOL, 0, 0, false},
    {"cluster_advertise", FLAG_STRING, 0, 0, false},
    {"connect_retries", FLAG_INT, 0, 0, false},
    {"cluster_listen", FLAG_STRING, 0, 0, false},
    {"profile", FLAG_INT, 0, 0, false},
};
#undef OFF

static const char usage_text[] =
    "\n"
    "Usage: cnatsd [options]\n"
    "\n"
    "Server Options:\n"
    "    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)\n"
    "    -p, --port <port>                Use port for clients (default: 4222)\n"
    "    -n, --name\n"
    "        --server_name <server_name>  Server name (default: auto)\n"
    "    -P, --pid <file>                 File to store PID\n"
    "    -c, --config <file>              Configuration file\n"
    "    -t                               Test configuration and exit\n"
    "    -sl,--signal <signal>[=<pid>]    Send signal to cnatsd process (ldm, stop, quit, term, reopen, reload)\n"
    "                                     pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/cnatsd.pid)\n"
    "        --client_advertise <string>  Client URL to advertise to other servers\n"
    "    -m, --http_port <port>           Use port for http monitoring\n"
    "    -ms,--https_port <port>          Use port for https monitoring\n"
    "        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).\n"
    "\n"
    "Logging Options:\n"
    "    -l, --log <file>                 File to redirect log output\n"
    "    -T, --logtime                    Timestamp log entries (default: true)\n"
    "        --logtime_utc                Timestamps in UTC instead of local time\n"
    "    -s, --syslog                     Log to syslog\n"
    "    -r, --remote_syslog <addr>       Syslog server addr (udp://localhost:514)\n"
    "    -D, --debug                      Enable debugging output\n"
    "    -V, --trace                      Trace the raw protocol\n"
    "    -VV                              Verbose trace (traces system account as well)\n"
    "    -DV                              Debug and trace\n"
    "    -DVV                             Debug and verbose trace (traces system account as well)\n"
    "        --log_size_limit <limit>     Logfile size limit (default: auto)\n"
    "        --max_traced_msg_len <len>   Maximum printable length for traced messages (default: unlimited)\n"
    "\n"
    "Authorization Options:\n"
    "        --user <user>                User required for connections\n"
    "        --pass <password>            Password required for connections\n"
    "        --auth <token>               Authorization token required for connections\n"
    "\n"
    "TLS Options:\n"
    "        --tls                        Enable TLS, do not verify clients (default: false)\n"
    "        --tlscert <file>             Server certificate file\n"
    "        --tlskey <file>              Private key for server certificate\n"
    "        --tlsverify                  Enable TLS, verify client certificates\n"
    "        --tlscacert <file>           Client certificate CA for verification\n"
    "\n"
    "Common Options:\n"
    "    -h, --help                       Show this message\n"
    "    -v, --version                    Show version\n"
    "\n"
    "Not yet supported (accepted by nats-server; refused here with an error):\n"
    "    -js, -sd,\n"
    "    --routes, --cluster*, --no_advertise,\n"
    "    --connect_retries, --profile\n"
    "\n";

static const char tls_usage_text[] =
    "\n"
    "TLS configuration is specified in the tls section of a configuration file:\n"
    "\n"
    "e.g.\n"
    "\n"
    "    tls {\n"
    "        cert_file:      \"./certs/server-cert.pem\"\n"
    "        key_file:       \"./certs/server-key.pem\"\n"
    "        ca_file:        \"./certs/ca.pem\"\n"
    "        verify:         true\n"
    "        verify_and_map: true\n"
    "\n"
    "        cipher_suites: [\n"
    "            \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\",\n"
    "            \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"\n"
    "        ]\n"
    "        curve_preferences: [\n"
    "            \"CurveP256\",\n"
    "            \"CurveP384\",\n"
    "            \"CurveP521\"\n"
    "        ]\n"
    "    }\n"
    "\n"
    "Available cipher suites include:\n";

/* Whether `name` (len bytes) is one of the '|'-separated spellings in `names`. */
static bool names_contain(const char *names, const char *name, size_t len) {
  for (const char *p = names; *p;) {
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    if (n == len && strncmp(p, name, len) == 0) return true;
    p += n + (bar ? 1 : 0);
  }
  return false;
}

static const FlagSpec *flag_lookup(const char *name, size_t len) {
  for (size_t i = 0; i < G_N_ELEMENTS(flag_table); i++)
    if (names_contain(flag_table[i].names, name, len)) return &flag_table[i];
  return NULL;
}

static bool parse_go_bool(const char *v, bool *out) {
  /* strconv.ParseBool */
  static const char *t[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *f[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
    if (strcmp(v, t[i]) == 0) return (*out = true), true;
    if (strcmp(v, f[i]) == 0) return (*out = false), true;
  }
  return false;
}

static bool parse_go_int(const char *v, int64_t *out) {
  /* strconv.ParseInt(v, 0, 64): optional sign, 0x/0o/0b prefixes, '_' separators ignored here. */
  if (!*v) return false;
  errno = 0;
  char *end;
  long long n = strtoll(v, &end, 0);
  if (errno || *end) return false;
  *out = n;
  return true;
}

/* nats-server: any --tls* flag replaces the tls{} block with one built from
 * the flags (cert and key required); an explicit --tls=false turns TLS off. */
static bool opts_apply_tls_flags(Options *o) {
  if (!o->flag_tls_seen) return true;
  o->flag_tls_seen = false;
  if (o->flag_tls_disabled) {
    g_clear_pointer(&o->tls_config, tls_config_free);
    return true;
  }
  const char *missing = !o->flag_tls_cert || !*o->flag_tls_cert  ? "TLS Server certificate must be present and valid"
                        : !o->flag_tls_key || !*o->flag_tls_key ? "TLS Server private key must be present and valid"
                                                                 : NULL;
  if (missing) {
    fprintf(stderr, "cnatsd: %s\n", missing);
    return false;
  }
  TlsConfigOpts to = {.cert_file = o->flag_tls_cert, .key_file = o->flag_tls_key, .ca_file = o->flag_tls_ca,
                      .verify = o->flag_tls_verify};
  GError *error = NULL;
  TlsConfig *cfg = tls_config_new(&to, &error);
  if (!cfg) {
    fprintf(stderr, "cnatsd: %s\n", error->message);
    g_error_free(error);
    return false;
  }
  tls_config_free(o->tls_config);
  o->tls_config = cfg;
  return true;
}

OptsAction opts_parse_args(Options *o, int argc, char **argv, char **signal_cmd) {
  int i = 1;
  for (; i < argc; i++) {
    const char *arg = argv[i];
    if (arg[0] != '-' || arg[1] == '\0') break;  /* first non-flag */
    const char *name = arg + 1;
    if (*name == '-') {
      name++;
      if (*name == '\0') {  /* "--" ends flags */
        i++;
        break;
      }
    }
    if (*name == '-' || *name == '=') {
      fprintf(stderr, "bad flag syntax: %s\n", arg);
      fputs(usage_text, stdout);
      return OPTS_EXIT_ERROR;
    }
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const char *value = eq ? eq + 1 : NULL;
    const FlagSpec *f = flag_lookup(name, name_len);
    if (!f) {
      /* nats-server prints this and exits 0 (its usage() exits 0); we exit 1,
       * as an unknown flag is an error a script should see. */
      fprintf(stderr, "flag provided but not defined: -%.*s\n", (int)name_len, name);
      fputs(usage_text, stdout);
      return OPTS_EXIT_ERROR;
    }
    if (!f->supported) {
      fprintf(stderr, "cnatsd: flag -%.*s is not supported yet\n", (int)name_len, name);
      return OPTS_EXIT_ERROR;
    }
    bool takes_value = f->kind == FLAG_STRING || f->kind == FLAG_INT || f->kind == FLAG_INT64 || (f->kind == FLAG_SPECIAL && f->special == SP_SIGNAL);
    if (takes_value && !value) {
      if (i + 1 >= argc) {
        fprintf(stderr, "flag needs an argument: -%.*s\n", (int)name_len, name);
        fputs(usage_text, stdout);
        return OPTS_EXIT_ERROR;
      }
      value = argv[++i];
    }
    if (strncmp(name, "tls", 3) == 0) o->flag_tls_seen = true;
    char *field = (char *)o + f->offset;
    switch (f->kind) {
      case FLAG_STRING:
        g_free(*(char **)field);
        *(char **)field = g_strdup(value);
        break;
      case FLAG_INT: {
        int64_t n;
        if (!parse_go_int(value, &n) || n < G_MININT || n > G_MAXINT) {
          fprintf(stderr, "invalid value \"%s\" for flag -%.*s: parse error\n", value, (int)name_len, name);
          fputs(usage_text, stdout);
          return OPTS_EXIT_ERROR;
        }
        *(int *)field = (int)n;
        break;
      }
      case FLAG_INT64: {
        int64_t n;
        if (!parse_go_int(value, &n)) {
          fprintf(stderr, "invalid value \"%s\" for flag -%.*s: parse error\n", value, (int)name_len, name);
          fputs(usage_text, stdout);
          return OPTS_EXIT_ERROR;
        }
        *(int64_t *)field = n;
        break;
      }
      case FLAG_BOOL: {
        bool b = true;
        if (value && !parse_go_bool(value, &b)) {
          fprintf(stderr, "invalid boolean value \"%s\" for -%.*s: parse error\n", value, (int)name_len, name);
          fputs(usage_text, stdout);
          return OPTS_EXIT_ERROR;
        }
        *(bool *)field = b;
        /* -tls=false wins over every other TLS flag and the config */
        if (f->offset == offsetof(Options, flag_tls)) o->flag_tls_disabled = !b;
        break;
      }
      case FLAG_SPECIAL:
        switch (f->special) {
          case SP_HELP:
            fputs(usage_text, stdout);
            return OPTS_EXIT_OK;
          case SP_HELP_TLS:
            fputs(tls_usage_text, stdout);
            for (size_t k = 0; tls_cipher_name(k); k++) printf("    %s\n", tls_cipher_name(k));
            printf("\nAvailable curve preferences include:\n");
            for (size_t k = 0; tls_curve_name(k); k++) printf("    %s\n", tls_curve_name(k));
            return OPTS_EXIT_OK;
          case SP_VERSION:
            printf("cnatsd: v%s (nats-server protocol v%s)\n", CNATSD_VERSION, NATS_VERSION);
            return OPTS_EXIT_OK;
          case SP_SIGNAL:
            *signal_cmd = g_strdup(value);
            break;
          case SP_DV:
          case SP_VV:
          case SP_DVV: {
            /* Boolean flags like -D: "-DV=false" turns both off, as in Go. */
            bool b = true;
            if (value && !parse_go_bool(value, &b)) {
              fprintf(stderr, "invalid boolean value \"%s\" for -%.*s: parse error\n", value, (int)name_len, name);
              fputs(usage_text, stdout);
              return OPTS_EXIT_ERROR;
            }
            o->trace = b;
            if (f->special != SP_VV) o->debug = b;
            if (f->special != SP_DV) o->trace_verbose = b;
            break;
          }
        }
        break;
    }
  }
  if (i < argc) {
    fprintf(stderr, "cnatsd: unrecognized command: \"%s\"\n", argv[i]);
    return OPTS_EXIT_ERROR;
  }
  if (!*signal_cmd && !opts_apply_tls_flags(o)) return OPTS_EXIT_ERROR;
  return *signal_cmd ? OPTS_SIGNAL : OPTS_RUN;
}

/* ---- config file: the options table -------------------------------------- */

typedef enum OptKind {
  OPT_INT,               /* integer (size suffixes already applied by the conf parser) */
  OPT_UINT8_POSITIVE,    /* Go uint8 option: 1..255 */
  OPT_TAGS,              /* string or array of strings (server_tags) */
  OPT_PORT,              /* integer into an int field */
  OPT_BOOL,
  OPT_STRING,
  OPT_DURATION,          /* Go duration string; a bare integer means seconds, with a warning */
  OPT_DURATION_STRING,   /* Go duration string only */
  OPT_LISTEN,            /* "host:port" or port */
  OPT_HTTP_LISTEN,       /* the same, for the monitoring listener */
  OPT_OPERATOR,          /* operator JWT file or inline JWT (jwt_auth.c) */
  OPT_TRUSTED,           /* trusted operator keys (jwt_auth.c) */
  OPT_RESOLVER,          /* account resolver (jwt_auth.c) */
  OPT_RESOLVER_PRELOAD,  /* account JWTs for the resolver (jwt_auth.c) */
  OPT_RESOLVER_PINNED,   /* resolver_pinned_accounts (jwt_auth.c) */
  OPT_AUTHORIZATION,     /* authorization {} (auth.c) */
  OPT_ACCOUNTS,          /* accounts {} (auth.c) */
  OPT_TLS,               /* tls {} */
  OPT_HTTPS_LISTEN,      /* https: "host:port" */
  OPT_MAPPINGS,          /* mappings {} for $G (accounts_conf.c) */
  OPT_UNSUPPORTED,       /* a nats-server key whose feature cnatsd does not have yet */
} OptKind;

/* One row per config key (all spellings); the single place a key is declared. */
typedef struct OptSpec {
  const char *names;     /* '|'-separated, lower case */
  OptKind kind;
  size_t offset;
  bool reloadable;       /* nats-server can change it with SIGHUP */
  int64_t min;           /* for OPT_DURATION_STRING: minimum in µs (0 = none) */
} OptSpec;

#define OFF(f) offsetof(Options, f)
static const OptSpec opt_table[] = {
    {"listen", OPT_LISTEN, 0, false, 0},
    {"port", OPT_PORT, OFF(port), false, 0},
    {"host|net", OPT_STRING, OFF(host), false, 0},
    {"server_name", OPT_STRING, OFF(server_name), false, 0},
    {"client_advertise", OPT_STRING, OFF(client_advertise), true, 0},
    {"debug", OPT_BOOL, OFF(debug), true, 0},
    {"trace", OPT_BOOL, OFF(trace), true, 0},
    {"trace_verbose", OPT_BOOL, OFF(trace_verbose), true, 0},
    {"logtime", OPT_BOOL, OFF(logtime), true, 0},
    {"disable_sublist_cache|no_sublist_cache", OPT_BOOL, OFF(no_sublist_cache), false, 0},
    {"logfile|log_file", OPT_STRING, OFF(log_file), true, 0},
    {"logfile_size_limit|log_size_limit", OPT_INT, OFF(log_size_limit), true, 0},
    {"logfile_max_num|log_max_num", OPT_INT, OFF(log_max_num), true, 0},  /* 2.10 */
    {"logtime_utc", OPT_BOOL, OFF(logtime_utc), true, 0},                  /* 2.10 */
    {"syslog", OPT_BOOL, OFF(syslog), true, 0},
    {"remote_syslog", OPT_STRING, OFF(remote_syslog), true, 0},
    {"pidfile|pid_file", OPT_STRING, OFF(pid_file), false, 0},
    {"ports_file_dir", OPT_STRING, OFF(ports_file_dir), false, 0},
    {"max_control_line", OPT_INT, OFF(max_control_line), true, 0},
    {"max_payload", OPT_INT, OFF(max_payload), true, 0},
    {"max_pending", OPT_INT, OFF(max_pending), true, 0},
    {"max_connections|max_conn", OPT_INT, OFF(max_connections), true, 0},
    {"max_subscriptions|max_subs", OPT_INT, OFF(max_subscriptions), true, 0},
    {"ping_interval", OPT_DURATION, OFF(ping_interval_us), true, 0},
    {"ping_max", OPT_INT, OFF(max_pings_out), true, 0},
    {"write_deadline", OPT_DURATION, OFF(write_deadline_us), true, 0},
    {"lame_duck_duration", OPT_DURATION_STRING, OFF(lame_duck_duration_us), true, 30 * G_USEC_PER_SEC},
    {"lame_duck_grace_period", OPT_DURATION_STRING, OFF(lame_duck_grace_period_us), true, 0},
    {"no_header_support", OPT_BOOL, OFF(no_header_support), false, 0},
    {"max_traced_msg_len", OPT_INT, OFF(max_traced_msg_len), true, 0},
    {"max_sub_tokens|max_subscription_tokens", OPT_UINT8_POSITIVE, OFF(max_sub_tokens), true, 0},
    {"server_tags", OPT_TAGS, OFF(tags), false, 0},
    /* Only routes, gateways and leaf nodes consult these; kept for them. */
    {"connect_error_reports", OPT_INT, OFF(connect_error_reports), true, 0},
    {"reconnect_error_reports", OPT_INT, OFF(reconnect_error_reports), true, 0},
    {"http", OPT_HTTP_LISTEN, 0, false, 0},
    {"http_port|monitor_port", OPT_PORT, OFF(http_port), false, 0},
    {"http_base_path", OPT_STRING, OFF(http_base_path), false, 0},
    {"https", OPT_HTTPS_LISTEN, 0, false, 0},
    {"https_port", OPT_PORT, OFF(https_port), false, 0},
    {"tls", OPT_TLS, 0, true, 0},
    {"allow_non_tls", OPT_BOOL, OFF(allow_non_tls), false, 0},
    {"authorization", OPT_AUTHORIZATION, 0, true, 0},
    {"accounts", OPT_ACCOUNTS, 0, true, 0},
    {"mappings|maps", OPT_MAPPINGS, 0, true, 0},
    {"no_auth_user", OPT_STRING, OFF(no_auth_user), true, 0},
    {"system_account|system", OPT_STRING, OFF(system_account), false, 0},
    {"no_system_account|no_system|no_sys_acc", OPT_BOOL, OFF(no_system_account), false, 0},
    /* Operator mode; the catch-all row below still lists these names, but
     * rows are matched in order, so these win. */
    {"operator|operators|roots|root|root_operators|root_operator", OPT_OPERATOR, 0, false, 0},
    {"trusted|trusted_keys", OPT_TRUSTED, 0, false, 0},
    {"resolver|account_resolver|accounts_resolver", OPT_RESOLVER, 0, false, 0},
    {"resolver_preload", OPT_RESOLVER_PRELOAD, 0, false, 0},
    {"resolver_pinned_accounts", OPT_RESOLVER_PINNED, 0, false, 0},
    /* Keys of features still to come: refused with a clear error, never ignored. */
    {"cluster|"
     "gateway|leaf|leafnodes|store_dir|storedir|jetstream|"
     "prof_port|ocsp|operator|operators|"
     "roots|root|root_operators|root_operator|resolver|account_resolver|accounts_resolver|resolver_tls|"
     "resolver_preload|resolver_pinned_accounts|trusted|trusted_keys|websocket|ws|mqtt|"
     "default_js_domain",
     OPT_UNSUPPORTED, 0, false, 0},
};
#undef OFF

static const OptSpec *opt_lookup(const char *key) {
  g_autofree char *lower = g_ascii_strdown(key, -1);  /* nats-server lower-cases config keys */
  for (size_t i = 0; i < G_N_ELEMENTS(opt_table); i++)
    if (names_contain(opt_table[i].names, lower, strlen(lower))) return &opt_table[i];
  return NULL;
}

static bool want_kind(GPtrArray *errors, const ConfValue *v, ConfKind kind, const char *go_name) {
  if (conf_value_kind(v) == kind) return true;
  conf_report(errors, v, "interface conversion: interface {} is %s, not %s", conf_value_go_type(v), go_name);
  return false;
}

static void apply_listen(char **host, int *port_out, const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) == CONF_INTEGER) {
    *port_out = (int)conf_value_int(v);
    return;
  }
  if (!want_kind(errors, v, CONF_STRING, "string")) return;
  const char *s = conf_value_string(v);
  const char *colon = strrchr(s, ':');
  int64_t port;
  if (!colon || !parse_go_int(colon + 1, &port)) {
    conf_report(errors, v, "could not parse port %s", s);
    return;
  }
  g_free(*host);
  *host = g_strndup(s, (gsize)(colon - s));
  if ((*host)[0] == '[') {  /* [::1]:4222 */
    size_t n = strlen(*host);
    if (n >= 2 && (*host)[n - 1] == ']') {
      memmove(*host, *host + 1, n - 2);
      (*host)[n - 2] = '\0';
    }
  }
  *port_out = (int)port;
}

/* server_tags as jwt's TagList.Add: trimmed, lower-cased, unique, empty ones dropped. */
static void tags_add(GPtrArray **tags, const char *tag) {
  g_autofree char *trimmed = g_strstrip(g_strdup(tag));  /* g_ascii_strdown copies */
  g_autofree char *t = g_ascii_strdown(trimmed, -1);
  if (!*t) return;
  if (!*tags) *tags = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < (*tags)->len; i++)
    if (strcmp((*tags)->pdata[i], t) == 0) return;
  g_ptr_array_add(*tags, g_steal_pointer(&t));
}

static void apply_tags(GPtrArray **tags, const ConfValue *v, GPtrArray *errors) {
  if (conf_value_kind(v) == CONF_STRING) {
    tags_add(tags, conf_value_string(v));
    return;
  }
  if (conf_value_kind(v) != CONF_ARRAY) {
    conf_report(errors, v, "error parsing tags: unsupported type %s", conf_value_go_type(v));
    return;
  }
  for (size_t i = 0; i < conf_value_array_len(v); i++) {
    const ConfValue *e = conf_value_array_get(v, i);
    if (conf_value_kind(e) != CONF_STRING) {
      conf_report(errors, v, "error parsing tags: unsupported type *conf.token where string is expected");
      return;
    }
    tags_add(tags, conf_value_string(e));
  }
}

/* The top-level tls{} block (Go's parseTLS + GenTLSConfig). */
static void apply_tls(Options *o, const ConfValue *v, GPtrArray *errors) {
  if (!want_kind(errors, v, CONF_MAP, "map[string]interface {}")) return;
  TlsConfigOpts to = {0};
  double timeout = 0;
  bool map = false, first = false;
  int64_t rate = 0;
  g_autoptr(GHashTable) pinned = NULL;
  g_autoptr(GPtrArray) ciphers = NULL, curves = NULL;  /* borrowed names, NULL-terminated */
  for (size_t i = 0; i < conf_value_map_len(v); i++) {
    g_autofree char *k = g_ascii_strdown(conf_value_map_key(v, i), -1);
    const ConfValue *f = conf_value_map_value(v, i);
    ConfKind fk = conf_value_kind(f);
    if (strcmp(k, "cert_file") == 0 || strcmp(k, "key_file") == 0 || strcmp(k, "ca_file") == 0) {
      if (fk != CONF_STRING) {
        conf_report(errors, f, "error parsing tls config, expected '%s' to be filename", k);
        return;
      }
      const char **dst = k[0] == 'c' && k[1] == 'e' ? &to.cert_file : k[0] == 'k' ? &to.key_file : &to.ca_file;
      *dst = conf_value_string(f);
    } else if (strcmp(k, "handshake_first") == 0 || strcmp(k, "first") == 0) {
      /* nats-server 2.10.4: the TLS handshake before INFO.  Only the boolean
       * form; the fallback-delay form is not supported. */
      if (fk != CONF_BOOL) {
        conf_report(errors, f, "field \"%s\" should be a boolean, got %s", conf_value_map_key(v, i), conf_value_go_type(f));
        return;
      }
      first = conf_value_bool(f);
    } else if (strcmp(k, "insecure") == 0 || strcmp(k, "verify") == 0 || strcmp(k, "verify_and_map") == 0 ||
               strcmp(k, "verify_cert_and_check_known_urls") == 0) {
      if (fk != CONF_BOOL) {
        conf_report(errors, f, "error parsing tls config, expected '%s' to be a boolean", k);
        return;
      }
      bool b = conf_value_bool(f);
      if (strcmp(k, "insecure") == 0) {
        to.insecure = b;
      } else if (strcmp(k, "verify") == 0) {
        to.verify = b;
      } else if (strcmp(k, "verify_and_map") == 0) {
        if (b) to.verify = true;
        map = b;
      } else {
        if (b) {
          conf_report(errors, f, "verify_cert_and_check_known_urls not supported in this context");
          return;
        }
      }
    } else if (strcmp(k, "cipher_suites") == 0 || strcmp(k, "curve_preferences") == 0) {
      bool is_ciphers = k[1] == 'i';
      if (!want_kind(errors, f, CONF_ARRAY, "[]interface {}")) return;
      if (conf_value_array_len(f) == 0) {
        conf_report(errors, f, "error parsing tls config, '%s' cannot be empty", k);
        return;
      }
      for (size_t j = 0; j < conf_value_array_len(f); j++) {
        const ConfValue *e = conf_value_array_get(f, j);
        if (!want_kind(errors, e, CONF_STRING, "string")) return;
        const char *name = conf_value_string(e);
        if (is_ciphers ? !tls_cipher_name_known(name) : !tls_curve_name_known(name)) {
          conf_report(errors, e, is_ciphers ? "unrecognized cipher %s" : "unrecognized curve preference %s", name);
          return;
        }
        GPtrArray **list = is_ciphers ? &ciphers : &curves;
        if (!*list) *list = g_ptr_array_new();
        g_ptr_array_add(*list, (gpointer)name);
      }
    } else if (strcmp(k, "timeout") == 0) {
      if (fk == CONF_INTEGER) {
        timeout = (double)conf_value_int(f);
      } else if (fk == CONF_FLOAT) {
        timeout = conf_value_float(f);
      } else if (fk == CONF_STRING) {
        int64_t us;
        if (!opts_parse_duration(conf_value_string(f), &us)) {
          conf_report(errors, f, "error parsing tls config, 'timeout' time: invalid duration \"%s\"", conf_value_string(f));
          return;
        }
        timeout = (double)us / G_USEC_PER_SEC;
      } else {
        conf_report(errors, f, "error parsing tls config, 'timeout' wrong type");
        return;
      }
    } else if (strcmp(k, "connection_rate_limit") == 0) {
      if (fk != CONF_INTEGER) {
        conf_report(errors, f, "error parsing tls config, 'connection_rate_limit' wrong type");
        return;
      }
      rate = conf_value_int(f);
    } else if (strcmp(k, "pinned_certs") == 0) {
      if (fk != CONF_ARRAY) {
        conf_report(errors, f, "error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo");
        return;
      }
      for (size_t j = 0; j < conf_value_array_len(f); j++) {
        const ConfValue *e = conf_value_array_get(f, j);
        if (!want_kind(errors, e, CONF_STRING, "string")) return;
        g_autofree char *entry = g_ascii_strdown(conf_value_string(e), -1);
        bool ok = strlen(entry) == 64;
        for (const char *p = entry; ok && *p; p++) ok = g_ascii_isxdigit(*p);
        if (!ok) {
          conf_report(errors, e, "error parsing tls config, 'pinned_certs' key %s does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo", entry);
          return;
        }
        if (!pinned) pinned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_add(pinned, g_steal_pointer(&entry));
      }
    } else {
      conf_report(errors, f, "error parsing tls config, unknown field [\"%s\"]", conf_value_map_key(v, i));
      return;
    }
  }
  if (ciphers) g_ptr_array_add(ciphers, NULL);
  if (curves) g_ptr_array_add(curves, NULL);
  to.cipher_suites = ciphers ? (const char *const *)ciphers->pdata : NULL;
  to.curves = curves ? (const char *const *)curves->pdata : NULL;
  GError *error = NULL;
  TlsConfig *cfg = tls_config_new(&to, &error);
  if (!cfg) {
    conf_report(errors, v, "%s", error->message);
    g_error_free(error);
    return;
  }
  tls_config_free(o->tls_config);
  o->tls_config = cfg;
  o->tls_timeout = timeout > 0 ? timeout : (double)TLS_TIMEOUT_US / G_USEC_PER_SEC;
  o->tls_map = map;
  o->tls_handshake_first = first;
  o->tls_rate_limit = rate;
  if (o->tls_pinned_certs) g_hash_table_unref(o->tls_pinned_certs);
  o->tls_pinned_certs = g_steal_pointer(&pinned);
}

static void apply_key(Options *o, const char *key, const ConfValue *v, GPtrArray *errors, GPtrArray *warnings) {
  const OptSpec *spec = opt_lookup(key);
  if (!spec) {
    /* nats-server: an unknown top-level key is an error unless it was only
     * a variable used by $reference. */
    if (!conf_value_is_used_variable(v)) conf_report(errors, v, "unknown field \"%s\"", key);
    return;
  }
  char *field = (char *)o + spec->offset;
  switch (spec->kind) {
    case OPT_OPERATOR:
      jwt_auth_conf_operator(o, v, errors);
      break;
    case OPT_TRUSTED:
      jwt_auth_conf_trusted(o, v, errors);
      break;
    case OPT_RESOLVER:
      jwt_auth_conf_resolver(o, v, errors);
      break;
    case OPT_RESOLVER_PRELOAD:
      jwt_auth_conf_preload(o, v, errors);
      break;
    case OPT_RESOLVER_PINNED:
      jwt_auth_conf_pinned(o, v, errors);
      break;
    case OPT_INT:
      if (want_kind(errors, v, CONF_INTEGER, "int64")) *(int64_t *)field = conf_value_int(v);
      break;
    case OPT_UINT8_POSITIVE:
      if (!want_kind(errors, v, CONF_INTEGER, "int64")) break;
      if (conf_value_int(v) > 255)
        conf_report(errors, v, "%s value is too big", key);
      else if (conf_value_int(v) <= 0)
        conf_report(errors, v, "%s value can not be negative", key);
      else
        *(int64_t *)field = conf_value_int(v);
      break;
    case OPT_TAGS:
      apply_tags((GPtrArray **)field, v, errors);
      break;
    case OPT_PORT:
      if (want_kind(errors, v, CONF_INTEGER, "int64")) *(int *)field = (int)conf_value_int(v);
      break;
    case OPT_BOOL:
      if (want_kind(errors, v, CONF_BOOL, "bool")) *(bool *)field = conf_value_bool(v);
      if (field == (char *)&o->trace_verbose) o->trace = o->trace_verbose;  /* Go sets both */
      break;
    case OPT_STRING:
      if (want_kind(errors, v, CONF_STRING, "string")) {
        g_free(*(char **)field);
        *(char **)field = g_strdup(conf_value_string(v));
      }
      break;
    case OPT_DURATION:
      if (conf_value_kind(v) == CONF_INTEGER) {
        conf_report(warnings, v, "invalid use of field \"%s\": %s should be converted to a duration", key, key);
        *(int64_t *)field = conf_value_int(v) * G_USEC_PER_SEC;
        break;
      }
      G_GNUC_FALLTHROUGH;
    case OPT_DURATION_STRING: {
      if (!want_kind(errors, v, CONF_STRING, "string")) break;
      int64_t us;
      if (!opts_parse_duration(conf_value_string(v), &us)) {
        conf_report(errors, v, "error parsing %s: time: invalid duration \"%s\"", key, conf_value_string(v));
        break;
      }
      if (spec->min && us < spec->min) {
        conf_report(errors, v, "invalid %s of %s, minimum is 30 seconds", key, conf_value_string(v));
        break;
      }
      *(int64_t *)field = us;
      break;
    }
    case OPT_LISTEN:
      apply_listen(&o->host, &o->port, v, errors);
      break;
    case OPT_HTTP_LISTEN:
      apply_listen(&o->http_host, &o->http_port, v, errors);
      break;
    case OPT_HTTPS_LISTEN:
      apply_listen(&o->https_host, &o->https_port, v, errors);
      break;
    case OPT_TLS:
      apply_tls(o, v, errors);
      break;
    case OPT_AUTHORIZATION:
      auth_conf_parse_authorization(o, v, errors, warnings);
      break;
    case OPT_ACCOUNTS:
      auth_conf_parse_accounts(o, v, errors, warnings);
      break;
    case OPT_MAPPINGS:
      if (!o->mappings) o->mappings = accounts_conf_new();
      accounts_conf_parse_mappings(o->mappings, "$G", v, errors);
      break;
    case OPT_UNSUPPORTED:
      conf_report(errors, v, "field \"%s\" is not supported by cnatsd yet", key);
      break;
  }
}

bool opts_load_config(Options *o, const char *path, bool pedantic, char **report) {
  GError *error = NULL;
  g_autoptr(ConfValue) root = conf_parse_file(path, &error);
  if (!root) {
    *report = conf_error_format(error);
    g_error_free(error);
    return false;
  }
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  for (size_t i = 0; i < conf_value_map_len(root); i++)
    apply_key(o, conf_value_map_key(root, i), conf_value_map_value(root, i), errors, warnings);
  g_free(o->config_file);
  o->config_file = g_strdup(path);
  if (errors->len == 0 && (warnings->len == 0 || !pedantic)) {
    /* Outside -t, nats-server prints warnings and carries on. */
    for (guint i = 0; i < warnings->len; i++) fprintf(stderr, "%s\n", (char *)warnings->pdata[i]);
    return true;
  }
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < warnings->len; i++) g_string_append_printf(out, "%s%s", out->len ? "\n" : "", (char *)warnings->pdata[i]);
  for (guint i = 0; i < errors->len; i++) g_string_append_printf(out, "%s%s", out->len ? "\n" : "", (char *)errors->pdata[i]);
  *report = g_string_free(out, FALSE);
  return false;
}

void opts_derive_defaults(Options *o) {
  /* nats-server: with TLS the default auth timeout leaves the handshake a
   * second on top of its own timeout. */
  if (o->tls_config && !o->auth_timeout_set)
    o->auth_timeout_us = (int64_t)((o->tls_timeout + 1.0) * G_USEC_PER_SEC);
}

char *opts_validate(const Options *o) {
  if (o->max_payload > o->max_pending && o->max_pending > 0)
    return g_strdup_printf("max_payload (%" G_GINT64_FORMAT ") cannot be higher than max_pending (%" G_GINT64_FORMAT ")",
                           o->max_payload, o->max_pending);
  if (o->max_payload > G_MAXINT32) return g_strdup("max_payload value is too big");
  char *jwt_err = jwt_auth_validate_options((Options *)o);
  if (jwt_err) return jwt_err;
  return auth_validate_options(o);
}
