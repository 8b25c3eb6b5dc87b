/* client_out_test.c — outbound chunk queue: byte-exact delivery through
 * partial writes, pending accounting, and chunk recycling. */
#include <errno.h>
#include <signal.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_out.h"

static void drain(int fd, GByteArray *into) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    g_byte_array_append(into, (guint8 *)buf, (guint)n);
  }
}

static void test_roundtrip_partial_writes(void) {
  int sv[2];
  g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), ==, 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  OutPool pool;
  out_pool_init(&pool);
  OutQueue q = {0};
  GByteArray *expect = g_byte_array_new(), *got = g_byte_array_new();
  GRand *r = g_rand_new_with_seed(42);
  size_t written = 0;
  for (int i = 0; i < 3000; i++) {
    size_t len = (size_t)g_rand_int_range(r, 0, i % 50 == 0 ? 200000 : 300);
    guint8 *data = g_malloc(len + 1);
    for (size_t k = 0; k < len; k++) data[k] = (guint8)g_rand_int(r);
    out_queue_append(&q, &pool, data, len);
    g_byte_array_append(expect, data, (guint)len);
    g_free(data);
    if (i % 7 == 0) {
      ssize_t w = out_queue_write(&q, &pool, sv[0]);
      g_assert_cmpint(w, >=, 0);
      written += (size_t)w;
      g_assert_cmpuint(q.pending, ==, expect->len - written);
      drain(sv[1], got);
    }
  }
  while (q.pending > 0) {
    ssize_t w = out_queue_write(&q, &pool, sv[0]);
    g_assert_cmpint(w, >=, 0);
    written += (size_t)w;
    drain(sv[1], got);
  }
  drain(sv[1], got);
  g_assert_cmpuint(written, ==, expect->len);
  g_assert_cmpuint(got->len, ==, expect->len);
  g_assert_true(memcmp(got->data, expect->data, got->len) == 0);
  g_assert_null(q.head);  /* drained queue holds no chunk */
  g_assert_cmpuint(pool.nfree_small + pool.nfree_large, >, 0);
  g_rand_free(r);
  g_byte_array_free(expect, TRUE);
  g_byte_array_free(got, TRUE);
  out_pool_clear(&pool);
  close(sv[0]);
  close(sv[1]);
}

static void test_recycling(void) {
  int sv[2];
  g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), ==, 0);
  OutPool pool;
  out_pool_init(&pool);
  OutQueue q = {0};
  char msg[100];
  memset(msg, 'a', sizeof msg);
  out_queue_append(&q, &pool, msg, sizeof msg);
  out_queue_write(&q, &pool, sv[0]);
  uint32_t free_after_first = pool.nfree_small;
  for (int i = 0; i < 1000; i++) {
    out_queue_append(&q, &pool, msg, sizeof msg);
    g_assert_cmpint(out_queue_write(&q, &pool, sv[0]), ==, sizeof msg);
    GByteArray *sink = g_byte_array_new();
    drain(sv[1], sink);
    g_byte_array_free(sink, TRUE);
  }
  /* steady state: the same chunk goes out and back, the pool does not grow */
  g_assert_cmpuint(pool.nfree_small, ==, free_after_first);
  out_pool_clear(&pool);
  close(sv[0]);
  close(sv[1]);
}

static void test_write_error(void) {
  int sv[2];
  g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), ==, 0);
  close(sv[1]);
  signal(SIGPIPE, SIG_IGN);
  OutPool pool;
  out_pool_init(&pool);
  OutQueue q = {0};
  out_queue_append(&q, &pool, "hello", 5);
  g_assert_cmpint(out_queue_write(&q, &pool, sv[0]), ==, -1);
  g_assert_cmpint(errno, ==, EPIPE);
  out_queue_clear(&q, &pool);
  g_assert_cmpuint(q.pending, ==, 0);
  out_pool_clear(&pool);
  close(sv[0]);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/client_out/roundtrip-partial-writes", test_roundtrip_partial_writes);
  g_test_add_func("/client_out/recycling", test_recycling);
  g_test_add_func("/client_out/write-error", test_write_error);
  return g_test_run();
}
