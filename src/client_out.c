/* client_out.c — outbound chunk queue and chunk pool (see client_out.h).
 *
 * Two size classes: a connection starts with 4 KiB chunks and moves to
 * 64 KiB ones once it has more than a small chunk pending, so idle or
 * light connections hold little memory while bulk receivers get few, large
 * iovecs.  Freed chunks go back to the pool (bounded); the pool is the
 * equivalent of nats-server's three-tier output buffer pooling. */
#include "client_out.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#define OUT_IOV_MAX 64

void out_pool_init(OutPool *pool) {
  memset(pool, 0, sizeof *pool);
  /* Enough to recycle in steady state, little enough that an idle server
   * keeps no more than 2 MiB here after a burst. */
  pool->max_free_small = 256;  /* 1 MiB */
  pool->max_free_large = 16;   /* 1 MiB */
}

static void free_list(OutChunk *c) {
  while (c) {
    OutChunk *next = c->next;
    g_free(c);
    c = next;
  }
}

void out_pool_clear(OutPool *pool) {
  free_list(pool->free_small);
  free_list(pool->free_large);
  memset(pool, 0, sizeof *pool);
}

static OutChunk *chunk_get(OutPool *pool, bool large) {
  OutChunk **list = large ? &pool->free_large : &pool->free_small;
  OutChunk *c = *list;
  if (c) {
    *list = c->next;
    if (large) pool->nfree_large--;
    else pool->nfree_small--;
  } else {
    uint32_t cap = large ? OUT_CHUNK_LARGE : OUT_CHUNK_SMALL;
    c = g_malloc(sizeof(OutChunk) + cap);
    c->cap = cap;
  }
  c->next = NULL;
  c->start = c->len = 0;
  return c;
}

static void chunk_put(OutPool *pool, OutChunk *c) {
  if (c->cap == OUT_CHUNK_LARGE && pool->nfree_large < pool->max_free_large) {
    c->next = pool->free_large;
    pool->free_large = c;
    pool->nfree_large++;
  } else if (c->cap == OUT_CHUNK_SMALL && pool->nfree_small < pool->max_free_small) {
    c->next = pool->free_small;
    pool->free_small = c;
    pool->nfree_small++;
  } else {
    g_free(c);
  }
}

void out_queue_append(OutQueue *q, OutPool *pool, const void *data, size_t len) {
  const char *p = data;
  q->pending += len;
  while (len > 0) {
    OutChunk *t = q->tail;
    if (!t || t->len == t->cap) {
      bool large = q->pending > OUT_CHUNK_SMALL;
      OutChunk *c = chunk_get(pool, large);
      if (t) t->next = c;
      else q->head = c;
      q->tail = t = c;
    }
    size_t n = MIN(len, (size_t)(t->cap - t->len));
    memcpy(t->data + t->len, p, n);
    t->len += (uint32_t)n;
    p += n;
    len -= n;
  }
}

ssize_t out_queue_write(OutQueue *q, OutPool *pool, int fd) {
  ssize_t total = 0;
  while (q->head) {
    struct iovec iov[OUT_IOV_MAX];
    int n = 0;
    size_t want = 0;
    for (OutChunk *c = q->head; c && n < OUT_IOV_MAX; c = c->next) {
      if (c->len == c->start) continue;
      iov[n].iov_base = c->data + c->start;
      iov[n].iov_len = c->len - c->start;
      want += iov[n].iov_len;
      n++;
    }
    if (n == 0) break;
    ssize_t w = writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return total;
      return -1;
    }
    total += w;
    q->pending -= (size_t)w;
    size_t left = (size_t)w;
    while (q->head && left > 0) {
      OutChunk *c = q->head;
      size_t avail = c->len - c->start;
      if (left < avail) {
        c->start += (uint32_t)left;
        left = 0;
        break;
      }
      left -= avail;
      c->start = c->len;
      if (c == q->tail && c->len < c->cap) {
        /* keep a partly filled tail for further appends; reset it */
        c->start = c->len = 0;
        break;
      }
      q->head = c->next;
      if (!q->head) q->tail = NULL;
      chunk_put(pool, c);
    }
    if ((size_t)w < want) return total;  /* short write: the socket buffer is full */
  }
  /* Fully drained: hand the last chunk back so idle clients hold nothing. */
  if (q->pending == 0 && q->head) {
    out_queue_clear(q, pool);
  }
  return total;
}

ssize_t out_queue_write_fn(OutQueue *q, OutPool *pool, OutSendFn fn, void *ctx) {
  ssize_t total = 0;
  while (q->head) {
    OutChunk *c = q->head;
    size_t avail = c->len - c->start;
    if (avail > 0) {
      ssize_t w = fn(ctx, c->data + c->start, avail);
      if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? total : -1;
      total += w;
      q->pending -= (size_t)w;
      c->start += (uint32_t)w;
      if ((size_t)w < avail) continue;
    }
    if (c == q->tail) {
      c->start = c->len = 0;  /* keep the tail for appends */
      break;
    }
    q->head = c->next;
    chunk_put(pool, c);
  }
  if (q->pending == 0 && q->head) out_queue_clear(q, pool);
  return total;
}

void out_queue_clear(OutQueue *q, OutPool *pool) {
  OutChunk *c = q->head;
  while (c) {
    OutChunk *next = c->next;
    chunk_put(pool, c);
    c = next;
  }
  q->head = q->tail = NULL;
  q->pending = 0;
}

size_t out_queue_chunks(const OutQueue *q) {
  size_t n = 0;
  for (const OutChunk *c = q->head; c; c = c->next) n++;
  return n;
}
