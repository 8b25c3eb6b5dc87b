/* opts_test.c — command line parsing with Go flag rules, and durations. */
#include <glib.h>
#include <glib/gstdio.h>

#include "const.h"
#include "opts.h"

static OptsAction parse(Options *o, const char *line, char **sig) {
  g_auto(GStrv) argv = g_strsplit(line, " ", -1);
  return opts_parse_args(o, (int)g_strv_length(argv), argv, sig);
}

static void test_flags(void) {
  g_autoptr(Options) o = opts_new_default();
  char *sig = NULL;
  g_assert_cmpint(o->port, ==, DEFAULT_PORT);
  g_assert_cmpint(parse(o, "cnatsd -p 5222 --addr=127.0.0.1 -n alpha -DV -T=false --ports_file_dir /tmp", &sig), ==,
                  OPTS_RUN);
  g_assert_cmpint(o->port, ==, 5222);
  g_assert_cmpstr(o->host, ==, "127.0.0.1");
  g_assert_cmpstr(o->server_name, ==, "alpha");
  g_assert_true(o->debug && o->trace);
  g_assert_false(o->logtime);
  g_assert_cmpstr(o->ports_file_dir, ==, "/tmp");
  g_assert_null(sig);
  g_assert_cmpint(parse(o, "cnatsd --port=-1 --net 0.0.0.0 -VV", &sig), ==, OPTS_RUN);
  g_assert_cmpint(o->port, ==, -1);
  g_assert_true(o->trace_verbose);
}

/* R124/R182/R181: logging flags, with Go's "-DV=false" for the combined ones. */
static void test_logging_flags(void) {
  g_autoptr(Options) o = opts_new_default();
  char *sig = NULL;
  g_assert_false(o->syslog);
  g_assert_cmpint(parse(o, "cnatsd -s -r udp://h:514 --log_size_limit 1024 -l /tmp/x.log --logtime_utc", &sig), ==,
                  OPTS_RUN);
  g_assert_true(o->syslog);
  g_assert_cmpstr(o->remote_syslog, ==, "udp://h:514");
  g_assert_cmpint(o->log_size_limit, ==, 1024);
  g_assert_cmpstr(o->log_file, ==, "/tmp/x.log");
  g_assert_true(o->logtime_utc);
  g_assert_cmpint(parse(o, "cnatsd --syslog=false --remote_syslog tcp://h:1", &sig), ==, OPTS_RUN);
  g_assert_false(o->syslog);
  g_assert_cmpstr(o->remote_syslog, ==, "tcp://h:1");
  g_assert_cmpint(parse(o, "cnatsd -DVV", &sig), ==, OPTS_RUN);
  g_assert_true(o->debug && o->trace && o->trace_verbose);
  g_assert_cmpint(parse(o, "cnatsd -VV=false", &sig), ==, OPTS_RUN);
  g_assert_true(o->debug);
  g_assert_false(o->trace || o->trace_verbose);
  g_assert_cmpint(parse(o, "cnatsd -DV -DV=false", &sig), ==, OPTS_RUN);
  g_assert_false(o->debug || o->trace);
}

