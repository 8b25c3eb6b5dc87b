/* stress_test.c — robustness under connection churn and hostile bytes, run
 * against /usr/sbin/nats-server and cnatsd alike: 10,000 connections opened
 * and dropped, connections spewing random garbage, half lines and absurd
 * sizes.  The server must answer a fresh client afterwards, and cnatsd must
 * give back the memory the connections took.
 *
 * Env: CNATSD (cnatsd binary), NATS_SERVER (reference, default /usr/sbin/nats-server). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

#define STRESS_CONNS 10000

typedef struct {
  const char *name;  /* "go" or "cnatsd" */
  const char *exe;
} ServerKind;

static ServerKind servers[2];

static TestServer *start_limited(const ServerKind *k, char **tmpdir, const char *nofile) {
  g_autoptr(GError) error = NULL;
  *tmpdir = g_dir_make_tmp("stress-XXXXXX", NULL);
  TestServer *srv;
  if (nofile) {
    /* prlimit execs the server: same pid, open-files limit fixed (soft = hard) */
    const char *args[] = {nofile, k->exe, "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", *tmpdir, NULL};
    srv = test_server_start("/usr/bin/prlimit", args, *tmpdir, *tmpdir, 5000, &error);
  } else {
    const char *args[] = {"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", *tmpdir, NULL};
    srv = test_server_start(k->exe, args, *tmpdir, *tmpdir, 5000, &error);
  }
  if (!srv) g_error("%s: %s", k->name, error ? error->message : "did not start");
  return srv;
}

static TestServer *start(const ServerKind *k, char **tmpdir) { return start_limited(k, tmpdir, NULL); }

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads until `needle` is seen, EOF, or timeout; returns TRUE if seen. */
static gboolean read_until(int fd, const char *needle, int timeout_ms, GString *seen) {
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  char buf[4096];
  while (g_get_monotonic_time() < end) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int left = (int)((end - g_get_monotonic_time()) / 1000);
    if (poll(&p, 1, left > 0 ? left : 0) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return strstr(seen->str, needle) != NULL;
    g_string_append_len(seen, buf, n);
    if (strstr(seen->str, needle)) return TRUE;
  }
  return FALSE;
}

/* A fresh client can connect and get PONG. */
static void assert_server_answers(int port) {
  int fd = dial(port);
  g_assert_cmpint(fd, >=, 0);
  const char *hello = "CONNECT {\"verbose\":false}\r\nPING\r\n";
  g_assert_cmpint(write(fd, hello, strlen(hello)), ==, (ssize_t)strlen(hello));
  g_autoptr(GString) seen = g_string_new(NULL);
  g_assert_true(read_until(fd, "PONG\r\n", 5000, seen));
  close(fd);
}

static long rss_kib(GPid pid) {
  g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
  g_autofree char *s = NULL;
  if (!g_file_get_contents(path, &s, NULL, NULL)) return -1;
  const char *p = strstr(s, "VmRSS:");
  return p ? strtol(p + 6, NULL, 10) : -1;
}

static gboolean raise_nofile(rlim_t want) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= want) return TRUE;
  if (rl.rlim_max < want) return FALSE;
  rl.rlim_cur = want;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

static void test_connection_churn(gconstpointer data) {
  const ServerKind *k = data;
  if (!raise_nofile(STRESS_CONNS + 256)) {
    g_test_skip("RLIMIT_NOFILE hard limit too low for 10,000 connections");
    return;
  }
  g_autofree char *tmp = NULL;
  g_autoptr(TestServer) srv = start(k, &tmp);
  int port = test_server_port(srv);
  assert_server_answers(port);
  long rss_before = rss_kib(test_server_pid(srv));
  long rss_round[3] = {0, 0, 0};
  int *fds = g_new(int, STRESS_CONNS);
  const char *hello = "CONNECT {\"verbose\":false}\r\nSUB idle.x 1\r\nPING\r\n";
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < STRESS_CONNS; i++) {
      fds[i] = dial(port);
      g_assert_cmpint(fds[i], >=, 0);
      g_assert_cmpint(write(fds[i], hello, strlen(hello)), ==, (ssize_t)strlen(hello));
    }
    /* every connection is served: each gets its PONG */
    for (int i = 0; i < STRESS_CONNS; i++) {
      g_autoptr(GString) seen = g_string_new(NULL);
      if (!read_until(fds[i], "PONG\r\n", 10000, seen))
        g_error("%s: connection %d got no PONG (saw %zu bytes)", k->name, i, seen->len);
    }
    /* drop them: half with RST, half with FIN */
    for (int i = 0; i < STRESS_CONNS; i++) {
      if (i % 2) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      }
      close(fds[i]);
    }
    g_usleep(500 * 1000);
    assert_server_answers(port);
    g_usleep(2 * G_USEC_PER_SEC);  /* cnatsd trims its heap a second after mass disconnects */
    rss_round[round] = rss_kib(test_server_pid(srv));
  }
  g_free(fds);
  g_test_message("%s: RSS %ld KiB before, then %ld / %ld / %ld KiB after each round of %d connections", k->name,
                 rss_before, rss_round[0], rss_round[1], rss_round[2], STRESS_CONNS);
  if (strcmp(k->name, "cnatsd") == 0 && g_strcmp0(g_getenv("STRESS_CHECK_RSS"), "0") != 0) {
    /* The closed-connections ring (max_closed_clients = 10,000) fills in
     * round 1 and turns over in round 2; from then on nothing may grow. */
    g_assert_cmpint(rss_round[2] - rss_round[1], <, 2 * 1024);
    g_assert_cmpint(rss_round[2] - rss_before, <, 24 * 1024);
  }
  g_assert_cmpint(test_server_stop(srv, 5000), >=, 0);
}

