/* subscription.c — construction and release of the shared Subscription
 * record (see subscription.h for the ownership rules).
 *
 * Protocol loop thread only: the refcount is a plain int. */
#include "subscription.h"

#include <string.h>

/* Exact bytes plus a NUL: protocol fields may hold NUL bytes, which
 * g_strndup would cut. */
static char *dup_bytes(const char *p, size_t len) {
  char *d = g_malloc(len + 1);
  if (len)
    memcpy(d, p, len);
  d[len] = '\0';
  return d;
}

Subscription *subscription_new(Client *client, const char *subject, size_t subject_len,
                               const char *queue, size_t queue_len,
                               const char *sid, size_t sid_len) {
  Subscription *sub = g_new0(Subscription, 1);
  sub->refcount = 1;
  sub->client = client;
  sub->subject = dup_bytes(subject, subject_len);
  sub->subject_len = (uint32_t)subject_len;
  if (queue) {
    sub->queue = dup_bytes(queue, queue_len);
    sub->queue_len = (uint32_t)queue_len;
  }
  sub->sid = dup_bytes(sid, sid_len);
  sub->sid_len = (uint32_t)sid_len;
  sub->qweight = 1;
  return sub;
}

void subscription_unref(Subscription *sub) {
  if (!sub)
    return;
  g_assert(sub->refcount > 0);
  if (--sub->refcount > 0)
    return;
  for (uint32_t i = 0; i < sub->nshadow; i++) subscription_unref(sub->shadow[i]);
  g_free(sub->shadow);
  g_free(sub->subject);
  g_free(sub->queue);
  g_free(sub->sid);
  g_free(sub);
}
