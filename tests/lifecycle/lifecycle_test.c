/* lifecycle_test.c — process-level behaviour that has no nats-server
 * counterpart to diff against: R022, where nats-server's Windows service
 * integration becomes systemd's Type=notify protocol on Linux; and that
 * GnuTLS (the module cnatsd-tls.so) is mapped only when TLS is configured.
 *
 * Env: CNATSD (cnatsd binary), CNATSD_FIXTURES (fixtures directory). */
#include <glib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "testlib.h"

static char *recv_notify(int fd, int timeout_ms) {
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (g_get_monotonic_time() < end) {
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n > 0) {
      buf[n] = '\0';
      return g_strdup(buf);
    }
    g_usleep(10 * 1000);
  }
  return NULL;
}

static void test_systemd_notify(void) {
  const char *exe = g_getenv("CNATSD");
  g_assert_nonnull(exe);
  g_autofree char *tmp = g_dir_make_tmp("lifecycle-XXXXXX", NULL);
  g_autofree char *sock_path = g_build_filename(tmp, "notify.sock", NULL);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  g_strlcpy(sa.sun_path, sock_path, sizeof sa.sun_path);
  g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
  g_setenv("NOTIFY_SOCKET", sock_path, TRUE);
  const char *args[] = {"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", tmp, NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(TestServer) srv = test_server_start(exe, args, tmp, tmp, 5000, &error);
  g_unsetenv("NOTIFY_SOCKET");
  g_assert_no_error(error);
  g_autofree char *ready = recv_notify(fd, 5000);
  g_assert_nonnull(ready);
  g_assert_nonnull(strstr(ready, "READY=1"));
  g_autofree char *pid = g_strdup_printf("MAINPID=%d", (int)test_server_pid(srv));
  g_assert_nonnull(strstr(ready, pid));
  g_assert_true(test_server_signal(srv, SIGTERM));
  g_autofree char *stopping = recv_notify(fd, 5000);
  g_assert_cmpstr(stopping, ==, "STOPPING=1");
  int status = 0;
  g_assert_true(test_server_wait_exit(srv, 5000, &status));
  close(fd);
}

/* Whether the running server maps a file whose path contains needle. */
static gboolean maps_contain(GPid pid, const char *needle) {
  g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
  g_autofree char *maps = NULL;
  g_assert_true(g_file_get_contents(path, &maps, NULL, NULL));
  return strstr(maps, needle) != NULL;
}

/* The fresh-RSS budget depends on it: GnuTLS and its dependencies map
 * ~2.2 MiB, so only a server with TLS configured may load them. */
static void test_tls_module_only_when_configured(void) {
  const char *exe = g_getenv("CNATSD"), *fixtures = g_getenv("CNATSD_FIXTURES");
  g_assert_nonnull(exe);
  g_assert_nonnull(fixtures);
  g_autofree char *cert = g_build_filename(fixtures, "tls", "server-cert.pem", NULL);
  g_autofree char *key = g_build_filename(fixtures, "tls", "server-key.pem", NULL);
  for (int with_tls = 0; with_tls < 2; with_tls++) {
    g_autofree char *tmp = g_dir_make_tmp("lifecycle-XXXXXX", NULL);
    const char *plain[] = {"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", tmp, NULL};
    const char *tls[] = {"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", tmp,
                         "--tls", "--tlscert", cert, "--tlskey", key, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(TestServer) srv = test_server_start(exe, with_tls ? tls : plain, tmp, tmp, 5000, &error);
    g_assert_no_error(error);
    GPid pid = test_server_pid(srv);
    g_assert_cmpint(pid, >, 0);
    g_assert_cmpint(maps_contain(pid, "cnatsd-tls.so"), ==, with_tls);
    g_assert_cmpint(maps_contain(pid, "libgnutls"), ==, with_tls);
    test_server_stop(srv, 5000);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/parity/core-server-lifecycle/R022/systemd-notify", test_systemd_notify);
  g_test_add_func("/lifecycle/modules/tls-mapped-only-when-configured", test_tls_module_only_when_configured);
  return g_test_run();
}
