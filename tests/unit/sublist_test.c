/* sublist_test.c — the subject index: behaviour tables, a randomized
 * comparison against a naive linear matcher (cache on and off), reference
 * counting, notifications, and a perf case (run with -m perf). */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "subject.h"
#include "sublist.h"
#include "subscription.h"

/* ------------------------------------------------------------- helpers */

static Subscription *mksub(const char *subject, const char *queue) {
  return subscription_new(NULL, subject, strlen(subject), queue, queue ? strlen(queue) : 0, "1", 1);
}

static bool result_has(const SublistResult *r, const Subscription *sub) {
  for (uint32_t i = 0; i < r->npsubs; i++)
    if (r->psubs[i] == sub)
      return true;
  for (uint32_t g = 0; g < r->nqgroups; g++)
    for (uint32_t i = 0; i < r->nqsubs[g]; i++)
      if (r->qsubs[g][i] == sub)
        return true;
  return false;
}

static uint32_t result_total(const SublistResult *r) {
  uint32_t n = r->npsubs;
  for (uint32_t g = 0; g < r->nqgroups; g++)
    n += r->nqsubs[g];
  return n;
}

/* number of plain + queue subs matching, checked through a fresh result */
static uint32_t match_count(Sublist *sl, const char *subject) {
  SublistResult *r = sublist_match(sl, subject, strlen(subject));
  uint32_t n = result_total(r);
  sublist_result_unref(r);
  return n;
}

/* ---------------------------------------------------------- basic cases */

static void test_basic(gconstpointer data) {
  bool cache = GPOINTER_TO_INT(data);
  Sublist *sl = sublist_new(cache);
  Subscription *lit = mksub("orders.eu.new", NULL);
  Subscription *pwc = mksub("orders.*.new", NULL);
  Subscription *fwc = mksub("orders.>", NULL);
  Subscription *all = mksub(">", NULL);
  Subscription *other = mksub("users.eu", NULL);
  Subscription *subs[] = {lit, pwc, fwc, all, other};
  for (size_t i = 0; i < G_N_ELEMENTS(subs); i++)
    g_assert_cmpint(sublist_insert(sl, subs[i]), ==, SUBLIST_OK);
  g_assert_cmpuint(sublist_count(sl), ==, 5);
  /* the sublist holds its own reference */
  g_assert_cmpint(lit->refcount, ==, 2);

  SublistResult *r = sublist_match(sl, "orders.eu.new", 13);
  g_assert_cmpuint(r->npsubs, ==, 4);
  g_assert_cmpuint(r->nqgroups, ==, 0);
  g_assert_true(result_has(r, lit) && result_has(r, pwc) && result_has(r, fwc) && result_has(r, all));
  g_assert_false(result_has(r, other));
  sublist_result_unref(r);

  g_assert_cmpuint(match_count(sl, "orders.us.new"), ==, 3);
  g_assert_cmpuint(match_count(sl, "orders"), ==, 1);      /* ">" only: "orders.>" needs a token */
  g_assert_cmpuint(match_count(sl, "orders.x"), ==, 2);
  g_assert_cmpuint(match_count(sl, "orders.eu.new.x"), ==, 2);
  g_assert_cmpuint(match_count(sl, "users.eu"), ==, 2);
  g_assert_cmpuint(match_count(sl, "users.us"), ==, 1);
  /* subjects with empty tokens match nothing, not even ">" */
  g_assert_cmpuint(match_count(sl, "orders..new"), ==, 0);
  g_assert_cmpuint(match_count(sl, ".orders"), ==, 0);
  g_assert_cmpuint(match_count(sl, "orders."), ==, 0);
  g_assert_cmpuint(match_count(sl, ""), ==, 0);
  /* a wildcard in a published subject is a literal token */
  g_assert_cmpuint(match_count(sl, "orders.*.new"), ==, 3);

  g_assert_true(sublist_has_interest(sl, "orders.x", 8));
  g_assert_true(sublist_has_interest(sl, "zzz", 3));
  g_assert_cmpint(sublist_remove(sl, all), ==, SUBLIST_OK);
  g_assert_false(sublist_has_interest(sl, "zzz", 3));
  g_assert_false(sublist_has_interest(sl, "orders..x", 9));
  g_assert_true(sublist_has_interest(sl, "orders.eu.new", 13));

  for (size_t i = 0; i < G_N_ELEMENTS(subs); i++)
    if (subs[i] != all)
      g_assert_cmpint(sublist_remove(sl, subs[i]), ==, SUBLIST_OK);
  g_assert_cmpuint(sublist_count(sl), ==, 0);
  g_assert_cmpuint(match_count(sl, "orders.eu.new"), ==, 0);
  g_assert_cmpint(lit->refcount, ==, 1);
  sublist_free(sl);
  for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
    g_assert_cmpint(subs[i]->refcount, ==, 1);
    subscription_unref(subs[i]);
  }
}

static void test_invalid_insert(void) {
  Sublist *sl = sublist_new(true);
  const char *bad[] = {"", ".", "a..b", ".a", "a.", ">.a", "a.>.b", ">.>", "a.>.*"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    Subscription *s = mksub(bad[i], NULL);
    g_assert_cmpint(sublist_insert(sl, s), ==, SUBLIST_ERR_INVALID_SUBJECT);
    g_assert_cmpint(sublist_remove(sl, s), ==, SUBLIST_ERR_INVALID_SUBJECT);
    g_assert_cmpint(s->refcount, ==, 1);
    subscription_unref(s);
  }
  g_assert_cmpuint(sublist_count(sl), ==, 0);
  /* Go's Insert checks only tokens: whitespace and "*a" are accepted */
  const char *ok[] = {"a b", "a\tb.*", "*a.>b", ">a"};
  for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
    Subscription *s = mksub(ok[i], NULL);
    g_assert_cmpint(sublist_insert(sl, s), ==, SUBLIST_OK);
    subscription_unref(s);
  }
  g_assert_cmpuint(sublist_count(sl), ==, 4);
  g_assert_cmpuint(match_count(sl, "*a.>b"), ==, 1);
  g_assert_cmpuint(match_count(sl, "xa.>b"), ==, 0);
  g_assert_cmpuint(match_count(sl, "a\tb.z"), ==, 1);
  sublist_free(sl);
}

static void test_remove_missing(void) {
  Sublist *sl = sublist_new(true);
  Subscription *a = mksub("a.b", NULL), *b = mksub("a.b", NULL), *q = mksub("a.b", "q");
  Subscription *q2 = mksub("a.b", "q2"), *deep = mksub("a.b.c", NULL);
  g_assert_cmpint(sublist_remove(sl, a), ==, SUBLIST_ERR_NOT_FOUND);
  g_assert_cmpint(sublist_insert(sl, a), ==, SUBLIST_OK);
  /* same subject, other subscription: not found */
  g_assert_cmpint(sublist_remove(sl, b), ==, SUBLIST_ERR_NOT_FOUND);
  g_assert_cmpint(sublist_remove(sl, q), ==, SUBLIST_ERR_NOT_FOUND);
  g_assert_cmpint(sublist_remove(sl, deep), ==, SUBLIST_ERR_NOT_FOUND);
  g_assert_cmpint(sublist_insert(sl, q), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_remove(sl, q2), ==, SUBLIST_ERR_NOT_FOUND);
  /* inserting twice is a no-op: one reference, one count */
  g_assert_cmpint(sublist_insert(sl, a), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_insert(sl, q), ==, SUBLIST_OK);
  g_assert_cmpuint(sublist_count(sl), ==, 2);
  g_assert_cmpint(a->refcount, ==, 2);
  g_assert_cmpint(sublist_remove(sl, a), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_remove(sl, a), ==, SUBLIST_ERR_NOT_FOUND);
  g_assert_cmpint(sublist_remove(sl, q), ==, SUBLIST_OK);
  g_assert_cmpuint(sublist_count(sl), ==, 0);
  g_assert_cmpint(a->refcount, ==, 1);
  g_assert_cmpint(q->refcount, ==, 1);
  sublist_free(sl);
  subscription_unref(a);
  subscription_unref(b);
  subscription_unref(q);
  subscription_unref(q2);
  subscription_unref(deep);
}

