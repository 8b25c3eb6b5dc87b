/* auth_parity.c — black-box parity tests for authentication and
 * authorization: each scenario runs against /usr/sbin/nats-server and
 * build/cnatsd started with the same config file, speaking raw protocol,
 * and the two transcripts (INFO auth fields, +OK/-ERR/MSG/PONG lines,
 * closed or not) must be equal.  Each scenario also asserts the expected
 * lines, so a transcript that merely agrees on nothing still fails.
 *
 * Usage: auth_parity <cnatsd> <fixtures/auth dir> [--tap]
 * Without /usr/sbin/nats-server the comparison is skipped (cnatsd is still
 * checked against the expected lines). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nkey.h"

#define GO_SERVER "/usr/sbin/nats-server"
#define IO_TIMEOUT_MS 3000

static const char *cnatsd_path;
static const char *fixtures_dir;
static bool have_go;

/* ---- servers --------------------------------------------------------------- */

typedef struct TestServer {
  GPid pid;
  int port;
  bool ours;   /* cnatsd: must exit cleanly (sanitizer builds report leaks at exit) */
  char *dir;   /* owned: ports file dir, also holds the server's log */
} TestServer;

static bool server_start(TestServer *ts, const char *binary, const char *conf, const char *const *extra) {
  memset(ts, 0, sizeof *ts);
  ts->dir = g_dir_make_tmp("authparity-XXXXXX", NULL);
  g_assert_nonnull(ts->dir);
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (char *)binary);
  const char *base[] = {"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", ts->dir};
  for (size_t i = 0; i < G_N_ELEMENTS(base); i++) g_ptr_array_add(argv, (char *)base[i]);
  if (conf) {
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, (char *)conf);
  }
  for (size_t i = 0; extra && extra[i]; i++) g_ptr_array_add(argv, (char *)extra[i]);
  g_ptr_array_add(argv, NULL);
  GError *err = NULL;
  ts->ours = strcmp(binary, GO_SERVER) != 0;
  g_autofree char *log_path = g_build_filename(ts->dir, "server.log", NULL);
  int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  gboolean ok = g_spawn_async_with_fds(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                      &ts->pid, -1, logfd, logfd, &err);
  close(logfd);
  g_ptr_array_free(argv, TRUE);
  if (!ok) {
    g_test_message("spawn %s: %s", binary, err->message);
    g_error_free(err);
    return false;
  }
  for (int i = 0; i < 200; i++) {
    GDir *d = g_dir_open(ts->dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
      if (!g_str_has_suffix(name, ".ports")) continue;
      g_autofree char *path = g_build_filename(ts->dir, name, NULL);
      g_autofree char *text = NULL;
      if (!g_file_get_contents(path, &text, NULL, NULL)) continue;
      g_autoptr(JsonParser) p = json_parser_new();
      if (!json_parser_load_from_data(p, text, -1, NULL)) continue;
      JsonNode *root = json_parser_get_root(p);  /* NULL while the file is still empty */
      if (!root || !JSON_NODE_HOLDS_OBJECT(root)) continue;
      JsonObject *o = json_node_get_object(root);
      JsonNode *nats = json_object_get_member(o, "nats");
      if (!nats || !JSON_NODE_HOLDS_ARRAY(nats)) continue;
      JsonArray *a = json_node_get_array(nats);
      if (!a || json_array_get_length(a) == 0) continue;
      const char *url = json_array_get_string_element(a, 0);
      const char *colon = strrchr(url, ':');
      ts->port = atoi(colon + 1);
    }
    if (d) g_dir_close(d);
    if (ts->port) return true;
    int status;
    if (waitpid(ts->pid, &status, WNOHANG) == ts->pid) {
      g_test_message("%s exited at startup", binary);
      ts->pid = 0;
      return false;
    }
    g_usleep(25000);
  }
  return false;
}

/* Stops the server; for cnatsd, returns false unless it exited 0 on SIGINT
 * (an ASan/UBSan report makes it exit non-zero); its log is then printed. */
static bool server_stop(TestServer *ts) {
  bool clean = true;
  if (ts->pid > 0) {
    kill(ts->pid, SIGINT);
    int status = 0;
    pid_t r = 0;
    for (int i = 0; i < 200 && (r = waitpid(ts->pid, &status, WNOHANG)) == 0; i++) g_usleep(25000);
    if (r == 0) {
      kill(ts->pid, SIGKILL);
      waitpid(ts->pid, &status, 0);
      clean = false;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      clean = false;
    }
    g_spawn_close_pid(ts->pid);
    if (!clean && ts->ours) {
      g_autofree char *log_path = g_build_filename(ts->dir, "server.log", NULL);
      g_autofree char *log = NULL;
      if (g_file_get_contents(log_path, &log, NULL, NULL)) g_test_message("cnatsd did not exit cleanly:\n%s", log);
    }
  }
  if (ts->dir) {
    GDir *d = g_dir_open(ts->dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
      g_autofree char *p = g_build_filename(ts->dir, name, NULL);
      g_unlink(p);
    }
    if (d) g_dir_close(d);
    g_rmdir(ts->dir);
    g_free(ts->dir);
  }
  bool ours = ts->ours;
  memset(ts, 0, sizeof *ts);
  return clean || !ours;
}

