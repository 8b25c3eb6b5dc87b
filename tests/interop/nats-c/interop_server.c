/* interop_server: process control for the nats-c interop suite.
 *
 * Runs in the test's main thread only. Each test starts its own server with
 * `-a 127.0.0.1 -p <port|-1> --ports_file_dir <tmp>` and learns the real port
 * from the ports file `<tmp>/<exe-basename>_<pid>.ports`, the file both
 * nats-server and cnatsd write once their listeners are up. The same flags are
 * used for both servers so a difference in behaviour is a parity bug, not a
 * harness artefact. Children get PDEATHSIG so a crashed test leaves no server.
 */
#include "interop_server.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

const char *
interop_server_bin(void)
{
  const char *b = g_getenv("NATS_SERVER_BIN");
  return (b && *b) ? b : "/usr/sbin/nats-server";
}

static void
child_setup(gpointer data)
{
  /* Die with the test so an aborted test does not leak servers. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Parse the ports file; nats-server uses key "nats", accept "client" too. */
static int
parse_ports_file(const char *path)
{
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_file(p, path, NULL))
    return -1; /* maybe half written: caller retries */
  JsonNode *root = json_parser_get_root(p);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return -1;
  JsonObject *o = json_node_get_object(root);
  const char *keys[] = {"nats", "client"};
  for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
    if (!json_object_has_member(o, keys[k]))
      continue;
    JsonArray *a = json_object_get_array_member(o, keys[k]);
    if (!a || json_array_get_length(a) == 0)
      continue;
    const char *url = json_array_get_string_element(a, 0);
    const char *colon = url ? strrchr(url, ':') : NULL;
    if (colon)
      return atoi(colon + 1);
  }
  return -1;
}

static gboolean
spawn(InteropServer *s, int port, char **err)
{
  g_autofree char *port_s = g_strdup_printf("%d", port);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  const char *common[] = {s->bin, "-a", "127.0.0.1", "-p", port_s, "--ports_file_dir", s->dir};
  for (guint i = 0; i < G_N_ELEMENTS(common); i++)
    g_ptr_array_add(argv, (gpointer)common[i]);
  for (char **a = s->args; a && *a; a++)
    g_ptr_array_add(argv, *a);
  g_ptr_array_add(argv, NULL);
  int logfd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logfd < 0) {
    *err = g_strdup_printf("open %s: %s", s->log_path, g_strerror(errno));
    return FALSE;
  }
  GError *e = NULL;
  gboolean ok = g_spawn_async_with_fds(NULL, (char **)argv->pdata, s->envp,
                                       G_SPAWN_DO_NOT_REAP_CHILD, child_setup,
                                       NULL, &s->pid, -1, logfd, logfd, &e);
  close(logfd);
  if (!ok) {
    *err = g_strdup_printf("spawn %s: %s", s->bin, e->message);
    g_error_free(e);
    s->pid = 0;
    return FALSE;
  }
  g_autofree char *base = g_path_get_basename(s->bin);
  g_autofree char *pf = g_strdup_printf("%s/%s_%d.ports", s->dir, base, (int)s->pid);
  gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < deadline) {
    int st;
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
      s->pid = 0;
      g_autofree char *log = NULL;
      g_file_get_contents(s->log_path, &log, NULL, NULL);
      *err = g_strdup_printf("server exited early (status %d); log:\n%s", st,
                             log ? log : "");
      return FALSE;
    }
    if (g_file_test(pf, G_FILE_TEST_EXISTS)) {
      int p = parse_ports_file(pf);
      if (p > 0) {
        s->port = p;
        g_free(s->url);
        s->url = g_strdup_printf("nats://127.0.0.1:%d", p);
        return TRUE;
      }
    }
    g_usleep(5000);
  }
  *err = g_strdup_printf("no ports file %s after 5 s", pf);
  interop_server_kill(s);
  return FALSE;
}

InteropServer *
interop_server_start(int port, char **err)
{
  return interop_server_start_full(port, NULL, NULL, err);
}

