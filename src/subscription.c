/* subscription.c — construction and release of the shared Subscription
 * record (see subscription.h for the ownership rules).
 *
 * Protocol loop thread only: the refcount is a plain int. */
#include "subscription.h"

Subscription *subscription_new(Client *client, const char *subject, size_t subject_len,
                               const char *queue, size_t queue_len,
                               const char *sid, size_t sid_len) {
  Subscription *sub = g_new0(Subscription, 1);
  sub->refcount = 1;
  sub->client = client;
  sub->subject = g_strndup(subject ? subject : "", subject_len);
  sub->subject_len = (uint32_t)subject_len;
  if (queue) {
    sub->queue = g_strndup(queue, queue_len);
    sub->queue_len = (uint32_t)queue_len;
  }
  sub->sid = g_strndup(sid ? sid : "", sid_len);
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
  g_free(sub->subject);
  g_free(sub->queue);
  g_free(sub->sid);
  g_free(sub);
}
