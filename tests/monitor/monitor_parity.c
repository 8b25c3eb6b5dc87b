/* monitor_parity.c — HTTP monitoring parity: the same situation is created
 * on /usr/sbin/nats-server (2.9.10) and on cnatsd, every endpoint is fetched
 * from both, and the answers are compared: the same keys (recursively), the
 * same JSON value kinds, and the values that must agree (counts, names,
 * subjects, reasons, sort orders, error texts).
 *
 * Both servers run with -a 127.0.0.1 -p -1 -m -1 --ports_file_dir DIR; the
 * ports file gives the client and monitoring ports.  Raw TCP clients speak
 * the protocol; HTTP is a plain GET over a socket.  Test paths carry the
 * parity row ids of spec/parity.tsv ("Monitoring" section).
 *
 * nats-server has $SYS machinery cnatsd does not have yet (internal
 * clients and ~40 internal subscriptions), so subscription totals are
 * compared as differences from a baseline and subscription lists only for
 * client subjects. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define GO_SERVER "/usr/sbin/nats-server"

typedef struct Srv {
  const char *label;
  GPid pid;
  char *dir;
  int port;      /* client port */
  int mon_port;  /* monitoring port */
} Srv;

typedef struct Conn {
  int fd;
  GString *in;
} Conn;

static Srv go_srv = {.label = "nats-server"}, c_srv = {.label = "cnatsd"};
static Srv *servers[2] = {&go_srv, &c_srv};
static const char *cnatsd_path;
static int64_t base_subs[2];
static Conn *conns[2][5];

/* ---- processes ----------------------------------------------------------- */

static bool read_ports_file(Srv *s, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    g_autoptr(GDir) d = g_dir_open(s->dir, 0, NULL);
    const char *name;
    g_autofree char *suffix = g_strdup_printf("_%d.ports", (int)s->pid);
    while (d && (name = g_dir_read_name(d))) {
      if (!g_str_has_suffix(name, suffix)) continue;
      g_autofree char *path = g_build_filename(s->dir, name, NULL);
      g_autoptr(JsonParser) p = json_parser_new();
      /* nats-server writes the file in place: it may be empty or partial. */
      if (!json_parser_load_from_file(p, path, NULL)) continue;
      JsonNode *root = json_parser_get_root(p);
      if (!root || JSON_NODE_TYPE(root) != JSON_NODE_OBJECT) continue;
      JsonObject *o = json_node_get_object(root);
      if (!json_object_has_member(o, "nats")) continue;
      const char *nats = json_array_get_string_element(json_object_get_array_member(o, "nats"), 0);
      s->port = atoi(strrchr(nats, ':') + 1);
      if (json_object_has_member(o, "monitoring")) {
        const char *mon = json_array_get_string_element(json_object_get_array_member(o, "monitoring"), 0);
        s->mon_port = atoi(strrchr(mon, ':') + 1);
      }
      return true;
    }
    g_usleep(20000);
  }
  return false;
}

/* Runs in the child before exec: the server dies with the test program,
 * even when an abort skips srv_stop(). */
static void child_die_with_parent(gpointer unused) { prctl(PR_SET_PDEATHSIG, SIGKILL); }

static bool srv_start(Srv *s, const char *exe, const char *const *extra) {
  s->dir = g_dir_make_tmp("monparity-XXXXXX", NULL);
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (char *)exe);
  const char *base[] = {"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", s->dir};
  for (size_t i = 0; i < G_N_ELEMENTS(base); i++) g_ptr_array_add(argv, (char *)base[i]);
  for (const char *const *e = extra; e && *e; e++) g_ptr_array_add(argv, (char *)*e);
  g_ptr_array_add(argv, NULL);
  GError *err = NULL;
  /* stderr is kept: a sanitizer build of cnatsd reports leaks and UB there. */
  g_autofree char *log_path = g_build_filename(s->dir, "stderr.log", NULL);
  int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  /* GSlice memory is invisible to LeakSanitizer unless it comes from malloc. */
  g_auto(GStrv) envp = g_environ_setenv(g_get_environ(), "G_SLICE", "always-malloc", TRUE);
  bool ok = g_spawn_async_with_fds(NULL, (char **)argv->pdata, envp,
                                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, child_die_with_parent,
                                   NULL, &s->pid, -1, -1, log_fd, &err);
  if (log_fd >= 0) close(log_fd);
  g_ptr_array_free(argv, TRUE);
  if (!ok) {
    g_printerr("# spawn %s: %s\n", exe, err->message);
    g_error_free(err);
    return false;
  }
  return read_ports_file(s, 5000);
}

/* Stops the server; false (with the report on stderr) when its stderr
 * shows a sanitizer finding. */
static bool srv_stop(Srv *s) {
  bool clean = true;
  if (s->pid > 0) {
    kill(s->pid, SIGINT);
    int status;
    for (int i = 0; i < 250 && waitpid(s->pid, &status, WNOHANG) == 0; i++) g_usleep(20000);
    if (waitpid(s->pid, &status, WNOHANG) == 0) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
    }
    g_spawn_close_pid(s->pid);
    s->pid = 0;
  }
  if (s->dir) {
    g_autofree char *log_path = g_build_filename(s->dir, "stderr.log", NULL);
    g_autofree char *log = NULL;
    if (g_file_get_contents(log_path, &log, NULL, NULL) &&
        (strstr(log, "Sanitizer") || strstr(log, "runtime error:"))) {
      g_printerr("# %s: sanitizer report:\n%s\n", s->label, log);
      clean = false;
    }
    g_autoptr(GDir) d = g_dir_open(s->dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
      g_autofree char *p = g_build_filename(s->dir, name, NULL);
      g_unlink(p);
    }
    g_rmdir(s->dir);
    g_clear_pointer(&s->dir, g_free);
  }
  return clean;
}

/* ---- sockets ------------------------------------------------------------- */

static int tcp_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  g_assert_cmpint(fd, >=, 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
  return fd;
}

static void send_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    g_assert_cmpint(n, >, 0);
    data += n;
    len -= (size_t)n;
  }
}

/* Reads until `marker` is in the buffer (after `from`); false on EOF/timeout. */
static bool conn_wait_for(Conn *c, const char *marker, size_t from) {
  while (!strstr(c->in->str + MIN(from, c->in->len), marker)) {
    char buf[4096];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    g_string_append_len(c->in, buf, n);
  }
  return true;
}

static Conn *conn_open(int port, const char *connect_json) {
  Conn *c = g_new0(Conn, 1);
  c->fd = tcp_connect(port);
  c->in = g_string_new(NULL);
  g_assert_true(conn_wait_for(c, "\r\n", 0));
  g_autofree char *line = g_strdup_printf("CONNECT %s\r\n", connect_json);
  send_all(c->fd, line, strlen(line));
  return c;
}

static void conn_send(Conn *c, const char *s) { send_all(c->fd, s, strlen(s)); }

/* PING/PONG round trip: everything sent before has been processed. */
static void conn_sync(Conn *c) {
  size_t from = c->in->len;
  conn_send(c, "PING\r\n");
  g_assert_true(conn_wait_for(c, "PONG\r\n", from));
}

static void conn_close(Conn *c) {
  if (!c) return;
  if (c->fd >= 0) close(c->fd);
  g_string_free(c->in, TRUE);
  g_free(c);
}

/* ---- HTTP ---------------------------------------------------------------- */

typedef struct Resp {
  int status;
  char *content_type;  /* owned */
  char *body;          /* owned */
} Resp;

static void resp_clear(Resp *r) {
  g_free(r->content_type);
  g_free(r->body);
}

