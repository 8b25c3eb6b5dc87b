/* parity.c — the parity runner: one g_test per scenario file, run against both servers.
 *
 * Loads the fixtures/parity .scn files (format: tests/parity/README.md), registers one test path per
 * scenario, /parity/<section-slug>/<row>/<name>, where the section comes from the first row id
 * looked up in spec/parity.tsv. Each test runs the scenario against the reference server
 * (NATS_SERVER, default /usr/sbin/nats-server) and then against cnatsd (CNATSD), checks every
 * expectation on both, and finally requires the two normalised transcripts to be identical.
 *
 * Single-threaded: everything runs on the g_test thread. Each run gets its own temporary
 * directory and its own server on a free port, so meson may run several runners at once. */
#include "testlib.h"

#include <json-glib/json-glib.h>
#include <sodium.h>

#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#ifndef PARITY_SRCDIR
#define PARITY_SRCDIR "."
#endif

#define DEFAULT_TIMEOUT_MS 2000
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 3000
#define MAX_CONNS 32

/* Values that legitimately differ between two servers (or two runs) in INFO. */
static const char *const default_masked[] = {
    "server_id", "server_name", "version", "go", "host", "port", "nonce", "client_id",
    "git_commit", "connect_urls", "ws_connect_urls", "xkey", "ip",
    /* monitoring JSON (/varz, /connz, ...) */
    "now", "start", "uptime", "mem", "cpu", "cores", "gomaxprocs", "config_load_time",
    "http_req_stats", "rtt", "idle", "last_activity", "cid", "pending_bytes", NULL};

/* ---- scenario model ---------------------------------------------------------------- */

typedef struct {
  int lineno;
  char *verb;       /* owned */
  char *conn;       /* owned, NULL if the verb takes none */
  char *arg;        /* owned: rest of the line, may be "" */
  char *body;       /* owned: heredoc body for `file`, else NULL */
  GPtrArray *block; /* owned (Cmd*): body of `repeat`, else NULL */
  int count;        /* repeat count */
} Cmd;

typedef struct {
  char *path;        /* owned: file it came from */
  char *name;        /* owned */
  char *test_path;   /* owned */
  GPtrArray *rows;   /* owned (char*) */
  char *args;        /* owned: extra server args (one line, shell-like words) */
  GPtrArray *cmds;   /* owned (Cmd*) */
  GPtrArray *masked; /* owned (char*): default_masked + `mask` lines, NULL-terminated */
  GPtrArray *requires; /* owned (char*) */
  gboolean newer;    /* newer-than-reference: cnatsd only */
  gboolean keep_pings; /* server PINGs are expected lines; by default they are skipped */
  char *must_fail;   /* owned: harness self-test -- the run must fail with an error matching */
  int timeout_ms;
  int nofile;        /* limit-nofile: RLIMIT_NOFILE for the server, 0 = inherit */
  char *parse_error; /* owned: set if the file could not be parsed */
} Scenario;

static void
cmd_free(gpointer p)
{
  Cmd *c = p;
  if (!c)
    return;
  g_free(c->verb);
  g_free(c->conn);
  g_free(c->arg);
  g_free(c->body);
  if (c->block)
    g_ptr_array_unref(c->block);
  g_free(c);
}

static void
scenario_free(gpointer p)
{
  Scenario *s = p;
  if (!s)
    return;
  g_free(s->path);
  g_free(s->name);
  g_free(s->test_path);
  g_ptr_array_unref(s->rows);
  g_free(s->args);
  g_ptr_array_unref(s->cmds);
  g_ptr_array_unref(s->masked);
  g_ptr_array_unref(s->requires);
  g_free(s->parse_error);
  g_free(s->must_fail);
  g_free(s);
}

/* Verbs whose first word is a connection name. */
static gboolean
verb_takes_conn(const char *v)
{
  static const char *const verbs[] = {"connect", "connect-fail", "send", "send-raw", "expect",
                                      "expect-nothing", "expect-close", "close",
                                      "drain-until-close", "unordered", "reset", "tls", "tls-fail",
                                      NULL};
  return g_strv_contains(verbs, v);
}

static gboolean
verb_known(const char *v)
{
  static const char *const verbs[] = {
      "start", "stop", "restart", "sleep", "signal", "expect-server-exit", "expect-file",
      "expect-no-file", "expect-log", "expect-no-log", "run", "expect-output", "expect-spread",
      "file", "repeat", "end", "timeout", "move", "expect-server-running", "http", "expect-dir", NULL};
  return verb_takes_conn(v) || g_strv_contains(verbs, v);
}

/* Parses lines[*i..] into `out` until `end` (if in a repeat block) or EOF. */
static gboolean
parse_block(Scenario *s, char **lines, guint n, guint *i, GPtrArray *out, gboolean in_repeat)
{
  for (; *i < n; (*i)++) {
    int lineno = (int)*i + 1;
    char *raw = lines[*i];
    g_strchomp(raw);
    const char *l = raw;
    while (*l == ' ' || *l == '\t')
      l++;
    if (*l == '\0' || *l == '#')
      continue;
    const char *sp = strpbrk(l, " \t");
    g_autofree char *verb = sp ? g_strndup(l, (gsize)(sp - l)) : g_strdup(l);
    const char *rest = sp ? sp + 1 : "";
    while (*rest == ' ' || *rest == '\t')
      rest++;

    /* header directives */
    if (!in_repeat && strcmp(verb, "row") == 0) {
      g_auto(GStrv) ids = g_strsplit_set(rest, " \t", -1);
      for (char **id = ids; *id; id++)
        if (**id)
          g_ptr_array_add(s->rows, g_strdup(*id));
      continue;
    }
    if (!in_repeat && strcmp(verb, "name") == 0) {
      g_free(s->name);
      s->name = g_strdup(rest);
      continue;
    }
    if (!in_repeat && strcmp(verb, "args") == 0) {
      char *old = s->args;
      s->args = old ? g_strconcat(old, " ", rest, NULL) : g_strdup(rest);
      g_free(old);
      continue;
    }
    if (!in_repeat && strcmp(verb, "newer-than-reference") == 0) {
      s->newer = TRUE;
      continue;
    }
    if (!in_repeat && strcmp(verb, "requires") == 0) {
      g_ptr_array_add(s->requires, g_strdup(rest));
      continue;
    }
    if (!in_repeat && strcmp(verb, "mask") == 0) {
      g_auto(GStrv) keys = g_strsplit_set(rest, " \t", -1);
      g_ptr_array_remove_index(s->masked, s->masked->len - 1); /* the NULL */
      for (char **k = keys; *k; k++)
        if (**k)
          g_ptr_array_add(s->masked, g_strdup(*k));
      g_ptr_array_add(s->masked, NULL);
      continue;
    }
    if (!in_repeat && strcmp(verb, "keep-pings") == 0) {
      s->keep_pings = TRUE;
      continue;
    }
    if (!in_repeat && strcmp(verb, "must-fail") == 0) {
      g_free(s->must_fail);
      s->must_fail = g_strdup(rest);
      continue;
    }
    if (!in_repeat && strcmp(verb, "limit-nofile") == 0) {
      s->nofile = atoi(rest);
      continue;
    }
    if (!in_repeat && strcmp(verb, "timeout") == 0) {
      s->timeout_ms = atoi(rest);
      continue;
    }
    if (!verb_known(verb)) {
      s->parse_error = g_strdup_printf("%s:%d: unknown command '%s'", s->path, lineno, verb);
      return FALSE;
    }
    if (strcmp(verb, "end") == 0) {
      if (!in_repeat) {
        s->parse_error = g_strdup_printf("%s:%d: 'end' without 'repeat'", s->path, lineno);
        return FALSE;
      }
      return TRUE;
    }

    Cmd *c = g_new0(Cmd, 1);
    c->lineno = lineno;
    c->verb = g_strdup(verb);
    if (verb_takes_conn(verb)) {
      const char *csp = strpbrk(rest, " \t");
      c->conn = csp ? g_strndup(rest, (gsize)(csp - rest)) : g_strdup(rest);
      rest = csp ? csp + 1 : "";
      if (!*c->conn) {
        s->parse_error = g_strdup_printf("%s:%d: '%s' needs a connection name", s->path, lineno, verb);
        cmd_free(c);
        return FALSE;
      }
    }
    /* `send`/`expect` keep their text verbatim after exactly one separator. */
    c->arg = g_strdup(rest);
    g_ptr_array_add(out, c);

    if (strcmp(verb, "file") == 0) {
      /* file <path> <<TAG ... TAG */
      char *hd = strstr(c->arg, " <<");
      if (!hd) {
        s->parse_error = g_strdup_printf("%s:%d: file needs '<path> <<TAG'", s->path, lineno);
        return FALSE;
      }
      g_autofree char *tag = g_strstrip(g_strdup(hd + 3));
      *hd = '\0';
      GString *body = g_string_new(NULL);
      gboolean closed = FALSE;
      for ((*i)++; *i < n; (*i)++) {
        g_strchomp(lines[*i]);
        if (strcmp(lines[*i], tag) == 0) {
          closed = TRUE;
          break;
        }
        g_string_append(body, lines[*i]);
        g_string_append_c(body, '\n');
      }
      c->body = g_string_free(body, FALSE);
      if (!closed) {
        s->parse_error = g_strdup_printf("%s:%d: heredoc %s not closed", s->path, lineno, tag);
        return FALSE;
      }
    } else if (strcmp(verb, "unordered") == 0) {
      /* unordered <conn> / lines... / end: raw expected lines, any order */
      GString *body = g_string_new(NULL);
      gboolean closed = FALSE;
      for ((*i)++; *i < n; (*i)++) {
        g_strchomp(lines[*i]);
        const char *t = lines[*i];
        while (*t == ' ' || *t == '\t')
          t++;
        if (strcmp(t, "end") == 0) {
          closed = TRUE;
          break;
        }
        g_string_append(body, t);
        g_string_append_c(body, '\n');
      }
      c->body = g_string_free(body, FALSE);
      if (!closed) {
        s->parse_error = g_strdup_printf("%s:%d: unordered without end", s->path, lineno);
        return FALSE;
      }
    } else if (strcmp(verb, "repeat") == 0) {
      c->count = atoi(c->arg);
      c->block = g_ptr_array_new_with_free_func(cmd_free);
      (*i)++;
      if (!parse_block(s, lines, n, i, c->block, TRUE))
        return FALSE;
      if (*i >= n) {
        s->parse_error = g_strdup_printf("%s:%d: repeat without end", s->path, lineno);
        return FALSE;
      }
    }
  }
  if (in_repeat) {
    s->parse_error = g_strdup_printf("%s: repeat without end", s->path);
    return FALSE;
  }
  return TRUE;
}

