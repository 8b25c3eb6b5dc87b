/* testlib_test.c — unit tests for the black-box test helpers themselves (JSON shapes, ports
 * file parsing, the wire client against a local socket, process control with /bin/sh). */
#include "testlib.h"

#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <glib/gstdio.h>
#include <unistd.h>

static void
test_json_shape_masks_and_sorts(void)
{
  const char *const masked[] = {"id", "port", NULL};
  g_autofree char *a = test_json_shape("{\"b\":1,\"a\":{\"y\":true,\"x\":null},\"id\":\"N1\",\"port\":1}",
                                       masked, NULL);
  g_assert_cmpstr(a, ==, "{\"a\":{\"x\":null,\"y\":true},\"b\":1,\"id\":\"<string>\",\"port\":\"<number>\"}");
  g_autofree char *diff = NULL;
  g_assert_true(test_json_same_shape("{\"id\":\"A\",\"v\":1}", "{\"v\":1,\"id\":\"B\"}", masked, NULL));
  g_assert_false(test_json_same_shape("{\"id\":\"A\",\"v\":1}", "{\"v\":2,\"id\":\"B\"}", masked, &diff));
  g_assert_nonnull(diff);
  /* a masked value of another type is a difference */
  g_assert_false(test_json_same_shape("{\"id\":\"A\"}", "{\"id\":7}", masked, NULL));
  /* an extra key is a difference */
  g_assert_false(test_json_same_shape("{\"v\":1}", "{\"v\":1,\"w\":1}", masked, NULL));
  g_autoptr(GError) err = NULL;
  g_assert_null(test_json_shape("{bad", masked, &err));
  g_assert_nonnull(err);
}

static void
test_json_contains_subset(void)
{
  const char *doc = "{\"a\":1,\"b\":{\"c\":\"x\",\"d\":[1,{\"e\":2,\"f\":3}]}}";
  g_autofree char *why = NULL;
  g_assert_true(test_json_contains(doc, "{\"a\":1}", NULL));
  g_assert_true(test_json_contains(doc, "{\"b\":{\"d\":[1,{\"f\":3}]}}", NULL));
  g_assert_false(test_json_contains(doc, "{\"a\":2}", &why));
  g_assert_nonnull(strstr(why, "$.a"));
  g_clear_pointer(&why, g_free);
  g_assert_false(test_json_contains(doc, "{\"z\":1}", &why));
  g_assert_nonnull(strstr(why, "missing"));
  g_assert_false(test_json_contains(doc, "{\"b\":{\"d\":[1]}}", NULL)); /* length differs */
  g_assert_false(test_json_contains("not json", "{}", NULL));
}

static void
test_ports_file_parse(void)
{
  g_assert_cmpint(test_server_parse_ports_file("{\"nats\":[\"nats://127.0.0.1:4222\"]}"), ==, 4222);
  g_assert_cmpint(test_server_parse_ports_file("{\"client\":[\"nats://127.0.0.1:5000\"]}"), ==, 5000);
  g_assert_cmpint(test_server_parse_ports_file("{\"nats\":[]}"), ==, 0);
  g_assert_cmpint(test_server_parse_ports_file("{\"nats\":[\"nats://h:99999\"]}"), ==, 0);
  g_assert_cmpint(test_server_parse_ports_file("{\"nats\":[\"nats://127.0.0.1:42"), ==, 0);
  g_assert_cmpint(test_server_parse_ports_file(NULL), ==, 0);
  g_assert_cmpint(test_server_free_port(), >, 0);
}

static int
listen_local(int *port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
  g_assert_cmpint(listen(fd, 4), ==, 0);
  g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
  *port = ntohs(sa.sin_port);
  return fd;
}