static Resp http_get(Srv *s, const char *path) {
  int fd = tcp_connect(s->mon_port);
  g_autofree char *req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  send_all(fd, req, strlen(req));
  GString *in = g_string_new(NULL);
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) g_string_append_len(in, buf, n);
  close(fd);
  Resp r = {0};
  char *hdr_end = strstr(in->str, "\r\n\r\n");
  g_assert_nonnull(hdr_end);
  *hdr_end = '\0';
  sscanf(in->str, "HTTP/1.%*d %d", &r.status);
  bool chunked = false;
  gchar **lines = g_strsplit(in->str, "\r\n", -1);
  for (gchar **l = lines; *l; l++) {
    if (g_ascii_strncasecmp(*l, "Content-Type:", 13) == 0) r.content_type = g_strstrip(g_strdup(*l + 13));
    if (g_ascii_strncasecmp(*l, "Transfer-Encoding:", 18) == 0 && strstr(*l, "chunked")) chunked = true;
  }
  g_strfreev(lines);
  const char *body = hdr_end + 4;
  if (chunked) {
    GString *b = g_string_new(NULL);
    const char *p = body;
    for (;;) {
      char *end;
      long len = strtol(p, &end, 16);
      if (len <= 0) break;
      p = strstr(end, "\r\n") + 2;
      g_string_append_len(b, p, len);
      p += len + 2;
    }
    r.body = g_string_free(b, FALSE);
  } else {
    r.body = g_strdup(body);
  }
  g_string_free(in, TRUE);
  return r;
}

/* (transfer full) parsed JSON of a 200 answer. */
static JsonNode *get_json(Srv *s, const char *path) {
  Resp r = http_get(s, path);
  if (r.status != 200) {
    g_test_fail_printf("%s %s: status %d: %s", s->label, path, r.status, r.body);
    resp_clear(&r);
    return json_node_new(JSON_NODE_NULL);
  }
  g_assert_cmpstr(r.content_type, ==, "application/json");
  g_autoptr(JsonParser) p = json_parser_new();
  GError *err = NULL;
  if (!json_parser_load_from_data(p, r.body, -1, &err)) {
    g_test_fail_printf("%s %s: bad JSON: %s", s->label, path, err->message);
    g_error_free(err);
    resp_clear(&r);
    return json_node_new(JSON_NODE_NULL);
  }
  JsonNode *root = json_node_copy(json_parser_get_root(p));
  resp_clear(&r);
  return root;
}

/* ---- JSON comparison ----------------------------------------------------- */

static const char *kind_of(JsonNode *n) {
  switch (JSON_NODE_TYPE(n)) {
    case JSON_NODE_OBJECT: return "object";
    case JSON_NODE_ARRAY: return "array";
    case JSON_NODE_NULL: return "null";
    case JSON_NODE_VALUE: {
      GType t = json_node_get_value_type(n);
      if (t == G_TYPE_STRING) return "string";
      if (t == G_TYPE_BOOLEAN) return "bool";
      return "number";
    }
  }
  return "?";
}

static bool ignored(const char *path, const char *const *ignore) {
  for (const char *const *i = ignore; i && *i; i++)
    if (strcmp(*i, path) == 0) return true;
  return false;
}

/* One element standing for all of an array: for objects, the union of
 * their members (element order, e.g. subscriptions from a hash table,
 * differs between the servers and optional members are omitted per
 * element); otherwise the first element. */
static JsonNode *array_union(JsonArray *arr) {
  JsonNode *first = json_array_get_element(arr, 0);
  if (JSON_NODE_TYPE(first) != JSON_NODE_OBJECT) return json_node_copy(first);
  JsonObject *u = json_object_new();
  for (guint i = 0; i < json_array_get_length(arr); i++) {
    JsonNode *e = json_array_get_element(arr, i);
    if (JSON_NODE_TYPE(e) != JSON_NODE_OBJECT) continue;
    JsonObject *o = json_node_get_object(e);
    GList *keys = json_object_get_members(o);
    for (GList *l = keys; l; l = l->next)
      if (!json_object_has_member(u, l->data))
        json_object_set_member(u, l->data, json_node_copy(json_object_get_member(o, l->data)));
    g_list_free(keys);
  }
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, u);
  return n;
}

/* Same keys and value kinds, recursively; array elements compared through
 * array_union().  Differences go to `diff`. */
static void shape_diff(JsonNode *a, JsonNode *b, const char *path, const char *const *ignore, GString *diff) {
  if (ignored(path, ignore)) return;
  if (strcmp(kind_of(a), kind_of(b)) != 0) {
    g_string_append_printf(diff, "%s: %s vs %s; ", path, kind_of(a), kind_of(b));
    return;
  }
  if (JSON_NODE_TYPE(a) == JSON_NODE_OBJECT) {
    JsonObject *oa = json_node_get_object(a), *ob = json_node_get_object(b);
    GList *ka = json_object_get_members(oa);
    for (GList *l = ka; l; l = l->next) {
      g_autofree char *sub = g_strdup_printf("%s.%s", path, (char *)l->data);
      if (ignored(sub, ignore)) continue;
      if (!json_object_has_member(ob, l->data)) g_string_append_printf(diff, "%s: only in nats-server; ", sub);
      else shape_diff(json_object_get_member(oa, l->data), json_object_get_member(ob, l->data), sub, ignore, diff);
    }
    g_list_free(ka);
    GList *kb = json_object_get_members(ob);
    for (GList *l = kb; l; l = l->next) {
      g_autofree char *sub = g_strdup_printf("%s.%s", path, (char *)l->data);
      if (!ignored(sub, ignore) && !json_object_has_member(oa, l->data))
        g_string_append_printf(diff, "%s: only in cnatsd; ", sub);
    }
    g_list_free(kb);
  } else if (JSON_NODE_TYPE(a) == JSON_NODE_ARRAY) {
    JsonArray *aa = json_node_get_array(a), *ab = json_node_get_array(b);
    if (json_array_get_length(aa) && json_array_get_length(ab)) {
      g_autofree char *sub = g_strdup_printf("%s[]", path);
      g_autoptr(JsonNode) ua = array_union(aa), ub = array_union(ab);
      shape_diff(ua, ub, sub, ignore, diff);
    }
  }
}

#define assert_same_shape(a, b, ...)                                      \
  do {                                                                    \
    g_autoptr(GString) _d = g_string_new(NULL);                           \
    shape_diff((a), (b), "", (__VA_ARGS__), _d);                          \
    if (_d->len) g_test_fail_printf("shape differs: %s", _d->str);                   \
  } while (0)

static JsonNode *jpath(JsonNode *n, const char *path) {
  g_auto(GStrv) parts = g_strsplit(path, ".", -1);
  for (char **p = parts; *p && n; p++) {
    if (JSON_NODE_TYPE(n) != JSON_NODE_OBJECT) return NULL;
    n = json_object_get_member(json_node_get_object(n), *p);
  }
  return n;
}

static int64_t jint(JsonNode *root, const char *path) {
  JsonNode *n = jpath(root, path);
  if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE) {
    g_test_fail_printf("no number at %s", path);
    return 0;
  }
  return json_node_get_int(n);
}

static const char *jstr(JsonNode *root, const char *path) {
  JsonNode *n = jpath(root, path);
  if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING) return NULL;
  return json_node_get_string(n);
}

static JsonArray *jarr(JsonNode *root, const char *path) {
  JsonNode *n = jpath(root, path);
  if (!n || JSON_NODE_TYPE(n) != JSON_NODE_ARRAY) return NULL;
  return json_node_get_array(n);
}

/* Asserts the integer at `path` is the same on both answers. */
static void assert_same_int(JsonNode *g, JsonNode *c, const char *path) {
  int64_t a = jint(g, path), b = jint(c, path);
  if (a != b) g_test_fail_printf("%s: nats-server %" G_GINT64_FORMAT " vs cnatsd %" G_GINT64_FORMAT, path, a, b);
}

