/* fuzz_sublist.c — libFuzzer target: a byte-coded program of inserts,
 * removes, batch removes and matches run against the Sublist and against a
 * naive linear matcher (subject_matches over every inserted subscription);
 * any difference aborts.  Also drives reverse match, has_interest, stats.
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true
 *        -Db_sanitize=address,undefined -Db_lundef=false */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "subject.h"
#include "sublist.h"
#include "subscription.h"

#define MAX_SUBS 128

typedef struct {
  const uint8_t *p;
  size_t n;
} In;

static uint8_t in_byte(In *in) {
  if (in->n == 0)
    return 0;
  in->n--;
  return *in->p++;
}

/* A short subject over a small alphabet, so tokens collide often. */
static size_t in_subject(In *in, char *buf, size_t cap) {
  static const char alpha[] = {'a', 'b', '.', '.', '*', '>', 'c', '.', 'a', ' ', 'b', '*', '\0'};
  size_t len = in_byte(in) % 10;
  if (len >= cap)
    len = cap - 1;
  for (size_t i = 0; i < len; i++)
    buf[i] = alpha[in_byte(in) % sizeof alpha];
  buf[len] = '\0';
  return len;
}

/* Go's Insert rule: no empty token, nothing after a ">" token. */
static bool insertable(const char *s, size_t len) {
  if (len == 0)
    return false;
  size_t start = 0;
  bool after = false;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && s[i] != '.')
      continue;
    if (i == start || after)
      return false;
    after = i - start == 1 && s[start] == '>';
    start = i + 1;
  }
  return true;
}

static int ptr_cmp(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
  return x < y ? -1 : x > y;
}

static void check_match(Sublist *sl, Subscription **live, size_t nlive, const char *subj, size_t len) {
  Subscription *wp[MAX_SUBS], *wq[MAX_SUBS], *gp[MAX_SUBS], *gq[MAX_SUBS];
  size_t nwp = 0, nwq = 0, ngp = 0, ngq = 0;
  for (size_t i = 0; i < nlive; i++) {
    if (!subject_matches(live[i]->subject, live[i]->subject_len, subj, len))
      continue;
    if (live[i]->queue)
      wq[nwq++] = live[i];
    else
      wp[nwp++] = live[i];
  }
  SublistResult *r = sublist_match(sl, subj, len);
  if (r->npsubs > MAX_SUBS)
    abort();
  for (uint32_t i = 0; i < r->npsubs; i++)
    gp[ngp++] = r->psubs[i];
  for (uint32_t g = 0; g < r->nqgroups; g++) {
    if (r->nqsubs[g] == 0)
      abort();
    const char *name = r->qsubs[g][0]->queue;
    for (uint32_t h = 0; h < g; h++)
      if (strcmp(r->qsubs[h][0]->queue, name) == 0)
        abort(); /* a queue name split over two groups */
    for (uint32_t i = 0; i < r->nqsubs[g]; i++) {
      if (ngq == MAX_SUBS || !r->qsubs[g][i]->queue || strcmp(r->qsubs[g][i]->queue, name) != 0)
        abort();
      gq[ngq++] = r->qsubs[g][i];
    }
  }
  if (sublist_has_interest(sl, subj, len) != !sublist_result_is_empty(r))
    abort();
  sublist_result_unref(r);
  if (nwp != ngp || nwq != ngq)
    abort();
  qsort(wp, nwp, sizeof(void *), ptr_cmp);
  qsort(gp, ngp, sizeof(void *), ptr_cmp);
  qsort(wq, nwq, sizeof(void *), ptr_cmp);
  qsort(gq, ngq, sizeof(void *), ptr_cmp);
  if ((nwp && memcmp(wp, gp, nwp * sizeof(void *))) || (nwq && memcmp(wq, gq, nwq * sizeof(void *))))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  In in = {data, size};
  Sublist *sl = sublist_new(in_byte(&in) & 1);
  Subscription *live[MAX_SUBS];
  size_t nlive = 0;
  char buf[16];
  while (in.n > 0) {
    uint8_t op = in_byte(&in);
    switch (op % 6) {
    case 0: { /* insert a new subscription */
      size_t len = in_subject(&in, buf, sizeof buf);
      /* enough queue names to pass the per-node group index threshold */
      static const char *queues[] = {"q0", "q1", "q2", "q3", "q4", "q5", "q6",
                                     "q7", "q8", "q9", "qa", "qb"};
      uint8_t qb = in_byte(&in) % 24;
      const char *q = qb < G_N_ELEMENTS(queues) ? queues[qb] : NULL;
      Subscription *s = subscription_new(NULL, buf, len, q, q ? 2 : 0, "1", 1);
      int rc = sublist_insert(sl, s);
      if (rc != (insertable(buf, len) ? SUBLIST_OK : SUBLIST_ERR_INVALID_SUBJECT))
        abort();
      if (rc == SUBLIST_OK) {
        if (nlive == MAX_SUBS) {
          if (sublist_remove(sl, s) != SUBLIST_OK)
            abort();
        } else {
          live[nlive++] = s;
        }
      }
      subscription_unref(s);
      break;
    }
    case 1: { /* remove one, then again (must be not found) */
      if (!nlive)
        break;
      size_t i = in_byte(&in) % nlive;
      Subscription *s = subscription_ref(live[i]);
      live[i] = live[--nlive];
      if (sublist_remove(sl, s) != SUBLIST_OK || sublist_remove(sl, s) != SUBLIST_ERR_NOT_FOUND)
        abort();
      subscription_unref(s);
      break;
    }
    case 2: { /* re-insert an existing one: no-op */
      if (!nlive)
        break;
      Subscription *s = live[in_byte(&in) % nlive];
      int refs = s->refcount; /* live[] borrows: the sublist's reference (+ cached results) */
      if (sublist_insert(sl, s) != SUBLIST_OK || s->refcount != refs)
        abort();
      break;
    }
    case 3: { /* batch remove up to 3 */
      Subscription *batch[3];
      size_t nb = nlive < 3 ? nlive : in_byte(&in) % 4;
      for (size_t k = 0; k < nb; k++) {
        size_t i = in_byte(&in) % nlive;
        batch[k] = subscription_ref(live[i]);
        live[i] = live[--nlive];
      }
      if (sublist_remove_batch(sl, batch, nb) != SUBLIST_OK)
        abort();
      for (size_t k = 0; k < nb; k++)
        subscription_unref(batch[k]);
      break;
    }
    case 4: { /* reverse match and stats: must not crash, results well formed */
      size_t len = in_subject(&in, buf, sizeof buf);
      SublistResult *r = sublist_reverse_match(sl, buf, len);
      if (r->npsubs > nlive)
        abort();
      sublist_result_unref(r);
      SublistStats st;
      sublist_stats(sl, &st);
      if (st.num_subs != nlive || st.num_cache > SUBLIST_CACHE_MAX)
        abort();
      break;
    }
    default: {
      size_t len = in_subject(&in, buf, sizeof buf);
      check_match(sl, live, nlive, buf, len);
      check_match(sl, live, nlive, buf, len); /* second time from the cache */
      break;
    }
    }
    if (sublist_count(sl) != nlive)
      abort();
  }
  sublist_free(sl);
  return 0;
}
