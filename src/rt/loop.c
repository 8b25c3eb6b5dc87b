/* loop.c — epoll + timer heap wrapped in one GSource (see loop.h).
 *
 * Owns: the epoll fd, the timer min-heap, the GSource.  Runs on the protocol
 * loop thread; nothing here is thread-safe and nothing needs to be.
 *
 * Dispatch order per wakeup: ready sockets (up to LOOP_MAX_EVENTS), then
 * expired timers, then the post-dispatch hook (flush + reap).  Callbacks may
 * remove watches of other objects: a removed watch's pending event in the
 * current batch is dropped via the `removed` generation check below. */
#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 256

struct Loop {
  GSource source;           /* must be first: GSource is allocated with our size */
  int epfd;
  gpointer epoll_tag;       /* g_source_add_unix_fd handle */
  Timer **heap;             /* owned array; entries borrowed */
  uint32_t heap_len, heap_cap;
  int64_t now;
  LoopPostDispatchFn post_fn;
  void *post_data;
  /* Watches removed while an epoll batch is being dispatched: their stale
   * events later in the batch must not be delivered. */
  LoopWatch *batch_removed[64];
  uint32_t nbatch_removed;
  bool in_batch;
  bool wakeup_armed;        /* loop_wakeup set a ready time that dispatch must clear */
  bool batch_removed_overflow;
  struct epoll_event events[LOOP_MAX_EVENTS];
  int nevents;
  int next_event;
};

/* ---- timer heap ---------------------------------------------------------- */

static void heap_swap(Loop *l, uint32_t a, uint32_t b) {
  Timer *t = l->heap[a];
  l->heap[a] = l->heap[b];
  l->heap[b] = t;
  l->heap[a]->heap_index = a + 1;
  l->heap[b]->heap_index = b + 1;
}

static void heap_up(Loop *l, uint32_t i) {
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (l->heap[parent]->deadline <= l->heap[i]->deadline) break;
    heap_swap(l, i, parent);
    i = parent;
  }
}

static void heap_down(Loop *l, uint32_t i) {
  for (;;) {
    uint32_t left = 2 * i + 1, right = left + 1, min = i;
    if (left < l->heap_len && l->heap[left]->deadline < l->heap[min]->deadline) min = left;
    if (right < l->heap_len && l->heap[right]->deadline < l->heap[min]->deadline) min = right;
    if (min == i) break;
    heap_swap(l, i, min);
    i = min;
  }
}

void loop_timer_stop(Loop *l, Timer *t) {
  if (t->heap_index == 0) return;
  uint32_t i = t->heap_index - 1;
  uint32_t last = --l->heap_len;
  t->heap_index = 0;
  if (i != last) {
    l->heap[i] = l->heap[last];
    l->heap[i]->heap_index = i + 1;
    heap_down(l, i);
    heap_up(l, i);
  }
}

void loop_timer_start(Loop *l, Timer *t, int64_t deadline, TimerFn fn, void *data) {
  t->fn = fn;
  t->data = data;
  if (t->heap_index != 0) {
    int64_t old = t->deadline;
    t->deadline = deadline;
    if (deadline < old) heap_up(l, t->heap_index - 1);
    else heap_down(l, t->heap_index - 1);
    return;
  }
  if (l->heap_len == l->heap_cap) {
    l->heap_cap = l->heap_cap ? l->heap_cap * 2 : 64;
    l->heap = g_renew(Timer *, l->heap, l->heap_cap);
  }
  t->deadline = deadline;
  l->heap[l->heap_len] = t;
  t->heap_index = ++l->heap_len;
  heap_up(l, l->heap_len - 1);
}

static void run_expired_timers(Loop *l) {
  /* Timers armed by a callback for "now" run on the next dispatch, so a
   * callback that re-arms itself cannot starve the loop. */
  int64_t now = l->now;
  while (l->heap_len > 0 && l->heap[0]->deadline <= now) {
    Timer *t = l->heap[0];
    loop_timer_stop(l, t);
    t->fn(t->data);
  }
}

int64_t loop_now(Loop *l) { return l->now; }

/* ---- GSource ------------------------------------------------------------- */