static int find_group(const SublistResult *r, const char *name) {
  for (uint32_t g = 0; g < r->nqgroups; g++)
    if (strcmp(r->qsubs[g][0]->queue, name) == 0)
      return (int)g;
  return -1;
}

static void test_queue_groups(void) {
  Sublist *sl = sublist_new(true);
  Subscription *p = mksub("work.eu", NULL);
  Subscription *w1 = mksub("work.eu", "workers");
  Subscription *w2 = mksub("work.*", "workers");
  Subscription *w3 = mksub("work.>", "workers");
  Subscription *a1 = mksub("work.eu", "auditors");
  Subscription *a2 = mksub(">", "auditors");
  Subscription *o1 = mksub("work.us", "workers");
  Subscription *all[] = {p, w1, w2, w3, a1, a2, o1};
  for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
    g_assert_cmpint(sublist_insert(sl, all[i]), ==, SUBLIST_OK);

  SublistResult *r = sublist_match(sl, "work.eu", 7);
  g_assert_cmpuint(r->npsubs, ==, 1);
  g_assert_true(r->psubs[0] == p);
  g_assert_cmpuint(r->nqgroups, ==, 2);
  int gw = find_group(r, "workers"), ga = find_group(r, "auditors");
  g_assert_cmpint(gw, >=, 0);
  g_assert_cmpint(ga, >=, 0);
  g_assert_cmpuint(r->nqsubs[gw], ==, 3);
  g_assert_cmpuint(r->nqsubs[ga], ==, 2);
  for (uint32_t i = 0; i < r->nqsubs[gw]; i++)
    g_assert_cmpstr(r->qsubs[gw][i]->queue, ==, "workers");
  g_assert_false(result_has(r, o1));
  sublist_result_unref(r);

  /* removing one member keeps the group; removing the last drops it */
  g_assert_cmpint(sublist_remove(sl, w1), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_remove(sl, w2), ==, SUBLIST_OK);
  r = sublist_match(sl, "work.eu", 7);
  g_assert_cmpuint(r->nqgroups, ==, 2);
  g_assert_cmpuint(r->nqsubs[find_group(r, "workers")], ==, 1);
  sublist_result_unref(r);
  g_assert_cmpint(sublist_remove(sl, w3), ==, SUBLIST_OK);
  r = sublist_match(sl, "work.eu", 7);
  g_assert_cmpuint(r->nqgroups, ==, 1);
  g_assert_cmpint(find_group(r, "workers"), ==, -1);
  sublist_result_unref(r);

  /* a remote queue sub stands for qweight members */
  Subscription *remote = mksub("work.eu", "workers");
  remote->is_remote = true;
  remote->qweight = 3;
  g_assert_cmpint(sublist_insert(sl, remote), ==, SUBLIST_OK);
  r = sublist_match(sl, "work.eu", 7);
  gw = find_group(r, "workers");
  g_assert_cmpuint(r->nqsubs[gw], ==, 3);
  /* ours + the sublist's + one per slot (the cache shares this result) */
  g_assert_cmpint(remote->refcount, ==, 1 + 1 + 3);
  sublist_result_unref(r);
  /* a weight change is seen after sublist_update_remote_qsub */
  remote->qweight = 5;
  sublist_update_remote_qsub(sl, remote);
  r = sublist_match(sl, "work.eu", 7);
  g_assert_cmpuint(r->nqsubs[find_group(r, "workers")], ==, 5);
  sublist_result_unref(r);
  g_assert_cmpint(sublist_remove(sl, remote), ==, SUBLIST_OK);
  g_assert_cmpint(remote->refcount, ==, 1);
  subscription_unref(remote);

  sublist_free(sl);
  for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
    g_assert_cmpint(all[i]->refcount, ==, 1);
    subscription_unref(all[i]);
  }
}

static void test_many_on_one_subject(void) {
  /* past SUBSET_INDEX_MIN the node indexes its subscriptions */
  Sublist *sl = sublist_new(true);
  enum { N = 500 };
  Subscription *s[N], *q[N];
  for (int i = 0; i < N; i++) {
    s[i] = mksub("fan.out", NULL);
    q[i] = mksub("fan.out", i % 2 ? "odd" : "even");
    g_assert_cmpint(sublist_insert(sl, s[i]), ==, SUBLIST_OK);
    g_assert_cmpint(sublist_insert(sl, q[i]), ==, SUBLIST_OK);
  }
  g_assert_cmpint(sublist_insert(sl, s[7]), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_insert(sl, q[7]), ==, SUBLIST_OK);
  g_assert_cmpuint(sublist_count(sl), ==, 2 * N);
  g_assert_cmpuint(match_count(sl, "fan.out"), ==, 2 * N);
  for (int i = 0; i < N; i += 3) {
    g_assert_cmpint(sublist_remove(sl, s[i]), ==, SUBLIST_OK);
    g_assert_cmpint(sublist_remove(sl, q[i]), ==, SUBLIST_OK);
  }
  for (int i = 0; i < N; i += 3)
    g_assert_cmpint(sublist_remove(sl, s[i]), ==, SUBLIST_ERR_NOT_FOUND);
  SublistResult *r = sublist_match(sl, "fan.out", 7);
  for (int i = 0; i < N; i++) {
    g_assert_cmpint(result_has(r, s[i]), ==, i % 3 != 0);
    g_assert_cmpint(result_has(r, q[i]), ==, i % 3 != 0);
  }
  sublist_result_unref(r);
  for (int i = 0; i < N; i++) {
    if (i % 3) {
      g_assert_cmpint(sublist_remove(sl, s[i]), ==, SUBLIST_OK);
      g_assert_cmpint(sublist_remove(sl, q[i]), ==, SUBLIST_OK);
    }
    g_assert_cmpint(s[i]->refcount, ==, 1);
    subscription_unref(s[i]);
    subscription_unref(q[i]);
  }
  g_assert_cmpuint(sublist_count(sl), ==, 0);
  sublist_free(sl);
}

/* Many queue groups on one node (indexed past a few) and on a wildcard
 * node sharing some names: the groups of a result must merge by name. */