static void test_garbage(gconstpointer data) {
  const ServerKind *k = data;
  g_autofree char *tmp = NULL;
  g_autoptr(TestServer) srv = start(k, &tmp);
  int port = test_server_port(srv);
  GRand *r = g_rand_new_with_seed(7);
  for (int i = 0; i < 300; i++) {
    int fd = dial(port);
    g_assert_cmpint(fd, >=, 0);
    char buf[2048];
    size_t n = (size_t)g_rand_int_range(r, 1, sizeof buf);
    for (size_t j = 0; j < n; j++) buf[j] = (char)g_rand_int(r);
    if (i % 3 == 0) memcpy(buf, "PUB ", 4);  /* garbage after a valid op name */
    (void)!write(fd, buf, n);
    g_autoptr(GString) seen = g_string_new(NULL);
    read_until(fd, "\x01never", 50, seen);  /* drain what the server answers */
    close(fd);
  }
  g_rand_free(r);
  assert_server_answers(port);
  g_assert_false(test_server_exited(srv));
  g_assert_cmpint(test_server_stop(srv, 5000), >=, 0);
}

/* R007: with the open-files limit exhausted, accept() fails; the server logs
 * it, backs off (10 ms doubling), and serves again once descriptors free up. */
static void test_accept_backoff(gconstpointer data) {
  const ServerKind *k = data;
  if (!g_file_test("/usr/bin/prlimit", G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip("prlimit (util-linux) not found");
    return;
  }
  g_autofree char *tmp = NULL;
  g_autoptr(TestServer) srv = start_limited(k, &tmp, "--nofile=48:48");
  int port = test_server_port(srv);
  int fds[80];
  for (int i = 0; i < 80; i++) fds[i] = dial(port);  /* the kernel queues them; the server cannot take them all */
  g_usleep(300 * 1000);
  g_autofree char *log = test_server_log(srv);
  GRegex *re = g_regex_new("Temporary Client Accept Error\\(.*too many open files\\), sleeping \\d+ms", 0, 0, NULL);
  gboolean seen = g_regex_match(re, log, 0, NULL);
  g_regex_unref(re);
  if (!seen) g_error("%s: no accept backoff in log:\n%s", k->name, log);
  for (int i = 0; i < 80; i++)
    if (fds[i] >= 0) close(fds[i]);
  g_usleep(1200 * 1000);  /* longest backoff is 1 s */
  assert_server_answers(port);
  g_assert_false(test_server_exited(srv));
  test_server_stop(srv, 5000);
}

/* Inputs whose answer must be identical on both servers. */
static const char *const hostile_inputs[] = {
    "PUB foo 99999999999999999999\r\n",
    "PUB foo -1\r\n",
    "HPUB foo 10 5\r\nxxxxx\r\n",
    "SUB\r\n",
    "UNSUB\r\n",
    "PUB foo 5\r\nhelloXX",
    "CONNECT {\"verbose\":false\r\n",
    "CONNECT {\"verbose\":false}\r\nPUB foo",
    "\r\n\r\n",
};

static char *answer(const ServerKind *k, const char *input) {
  g_autofree char *tmp = NULL;
  g_autoptr(TestServer) srv = start(k, &tmp);
  int fd = dial(test_server_port(srv));
  g_assert_cmpint(fd, >=, 0);
  GString *seen = g_string_new(NULL);
  read_until(fd, "\r\n", 2000, seen);  /* INFO */
  g_string_truncate(seen, 0);
  (void)!write(fd, input, strlen(input));
  gboolean closed = FALSE;
  gint64 end = g_get_monotonic_time() + 700 * 1000;
  char buf[4096];
  while (g_get_monotonic_time() < end) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      closed = TRUE;
      break;
    }
    g_string_append_len(seen, buf, n);
  }
  close(fd);
  if (closed) g_string_append(seen, "<closed>");
  test_server_stop(srv, 5000);
  return g_string_free(seen, FALSE);
}

static void test_hostile_inputs_same_answer(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(hostile_inputs); i++) {
    g_autofree char *go = answer(&servers[0], hostile_inputs[i]);
    g_autofree char *c = answer(&servers[1], hostile_inputs[i]);
    g_autofree char *in = g_strescape(hostile_inputs[i], NULL);
    g_autofree char *ge = g_strescape(go, NULL), *ce = g_strescape(c, NULL);
    if (strcmp(go, c) != 0) g_error("input \"%s\": nats-server answered \"%s\", cnatsd \"%s\"", in, ge, ce);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  servers[0] = (ServerKind){"go", g_getenv("NATS_SERVER") ? g_getenv("NATS_SERVER") : "/usr/sbin/nats-server"};
  servers[1] = (ServerKind){"cnatsd", g_getenv("CNATSD")};
  if (!servers[1].exe) g_error("CNATSD is not set");
  for (int i = 0; i < 2; i++) {
    g_autofree char *p1 = g_strdup_printf("/parity/client-connection-handling/R027/ten-thousand-connections-%s", servers[i].name);
    g_test_add_data_func(p1, &servers[i], test_connection_churn);
    g_autofree char *p2 = g_strdup_printf("/parity/protocol-parsing/R049/random-garbage-%s", servers[i].name);
    g_test_add_data_func(p2, &servers[i], test_garbage);
  }
  for (int i = 0; i < 2; i++) {
    g_autofree char *p3 = g_strdup_printf("/parity/core-server-lifecycle/R007/accept-backoff-%s", servers[i].name);
    g_test_add_data_func(p3, &servers[i], test_accept_backoff);
  }
  g_test_add_func("/parity/protocol-parsing/R057/hostile-inputs-same-answer", test_hostile_inputs_same_answer);
  return g_test_run();
}