/* Config keys of the logging section; trace_verbose also sets trace, as in Go. */
static void test_logging_keys(void) {
  g_autofree char *dir = g_dir_make_tmp("opts-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "s.conf", NULL);
  g_assert_true(g_file_set_contents(path,
                                    "logfile: /tmp/a.log\nlogfile_size_limit: 10KB\nlogfile_max_num: 3\n"
                                    "syslog: true\nremote_syslog: \"udp://h:514\"\nlogtime_utc: true\n"
                                    "trace_verbose: true\n",
                                    -1, NULL));
  g_autoptr(Options) o = opts_new_default();
  g_autofree char *report = NULL;
  g_assert_true(opts_load_config(o, path, TRUE, &report));
  g_assert_cmpstr(o->log_file, ==, "/tmp/a.log");
  g_assert_cmpint(o->log_size_limit, ==, 10 * 1024);
  g_assert_cmpint(o->log_max_num, ==, 3);
  g_assert_true(o->syslog && o->logtime_utc && o->trace && o->trace_verbose);
  g_assert_cmpstr(o->remote_syslog, ==, "udp://h:514");
  g_assert_true(g_file_set_contents(path, "log_size_limit: 1\nlog_file: x\n", -1, NULL));
  g_autoptr(Options) o2 = opts_new_default();
  g_assert_true(opts_load_config(o2, path, TRUE, &report));
  g_assert_cmpint(o2->log_size_limit, ==, 1);
  g_unlink(path);
  g_rmdir(dir);
}

static void test_signal(void) {
  g_autoptr(Options) o = opts_new_default();
  g_autofree char *sig = NULL;
  g_assert_cmpint(parse(o, "cnatsd --signal ldm=/tmp/x.pid", &sig), ==, OPTS_SIGNAL);
  g_assert_cmpstr(sig, ==, "ldm=/tmp/x.pid");
}

static void test_errors(void) {
  if (g_test_subprocess()) {
    g_autoptr(Options) o = opts_new_default();
    char *sig = NULL;
    g_assert_cmpint(parse(o, "cnatsd --bogus", &sig), ==, OPTS_EXIT_ERROR);
    g_assert_cmpint(parse(o, "cnatsd -p abc", &sig), ==, OPTS_EXIT_ERROR);
    g_assert_cmpint(parse(o, "cnatsd -p", &sig), ==, OPTS_EXIT_ERROR);
    g_assert_cmpint(parse(o, "cnatsd -D=maybe", &sig), ==, OPTS_EXIT_ERROR);
    g_assert_cmpint(parse(o, "cnatsd -p 1 extra", &sig), ==, OPTS_EXIT_ERROR);
    g_assert_cmpint(parse(o, "cnatsd -h", &sig), ==, OPTS_EXIT_OK);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr("*flag provided but not defined: -bogus*");
  g_test_trap_assert_stderr("*invalid value \"abc\" for flag -p: parse error*");
  g_test_trap_assert_stderr("*flag needs an argument: -p*");
  g_test_trap_assert_stderr("*unrecognized command: \"extra\"*");
  g_test_trap_assert_stdout("*Usage: cnatsd [options]*");
}

static void test_duration(void) {
  int64_t us;
  g_assert_true(opts_parse_duration("2s", &us));
  g_assert_cmpint(us, ==, 2000000);
  g_assert_true(opts_parse_duration("1m30s", &us));
  g_assert_cmpint(us, ==, 90000000);
  g_assert_true(opts_parse_duration("250ms", &us));
  g_assert_cmpint(us, ==, 250000);
  g_assert_true(opts_parse_duration("1.5h", &us));
  g_assert_cmpint(us, ==, 5400000000);
  g_assert_true(opts_parse_duration("0", &us));
  g_assert_cmpint(us, ==, 0);
  g_assert_false(opts_parse_duration("", &us));
  g_assert_false(opts_parse_duration("10", &us));
  g_assert_false(opts_parse_duration("5x", &us));
  g_assert_false(opts_parse_duration("s", &us));
}

static void test_format_duration(void) {
  char b[32];
  g_assert_cmpstr(opts_format_duration(500000, b, sizeof b), ==, "500ms");
  g_assert_cmpstr(opts_format_duration(2 * G_USEC_PER_SEC, b, sizeof b), ==, "2s");
  g_assert_cmpstr(opts_format_duration(90 * G_USEC_PER_SEC, b, sizeof b), ==, "1m30s");
  g_assert_cmpstr(opts_format_duration(3600LL * G_USEC_PER_SEC, b, sizeof b), ==, "1h0m0s");
  g_assert_cmpstr(opts_format_duration(1500000, b, sizeof b), ==, "1.5s");
  g_assert_cmpstr(opts_format_duration(1500, b, sizeof b), ==, "1.5ms");
  g_assert_cmpstr(opts_format_duration(0, b, sizeof b), ==, "0s");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/opts/flags", test_flags);
  g_test_add_func("/opts/signal", test_signal);
  g_test_add_func("/opts/R124/logging-flags", test_logging_flags);
  g_test_add_func("/opts/R181/logging-keys", test_logging_keys);
  g_test_add_func("/opts/errors", test_errors);
  g_test_add_func("/opts/duration", test_duration);
  g_test_add_func("/opts/format-duration", test_format_duration);
  return g_test_run();
}