static void assert_same_str(JsonNode *g, JsonNode *c, const char *path) {
  const char *a = jstr(g, path), *b = jstr(c, path);
  if (g_strcmp0(a, b) != 0) g_test_fail_printf("%s: nats-server \"%s\" vs cnatsd \"%s\"", path, a, b);
}

/* "name" fields of a connz answer, in order, joined by ','. */
static char *conn_names(JsonNode *connz) {
  JsonArray *a = jarr(connz, "connections");
  GString *s = g_string_new(NULL);
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonObject *o = json_array_get_object_element(a, i);
    g_string_append_printf(s, "%s%s", i ? "," : "",
                           json_object_has_member(o, "name") ? json_object_get_string_member(o, "name") : "-");
  }
  return g_string_free(s, FALSE);
}

static int cmp_str(gconstpointer a, gconstpointer b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted, ','-joined strings built from each element of an array. */
static char *sorted_set(JsonArray *a, char *(*fmt)(JsonNode *)) {
  GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; a && i < json_array_get_length(a); i++) g_ptr_array_add(items, fmt(json_array_get_element(a, i)));
  g_ptr_array_sort(items, cmp_str);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < items->len; i++) g_string_append_printf(s, "%s%s", i ? "," : "", (char *)items->pdata[i]);
  g_ptr_array_free(items, TRUE);
  return g_string_free(s, FALSE);
}

static char *fmt_string(JsonNode *n) { return g_strdup(json_node_get_string(n)); }

/* A SubDetail without its cid (cids differ: nats-server's internal clients take some). */
static char *fmt_subdetail(JsonNode *n) {
  JsonObject *o = json_node_get_object(n);
  return g_strdup_printf("%s|%s|%s|%s|%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT,
                         json_object_get_string_member_with_default(o, "account", ""),
                         json_object_get_string_member(o, "subject"),
                         json_object_get_string_member_with_default(o, "qgroup", ""),
                         json_object_get_string_member(o, "sid"), json_object_get_int_member(o, "msgs"),
                         json_object_get_int_member_with_default(o, "max", 0));
}

static void assert_same_error(const char *path) {
  Resp g = http_get(&go_srv, path), c = http_get(&c_srv, path);
  if (g.status != c.status || g_strcmp0(g.body, c.body) != 0)
    g_test_fail_printf("%s: nats-server %d \"%s\" vs cnatsd %d \"%s\"", path, g.status, g.body, c.status, c.body);
  g_assert_cmpint(g.status, ==, 400);
  g_assert_cmpstr(c.content_type, ==, g.content_type);
  resp_clear(&g);
  resp_clear(&c);
}

/* Fetches `path` from both servers. */
#define BOTH(path)                                  \
  g_autoptr(JsonNode) g = get_json(&go_srv, path);  \
  g_autoptr(JsonNode) c = get_json(&c_srv, path)

/* ---- the situation ------------------------------------------------------- */

/* alpha: 2 subs (foo, bar.* in queue q), publishes 1 to "nobody".
 * beta: no subs; after gamma subscribed, publishes foo x2 and bar.x x1.
 * gamma: 3 subs (foo, baz, qux with auto-unsub max 5), publishes 2 to "nobody".
 * Then gamma and alpha UNSUB an unknown sid (activity), so every sort key
 * but pending and idle is distinct: out_msgs 3/0/2, in_msgs 1/3/2,
 * subs 2/0/3, last_activity beta < gamma < alpha.
 * delta: 1 sub, then closes its socket ("Client Closed").
 * epsilon: sends an unknown operation and is closed by the server. */
static void build_situation(int i) {
  Srv *s = servers[i];
  Conn *a = conns[i][0] = conn_open(s->port, "{\"verbose\":false,\"name\":\"alpha\",\"lang\":\"c\",\"version\":\"1.0\"}");
  conn_send(a, "SUB foo 1\r\nSUB bar.* q 2\r\nPUB nobody 5\r\nhello\r\n");
  conn_sync(a);
  g_usleep(30000);
  Conn *b = conns[i][1] = conn_open(s->port, "{\"verbose\":false,\"name\":\"beta\",\"lang\":\"go\",\"version\":\"2.0\",\"user\":\"bob\",\"pass\":\"x\"}");
  conn_sync(b);
  g_usleep(30000);
  Conn *cg = conns[i][2] = conn_open(s->port, "{\"verbose\":false,\"name\":\"gamma\"}");
  conn_send(cg, "SUB foo 1\r\nSUB baz 2\r\nSUB qux 3\r\nUNSUB 3 5\r\nPUB nobody 5\r\nhello\r\nPUB nobody 5\r\nhello\r\n");
  conn_sync(cg);
  g_usleep(30000);
  conn_send(b, "PUB foo 5\r\nhello\r\nPUB foo 5\r\nhello\r\nPUB bar.x 5\r\nhello\r\n");
  conn_sync(b);
  conn_sync(a);
  conn_sync(cg);
  g_usleep(30000);
  conn_send(cg, "UNSUB 99\r\n");
  conn_sync(cg);
  g_usleep(30000);
  conn_send(a, "UNSUB 99\r\n");
  conn_sync(a);
  g_usleep(30000);
  Conn *d = conn_open(s->port, "{\"verbose\":false,\"name\":\"delta\",\"user\":\"dan\"}");
  conn_send(d, "SUB gone 7\r\n");
  conn_sync(d);
  conn_close(d);
  g_usleep(30000);
  Conn *e = conn_open(s->port, "{\"verbose\":false,\"name\":\"epsilon\"}");
  conn_sync(e);
  conn_send(e, "FOO BAR\r\n");
  conn_wait_for(e, "-ERR", 0);
  conn_close(e);
  g_usleep(200000);  /* let both servers finish the closes */
}

/* ---- tests --------------------------------------------------------------- */

static void test_root(void) {
  for (int i = 0; i < 2; i++) {
    Resp r = http_get(servers[i], "/");
    g_assert_cmpint(r.status, ==, 200);
    g_assert_cmpstr(r.content_type, ==, "text/html; charset=utf-8");
    const char *links[] = {"href=./varz>General", "href=./jsz>JetStream", "href=./connz>Connections",
                           "href=./accountz>Accounts", "href=./accstatz>Account Stats",
                           "href=./subsz>Subscriptions", "href=./routez>Routes", "href=./leafz>LeafNodes",
                           "href=./gatewayz>Gateways", "href=./healthz class=last>Health Probe", "v2.9.10"};
    for (size_t k = 0; k < G_N_ELEMENTS(links); k++)
      if (!strstr(r.body, links[k])) g_test_fail_printf("%s: index lacks %s", servers[i]->label, links[k]);
    resp_clear(&r);
    /* Go's ServeMux: unclean paths redirect, a trailing slash is another path. */
    Resp rd = http_get(servers[i], "//varz?a=1");
    g_assert_cmpint(rd.status, ==, 301);
    g_assert_cmpstr(rd.body, ==, "<a href=\"/varz?a=1\">Moved Permanently</a>.\n\n");
    resp_clear(&rd);
    Resp ts = http_get(servers[i], "/connz/");
    g_assert_cmpint(ts.status, ==, 404);
    resp_clear(&ts);
    Resp nf = http_get(servers[i], "/nothere");
    g_assert_cmpint(nf.status, ==, 404);
    g_assert_cmpstr(nf.body, ==, "404 page not found\n");
    resp_clear(&nf);
  }
}

static void test_varz_shape(void) {
  BOTH("/varz");
  assert_same_shape(g, c, NULL);
}