InteropServer *
interop_server_start_full(int port, const char *const *args, const char *const *env,
                          char **err)
{
  InteropServer *s = g_new0(InteropServer, 1);
  s->bin = g_strdup(interop_server_bin());
  s->args = g_strdupv((char **)args);
  if (env) {
    s->envp = g_get_environ();
    for (const char *const *e = env; *e; e++) {
      const char *eq = strchr(*e, '=');
      g_autofree char *name = eq ? g_strndup(*e, eq - *e) : g_strdup(*e);
      s->envp = g_environ_setenv(s->envp, name, eq ? eq + 1 : "", TRUE);
    }
  }
  GError *e = NULL;
  s->dir = g_dir_make_tmp("nats-c-interop-XXXXXX", &e);
  if (!s->dir) {
    *err = g_strdup(e->message);
    g_error_free(e);
    interop_server_free(s);
    return NULL;
  }
  s->log_path = g_build_filename(s->dir, "server.log", NULL);
  if (!spawn(s, port, err)) {
    interop_server_free(s);
    return NULL;
  }
  return s;
}

gboolean
interop_server_restart(InteropServer *s, char **err)
{
  interop_server_stop(s);
  /* The old listener is gone once the process is reaped; the new one may
   * still race a TIME_WAIT, which SO_REUSEADDR (both servers) covers. */
  return spawn(s, s->port, err);
}

static gboolean
reap(InteropServer *s, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  do {
    int st;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid || (r < 0 && errno == ECHILD)) {
      g_spawn_close_pid(s->pid);
      s->pid = 0;
      return TRUE;
    }
    g_usleep(5000);
  } while (g_get_monotonic_time() < deadline);
  return FALSE;
}

void
interop_server_kill(InteropServer *s)
{
  if (!s || !s->pid)
    return;
  kill(s->pid, SIGKILL);
  reap(s, 5000);
}

void
interop_server_stop(InteropServer *s)
{
  if (!s || !s->pid)
    return;
  kill(s->pid, SIGTERM);
  if (!reap(s, 5000))
    interop_server_kill(s);
}

gboolean
interop_server_signal(InteropServer *s, int sig)
{
  return s && s->pid && kill(s->pid, sig) == 0;
}

void
interop_server_free(InteropServer *s)
{
  if (!s)
    return;
  interop_server_stop(s);
  if (s->log_path) {
    /* Keep the server's log in the test log (stderr is not parsed as TAP). */
    g_autofree char *log = NULL;
    if ((g_test_failed() || g_getenv("INTEROP_VERBOSE")) &&
        g_file_get_contents(s->log_path, &log, NULL, NULL))
      g_printerr("---- server log ----\n%s---- end ----\n", log);
    g_unlink(s->log_path);
  }
  if (s->dir) {
    /* Stale ports files from killed servers. */
    GDir *d = g_dir_open(s->dir, 0, NULL);
    if (d) {
      const char *n;
      while ((n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(s->dir, n, NULL);
        g_unlink(p);
      }
      g_dir_close(d);
    }
    g_rmdir(s->dir);
  }
  g_free(s->bin);
  g_free(s->dir);
  g_free(s->log_path);
  g_free(s->url);
  g_strfreev(s->args);
  g_strfreev(s->envp);
  g_free(s);
}

int
interop_raw_connect(int port, int rcvbuf)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (rcvbuf > 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

char *
interop_raw_read_line(int fd, int timeout_ms)
{
  GString *line = g_string_new(NULL);
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;
    if (left <= 0)
      break;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, (int)left) <= 0)
      break;
    char c;
    /* Byte at a time: only used for a few control lines. */
    ssize_t n = read(fd, &c, 1);
    if (n <= 0)
      break;
    if (c == '\n') {
      if (line->len && line->str[line->len - 1] == '\r')
        g_string_truncate(line, line->len - 1);
      return g_string_free(line, FALSE);
    }
    g_string_append_c(line, c);
  }
  g_string_free(line, TRUE);
  return NULL;
}

gboolean
interop_raw_write(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    buf += n;
    len -= (size_t)n;
  }
  return TRUE;
}

gboolean
interop_raw_wait_closed(int fd, int timeout_ms)
{
  static char buf[65536];
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;
    if (left <= 0)
      return FALSE;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r <= 0)
      return FALSE;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
      return TRUE;
  }
}
