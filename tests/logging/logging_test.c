/* logging_test.c — log sinks the parity scenario language cannot observe, each run
 * against /usr/sbin/nats-server and cnatsd and compared:
 *  - R182 syslog: a UDP, TCP and unix-socket receiver for -r, and -s (local syslog)
 *    through a private mount namespace where our socket stands in for /dev/log; every
 *    line must match the header format Go's log/syslog writes, and the startup lines
 *    (priority + text, volatile parts masked) must be the same for both servers;
 *  - R187 colour labels when stderr is a terminal (a pty);
 *  - R188 timestamps in local time (TZ set), and cnatsd's 2.10 logtime_utc.
 *
 * Env: CNATSD (required), NATS_SERVER (default /usr/sbin/nats-server; absent = skip). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "testlib.h"

static const char *cnatsd_exe(void) { return g_getenv("CNATSD"); }

static const char *go_exe(void) {
  const char *e = g_getenv("NATS_SERVER");
  return e ? e : "/usr/sbin/nats-server";
}

static gboolean have_go(void) {
  if (g_file_test(go_exe(), G_FILE_TEST_IS_EXECUTABLE)) return TRUE;
  g_test_skip("reference nats-server not installed");
  return FALSE;
}

static void rm_tree(const char *dir) {
  const char *argv[] = {"rm", "-rf", dir, NULL};
  g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* ---- receivers ---------------------------------------------------------------------- */

typedef enum { RX_UDP, RX_TCP, RX_UNIX_STREAM, RX_UNIX_DGRAM } RxKind;

typedef struct {
  RxKind kind;
  int fd;          /* listening / bound socket */
  int conn;        /* accepted stream, -1 before */
  GString *data;   /* everything received; datagrams each end with their own \n */
  char *url;       /* for -r */
} Rx;

