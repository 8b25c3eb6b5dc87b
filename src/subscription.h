/* subscription.h — the Subscription record shared by client.c (which creates
 * and owns it) and sublist.c (which indexes it).
 *
 * Lifetime: reference counted, single-threaded (protocol loop only).  The
 * creating client holds one reference; the sublist holds one while the
 * subscription is inserted; every SublistResult that lists it holds one.
 * So a match result being iterated stays valid even if a delivery in the
 * middle of it unsubscribes (auto-unsubscribe) or closes the owning client.
 * When the owning client goes away it sets `client = NULL` and `closed`;
 * delivery skips closed subscriptions. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "forward.h"

struct ParserPub;

struct Subscription {
  int refcount;
  bool closed;            /* unsubscribed or owner closed: deliver nothing */
  bool is_remote;         /* interest learned from a route/leaf/gateway (later) */
  Client *client;         /* borrowed: owner; NULL once the owner is gone */
  char *subject;          /* owned, NUL-terminated */
  char *queue;            /* owned, NULL when not a queue subscription */
  uint32_t subject_len;
  uint32_t queue_len;
  char *sid;              /* owned, NUL-terminated */
  uint32_t sid_len;
  int64_t delivered;      /* messages delivered so far */
  int64_t max;            /* auto-unsubscribe after this many; 0 = no limit */
  int32_t qweight;        /* queue weight for remote queue subs (routes); 1 locally */
  /* Accounts (accounts_import.c).  A shadow subscription stands in an
   * exporting account's sublist for a subscription of an importing account
   * (stream import): same client, sid and queue, subject as exported. */
  const struct StreamImport *im;  /* borrowed: set on shadow subscriptions */
  Subscription **shadow;  /* owned array of refs: this subscription's shadows */
  uint32_t nshadow;
  /* Internal subscription (client NULL): a service import's `from`, or an
   * account's "_R_.x.>" responses; icb runs instead of a delivery. */
  void (*icb)(Subscription *sub, Client *pub, Account *acc, const struct ParserPub *m, const char *payload);
  void *icb_data;         /* borrowed: the ServiceImport or Account */
};

/* (transfer full) a new subscription with refcount 1; strings are copied. */
Subscription *subscription_new(Client *client, const char *subject, size_t subject_len,
                               const char *queue, size_t queue_len,
                               const char *sid, size_t sid_len);

static inline Subscription *subscription_ref(Subscription *sub) {
  sub->refcount++;
  return sub;
}

/* Drops one reference; frees on the last.  Accepts NULL. */
void subscription_unref(Subscription *sub);