static void test_varz_identity(void) {
  BOTH("/varz");
  assert_same_str(g, c, "version");
  assert_same_int(g, c, "proto");
  g_assert_cmpstr(jstr(c, "version"), ==, "2.9.10");
  g_autoptr(JsonNode) cz = get_json(&c_srv, "/connz");
  g_assert_cmpstr(jstr(c, "server_id"), ==, jstr(cz, "server_id"));
  g_assert_cmpint(strlen(jstr(c, "server_id")), ==, 56);
  g_assert_true(jstr(c, "server_id")[0] == 'N');
  g_assert_cmpstr(jstr(c, "server_name"), ==, jstr(c, "server_id"));
  g_assert_cmpstr(jstr(g, "server_name"), ==, jstr(g, "server_id"));
}

static void test_varz_network(void) {
  BOTH("/varz");
  assert_same_str(g, c, "host");
  assert_same_str(g, c, "http_host");
  assert_same_int(g, c, "http_port");
  assert_same_str(g, c, "http_base_path");
  assert_same_int(g, c, "https_port");
  g_assert_cmpint(jint(g, "port"), ==, go_srv.port);
  g_assert_cmpint(jint(c, "port"), ==, c_srv.port);
  g_assert_cmpint(jint(c, "http_port"), ==, -1);
}

static void test_varz_security(void) {
  BOTH("/varz");
  const char *keys[] = {"auth_required", "tls_required", "tls_verify"};
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_cmpint(jpath(g, keys[i]) != NULL, ==, jpath(c, keys[i]) != NULL);
  assert_same_int(g, c, "tls_timeout");
}

static void test_varz_limits(void) {
  BOTH("/varz");
  const char *keys[] = {"max_connections", "ping_interval", "ping_max", "auth_timeout", "max_control_line",
                        "max_payload", "max_pending", "write_deadline"};
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) assert_same_int(g, c, keys[i]);
}

static void test_varz_timing(void) {
  BOTH("/varz");
  for (int i = 0; i < 2; i++) {
    JsonNode *v = i ? c : g;
    g_autoptr(GDateTime) start = g_date_time_new_from_iso8601(jstr(v, "start"), NULL);
    g_autoptr(GDateTime) now = g_date_time_new_from_iso8601(jstr(v, "now"), NULL);
    g_autoptr(GDateTime) clt = g_date_time_new_from_iso8601(jstr(v, "config_load_time"), NULL);
    g_assert_nonnull(start);
    g_assert_nonnull(now);
    g_assert_nonnull(clt);
    g_assert_cmpint(g_date_time_compare(now, start), >=, 0);
    g_assert_true(g_str_has_suffix(jstr(v, "now"), "Z"));
    g_assert_true(g_regex_match_simple("^([0-9]+[ydhm])*[0-9]+s$", jstr(v, "uptime"), 0, 0));
  }
}

static void test_varz_runtime(void) {
  BOTH("/varz");
  assert_same_int(g, c, "cores");
  assert_same_int(g, c, "gomaxprocs");
  g_assert_cmpint(jint(c, "mem"), >, 1024 * 1024);
  g_assert_cmpint(jint(c, "mem"), <, jint(g, "mem") * 4);
  double cpu = json_node_get_double(jpath(c, "cpu"));
  g_assert_cmpfloat(cpu, >=, 0);
}

static void test_varz_connections(void) {
  BOTH("/varz");
  assert_same_int(g, c, "connections");
  assert_same_int(g, c, "total_connections");
  g_assert_cmpint(jint(c, "connections"), ==, 3);
  g_assert_cmpint(jint(c, "total_connections"), ==, 5);
  g_assert_cmpint(jint(g, "subscriptions") - base_subs[0], ==, jint(c, "subscriptions") - base_subs[1]);
}

static void test_varz_messages(void) {
  BOTH("/varz");
  const char *keys[] = {"in_msgs", "out_msgs", "in_bytes", "out_bytes"};
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) assert_same_int(g, c, keys[i]);
  g_assert_cmpint(jint(c, "in_msgs"), ==, 6);
}

static void test_varz_slow_consumers(void) {
  BOTH("/varz");
  assert_same_int(g, c, "slow_consumers");
}

static void test_varz_blocks(void) {
  BOTH("/varz");
  const char *keys[] = {"cluster", "gateway", "leaf", "mqtt", "websocket"};
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
    g_assert_nonnull(jpath(c, keys[i]));
    g_assert_cmpint(json_object_get_size(json_node_get_object(jpath(g, keys[i]))), ==,
                    json_object_get_size(json_node_get_object(jpath(c, keys[i]))));
  }
  assert_same_int(g, c, "routes");
  assert_same_int(g, c, "remotes");
  assert_same_int(g, c, "leafnodes");
}

static void test_varz_jetstream_block(void) {
  BOTH("/varz");
  g_assert_cmpint(json_object_get_size(json_node_get_object(jpath(c, "jetstream"))), ==,
                  json_object_get_size(json_node_get_object(jpath(g, "jetstream"))));
}

static void test_varz_jsonp(void) {
  for (int i = 0; i < 2; i++) {
    Resp r = http_get(servers[i], "/varz?callback=cb");
    g_assert_cmpint(r.status, ==, 200);
    g_assert_cmpstr(r.content_type, ==, "application/javascript");
    g_assert_true(g_str_has_prefix(r.body, "cb({"));
    g_assert_true(g_str_has_suffix(r.body, "})"));
    resp_clear(&r);
  }
}

static void test_varz_req_stats(void) {
  for (int i = 0; i < 2; i++) {
    Resp h = http_get(servers[i], "/healthz");
    g_assert_cmpint(h.status, ==, 200);
    resp_clear(&h);
  }
  BOTH("/varz");
  for (int i = 0; i < 2; i++) {
    JsonNode *v = i ? c : g;
    g_assert_cmpint(jint(v, "http_req_stats./varz"), >=, 1);
    g_assert_cmpint(jint(v, "http_req_stats./healthz"), >=, 1);
  }
}

static void test_connz_default(void) {
  BOTH("/connz");
  assert_same_shape(g, c, NULL);
  assert_same_int(g, c, "num_connections");
  assert_same_int(g, c, "total");
  assert_same_int(g, c, "offset");
  assert_same_int(g, c, "limit");
  g_autofree char *gn = conn_names(g), *cn = conn_names(c);
  g_assert_cmpstr(gn, ==, cn);
  g_assert_cmpstr(cn, ==, "alpha,beta,gamma");
  /* per-connection values */
  JsonArray *ga = jarr(g, "connections"), *ca = jarr(c, "connections");
  for (guint i = 0; i < 3; i++) {
    JsonNode *gi = json_array_get_element(ga, i), *ci = json_array_get_element(ca, i);
    const char *keys[] = {"pending_bytes", "in_msgs", "out_msgs", "in_bytes", "out_bytes", "subscriptions"};
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) assert_same_int(gi, ci, keys[k]);
    const char *skeys[] = {"kind", "type", "ip", "name", "lang", "version"};
    for (size_t k = 0; k < G_N_ELEMENTS(skeys); k++) assert_same_str(gi, ci, skeys[k]);
    g_assert_true(g_regex_match_simple("^[0-9.]+(ns|µs|ms|s)$", jstr(ci, "rtt"), 0, 0));
  }
}

static void check_sort(const char *sort, bool ordered) {
  g_autofree char *path = g_strdup_printf("/connz?sort=%s", sort);
  BOTH(path);
  g_autofree char *gn = conn_names(g), *cn = conn_names(c);
  if (ordered) {
    if (strcmp(gn, cn) != 0) g_test_fail_printf("sort=%s: nats-server %s vs cnatsd %s", sort, gn, cn);
  } else {
    g_assert_cmpint(strlen(gn), ==, strlen(cn));
  }
}