static Rx *rx_new(RxKind kind, const char *sock_path) {
  Rx *rx = g_new0(Rx, 1);
  rx->kind = kind;
  rx->conn = -1;
  rx->data = g_string_new(NULL);
  if (kind == RX_UDP || kind == RX_TCP) {
    rx->fd = socket(AF_INET, kind == RX_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_assert_cmpint(bind(rx->fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    socklen_t len = sizeof sa;
    getsockname(rx->fd, (struct sockaddr *)&sa, &len);
    rx->url = g_strdup_printf("%s://127.0.0.1:%d", kind == RX_UDP ? "udp" : "tcp", ntohs(sa.sin_port));
  } else {
    rx->fd = socket(AF_UNIX, kind == RX_UNIX_DGRAM ? SOCK_DGRAM : SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    g_strlcpy(un.sun_path, sock_path, sizeof un.sun_path);
    g_assert_cmpint(bind(rx->fd, (struct sockaddr *)&un, sizeof un), ==, 0);
    rx->url = g_strdup_printf("unix://%s", sock_path);
  }
  if (kind == RX_TCP || kind == RX_UNIX_STREAM) g_assert_cmpint(listen(rx->fd, 4), ==, 0);
  return rx;
}

static void rx_free(Rx *rx) {
  if (rx->conn >= 0) close(rx->conn);
  close(rx->fd);
  g_string_free(rx->data, TRUE);
  g_free(rx->url);
  g_free(rx);
}

/* Reads until `until` appears in the data or timeout_ms passes. */
static gboolean rx_wait_for(Rx *rx, const char *until, int timeout_ms) {
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (!strstr(rx->data->str, until)) {
    gint64 left = (end - g_get_monotonic_time()) / 1000;
    if (left <= 0) return FALSE;
    gboolean stream = rx->kind == RX_TCP || rx->kind == RX_UNIX_STREAM;
    struct pollfd p = {.fd = stream && rx->conn >= 0 ? rx->conn : rx->fd, .events = POLLIN};
    if (poll(&p, 1, (int)MIN(left, 200)) <= 0) continue;
    if (stream && rx->conn < 0) {
      rx->conn = accept(rx->fd, NULL, NULL);
      continue;
    }
    char buf[4096];
    ssize_t n = recv(p.fd, buf, sizeof buf, 0);
    if (n <= 0) return FALSE;
    g_string_append_len(rx->data, buf, n);
  }
  return TRUE;
}

/* ---- syslog line checks -------------------------------------------------------------- */

/* Checks every line's header and returns "<pri>text" per line up to "Server is ready",
 * with the parts that differ between the two servers masked. */
static char *syslog_normalise(const char *data, gboolean local_format, const char *tag, GPid pid) {
  char host[256] = "";
  gethostname(host, sizeof host);
  g_autofree char *qhost = g_regex_escape_string(host, -1);
  g_autofree char *qtag = g_regex_escape_string(tag, -1);
  g_autofree char *pattern =
      local_format ? g_strdup_printf("^<(\\d+)>[A-Z][a-z]{2} [ 1-3]\\d \\d\\d:\\d\\d:\\d\\d %s\\[%d\\]: (.*)$", qtag, (int)pid)
                   : g_strdup_printf("^<(\\d+)>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:Z|[+-]\\d\\d:\\d\\d) %s %s\\[%d\\]: (.*)$",
                                     qhost, qtag, (int)pid);
  g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);
  g_autoptr(GRegex) mask = g_regex_new("N[A-Z2-7]{55}|127\\.0\\.0\\.1:\\d+|Go build: .*|Version:  .*", 0, 0, NULL);
  g_assert_nonnull(re);
  g_assert_true(g_str_has_suffix(data, "\n"));
  g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
  GString *out = g_string_new(NULL);
  for (char **l = lines; *l && **l; l++) {
    g_autoptr(GMatchInfo) mi = NULL;
    if (!g_regex_match(re, *l, 0, &mi)) g_error("syslog line does not match %s:\n%s", pattern, *l);
    g_autofree char *pri = g_match_info_fetch(mi, 1);
    g_autofree char *text = g_match_info_fetch(mi, 2);
    g_autofree char *masked = g_regex_replace_literal(mask, text, -1, 0, "<*>", 0, NULL);
    g_string_append_printf(out, "<%s>%s\n", pri, masked);
    if (strcmp(text, "Server is ready") == 0) break;
  }
  return g_string_free(out, FALSE);
}

static char *run_remote_syslog(const char *exe, RxKind kind, const char *tmp) {
  g_autofree char *sock = g_build_filename(tmp, "syslog.sock", NULL);
  g_unlink(sock);
  Rx *rx = rx_new(kind, sock);
  const char *args[] = {"-D", "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", tmp, "-r", rx->url, NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(TestServer) srv = test_server_start(exe, args, tmp, tmp, 10000, &error);
  g_assert_no_error(error);
  g_assert_true(rx_wait_for(rx, "Server is ready\n", 5000));
  g_autofree char *tag = g_path_get_basename(exe);
  char *norm = syslog_normalise(rx->data->str, kind != RX_UDP && kind != RX_TCP, tag, test_server_pid(srv));
  /* remote syslog uses facility 0 (kern): notice = 5, debug = 7 */
  g_assert_true(g_str_has_prefix(norm, "<5>Starting nats-server\n"));
  g_assert_nonnull(strstr(norm, "<7>Created system account: \"$SYS\"\n"));
  /* nothing on stderr: the sink replaced it */
  g_autofree char *log = test_server_log(srv);
  g_assert_null(strstr(log, "Server is ready"));
  test_server_stop(srv, 5000);
  rx_free(rx);
  return norm;
}

static void check_remote(RxKind kind) {
  if (!have_go()) return;
  g_autofree char *tmp = g_dir_make_tmp("logging-XXXXXX", NULL);
  g_autofree char *go = run_remote_syslog(go_exe(), kind, tmp);
  g_autofree char *c = run_remote_syslog(cnatsd_exe(), kind, tmp);
  rm_tree(tmp);
  g_assert_cmpstr(c, ==, go);
}

static void test_remote_udp(void) { check_remote(RX_UDP); }
static void test_remote_tcp(void) { check_remote(RX_TCP); }
static void test_remote_unix(void) { check_remote(RX_UNIX_STREAM); }

/* -s: Go dials /dev/log, /var/run/syslog, /var/run/log (datagram first).  In a private
 * mount namespace our datagram socket is bound over /dev/log (if the host has one) or a
 * directory holding "syslog" over /run, so the server reaches the receiver. */
static char *run_local_syslog(const char *exe, const char *tmp) {
  g_autofree char *dir = g_build_filename(tmp, "run", NULL);
  g_mkdir_with_parents(dir, 0755);
  g_autofree char *sock = g_build_filename(dir, "syslog", NULL);
  g_unlink(sock);
  Rx *rx = rx_new(RX_UNIX_DGRAM, sock);
  chmod(sock, 0666);
  g_autofree char *script = g_strdup_printf(
      "if [ -e /dev/log ]; then mount --bind '%s' /dev/log || exit 77; else mount --bind '%s' /run || exit 77; fi; "
      "exec \"$0\" \"$@\"", sock, dir);
  const char *args[] = {"-m", "--", "sh", "-c", script, exe, "-D", "-a", "127.0.0.1", "-p", "-1",
                        "--ports_file_dir", tmp, "-s", NULL};
  g_autoptr(GError) error = NULL;
  g_autofree char *unshare = g_find_program_in_path("unshare");
  g_autoptr(TestServer) srv = test_server_start(unshare, args, tmp, tmp, 10000, &error);
  if (!srv) {
    rx_free(rx);
    return NULL;
  }
  g_assert_true(rx_wait_for(rx, "Server is ready\n", 5000));
  g_autofree char *tag = g_path_get_basename(exe);
  char *norm = syslog_normalise(rx->data->str, TRUE, tag, test_server_pid(srv));
  /* facility daemon (3): notice = 29, debug = 31 */
  g_assert_true(g_str_has_prefix(norm, "<29>Starting nats-server\n"));
  g_assert_nonnull(strstr(norm, "<31>Created system account: \"$SYS\"\n"));
  test_server_stop(srv, 5000);
  rx_free(rx);
  return norm;
}

static void test_local_syslog(void) {
  if (!have_go()) return;
  g_autofree char *unshare = g_find_program_in_path("unshare");
  if (geteuid() != 0 || !unshare) {
    g_test_skip("needs root and unshare(1) for a private /dev/log");
    return;
  }
  g_autofree char *tmp = g_dir_make_tmp("logging-XXXXXX", NULL);
  g_autofree char *go = run_local_syslog(go_exe(), tmp);
  if (!go) {
    rm_tree(tmp);
    g_test_skip("cannot make a private mount namespace here");
    return;
  }
  g_autofree char *c = run_local_syslog(cnatsd_exe(), tmp);
  rm_tree(tmp);
  g_assert_nonnull(c);
  g_assert_cmpstr(c, ==, go);
}

/* ---- colours on a terminal ----------------------------------------------------------- */

/* Runs exe with stdout+stderr on a pty until "Server is ready"; returns the output. */
static char *run_on_pty(const char *exe, const char *tmp) {
  int master, slave;
  g_assert_cmpint(openpty(&master, &slave, NULL, NULL, NULL), ==, 0);
  pid_t pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    dup2(slave, 1);
    dup2(slave, 2);
    close(master);
    close(slave);
    execl(exe, exe, "-D", "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", tmp, (char *)NULL);
    _exit(127);
  }
  close(slave);
  GString *out = g_string_new(NULL);
  gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (!strstr(out->str, "Server is ready") && g_get_monotonic_time() < end) {
    struct pollfd p = {.fd = master, .events = POLLIN};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;
    g_string_append_len(out, buf, n);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  close(master);
  return g_string_free(out, FALSE);
}

/* The labels in order ("[\e[32mINF\e[0m] " ...), one per line up to "Server is ready". */
static char *labels_of(const char *out) {
  g_autoptr(GRegex) re = g_regex_new("^\\[\\d+\\] [\\d/]+ [\\d:.]+ (\\[[^]]*\\]) (.*?)\\r?$", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) mi = NULL;
  GString *labels = g_string_new(NULL);
  for (g_regex_match(re, out, 0, &mi); g_match_info_matches(mi); g_match_info_next(mi, NULL)) {
    g_autofree char *label = g_match_info_fetch(mi, 1);
    g_autofree char *text = g_match_info_fetch(mi, 2);
    g_string_append_printf(labels, "%s\n", label);
    if (strcmp(text, "Server is ready") == 0) break;
  }
  return g_string_free(labels, FALSE);
}

static void test_colors_on_tty(void) {
  if (!have_go()) return;
  g_autofree char *tmp = g_dir_make_tmp("logging-XXXXXX", NULL);
  g_autofree char *go = run_on_pty(go_exe(), tmp);
  g_autofree char *c = run_on_pty(cnatsd_exe(), tmp);
  rm_tree(tmp);
  g_assert_nonnull(strstr(go, "[\x1b[32mINF\x1b[0m] Server is ready"));
  g_assert_nonnull(strstr(c, "[\x1b[32mINF\x1b[0m] Server is ready"));
  g_assert_nonnull(strstr(c, "[\x1b[36mDBG\x1b[0m] Created system account"));
  g_autofree char *gl = labels_of(go), *cl = labels_of(c);
  g_assert_cmpstr(cl, ==, gl);
}

/* ---- timestamps ------------------------------------------------------------------------ */

/* Hour of the "Server is ready" line, from a server started with TZ=tz. */
static int ready_hour(const char *exe, const char *tz, const char *extra) {
  g_autofree char *tmp = g_dir_make_tmp("logging-XXXXXX", NULL);
  /* env(1) sets TZ for the server alone and execs it (same pid) */
  g_autofree char *tz_var = g_strdup_printf("TZ=%s", tz);
  const char *args[] = {tz_var, exe, "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", tmp, extra, NULL};
  g_autofree char *env = g_find_program_in_path("env");
  g_autoptr(GError) error = NULL;
  g_autoptr(TestServer) srv = test_server_start(env, args, tmp, tmp, 10000, &error);
  g_assert_no_error(error);
  g_autoptr(GRegex) re = g_regex_new("^\\[\\d+\\] \\d{4}/\\d\\d/\\d\\d (\\d\\d):\\d\\d:\\d\\d\\.\\d{6} \\[INF\\] Server is ready$",
                                     G_REGEX_MULTILINE, 0, NULL);
  int hour = -1;
  for (int i = 0; i < 100 && hour < 0; i++) {
    g_autofree char *log = test_server_log(srv);
    g_autoptr(GMatchInfo) mi = NULL;
    if (g_regex_match(re, log, 0, &mi)) {
      g_autofree char *h = g_match_info_fetch(mi, 1);
      hour = atoi(h);
    } else {
      g_usleep(50 * 1000);
    }
  }
  test_server_stop(srv, 5000);
  rm_tree(tmp);
  g_assert_cmpint(hour, >=, 0);
  return hour;
}

static void test_local_time(void) {
  if (!have_go()) return;
  if (!g_file_test("/usr/share/zoneinfo/Asia/Tokyo", G_FILE_TEST_EXISTS)) {
    g_test_skip("tzdata not installed");
    return;
  }
  /* Tokyo is UTC+9 all year: local lines are 9 hours ahead of UTC for both servers. */
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  int utc_hour = g_date_time_get_hour(now);
  int go = ready_hour(go_exe(), "Asia/Tokyo", NULL);
  int c = ready_hour(cnatsd_exe(), "Asia/Tokyo", NULL);
  g_assert_cmpint(c, ==, go);
  g_assert_true(c == (utc_hour + 9) % 24 || c == (utc_hour + 10) % 24);  /* hour may roll over */
  /* cnatsd's --logtime_utc (nats-server 2.10) */
  int u = ready_hour(cnatsd_exe(), "Asia/Tokyo", "--logtime_utc");
  g_assert_true(u == utc_hour || u == (utc_hour + 1) % 24);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (!cnatsd_exe()) {
    g_printerr("CNATSD not set\n");
    return 77;
  }
  g_test_add_func("/parity/logging/R182/remote-syslog-udp", test_remote_udp);
  g_test_add_func("/parity/logging/R182/remote-syslog-tcp", test_remote_tcp);
  g_test_add_func("/parity/logging/R182/remote-syslog-unix", test_remote_unix);
  g_test_add_func("/parity/logging/R182/local-syslog", test_local_syslog);
  g_test_add_func("/parity/logging/R187/colors-on-tty", test_colors_on_tty);
  g_test_add_func("/parity/logging/R188/local-time-and-utc", test_local_time);
  return g_test_run();
}