static Scenario *
scenario_load(const char *path)
{
  Scenario *s = g_new0(Scenario, 1);
  s->path = g_strdup(path);
  s->rows = g_ptr_array_new_with_free_func(g_free);
  s->cmds = g_ptr_array_new_with_free_func(cmd_free);
  s->masked = g_ptr_array_new_with_free_func(g_free);
  s->requires = g_ptr_array_new_with_free_func(g_free);
  s->timeout_ms = DEFAULT_TIMEOUT_MS;
  for (const char *const *m = default_masked; *m; m++)
    g_ptr_array_add(s->masked, g_strdup(*m));
  g_ptr_array_add(s->masked, NULL);

  g_autofree char *txt = NULL;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(path, &txt, NULL, &err)) {
    s->parse_error = g_strdup(err->message);
    return s;
  }
  g_auto(GStrv) lines = g_strsplit(txt, "\n", -1);
  guint i = 0;
  parse_block(s, lines, g_strv_length(lines), &i, s->cmds, FALSE);
  if (!s->parse_error && s->rows->len == 0)
    s->parse_error = g_strdup_printf("%s: no 'row' line", path);
  if (!s->parse_error && !s->name)
    s->parse_error = g_strdup_printf("%s: no 'name' line", path);
  return s;
}

/* ---- operator-mode helpers: fixtures/jwt (made by tests/jwt/jwtgen.go) ------------- */

static char *
jwt_fixture(const char *name)
{
  g_autofree char *path = g_build_filename(PARITY_SRCDIR, "fixtures", "jwt", name, NULL);
  char *txt = NULL;
  if (!g_file_get_contents(path, &txt, NULL, NULL))
    return g_strdup("<missing fixture>");
  return g_strstrip(txt);
}

/* Secret key from an nkey seed file NAME.nk ("S" + type, base32, CRC16). */
static gboolean
jwt_seed_key(const char *name, unsigned char sk[64])
{
  g_autofree char *file = g_strdup_printf("%s.nk", name);
  g_autofree char *seed = jwt_fixture(file);
  static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  unsigned char raw[64];
  size_t n = 0;
  guint32 buf = 0;
  int bits = 0;
  for (const char *p = seed; *p && n < sizeof raw; p++) {
    const char *at = strchr(alpha, *p);
    if (!at)
      return FALSE;
    buf = (buf << 5) | (guint32)(at - alpha);
    bits += 5;
    if (bits >= 8) {
      raw[n++] = (unsigned char)(buf >> (bits - 8));
      bits -= 8;
    }
  }
  if (n < 34)
    return FALSE;
  unsigned char pk[32];
  return crypto_sign_seed_keypair(pk, sk, raw + 2) == 0;
}