static void test_connz_sort(void) {
  /* Distinct keys in the situation: these orders must agree exactly. */
  check_sort("cid", true);
  check_sort("start", true);
  check_sort("subs", true);
  check_sort("msgs_to", true);
  check_sort("msgs_from", true);
  check_sort("bytes_to", true);
  check_sort("bytes_from", true);
  check_sort("last", true);
  check_sort("uptime", true);
  /* Ties (all 0 pending) or timing-dependent keys: same members. */
  check_sort("pending", false);
  check_sort("idle", false);
  g_autoptr(JsonNode) c = get_json(&c_srv, "/connz?sort=msgs_from");
  g_autofree char *cn = conn_names(c);
  g_assert_cmpstr(cn, ==, "beta,gamma,alpha");
}

static void test_connz_sort_closed(void) {
  check_sort("stop&state=closed", true);
  check_sort("reason&state=closed", true);
  BOTH("/connz?state=closed&sort=stop");
  g_autofree char *gn = conn_names(g), *cn = conn_names(c);
  g_assert_cmpstr(gn, ==, "epsilon,delta");
  g_assert_cmpstr(cn, ==, "epsilon,delta");
}

static void test_connz_state(void) {
  const char *states[] = {"open", "closed", "any", "all", "OPEN"};
  for (size_t i = 0; i < G_N_ELEMENTS(states); i++) {
    g_autofree char *path = g_strdup_printf("/connz?state=%s", states[i]);
    BOTH(path);
    assert_same_shape(g, c, NULL);
    assert_same_int(g, c, "total");
    assert_same_int(g, c, "num_connections");
    g_autofree char *gn = conn_names(g), *cn = conn_names(c);
    g_assert_cmpstr(gn, ==, cn);
  }
}

static void test_connz_closed(void) {
  BOTH("/connz?state=closed&subs=1");
  assert_same_shape(g, c, NULL);
  JsonArray *ga = jarr(g, "connections"), *ca = jarr(c, "connections");
  g_assert_cmpint(json_array_get_length(ca), ==, 2);
  for (guint i = 0; i < 2; i++) {
    JsonNode *gi = json_array_get_element(ga, i), *ci = json_array_get_element(ca, i);
    assert_same_str(gi, ci, "name");
    assert_same_str(gi, ci, "reason");
    assert_same_int(gi, ci, "subscriptions");
    assert_same_int(gi, ci, "in_msgs");
    g_assert_nonnull(jstr(ci, "stop"));
    g_autofree char *gs = sorted_set(jarr(gi, "subscriptions_list"), fmt_string);
    g_autofree char *cs = sorted_set(jarr(ci, "subscriptions_list"), fmt_string);
    g_assert_cmpstr(gs, ==, cs);
  }
  g_assert_cmpstr(jstr(json_array_get_element(ca, 0), "reason"), ==, "Client Closed");
}

static void test_connz_paging(void) {
  const char *paths[] = {"/connz?offset=1&limit=1", "/connz?offset=2", "/connz?limit=2", "/connz?offset=10",
                         "/connz?offset=-3&limit=-1", "/connz?state=any&offset=1&limit=3"};
  for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
    BOTH(paths[i]);
    assert_same_int(g, c, "num_connections");
    assert_same_int(g, c, "total");
    assert_same_int(g, c, "offset");
    assert_same_int(g, c, "limit");
    g_autofree char *gn = conn_names(g), *cn = conn_names(c);
    if (strcmp(gn, cn) != 0) g_test_fail_printf("%s: %s vs %s", paths[i], gn, cn);
  }
}

static void test_connz_subs(void) {
  {
    BOTH("/connz?subs=1");
    assert_same_shape(g, c, NULL);
    for (guint i = 0; i < 3; i++) {
      JsonNode *gi = json_array_get_element(jarr(g, "connections"), i);
      JsonNode *ci = json_array_get_element(jarr(c, "connections"), i);
      g_autofree char *gs = sorted_set(jarr(gi, "subscriptions_list"), fmt_string);
      g_autofree char *cs = sorted_set(jarr(ci, "subscriptions_list"), fmt_string);
      g_assert_cmpstr(gs, ==, cs);
    }
  }
  {
    BOTH("/connz?subs=detail&state=any");
    assert_same_shape(g, c, NULL);
    for (guint i = 0; i < json_array_get_length(jarr(g, "connections")); i++) {
      JsonNode *gi = json_array_get_element(jarr(g, "connections"), i);
      JsonNode *ci = json_array_get_element(jarr(c, "connections"), i);
      g_autofree char *gs = sorted_set(jarr(gi, "subscriptions_list_detail"), fmt_subdetail);
      g_autofree char *cs = sorted_set(jarr(ci, "subscriptions_list_detail"), fmt_subdetail);
      if (strcmp(gs, cs) != 0) g_test_fail_printf("detail %u: %s vs %s", i, gs, cs);
    }
  }
}

static void test_connz_filter(void) {
  /* by cid: each server's own cid of alpha */
  for (int i = 0; i < 2; i++) {
    g_autoptr(JsonNode) all = get_json(servers[i], "/connz");
    int64_t cid = jint(json_array_get_element(jarr(all, "connections"), 0), "cid");
    g_autofree char *path = g_strdup_printf("/connz?cid=%" G_GINT64_FORMAT, cid);
    g_autoptr(JsonNode) one = get_json(servers[i], path);
    g_assert_cmpint(jint(one, "num_connections"), ==, 1);
    g_assert_cmpint(jint(one, "limit"), ==, 1);
    g_autofree char *n = conn_names(one);
    g_assert_cmpstr(n, ==, "alpha");
  }
  const char *paths[] = {"/connz?cid=999999", "/connz?acc=$G", "/connz?acc=%24G&state=any", "/connz?acc=nope",
                         "/connz?user=nobody", "/connz?auth=true", "/connz?acc=$SYS", "/connz?state=closed&cid=999"};
  for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
    BOTH(paths[i]);
    assert_same_shape(g, c, (const char *const[]){".server_id", NULL});
    assert_same_int(g, c, "total");
    assert_same_int(g, c, "num_connections");
    assert_same_int(g, c, "limit");
    g_autofree char *gn = conn_names(g), *cn = conn_names(c);
    if (strcmp(gn, cn) != 0) g_test_fail_printf("%s: %s vs %s", paths[i], gn, cn);
  }
  /* user filter and authorized_user (no auth configured: CONNECT's user) */
  const char *upaths[] = {"/connz?user=bob", "/connz?user=dan&state=closed", "/connz?user=dan&state=any",
                          "/connz?auth=1&state=any", "/connz?auth=1&user=bob"};
  for (size_t i = 0; i < G_N_ELEMENTS(upaths); i++) {
    g_autoptr(JsonNode) gu = get_json(&go_srv, upaths[i]);
    g_autoptr(JsonNode) cu = get_json(&c_srv, upaths[i]);
    assert_same_shape(gu, cu, NULL);
    assert_same_int(gu, cu, "num_connections");
    g_autofree char *gn = conn_names(gu), *cn = conn_names(cu);
    if (strcmp(gn, cn) != 0) g_test_fail_printf("%s: %s vs %s", upaths[i], gn, cn);
    JsonArray *ga = jarr(gu, "connections"), *ca = jarr(cu, "connections");
    for (guint k = 0; ga && ca && k < MIN(json_array_get_length(ga), json_array_get_length(ca)); k++)
      assert_same_str(json_array_get_element(ga, k), json_array_get_element(ca, k), "authorized_user");
  }
  {
    g_autoptr(JsonNode) cu = get_json(&c_srv, "/connz?user=bob");
    g_autofree char *cn = conn_names(cu);
    g_assert_cmpstr(cn, ==, "beta");
  }
  BOTH("/connz?acc=nope");
  assert_same_str(g, c, "server_id");
  g_assert_true(JSON_NODE_TYPE(jpath(c, "connections")) == JSON_NODE_NULL);
}