static void test_many_queue_groups(void) {
  enum { G = 3000 };
  Sublist *sl = sublist_new(true);
  Subscription *lit[G][2], *wild[G];
  char name[32];
  for (int i = 0; i < G; i++) {
    g_snprintf(name, sizeof name, "g%d", i);
    lit[i][0] = mksub("grp.x", name);
    lit[i][1] = mksub("grp.x", name);
    wild[i] = mksub("grp.*", name);
    g_assert_cmpint(sublist_insert(sl, lit[i][0]), ==, SUBLIST_OK);
    g_assert_cmpint(sublist_insert(sl, lit[i][1]), ==, SUBLIST_OK);
    if (i % 2)
      g_assert_cmpint(sublist_insert(sl, wild[i]), ==, SUBLIST_OK);
  }
  SublistResult *r = sublist_match(sl, "grp.x", 5);
  g_assert_cmpuint(r->nqgroups, ==, G);
  for (uint32_t g = 0; g < r->nqgroups; g++) {
    int i = atoi(r->qsubs[g][0]->queue + 1);
    g_assert_cmpuint(r->nqsubs[g], ==, i % 2 ? 3 : 2);
  }
  sublist_result_unref(r);
  /* remove whole groups in a scattered order, and single members */
  GRand *rng = g_rand_new_with_seed(99);
  int *order = g_new(int, G);
  for (int i = 0; i < G; i++)
    order[i] = i;
  for (int i = G - 1; i > 0; i--) {
    int j = g_rand_int_range(rng, 0, i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  bool *gone = g_new0(bool, G);
  for (int k = 0; k < G / 2; k++) {
    int i = order[k];
    g_assert_cmpint(sublist_remove(sl, lit[i][0]), ==, SUBLIST_OK);
    g_assert_cmpint(sublist_remove(sl, lit[i][1]), ==, SUBLIST_OK);
    gone[i] = true;
  }
  g_assert_cmpint(sublist_remove(sl, lit[order[0]][0]), ==, SUBLIST_ERR_NOT_FOUND);
  r = sublist_match(sl, "grp.x", 5);
  uint32_t want = 0;
  for (int i = 0; i < G; i++)
    want += !gone[i] || i % 2;
  g_assert_cmpuint(r->nqgroups, ==, want);
  for (uint32_t g = 0; g < r->nqgroups; g++) {
    int i = atoi(r->qsubs[g][0]->queue + 1);
    g_assert_cmpuint(r->nqsubs[g], ==, (gone[i] ? 0 : 2) + (i % 2 ? 1 : 0));
  }
  sublist_result_unref(r);
  /* re-adding a removed group works (index slots were reused correctly) */
  g_assert_cmpint(sublist_insert(sl, lit[order[0]][0]), ==, SUBLIST_OK);
  r = sublist_match(sl, "grp.x", 5);
  g_assert_cmpuint(r->nqgroups, ==, want + (order[0] % 2 ? 0 : 1));
  sublist_result_unref(r);
  sublist_free(sl);
  for (int i = 0; i < G; i++) {
    g_assert_cmpint(lit[i][0]->refcount, ==, 1);
    subscription_unref(lit[i][0]);
    subscription_unref(lit[i][1]);
    subscription_unref(wild[i]);
  }
  g_free(order);
  g_free(gone);
  g_rand_free(rng);
}

static void test_remove_batch(void) {
  Sublist *sl = sublist_new(true);
  Subscription *a = mksub("a.b", NULL), *b = mksub("a.*", NULL), *c = mksub("a.>", "q");
  Subscription *d = mksub("x", NULL), *missing = mksub("a.b", NULL);
  Subscription *ins[] = {a, b, c, d};
  for (size_t i = 0; i < 4; i++)
    sublist_insert(sl, ins[i]);
  g_assert_cmpuint(match_count(sl, "a.b"), ==, 3);
  g_assert_cmpuint(match_count(sl, "x"), ==, 1);
  g_assert_cmpuint(sublist_cache_count(sl), ==, 2);
  uint64_t gen = sublist_genid(sl);
  /* a missing one is reported, the others are still removed */
  Subscription *batch[] = {a, missing, b, c};
  g_assert_cmpint(sublist_remove_batch(sl, batch, 4), ==, SUBLIST_ERR_NOT_FOUND);
  g_assert_cmpuint(sublist_count(sl), ==, 1);
  g_assert_cmpuint(sublist_cache_count(sl), ==, 0);
  g_assert_cmpuint(sublist_genid(sl), >, gen);
  g_assert_cmpuint(match_count(sl, "a.b"), ==, 0);
  g_assert_cmpuint(match_count(sl, "x"), ==, 1);
  g_assert_cmpint(sublist_remove_batch(sl, NULL, 0), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_remove_batch(sl, &d, 1), ==, SUBLIST_OK);
  g_assert_cmpuint(sublist_count(sl), ==, 0);
  SublistStats st;
  sublist_stats(sl, &st);
  g_assert_cmpuint(st.num_removes, ==, 4);
  sublist_free(sl);
  Subscription *all[] = {a, b, c, d, missing};
  for (size_t i = 0; i < 5; i++) {
    g_assert_cmpint(all[i]->refcount, ==, 1);
    subscription_unref(all[i]);
  }
}

static void test_stats(void) {
  Sublist *sl = sublist_new(true);
  Subscription *a = mksub("s.a", NULL), *b = mksub("s.*", NULL), *q1 = mksub("s.a", "g1"),
               *q2 = mksub("s.a", "g1"), *q3 = mksub("s.a", "g2");
  Subscription *all[] = {a, b, q1, q2, q3};
  for (size_t i = 0; i < 5; i++)
    sublist_insert(sl, all[i]);
  sublist_remove(sl, q2);
  SublistStats st;
  g_assert_cmpuint(match_count(sl, "s.a"), ==, 4); /* miss: a, b, g1{q1}, g2{q3} */
  g_assert_cmpuint(match_count(sl, "s.a"), ==, 4); /* hit */
  g_assert_cmpuint(match_count(sl, "s.b"), ==, 1); /* miss */
  g_assert_cmpuint(match_count(sl, "s.a"), ==, 4); /* hit */
  sublist_stats(sl, &st);
  g_assert_cmpuint(st.num_subs, ==, 4);
  g_assert_cmpuint(st.num_inserts, ==, 5);
  g_assert_cmpuint(st.num_removes, ==, 1);
  g_assert_cmpuint(st.num_matches, ==, 4);
  g_assert_cmpuint(st.num_cache, ==, 2);
  g_assert_cmpfloat_with_epsilon(st.cache_hit_rate, 0.5, 1e-9);
  /* Go counts queue groups, not members: s.a -> 2 psubs + 2 groups = 4; s.b -> 1 */
  g_assert_cmpuint(st.max_fanout, ==, 4);
  g_assert_cmpfloat_with_epsilon(st.avg_fanout, 2.5, 1e-9);

  Sublist *nc = sublist_new(false);
  sublist_insert(nc, a);
  g_assert_cmpuint(match_count(nc, "s.a"), ==, 1);
  g_assert_cmpuint(match_count(nc, "s.a"), ==, 1);
  sublist_stats(nc, &st);
  g_assert_cmpuint(st.num_matches, ==, 2);
  g_assert_cmpuint(st.num_cache, ==, 0);
  g_assert_cmpfloat(st.cache_hit_rate, ==, 0.0);
  g_assert_cmpuint(st.max_fanout, ==, 0);
  g_assert_false(sublist_cache_enabled(nc));
  sublist_free(nc);
  sublist_free(sl);
  for (size_t i = 0; i < 5; i++)
    subscription_unref(all[i]);
}

static void test_cache_bound(void) {
  Sublist *sl = sublist_new(true);
  Subscription *w = mksub("c.*", NULL);
  sublist_insert(sl, w);
  char buf[32];
  for (int i = 0; i < SUBLIST_CACHE_MAX; i++) {
    int n = g_snprintf(buf, sizeof buf, "c.%d", i);
    SublistResult *r = sublist_match(sl, buf, (size_t)n);
    g_assert_cmpuint(r->npsubs, ==, 1);
    sublist_result_unref(r);
  }
  g_assert_cmpuint(sublist_cache_count(sl), ==, SUBLIST_CACHE_MAX);
  /* one more goes over the limit: swept back to SUBLIST_CACHE_SWEEP */
  g_assert_cmpuint(match_count(sl, "c.over"), ==, 1);
  g_assert_cmpuint(sublist_cache_count(sl), ==, SUBLIST_CACHE_SWEEP);
  /* and it keeps working, bounded, under a long stream of subjects */
  for (int i = 0; i < 20000; i++) {
    int n = g_snprintf(buf, sizeof buf, "c.x%d", i);
    SublistResult *r = sublist_match(sl, buf, (size_t)n);
    g_assert_cmpuint(r->npsubs, ==, 1);
    sublist_result_unref(r);
    g_assert_cmpuint(sublist_cache_count(sl), <=, SUBLIST_CACHE_MAX);
  }
  /* each cached result holds one reference on the sub */
  g_assert_cmpint(w->refcount, ==, 2 + (int)sublist_cache_count(sl));
  sublist_free(sl);
  g_assert_cmpint(w->refcount, ==, 1);
  subscription_unref(w);
}

static void test_cache_invalidation(void) {
  Sublist *sl = sublist_new(true);
  Subscription *lit = mksub("inv.a", NULL), *pwc = mksub("inv.*", NULL), *fwc = mksub(">", "q");
  g_assert_cmpuint(match_count(sl, "inv.a"), ==, 0);
  g_assert_cmpuint(match_count(sl, "inv.b"), ==, 0);
  g_assert_cmpuint(sublist_cache_count(sl), ==, 2);
  /* the cached empty results must not hide new interest */
  g_assert_false(sublist_has_interest(sl, "inv.a", 5));
  sublist_insert(sl, lit);
  g_assert_cmpuint(sublist_cache_count(sl), ==, 1); /* only inv.a dropped */
  g_assert_true(sublist_has_interest(sl, "inv.a", 5));
  g_assert_cmpuint(match_count(sl, "inv.a"), ==, 1);
  g_assert_cmpuint(match_count(sl, "inv.b"), ==, 0);
  sublist_insert(sl, pwc);
  g_assert_cmpuint(match_count(sl, "inv.a"), ==, 2);
  g_assert_cmpuint(match_count(sl, "inv.b"), ==, 1);
  g_assert_cmpuint(match_count(sl, "other"), ==, 0);
  sublist_insert(sl, fwc);
  g_assert_cmpuint(match_count(sl, "inv.a"), ==, 3);
  g_assert_cmpuint(match_count(sl, "other"), ==, 1);
  sublist_remove(sl, pwc);
  g_assert_cmpuint(match_count(sl, "inv.a"), ==, 2);
  g_assert_cmpuint(match_count(sl, "inv.b"), ==, 1);
  sublist_remove(sl, lit);
  g_assert_cmpuint(match_count(sl, "inv.a"), ==, 1);
  sublist_remove(sl, fwc);
  g_assert_cmpuint(match_count(sl, "inv.a"), ==, 0);
  g_assert_cmpuint(match_count(sl, "other"), ==, 0);
  /* a cache hit hands out the same result */
  SublistResult *r1 = sublist_match(sl, "other", 5), *r2 = sublist_match(sl, "other", 5);
  g_assert_true(r1 == r2);
  sublist_result_unref(r1);
  sublist_result_unref(r2);
  sublist_free(sl);
  g_assert_cmpint(lit->refcount, ==, 1);
  g_assert_cmpint(pwc->refcount, ==, 1);
  g_assert_cmpint(fwc->refcount, ==, 1);
  subscription_unref(lit);
  subscription_unref(pwc);
  subscription_unref(fwc);
}

static void test_result_outlives(void) {
  Sublist *sl = sublist_new(true);
  Subscription *a = mksub("live.a", NULL), *q = mksub("live.*", "g");
  sublist_insert(sl, a);
  sublist_insert(sl, q);
  SublistResult *r = sublist_match(sl, "live.a", 6);
  /* drop every other reference: the result keeps the subs alive */
  sublist_remove(sl, a);
  sublist_remove(sl, q);
  subscription_unref(a);
  subscription_unref(q);
  SublistResult *r2 = sublist_match(sl, "live.a", 6);
  g_assert_true(sublist_result_is_empty(r2));
  sublist_result_unref(r2);
  sublist_free(sl);
  g_assert_cmpuint(r->npsubs, ==, 1);
  g_assert_cmpstr(r->psubs[0]->subject, ==, "live.a");
  g_assert_cmpint(r->psubs[0]->refcount, ==, 1);
  g_assert_cmpstr(r->qsubs[0][0]->queue, ==, "g");
  sublist_result_unref(r); /* frees both subs (ASan checks) */
  /* the shared empty result is safe to unref any number of times */
  Sublist *e = sublist_new(false);
  SublistResult *em = sublist_match(e, "nothing", 7);
  g_assert_true(sublist_result_is_empty(em));
  sublist_result_unref(sublist_result_ref(em));
  sublist_result_unref(em);
  sublist_result_unref(NULL);
  sublist_free(e);
  sublist_free(NULL);
}

static void test_reverse_match(void) {
  Sublist *sl = sublist_new(true);
  const char *subjects[] = {"svc", "db", "svc.read", "svc.write", "svc.read.fast", "svc.*", "svc.>", "svc.*.x"};
  Subscription *s[G_N_ELEMENTS(subjects)];
  for (size_t i = 0; i < G_N_ELEMENTS(subjects); i++) {
    s[i] = mksub(subjects[i], NULL);
    sublist_insert(sl, s[i]);
  }
  struct {
    const char *pattern;
    const char *expect; /* indexes into subjects */
  } cases[] = {
      {"svc", "0"},
      {"db", "1"},
      {"nope", ""},
      {"*", "01"},        /* literal children only */
      {"svc.*", "23"},    /* "svc.*" and "svc.>" are not literal children */
      {"*.read", "2"},
      {"*.*", "23"},
      {"svc.read", "2"},
      {"svc.*.fast", "4"},
      {"svc.>", "23456"}, /* the level's literal subtrees plus its "*" and ">" nodes, not below "*" */
      {">", "0123456"},
      {"svc..read", ""},
  };
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    g_test_message("reverse %s", cases[c].pattern);
    SublistResult *r = sublist_reverse_match(sl, cases[c].pattern, strlen(cases[c].pattern));
    size_t want = strlen(cases[c].expect);
    g_assert_cmpuint(r->npsubs, ==, want);
    for (size_t k = 0; k < want; k++)
      g_assert_true(result_has(r, s[cases[c].expect[k] - '0']));
    sublist_result_unref(r);
  }
  sublist_free(sl);
  for (size_t i = 0; i < G_N_ELEMENTS(subjects); i++)
    subscription_unref(s[i]);
}

static void count_cb(Subscription *sub, void *ud) {
  (*(int *)ud)++;
}

static void test_enumerate(void) {
  Sublist *sl = sublist_new(true);
  Subscription *a = mksub("e.a", NULL), *b = mksub("e.*", "q"), *c = mksub(">", NULL), *r = mksub("e.a", NULL);
  r->is_remote = true;
  sublist_insert(sl, a);
  sublist_insert(sl, b);
  sublist_insert(sl, c);
  sublist_insert(sl, r);
  int n = 0;
  sublist_foreach(sl, count_cb, &n);
  g_assert_cmpint(n, ==, 4);
  Subscription **local = NULL;
  size_t nl = sublist_local_subs(sl, &local, false);
  g_assert_cmpuint(nl, ==, 3);
  bool seen_a = false, seen_b = false, seen_c = false;
  for (size_t i = 0; i < nl; i++) {
    g_assert_false(local[i]->is_remote);
    seen_a |= local[i] == a;
    seen_b |= local[i] == b;
    seen_c |= local[i] == c;
  }
  g_assert_true(seen_a && seen_b && seen_c);
  g_free(local);
  sublist_free(sl);
  Sublist *empty = sublist_new(true);
  g_assert_cmpuint(sublist_local_subs(empty, &local, false), ==, 0);
  g_free(local);
  sublist_free(empty);
  subscription_unref(a);
  subscription_unref(b);
  subscription_unref(c);
  subscription_unref(r);
}

static void test_long_subjects(void) {
  Sublist *sl = sublist_new(true);
  GString *lit = g_string_new("t");
  for (int i = 0; i < 1000; i++)
    g_string_append_printf(lit, ".%d", i);
  GString *pat = g_string_new("t");
  for (int i = 0; i < 999; i++)
    g_string_append(pat, ".*");
  g_string_append(pat, ".>");
  Subscription *a = mksub(lit->str, NULL), *b = mksub(pat->str, NULL);
  g_assert_cmpint(sublist_insert(sl, a), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_insert(sl, b), ==, SUBLIST_OK);
  g_assert_cmpuint(match_count(sl, lit->str), ==, 2);
  g_assert_cmpuint(match_count(sl, lit->str), ==, 2);
  g_assert_cmpint(sublist_remove(sl, a), ==, SUBLIST_OK);
  g_assert_cmpuint(match_count(sl, lit->str), ==, 1);
  g_assert_cmpint(sublist_remove(sl, b), ==, SUBLIST_OK);
  g_assert_cmpuint(match_count(sl, lit->str), ==, 0);
  sublist_free(sl);
  subscription_unref(a);
  subscription_unref(b);
  g_string_free(lit, TRUE);
  g_string_free(pat, TRUE);
}

/* Depth is client-chosen (a large max_control_line allows ~500k tokens):
 * no walk may recurse per token. */
static void test_deep_subjects(void) {
  enum { DEPTH = 200000 };
  Sublist *sl = sublist_new(true);
  GString *stars = g_string_new("*"), *lit = g_string_new("x");
  for (int i = 1; i < DEPTH; i++) {
    g_string_append(stars, ".*");
    g_string_append(lit, ".x");
  }
  Subscription *a = mksub(stars->str, NULL), *b = mksub(lit->str, "q");
  g_assert_cmpint(sublist_insert(sl, a), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_insert(sl, b), ==, SUBLIST_OK);
  g_assert_cmpuint(match_count(sl, lit->str), ==, 2);
  g_assert_true(sublist_has_interest(sl, lit->str, lit->len));
  SublistResult *r = sublist_reverse_match(sl, ">", 1);
  g_assert_cmpuint(result_total(r), ==, 1); /* Go does not descend below "*" */
  sublist_result_unref(r);
  r = sublist_reverse_match(sl, lit->str, lit->len);
  g_assert_cmpuint(result_total(r), ==, 1);
  sublist_result_unref(r);
  int n = 0;
  sublist_foreach(sl, count_cb, &n);
  g_assert_cmpint(n, ==, 2);
  g_assert_cmpint(sublist_remove(sl, b), ==, SUBLIST_OK);
  g_assert_cmpuint(match_count(sl, lit->str), ==, 1);
  sublist_free(sl); /* frees the remaining 200k-deep path */
  g_assert_cmpint(a->refcount, ==, 1);
  subscription_unref(a);
  subscription_unref(b);
  g_string_free(stars, TRUE);
  g_string_free(lit, TRUE);
}

/* Protocol fields are bytes: a NUL inside a subject or queue is ordinary. */
static void test_nul_bytes(void) {
  Sublist *sl = sublist_new(true);
  Subscription *a = subscription_new(NULL, "a\0b.c", 5, "q\0x", 3, "1", 1);
  Subscription *a2 = subscription_new(NULL, "a\0b.c", 5, "q\0x", 3, "2", 1);
  Subscription *b = subscription_new(NULL, "a\0z.c", 5, NULL, 0, "3", 1);
  g_assert_cmpint(sublist_insert(sl, a), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_insert(sl, a2), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_insert(sl, b), ==, SUBLIST_OK);
  for (int round = 0; round < 2; round++) { /* miss, then cache hit */
    SublistResult *r = sublist_match(sl, "a\0b.c", 5);
    g_assert_cmpuint(r->npsubs, ==, 0);
    g_assert_cmpuint(r->nqgroups, ==, 1);
    g_assert_cmpuint(r->nqsubs[0], ==, 2);
    sublist_result_unref(r);
  }
  SublistResult *r = sublist_match(sl, "a\0z.c", 5);
  g_assert_true(r->npsubs == 1 && r->psubs[0] == b);
  sublist_result_unref(r);
  g_assert_cmpint(sublist_remove(sl, a), ==, SUBLIST_OK);
  r = sublist_match(sl, "a\0b.c", 5);
  g_assert_true(r->nqgroups == 1 && r->nqsubs[0] == 1 && r->qsubs[0][0] == a2);
  sublist_result_unref(r);
  /* only "a" with strlen: no such subject */
  g_assert_cmpuint(match_count(sl, "a\0b.c"), ==, 0);
  sublist_free(sl);
  subscription_unref(a);
  subscription_unref(a2);
  subscription_unref(b);
}

/* -------------------------------------------------------- notifications */

typedef struct {
  GString *log; /* "subject=1;" per call */
  Sublist *sl;
  Subscription *to_remove; /* removed from inside the callback, once */
} NotifyLog;

static void notify_cb(const char *subject, bool has, void *ud) {
  NotifyLog *l = ud;
  g_string_append_printf(l->log, "%s=%d;", subject, has);
  if (l->to_remove) {
    Subscription *s = l->to_remove;
    l->to_remove = NULL;
    g_assert_cmpint(sublist_remove(l->sl, s), ==, SUBLIST_OK);
  }
}

static const char *take_log(NotifyLog *l) {
  static char buf[256];
  g_strlcpy(buf, l->log->str, sizeof buf);
  g_string_truncate(l->log, 0);
  return buf;
}

static void test_notifications(void) {
  Sublist *sl = sublist_new(true);
  NotifyLog l = {g_string_new(NULL), sl, NULL};
  g_assert_cmpint(sublist_register_notification(sl, "n.*", notify_cb, &l), ==, SUBLIST_ERR_INVALID_SUBJECT);
  g_assert_cmpint(sublist_register_notification(sl, ">", notify_cb, &l), ==, SUBLIST_ERR_INVALID_SUBJECT);
  g_assert_cmpstr(take_log(&l), ==, "");
  /* registration reports the current state at once */
  g_assert_cmpint(sublist_register_notification(sl, "n.a", notify_cb, &l), ==, SUBLIST_OK);
  g_assert_cmpstr(take_log(&l), ==, "n.a=0;");
  g_assert_cmpint(sublist_register_notification(sl, "n.a", notify_cb, &l), ==, SUBLIST_ERR_ALREADY_REGISTERED);
  Subscription *a1 = mksub("n.a", NULL), *a2 = mksub("n.a", NULL), *w = mksub("n.*", NULL);
  Subscription *q = mksub("n.a", "g"), *other = mksub("n.b", NULL);
  /* wildcard and queue interest do not count for a plain notification */
  sublist_insert(sl, w);
  sublist_insert(sl, q);
  sublist_insert(sl, other);
  g_assert_cmpstr(take_log(&l), ==, "");
  sublist_insert(sl, a1);
  g_assert_cmpstr(take_log(&l), ==, "n.a=1;");
  sublist_insert(sl, a2);
  g_assert_cmpstr(take_log(&l), ==, "");
  sublist_remove(sl, a1);
  g_assert_cmpstr(take_log(&l), ==, "");
  sublist_remove(sl, a2);
  g_assert_cmpstr(take_log(&l), ==, "n.a=0;");
  /* registering while interest exists reports true */
  sublist_insert(sl, a1);
  g_assert_cmpstr(take_log(&l), ==, "n.a=1;");
  NotifyLog l2 = {g_string_new(NULL), sl, NULL};
  g_assert_cmpint(sublist_register_notification(sl, "n.a", notify_cb, &l2), ==, SUBLIST_OK);
  g_assert_cmpstr(take_log(&l2), ==, "n.a=1;");
  /* batch removal notifies too */
  Subscription *batch[] = {a1};
  sublist_remove_batch(sl, batch, 1);
  g_assert_cmpstr(take_log(&l), ==, "n.a=0;");
  g_assert_cmpstr(take_log(&l2), ==, "n.a=0;");
  g_assert_cmpint(sublist_clear_notification(sl, "n.a", notify_cb, &l2), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_clear_notification(sl, "n.a", notify_cb, &l2), ==, SUBLIST_ERR_NOT_FOUND);
  g_assert_cmpint(sublist_clear_notification(sl, "n.zz", notify_cb, &l), ==, SUBLIST_ERR_NOT_FOUND);
  /* a callback may change the sublist: it removes the sub that woke it */
  l.to_remove = a1;
  sublist_insert(sl, a1);
  g_assert_cmpstr(take_log(&l), ==, "n.a=1;n.a=0;");
  g_assert_cmpstr(take_log(&l2), ==, "");
  g_assert_cmpuint(match_count(sl, "n.a"), ==, 2); /* w and q */
  g_assert_cmpint(a1->refcount, ==, 1);

  /* queue notifications follow one group on the exact subject */
  NotifyLog lq = {g_string_new(NULL), sl, NULL};
  g_assert_cmpint(sublist_register_queue_notification(sl, "n.a", "g", notify_cb, &lq), ==, SUBLIST_OK);
  g_assert_cmpstr(take_log(&lq), ==, "n.a=1;");
  Subscription *q2 = mksub("n.a", "g"), *h = mksub("n.a", "h");
  sublist_insert(sl, q2);
  sublist_insert(sl, h);
  sublist_remove(sl, q);
  g_assert_cmpstr(take_log(&lq), ==, "");
  sublist_remove(sl, q2);
  g_assert_cmpstr(take_log(&lq), ==, "n.a=0;");
  sublist_insert(sl, q);
  g_assert_cmpstr(take_log(&lq), ==, "n.a=1;");
  g_assert_cmpstr(take_log(&l), ==, "");
  g_assert_cmpint(sublist_clear_queue_notification(sl, "n.a", "g", notify_cb, &lq), ==, SUBLIST_OK);
  sublist_remove(sl, q);
  g_assert_cmpstr(take_log(&lq), ==, "");
  g_assert_cmpint(sublist_clear_notification(sl, "n.a", notify_cb, &l), ==, SUBLIST_OK);
  sublist_insert(sl, a2);
  g_assert_cmpstr(take_log(&l), ==, "");

  /* registrations left behind are freed with the sublist */
  g_assert_cmpint(sublist_register_notification(sl, "n.left", notify_cb, &l), ==, SUBLIST_OK);
  sublist_free(sl);
  Subscription *all[] = {a1, a2, w, q, other, q2, h};
  for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
    g_assert_cmpint(all[i]->refcount, ==, 1);
    subscription_unref(all[i]);
  }
  g_string_free(l.log, TRUE);
  g_string_free(l2.log, TRUE);
  g_string_free(lq.log, TRUE);
}

