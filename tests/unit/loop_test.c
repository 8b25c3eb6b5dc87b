/* loop_test.c — the protocol loop: timer heap order, stop/re-arm, fd watches. */
#include <glib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"

typedef struct {
  GArray *fired;  /* int ids in firing order */
  int id;
} TimerCtx;

static void record_fire(void *data) {
  TimerCtx *t = data;
  g_array_append_val(t->fired, t->id);
}

static void test_timer_order(void) {
  GMainContext *ctx = g_main_context_new();
  Loop *loop = loop_new(ctx);
  GArray *fired = g_array_new(FALSE, FALSE, sizeof(int));
  enum { N = 200 };
  Timer timers[N] = {0};
  TimerCtx tc[N];
  int64_t base = g_get_monotonic_time();
  /* deadlines in a shuffled order; odd ids are stopped again */
  for (int i = 0; i < N; i++) {
    int k = (i * 7919) % N;
    tc[k] = (TimerCtx){fired, k};
    loop_timer_start(loop, &timers[k], base + 1000 + k * 10, record_fire, &tc[k]);
  }
  for (int k = 1; k < N; k += 2) loop_timer_stop(loop, &timers[k]);
  /* re-arm id 0 to be last */
  loop_timer_start(loop, &timers[0], base + 1000 + N * 10 + 5, record_fire, &tc[0]);
  while (fired->len < N / 2) g_main_context_iteration(ctx, TRUE);
  g_assert_cmpuint(fired->len, ==, N / 2);
  for (guint i = 0; i + 1 < fired->len; i++) {
    int a = g_array_index(fired, int, i), b = g_array_index(fired, int, i + 1);
    g_assert_true(a % 2 == 0 && b % 2 == 0);
    if (i + 2 < fired->len) g_assert_cmpint(a, <, b);
  }
  g_assert_cmpint(g_array_index(fired, int, fired->len - 1), ==, 0);
  for (int k = 0; k < N; k++) g_assert_false(loop_timer_armed(&timers[k]));
  g_array_free(fired, TRUE);
  loop_free(loop);
  g_main_context_unref(ctx);
}

typedef struct {
  int reads;
  int post;
  char last;
} WatchCtx;

static void on_readable(void *data, uint32_t events) {
  WatchCtx *w = data;
  g_assert_true(events & EPOLLIN);
  w->reads++;
}

static void on_post(void *data) {
  ((WatchCtx *)data)->post++;
}

static void test_watch(void) {
  GMainContext *ctx = g_main_context_new();
  Loop *loop = loop_new(ctx);
  int sv[2];
  g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), ==, 0);
  WatchCtx wc = {0};
  LoopWatch w = {.fd = -1};
  loop_set_post_dispatch(loop, on_post, &wc);
  g_assert_true(loop_watch_add(loop, &w, sv[0], EPOLLIN, on_readable, &wc));
  g_assert_cmpint(write(sv[1], "x", 1), ==, 1);
  while (wc.reads == 0) g_main_context_iteration(ctx, TRUE);
  g_assert_cmpint(wc.post, >=, 1);
  char c;
  g_assert_cmpint(read(sv[0], &c, 1), ==, 1);
  loop_watch_remove(loop, &w);
  g_assert_cmpint(w.fd, ==, -1);
  int before = wc.reads;
  g_assert_cmpint(write(sv[1], "y", 1), ==, 1);
  g_main_context_iteration(ctx, FALSE);
  g_assert_cmpint(wc.reads, ==, before);  /* removed: no more callbacks */
  close(sv[0]);
  close(sv[1]);
  loop_free(loop);
  g_main_context_unref(ctx);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/loop/timer-order", test_timer_order);
  g_test_add_func("/loop/watch", test_watch);
  return g_test_run();
}