/* ---- raw connections ------------------------------------------------------- */

typedef struct Conn {
  int fd;
  GString *in;        /* unread bytes */
  GString *log;       /* transcript */
  bool closed;
  char nonce[64];
} Conn;

static bool conn_read_some(Conn *c, int timeout_ms) {
  struct pollfd p = {.fd = c->fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[8192];
  ssize_t n = read(c->fd, buf, sizeof buf);
  if (n <= 0) {
    c->closed = true;
    return false;
  }
  g_string_append_len(c->in, buf, n);
  return true;
}

/* Takes one line from c->in into the transcript (INFO reduced to its auth
 * fields; MSG payloads kept). Returns the line (transfer full) or NULL. */
static char *conn_take_line(Conn *c) {
  char *nl = strstr(c->in->str, "\r\n");
  if (!nl) return NULL;
  char *line = g_strndup(c->in->str, (gsize)(nl - c->in->str));
  g_string_erase(c->in, 0, nl - c->in->str + 2);
  if (g_str_has_prefix(line, "INFO ")) {
    g_autoptr(JsonParser) p = json_parser_new();
    bool auth = false;
    const char *nonce = NULL;
    if (json_parser_load_from_data(p, line + 5, -1, NULL) && json_parser_get_root(p) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
      JsonObject *o = json_node_get_object(json_parser_get_root(p));
      auth = json_object_has_member(o, "auth_required") && json_object_get_boolean_member(o, "auth_required");
      if (json_object_has_member(o, "nonce")) nonce = json_object_get_string_member(o, "nonce");
    }
    if (nonce) g_strlcpy(c->nonce, nonce, sizeof c->nonce);
    g_string_append_printf(c->log, "INFO auth_required=%d nonce=%s\n", auth, nonce ? "yes" : "no");
  } else {
    g_string_append_printf(c->log, "%s\n", line);
  }
  return line;
}

static Conn *conn_open(int port) {
  Conn *c = g_new0(Conn, 1);
  c->in = g_string_new(NULL);
  c->log = g_string_new(NULL);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  g_assert_cmpint(connect(c->fd, (struct sockaddr *)&a, sizeof a), ==, 0);
  /* wait for INFO */
  while (!strstr(c->in->str, "\r\n") && conn_read_some(c, IO_TIMEOUT_MS)) {
  }
  g_free(conn_take_line(c));
  return c;
}

static void conn_free(Conn *c) {
  close(c->fd);
  g_string_free(c->in, TRUE);
  g_string_free(c->log, TRUE);
  g_free(c);
}

static void conn_send(Conn *c, const char *text) {
  size_t len = strlen(text);
  while (len > 0) {
    ssize_t n = write(c->fd, text, len);
    if (n <= 0) return;
    text += n;
    len -= (size_t)n;
  }
}

/* Sends text + PING and records everything up to the PONG (or the close). */
static void conn_sync(Conn *c, const char *text) {
  g_autofree char *t = g_strconcat(text, "PING\r\n", NULL);
  conn_send(c, t);
  for (;;) {
    char *line;
    while ((line = conn_take_line(c))) {
      bool pong = strcmp(line, "PONG") == 0;
      g_free(line);
      if (pong) return;
    }
    if (!conn_read_some(c, IO_TIMEOUT_MS)) break;
  }
  while (conn_take_line(c)) {
  }
  if (c->closed) g_string_append(c->log, "<closed>\n");
}

/* Sends text and records everything until the server closes (or timeout_ms). */
static void conn_until_close(Conn *c, const char *text, int timeout_ms) {
  if (text) conn_send(c, text);
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (!c->closed && g_get_monotonic_time() < end) {
    conn_read_some(c, 100);
    g_free(conn_take_line(c));
  }
  char *line;
  while ((line = conn_take_line(c))) g_free(line);
  g_string_append(c->log, c->closed ? "<closed>\n" : "<open>\n");
}

/* ---- scenarios ------------------------------------------------------------- */

typedef struct Ctx {
  TestServer srv;
  GString *out;      /* whole transcript, connection by connection */
} Ctx;

typedef void (*ScenarioFn)(Ctx *ctx, const void *data);

typedef struct Scenario {
  const char *path;
  const char *conf;             /* fixture file name, or NULL for data-provided */
  const char *const *args;      /* extra server args */
  ScenarioFn fn;
  const void *data;
  const char *const *expect;    /* substrings the cnatsd transcript must hold, in order */
  const char *const *reject;    /* substrings it must not hold */
  char *(*make_conf)(void);     /* writes a runtime config, returns its path */
} Scenario;

static void add_log(Ctx *ctx, const char *name, Conn *c) {
  g_string_append_printf(ctx->out, "[%s]\n%s", name, c->log->str);
}

/* One connection: a list of (text, mode) steps. */
typedef struct Step {
  int conn;            /* 0..3 */
  const char *text;
  int mode;            /* 0 sync (PING/PONG), 1 until close, 2 send only then sleep */
  int wait_ms;
} Step;

static void run_steps(Ctx *ctx, const void *data) {
  const Step *steps = data;
  Conn *conns[4] = {0};
  for (const Step *s = steps; s->text || s->mode; s++) {
    if (!conns[s->conn]) conns[s->conn] = conn_open(ctx->srv.port);
    Conn *c = conns[s->conn];
    switch (s->mode) {
      case 0: conn_sync(c, s->text); break;
      case 1: conn_until_close(c, s->text, s->wait_ms ? s->wait_ms : IO_TIMEOUT_MS); break;
      case 2:
        conn_send(c, s->text);
        g_usleep((gulong)s->wait_ms * 1000);
        break;
    }
  }
  for (int i = 0; i < 4; i++) {
    if (!conns[i]) continue;
    char name[8];
    snprintf(name, sizeof name, "c%d", i);
    add_log(ctx, name, conns[i]);
    conn_free(conns[i]);
  }
}

static char *run_scenario(const Scenario *sc, const char *binary, const char *conf) {
  Ctx ctx = {.out = g_string_new(NULL)};
  if (!server_start(&ctx.srv, binary, conf, sc->args)) {
    server_stop(&ctx.srv);
    g_string_free(ctx.out, TRUE);
    return NULL;
  }
  sc->fn(&ctx, sc->data);
  bool clean = server_stop(&ctx.srv);
  if (!clean) g_string_append(ctx.out, "<server did not exit cleanly>\n");
  return g_string_free(ctx.out, FALSE);
}

static void test_scenario(gconstpointer data) {
  const Scenario *sc = data;
  g_autofree char *conf = NULL;
  if (sc->make_conf) conf = sc->make_conf();
  else if (sc->conf) conf = g_build_filename(fixtures_dir, sc->conf, NULL);
  g_autofree char *ours = run_scenario(sc, cnatsd_path, conf);
  g_assert_nonnull(ours);
  g_test_message("cnatsd:\n%s", ours);
  const char *from = ours;
  for (size_t i = 0; sc->expect && sc->expect[i]; i++) {
    const char *hit = strstr(from, sc->expect[i]);
    if (!hit) g_test_message("missing (in order): %s", sc->expect[i]);
    g_assert_nonnull(hit);
    from = hit + strlen(sc->expect[i]);
  }
  for (size_t i = 0; sc->reject && sc->reject[i]; i++) {
    if (strstr(ours, sc->reject[i])) g_test_message("unexpected: %s", sc->reject[i]);
    g_assert_null(strstr(ours, sc->reject[i]));
  }
  g_assert_null(strstr(ours, "<server did not exit cleanly>"));
  if (have_go) {
    g_autofree char *theirs = run_scenario(sc, GO_SERVER, conf);
    g_assert_nonnull(theirs);
    if (strcmp(ours, theirs) != 0) g_test_message("nats-server:\n%s", theirs);
    g_assert_cmpstr(ours, ==, theirs);
  }
  if (sc->make_conf && conf) g_unlink(conf);
}

/* ---- nkeys ----------------------------------------------------------------- */

static NkeyPair nkey_user, nkey_other;

static char *nkey_conf(void) {
  g_autofree char *text = g_strdup_printf(
      "authorization {\n  users = [\n    {nkey: %s}\n    {user: pwuser, password: pw}\n  ]\n}\n",
      nkey_user.encoded_public);
  char *path = NULL;
  int fd = g_file_open_tmp("authparity-nkey-XXXXXX.conf", &path, NULL);
  g_assert_cmpint(fd, >=, 0);
  close(fd);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

typedef struct NkeyCase {
  NkeyPair *key;      /* key whose public part goes in CONNECT */
  NkeyPair *signer;   /* key that signs (NULL: no sig) */
  bool corrupt;       /* sign something else */
  bool std_base64;    /* padded standard base64 instead of raw url */
} NkeyCase;

static void run_nkey(Ctx *ctx, const void *data) {
  const NkeyCase *nc = data;
  Conn *c = conn_open(ctx->srv.port);
  GString *connect = g_string_new("CONNECT {\"verbose\":true,\"nkey\":\"");
  g_string_append(connect, nc->key->encoded_public);
  g_string_append(connect, "\"");
  if (nc->signer) {
    uint8_t sig[crypto_sign_BYTES];
    const char *msg = nc->corrupt ? "not-the-nonce" : c->nonce;
    crypto_sign_detached(sig, NULL, (const uint8_t *)msg, strlen(msg), nc->signer->secret_key);
    char b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, sig, sizeof sig,
                      nc->std_base64 ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    g_string_append_printf(connect, ",\"sig\":\"%s\"", b64);
  }
  g_string_append(connect, "}\r\n");
  conn_sync(c, connect->str);
  g_string_free(connect, TRUE);
  if (!c->closed) conn_sync(c, "SUB nk.x 1\r\nPUB nk.x 2\r\nhi\r\n");
  add_log(ctx, "c0", c);
  conn_free(c);
}

static const NkeyCase nk_ok = {&nkey_user, &nkey_user, false, false};
static const NkeyCase nk_std = {&nkey_user, &nkey_user, false, true};
static const NkeyCase nk_bad_sig = {&nkey_user, &nkey_other, false, false};
static const NkeyCase nk_wrong_msg = {&nkey_user, &nkey_user, true, false};
static const NkeyCase nk_no_sig = {&nkey_user, NULL, false, false};
static const NkeyCase nk_unknown = {&nkey_other, &nkey_other, false, false};

/* ---- step tables ----------------------------------------------------------- */

#define STEPS(...) ((const Step[]){__VA_ARGS__, {0, NULL, 0, 0}})
#define STRS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define SYNC(conn, text) {conn, text, 0, 0}
#define CLOSE(conn, text) {conn, text, 1, 0}
#define CLOSE_WAIT(conn, text, ms) {conn, text, 1, ms}

/* 200 allowed and 100 denied distinct subjects: more than the 128-entry
 * publish cache holds, so it must prune and still answer the same. */
static char many_pubs[300 * 24];

static const char *const cli_userpass[] = {"--user", "cliuser", "--pass", "clipass", NULL};
static const char *const cli_token[] = {"--auth", "clitoken", NULL};

static const Scenario scenarios[] = {
    /* R094 token */
    {"/parity/authentication-authorization/R094/token-ok", "token.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"verbose\":true,\"auth_token\":\"s3cr3t\"}\r\n")),
     STRS("INFO auth_required=1 nonce=no", "+OK", "PONG"), STRS("-ERR"), NULL},
    {"/parity/authentication-authorization/R094/token-bad", "token.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"verbose\":true,\"auth_token\":\"nope\"}\r\n")),
     STRS("-ERR 'Authorization Violation'", "<closed>"), STRS("+OK"), NULL},
    {"/parity/authentication-authorization/R094/token-missing", "token.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"verbose\":true}\r\n")), STRS("-ERR 'Authorization Violation'", "<closed>"), NULL,
     NULL},
    {"/parity/authentication-authorization/R094/op-before-connect", "token.conf", NULL, run_steps,
     STEPS(CLOSE(0, "PING\r\n")), STRS("-ERR 'Authorization Violation'", "<closed>"), STRS("PONG"), NULL},
    {"/parity/authentication-authorization/R094/cli-auth", NULL, cli_token, run_steps,
     STEPS(SYNC(0, "CONNECT {\"auth_token\":\"clitoken\"}\r\n"), CLOSE(1, "CONNECT {\"auth_token\":\"x\"}\r\n")),
     STRS("[c0]", "INFO auth_required=1", "PONG", "[c1]", "-ERR 'Authorization Violation'", "<closed>"), NULL,
     NULL},
    /* R093 user/password */
    {"/parity/authentication-authorization/R093/single-user-ok", "single_user.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"verbose\":true,\"user\":\"derek\",\"pass\":\"porkchop\"}\r\n")),
     STRS("INFO auth_required=1", "+OK", "PONG"), STRS("-ERR"), NULL},
    {"/parity/authentication-authorization/R093/single-user-bad-pass", "single_user.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"user\":\"derek\",\"pass\":\"x\"}\r\n")),
     STRS("-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    {"/parity/authentication-authorization/R093/single-user-bad-user", "single_user.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"user\":\"x\",\"pass\":\"porkchop\"}\r\n")),
     STRS("-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    {"/parity/authentication-authorization/R093/users-ok", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"verbose\":true,\"user\":\"alice\",\"pass\":\"wonderland\"}\r\n")),
     STRS("+OK", "PONG"), STRS("-ERR"), NULL},
    {"/parity/authentication-authorization/R093/users-bad-pass", "users.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"user\":\"alice\",\"pass\":\"wonderlan\"}\r\n")),
     STRS("-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    {"/parity/authentication-authorization/R093/users-unknown", "users.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"user\":\"mallory\",\"pass\":\"wonderland\"}\r\n")),
     STRS("-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    {"/parity/authentication-authorization/R093/users-no-credentials", "users.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {}\r\n")), STRS("-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    {"/parity/authentication-authorization/R093/cli-user-pass", NULL, cli_userpass, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"cliuser\",\"pass\":\"clipass\"}\r\n"),
           CLOSE(1, "CONNECT {\"user\":\"cliuser\",\"pass\":\"nope\"}\r\n")),
     STRS("[c0]", "PONG", "[c1]", "-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    {"/parity/authentication-authorization/R093/account-in-connect", "users.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"user\":\"alice\",\"pass\":\"wonderland\",\"account\":\"A\"}\r\n")),
     STRS("-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    /* R097 bcrypt */
    {"/parity/authentication-authorization/R097/bcrypt-ok", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"verbose\":true,\"user\":\"bob\",\"pass\":\"builder\"}\r\n")), STRS("+OK", "PONG"),
     STRS("-ERR"), NULL},
    {"/parity/authentication-authorization/R097/bcrypt-bad", "users.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"user\":\"bob\",\"pass\":\"builder2\"}\r\n")),
     STRS("-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    {"/parity/authentication-authorization/R097/bcrypt-hash-as-password", "users.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"user\":\"bob\",\"pass\":\"$2a$04$chIhHqF4M40q9NGN8sHpEu97ZPMbFoOYIrZSw.QDGzuQPsg9."
                    "jDeC\"}\r\n")),
     STRS("-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    {"/parity/authentication-authorization/R097/bcrypt-token", "bcrypt_token.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"auth_token\":\"builder\"}\r\n"), CLOSE(1, "CONNECT {\"auth_token\":\"x\"}\r\n")),
     STRS("[c0]", "PONG", "[c1]", "-ERR 'Authorization Violation'", "<closed>"), NULL, NULL},
    /* R095 nkeys */
    {"/parity/authentication-authorization/R095/nkey-ok", NULL, NULL, run_nkey, &nk_ok,
     STRS("INFO auth_required=1 nonce=yes", "+OK", "PONG", "MSG nk.x 1 2", "hi"), STRS("-ERR"), nkey_conf},
    {"/parity/authentication-authorization/R095/nkey-std-base64-sig", NULL, NULL, run_nkey, &nk_std,
     STRS("nonce=yes", "+OK", "PONG"), STRS("-ERR"), nkey_conf},
    {"/parity/authentication-authorization/R095/nkey-wrong-signer", NULL, NULL, run_nkey, &nk_bad_sig,
     STRS("nonce=yes", "-ERR 'Authorization Violation'", "<closed>"), STRS("+OK"), nkey_conf},
    {"/parity/authentication-authorization/R095/nkey-signed-other-data", NULL, NULL, run_nkey, &nk_wrong_msg,
     STRS("-ERR 'Authorization Violation'", "<closed>"), STRS("+OK"), nkey_conf},
    {"/parity/authentication-authorization/R095/nkey-no-sig", NULL, NULL, run_nkey, &nk_no_sig,
     STRS("-ERR 'Authorization Violation'", "<closed>"), STRS("+OK"), nkey_conf},
    {"/parity/authentication-authorization/R095/nkey-unknown", NULL, NULL, run_nkey, &nk_unknown,
     STRS("-ERR 'Authorization Violation'", "<closed>"), STRS("+OK"), nkey_conf},
    {"/parity/authentication-authorization/R095/no-nonce-without-nkeys", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"alice\",\"pass\":\"wonderland\"}\r\n")), STRS("nonce=no", "PONG"), NULL,
     NULL},
    /* R301 auth timeout */
    {"/parity/client-connection-handling/R301/auth-timeout", "timeout.conf", NULL, run_steps,
     STEPS(CLOSE_WAIT(0, NULL, 2500)), STRS("INFO auth_required=1", "-ERR 'Authentication Timeout'", "<closed>"),
     NULL, NULL},
    {"/parity/client-connection-handling/R301/connect-in-time", "timeout.conf", NULL, run_steps,
     STEPS({0, "", 2, 300}, SYNC(0, "CONNECT {\"auth_token\":\"t\"}\r\n"), CLOSE_WAIT(0, NULL, 1500)),
     STRS("PONG", "<open>"), STRS("Timeout"), NULL},
    {"/parity/client-connection-handling/R301/no-timer-without-auth", NULL, NULL, run_steps,
     STEPS(CLOSE_WAIT(0, NULL, 2600)), STRS("INFO auth_required=0", "<open>"), STRS("-ERR"), NULL},
    /* R307 no_auth_user */
    {"/parity/authentication-authorization/R307/no-auth-user-connect", "no_auth_user.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"verbose\":true}\r\nSUB foo 1\r\nSUB bar 2\r\nPUB foo 1\r\na\r\n")),
     STRS("INFO auth_required=0", "+OK", "-ERR 'Permissions Violation for Subscription to \"bar\"'", "MSG foo 1 1"),
     NULL, NULL},
    {"/parity/authentication-authorization/R307/no-auth-user-without-connect", "no_auth_user.conf", NULL, run_steps,
     STEPS(SYNC(0, "SUB foo 1\r\nPUB foo 1\r\na\r\n")), STRS("MSG foo 1 1", "a"), STRS("-ERR"), NULL},
    {"/parity/authentication-authorization/R307/no-auth-user-other-users-still-checked", "no_auth_user.conf", NULL,
     run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"admin\",\"pass\":\"adminpw\"}\r\nSUB bar 1\r\n"),
           CLOSE(1, "CONNECT {\"user\":\"admin\",\"pass\":\"x\"}\r\n")),
     STRS("[c0]", "PONG", "[c1]", "-ERR 'Authorization Violation'", "<closed>"), STRS("Permissions"), NULL},
    {"/parity/authentication-authorization/R307/system-account-only-users", "sys_only.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"verbose\":true}\r\nSUB s 1\r\n"), SYNC(1, "PUB s 1\r\nx\r\n"),
           SYNC(2, "CONNECT {\"user\":\"admin\",\"pass\":\"s\"}\r\nPUB s 1\r\ny\r\n"), SYNC(0, ""),
           CLOSE(3, "CONNECT {\"user\":\"admin\",\"pass\":\"x\"}\r\n")),
     STRS("[c0]", "INFO auth_required=1", "+OK", "MSG s 1 1", "x", "[c1]", "[c2]", "[c3]",
          "-ERR 'Authorization Violation'"),
     STRS("\ny\n"), NULL},
    {"/parity/authentication-authorization/R307/system-account-with-other-accounts", "sys_plus.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {}\r\n"), SYNC(1, "CONNECT {\"user\":\"b\",\"pass\":\"b\"}\r\n")),
     STRS("[c0]", "-ERR 'Authorization Violation'", "<closed>", "[c1]", "PONG"), NULL, NULL},
    /* R104 / R105 accounts */
    {"/parity/authentication-authorization/R104/account-isolation", "accounts.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"a1\",\"pass\":\"pw\"}\r\nSUB iso 1\r\n"),
           SYNC(1, "CONNECT {\"user\":\"b1\",\"pass\":\"pw\"}\r\nSUB iso 1\r\n"),
           SYNC(2, "CONNECT {\"user\":\"a2\",\"pass\":\"pw\"}\r\nPUB iso 4\r\nfrmA\r\n"), SYNC(0, ""), SYNC(1, "")),
     STRS("[c0]", "MSG iso 1 4", "frmA", "[c1]", "[c2]"), STRS("[c1]\nPONG\nMSG"), NULL},
    {"/parity/authentication-authorization/R104/account-isolation-reverse", "accounts.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"a1\",\"pass\":\"pw\"}\r\nSUB > 1\r\n"),
           SYNC(1, "CONNECT {\"user\":\"b1\",\"pass\":\"pw\"}\r\nPUB iso 4\r\nfrmB\r\n"), SYNC(0, "")),
     STRS("[c0]", "PONG", "PONG", "[c1]"), STRS("frmB"), NULL},
    {"/parity/authentication-authorization/R105/global-account-users", "accounts.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"g1\",\"pass\":\"pw\"}\r\nSUB iso 1\r\n"),
           SYNC(1, "CONNECT {\"user\":\"a1\",\"pass\":\"pw\"}\r\nPUB iso 1\r\nA\r\n"),
           SYNC(2, "CONNECT {\"user\":\"g2\",\"pass\":\"pw\"}\r\nPUB iso 1\r\nG\r\n"), SYNC(0, "")),
     STRS("[c0]", "MSG iso 1 1", "G"), STRS("\nA\n"), NULL},
    {"/parity/authentication-authorization/R105/account-user-wrong-pass", "accounts.conf", NULL, run_steps,
     STEPS(CLOSE(0, "CONNECT {\"user\":\"b1\",\"pass\":\"x\"}\r\n")), STRS("-ERR 'Authorization Violation'"), NULL,
     NULL},
    /* R107 / R108 account limits */
    {"/parity/authentication-authorization/R107/account-max-connections", "accounts.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"l1\",\"pass\":\"pw\"}\r\n"),
           CLOSE(1, "CONNECT {\"user\":\"l2\",\"pass\":\"pw\"}\r\n"),
           SYNC(2, "CONNECT {\"user\":\"a1\",\"pass\":\"pw\"}\r\n")),
     STRS("[c0]", "PONG", "[c1]", "-ERR 'maximum account active connections exceeded'", "<closed>", "[c2]", "PONG"),
     NULL, NULL},
    {"/parity/authentication-authorization/R108/account-max-subscriptions", "accounts.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"l1\",\"pass\":\"pw\"}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\n"),
           SYNC(0, "PUB b 1\r\nx\r\nPUB c 1\r\ny\r\n")),
     STRS("-ERR 'maximum subscriptions exceeded'", "PONG", "MSG b 2 1", "PONG"), STRS("MSG c"), NULL},
    {"/parity/authentication-authorization/R108/account-max-payload", "accounts.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"p1\",\"pass\":\"pw\"}\r\nSUB m 1\r\nPUB m 8\r\n12345678\r\n"),
           CLOSE(0, "PUB m 9\r\n123456789\r\n")),
     STRS("MSG m 1 8", "12345678", "PONG", "-ERR 'Maximum Payload Violation'", "<closed>"), STRS("123456789"), NULL},
    /* R110–R113 permissions */
    {"/parity/authentication-authorization/R110/publish-allow", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"limited\",\"pass\":\"pw\"}\r\nSUB foo.* 1\r\nPUB foo.ok 1\r\ny\r\nPUB req 1\r\n"
                   "z\r\nPUB other 1\r\nw\r\nPUB foo 1\r\nv\r\n"),
           SYNC(0, "PUB foo.ok 2\r\nok\r\n")),
     STRS("MSG foo.ok 1 1", "-ERR 'Permissions Violation for Publish to \"other\"'",
          "-ERR 'Permissions Violation for Publish to \"foo\"'", "PONG", "MSG foo.ok 1 2", "PONG"),
     STRS("<closed>"), NULL},
    {"/parity/authentication-authorization/R111/subscribe-allow", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"limited\",\"pass\":\"pw\"}\r\nSUB foo.* 1\r\nSUB bar 2\r\nSUB baz 3\r\n"
                   "SUB foo.> 4\r\nSUB foo.a.b 5\r\nSUB > 6\r\nPUB bar 0\r\n\r\n")),
     STRS("-ERR 'Permissions Violation for Subscription to \"baz\"'",
          "-ERR 'Permissions Violation for Subscription to \"foo.a.b\"'",
          "-ERR 'Permissions Violation for Subscription to \">\"'", "PONG"),
     STRS("<closed>"), NULL},
    {"/parity/authentication-authorization/R111/subscribe-queue-allow", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"verbose\":true,\"user\":\"limited\",\"pass\":\"pw\"}\r\nSUB q.x v1 1\r\nSUB q.x v2 2\r\nSUB q.x 3\r\n"
                   "SUB bar grp 4\r\n")),
     STRS("+OK", "-ERR 'Permissions Violation for Subscription to \"q.x\" using queue \"v2\"'",
          "-ERR 'Permissions Violation for Subscription to \"q.x\"'", "+OK", "PONG"),
     STRS("<closed>", "\"bar\""), NULL},
    {"/parity/authentication-authorization/R112/publish-deny", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"limited\",\"pass\":\"pw\"}\r\nSUB foo.* 1\r\nPUB foo.secret 1\r\nx\r\n"
                   "PUB foo.open 1\r\ny\r\n")),
     STRS("-ERR 'Permissions Violation for Publish to \"foo.secret\"'", "MSG foo.open 1 1"), STRS("foo.secret 1 1"),
     NULL},
    {"/parity/authentication-authorization/R112/deny-only", "deny.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"d\",\"pass\":\"pw\"}\r\nSUB > 1\r\nPUB a.b 1\r\nx\r\nPUB secret.x 1\r\ny\r\n"
                   "SUB secret.x 2\r\nSUB priv.y 3\r\nSUB a.b 4\r\n")),
     STRS("MSG a.b 1 1", "-ERR 'Permissions Violation for Publish to \"secret.x\"'",
          "-ERR 'Permissions Violation for Subscription to \"priv.y\"'", "PONG"),
     STRS("<closed>"), NULL},
    {"/parity/authentication-authorization/R113/subscribe-deny", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"limited\",\"pass\":\"pw\"}\r\nSUB foo.hidden 1\r\nSUB foo.shown 2\r\n"
                   "PUB foo.shown 1\r\ns\r\n")),
     STRS("-ERR 'Permissions Violation for Subscription to \"foo.hidden\"'", "MSG foo.shown 2 1"), NULL, NULL},
    {"/parity/authentication-authorization/R113/subscribe-deny-queue", "deny.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"d\",\"pass\":\"pw\"}\r\nSUB jobs bad 1\r\nSUB jobs good 2\r\nSUB jobs 3\r\n")),
     STRS("-ERR 'Permissions Violation for Subscription to \"jobs\" using queue \"bad\"'", "PONG"),
     STRS("using queue \"good\"", "to \"jobs\"'\n"), NULL},
    /* R114 deny at delivery for wildcard subscriptions */
    {"/parity/authentication-authorization/R114/deliver-deny-wildcard", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"limited\",\"pass\":\"pw\"}\r\nSUB foo.* 1\r\n"),
           SYNC(1, "CONNECT {\"user\":\"alice\",\"pass\":\"wonderland\"}\r\nPUB foo.hidden 1\r\nh\r\n"
                   "PUB foo.seen 1\r\ns\r\n"),
           SYNC(0, "")),
     STRS("[c0]", "MSG foo.seen 1 1", "s"), STRS("foo.hidden 1"), NULL},
    {"/parity/authentication-authorization/R114/deliver-deny-full-wildcard", "deny.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"d\",\"pass\":\"pw\"}\r\nSUB > 1\r\n"),
           SYNC(1, "CONNECT {\"user\":\"open\",\"pass\":\"pw\"}\r\nPUB priv.y 1\r\nh\r\nPUB pub.y 1\r\ns\r\n"),
           SYNC(0, "")),
     STRS("[c0]", "MSG pub.y 1 1"), STRS("MSG priv.y"), NULL},
    /* R115: more distinct subjects than the cache holds, verdicts unchanged */
    {"/parity/authentication-authorization/R115/permission-cache-prune", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"limited\",\"pass\":\"pw\"}\r\nSUB foo.* 1\r\n"),
           SYNC(0, "PUB foo.secret 0\r\n\r\n"),
           SYNC(0, many_pubs),
           SYNC(0, "PUB foo.secret 0\r\n\r\nPUB foo.ok 0\r\n\r\n")),
     STRS("-ERR 'Permissions Violation for Publish to \"foo.secret\"'", "MSG foo.0 1 0", "MSG foo.199 1 0",
          "-ERR 'Permissions Violation for Publish to \"x.99\"'",
          "-ERR 'Permissions Violation for Publish to \"foo.secret\"'", "MSG foo.ok 1 0"),
     NULL, NULL},
    /* R110: prefixes clients may not use, with or without permissions */
    {"/parity/authentication-authorization/R110/reserved-subjects-and-replies", NULL, NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"verbose\":true}\r\nSUB > 1\r\nPUB _GR_.x 1\r\na\r\nPUB foo _R_.abc 1\r\nb\r\n"
                   "PUB foo $JS.ACK.x 1\r\nc\r\nPUB foo $JS.ACK. 1\r\nd\r\nPUB foo _R_x 1\r\ne\r\n"
                   "PUB foo _R_. 1\r\nf\r\nPUB _GR_ 1\r\ng\r\n")),
     STRS("-ERR 'Permissions Violation for Publish to \"_GR_.x\"'",
          "-ERR 'Permissions Violation for Publish with Reply of \"_R_.abc\"'",
          "-ERR 'Permissions Violation for Publish with Reply of \"$JS.ACK.x\"'", "MSG foo 1 $JS.ACK. 1",
          "MSG foo 1 _R_x 1", "-ERR 'Permissions Violation for Publish with Reply of \"_R_.\"'", "MSG _GR_ 1 1"),
     STRS("\na\n", "\nb\n", "\nc\n", "\nf\n"), NULL},
    /* R116 allow_responses */
    {"/parity/authentication-authorization/R116/allow-responses-once", "users.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"responder\",\"pass\":\"pw\"}\r\nSUB req 1\r\n"),
           SYNC(1, "CONNECT {\"user\":\"alice\",\"pass\":\"wonderland\"}\r\nSUB _INBOX.r1 9\r\nPUB req _INBOX.r1 1\r\n"
                   "q\r\n"),
           SYNC(0, "PUB _INBOX.r1 1\r\na\r\nPUB _INBOX.r1 1\r\nb\r\nPUB _INBOX.other 1\r\nc\r\n"), SYNC(1, "")),
     STRS("[c0]", "MSG req 1 _INBOX.r1 1", "-ERR 'Permissions Violation for Publish to \"_INBOX.r1\"'",
          "-ERR 'Permissions Violation for Publish to \"_INBOX.other\"'", "[c1]", "MSG _INBOX.r1 9 1", "a"),
     STRS("\nb\n"), NULL},
    {"/parity/authentication-authorization/R116/allow-responses-max", "responses.conf", NULL, run_steps,
     STEPS(SYNC(0, "CONNECT {\"user\":\"svc\",\"pass\":\"pw\"}\r\nSUB req 1\r\n"),
           SYNC(1, "CONNECT {\"user\":\"cli\",\"pass\":\"pw\"}\r\nSUB r.1 9\r\nPUB req r.1 1\r\nq\r\n"),
           SYNC(0, "PUB r.1 1\r\na\r\nPUB r.1 1\r\nb\r\nPUB r.1 1\r\nc\r\nPUB other 1\r\nd\r\n"), SYNC(1, "")),
     STRS("[c0]", "-ERR 'Permissions Violation for Publish to \"r.1\"'",
          "-ERR 'Permissions Violation for Publish to \"other\"'", "[c1]", "MSG r.1 9 1", "a", "MSG r.1 9 1", "b"),
     STRS("\nc\n"), NULL},
};

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  if (argc < 3) {
    g_printerr("usage: %s CNATSD FIXTURES_DIR\n", argv[0]);
    return 2;
  }
  cnatsd_path = argv[1];
  fixtures_dir = argv[2];
  signal(SIGPIPE, SIG_IGN);
  if (sodium_init() < 0) return 1;
  nkey_pair_create(&nkey_user, NKEY_PREFIX_USER);
  nkey_pair_create(&nkey_other, NKEY_PREFIX_USER);
  GString *mp = g_string_new(NULL);
  for (int i = 0; i < 200; i++) g_string_append_printf(mp, "PUB foo.%d 0\r\n\r\n", i);
  for (int i = 0; i < 100; i++) g_string_append_printf(mp, "PUB x.%d 0\r\n\r\n", i);
  g_assert_cmpuint(mp->len, <, sizeof many_pubs);
  memcpy(many_pubs, mp->str, mp->len + 1);
  g_string_free(mp, TRUE);
  have_go = g_file_test(GO_SERVER, G_FILE_TEST_IS_EXECUTABLE);
  if (!have_go) g_test_message("no %s: checking cnatsd against expectations only", GO_SERVER);
  for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++)
    g_test_add_data_func(scenarios[i].path, &scenarios[i], test_scenario);
  return g_test_run();
}