static void test_connz_mqtt(void) {
  BOTH("/connz?mqtt_client=someid");
  assert_same_int(g, c, "num_connections");
  assert_same_int(g, c, "total");
  g_assert_cmpint(jint(c, "num_connections"), ==, 0);
}

static void test_connz_bad_queries(void) {
  const char *paths[] = {"/connz?sort=foo",       "/connz?sort=stop",        "/connz?sort=reason",
                         "/connz?auth=x",         "/connz?subs=maybe",       "/connz?offset=x",
                         "/connz?limit=1.5",      "/connz?limit=99999999999999999999", "/connz?cid=-1",
                         "/connz?cid=abc",        "/connz?cid=99999999999999999999", "/connz?state=x",
                         "/connz?sort=stop&state=any", "/connz?offset=%22q%22"};
  for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) assert_same_error(paths[i]);
}

static char *fmt_client_subdetail(JsonNode *n) {
  char *s = fmt_subdetail(n);
  return s;
}

static void test_subsz(void) {
  {
    BOTH("/subsz");
    assert_same_shape(g, c, NULL);
  }
  const char *paths[] = {"/subsz?subs=1&test=foo", "/subsz?subs=1&test=bar.x", "/subsz?subs=1&test=qux",
                         "/subscriptionsz?subs=1&test=foo"};
  for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
    BOTH(paths[i]);
    assert_same_shape(g, c, (const char *const[]){".num_subscriptions", NULL});
    assert_same_int(g, c, "total");
    g_autofree char *gs = sorted_set(jarr(g, "subscriptions_list"), fmt_client_subdetail);
    g_autofree char *cs = sorted_set(jarr(c, "subscriptions_list"), fmt_client_subdetail);
    if (strcmp(gs, cs) != 0) g_test_fail_printf("%s: %s vs %s", paths[i], gs, cs);
  }
  {
    BOTH("/subsz?subs=1&test=foo&limit=1&offset=1");
    assert_same_int(g, c, "total");
    assert_same_int(g, c, "offset");
    assert_same_int(g, c, "limit");
  }
  {
    BOTH("/subsz?subs=1&test=nomatch");
    assert_same_shape(g, c, NULL);
    g_assert_null(jpath(c, "subscriptions_list"));
  }
  {
    BOTH("/subsz?acc=nope");
    assert_same_shape(g, c, NULL);
    assert_same_int(g, c, "num_subscriptions");
  }
  const char *bad[] = {"/subsz?test=foo.*", "/subsz?test=foo.>", "/subsz?subs=x", "/subsz?offset=x",
                       "/subsz?limit=--1", "/subsz?test=a..b"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) assert_same_error(bad[i]);
}

static void test_accountz(void) {
  {
    BOTH("/accountz");
    assert_same_shape(g, c, NULL);
    assert_same_str(g, c, "system_account");
    g_autofree char *gs = sorted_set(jarr(g, "accounts"), fmt_string);
    g_autofree char *cs = sorted_set(jarr(c, "accounts"), fmt_string);
    g_assert_cmpstr(gs, ==, cs);
  }
  {
    /* nats-server's $G imports $SYS services for its internal clients;
     * cnatsd has no $SYS services yet (events). */
    BOTH("/accountz?acc=$G");
    assert_same_shape(g, c, (const char *const[]){".account_detail.imports", NULL});
    assert_same_str(g, c, "account_detail.account_name");
    assert_same_int(g, c, "account_detail.client_connections");
    assert_same_int(g, c, "account_detail.leafnode_connections");
  }
  {
    BOTH("/accountz?acc=$SYS");
    assert_same_shape(g, c, (const char *const[]){".account_detail.exports", NULL});
    g_assert_true(json_node_get_boolean(jpath(c, "account_detail.is_system")));
  }
  assert_same_error("/accountz?acc=nope");
}

static void test_accstatz(void) {
  {
    BOTH("/accstatz");
    assert_same_shape(g, c, NULL);
    JsonArray *ga = jarr(g, "account_statz"), *ca = jarr(c, "account_statz");
    g_assert_cmpint(json_array_get_length(ga), ==, json_array_get_length(ca));
    g_assert_cmpint(json_array_get_length(ca), ==, 1);
    JsonNode *gi = json_array_get_element(ga, 0), *ci = json_array_get_element(ca, 0);
    assert_same_str(gi, ci, "acc");
    const char *keys[] = {"conns", "leafnodes", "total_conns", "sent.msgs", "sent.bytes", "received.msgs",
                          "received.bytes", "slow_consumers"};
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) assert_same_int(gi, ci, keys[k]);
  }
  {
    BOTH("/accstatz?unused=1");
    g_assert_cmpint(json_array_get_length(jarr(g, "account_statz")), ==,
                    json_array_get_length(jarr(c, "account_statz")));
  }
  assert_same_error("/accstatz?unused=x");
}

static void test_healthz(void) {
  const char *paths[] = {"/healthz", "/healthz?js-enabled-only=true", "/healthz?js-server-only=1",
                         "/healthz?js-enabled=true"};
  for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
    Resp g = http_get(&go_srv, paths[i]), c = http_get(&c_srv, paths[i]);
    g_assert_cmpint(g.status, ==, c.status);
    g_assert_cmpstr(g.body, ==, c.body);
    g_assert_cmpstr(c.body, ==, "{\"status\":\"ok\"}");
    resp_clear(&g);
    resp_clear(&c);
  }
  assert_same_error("/healthz?js-enabled=x");
  assert_same_error("/healthz?js-enabled-only=x");
  assert_same_error("/healthz?js-server-only=yes");
}

static void compare_off_feature(const char *path) {
  BOTH(path);
  assert_same_shape(g, c, NULL);
  /* Everything but the id and time must be identical. */
  JsonObject *go = json_node_get_object(g), *co = json_node_get_object(c);
  json_object_remove_member(go, "server_id");
  json_object_remove_member(go, "now");
  json_object_remove_member(co, "server_id");
  json_object_remove_member(co, "now");
  g_autofree char *gs = json_to_string(g, FALSE), *cs = json_to_string(c, FALSE);
  g_assert_cmpstr(gs, ==, cs);
}

static void test_routez(void) {
  compare_off_feature("/routez");
  compare_off_feature("/routez?subs=detail");
  assert_same_error("/routez?subs=x");
}

static void test_gatewayz(void) {
  compare_off_feature("/gatewayz");
  compare_off_feature("/gatewayz?accs=1");
  assert_same_error("/gatewayz?accs=x");
}

static void test_leafz(void) {
  compare_off_feature("/leafz");
  compare_off_feature("/leafz?subs=true");
  assert_same_error("/leafz?subs=x");
}

static void test_jsz(void) {
  compare_off_feature("/jsz");
  compare_off_feature("/jsz?accounts=true&streams=1&consumers=1&config=1");
  compare_off_feature("/jsz?acc=x");
  const char *bad[] = {"/jsz?accounts=x", "/jsz?streams=x", "/jsz?consumers=x", "/jsz?config=x",
                       "/jsz?offset=x", "/jsz?limit=x", "/jsz?leader-only=x"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) assert_same_error(bad[i]);
}

/* -m and the config keys, each on a fresh pair of servers. */
static void with_servers(const char *const *go_args, const char *const *c_args, void (*check)(Srv *s, int i)) {
  Srv a = {.label = "nats-server"}, b = {.label = "cnatsd"};
  g_assert_true(srv_start(&a, GO_SERVER, go_args));
  g_assert_true(srv_start(&b, cnatsd_path, c_args ? c_args : go_args));
  check(&a, 0);
  check(&b, 1);
  srv_stop(&a);
  if (!srv_stop(&b)) g_test_fail_printf("cnatsd sanitizer report");
}