typedef struct {
  Sublist *sl;
  int calls[2];
  bool clear_other; /* watcher 0 clears watcher 1 when told "true" */
} PairLog;

static void pair_cb0(const char *subject, bool has, void *ud);
static void pair_cb1(const char *subject, bool has, void *ud) {
  ((PairLog *)ud)->calls[1]++;
}
static void pair_cb0(const char *subject, bool has, void *ud) {
  PairLog *p = ud;
  p->calls[0]++;
  if (has && p->clear_other)
    g_assert_cmpint(sublist_clear_notification(p->sl, subject, pair_cb1, p), ==, SUBLIST_OK);
}

static void test_notification_cleared_in_round(void) {
  Sublist *sl = sublist_new(false);
  PairLog p = {sl, {0, 0}, true};
  g_assert_cmpint(sublist_register_notification(sl, "pair", pair_cb0, &p), ==, SUBLIST_OK);
  g_assert_cmpint(sublist_register_notification(sl, "pair", pair_cb1, &p), ==, SUBLIST_OK);
  g_assert_cmpint(p.calls[0], ==, 1);
  g_assert_cmpint(p.calls[1], ==, 1);
  Subscription *s = mksub("pair", NULL);
  sublist_insert(sl, s);
  /* watcher 1 was cleared by watcher 0 in the same round: not called */
  g_assert_cmpint(p.calls[0], ==, 2);
  g_assert_cmpint(p.calls[1], ==, 1);
  sublist_remove(sl, s);
  g_assert_cmpint(p.calls[0], ==, 3);
  g_assert_cmpint(p.calls[1], ==, 1);
  sublist_free(sl);
  subscription_unref(s);
}

