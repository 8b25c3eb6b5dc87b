/* test_server.c — spawn and control a server process for black-box tests.
 *
 * Owns one GSubprocess per TestServer plus the paths of its log and ports files. Runs on the
 * test thread only. Exit is observed through g_subprocess_wait_async() on the thread-default
 * main context, which we iterate while polling, so no blocking wait can hang a test: every wait
 * has a timeout, and test_server_free() always SIGKILLs a process that is still alive. */
#include "testlib.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct _TestServer {
  GSubprocess *proc;    /* owned */
  GPid pid;             /* cached at spawn; the GSubprocess forgets it once reaped */
  char *log_path;       /* owned */
  char *ports_dir;      /* owned, may be NULL */
  char *ports_file;     /* owned, may be NULL until found */
  char *ports_json;     /* owned: its contents at startup (the file goes away at shutdown) */
  int port;
  gboolean done;        /* wait_async completed */
  int status;           /* valid when done */
};

static void
on_wait_done(GObject *src, GAsyncResult *res, gpointer data)
{
  TestServer *srv = data;
  GSubprocess *p = G_SUBPROCESS(src);
  g_subprocess_wait_finish(p, res, NULL);
  if (g_subprocess_get_if_exited(p))
    srv->status = g_subprocess_get_exit_status(p);
  else if (g_subprocess_get_if_signaled(p))
    srv->status = 128 + g_subprocess_get_term_sig(p);
  else
    srv->status = -1;
  srv->done = TRUE;
}

static int
port_of_key(const char *contents, const char *const *keys, guint nkeys)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!contents || !json_parser_load_from_data(parser, contents, -1, NULL))
    return 0;
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return 0;
  JsonObject *o = json_node_get_object(root);
  for (guint k = 0; k < nkeys; k++) {
    JsonNode *n = json_object_get_member(o, keys[k]);
    if (!n || !JSON_NODE_HOLDS_ARRAY(n))
      continue;
    JsonArray *a = json_node_get_array(n);
    if (json_array_get_length(a) < 1)
      continue;
    const char *url = json_array_get_string_element(a, 0);
    const char *colon = url ? strrchr(url, ':') : NULL;
    if (!colon)
      continue;
    gint64 p = g_ascii_strtoll(colon + 1, NULL, 10);
    if (p > 0 && p < 65536)
      return (int)p;
  }
  return 0;
}

int
test_server_port_of(TestServer *srv, const char *key)
{
  const char *keys[] = {key};
  return srv->ports_json ? port_of_key(srv->ports_json, keys, 1) : 0;
}

int
test_server_parse_ports_file(const char *contents)
{
  const char *keys[] = {"nats", "client"};
  return port_of_key(contents, keys, G_N_ELEMENTS(keys));
}

int
test_server_free_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  int port = 0;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
      getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
    port = ntohs(sa.sin_port);
  close(fd);
  return port;
}

static void
iterate(int sleep_ms)
{
  while (g_main_context_iteration(NULL, FALSE))
    ;
  if (sleep_ms > 0)
    g_usleep((gulong)sleep_ms * 1000);
}

/* The ports file is `<dir>/<exe basename>_<pid>.ports`; match by the pid suffix only so a
 * wrapper or symlink name does not matter. */
static char *
find_ports_file(const char *dir, GPid pid)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d)
    return NULL;
  g_autofree char *suffix = g_strdup_printf("_%d.ports", (int)pid);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (g_str_has_suffix(name, suffix))
      return g_build_filename(dir, name, NULL);
  return NULL;
}

/* Runs in the forked child before exec: only async-signal-safe calls. */
static void
child_limit_nofile(gpointer data)
{
  struct rlimit rl = {.rlim_cur = (rlim_t)GPOINTER_TO_INT(data), .rlim_max = (rlim_t)GPOINTER_TO_INT(data)};
  setrlimit(RLIMIT_NOFILE, &rl);
}

TestServer *
test_server_start(const char *exe, const char *const *args, const char *tmpdir,
                  const char *ports_file_dir, int timeout_ms, GError **error)
{
  return test_server_start_limited(exe, args, tmpdir, ports_file_dir, timeout_ms, 0, error);
}