static void check_base_path(Srv *s, int i) {
  g_assert_cmpint(s->mon_port, >, 0);
  Resp r = http_get(s, "/mon/varz");
  g_assert_cmpint(r.status, ==, 200);
  g_assert_true(strstr(r.body, "\"http_base_path\": \"/mon/\"") != NULL);
  resp_clear(&r);
  Resp nf = http_get(s, "/varz");
  g_assert_cmpint(nf.status, ==, 404);
  resp_clear(&nf);
  Resp root = http_get(s, "/mon");
  g_assert_cmpint(root.status, ==, 200);
  g_assert_true(strstr(root.body, "href=./mon/connz>") != NULL);
  resp_clear(&root);
}

static char *write_conf(const char *text) {
  g_autofree char *dir = g_dir_make_tmp("monconf-XXXXXX", NULL);
  char *path = g_build_filename(dir, "m.conf", NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static void remove_conf(char *path) {
  g_autofree char *dir = g_path_get_dirname(path);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
}

static void test_config_base_path(void) {
  char *conf = write_conf("http_port: -1\nhttp_base_path: \"/mon/\"\n");
  const char *args[] = {"-c", conf, NULL};
  with_servers(args, NULL, check_base_path);
  remove_conf(conf);
}

static void check_http_key(Srv *s, int i) {
  g_assert_cmpint(s->mon_port, >, 0);
  g_autoptr(JsonNode) v = get_json(s, "/varz");
  g_assert_cmpstr(jstr(v, "http_host"), ==, "127.0.0.1");
  g_assert_cmpint(jint(v, "http_port"), ==, s->mon_port);
}

static void test_config_http(void) {
  /* "http": host:port with a fixed port: take a free one first. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
  socklen_t al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  int port = ntohs(a.sin_port);
  close(fd);
  g_autofree char *text = g_strdup_printf("http: \"127.0.0.1:%d\"\n", port);
  char *conf = write_conf(text);
  const char *args[] = {"-c", conf, NULL};
  Srv s = {.label = "nats-server"};
  g_assert_true(srv_start(&s, GO_SERVER, args));
  check_http_key(&s, 0);
  srv_stop(&s);
  Srv t = {.label = "cnatsd"};
  g_assert_true(srv_start(&t, cnatsd_path, args));
  check_http_key(&t, 1);
  if (!srv_stop(&t)) g_test_fail_printf("cnatsd sanitizer report");
  remove_conf(conf);
}

static void check_monitor_port_key(Srv *s, int i) {
  g_assert_cmpint(s->mon_port, >, 0);
  g_autoptr(JsonNode) v = get_json(s, "/varz");
  g_assert_cmpint(jint(v, "http_port"), ==, -1);
}

static void test_config_monitor_port(void) {
  char *conf = write_conf("monitor_port: -1\n");
  const char *args[] = {"-c", conf, NULL};
  with_servers(args, NULL, check_monitor_port_key);
  remove_conf(conf);
}

static void check_flag(Srv *s, int i) {
  g_assert_cmpint(s->mon_port, >, 0);
  Resp r = http_get(s, "/healthz");
  g_assert_cmpint(r.status, ==, 200);
  resp_clear(&r);
}

static void check_no_monitor(Srv *s, int i) { g_assert_cmpint(s->mon_port, ==, 0); }

static void test_flag_m(void) {
  const char *args[] = {"--http_port", "-1", NULL};
  with_servers(args, NULL, check_flag);
  const char *none[] = {NULL};
  with_servers(none, NULL, check_no_monitor);
}

/* A subscriber that never reads while a publisher floods it: both servers
 * close it as a slow consumer and count it in varz and accstatz. */
static void slow_consumer_on(Srv *s, int i, char **reason, int64_t *varz_sc, int64_t *acc_sc) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
  Conn *sub = g_new0(Conn, 1);
  sub->fd = fd;
  sub->in = g_string_new(NULL);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  g_assert_true(conn_wait_for(sub, "\r\n", 0));
  conn_send(sub, "CONNECT {\"verbose\":false,\"name\":\"slow\"}\r\nSUB big 1\r\n");
  conn_sync(sub);
  Conn *pub = conn_open(s->port, "{\"verbose\":false,\"name\":\"flood\"}");
  GString *batch = g_string_new(NULL);
  char payload[4001];
  memset(payload, 'x', 4000);
  payload[4000] = '\0';
  for (int k = 0; k < 64; k++) g_string_append_printf(batch, "PUB big 4000\r\n%s\r\n", payload);
  for (int round = 0; round < 64; round++) send_all(pub->fd, batch->str, batch->len);
  g_string_free(batch, TRUE);
  conn_sync(pub);
  g_usleep(300000);
  g_autoptr(JsonNode) v = get_json(s, "/varz");
  *varz_sc = jint(v, "slow_consumers");
  g_autoptr(JsonNode) st = get_json(s, "/accstatz");
  *acc_sc = jint(json_array_get_element(jarr(st, "account_statz"), 0), "slow_consumers");
  g_autoptr(JsonNode) cz = get_json(s, "/connz?state=closed");
  JsonArray *closed = jarr(cz, "connections");
  *reason = g_strdup(closed && json_array_get_length(closed) ? jstr(json_array_get_element(closed, 0), "reason") : "");
  conn_close(pub);
  conn_close(sub);
}

static void test_slow_consumer(void) {
  char *conf = write_conf("max_payload: 4096\nmax_pending: 65536\nhttp_port: -1\n");
  const char *args[] = {"-c", conf, NULL};
  char *reasons[2];
  int64_t varz_sc[2], acc_sc[2];
  for (int i = 0; i < 2; i++) {
    Srv s = {.label = i ? "cnatsd" : "nats-server"};
    g_assert_true(srv_start(&s, i ? cnatsd_path : GO_SERVER, args));
    slow_consumer_on(&s, i, &reasons[i], &varz_sc[i], &acc_sc[i]);
    if (!srv_stop(&s)) g_test_fail_printf("%s sanitizer report", s.label);
  }
  g_assert_cmpint(varz_sc[0], ==, 1);
  g_assert_cmpint(varz_sc[1], ==, varz_sc[0]);
  g_assert_cmpint(acc_sc[1], ==, acc_sc[0]);
  g_assert_cmpstr(reasons[1], ==, reasons[0]);
  g_assert_true(g_str_has_prefix(reasons[1], "Slow Consumer"));
  g_free(reasons[0]);
  g_free(reasons[1]);
  remove_conf(conf);
}

/* The fatal line when the monitoring port is taken, and the exit code. */
static char *fatal_line(const char *exe, int port, int *status) {
  g_autofree char *ports = g_strdup_printf("%d", port);
  const char *argv[] = {exe, "-a", "127.0.0.1", "-p", "-1", "-m", ports, NULL};
  g_autofree char *out = NULL, *err = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, child_die_with_parent, NULL, &out, &err,
                             status, NULL));
  g_autofree char *all = g_strconcat(out, err, NULL);
  const char *f = strstr(all, "[FTL] ");
  if (!f) return g_strdup("");
  const char *nl = strchr(f, '\n');
  return g_strndup(f, nl ? (gsize)(nl - f) : strlen(f));
}

static void test_monitor_port_in_use(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
  g_assert_cmpint(listen(fd, 1), ==, 0);
  socklen_t al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  int gs, cs;
  g_autofree char *g = fatal_line(GO_SERVER, ntohs(a.sin_port), &gs);
  g_autofree char *c = fatal_line(cnatsd_path, ntohs(a.sin_port), &cs);
  close(fd);
  g_assert_true(g_str_has_prefix(g, "[FTL] Can't start monitoring"));
  g_assert_cmpstr(c, ==, g);
  g_assert_cmpint(WIFEXITED(cs) ? WEXITSTATUS(cs) : -1, ==, WIFEXITED(gs) ? WEXITSTATUS(gs) : -2);
}

