/* log_test.c — log.c in-process: file sink, rotation and purge, SIGUSR1 reopen, sink
 * errors (nats-server's fatal texts), and that a failed reconfigure keeps the old sink. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char *read_all(const char *path) {
  char *txt = NULL;
  g_assert_true(g_file_get_contents(path, &txt, NULL, NULL));
  return txt;
}

static int compare_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir starting with prefix, sorted. */
static GPtrArray *names_with_prefix(const char *dir, const char *prefix) {
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  GDir *d = g_dir_open(dir, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name(d));)
    if (g_str_has_prefix(n, prefix)) g_ptr_array_add(out, g_strdup(n));
  if (d) g_dir_close(d);
  g_ptr_array_sort(out, compare_names);
  return out;
}

static void rm_dir(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name(d));) {
    g_autofree char *p = g_build_filename(dir, n, NULL);
    g_unlink(p);
  }
  if (d) g_dir_close(d);
  g_rmdir(dir);
}

static void test_file_format(void) {
  g_autofree char *dir = g_dir_make_tmp("log-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "a.log", NULL);
  LogConfig lc = {.debug = true, .logtime = false, .file = path};
  g_assert_true(log_configure(&lc, NULL));
  g_assert_true(log_is_file());
  log_info("hello %d", 1);
  log_debug("dbg");
  log_trace("not traced");
  log_warn("w");
  g_autofree char *txt = read_all(path);
  g_autofree char *want = g_strdup_printf("[%d] [INF] hello 1\n[%d] [DBG] dbg\n[%d] [WRN] w\n", getpid(), getpid(), getpid());
  g_assert_cmpstr(txt, ==, want);
  log_close();
  rm_dir(dir);
}

static void test_rotation_and_purge(void) {
  g_autofree char *dir = g_dir_make_tmp("log-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "r.log", NULL);
  LogConfig lc = {.logtime = true, .file = path, .size_limit = 100, .max_num = 2};
  g_assert_true(log_configure(&lc, NULL));
  for (int i = 0; i < 10; i++) log_info("line %d ........................................................", i);
  g_autoptr(GPtrArray) names = names_with_prefix(dir, "r.log");
  /* the live file and max_num-1 = 1 backup */
  g_assert_cmpuint(names->len, ==, 2);
  g_assert_cmpstr(names->pdata[0], ==, "r.log");
  g_autoptr(GRegex) bak = g_regex_new("^r\\.log\\.\\d{4}\\.\\d\\d\\.\\d\\d\\.\\d\\d\\.\\d\\d\\.\\d\\d\\.\\d{9}$", 0, 0, NULL);
  g_assert_true(g_regex_match(bak, names->pdata[1], 0, NULL));
  g_autofree char *txt = read_all(path);
  g_autoptr(GRegex) first = g_regex_new(
      "^\\[\\d+\\] \\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} \\[INF\\] Rotated log, backup saved as \"[^\"]+/r\\.log\\.[\\d.]+\"\r\n"
      "\\[\\d+\\] [\\d/]+ [\\d:.]+ \\[INF\\] Purged log file \"r\\.log\\.[\\d.]+\"\r\n",
      0, 0, NULL);
  g_assert_true(g_regex_match(first, txt, 0, NULL));
  /* not a backup of ours: never purged */
  g_autofree char *other = g_build_filename(dir, "r.log.keep", NULL);
  g_assert_true(g_file_set_contents(other, "x", 1, NULL));
  for (int i = 0; i < 4; i++) log_info("more %d ........................................................", i);
  g_assert_true(g_file_test(other, G_FILE_TEST_EXISTS));
  log_close();
  rm_dir(dir);
}

static void test_reopen(void) {
  g_autofree char *dir = g_dir_make_tmp("log-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "s.log", NULL);
  g_autofree char *moved = g_build_filename(dir, "s.log.1", NULL);
  LogConfig lc = {.logtime = false, .file = path};
  g_assert_true(log_configure(&lc, NULL));
  log_info("before");
  g_assert_cmpint(g_rename(path, moved), ==, 0);
  g_autofree char *error = NULL;
  g_assert_true(log_reopen(&error));
  log_info("after");
  g_autofree char *a = read_all(moved), *b = read_all(path);
  g_assert_nonnull(strstr(a, "[INF] before\n"));
  g_assert_null(strstr(a, "after"));
  g_assert_nonnull(strstr(b, "[INF] after\n"));
  /* the directory is gone: reopen fails with Go's text and the old fd stays usable */
  rm_dir(dir);
  g_assert_false(log_reopen(&error));
  g_autofree char *want = g_strdup_printf("error opening file: open %s: no such file or directory", path);
  g_assert_cmpstr(error, ==, want);
  log_close();
  g_assert_false(log_is_file());
  g_assert_true(log_reopen(NULL)); /* not a file: nothing to do */
}

static void test_sink_errors(void) {
  static const struct {
    const char *url, *error;
  } cases[] = {
      {"foo://x:1", "error invalid network type: \"foo\""},
      {"127.0.0.1:514", "parse \"127.0.0.1:514\": first path segment in URL cannot contain colon"},
      {"udp://127.0.0.1", "error connecting to syslog: \"dial udp: address 127.0.0.1: missing port in address\""},
      {"tcp://127.0.0.1:1", "error connecting to syslog: \"dial tcp 127.0.0.1:1: connect: connection refused\""},
      {"unix:///nonexistent/sock", "error connecting to syslog: \"dial unix /nonexistent/sock: connect: no such file or directory\""},
  };
  g_autofree char *dir = g_dir_make_tmp("log-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "keep.log", NULL);
  LogConfig ok = {.logtime = false, .file = path};
  g_assert_true(log_configure(&ok, NULL));
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    LogConfig lc = {.remote_syslog = cases[i].url};
    g_autofree char *error = NULL;
    g_assert_false(log_configure(&lc, &error));
    g_assert_cmpstr(error, ==, cases[i].error);
  }
  LogConfig bad_file = {.file = "/nonexistent/dir/x.log"};
  g_autofree char *error = NULL;
  g_assert_false(log_configure(&bad_file, &error));
  g_assert_cmpstr(error, ==, "error opening file: open /nonexistent/dir/x.log: no such file or directory");
  /* every failure kept the file sink */
  log_info("still here");
  g_autofree char *txt = read_all(path);
  g_assert_nonnull(strstr(txt, "[INF] still here\n"));
  log_close();
  rm_dir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/log/R180/file-format", test_file_format);
  g_test_add_func("/log/R181/rotation-and-purge", test_rotation_and_purge);
  g_test_add_func("/log/R183/reopen", test_reopen);
  g_test_add_func("/log/R182/sink-errors", test_sink_errors);
  return g_test_run();
}
