/* loop.h — the protocol loop: one epoll set and one timer heap behind ONE GSource.
 *
 * Why not a GSource per socket: GLib walks every poll record on every
 * iteration, so per-connection sources make each wakeup O(connections).
 * Here the GMainContext sees a single fd (the epoll fd) and a single
 * timeout (the earliest deadline); the loop fans out to connections itself.
 *
 * Thread: everything here runs on the protocol loop thread only. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "forward.h"

/* Called with the epoll event mask (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR). */
typedef void (*LoopIoFn)(void *data, uint32_t events);

/* Embedded in its owner (a Client, a listener); the owner outlives its
 * registration and must call loop_watch_remove() before it is freed. */
typedef struct LoopWatch {
  LoopIoFn fn;
  void *data;       /* borrowed: the owner */
  int fd;
  uint32_t events;  /* what is registered with epoll now */
} LoopWatch;

typedef void (*TimerFn)(void *data);

/* Embedded in its owner; zero-initialised = not armed. */
struct Timer {
  int64_t deadline;     /* monotonic µs (g_get_monotonic_time scale) */
  uint32_t heap_index;  /* 1-based slot in the heap; 0 = not armed */
  TimerFn fn;
  void *data;           /* borrowed */
};

/* Called after every dispatch, once all ready sockets and expired timers
 * were handled: this is where coalesced writes are flushed and closed
 * clients freed (Redis's beforeSleep, Go's flushClients). */
typedef void (*LoopPostDispatchFn)(void *data);

Loop *loop_new(GMainContext *ctx);            /* (transfer full) attaches its GSource to ctx */
void loop_free(Loop *loop);                    /* accepts NULL; watches must be removed first */
void loop_set_post_dispatch(Loop *loop, LoopPostDispatchFn fn, void *data);

bool loop_watch_add(Loop *loop, LoopWatch *w, int fd, uint32_t events, LoopIoFn fn, void *data);
bool loop_watch_modify(Loop *loop, LoopWatch *w, uint32_t events);
void loop_watch_remove(Loop *loop, LoopWatch *w);

/* Arms (or re-arms) t to fire at `deadline` (monotonic µs). */
void loop_timer_start(Loop *loop, Timer *t, int64_t deadline, TimerFn fn, void *data);
void loop_timer_stop(Loop *loop, Timer *t);
static inline bool loop_timer_armed(const Timer *t) { return t->heap_index != 0; }

/* Makes the loop dispatch on its next iteration even with no socket ready:
 * for work queued from outside a dispatch (signal handlers, idles), so the
 * post-dispatch flush runs. */
void loop_wakeup(Loop *loop);

/* Monotonic time cached at the start of the current dispatch (µs). */
int64_t loop_now(Loop *loop);