/* ------------------------------------------------- randomized reference */

typedef struct {
  GPtrArray *subs; /* borrowed: the subs currently inserted */
} Naive;

static int ptr_cmp(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
  return x < y ? -1 : x > y;
}

/* Canonical text of the plain part of a result: sorted pointers. */
static char *canon_result(const SublistResult *r) {
  GString *s = g_string_new("P:");
  g_autofree Subscription **p = g_memdup2(r->psubs, r->npsubs * sizeof(void *));
  if (r->npsubs)
    qsort(p, r->npsubs, sizeof(void *), ptr_cmp);
  for (uint32_t i = 0; i < r->npsubs; i++)
    g_string_append_printf(s, "%p,", (void *)p[i]);
  return g_string_free(s, FALSE);
}

static gint str_ptr_cmp(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *canon_groups(const SublistResult *r) {
  GPtrArray *groups = g_ptr_array_new_with_free_func(g_free);
  for (uint32_t g = 0; g < r->nqgroups; g++) {
    g_assert_cmpuint(r->nqsubs[g], >, 0);
    GString *gs = g_string_new(r->qsubs[g][0]->queue);
    g_string_append_c(gs, ':');
    g_autofree Subscription **m = g_memdup2(r->qsubs[g], r->nqsubs[g] * sizeof(void *));
    qsort(m, r->nqsubs[g], sizeof(void *), ptr_cmp);
    for (uint32_t i = 0; i < r->nqsubs[g]; i++) {
      g_assert_cmpstr(m[i]->queue, ==, r->qsubs[g][0]->queue);
      g_string_append_printf(gs, "%p,", (void *)m[i]);
    }
    g_ptr_array_add(groups, g_string_free(gs, FALSE));
  }
  g_ptr_array_sort(groups, str_ptr_cmp);
  GString *out = g_string_new("Q:");
  for (guint i = 0; i < groups->len; i++) {
    g_string_append(out, groups->pdata[i]);
    g_string_append_c(out, '|');
  }
  g_ptr_array_free(groups, TRUE);
  return g_string_free(out, FALSE);
}

static char *canon(const SublistResult *r) {
  g_autofree char *p = canon_result(r);
  g_autofree char *q = canon_groups(r);
  return g_strconcat(p, q, NULL);
}

/* The naive answer, built as a result-like pair of arrays. */
static char *naive_canon(Naive *nv, const char *subject) {
  size_t slen = strlen(subject);
  GPtrArray *p = g_ptr_array_new();
  GHashTable *groups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
  for (guint i = 0; i < nv->subs->len; i++) {
    Subscription *s = nv->subs->pdata[i];
    if (!subject_matches(s->subject, s->subject_len, subject, slen))
      continue;
    if (!s->queue) {
      g_ptr_array_add(p, s);
      continue;
    }
    GPtrArray *g = g_hash_table_lookup(groups, s->queue);
    if (!g) {
      g = g_ptr_array_new();
      g_hash_table_insert(groups, s->queue, g);
    }
    g_ptr_array_add(g, s);
  }
  /* assemble a fake result with the same canonical text */
  guint ngu = 0;
  gpointer *names = g_hash_table_get_keys_as_array(groups, &ngu);
  size_t ng = ngu;
  SublistResult r = {0};
  r.npsubs = p->len;
  r.psubs = (Subscription **)p->pdata;
  r.nqgroups = (uint32_t)ng;
  r.qsubs = g_new(Subscription **, ng ? ng : 1);
  r.nqsubs = g_new(uint32_t, ng ? ng : 1);
  for (size_t i = 0; i < ng; i++) {
    GPtrArray *g = g_hash_table_lookup(groups, names[i]);
    r.qsubs[i] = (Subscription **)g->pdata;
    r.nqsubs[i] = g->len;
  }
  char *out = canon(&r);
  g_free(r.qsubs);
  g_free(r.nqsubs);
  g_free(names);
  g_hash_table_destroy(groups);
  g_ptr_array_free(p, TRUE);
  return out;
}

static char *rand_subject(GRand *rng, bool pattern) {
  static const char *lits[] = {"a", "b", "c", "dd"};
  int ntok = g_rand_int_range(rng, 1, 5);
  GString *s = g_string_new(NULL);
  for (int i = 0; i < ntok; i++) {
    if (i)
      g_string_append_c(s, '.');
    int k = g_rand_int_range(rng, 0, 10);
    if (pattern && k == 0)
      g_string_append_c(s, '*');
    else if (pattern && k == 1 && i == ntok - 1)
      g_string_append_c(s, '>');
    else if (!pattern && k == 0 && g_rand_int_range(rng, 0, 4) == 0)
      g_string_append_c(s, g_rand_boolean(rng) ? '*' : '>'); /* taken literally when published */
    else
      g_string_append(s, lits[g_rand_int_range(rng, 0, G_N_ELEMENTS(lits))]);
  }
  return g_string_free(s, FALSE);
}

static void test_random_vs_naive(gconstpointer data) {
  bool cache = GPOINTER_TO_INT(data);
  GRand *rng = g_rand_new_with_seed(cache ? 1234 : 5678);
  Sublist *sl = sublist_new(cache);
  Naive nv = {g_ptr_array_new()};
  GPtrArray *owned = g_ptr_array_new_with_free_func((GDestroyNotify)subscription_unref);
  static const char *queues[] = {NULL, NULL, NULL, "q1", "q2"};
  int steps = g_test_slow() ? 60000 : 8000;
  int nonempty = 0, max_live = 0;
  for (int step = 0; step < steps; step++) {
    int op = g_rand_int_range(rng, 0, 10);
    /* grow to a few hundred live subscriptions, then hover there */
    int ins = nv.subs->len < 300 ? 4 : 2;
    if (op < ins || nv.subs->len == 0) {
      g_autofree char *subj = rand_subject(rng, true);
      Subscription *s = mksub(subj, queues[g_rand_int_range(rng, 0, G_N_ELEMENTS(queues))]);
      g_ptr_array_add(owned, s);
      g_assert_cmpint(sublist_insert(sl, s), ==, SUBLIST_OK);
      g_ptr_array_add(nv.subs, s);
    } else if (op < 5) {
      guint i = (guint)g_rand_int_range(rng, 0, (gint32)nv.subs->len);
      Subscription *s = nv.subs->pdata[i];
      g_assert_cmpint(sublist_remove(sl, s), ==, SUBLIST_OK);
      g_ptr_array_remove_index_fast(nv.subs, i);
      g_assert_cmpint(sublist_remove(sl, s), ==, SUBLIST_ERR_NOT_FOUND);
    } else if (op == 5 && nv.subs->len > 4 && g_rand_int_range(rng, 0, 3) == 0) {
      Subscription *batch[3];
      for (int k = 0; k < 3; k++) {
        guint i = (guint)g_rand_int_range(rng, 0, (gint32)nv.subs->len);
        batch[k] = nv.subs->pdata[i];
        g_ptr_array_remove_index_fast(nv.subs, i);
      }
      g_assert_cmpint(sublist_remove_batch(sl, batch, 3), ==, SUBLIST_OK);
    } else {
      g_autofree char *subj = rand_subject(rng, false);
      SublistResult *r = sublist_match(sl, subj, strlen(subj));
      g_autofree char *got = canon(r);
      g_autofree char *want = naive_canon(&nv, subj);
      if (g_strcmp0(got, want) != 0)
        g_error("step %d subject %s:\n got %s\nwant %s", step, subj, got, want);
      g_assert_cmpint(sublist_has_interest(sl, subj, strlen(subj)), ==, !sublist_result_is_empty(r));
      nonempty += !sublist_result_is_empty(r);
      sublist_result_unref(r);
    }
    g_assert_cmpuint(sublist_count(sl), ==, nv.subs->len);
    max_live = MAX(max_live, (int)nv.subs->len);
  }
  /* the comparison must have exercised real results */
  g_test_message("non-empty matches %d, max live subs %d", nonempty, max_live);
  g_assert_cmpint(nonempty, >, steps / 10);
  g_assert_cmpint(max_live, >=, 20);
  SublistStats st;
  sublist_stats(sl, &st);
  if (cache)
    g_assert_cmpuint(st.cache_hits, >, 0);
  else
    g_assert_cmpuint(st.cache_hits, ==, 0);
  sublist_free(sl);
  for (guint i = 0; i < owned->len; i++)
    g_assert_cmpint(((Subscription *)owned->pdata[i])->refcount, ==, 1);
  g_ptr_array_free(owned, TRUE);
  g_ptr_array_free(nv.subs, TRUE);
  g_rand_free(rng);
}

/* ------------------------------------------------------------------ perf */

static double bench(Sublist *sl, char **subjects, size_t n, size_t iters) {
  size_t sum = 0;
  gint64 t0 = g_get_monotonic_time();
  for (size_t i = 0; i < iters; i++) {
    const char *s = subjects[i % n];
    SublistResult *r = sublist_match(sl, s, strlen(s));
    sum += r->npsubs;
    sublist_result_unref(r);
  }
  gint64 t1 = g_get_monotonic_time();
  g_assert_cmpuint(sum, >, 0);
  return (double)iters / ((double)(t1 - t0) / 1e6);
}

static void test_perf(void) {
  Sublist *sl = sublist_new(true);
  Sublist *nc = sublist_new(false);
  GPtrArray *owned = g_ptr_array_new_with_free_func((GDestroyNotify)subscription_unref);
  /* 10k literal subs over a 3-level space, plus a few wildcards */
  char buf[64];
  for (int i = 0; i < 10000; i++) {
    g_snprintf(buf, sizeof buf, "stock.%d.%d", i % 100, i / 100);
    Subscription *s = mksub(buf, NULL);
    g_ptr_array_add(owned, s);
    sublist_insert(sl, s);
    sublist_insert(nc, s);
  }
  const char *wild[] = {"stock.*.7", "stock.>", "*.1.*", ">", "stock.3.*"};
  for (size_t i = 0; i < G_N_ELEMENTS(wild); i++) {
    Subscription *s = mksub(wild[i], NULL);
    g_ptr_array_add(owned, s);
    sublist_insert(sl, s);
    sublist_insert(nc, s);
  }
  enum { NS = 512 };
  char *subjects[NS];
  for (int i = 0; i < NS; i++)
    subjects[i] = g_strdup_printf("stock.%d.%d", (i * 7) % 100, (i * 13) % 100);
  size_t iters = 2000000;
  double hit = bench(sl, subjects, NS, iters);
  double miss = bench(nc, subjects, NS, iters / 4);
  /* wildcard-heavy: 200 subs of patterns on 4-token subjects */
  Sublist *wl = sublist_new(false);
  static const char *forms[] = {"*.%d.*.*", "ev.*.%d.>", "ev.%d.>", "*.*.*.%d", "ev.>"};
  for (int i = 0; i < 200; i++) {
    g_snprintf(buf, sizeof buf, forms[i % 5], i % 10);
    Subscription *s = mksub(buf, NULL);
    g_ptr_array_add(owned, s);
    sublist_insert(wl, s);
  }
  char *wsubj[NS];
  for (int i = 0; i < NS; i++)
    wsubj[i] = g_strdup_printf("ev.%d.%d.%d", i % 10, (i / 10) % 10, (i / 100) % 10);
  double wild_miss = bench(wl, wsubj, NS, iters / 10);
  /* insert + remove throughput: 100k distinct 4-token subjects */
  Sublist *ir = sublist_new(true);
  enum { NI = 100000 };
  Subscription **isubs = g_new(Subscription *, NI);
  for (int i = 0; i < NI; i++) {
    g_snprintf(buf, sizeof buf, "ins.%d.%d.%d", i % 37, i % 101, i);
    isubs[i] = mksub(buf, i % 4 ? NULL : "q");
  }
  gint64 t0 = g_get_monotonic_time();
  for (int i = 0; i < NI; i++)
    sublist_insert(ir, isubs[i]);
  gint64 t1 = g_get_monotonic_time();
  for (int i = 0; i < NI; i++)
    sublist_remove(ir, isubs[i]);
  gint64 t2 = g_get_monotonic_time();
  g_assert_cmpuint(sublist_count(ir), ==, 0);
  double ins = NI / ((double)(t1 - t0) / 1e6), rem = NI / ((double)(t2 - t1) / 1e6);
  for (int i = 0; i < NI; i++)
    subscription_unref(isubs[i]);
  g_free(isubs);
  sublist_free(ir);
  g_test_maximized_result(hit, "cache hit: %.0f matches/s", hit);
  g_test_maximized_result(miss, "cache miss (no cache, 10k subs): %.0f matches/s", miss);
  g_test_maximized_result(wild_miss, "wildcard-heavy (no cache, 200 patterns): %.0f matches/s", wild_miss);
  g_printerr("# matches/s: cache hit %.0f, miss %.0f, wildcard-heavy %.0f; inserts/s %.0f, removes/s %.0f\n",
             hit, miss, wild_miss, ins, rem);
  for (int i = 0; i < NS; i++) {
    g_free(subjects[i]);
    g_free(wsubj[i]);
  }
  sublist_free(sl);
  sublist_free(nc);
  sublist_free(wl);
  g_ptr_array_free(owned, TRUE);
}

static void test_num_interest(void) {
  Sublist *sl = sublist_new(true);
  Subscription *subs[] = {mksub("a.b", NULL), mksub("a.*", NULL), mksub("a.>", "q1"), mksub("a.b", "q1"),
                          mksub("a.b", "q2"), mksub("x.y", NULL)};
  for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) g_assert_cmpint(sublist_insert(sl, subs[i]), ==, SUBLIST_OK);
  uint32_t np = 99, nq = 99;
  sublist_num_interest(sl, "a.b", 3, &np, &nq);
  g_assert_cmpuint(np, ==, 2);
  g_assert_cmpuint(nq, ==, 3);
  sublist_num_interest(sl, "a.c", 3, &np, &nq);
  g_assert_cmpuint(np, ==, 1);
  g_assert_cmpuint(nq, ==, 1);
  sublist_num_interest(sl, "z", 1, &np, NULL);
  g_assert_cmpuint(np, ==, 0);
  sublist_free(sl);
  for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) subscription_unref(subs[i]);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_data_func("/sublist/basic/cache", GINT_TO_POINTER(1), test_basic);
  g_test_add_data_func("/sublist/basic/nocache", GINT_TO_POINTER(0), test_basic);
  g_test_add_func("/sublist/invalid-insert", test_invalid_insert);
  g_test_add_func("/sublist/remove-missing", test_remove_missing);
  g_test_add_func("/sublist/queue-groups", test_queue_groups);
  g_test_add_func("/sublist/many-on-one-subject", test_many_on_one_subject);
  g_test_add_func("/sublist/many-queue-groups", test_many_queue_groups);
  g_test_add_func("/sublist/remove-batch", test_remove_batch);
  g_test_add_func("/sublist/stats", test_stats);
  g_test_add_func("/sublist/cache-bound", test_cache_bound);
  g_test_add_func("/sublist/cache-invalidation", test_cache_invalidation);
  g_test_add_func("/sublist/result-outlives-removal", test_result_outlives);
  g_test_add_func("/sublist/reverse-match", test_reverse_match);
  g_test_add_func("/sublist/enumerate", test_enumerate);
  g_test_add_func("/sublist/long-subjects", test_long_subjects);
  g_test_add_func("/sublist/deep-subjects", test_deep_subjects);
  g_test_add_func("/sublist/nul-bytes", test_nul_bytes);
  g_test_add_func("/sublist/notifications", test_notifications);
  g_test_add_func("/sublist/notification-cleared-in-round", test_notification_cleared_in_round);
  g_test_add_data_func("/sublist/random-vs-naive/cache", GINT_TO_POINTER(1), test_random_vs_naive);
  g_test_add_data_func("/sublist/random-vs-naive/nocache", GINT_TO_POINTER(0), test_random_vs_naive);
  if (g_test_perf())
    g_test_add_func("/sublist/perf", test_perf);
  g_test_add_func("/sublist/num-interest", test_num_interest);
  return g_test_run();
}