static void
b64url_append(GString *out, const unsigned char *bin, size_t len)
{
  size_t cap = sodium_base64_encoded_len(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  g_autofree char *b = g_malloc(cap);
  sodium_bin2base64(b, cap, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  g_string_append(out, b);
}

/* {sig:USER}: the connection's INFO nonce signed with USER.nk. */
static void
jwt_sign_nonce(GString *out, const char *name, const char *nonce)
{
  unsigned char sk[64], sig[64];
  if (!nonce || !jwt_seed_key(name, sk)) {
    g_string_append(out, "<no nonce or seed>");
    return;
  }
  crypto_sign_detached(sig, NULL, (const unsigned char *)nonce, strlen(nonce), sk);
  b64url_append(out, sig, sizeof sig);
}

/* {ujwt:ACC:USER:SECS}: a user JWT for USER.pub, issued by account ACC
 * (ACC.nk/ACC.pub), expiring SECS seconds from now. */
static void
jwt_user_token(GString *out, const char *spec)
{
  g_auto(GStrv) f = g_strsplit(spec, ":", 3);
  unsigned char sk[64], sig[64];
  if (g_strv_length(f) != 3 || !jwt_seed_key(f[0], sk)) {
    g_string_append(out, "<bad ujwt>");
    return;
  }
  g_autofree char *accf = g_strdup_printf("%s.pub", f[0]);
  g_autofree char *userf = g_strdup_printf("%s.pub", f[1]);
  g_autofree char *acc = jwt_fixture(accf);
  g_autofree char *user = jwt_fixture(userf);
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  const char *hdr = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
  g_autofree char *payload = g_strdup_printf(
      "{\"jti\":\"PARITY%" G_GINT64_FORMAT "\",\"iat\":%" G_GINT64_FORMAT ",\"iss\":\"%s\",\"name\":\"%s\","
      "\"sub\":\"%s\",\"exp\":%" G_GINT64_FORMAT ",\"nats\":{\"pub\":{},\"sub\":{},\"subs\":-1,\"data\":-1,"
      "\"payload\":-1,\"type\":\"user\",\"version\":2}}",
      now, now, acc, f[1], user, now + atoi(f[2]));
  GString *tok = g_string_new(NULL);
  b64url_append(tok, (const unsigned char *)hdr, strlen(hdr));
  g_string_append_c(tok, '.');
  b64url_append(tok, (const unsigned char *)payload, strlen(payload));
  crypto_sign_detached(sig, NULL, (const unsigned char *)tok->str, tok->len, sk);
  g_string_append_c(tok, '.');
  b64url_append(tok, sig, sizeof sig);
  g_string_append_len(out, tok->str, (gssize)tok->len);
  g_string_free(tok, TRUE);
}

/* ---- placeholder and escape expansion ---------------------------------------------- */

typedef struct {
  const char *tmpdir; /* borrowed */
  const char *exe_base; /* borrowed */
  int port;
  GPid pid;
  int iter;
  const char *nonce;  /* borrowed: nonce of the last INFO seen on the command's connection */
} Vars;

/* Capture groups of the last `expect a /REGEX/` that matched: {cap1}..{cap9}
 * in later commands (a server-made reply subject, for instance). */
static char *last_caps[10];

/* {tmpdir} {port} {pid} {exe} {i} {i:W} {rep:N:TEXT} {capN}. Unknown {...} are kept literally so
 * JSON braces need no escaping. */
static GString *
expand_vars(const char *in, const Vars *v)
{
  GString *out = g_string_new(NULL);
  for (const char *p = in; *p;) {
    if (*p != '{') {
      g_string_append_c(out, *p++);
      continue;
    }
    const char *close = strchr(p, '}');
    if (!close) {
      g_string_append(out, p);
      break;
    }
    g_autofree char *key = g_strndup(p + 1, (gsize)(close - p - 1));
    if (strcmp(key, "tmpdir") == 0)
      g_string_append(out, v->tmpdir);
    else if (strcmp(key, "srcdir") == 0)
      g_string_append(out, PARITY_SRCDIR);
    else if (strcmp(key, "port") == 0)
      g_string_append_printf(out, "%d", v->port);
    else if (strcmp(key, "pid") == 0)
      g_string_append_printf(out, "%d", (int)v->pid);
    else if (strcmp(key, "jwtdir") == 0)
      g_string_append(out, PARITY_SRCDIR "/fixtures/jwt");
    else if (g_str_has_prefix(key, "jwtfile:")) {
      g_autofree char *t = jwt_fixture(key + 8);
      g_string_append(out, t);
    } else if (g_str_has_prefix(key, "sig:"))
      jwt_sign_nonce(out, key + 4, v->nonce);
    else if (g_str_has_prefix(key, "ujwt:"))
      jwt_user_token(out, key + 5);
    else if (strcmp(key, "exe") == 0)
      g_string_append(out, v->exe_base);
    else if (strcmp(key, "i") == 0)
      g_string_append_printf(out, "%d", v->iter);
    else if (g_str_has_prefix(key, "cap") && key[3] >= '1' && key[3] <= '9' && !key[4])
      g_string_append(out, last_caps[key[3] - '0'] ? last_caps[key[3] - '0'] : "");
    else if (g_str_has_prefix(key, "i:"))
      g_string_append_printf(out, "%0*d", atoi(key + 2), v->iter);
    else if (g_str_has_prefix(key, "rep:") && strchr(key + 4, ':')) {
      long n = strtol(key + 4, NULL, 10);
      const char *t = strchr(key + 4, ':') + 1;
      for (long k = 0; k < n; k++)
        g_string_append(out, t);
    } else {
      g_string_append_c(out, *p++);
      continue;
    }
    p = close + 1;
  }
  return out;
}

/* \r \n \t \\ \0 \xHH. Returns FALSE on a bad escape. */
static gboolean
unescape(GString *s, char **why)
{
  GString *out = g_string_sized_new(s->len);
  for (gsize i = 0; i < s->len; i++) {
    char ch = s->str[i];
    if (ch != '\\') {
      g_string_append_c(out, ch);
      continue;
    }
    if (++i >= s->len) {
      *why = g_strdup("trailing backslash");
      g_string_free(out, TRUE);
      return FALSE;
    }
    switch (s->str[i]) {
    case 'r': g_string_append_c(out, '\r'); break;
    case 'n': g_string_append_c(out, '\n'); break;
    case 't': g_string_append_c(out, '\t'); break;
    case '0': g_string_append_c(out, '\0'); break;
    case '\\': g_string_append_c(out, '\\'); break;
    case 'x':
      if (i + 2 < s->len + 0 && g_ascii_isxdigit(s->str[i + 1]) && g_ascii_isxdigit(s->str[i + 2])) {
        g_string_append_c(out, (char)(g_ascii_xdigit_value(s->str[i + 1]) * 16 +
                                      g_ascii_xdigit_value(s->str[i + 2])));
        i += 2;
        break;
      }
      /* fall through */
    default:
      *why = g_strdup_printf("bad escape \\%c", s->str[i]);
      g_string_free(out, TRUE);
      return FALSE;
    }
  }
  g_string_truncate(s, 0);
  g_string_append_len(s, out->str, (gssize)out->len);
  g_string_free(out, TRUE);
  return TRUE;
}

/* ---- one run of one scenario against one server ------------------------------------ */

typedef struct {
  char *name;   /* owned */
  TestWire *w;  /* owned, NULL once closed */
  char *nonce;  /* owned: from the last INFO read by `expect NAME info`; NULL = none */
} Conn;

typedef struct {
  const Scenario *sc;   /* borrowed */
  const char *exe;      /* borrowed */
  char *label;          /* owned: "go" or "cnatsd" */
  char *tmpdir;         /* owned */
  char *exe_base;       /* owned */
  TestServer *srv;      /* owned */
  int fixed_port;       /* {port} before start, if the args use it */
  GPtrArray *conns;     /* owned (Conn*) */
  GPtrArray *transcript; /* owned (char*) */
  char *run_output;     /* owned: output of the last `run` */
  int timeout_ms;
  char *error;          /* owned: first failure */
  const Cmd *cur;       /* borrowed */
  int iter;
  gboolean exit_expected; /* a signal/stop was sent: the server may be gone */
} Run;

static void
conn_free(gpointer p)
{
  Conn *c = p;
  g_free(c->name);
  g_free(c->nonce);
  test_wire_free(c->w);
  g_free(c);
}

static void G_GNUC_PRINTF(2, 3)
run_fail(Run *r, const char *fmt, ...)
{
  if (r->error)
    return;
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (r->cur)
    r->error = g_strdup_printf("[%s] %s:%d: %s %s%s%s: %s", r->label, r->sc->path, r->cur->lineno,
                               r->cur->verb, r->cur->conn ? r->cur->conn : "",
                               r->cur->conn ? " " : "", r->cur->arg, msg);
  else
    r->error = g_strdup_printf("[%s] %s: %s", r->label, r->sc->path, msg);
}

static void G_GNUC_PRINTF(2, 3)
record(Run *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  /* Kept whole: transcripts are compared in full; only display is shortened. */
  g_ptr_array_add(r->transcript, line);
}

static Vars
run_vars(Run *r)
{
  Vars v = {.tmpdir = r->tmpdir, .exe_base = r->exe_base, .iter = r->iter};
  v.port = r->srv ? test_server_port(r->srv) : r->fixed_port;
  v.pid = r->srv ? test_server_pid(r->srv) : 0;
  for (guint i = 0; r->cur && r->cur->conn && i < r->conns->len; i++) {
    Conn *cn = r->conns->pdata[i];
    if (strcmp(cn->name, r->cur->conn) == 0)
      v.nonce = cn->nonce;
  }
  return v;
}

/* Expanded + unescaped text of a command argument. */
static GString *
run_text(Run *r, const char *in)
{
  Vars v = run_vars(r);
  GString *s = expand_vars(in, &v);
  char *why = NULL;
  if (!unescape(s, &why)) {
    run_fail(r, "%s", why);
    g_free(why);
  }
  return s;
}

/* Regex text: placeholders expanded, backslashes left for the regex engine. */
static GString *
run_pattern(Run *r, const char *in)
{
  Vars v = run_vars(r);
  return expand_vars(in, &v);
}

static Conn *
run_conn(Run *r, const char *name, gboolean create)
{
  for (guint i = 0; i < r->conns->len; i++) {
    Conn *c = r->conns->pdata[i];
    if (strcmp(c->name, name) == 0)
      return c;
  }
  if (!create)
    return NULL;
  Conn *c = g_new0(Conn, 1);
  c->name = g_strdup(name);
  g_ptr_array_add(r->conns, c);
  return c;
}

static char *
log_tail(Run *r)
{
  if (!r->srv)
    return g_strdup("(no server)");
  g_autofree char *log = test_server_log(r->srv);
  gsize len = strlen(log);
  const char *p = len > 4000 ? log + len - 4000 : log;
  return g_strdup(p);
}

/* Splits the args line into words after expansion (g_shell_parse_argv rules). */
static gboolean
run_start(Run *r)
{
  if (r->srv && !test_server_exited(r->srv)) {
    run_fail(r, "server already running");
    return FALSE;
  }
  if (r->srv) {
    test_server_free(r->srv);
    r->srv = NULL;
  }
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) user = NULL;
  if (r->sc->args && *r->sc->args) {
    Vars v = run_vars(r);
    g_autoptr(GString) a = expand_vars(r->sc->args, &v);
    g_autoptr(GError) err = NULL;
    if (!g_shell_parse_argv(a->str, NULL, &user, &err)) {
      run_fail(r, "bad args: %s", err->message);
      return FALSE;
    }
  }
  gboolean has_addr = FALSE, has_port = FALSE, has_pfd = FALSE;
  for (char **u = user; u && *u; u++) {
    if (!strcmp(*u, "-a") || !strcmp(*u, "--addr") || !strcmp(*u, "--net"))
      has_addr = TRUE;
    if (!strcmp(*u, "-p") || !strcmp(*u, "--port"))
      has_port = TRUE;
    if (!strcmp(*u, "--ports_file_dir"))
      has_pfd = TRUE;
  }
  if (!has_addr) {
    g_ptr_array_add(argv, g_strdup("-a"));
    g_ptr_array_add(argv, g_strdup("127.0.0.1"));
  }
  if (!has_port) {
    g_ptr_array_add(argv, g_strdup("-p"));
    g_ptr_array_add(argv, g_strdup("-1"));
  }
  if (!has_pfd) {
    g_ptr_array_add(argv, g_strdup("--ports_file_dir"));
    g_ptr_array_add(argv, g_strdup(r->tmpdir));
  }
  for (char **u = user; u && *u; u++)
    g_ptr_array_add(argv, g_strdup(*u));
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) err = NULL;
  r->srv = test_server_start_limited(r->exe, (const char *const *)argv->pdata, r->tmpdir,
                                     has_pfd ? NULL : r->tmpdir, START_TIMEOUT_MS, r->sc->nofile,
                                     &err);
  if (!r->srv) {
    run_fail(r, "server did not start: %s", err->message);
    return FALSE;
  }
  record(r, "server started");
  r->exit_expected = FALSE;
  return TRUE;
}

static void
run_close_conns(Run *r)
{
  g_ptr_array_set_size(r->conns, 0);
}

static void run_cmds(Run *r, GPtrArray *cmds);

/* SIGTERM makes Go exit 1 (SIGINT: 0). Anything else -- a sanitizer's exit code (LSan 23),
 * a crash (128+N) or needing SIGKILL -- is a defect of the server under test. */
static gboolean
clean_stop_status(int st)
{
  return st == 0 || st == 1;
}
static void run_cmd(Run *r, const Cmd *c);

static gboolean
parse_regex_arg(const char *arg, char **pattern)
{
  gsize n = strlen(arg);
  if (n >= 2 && arg[0] == '/' && arg[n - 1] == '/') {
    *pattern = g_strndup(arg + 1, n - 2);
    return TRUE;
  }
  return FALSE;
}

/* Line with every capture group's text replaced by <*>, for the transcript. */
static char *
mask_groups(const char *line, GMatchInfo *mi)
{
  GString *out = g_string_new(NULL);
  int prev = 0, groups = g_match_info_get_match_count(mi);
  for (int g = 1; g < groups; g++) {
    int s = -1, e = -1;
    if (!g_match_info_fetch_pos(mi, g, &s, &e) || s < 0 || s < prev)
      continue;
    g_string_append_len(out, line + prev, s - prev);
    g_string_append(out, "<*>");
    prev = e;
  }
  g_string_append(out, line + prev);
  return g_string_free(out, FALSE);
}