static gboolean loop_prepare(GSource *source, gint *timeout) {
  Loop *l = (Loop *)source;
  if (l->heap_len == 0) {
    *timeout = -1;
    return FALSE;
  }
  int64_t wait = l->heap[0]->deadline - g_get_monotonic_time();
  if (wait <= 0) {
    *timeout = 0;
    return TRUE;
  }
  /* round up so we never wake just before the deadline and spin */
  *timeout = (gint)MIN((wait + 999) / 1000, G_MAXINT);
  return FALSE;
}

static gboolean loop_check(GSource *source) {
  Loop *l = (Loop *)source;
  if (g_source_query_unix_fd(source, l->epoll_tag) & G_IO_IN) return TRUE;
  return l->heap_len > 0 && l->heap[0]->deadline <= g_get_monotonic_time();
}

static bool watch_removed_in_batch(Loop *l, LoopWatch *w) {
  for (uint32_t i = 0; i < l->nbatch_removed; i++)
    if (l->batch_removed[i] == w) return true;
  return false;
}

static gboolean loop_dispatch(GSource *source, GSourceFunc cb, gpointer ud) {
  Loop *l = (Loop *)source;
  /* Only touch the ready time when loop_wakeup set it: changing it writes
   * GLib's wakeup eventfd, which would cost two syscalls per dispatch. */
  if (l->wakeup_armed) {
    l->wakeup_armed = false;
    g_source_set_ready_time(source, -1);
  }
  l->now = g_get_monotonic_time();
  int n = epoll_wait(l->epfd, l->events, LOOP_MAX_EVENTS, 0);
  l->in_batch = true;
  l->nbatch_removed = 0;
  l->batch_removed_overflow = false;
  for (int i = 0; i < n; i++) {
    LoopWatch *w = l->events[i].data.ptr;
    if (l->nbatch_removed && watch_removed_in_batch(l, w)) continue;
    if (l->batch_removed_overflow) {
      /* Too many removals to track: re-poll to get a fresh, safe batch. */
      break;
    }
    w->fn(w->data, l->events[i].events);
  }
  l->in_batch = false;
  run_expired_timers(l);
  if (l->post_fn) l->post_fn(l->post_data);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs loop_funcs = {
    .prepare = loop_prepare,
    .check = loop_check,
    .dispatch = loop_dispatch,
};

Loop *loop_new(GMainContext *ctx) {
  Loop *l = (Loop *)g_source_new(&loop_funcs, sizeof(Loop));
  l->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (l->epfd < 0) g_error("epoll_create1: %s", g_strerror(errno));
  l->epoll_tag = g_source_add_unix_fd(&l->source, l->epfd, G_IO_IN);
  l->now = g_get_monotonic_time();
  g_source_set_priority(&l->source, G_PRIORITY_DEFAULT);
  g_source_set_name(&l->source, "cnatsd protocol loop");
  g_source_attach(&l->source, ctx);
  return l;
}

void loop_free(Loop *l) {
  if (!l) return;
  close(l->epfd);
  g_free(l->heap);
  l->heap = NULL;
  g_source_destroy(&l->source);
  g_source_unref(&l->source);
}

void loop_wakeup(Loop *l) {
  if (l->wakeup_armed) return;
  l->wakeup_armed = true;
  g_source_set_ready_time(&l->source, 0);
}

void loop_set_post_dispatch(Loop *l, LoopPostDispatchFn fn, void *data) {
  l->post_fn = fn;
  l->post_data = data;
}

bool loop_watch_add(Loop *l, LoopWatch *w, int fd, uint32_t events, LoopIoFn fn, void *data) {
  w->fn = fn;
  w->data = data;
  w->fd = fd;
  w->events = events;
  struct epoll_event ev = {.events = events, .data.ptr = w};
  return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool loop_watch_modify(Loop *l, LoopWatch *w, uint32_t events) {
  if (w->events == events) return true;
  struct epoll_event ev = {.events = events, .data.ptr = w};
  if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) != 0) return false;
  w->events = events;
  return true;
}

void loop_watch_remove(Loop *l, LoopWatch *w) {
  if (w->fd < 0) return;
  epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  if (l->in_batch) {
    if (l->nbatch_removed < G_N_ELEMENTS(l->batch_removed))
      l->batch_removed[l->nbatch_removed++] = w;
    else
      l->batch_removed_overflow = true;
  }
  w->fd = -1;
}