/* The ports file names the monitoring listener as nats-server's does. */
static void test_ports_file(void) {
  for (int i = 0; i < 2; i++) {
    Srv *s = servers[i];
    g_autoptr(GDir) d = g_dir_open(s->dir, 0, NULL);
    const char *name;
    g_autofree char *suffix = g_strdup_printf("_%d.ports", (int)s->pid);
    g_autofree char *text = NULL;
    while (d && (name = g_dir_read_name(d)))
      if (g_str_has_suffix(name, suffix)) {
        g_autofree char *path = g_build_filename(s->dir, name, NULL);
        g_file_get_contents(path, &text, NULL, NULL);
      }
    g_assert_nonnull(text);
    g_autofree char *want = g_strdup_printf("{\"nats\":[\"nats://127.0.0.1:%d\"],\"monitoring\":[\"http://127.0.0.1:%d\"]}",
                                            s->port, s->mon_port);
    g_assert_cmpstr(text, ==, want);
  }
}

/* A client that never answers PING is closed as stale; /connz?state=closed
 * shows it with the same reason on both servers. */
static void test_stale_connection(void) {
  char *conf = write_conf("ping_interval: \"200ms\"\nping_max: 1\nhttp_port: -1\n");
  const char *args[] = {"-c", conf, NULL};
  char *reasons[2];
  for (int i = 0; i < 2; i++) {
    Srv s = {.label = i ? "cnatsd" : "nats-server"};
    g_assert_true(srv_start(&s, i ? cnatsd_path : GO_SERVER, args));
    Conn *c = conn_open(s.port, "{\"verbose\":false,\"name\":\"sleepy\"}");
    JsonArray *closed = NULL;
    g_autoptr(JsonNode) cz = NULL;
    for (int tries = 0; tries < 40; tries++) {  /* up to 4 s */
      g_usleep(100000);
      if (cz) json_node_unref(cz);
      cz = get_json(&s, "/connz?state=closed");
      closed = jarr(cz, "connections");
      if (closed && json_array_get_length(closed) > 0) break;
    }
    reasons[i] = g_strdup(closed && json_array_get_length(closed) ? jstr(json_array_get_element(closed, 0), "reason") : "");
    conn_close(c);
    if (!srv_stop(&s)) g_test_fail_printf("%s sanitizer report", s.label);
  }
  g_assert_cmpstr(reasons[0], ==, "Stale Connection");
  g_assert_cmpstr(reasons[1], ==, reasons[0]);
  g_free(reasons[0]);
  g_free(reasons[1]);
  remove_conf(conf);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  /* A mismatch fails its test and the run goes on to the others. */
  g_test_set_nonfatal_assertions();
  cnatsd_path = g_getenv("CNATSD");
  if (!cnatsd_path || !g_file_test(GO_SERVER, G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr("# needs CNATSD and %s\n", GO_SERVER);
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  const char *mon[] = {"-m", "-1", NULL};
  if (!srv_start(&go_srv, GO_SERVER, mon) || !srv_start(&c_srv, cnatsd_path, mon)) {
    srv_stop(&go_srv);
    srv_stop(&c_srv);
    g_printerr("# servers did not start\n");
    return 1;
  }
  for (int i = 0; i < 2; i++) {
    g_autoptr(JsonNode) v = get_json(servers[i], "/varz");
    base_subs[i] = jint(v, "subscriptions");
  }
  for (int i = 0; i < 2; i++) build_situation(i);

  g_test_add_func("/parity/monitoring/R135/root-index", test_root);
  g_test_add_func("/parity/monitoring/R133/varz-shape", test_varz_shape);
  g_test_add_func("/parity/monitoring/R133/varz-jsonp-callback", test_varz_jsonp);
  g_test_add_func("/parity/monitoring/R133/varz-http-req-stats", test_varz_req_stats);
  g_test_add_func("/parity/monitoring/R143/varz-identity", test_varz_identity);
  g_test_add_func("/parity/monitoring/R144/varz-network", test_varz_network);
  g_test_add_func("/parity/monitoring/R145/varz-security-off", test_varz_security);
  g_test_add_func("/parity/monitoring/R146/varz-limits", test_varz_limits);
  g_test_add_func("/parity/monitoring/R147/varz-timing", test_varz_timing);
  g_test_add_func("/parity/monitoring/R148/varz-runtime", test_varz_runtime);
  g_test_add_func("/parity/monitoring/R149/varz-connections", test_varz_connections);
  g_test_add_func("/parity/monitoring/R150/varz-messages", test_varz_messages);
  g_test_add_func("/parity/monitoring/R151/varz-slow-consumers", test_varz_slow_consumers);
  g_test_add_func("/parity/monitoring/R151/slow-consumer-counted", test_slow_consumer);
  g_test_add_func("/parity/monitoring/R152/varz-cluster-gateway-leaf-blocks", test_varz_blocks);
  g_test_add_func("/parity/monitoring/R153/varz-jetstream-block", test_varz_jetstream_block);
  g_test_add_func("/parity/monitoring/R134/connz-default", test_connz_default);
  g_test_add_func("/parity/monitoring/R134/connz-bad-queries", test_connz_bad_queries);
  g_test_add_func("/parity/monitoring/R155/connz-filter-cid-acc-user", test_connz_filter);
  g_test_add_func("/parity/monitoring/R156/connz-sort", test_connz_sort);
  g_test_add_func("/parity/monitoring/R156/connz-sort-closed", test_connz_sort_closed);
  g_test_add_func("/parity/monitoring/R157/connz-state", test_connz_state);
  g_test_add_func("/parity/monitoring/R158/connz-closed", test_connz_closed);
  g_test_add_func("/parity/monitoring/R159/connz-paging", test_connz_paging);
  g_test_add_func("/parity/monitoring/R160/connz-subs-detail", test_connz_subs);
  g_test_add_func("/parity/monitoring/R163/connz-mqtt-client", test_connz_mqtt);
  g_test_add_func("/parity/ping-pong/R195/stale-connection-in-connz", test_stale_connection);
  g_test_add_func("/parity/monitoring/R139/subsz", test_subsz);
  g_test_add_func("/parity/monitoring/R140/accountz", test_accountz);
  g_test_add_func("/parity/monitoring/R141/accstatz", test_accstatz);
  g_test_add_func("/parity/monitoring/R132/healthz", test_healthz);
  g_test_add_func("/parity/monitoring/R136/routez", test_routez);
  g_test_add_func("/parity/monitoring/R137/gatewayz", test_gatewayz);
  g_test_add_func("/parity/monitoring/R138/leafz", test_leafz);
  g_test_add_func("/parity/monitoring/R142/jsz", test_jsz);
  g_test_add_func("/parity/configuration/R122/flag-m", test_flag_m);
  g_test_add_func("/parity/configuration/R122/ports-file-monitoring", test_ports_file);
  g_test_add_func("/parity/configuration/R122/config-monitor-port", test_config_monitor_port);
  g_test_add_func("/parity/configuration/R122/config-http", test_config_http);
  g_test_add_func("/parity/configuration/R127/config-http-base-path", test_config_base_path);
  g_test_add_func("/parity/configuration/R122/monitor-port-in-use", test_monitor_port_in_use);

  int rc = g_test_run();
  for (int i = 0; i < 2; i++)
    for (int k = 0; k < 5; k++) conn_close(conns[i][k]);
  srv_stop(&go_srv);
  if (!srv_stop(&c_srv)) {
    /* After all subtests: fail the program, which discredits them all. */
    printf("Bail out! cnatsd sanitizer report at exit\n");
    rc = 1;
  }
  return rc;
}