static gboolean
regex_match(Run *r, const char *pattern, const char *subject, char **masked)
{
  g_autoptr(GError) err = NULL;
  g_autoptr(GRegex) re = g_regex_new(pattern, G_REGEX_MULTILINE, 0, &err);
  if (!re) {
    run_fail(r, "bad regex /%s/: %s", pattern, err->message);
    return FALSE;
  }
  GMatchInfo *mi = NULL;
  gboolean ok = g_regex_match(re, subject, 0, &mi);
  if (ok && masked) {
    *masked = mask_groups(subject, mi);
    for (int g = 1; g < 10; g++) {
      g_free(last_caps[g]);
      last_caps[g] = g < g_match_info_get_match_count(mi) ? g_match_info_fetch(mi, g) : NULL;
    }
  }
  g_match_info_free(mi);
  return ok;
}

static Conn *
need_conn(Run *r, const Cmd *c)
{
  Conn *cn = run_conn(r, c->conn, FALSE);
  if (!cn || !cn->w) {
    run_fail(r, "no open connection '%s'", c->conn);
    return NULL;
  }
  return cn;
}

/* Next line, skipping server PINGs unless the scenario keeps them: Go's first RTT PING comes
 * 2 s after connect, which a slow (sanitizer) run can reach in any scenario. */
static TestWireStatus
read_line_skip_pings(Run *r, Conn *cn, int timeout_ms, char **line, gsize *len, gboolean *bare)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;
    TestWireStatus st = test_wire_read_line(cn->w, left > 0 ? (int)left : 0, line, len, bare);
    if (st != TEST_WIRE_OK || r->sc->keep_pings || strcmp(*line, "PING") != 0)
      return st;
    g_free(*line);
    *line = NULL;
  }
}

static void
do_expect(Run *r, const Cmd *c)
{
  Conn *cn = need_conn(r, c);
  if (!cn)
    return;
  char *line = NULL;
  gsize got_len = 0;
  gboolean bare = FALSE;
  TestWireStatus st = read_line_skip_pings(r, cn, r->timeout_ms, &line, &got_len, &bare);
  g_autofree char *got = line;
  if (st != TEST_WIRE_OK) {
    run_fail(r, "no line: %s", test_wire_status_str(st));
    return;
  }
  if (bare) {
    run_fail(r, "line not terminated by CRLF: '%.200s'", got);
    return;
  }
  g_autofree char *pattern = NULL;
  const char *arg = c->arg;
  if (parse_regex_arg(arg, &pattern)) {
    g_autofree char *masked = NULL;
    g_autoptr(GString) pat = run_pattern(r, pattern);
    if (!regex_match(r, pat->str, got, &masked)) {
      run_fail(r, "got '%.300s'", got);
      return;
    }
    record(r, "%s< %s", c->conn, masked);
    return;
  }
  gboolean is_info = strcmp(arg, "info") == 0 || g_str_has_prefix(arg, "info ");
  gboolean is_json = strcmp(arg, "json") == 0 || g_str_has_prefix(arg, "json ");
  if (is_info || is_json) {
    /* `info`: an INFO line; `json`: a payload line that is a JSON document. */
    if (is_info && !g_str_has_prefix(got, "INFO ")) {
      run_fail(r, "expected INFO, got '%.300s'", got);
      return;
    }
    const char *doc = is_info ? got + 5 : got;
    if (is_info) {
      /* keep the nonce for {sig:USER} in later sends on this connection */
      g_autoptr(JsonParser) jp = json_parser_new();
      if (json_parser_load_from_data(jp, doc, -1, NULL) && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(jp))) {
        JsonObject *o = json_node_get_object(json_parser_get_root(jp));
        g_free(cn->nonce);
        cn->nonce = json_object_has_member(o, "nonce") ? g_strdup(json_object_get_string_member(o, "nonce")) : NULL;
      }
    }
    g_autoptr(GError) err = NULL;
    g_autofree char *shape =
        test_json_shape(doc, (const char *const *)r->sc->masked->pdata, &err);
    if (!shape) {
      run_fail(r, "not JSON (%s): '%.300s'", err->message, got);
      return;
    }
    if (arg[4]) {
      g_autoptr(GString) want = run_text(r, arg + 5);
      g_autofree char *why = NULL;
      if (!test_json_contains(doc, want->str, &why)) {
        run_fail(r, "JSON mismatch (%s): '%.1000s'", why, got);
        return;
      }
    }
    record(r, "%s< %s%s", c->conn, is_info ? "INFO " : "", shape);
    return;
  }
  g_autoptr(GString) want = run_text(r, arg);
  if (r->error)
    return;
  if (got_len != want->len || memcmp(got, want->str, want->len) != 0) {
    run_fail(r, "got '%.300s'", got);
    return;
  }
  record(r, "%s< %s", c->conn, arg);
}

static gint
cmp_cstr(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* unordered: the next N lines are exactly the block's lines in some order (as a multiset).
 * A block line "*N text" stands for N lines, {i} = 1..N. */
static void
do_unordered(Run *r, const Cmd *c)
{
  Conn *cn = need_conn(r, c);
  if (!cn)
    return;
  g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) lines = g_strsplit(c->body, "\n", -1);
  int saved = r->iter;
  for (char **l = lines; *l && !r->error; l++) {
    if (!**l)
      continue;
    int times = 0;
    const char *text = *l;
    if (text[0] == '*' && g_ascii_isdigit(text[1])) {
      times = atoi(text + 1);
      text = strchr(text, ' ') ? strchr(text, ' ') + 1 : "";
    }
    for (int k = 1; k <= (times ? times : 1); k++) {
      if (times)
        r->iter = k;
      GString *t = run_text(r, text);
      g_ptr_array_add(want, g_string_free(t, FALSE));
    }
  }
  r->iter = saved;
  if (r->error)
    return;
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
  for (guint k = 0; k < want->len; k++) {
    char *line = NULL;
    TestWireStatus st = read_line_skip_pings(r, cn, r->timeout_ms, &line, NULL, NULL);
    if (st != TEST_WIRE_OK) {
      run_fail(r, "line %u of %u: %s", k + 1, want->len, test_wire_status_str(st));
      return;
    }
    g_ptr_array_add(got, line);
  }
  g_ptr_array_sort(want, cmp_cstr);
  g_ptr_array_sort(got, cmp_cstr);
  for (guint k = 0; k < want->len; k++)
    if (strcmp(want->pdata[k], got->pdata[k]) != 0) {
      run_fail(r, "lines differ as a set: first difference (sorted) want '%.200s' got '%.200s'",
               (char *)want->pdata[k], (char *)got->pdata[k]);
      return;
    }
  for (guint k = 0; k < want->len; k++)
    record(r, "%s< (any order) %s", c->conn, (char *)want->pdata[k]);
}

/* Reads MSG lines (+ payloads) from several connections until `total` arrived; each must
 * get at least `min`. For queue-group distribution, which differs run to run. */
static void
do_spread(Run *r, const Cmd *c)
{
  g_auto(GStrv) w = g_strsplit_set(c->arg, " \t", -1);
  guint nw = g_strv_length(w);
  if (nw < 4) {
    run_fail(r, "usage: expect-spread <total> <min-each> <ms> conn...");
    return;
  }
  int total = atoi(w[0]), min = atoi(w[1]), ms = atoi(w[2]);
  guint nconn = nw - 3;
  g_autofree int *counts = g_new0(int, nconn);
  int sum = 0;
  gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
  while (sum < total && g_get_monotonic_time() < deadline) {
    for (guint k = 0; k < nconn && sum < total; k++) {
      Conn *cn = run_conn(r, w[3 + k], FALSE);
      if (!cn || !cn->w) {
        run_fail(r, "no open connection '%s'", w[3 + k]);
        return;
      }
      g_autofree char *line = NULL;
      TestWireStatus st = test_wire_read_line(cn->w, 2, &line, NULL, NULL);
      if (st == TEST_WIRE_TIMEOUT)
        continue;
      if (st != TEST_WIRE_OK) {
        run_fail(r, "%s: %s", w[3 + k], test_wire_status_str(st));
        return;
      }
      if (strcmp(line, "PING") == 0)
        continue; /* Go's first RTT ping may land here on a slow run; not part of the count */
      g_auto(GStrv) f = g_strsplit(line, " ", -1);
      guint nf = g_strv_length(f);
      if (nf < 4 || strcmp(f[0], "MSG") != 0) {
        run_fail(r, "%s: expected MSG, got '%.200s'", w[3 + k], line);
        return;
      }
      gsize len = (gsize)g_ascii_strtoull(f[nf - 1], NULL, 10);
      g_autofree char *payload = NULL;
      st = test_wire_read_n(cn->w, len + 2, r->timeout_ms, &payload);
      if (st != TEST_WIRE_OK) {
        run_fail(r, "%s: payload: %s", w[3 + k], test_wire_status_str(st));
        return;
      }
      counts[k]++;
      sum++;
    }
  }
  GString *dist = g_string_new(NULL);
  for (guint k = 0; k < nconn; k++)
    g_string_append_printf(dist, " %s=%d", w[3 + k], counts[k]);
  g_autofree char *d = g_string_free(dist, FALSE);
  if (sum != total) {
    run_fail(r, "got %d of %d messages:%s", sum, total, d);
    return;
  }
  for (guint k = 0; k < nconn; k++)
    if (counts[k] < min) {
      run_fail(r, "uneven spread (min %d):%s", min, d);
      return;
    }
  g_test_message("[%s] spread%s", r->label, d);
  record(r, "spread %d over %u connections, each >= %d", total, nconn, min);
}

