/* client_out.h — a connection's outbound byte queue: a list of chunks from a
 * per-server pool, written with writev.  Appending copies; nothing here
 * allocates in steady state because chunks are recycled through the pool.
 *
 * Owned by: each Client embeds one OutQueue; the OutPool belongs to the Server.
 * Thread: protocol loop only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OUT_CHUNK_SMALL 4096
#define OUT_CHUNK_LARGE 65536

typedef struct OutChunk {
  struct OutChunk *next;
  uint32_t start;  /* first unsent byte */
  uint32_t len;    /* bytes filled */
  uint32_t cap;
  char data[];
} OutChunk;

typedef struct OutPool {
  OutChunk *free_small, *free_large;  /* owned singly linked lists */
  uint32_t nfree_small, nfree_large;
  uint32_t max_free_small, max_free_large;
} OutPool;

/* Zero-initialised = empty queue. */
typedef struct OutQueue {
  OutChunk *head, *tail;  /* owned */
  size_t pending;         /* bytes queued, not yet written */
} OutQueue;

void out_pool_init(OutPool *pool);
void out_pool_clear(OutPool *pool);

void out_queue_append(OutQueue *q, OutPool *pool, const void *data, size_t len);
/* Writes as much as the socket takes.  Returns bytes written (>= 0), or -1
 * with errno set on a hard error; EAGAIN is not an error (returns what was
 * written so far). */
ssize_t out_queue_write(OutQueue *q, OutPool *pool, int fd);
/* The same through a send function (a TLS session): fn returns bytes taken
 * (> 0) or -1 with errno (EAGAIN: try later; the head bytes stay put). */
typedef ssize_t (*OutSendFn)(void *ctx, const void *buf, size_t len);
ssize_t out_queue_write_fn(OutQueue *q, OutPool *pool, OutSendFn fn, void *ctx);
size_t out_queue_chunks(const OutQueue *q);
void out_queue_clear(OutQueue *q, OutPool *pool);