TestServer *
test_server_start_limited(const char *exe, const char *const *args, const char *tmpdir,
                          const char *ports_file_dir, int timeout_ms, int nofile, GError **error)
{
  static int seq;
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)exe);
  for (const char *const *a = args; a && *a; a++)
    g_ptr_array_add(argv, (gpointer)*a);
  g_ptr_array_add(argv, NULL);

  TestServer *srv = g_new0(TestServer, 1);
  g_autofree char *base = g_path_get_basename(exe);
  g_autofree char *logname = g_strdup_printf("%s-%d.log", base, ++seq);
  srv->log_path = g_build_filename(tmpdir, logname, NULL);
  srv->ports_dir = g_strdup(ports_file_dir);

  g_autoptr(GSubprocessLauncher) l =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path(l, srv->log_path);
  if (nofile > 0)
    g_subprocess_launcher_set_child_setup(l, child_limit_nofile, GINT_TO_POINTER(nofile), NULL);
  srv->proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, error);
  if (!srv->proc) {
    test_server_free(srv);
    return NULL;
  }
  /* GLib's worker thread may reap a child that exits at once before we ask:
   * the identifier is then NULL (this was the one-off ASan SEGV in strtol). */
  const char *ident = g_subprocess_get_identifier(srv->proc);
  srv->pid = ident ? (GPid)g_ascii_strtoll(ident, NULL, 10) : 0;
  g_subprocess_wait_async(srv->proc, NULL, on_wait_done, srv);

  if (!ports_file_dir)
    return srv;
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (g_get_monotonic_time() < deadline) {
    iterate(0);
    if (!srv->ports_file && srv->pid > 0)
      srv->ports_file = find_ports_file(ports_file_dir, srv->pid);
    if (srv->ports_file) {
      g_autofree char *txt = NULL;
      if (g_file_get_contents(srv->ports_file, &txt, NULL, NULL) &&
          (srv->port = test_server_parse_ports_file(txt)) > 0) {
        srv->ports_json = g_steal_pointer(&txt);
        return srv;
      }
    }
    if (srv->done)
      break;
    g_usleep(10 * 1000);
  }
  g_autofree char *log = test_server_log(srv);
  g_autofree char *cmd = g_strjoinv(" ", (char **)argv->pdata);
  if (srv->done)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "server exited (status %d) before writing its ports file\ncommand: %s\n--- log ---\n%s",
                srv->status, cmd, log ? log : "");
  else
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                "no ports file in %s after %d ms\ncommand: %s\n--- log ---\n%s", ports_file_dir,
                timeout_ms, cmd, log ? log : "");
  test_server_free(srv);
  return NULL;
}

int test_server_port(TestServer *srv) { return srv->port; }
GPid test_server_pid(TestServer *srv) { return srv->pid; }
const char *test_server_ports_file(TestServer *srv) { return srv->ports_file; }
const char *test_server_log_path(TestServer *srv) { return srv->log_path; }

char *
test_server_log(TestServer *srv)
{
  char *txt = NULL;
  if (!g_file_get_contents(srv->log_path, &txt, NULL, NULL))
    return g_strdup("");
  return txt;
}

gboolean
test_server_exited(TestServer *srv)
{
  iterate(0);
  return srv->done;
}

gboolean
test_server_signal(TestServer *srv, int signum)
{
  if (test_server_exited(srv))
    return FALSE;
  /* GSubprocess does nothing once it has reaped the child, so a reused pid is never hit. */
  g_subprocess_send_signal(srv->proc, signum);
  return TRUE;
}

gboolean
test_server_wait_exit(TestServer *srv, int timeout_ms, int *status)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    iterate(0);
    if (srv->done)
      break;
    if (g_get_monotonic_time() >= deadline)
      return FALSE;
    g_usleep(5 * 1000);
  }
  if (status)
    *status = srv->status;
  return TRUE;
}

int
test_server_stop(TestServer *srv, int timeout_ms)
{
  int st = -1;
  if (test_server_wait_exit(srv, 0, &st))
    return st;
  test_server_signal(srv, SIGTERM);
  if (test_server_wait_exit(srv, timeout_ms, &st))
    return st;
  g_subprocess_force_exit(srv->proc);
  if (test_server_wait_exit(srv, 10000, &st))
    return st;
  return -1;
}

void
test_server_free(TestServer *srv)
{
  if (!srv)
    return;
  if (srv->proc) {
    if (!srv->done) {
      g_subprocess_force_exit(srv->proc);
      test_server_wait_exit(srv, 10000, NULL);
    }
    /* If the wait never completed the callback still points at srv: leak it rather than
     * risk a use-after-free. Only happens when SIGKILL did not reap in 10 s. */
    if (!srv->done)
      return;
    g_object_unref(srv->proc);
  }
  g_free(srv->log_path);
  g_free(srv->ports_dir);
  g_free(srv->ports_file);
  g_free(srv->ports_json);
  g_free(srv);
}