/* http [key:]PATH STATUS [{json subset} | /regex/]  -- GET from the listener named `key` in
 * the ports file (default "monitoring"). A JSON body goes into the transcript by shape. */
static void
do_http(Run *r, const Cmd *c)
{
  g_auto(GStrv) w = g_strsplit(c->arg, " ", 3);
  if (g_strv_length(w) < 2) {
    run_fail(r, "usage: http [key:]PATH STATUS [check]");
    return;
  }
  if (!r->srv) {
    run_fail(r, "no server");
    return;
  }
  const char *key = "monitoring";
  g_autofree char *keybuf = NULL;
  const char *path = w[0];
  const char *colon = strchr(w[0], ':');
  if (colon && w[0][0] != '/') {
    keybuf = g_strndup(w[0], (gsize)(colon - w[0]));
    key = keybuf;
    path = colon + 1;
  }
  /* "https:PATH": the monitoring listener over TLS, verified with fixtures/tls/ca.pem */
  g_autofree char *https_ca = NULL;
  if (strcmp(key, "https") == 0) {
    key = "monitoring";
    https_ca = g_build_filename(PARITY_SRCDIR, "fixtures", "tls", "ca.pem", NULL);
  }
  int port = test_server_port_of(r->srv, key);
  if (!port) {
    run_fail(r, "no '%s' listener in the ports file", key);
    return;
  }
  int want = atoi(w[1]), status = 0;
  g_autofree char *body = NULL;
  g_autoptr(GError) err = NULL;
  if (!test_http_get_tls(port, path, https_ca, r->timeout_ms, &status, NULL, &body, &err)) {
    run_fail(r, "%s", err->message);
    return;
  }
  if (status != want) {
    run_fail(r, "HTTP status %d, want %d; body: %.300s", status, want, body);
    return;
  }
  const char *check = w[2];
  g_autofree char *pattern = NULL;
  if (check && parse_regex_arg(check, &pattern)) {
    g_autoptr(GString) pat = run_pattern(r, pattern);
    if (!regex_match(r, pat->str, body, NULL)) {
      run_fail(r, "body does not match: %.2000s", body);
      return;
    }
    record(r, "http %s %d ~ %s", path, status, check);
    return;
  }
  if (check) {
    g_autoptr(GString) want_json = run_text(r, check);
    g_autofree char *why = NULL;
    if (!test_json_contains(body, want_json->str, &why)) {
      run_fail(r, "%s; body: %.2000s", why, body);
      return;
    }
  }
  g_autofree char *shape = test_json_shape(body, (const char *const *)r->sc->masked->pdata, NULL);
  record(r, "http %s %d %s", path, status, shape ? shape : "(not JSON)");
}

static int
signal_by_name(const char *n)
{
  if (g_str_has_prefix(n, "SIG"))
    n += 3;
  static const struct { const char *n; int s; } t[] = {
      {"TERM", SIGTERM}, {"INT", SIGINT}, {"HUP", SIGHUP}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
      {"KILL", SIGKILL}, {"QUIT", SIGQUIT}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}};
  for (guint i = 0; i < G_N_ELEMENTS(t); i++)
    if (strcmp(t[i].n, n) == 0)
      return t[i].s;
  return 0;
}

/* `run <code> <args...>`: the server binary as a command-line tool (--signal, -v, -t). */
static gint
compare_str_ptrs(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in `dir` (matching the glob `glob` if non-NULL), one per line. */
static char *
dir_listing(const char *dir, const char *glob)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  GDir *d = g_dir_open(dir, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name(d));)
    if (!glob || g_pattern_match_simple(glob, n))
      g_ptr_array_add(names, g_strdup(n));
  if (d)
    g_dir_close(d);
  g_ptr_array_sort(names, compare_str_ptrs);
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf(out, "%s\n", (char *)names->pdata[i]);
  return g_string_free(out, FALSE);
}

/* Contents of `path`; if its last component has * or ?, the matching files
 * concatenated in name order (rotated logs).  FALSE if nothing to read. */
static gboolean
read_file_or_glob(const char *path, char **txt)
{
  g_autofree char *base = g_path_get_basename(path);
  if (!strpbrk(base, "*?"))
    return g_file_get_contents(path, txt, NULL, NULL);
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *list = dir_listing(dir, base);
  g_auto(GStrv) names = g_strsplit(list, "\n", -1);
  GString *all = g_string_new(NULL);
  gboolean any = FALSE;
  for (char **n = names; *n && **n; n++) {
    g_autofree char *full = g_build_filename(dir, *n, NULL);
    g_autofree char *one = NULL;
    if (g_file_get_contents(full, &one, NULL, NULL)) {
      g_string_append(all, one);
      any = TRUE;
    }
  }
  *txt = g_string_free(all, FALSE);
  return any;
}

static void
do_run(Run *r, const Cmd *c)
{
  const char *sp = strchr(c->arg, ' ');
  int want = atoi(c->arg);
  /* "0|1": either code (nats-server exits 0 where cnatsd reports an error) */
  const char *bar = strchr(c->arg, '|');
  int want_alt = bar && (!sp || bar < sp) ? atoi(bar + 1) : want;
  Vars v = run_vars(r);
  g_autoptr(GString) a = expand_vars(sp ? sp + 1 : "", &v);
  g_auto(GStrv) words = NULL;
  g_autoptr(GError) err = NULL;
  if (!g_shell_parse_argv(a->str, NULL, &words, &err)) {
    run_fail(r, "bad args: %s", err->message);
    return;
  }
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)r->exe);
  for (char **w = words; *w; w++)
    g_ptr_array_add(argv, *w);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GSubprocess) p = g_subprocess_newv((const char *const *)argv->pdata,
                                               G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                   G_SUBPROCESS_FLAGS_STDERR_MERGE, &err);
  if (!p) {
    run_fail(r, "spawn: %s", err->message);
    return;
  }
  char *out = NULL;
  /* Commands here finish promptly; a hang is caught by the meson timeout. */
  if (!g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &err)) {
    run_fail(r, "run: %s", err->message);
    return;
  }
  g_free(r->run_output);
  r->run_output = out;
  int code = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
  if (code != want && code != want_alt) {
    run_fail(r, "exit code %d, want %d; output:\n%s", code, want, out ? out : "");
    return;
  }
  if (want != want_alt)
    record(r, "run exit %d|%d", want, want_alt);
  else
    record(r, "run exit %d", code);
}