static void
test_wire_lines_and_close(void)
{
  int port = 0, lfd = listen_local(&port);
  g_autoptr(GError) err = NULL;
  TestWire *w = test_wire_connect("127.0.0.1", port, 1000, &err);
  g_assert_no_error(err);
  int peer = accept(lfd, NULL, NULL);
  g_assert_cmpint(peer, >=, 0);

  g_assert_cmpint(test_wire_expect_nothing(w, 50, NULL), ==, TEST_WIRE_OK);
  const char out[] = "A\r\nB\nC\0D\r\nxyzpartial";
  g_assert_cmpint(write(peer, out, sizeof out - 1), ==, (ssize_t)(sizeof out - 1));
  char *line = NULL;
  gsize len = 0;
  gboolean bare = TRUE;
  g_assert_cmpint(test_wire_read_line(w, 1000, &line, &len, &bare), ==, TEST_WIRE_OK);
  g_assert_cmpstr(line, ==, "A");
  g_assert_false(bare);
  g_free(line);
  g_assert_cmpint(test_wire_read_line(w, 1000, &line, &len, &bare), ==, TEST_WIRE_OK);
  g_assert_cmpstr(line, ==, "B");
  g_assert_true(bare);
  g_free(line);
  g_assert_cmpint(test_wire_read_line(w, 1000, &line, &len, &bare), ==, TEST_WIRE_OK);
  g_assert_cmpuint(len, ==, 3); /* NUL kept */
  g_assert_cmpmem(line, 3, "C\0D", 3);
  g_free(line);
  g_assert_cmpint(test_wire_read_n(w, 3, 1000, &line), ==, TEST_WIRE_OK);
  g_assert_cmpstr(line, ==, "xyz");
  g_free(line);
  g_assert_cmpint(test_wire_read_line(w, 50, &line, NULL, NULL), ==, TEST_WIRE_TIMEOUT);
  g_assert_null(line);
  /* buffered data means "something arrived" and blocks expect_close */
  g_autoptr(GString) seen = g_string_new(NULL);
  g_assert_cmpint(test_wire_expect_close(w, 50, seen), ==, TEST_WIRE_ERROR);
  g_assert_cmpstr(seen->str, ==, "partial");
  g_assert_cmpint(test_wire_read_n(w, 7, 100, &line), ==, TEST_WIRE_OK);
  g_free(line);
  g_assert_cmpint(test_wire_send(w, "PING\r\n", 6, &err), ==, TRUE);
  char buf[8] = {0};
  g_assert_cmpint(read(peer, buf, 6), ==, 6);
  g_assert_cmpstr(buf, ==, "PING\r\n");
  close(peer);
  g_assert_cmpint(test_wire_expect_close(w, 1000, NULL), ==, TEST_WIRE_OK);
  test_wire_free(w);
  close(lfd);
}

static void
test_server_process_control(void)
{
  g_autofree char *dir = g_dir_make_tmp("testlib-XXXXXX", NULL);
  g_autoptr(GError) err = NULL;
  /* exit status and log capture */
  const char *args1[] = {"-c", "echo to-log; echo err-too >&2; exit 3", NULL};
  TestServer *s = test_server_start("/bin/sh", args1, dir, NULL, 1000, &err);
  g_assert_no_error(err);
  int st = -1;
  g_assert_true(test_server_wait_exit(s, 5000, &st));
  g_assert_cmpint(st, ==, 3);
  g_autofree char *log = test_server_log(s);
  g_assert_nonnull(strstr(log, "to-log"));
  g_assert_nonnull(strstr(log, "err-too"));
  test_server_free(s);

  /* ports file discovery by pid, then SIGTERM */
  g_autofree char *script = g_strdup_printf(
      "printf '{\"nats\":[\"nats://127.0.0.1:4321\"],\"monitoring\":[\"http://127.0.0.1:8222\"]}' "
      "> %s/fake_$$.ports; exec sleep 30", dir);
  const char *args2[] = {"-c", script, NULL};
  s = test_server_start("/bin/sh", args2, dir, dir, 5000, &err);
  g_assert_no_error(err);
  g_assert_cmpint(test_server_port(s), ==, 4321);
  g_assert_cmpint(test_server_port_of(s, "monitoring"), ==, 8222);
  g_assert_cmpint(test_server_port_of(s, "profile"), ==, 0);
  g_assert_false(test_server_exited(s));
  g_assert_cmpint(test_server_stop(s, 2000), ==, 128 + SIGTERM);
  test_server_free(s);

  /* a "server" that never writes its ports file is an error carrying its log */
  const char *args3[] = {"-c", "echo no-ports-here; exit 1", NULL};
  s = test_server_start("/bin/sh", args3, dir, dir, 2000, &err);
  g_assert_null(s);
  g_assert_nonnull(err);
  g_assert_nonnull(strstr(err->message, "no-ports-here"));
  g_clear_error(&err);

  /* RLIMIT_NOFILE is applied in the child */
  const char *args4[] = {"-c", "test \"$(ulimit -n)\" = 17", NULL};
  s = test_server_start_limited("/bin/sh", args4, dir, NULL, 1000, 17, &err);
  g_assert_no_error(err);
  g_assert_true(test_server_wait_exit(s, 5000, &st));
  g_assert_cmpint(st, ==, 0);
  test_server_free(s);

  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/testlib/json/shape", test_json_shape_masks_and_sorts);
  g_test_add_func("/testlib/json/contains", test_json_contains_subset);
  g_test_add_func("/testlib/server/ports-file", test_ports_file_parse);
  g_test_add_func("/testlib/wire/lines-and-close", test_wire_lines_and_close);
  g_test_add_func("/testlib/server/process-control", test_server_process_control);
  return g_test_run();
}
