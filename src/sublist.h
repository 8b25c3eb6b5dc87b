/* sublist.h — the subject index (Go's Sublist): subscriptions by subject
 * pattern, matched against literal published subjects, with a bounded
 * result cache.  Protocol loop thread only; no locks. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "forward.h"
#include "subscription.h"

enum {
  SUBLIST_OK = 0,
  SUBLIST_ERR_INVALID_SUBJECT = -1,   /* Go ErrInvalidSubject */
  SUBLIST_ERR_NOT_FOUND = -2,         /* Go ErrNotFound */
  SUBLIST_ERR_ALREADY_REGISTERED = -3 /* Go ErrAlreadyRegistered */
};

/* Go 2.9.10 (slCacheMax, slCacheSweep): 1024 cached results at most; when
 * exceeded, drop back to 512. */
#define SUBLIST_CACHE_MAX 1024
#define SUBLIST_CACHE_SWEEP 512

/* A match result.  Immutable once built and shared (the cache hands the same
 * result to every match of the subject), so never write to it.
 *
 * Layout: ONE allocation per result.  The header is followed by
 *   Subscription *psubs[npsubs];
 *   Subscription **qsubs[nqgroups];      (qsubs[g] points into members)
 *   Subscription *members[sum nqsubs];   (group g's members, contiguous)
 *   uint32_t nqsubs[nqgroups];
 * Every listed subscription (every slot: a remote queue sub with qweight w
 * is listed w times, as Go does) holds one reference, dropped when the
 * result's last reference goes.  Each qsubs[g] is non-empty and all its
 * members share one queue name.
 *
 * The shared empty result (npsubs == nqgroups == 0) is static: ref/unref on
 * it do nothing. */
struct SublistResult {
  int refcount;                 /* < 0: the static empty result */
  uint32_t npsubs;
  uint32_t nqgroups;
  Subscription **psubs;         /* into this allocation; refs held */
  Subscription ***qsubs;        /* into this allocation */
  uint32_t *nqsubs;             /* into this allocation */
};

Sublist *sublist_new(bool cache_enabled);
void sublist_free(Sublist *sl);                        /* drops refs on everything; accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Sublist, sublist_free)

/* Takes a reference on `sub`.  The subject must have no empty token and
 * nothing after a ">" token (exactly Go's Insert check; whitespace is not
 * checked).  Inserting a subscription that is already in is a no-op that
 * returns 0 (Go keys nodes by subscription too). */
int sublist_insert(Sublist *sl, Subscription *sub);
/* Drops the sublist's reference.  SUBLIST_ERR_NOT_FOUND if not inserted. */
int sublist_remove(Sublist *sl, Subscription *sub);
/* Removes all of `subs`, then empties the cache (Go RemoveBatch).  Unlike Go
 * it does not stop at a missing one: it removes every other and returns
 * SUBLIST_ERR_NOT_FOUND at the end. */
int sublist_remove_batch(Sublist *sl, Subscription **subs, size_t n);

/* (transfer full) the subscriptions interested in the literal `subject`.
 * Caller must sublist_result_unref().  A cache hit allocates nothing.
 * Subjects with an empty token match nothing and are not cached (as Go). */
SublistResult *sublist_match(Sublist *sl, const char *subject, size_t len);
SublistResult *sublist_result_ref(SublistResult *r);
void sublist_result_unref(SublistResult *r);           /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SublistResult, sublist_result_unref)
static inline bool sublist_result_is_empty(const SublistResult *r) {
  return r->npsubs == 0 && r->nqgroups == 0;
}

/* Is anyone interested in `subject`?  Uses the cache if it holds the subject,
 * else walks the trie and stops at the first subscription; builds nothing. */
bool sublist_has_interest(Sublist *sl, const char *subject, size_t len);
/* How many plain and queue subscriptions a message on `subject` would match
 * (Go's NumInterest); either out pointer may be NULL. */
void sublist_num_interest(Sublist *sl, const char *subject, size_t len, uint32_t *plain, uint32_t *queue);

uint32_t sublist_count(const Sublist *sl);
uint32_t sublist_cache_count(const Sublist *sl);
bool sublist_cache_enabled(const Sublist *sl);
/* Bumped on every insert/remove: lets a client keep its own L1 cache of
 * results keyed by subject and drop it when the generation changes. */
uint64_t sublist_genid(const Sublist *sl);

/* Go /subsz "SublistStats"; fanout counts psubs plus queue GROUPS per cached
 * result, averaged over the cache, as Go does. */
typedef struct SublistStats {
  uint32_t num_subs, num_cache;
  uint64_t num_inserts, num_removes, num_matches;
  double cache_hit_rate;
  uint32_t max_fanout;
  double avg_fanout;
  uint64_t cache_hits;            /* for summing stats over accounts */
  uint64_t tot_fanout;            /* idem */
  uint32_t cache_cnt;             /* idem */
} SublistStats;
void sublist_stats(Sublist *sl, SublistStats *out);

/* Go ReverseMatch, with its exact semantics: the subscriptions whose
 * subject is matched by `pattern` when stored subjects are taken as
 * literals; a "*" in `pattern` walks literal children only, a ">" collects
 * the level's literal subtrees plus its "*" and ">" nodes (not below them).
 * (transfer full), as sublist_match; never cached. */
SublistResult *sublist_reverse_match(Sublist *sl, const char *pattern, size_t len);

/* Calls fn on every subscription.  fn must not insert into or remove from
 * `sl` (collect first, e.g. with sublist_local_subs). */
void sublist_foreach(Sublist *sl, void (*fn)(Subscription *sub, void *ud), void *ud);
/* Every subscription with !is_remote, into a new array (g_free it; the
 * pointers are borrowed: take refs to keep them past the next change). */
size_t sublist_local_subs(Sublist *sl, Subscription ***out, bool include_leaf /* reserved */);

/* Go UpdateRemoteQSub: a remote queue sub's qweight changed; drop the cached
 * results that list it. */
void sublist_update_remote_qsub(Sublist *sl, Subscription *sub);

/* Interest notifications (Go RegisterNotification): `fn` is called at once
 * with the current state, then each time the first subscription on exactly
 * `subject` (wildcard subscriptions do not count) appears (true) or the last
 * one goes (false).  `subject` must be literal, else
 * SUBLIST_ERR_INVALID_SUBJECT; the same (subject, fn, ud) twice gives
 * SUBLIST_ERR_ALREADY_REGISTERED.  fn runs after the change is complete; it
 * may insert, remove or (un)register (a watcher cleared by an earlier
 * callback of the same round is not called).  fn must not free `sl`. */
typedef void (*SublistNotifyFn)(const char *subject, bool has_interest, void *ud);
int sublist_register_notification(Sublist *sl, const char *subject, SublistNotifyFn fn, void *ud);
/* 0, or SUBLIST_ERR_NOT_FOUND. */
int sublist_clear_notification(Sublist *sl, const char *subject, SublistNotifyFn fn, void *ud);
/* The same for one queue group on exactly `subject` (Go
 * RegisterQueueNotification); fn receives the subject. */
int sublist_register_queue_notification(Sublist *sl, const char *subject, const char *queue,
                                        SublistNotifyFn fn, void *ud);
int sublist_clear_queue_notification(Sublist *sl, const char *subject, const char *queue,
                                     SublistNotifyFn fn, void *ud);