static void
run_cmd_inner(Run *r, const Cmd *c)
{
  r->cur = c;
  const char *v = c->verb;

  if (strcmp(v, "repeat") == 0) {
    int saved = r->iter;
    for (int k = 1; k <= c->count && !r->error; k++) {
      r->iter = k;
      run_cmds(r, c->block);
    }
    r->iter = saved;
    return;
  }
  if (strcmp(v, "file") == 0) {
    g_autoptr(GString) path = run_text(r, c->arg);
    Vars vars = run_vars(r);
    g_autoptr(GString) body = expand_vars(c->body, &vars);
    g_autoptr(GError) err = NULL;
    if (!g_file_set_contents(path->str, body->str, (gssize)body->len, &err))
      run_fail(r, "%s", err->message);
    return;
  }
  if (strcmp(v, "start") == 0) {
    run_start(r);
    return;
  }
  if (strcmp(v, "stop") == 0 || strcmp(v, "restart") == 0) {
    run_close_conns(r);
    if (r->srv) {
      gboolean was_running = !test_server_exited(r->srv);
      int st = test_server_stop(r->srv, STOP_TIMEOUT_MS);
      if (was_running && !clean_stop_status(st)) {
        run_fail(r, "server did not stop cleanly on SIGTERM: status %d%s", st,
                 st == 128 + SIGKILL ? " (needed SIGKILL)" : "");
        return;
      }
      record(r, "server stopped");
    }
    if (strcmp(v, "restart") == 0)
      run_start(r);
    return;
  }
  if (strcmp(v, "sleep") == 0) {
    g_usleep((gulong)atoi(c->arg) * 1000);
    return;
  }
  if (strcmp(v, "timeout") == 0) {
    r->timeout_ms = atoi(c->arg);
    return;
  }
  if (strcmp(v, "connect") == 0 || strcmp(v, "connect-fail") == 0) {
    if (!r->srv && !run_start(r))
      return;
    Conn *cn = run_conn(r, c->conn, TRUE);
    if (cn->w) {
      run_fail(r, "connection '%s' already open", c->conn);
      return;
    }
    g_autoptr(GError) err = NULL;
    cn->w = test_wire_connect("127.0.0.1", test_server_port(r->srv), r->timeout_ms, &err);
    if (strcmp(v, "connect") == 0) {
      if (!cn->w)
        run_fail(r, "%s", err->message);
      else
        record(r, "%s connected", c->conn);
    } else {
      /* A listener that is closed refuses; one that accepts and drops counts as refused too. */
      if (cn->w) {
        g_autoptr(GString) seen = g_string_new(NULL);
        TestWireStatus st = test_wire_expect_close(cn->w, r->timeout_ms, seen);
        if (st != TEST_WIRE_OK) {
          run_fail(r, "connection accepted (%s) '%.200s'", test_wire_status_str(st), seen->str);
          return;
        }
        test_wire_free(cn->w);
        cn->w = NULL;
      }
      record(r, "%s refused", c->conn);
    }
    return;
  }
  if (strcmp(v, "tls") == 0 || strcmp(v, "tls-fail") == 0) {
    /* tls a [CERT]: TLS handshake on connection a (after INFO), verifying the server
     * against fixtures/tls/ca.pem, presenting fixtures/tls/CERT-cert.pem if named.
     * tls-fail: the handshake fails, or the server closes right after it (TLS 1.3
     * clients learn of a rejected certificate only on their next read). */
    Conn *cn = need_conn(r, c);
    if (!cn)
      return;
    g_autofree char *ca = g_build_filename(PARITY_SRCDIR, "fixtures", "tls", "ca.pem", NULL);
    g_autofree char *cert = NULL, *key = NULL;
    if (c->arg && *c->arg) {
      g_autofree char *cn_ = g_strdup_printf("%s-cert.pem", c->arg);
      g_autofree char *kn = g_strdup_printf("%s-key.pem", c->arg);
      cert = g_build_filename(PARITY_SRCDIR, "fixtures", "tls", cn_, NULL);
      key = g_build_filename(PARITY_SRCDIR, "fixtures", "tls", kn, NULL);
    }
    g_autoptr(GError) err = NULL;
    gboolean ok = test_wire_start_tls(cn->w, ca, cert, key, r->timeout_ms, &err);
    if (strcmp(v, "tls") == 0) {
      if (!ok)
        run_fail(r, "%s", err->message);
      else
        record(r, "%s tls %s", c->conn, c->arg ? c->arg : "");
      return;
    }
    if (ok) {
      g_autoptr(GString) seen = g_string_new(NULL);
      TestWireStatus st = test_wire_expect_close(cn->w, r->timeout_ms, seen);
      if (st != TEST_WIRE_OK) {
        run_fail(r, "TLS connection stayed open (%s) '%.200s'", test_wire_status_str(st), seen->str);
        return;
      }
    }
    test_wire_free(cn->w);
    cn->w = NULL;
    record(r, "%s tls refused %s", c->conn, c->arg ? c->arg : "");
    return;
  }
  if (strcmp(v, "close") == 0 || strcmp(v, "reset") == 0) {
    Conn *cn = need_conn(r, c);
    if (cn) {
      if (strcmp(v, "reset") == 0)
        test_wire_reset(cn->w);
      else
        test_wire_free(cn->w);
      cn->w = NULL;
      record(r, "%s %s", c->conn, strcmp(v, "reset") == 0 ? "reset" : "closed");
    }
    return;
  }
  if (strcmp(v, "send") == 0 || strcmp(v, "send-raw") == 0) {
    Conn *cn = need_conn(r, c);
    if (!cn)
      return;
    g_autoptr(GString) s = run_text(r, c->arg);
    if (r->error)
      return;
    if (strcmp(v, "send") == 0)
      g_string_append(s, "\r\n");
    g_autoptr(GError) err = NULL;
    if (!test_wire_send(cn->w, s->str, s->len, &err)) {
      run_fail(r, "%s", err->message);
      return;
    }
    record(r, "%s> %s%s", c->conn, strcmp(v, "send-raw") == 0 ? "(raw) " : "", c->arg);
    return;
  }
  if (strcmp(v, "expect") == 0) {
    do_expect(r, c);
    return;
  }
  if (strcmp(v, "expect-nothing") == 0) {
    Conn *cn = need_conn(r, c);
    if (!cn)
      return;
    g_autoptr(GString) seen = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)atoi(c->arg) * 1000;
    TestWireStatus st;
    for (;;) {
      gint64 left = (deadline - g_get_monotonic_time()) / 1000;
      g_string_truncate(seen, 0);
      st = test_wire_expect_nothing(cn->w, left > 0 ? (int)left : 0, seen);
      if (st != TEST_WIRE_ERROR || r->sc->keep_pings || !test_wire_drop_lines(cn->w, "PING") ||
          test_wire_buffered(cn->w) > 0)
        break;
    }
    if (st != TEST_WIRE_OK)
      run_fail(r, "%s '%.300s'", st == TEST_WIRE_ERROR ? "received" : test_wire_status_str(st),
               seen->str);
    else
      record(r, "%s< (nothing for %s ms)", c->conn, c->arg);
    return;
  }
  if (strcmp(v, "expect-close") == 0) {
    Conn *cn = need_conn(r, c);
    if (!cn)
      return;
    g_autoptr(GString) seen = g_string_new(NULL);
    int ms = *c->arg ? atoi(c->arg) : r->timeout_ms;
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    TestWireStatus st;
    for (;;) {
      gint64 left = (deadline - g_get_monotonic_time()) / 1000;
      g_string_truncate(seen, 0);
      if (!r->sc->keep_pings)
        test_wire_drop_lines(cn->w, "PING");
      st = test_wire_expect_close(cn->w, left > 0 ? (int)left : 0, seen);
      if (st != TEST_WIRE_ERROR || r->sc->keep_pings || !test_wire_drop_lines(cn->w, "PING"))
        break;
    }
    if (st != TEST_WIRE_OK) {
      run_fail(r, "not closed: %s '%.300s'", st == TEST_WIRE_ERROR ? "received" : test_wire_status_str(st),
               seen->str);
      return;
    }
    test_wire_free(cn->w);
    cn->w = NULL;
    record(r, "%s< (closed)", c->conn);
    return;
  }
  if (strcmp(v, "unordered") == 0) {
    do_unordered(r, c);
    return;
  }
  if (strcmp(v, "drain-until-close") == 0) {
    /* Slow-consumer tests: whatever the kernel still buffered is read and dropped. */
    Conn *cn = need_conn(r, c);
    if (!cn)
      return;
    int ms = *c->arg ? atoi(c->arg) : r->timeout_ms;
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    for (;;) {
      char *chunk = NULL;
      gsize avail = test_wire_buffered(cn->w);
      TestWireStatus st = test_wire_read_n(cn->w, avail ? avail : 1, 50, &chunk);
      g_free(chunk);
      if (st == TEST_WIRE_CLOSED && test_wire_buffered(cn->w) == 0)
        break;
      if (st == TEST_WIRE_ERROR || g_get_monotonic_time() >= deadline) {
        run_fail(r, "not closed within %d ms", ms);
        return;
      }
    }
    test_wire_free(cn->w);
    cn->w = NULL;
    record(r, "%s< (drained, closed)", c->conn);
    return;
  }
  if (strcmp(v, "expect-spread") == 0) {
    do_spread(r, c);
    return;
  }
  if (strcmp(v, "signal") == 0) {
    int sig = signal_by_name(c->arg);
    if (!sig) {
      run_fail(r, "unknown signal");
      return;
    }
    r->exit_expected = TRUE;
    if (!r->srv || !test_server_signal(r->srv, sig))
      run_fail(r, "server not running");
    else
      record(r, "signal %s", c->arg);
    return;
  }
  if (strcmp(v, "expect-server-exit") == 0) {
    /* CODE may list alternatives: "0|1" */
    g_auto(GStrv) words = g_strsplit(c->arg, " ", 2);
    g_auto(GStrv) codes = g_strsplit(words[0] ? words[0] : "", "|", -1);
    int ms = words[0] && words[1] ? atoi(words[1]) : r->timeout_ms;
    int st = -1;
    if (!r->srv) {
      run_fail(r, "no server");
      return;
    }
    if (!test_server_wait_exit(r->srv, ms, &st)) {
      run_fail(r, "server still running after %d ms", ms);
      return;
    }
    gboolean ok = FALSE;
    for (char **k = codes; *k; k++)
      ok = ok || (**k && atoi(*k) == st);
    if (!ok) {
      run_fail(r, "server exit status %d, want %s", st, words[0]);
      return;
    }
    record(r, "server exited %s", words[0]);
    return;
  }
  if (strcmp(v, "http") == 0) {
    do_http(r, c);
    return;
  }
  if (strcmp(v, "expect-server-running") == 0) {
    /* The server must stay up for MS ms (e.g. SIGTERM is ignored in lame duck mode). */
    int ms = atoi(c->arg), st = -1;
    if (!r->srv || test_server_wait_exit(r->srv, ms, &st)) {
      run_fail(r, "server exited (status %d)", st);
      return;
    }
    record(r, "server running after %s ms", c->arg);
    return;
  }
  if (strcmp(v, "move") == 0) {
    g_auto(GStrv) w = g_strsplit(c->arg, " ", 2);
    if (g_strv_length(w) != 2) {
      run_fail(r, "usage: move SRC DST");
      return;
    }
    g_autoptr(GString) src = run_text(r, w[0]);
    g_autoptr(GString) dst = run_text(r, w[1]);
    if (rename(src->str, dst->str) != 0)
      run_fail(r, "rename: %s", g_strerror(errno));
    else
      record(r, "moved %s", c->arg);
    return;
  }
  if (strcmp(v, "expect-file") == 0 || strcmp(v, "expect-no-file") == 0) {
    /* expect-file <path> /regex/   |   expect-no-file <path> */
    g_autofree char *arg = g_strdup(c->arg);
    char *sp = strchr(arg, ' ');
    if (sp)
      *sp++ = '\0';
    g_autoptr(GString) path = run_text(r, arg);
    gint64 deadline = g_get_monotonic_time() + (gint64)r->timeout_ms * 1000;
    if (strcmp(v, "expect-no-file") == 0) {
      while (g_file_test(path->str, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
        g_usleep(10 * 1000);
      if (g_file_test(path->str, G_FILE_TEST_EXISTS))
        run_fail(r, "%s still exists", path->str);
      else
        record(r, "no file %s", arg);
      return;
    }
    g_autofree char *pattern = NULL;
    if (!sp || !parse_regex_arg(sp, &pattern)) {
      run_fail(r, "usage: expect-file <path> /regex/");
      return;
    }
    g_autoptr(GString) pat = run_pattern(r, pattern);
    g_autofree char *txt = NULL;
    for (;;) {
      g_clear_pointer(&txt, g_free);
      if (read_file_or_glob(path->str, &txt) && regex_match(r, pat->str, txt, NULL))
        break;
      if (r->error || g_get_monotonic_time() >= deadline) {
        run_fail(r, "%s: %s", path->str, txt ? txt : "(missing)");
        return;
      }
      g_usleep(10 * 1000);
    }
    record(r, "file %s ~ %s", arg, sp);
    return;
  }
  if (strcmp(v, "expect-dir") == 0) {
    /* expect-dir <dir> /regex/: the sorted names in dir, one per line */
    g_autofree char *arg = g_strdup(c->arg);
    char *sp = strchr(arg, ' ');
    if (sp)
      *sp++ = '\0';
    g_autofree char *pattern = NULL;
    if (!sp || !parse_regex_arg(sp, &pattern)) {
      run_fail(r, "usage: expect-dir <dir> /regex/");
      return;
    }
    g_autoptr(GString) dir = run_text(r, arg);
    g_autoptr(GString) pat = run_pattern(r, pattern);
    gint64 deadline = g_get_monotonic_time() + (gint64)r->timeout_ms * 1000;
    for (;;) {
      g_autofree char *names = dir_listing(dir->str, NULL);
      if (regex_match(r, pat->str, names, NULL))
        break;
      if (r->error || g_get_monotonic_time() >= deadline) {
        run_fail(r, "%s:\n%s", dir->str, names);
        return;
      }
      g_usleep(10 * 1000);
    }
    record(r, "dir %s ~ %s", arg, sp);
    return;
  }
  if (strcmp(v, "expect-log") == 0 || strcmp(v, "expect-no-log") == 0) {
    g_autofree char *pattern = NULL;
    if (!parse_regex_arg(c->arg, &pattern)) {
      run_fail(r, "usage: %s /regex/", v);
      return;
    }
    if (!r->srv) {
      run_fail(r, "no server");
      return;
    }
    g_autoptr(GString) pat = run_pattern(r, pattern);
    gboolean want = strcmp(v, "expect-log") == 0;
    gint64 deadline = g_get_monotonic_time() + (gint64)r->timeout_ms * 1000;
    for (;;) {
      g_autofree char *log = test_server_log(r->srv);
      gboolean found = regex_match(r, pat->str, log, NULL);
      if (r->error)
        return;
      if (want && found)
        break;
      if (!want && found) {
        run_fail(r, "log line present");
        return;
      }
      if (g_get_monotonic_time() >= deadline) {
        if (want)
          run_fail(r, "not in log");
        break;
      }
      g_usleep(20 * 1000);
    }
    record(r, "log %s %s", want ? "~" : "!~", c->arg);
    return;
  }
  if (strcmp(v, "run") == 0) {
    r->exit_expected = TRUE; /* e.g. --signal quit=<pid> */
    do_run(r, c);
    return;
  }
  if (strcmp(v, "expect-output") == 0) {
    g_autofree char *pattern = NULL;
    if (!parse_regex_arg(c->arg, &pattern)) {
      run_fail(r, "usage: expect-output /regex/");
      return;
    }
    g_autoptr(GString) pat = run_pattern(r, pattern);
    if (!regex_match(r, pat->str, r->run_output ? r->run_output : "", NULL))
      run_fail(r, "output was:\n%s", r->run_output ? r->run_output : "");
    else
      record(r, "output ~ %s", c->arg);
    return;
  }
  run_fail(r, "unhandled command");
}

/* Connection names may use {i} inside repeat blocks (c{i}). */
static void
run_cmd(Run *r, const Cmd *c)
{
  if (c->conn && strchr(c->conn, '{')) {
    g_autoptr(GString) name = run_pattern(r, c->conn);
    Cmd tmp = *c;
    tmp.conn = name->str;
    run_cmd_inner(r, &tmp);
  } else {
    run_cmd_inner(r, c);
  }
  r->cur = NULL;
}

static void
run_cmds(Run *r, GPtrArray *cmds)
{
  for (guint i = 0; i < cmds->len && !r->error; i++)
    run_cmd(r, cmds->pdata[i]);
}

static void
run_free(Run *r)
{
  g_ptr_array_unref(r->conns);
  if (r->srv) {
    test_server_stop(r->srv, STOP_TIMEOUT_MS);
    test_server_free(r->srv);
  }
  if (r->tmpdir && !g_getenv("PARITY_KEEP_TMP")) {
    g_autoptr(GFile) d = g_file_new_for_path(r->tmpdir);
    g_autoptr(GFileEnumerator) en =
        g_file_enumerate_children(d, G_FILE_ATTRIBUTE_STANDARD_NAME, 0, NULL, NULL);
    GFileInfo *info;
    while (en && (info = g_file_enumerator_next_file(en, NULL, NULL))) {
      g_autoptr(GFile) ch = g_file_get_child(d, g_file_info_get_name(info));
      g_file_delete(ch, NULL, NULL);
      g_object_unref(info);
    }
    g_file_delete(d, NULL, NULL);
  }
  g_free(r->tmpdir);
  g_free(r->label);
  g_free(r->exe_base);
  g_free(r->run_output);
  g_free(r->error);
  g_ptr_array_unref(r->transcript);
  g_free(r);
}

static Run *
run_scenario(const Scenario *sc, const char *exe, const char *label)
{
  Run *r = g_new0(Run, 1);
  r->sc = sc;
  r->exe = exe;
  r->label = g_strdup(label);
  r->exe_base = g_path_get_basename(exe);
  r->conns = g_ptr_array_new_with_free_func(conn_free);
  r->transcript = g_ptr_array_new_with_free_func(g_free);
  r->timeout_ms = sc->timeout_ms;
  g_autoptr(GError) err = NULL;
  r->tmpdir = g_dir_make_tmp("parity-XXXXXX", &err);
  if (!r->tmpdir) {
    run_fail(r, "tmpdir: %s", err->message);
    return r;
  }
  if (sc->args && strstr(sc->args, "{port}"))
    r->fixed_port = test_server_free_port();
  /* A scenario with no explicit start gets one before its first command needing a server;
   * `file` commands (configs) must come first, so start lazily at the first other verb. */
  gboolean started = FALSE;
  for (guint i = 0; i < sc->cmds->len && !r->error; i++) {
    const Cmd *c = sc->cmds->pdata[i];
    if (!started && strcmp(c->verb, "file") != 0 && strcmp(c->verb, "run") != 0 &&
        strcmp(c->verb, "expect-output") != 0 && strcmp(c->verb, "timeout") != 0) {
      started = TRUE;
      if (strcmp(c->verb, "start") != 0 && !r->srv) {
        r->cur = NULL;
        if (!run_start(r))
          break;
      }
    }
    run_cmd(r, c);
  }
  /* The server must have survived the scenario and must stop cleanly: this catches crashes
   * after the last expectation and sanitizer reports at exit (the log then holds them). */
  if (!r->error && r->srv) {
    r->cur = NULL;
    if (test_server_exited(r->srv)) {
      int st = -1;
      test_server_wait_exit(r->srv, 0, &st);
      if (!r->exit_expected)
        run_fail(r, "server exited unexpectedly: status %d", st);
      else if (st != 0 && st != 1 && st != 128 + SIGKILL && st != 128 + SIGTERM && st != 128 + SIGINT)
        run_fail(r, "server exit status %d", st);
    } else {
      int st = test_server_stop(r->srv, STOP_TIMEOUT_MS);
      if (!clean_stop_status(st))
        run_fail(r, "server did not stop cleanly on SIGTERM at the end: status %d%s", st,
                 st == 128 + SIGKILL ? " (needed SIGKILL)" : "");
    }
  }
  if (r->error) {
    g_autofree char *tail = log_tail(r);
    GString *tr = g_string_new(NULL);
    for (guint i = r->transcript->len > 8 ? r->transcript->len - 8 : 0; i < r->transcript->len; i++)
      g_string_append_printf(tr, "   %.300s\n", (char *)r->transcript->pdata[i]);
    g_autofree char *trs = g_string_free(tr, FALSE);
    char *e = g_strdup_printf("%s\n--- %s transcript (last entries) ---\n%s--- %s server log (tail) ---\n%s",
                              r->error, label, trs, label, tail);
    g_free(r->error);
    r->error = e;
  }
  return r;
}

/* ---- registration ------------------------------------------------------------------ */

static const char *go_exe;
static const char *cnatsd_exe;
static GHashTable *row_sections; /* row id -> section name */

static char *
slugify(const char *s)
{
  GString *out = g_string_new(NULL);
  gboolean dash = FALSE;
  for (const char *p = s; *p; p++) {
    if (g_ascii_isalnum(*p)) {
      if (dash && out->len)
        g_string_append_c(out, '-');
      dash = FALSE;
      g_string_append_c(out, g_ascii_tolower(*p));
    } else {
      dash = TRUE;
    }
  }
  return g_string_free(out, FALSE);
}

static gboolean
feature_enabled(const char *feature)
{
  /* Against itself the reference has every feature. */
  g_autofree char *base = g_path_get_basename(cnatsd_exe);
  if (strcmp(base, "nats-server") == 0)
    return TRUE;
  const char *env = g_getenv("PARITY_FEATURES");
  if (!env)
    return FALSE;
  g_auto(GStrv) f = g_strsplit_set(env, ", ", -1);
  return g_strv_contains((const char *const *)f, feature);
}

/* Runs the scenario on both servers; returns NULL on success or the failure text. */
static char *
scenario_failure(const Scenario *sc)
{
  Run *ref = NULL;
  char *failure = NULL;
  if (!sc->newer) {
    ref = run_scenario(sc, go_exe, "go");
    if (ref->error) {
      failure = g_strdup_printf("reference server failed the scenario (scenario bug?):\n%s", ref->error);
      run_free(ref);
      return failure;
    }
  }
  Run *mine = run_scenario(sc, cnatsd_exe, "cnatsd");
  if (mine->error) {
    failure = g_strdup(mine->error);
  } else if (ref) {
    guint n = MAX(ref->transcript->len, mine->transcript->len);
    for (guint i = 0; i < n && !failure; i++) {
      const char *a = i < ref->transcript->len ? ref->transcript->pdata[i] : "(end)";
      const char *b = i < mine->transcript->len ? mine->transcript->pdata[i] : "(end)";
      if (strcmp(a, b) == 0)
        continue;
      GString *ctx = g_string_new(NULL);
      for (guint k = i > 5 ? i - 5 : 0; k < i; k++)
        g_string_append_printf(ctx, "   %.300s\n", (char *)ref->transcript->pdata[k]);
      /* Show both lines from a little before the first differing byte. */
      gsize d = 0;
      while (a[d] && a[d] == b[d])
        d++;
      gsize from = d > 120 ? d - 120 : 0;
      failure = g_strdup_printf("transcripts differ at entry %u, byte %zu:\n%s - go:     %s%.400s\n"
                                " + cnatsd: %s%.400s", i + 1, d, ctx->str, from ? "..." : "",
                                a + from, from ? "..." : "", b + from);
      g_string_free(ctx, TRUE);
    }
  }
  if (g_test_verbose() || g_getenv("PARITY_SHOW")) {
    for (guint i = 0; i < mine->transcript->len; i++)
      g_test_message("%s", (char *)mine->transcript->pdata[i]);
  }
  if (ref)
    run_free(ref);
  run_free(mine);
  return failure;
}

/* GLib prints a g_test_fail_printf() message verbatim after "not ok": a multi-line message
 * would break the TAP stream (meson then reports an ERROR instead of the failure).  The
 * first line goes into the "not ok" line, the rest as "# " diagnostics before it. */
static void
fail_tap_safe(const char *msg)
{
  const char *nl = strchr(msg, '\n');
  if (!nl) {
    g_test_fail_printf("%s", msg);
    return;
  }
  g_auto(GStrv) lines = g_strsplit(nl + 1, "\n", -1);
  for (char **l = lines; *l; l++)
    g_test_message("%s", *l);
  g_test_fail_printf("%.*s", (int)(nl - msg), msg);
}

static void
test_scenario(gconstpointer data)
{
  const Scenario *sc = data;
  if (!sc->parse_error)
    for (guint i = 0; i < sc->requires->len; i++)
      if (!feature_enabled(sc->requires->pdata[i])) {
        g_autofree char *m = g_strdup_printf("requires '%s' (enable with PARITY_FEATURES=%s)",
                                             (char *)sc->requires->pdata[i],
                                             (char *)sc->requires->pdata[i]);
        g_test_skip(m);
        return;
      }
  g_autofree char *failure =
      sc->parse_error ? g_strdup(sc->parse_error) : scenario_failure(sc);
  if (!sc->must_fail) {
    if (failure)
      fail_tap_safe(failure);
    return;
  }
  /* Harness self-test (tests/parity/selftest): the failure itself is the expected result. */
  g_autofree char *pattern = NULL;
  if (!parse_regex_arg(sc->must_fail, &pattern))
    g_test_fail_printf("%s: must-fail needs /regex/", sc->path);
  else if (!failure)
    g_test_fail_printf("%s: scenario passed but must fail with %s", sc->path, sc->must_fail);
  else if (!g_regex_match_simple(pattern, failure, G_REGEX_DOTALL, 0))
  {
    g_autofree char *m = g_strdup_printf("%s: failed, but not with %s:\n%s", sc->path, sc->must_fail, failure);
    fail_tap_safe(m);
  }
}

static void
load_rows(const char *path)
{
  row_sections = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *txt = NULL;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(path, &txt, NULL, &err)) {
    g_printerr("parity: cannot read rows: %s\n", err->message);
    exit(1);
  }
  g_auto(GStrv) lines = g_strsplit(txt, "\n", -1);
  for (char **l = lines; *l; l++) {
    g_auto(GStrv) f = g_strsplit(*l, "\t", 3);
    if (g_strv_length(f) >= 2 && f[0][0] == 'R')
      g_hash_table_insert(row_sections, g_strdup(f[0]), g_strdup(f[1]));
  }
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
  signal(SIGPIPE, SIG_IGN);
  /* --section <slug>: register only that section's scenarios. (GLib 2.74's -p runs only the
   * tests exactly one level below the given path, so it cannot select a whole section.) */
  const char *only_section = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--section") == 0 && i + 1 < argc) {
      only_section = argv[i + 1];
      for (int k = i; k + 2 <= argc; k++)
        argv[k] = argv[k + 2];
      argc -= 2;
      i--;
    }
  }
  g_test_init(&argc, &argv, NULL);

  go_exe = g_getenv("NATS_SERVER");
  if (!go_exe)
    go_exe = "/usr/sbin/nats-server";
  cnatsd_exe = g_getenv("CNATSD");
  if (!cnatsd_exe) {
    g_printerr("parity: set CNATSD to the server under test (CNATSD=%s compares the reference "
               "with itself)\n", go_exe);
    return 1;
  }
  const char *fixtures = g_getenv("PARITY_FIXTURES");
  g_autofree char *fixtures_default = g_build_filename(PARITY_SRCDIR, "fixtures", "parity", NULL);
  if (!fixtures)
    fixtures = fixtures_default;
  const char *rows = g_getenv("PARITY_ROWS");
  g_autofree char *rows_default = g_build_filename(PARITY_SRCDIR, "spec", "parity.tsv", NULL);
  load_rows(rows ? rows : rows_default);

  g_autoptr(GError) err = NULL;
  g_autoptr(GDir) dir = g_dir_open(fixtures, 0, &err);
  if (!dir) {
    g_printerr("parity: %s\n", err->message);
    return 1;
  }
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(dir)))
    if (g_str_has_suffix(name, ".scn"))
      g_ptr_array_add(files, g_build_filename(fixtures, name, NULL));
  g_ptr_array_sort(files, cmp_str);

  g_autoptr(GPtrArray) scenarios = g_ptr_array_new_with_free_func(scenario_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < files->len; i++) {
    Scenario *sc = scenario_load(files->pdata[i]);
    g_ptr_array_add(scenarios, sc);
    g_autofree char *base = g_path_get_basename(sc->path);
    const char *row = sc->rows->len ? sc->rows->pdata[0] : "R000";
    const char *section = g_hash_table_lookup(row_sections, row);
    if (!sc->parse_error && !section)
      sc->parse_error = g_strdup_printf("%s: unknown row %s", sc->path, row);
    g_autofree char *slug = slugify(section ? section : "unknown");
    if (only_section && strcmp(only_section, slug) != 0) {
      g_ptr_array_remove(scenarios, sc);
      continue;
    }
    g_autofree char *nm = slugify(sc->name ? sc->name : base);
    sc->test_path = g_strdup_printf("/parity/%s/%s/%s", slug, row, nm);
    if (g_hash_table_contains(seen, sc->test_path)) {
      char *p = g_strdup_printf("%s-%s", sc->test_path, base);
      g_free(sc->test_path);
      sc->test_path = p;
      if (!sc->parse_error)
        sc->parse_error = g_strdup_printf("%s: duplicate test path (same row and name)", sc->path);
    }
    g_hash_table_add(seen, sc->test_path);
    g_test_add_data_func(sc->test_path, sc, test_scenario);
  }
  return g_test_run();
}
