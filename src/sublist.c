/* sublist.c — the subject index: subscriptions by subject pattern, matched
 * against published subjects, with a bounded cache of match results.
 *
 * Owns: the trie, one reference on every inserted Subscription, the cache
 * (and one reference on each cached result), the notification watchers.
 * Thread: the protocol loop only (no locks).  Callers: client.c (SUB, UNSUB,
 * PUB fan-out), accounts, permissions, routes, monitoring.
 *
 * Design.  A trie with one level per subject token.  A level keeps its
 * literal children in an open-addressing table (linear probing, backward
 * shift deletion) keyed by the token bytes and a seeded hash stored in the
 * node, so lookups compare slices of the published subject and allocate
 * nothing; "*" and ">" children sit in their own slots.  A node keeps its
 * plain subscriptions and its queue subscriptions grouped by queue name.
 * Empty nodes are pruned on remove.
 *
 * Matching walks the literal path, queueing each "*" child met on the way
 * as a branch to walk next and adding every ">" child (as Go's matchLevel).
 * No walk recurses: subject depth is chosen by clients, so branches go on an
 * explicit stack instead of the C stack.  Hits are gathered in
 * scratch arrays owned by the Sublist, then copied into a result made of
 * ONE allocation (layout in sublist.h).  Results are cached by literal
 * subject (at most SUBLIST_CACHE_MAX, then cut back to SUBLIST_CACHE_SWEEP
 * like Go); a hit returns the cached result with one more reference and
 * allocates nothing.  An insert or remove drops exactly the cached entries
 * its subject matches (one lookup for a literal subject, a scan of the cache
 * for a wildcard).  Go patches entries on insert instead; dropping is simpler
 * and costs one rebuild on the next match of that subject.
 *
 * Notifications fire only after the trie and cache are consistent, from a
 * snapshot of the watchers, so callbacks may change the sublist. */
#include "sublist.h"

#include <string.h>

#include "subject.h"

/* ---------------------------------------------------------------- hashing */

static uint64_t hash_seed;

static void hash_init(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    /* Random per process: tokens are chosen by clients, so a fixed hash
     * would let one build long probe chains. */
    hash_seed = ((uint64_t)g_random_int() << 32) ^ g_random_int() ^ 0x9e3779b97f4a7c15ull;
    g_once_init_leave(&once, 1);
  }
}

static inline uint64_t hash_mix(uint64_t a, uint64_t b) {
#ifdef __SIZEOF_INT128__
  __uint128_t r = (__uint128_t)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
  uint64_t x = a ^ (b * 0xff51afd7ed558ccdull);
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 29);
#endif
}

static inline uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = hash_seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = hash_mix(w ^ 0xa0761d6478bd642full, h ^ 0xe7037ed1a0b428dbull);
    p += 8;
    n -= 8;
  }
  if (n) {
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = hash_mix(w ^ 0x8ebc6af09c88c6e3ull, h ^ 0x589965cc75374cc3ull);
  }
  return hash_mix(h, 0x1d8e4e27c47d124full);
}

/* ------------------------------------------------------------------ types */

typedef struct Node Node;

typedef struct Level {
  Node **slots;   /* owned table of owned nodes; NULL when count == 0 */
  uint32_t cap;   /* power of two, or 0 */
  uint32_t count; /* literal children */
  Node *pwc;      /* owned: the "*" child */
  Node *fwc;      /* owned: the ">" child */
} Level;

/* A set of subscriptions, each holding one reference.  Small sets are
 * scanned; an index (sub -> position + 1) is added past SUBSET_INDEX_MIN so
 * removing one of many subscribers of one subject stays O(1). */
#define SUBSET_INDEX_MIN 32

typedef struct SubSet {
  Subscription **v;  /* owned array; each element owns a reference */
  uint32_t n, cap;
  GHashTable *index; /* owned, or NULL */
} SubSet;

typedef struct QGroup {
  char *name;        /* owned, NUL-terminated */
  uint32_t name_len;
  uint64_t hash;     /* of name */
  SubSet subs;       /* never empty while the group exists */
} QGroup;

/* Past this many groups on one node, a node indexes them by name: clients
 * choose queue names freely, and a scan per SUB would be quadratic. */
#define QINDEX_MIN 8

struct Node {
  Level next;        /* children */
  SubSet psubs;      /* plain subscriptions */
  QGroup *qgroups;   /* owned array */
  uint32_t nqgroups, qcap;
  uint32_t *qidx;    /* owned: open addressing, group index + 1 (0 = free),
                      * keyed by QGroup.hash; NULL below QINDEX_MIN groups */
  uint32_t qidxcap;
  uint64_t hash;     /* of token, for the parent's table */
  uint32_t toklen;
  char token[];      /* not NUL-terminated */
};

typedef struct CacheEntry {
  uint64_t hash;
  char *key;         /* owned; NULL = empty slot, &cache_tomb = deleted */
  uint32_t keylen;
  SublistResult *r;  /* owned reference */
} CacheEntry;

static char cache_tomb;

typedef struct QHit {
  uint32_t group;
  Subscription *sub; /* borrowed */
} QHit;

typedef struct QName {
  const char *name;  /* borrowed from a QGroup */
  uint32_t len;
  uint64_t hash;
  uint32_t count;
} QName;

/* Match scratch, reused between calls; grows, never shrinks. */
typedef struct Scratch {
  Subscription **p;  /* borrowed pointers; owned array */
  size_t np, pcap;
  QName *g;
  size_t ng, gcap;
  QHit *q;
  size_t nq, qcap;
  const char **tok;  /* token slices of the subject being matched */
  uint32_t *toklen;
  uint64_t *tokhash;
  size_t tokcap;
  Node **path;       /* remove: the nodes on the subject's path */
  size_t pathcap;
  struct Frame *stack; /* walks: pending branches (no recursion, so a
                        * subject of any depth cannot exhaust the C stack) */
  size_t nstack, stackcap;
} Scratch;

typedef struct Frame {
  const Level *l;    /* borrowed */
  const Node *n;     /* borrowed: reverse match's current node */
  size_t i;          /* next token index */
} Frame;

typedef struct Watcher {
  SublistNotifyFn fn;
  void *ud;          /* borrowed */
  bool has_interest; /* what it was last told */
} Watcher;

typedef struct NotifyEntry {
  GArray *watchers;  /* owned, of Watcher */
} NotifyEntry;

struct Sublist {
  Level root;
  uint32_t count;
  uint64_t inserts, removes, matches, cache_hits, genid;
  bool cache_enabled;
  CacheEntry *cache;       /* owned table; NULL until first use */
  uint32_t cache_cap, cache_count, cache_tombs, sweep_pos;
  Scratch s;
  GHashTable *notify;      /* owned: key ("subject" or "subject queue") -> NotifyEntry; or NULL */
};

/* The shared result for "no interest": static, never freed. */
static SublistResult empty_result = {.refcount = -1};

/* ----------------------------------------------------------------- growth */

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return p;
  size_t nc = *cap ? *cap : 16;
  while (nc < need)
    nc *= 2;
  *cap = nc;
  return g_realloc_n(p, nc, elem);
}

/* ----------------------------------------------------------------- subset */

static bool subset_contains(const SubSet *s, const Subscription *sub) {
  if (s->index)
    return g_hash_table_contains(s->index, sub);
  for (uint32_t i = 0; i < s->n; i++)
    if (s->v[i] == sub)
      return true;
  return false;
}

/* Takes a reference. */
static void subset_add(SubSet *s, Subscription *sub) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 2;
    s->v = g_renew(Subscription *, s->v, s->cap);
  }
  s->v[s->n++] = subscription_ref(sub);
  if (s->index) {
    g_hash_table_insert(s->index, sub, GUINT_TO_POINTER(s->n));
  } else if (s->n > SUBSET_INDEX_MIN) {
    s->index = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (uint32_t i = 0; i < s->n; i++)
      g_hash_table_insert(s->index, s->v[i], GUINT_TO_POINTER(i + 1));
  }
}

/* Takes the set's reference out (the caller drops it); false if absent. */
static bool subset_take(SubSet *s, Subscription *sub) {
  uint32_t pos = UINT32_MAX;
  if (s->index) {
    gpointer v = g_hash_table_lookup(s->index, sub);
    if (!v)
      return false;
    pos = GPOINTER_TO_UINT(v) - 1;
    g_hash_table_remove(s->index, sub);
  } else {
    for (uint32_t i = 0; i < s->n; i++)
      if (s->v[i] == sub) {
        pos = i;
        break;
      }
    if (pos == UINT32_MAX)
      return false;
  }
  s->n--;
  if (pos != s->n) {
    s->v[pos] = s->v[s->n];
    if (s->index)
      g_hash_table_insert(s->index, s->v[pos], GUINT_TO_POINTER(pos + 1));
  }
  if (s->n == 0) {
    g_clear_pointer(&s->index, g_hash_table_destroy);
    g_clear_pointer(&s->v, g_free);
    s->cap = 0;
  }
  return true;
}

static void subset_clear(SubSet *s) {
  for (uint32_t i = 0; i < s->n; i++)
    subscription_unref(s->v[i]);
  g_clear_pointer(&s->index, g_hash_table_destroy);
  g_clear_pointer(&s->v, g_free);
  s->n = s->cap = 0;
}

/* ------------------------------------------------------------ trie levels */

static Node *node_new(const char *tok, size_t len, uint64_t hash) {
  Node *n = g_malloc0(sizeof(Node) + len);
  memcpy(n->token, tok, len);
  n->toklen = (uint32_t)len;
  n->hash = hash;
  return n;
}

static inline bool level_is_empty(const Level *l) {
  return l->count == 0 && !l->pwc && !l->fwc;
}

/* Moves l's children onto `todo` and empties l. */
static void level_detach(Level *l, GPtrArray *todo) {
  for (uint32_t i = 0; i < l->cap; i++)
    if (l->slots[i])
      g_ptr_array_add(todo, l->slots[i]);
  if (l->pwc)
    g_ptr_array_add(todo, l->pwc);
  if (l->fwc)
    g_ptr_array_add(todo, l->fwc);
  g_clear_pointer(&l->slots, g_free);
  l->cap = l->count = 0;
  l->pwc = l->fwc = NULL;
}

/* Frees what the node itself holds (its subscriptions, queue groups) and the
 * node; its children must already be detached or freed. */
static void node_free_own(Node *n) {
  subset_clear(&n->psubs);
  for (uint32_t i = 0; i < n->nqgroups; i++) {
    subset_clear(&n->qgroups[i].subs);
    g_free(n->qgroups[i].name);
  }
  g_free(n->qgroups);
  g_free(n->qidx);
  g_free(n);
}

/* Frees every node under l, iteratively (depth is client-chosen). */
static void level_clear(Level *l) {
  GPtrArray *todo = g_ptr_array_new();
  level_detach(l, todo);
  while (todo->len) {
    Node *n = g_ptr_array_steal_index_fast(todo, todo->len - 1);
    level_detach(&n->next, todo);
    node_free_own(n);
  }
  g_ptr_array_free(todo, TRUE);
}

/* Frees a node that has no children left (pruning). */
static void node_free_leaf(Node *n) {
  g_assert(level_is_empty(&n->next));
  level_clear(&n->next);
  node_free_own(n);
}

static inline Node *level_find(const Level *l, const char *tok, size_t len, uint64_t h) {
  if (l->count == 0)
    return NULL;
  uint32_t mask = l->cap - 1;
  for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
    Node *n = l->slots[i];
    if (!n)
      return NULL;
    if (n->hash == h && n->toklen == len && memcmp(n->token, tok, len) == 0)
      return n;
  }
}

static void level_place(Node **slots, uint32_t mask, Node *n) {
  uint32_t i = (uint32_t)n->hash & mask;
  while (slots[i])
    i = (i + 1) & mask;
  slots[i] = n;
}

static void level_add(Level *l, Node *n) {
  if ((l->count + 1) * 4 > l->cap * 3) {
    uint32_t ncap = l->cap ? l->cap * 2 : 4;
    Node **ns = g_new0(Node *, ncap);
    for (uint32_t i = 0; i < l->cap; i++)
      if (l->slots[i])
        level_place(ns, ncap - 1, l->slots[i]);
    g_free(l->slots);
    l->slots = ns;
    l->cap = ncap;
  }
  level_place(l->slots, l->cap - 1, n);
  l->count++;
}

/* Unlinks n (a literal child of l) without freeing it. */
static void level_del(Level *l, Node *n) {
  uint32_t mask = l->cap - 1;
  uint32_t i = (uint32_t)n->hash & mask;
  while (l->slots[i] != n)
    i = (i + 1) & mask;
  l->slots[i] = NULL;
  /* backward shift: pull later entries of the probe run into the hole */
  for (uint32_t j = (i + 1) & mask; l->slots[j]; j = (j + 1) & mask) {
    uint32_t home = (uint32_t)l->slots[j]->hash & mask;
    bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      l->slots[i] = l->slots[j];
      l->slots[j] = NULL;
      i = j;
    }
  }
  if (--l->count == 0) {
    g_clear_pointer(&l->slots, g_free);
    l->cap = 0;
  }
}

static inline bool node_has_subs(const Node *n) {
  return n->psubs.n > 0 || n->nqgroups > 0;
}

static QGroup *node_find_group(const Node *n, const char *q, size_t len) {
  if (!n->qidx) {
    for (uint32_t i = 0; i < n->nqgroups; i++) {
      QGroup *g = &n->qgroups[i];
      if (g->name_len == len && memcmp(g->name, q, len) == 0)
        return g;
    }
    return NULL;
  }
  uint64_t h = hash_bytes(q, len);
  uint32_t mask = n->qidxcap - 1;
  for (uint32_t i = (uint32_t)h & mask; n->qidx[i]; i = (i + 1) & mask) {
    QGroup *g = &n->qgroups[n->qidx[i] - 1];
    if (g->hash == h && g->name_len == len && memcmp(g->name, q, len) == 0)
      return g;
  }
  return NULL;
}

static void qidx_place(Node *n, uint32_t gi) {
  uint32_t mask = n->qidxcap - 1;
  uint32_t i = (uint32_t)n->qgroups[gi].hash & mask;
  while (n->qidx[i])
    i = (i + 1) & mask;
  n->qidx[i] = gi + 1;
}

static void qidx_rebuild(Node *n) {
  uint32_t cap = 16;
  while (cap * 3 < n->nqgroups * 4 + 4)
    cap *= 2;
  g_free(n->qidx);
  n->qidx = g_new0(uint32_t, cap);
  n->qidxcap = cap;
  for (uint32_t gi = 0; gi < n->nqgroups; gi++)
    qidx_place(n, gi);
}

/* The index slot holding group gi. */
static uint32_t qidx_slot(const Node *n, uint32_t gi) {
  uint32_t mask = n->qidxcap - 1;
  uint32_t i = (uint32_t)n->qgroups[gi].hash & mask;
  while (n->qidx[i] != gi + 1)
    i = (i + 1) & mask;
  return i;
}

static QGroup *node_add_group(Node *n, const char *q, size_t len) {
  if (n->nqgroups == n->qcap) {
    n->qcap = n->qcap ? n->qcap * 2 : 1;
    n->qgroups = g_renew(QGroup, n->qgroups, n->qcap);
  }
  uint32_t gi = n->nqgroups++;
  char *name = g_malloc(len + 1); /* exact bytes, NULs included */
  memcpy(name, q, len);
  name[len] = '\0';
  n->qgroups[gi] = (QGroup){name, (uint32_t)len, hash_bytes(q, len), {0}};
  if (n->qidx && n->nqgroups * 4 <= n->qidxcap * 3)
    qidx_place(n, gi);
  else if (n->qidx || n->nqgroups > QINDEX_MIN)
    qidx_rebuild(n);
  return &n->qgroups[gi];
}

/* Drops the (empty) group g: the last group moves into its place. */
static void node_del_group(Node *n, QGroup *g) {
  uint32_t gi = (uint32_t)(g - n->qgroups), last = n->nqgroups - 1;
  g_free(g->name);
  if (n->qidx) {
    /* unlink gi (backward shift), then repoint the slot of the moved group */
    uint32_t mask = n->qidxcap - 1;
    uint32_t i = qidx_slot(n, gi);
    n->qidx[i] = 0;
    for (uint32_t j = (i + 1) & mask; n->qidx[j]; j = (j + 1) & mask) {
      uint32_t home = (uint32_t)n->qgroups[n->qidx[j] - 1].hash & mask;
      bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
      if (!stays) {
        n->qidx[i] = n->qidx[j];
        n->qidx[j] = 0;
        i = j;
      }
    }
    if (gi != last)
      n->qidx[qidx_slot(n, last)] = gi + 1;
  }
  if (gi != last)
    n->qgroups[gi] = n->qgroups[last];
  n->nqgroups = last;
  if (n->nqgroups == 0) {
    g_clear_pointer(&n->qgroups, g_free);
    g_clear_pointer(&n->qidx, g_free);
    n->qcap = n->qidxcap = 0;
  }
}

/* ---------------------------------------------------------------- scratch */

/* Splits subj at '.' into the scratch token arrays.  With allow_empty false
 * an empty token (or empty subject) fails the split; reverse match wants
 * Go's unvalidated split, where an empty token simply matches nothing. */
static bool scratch_split(Scratch *s, const char *subj, size_t len, bool allow_empty, size_t *ntok) {
  if (len == 0 && !allow_empty)
    return false;
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && subj[i] != '.')
      continue;
    if (i == start && !allow_empty)
      return false;
    if (n == s->tokcap) {
      size_t c1 = s->tokcap, c2 = s->tokcap, c3 = s->tokcap;
      s->tok = grow(s->tok, &c1, n + 1, sizeof(*s->tok));
      s->toklen = grow(s->toklen, &c2, n + 1, sizeof(*s->toklen));
      s->tokhash = grow(s->tokhash, &c3, n + 1, sizeof(*s->tokhash));
      s->tokcap = c1;
    }
    s->tok[n] = subj + start;
    s->toklen[n] = (uint32_t)(i - start);
    n++;
    start = i + 1;
  }
  *ntok = n;
  return true;
}

static bool scratch_tokenize(Scratch *s, const char *subj, size_t len, size_t *ntok) {
  return scratch_split(s, subj, len, false, ntok);
}

static void scratch_hash_tokens(Scratch *s, size_t ntok) {
  for (size_t i = 0; i < ntok; i++)
    s->tokhash[i] = hash_bytes(s->tok[i], s->toklen[i]);
}

static void scratch_reset(Scratch *s) {
  s->np = s->ng = s->nq = 0;
}

static void scratch_add_node(Scratch *s, const Node *n) {
  if (n->psubs.n) {
    s->p = grow(s->p, &s->pcap, s->np + n->psubs.n, sizeof(*s->p));
    memcpy(s->p + s->np, n->psubs.v, n->psubs.n * sizeof(*s->p));
    s->np += n->psubs.n;
  }
  /* names are unique within a node: search only groups of earlier nodes */
  size_t earlier = s->ng;
  for (uint32_t gi = 0; gi < n->nqgroups; gi++) {
    const QGroup *qg = &n->qgroups[gi];
    uint32_t g;
    for (g = 0; g < earlier; g++)
      if (s->g[g].hash == qg->hash && s->g[g].len == qg->name_len &&
          memcmp(s->g[g].name, qg->name, qg->name_len) == 0)
        break;
    if (g == earlier) {
      g = (uint32_t)s->ng;
      s->g = grow(s->g, &s->gcap, s->ng + 1, sizeof(*s->g));
      s->g[s->ng++] = (QName){qg->name, qg->name_len, qg->hash, 0};
    }
    for (uint32_t k = 0; k < qg->subs.n; k++) {
      Subscription *sub = qg->subs.v[k];
      /* a remote queue sub stands for qweight members (Go shadows it) */
      int32_t w = (sub->is_remote && sub->qweight > 1) ? sub->qweight : 1;
      s->q = grow(s->q, &s->qcap, s->nq + (size_t)w, sizeof(*s->q));
      for (int32_t r = 0; r < w; r++)
        s->q[s->nq++] = (QHit){g, sub};
      s->g[g].count += (uint32_t)w;
    }
  }
}

/* (transfer full) the scratch contents as one allocation. */
static SublistResult *scratch_build(Scratch *s) {
  if (s->np == 0 && s->ng == 0)
    return &empty_result;
  size_t size = sizeof(SublistResult) + (s->np + s->ng + s->nq) * sizeof(void *) +
                s->ng * sizeof(uint32_t);
  SublistResult *r = g_malloc(size);
  r->refcount = 1;
  r->npsubs = (uint32_t)s->np;
  r->nqgroups = (uint32_t)s->ng;
  r->psubs = (Subscription **)(r + 1);
  r->qsubs = (Subscription ***)(r->psubs + s->np);
  Subscription **members = (Subscription **)(r->qsubs + s->ng);
  r->nqsubs = (uint32_t *)(members + s->nq);
  for (size_t i = 0; i < s->np; i++)
    r->psubs[i] = subscription_ref(s->p[i]);
  size_t off = 0;
  for (size_t g = 0; g < s->ng; g++) {
    r->qsubs[g] = members + off;
    r->nqsubs[g] = 0;
    off += s->g[g].count;
  }
  for (size_t i = 0; i < s->nq; i++) {
    uint32_t g = s->q[i].group;
    r->qsubs[g][r->nqsubs[g]++] = subscription_ref(s->q[i].sub);
  }
  return r;
}

static void scratch_free(Scratch *s) {
  g_free(s->p);
  g_free(s->g);
  g_free(s->q);
  g_free(s->tok);
  g_free(s->toklen);
  g_free(s->tokhash);
  g_free(s->path);
  g_free(s->stack);
}

static inline void scratch_push(Scratch *s, const Level *l, const Node *n, size_t i) {
  s->stack = grow(s->stack, &s->stackcap, s->nstack + 1, sizeof(*s->stack));
  s->stack[s->nstack++] = (Frame){l, n, i};
}

/* ---------------------------------------------------------------- results */

SublistResult *sublist_result_ref(SublistResult *r) {
  if (r->refcount >= 0)
    r->refcount++;
  return r;
}

void sublist_result_unref(SublistResult *r) {
  if (!r || r->refcount < 0)
    return;
  g_assert(r->refcount > 0);
  if (--r->refcount > 0)
    return;
  for (uint32_t i = 0; i < r->npsubs; i++)
    subscription_unref(r->psubs[i]);
  for (uint32_t g = 0; g < r->nqgroups; g++)
    for (uint32_t i = 0; i < r->nqsubs[g]; i++)
      subscription_unref(r->qsubs[g][i]);
  g_free(r);
}

/* ------------------------------------------------------------------ cache */

static inline bool cache_live(const CacheEntry *e) {
  return e->key && e->key != &cache_tomb;
}

static inline int64_t cache_lookup(const Sublist *sl, const char *key, size_t len, uint64_t h) {
  if (!sl->cache || sl->cache_count == 0)
    return -1;
  uint32_t mask = sl->cache_cap - 1;
  for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
    const CacheEntry *e = &sl->cache[i];
    if (!e->key)
      return -1;
    if (e->key != &cache_tomb && e->hash == h && e->keylen == len && memcmp(e->key, key, len) == 0)
      return i;
  }
}

static void cache_place(CacheEntry *tab, uint32_t mask, const CacheEntry *e) {
  uint32_t i = (uint32_t)e->hash & mask;
  while (tab[i].key)
    i = (i + 1) & mask;
  tab[i] = *e;
}

/* Rebuilds the table without tombstones, at a size fit for `want` entries. */
static void cache_rehash(Sublist *sl, uint32_t want) {
  uint32_t ncap = 16;
  while (ncap * 3 < want * 4 + 4)
    ncap *= 2;
  CacheEntry *nt = g_new0(CacheEntry, ncap);
  for (uint32_t i = 0; i < sl->cache_cap; i++)
    if (cache_live(&sl->cache[i]))
      cache_place(nt, ncap - 1, &sl->cache[i]);
  g_free(sl->cache);
  sl->cache = nt;
  sl->cache_cap = ncap;
  sl->cache_tombs = 0;
}

static void cache_del_at(Sublist *sl, uint32_t i) {
  CacheEntry *e = &sl->cache[i];
  g_free(e->key);
  sublist_result_unref(e->r);
  e->key = &cache_tomb;
  e->r = NULL;
  sl->cache_count--;
  sl->cache_tombs++;
}

/* The key is known absent.  Takes a reference on r. */
static void cache_put(Sublist *sl, const char *key, size_t len, uint64_t h, SublistResult *r) {
  if (!sl->cache || (sl->cache_count + sl->cache_tombs + 1) * 4 > sl->cache_cap * 3)
    cache_rehash(sl, sl->cache_count + 1 > sl->cache_cap / 2 ? sl->cache_cap : sl->cache_count + 1);
  uint32_t mask = sl->cache_cap - 1;
  uint32_t i = (uint32_t)h & mask;
  while (cache_live(&sl->cache[i]))
    i = (i + 1) & mask;
  if (sl->cache[i].key == &cache_tomb)
    sl->cache_tombs--;
  char *k = g_malloc(len + 1); /* exact bytes: a subject may hold NULs */
  memcpy(k, key, len);
  k[len] = '\0';
  sl->cache[i] = (CacheEntry){h, k, (uint32_t)len, sublist_result_ref(r)};
  sl->cache_count++;
}

/* Go drops arbitrary entries when over the maximum; start where the last
 * sweep stopped so the same entries are not always the survivors. */
static void cache_sweep(Sublist *sl) {
  uint32_t mask = sl->cache_cap - 1, start = sl->sweep_pos;
  for (uint32_t k = 0; k < sl->cache_cap && sl->cache_count > SUBLIST_CACHE_SWEEP; k++) {
    uint32_t i = (start + k) & mask;
    if (cache_live(&sl->cache[i])) {
      cache_del_at(sl, i);
      sl->sweep_pos = i + 1;
    }
  }
  cache_rehash(sl, sl->cache_count);
}

static void cache_flush(Sublist *sl) {
  for (uint32_t i = 0; i < sl->cache_cap; i++)
    if (cache_live(&sl->cache[i]))
      cache_del_at(sl, i);
  g_clear_pointer(&sl->cache, g_free);
  sl->cache_cap = sl->cache_count = sl->cache_tombs = 0;
}

/* Drops every cached result a subscription on `subject` could appear in. */
static void cache_invalidate(Sublist *sl, const char *subject, size_t len) {
  if (!sl->cache || sl->cache_count == 0)
    return;
  if (!subject_has_wildcard(subject, len)) {
    int64_t i = cache_lookup(sl, subject, len, hash_bytes(subject, len));
    if (i >= 0)
      cache_del_at(sl, (uint32_t)i);
    return;
  }
  for (uint32_t i = 0; i < sl->cache_cap; i++) {
    CacheEntry *e = &sl->cache[i];
    if (cache_live(e) && subject_matches(subject, len, e->key, e->keylen))
      cache_del_at(sl, i);
  }
}

/* ------------------------------------------------------------- lifecycle */

Sublist *sublist_new(bool cache_enabled) {
  hash_init();
  Sublist *sl = g_new0(Sublist, 1);
  sl->cache_enabled = cache_enabled;
  return sl;
}

static void notify_entry_free(gpointer p) {
  NotifyEntry *e = p;
  g_array_free(e->watchers, TRUE);
  g_free(e);
}

void sublist_free(Sublist *sl) {
  if (!sl)
    return;
  cache_flush(sl);
  level_clear(&sl->root);
  scratch_free(&sl->s);
  if (sl->notify)
    g_hash_table_destroy(sl->notify);
  g_free(sl);
}

uint32_t sublist_count(const Sublist *sl) {
  return sl->count;
}

uint32_t sublist_cache_count(const Sublist *sl) {
  return sl->cache_count;
}

bool sublist_cache_enabled(const Sublist *sl) {
  return sl->cache_enabled;
}

uint64_t sublist_genid(const Sublist *sl) {
  return sl->genid;
}

/* ---------------------------------------------------------- notifications */

/* "subject" or "subject queue" (Go's key), into buf when it fits. */
static char *notify_key(const char *subject, const char *queue, char *buf, size_t bufsz) {
  size_t sl = strlen(subject), ql = queue ? strlen(queue) : 0;
  size_t need = sl + (queue ? 1 + ql : 0) + 1;
  char *k = need <= bufsz ? buf : g_malloc(need);
  memcpy(k, subject, sl);
  if (queue) {
    k[sl] = ' ';
    memcpy(k + sl + 1, queue, ql);
  }
  k[need - 1] = '\0';
  return k;
}

/* Is there a subscription on exactly `subject` (in group `queue`)? */
static bool exact_interest(Sublist *sl, const char *subject, size_t len, const char *queue) {
  size_t ntok;
  if (!scratch_tokenize(&sl->s, subject, len, &ntok))
    return false;
  const Level *l = &sl->root;
  const Node *n = NULL;
  for (size_t i = 0; i < ntok; i++) {
    const char *t = sl->s.tok[i];
    uint32_t tl = sl->s.toklen[i];
    if (tl == 1 && t[0] == '*')
      n = l->pwc;
    else if (tl == 1 && t[0] == '>')
      n = l->fwc;
    else
      n = level_find(l, t, tl, hash_bytes(t, tl));
    if (!n)
      return false;
    l = &n->next;
  }
  if (queue)
    return node_find_group(n, queue, strlen(queue)) != NULL;
  return n->psubs.n > 0;
}

static bool watcher_registered(Sublist *sl, const char *key, SublistNotifyFn fn, void *ud) {
  NotifyEntry *e = sl->notify ? g_hash_table_lookup(sl->notify, key) : NULL;
  if (!e)
    return false;
  for (guint i = 0; i < e->watchers->len; i++) {
    const Watcher *w = &g_array_index(e->watchers, Watcher, i);
    if (w->fn == fn && w->ud == ud)
      return true;
  }
  return false;
}

/* Tells every watcher of (subject, queue) whose state differs from the
 * actual one.  Works on a snapshot: callbacks may change anything. */
static void notify_check(Sublist *sl, const char *subject, size_t len, const char *queue) {
  if (!sl->notify || g_hash_table_size(sl->notify) == 0)
    return;
  char buf[256];
  char *key = notify_key(subject, queue, buf, sizeof buf);
  NotifyEntry *e = g_hash_table_lookup(sl->notify, key);
  if (!e) {
    if (key != buf)
      g_free(key);
    return;
  }
  if (key == buf)
    key = g_strdup(buf); /* callbacks below may recurse into this function */
  bool has = exact_interest(sl, subject, len, queue);
  Watcher *snap = g_new(Watcher, e->watchers->len);
  guint n = 0;
  for (guint i = 0; i < e->watchers->len; i++) {
    Watcher *w = &g_array_index(e->watchers, Watcher, i);
    if (w->has_interest != has) {
      w->has_interest = has;
      snap[n++] = *w;
    }
  }
  /* the subject may live in a subscription a callback drops: copy it */
  char *subj = n ? g_strndup(subject, len) : NULL;
  for (guint i = 0; i < n; i++) {
    /* skip a watcher an earlier callback of this round cleared */
    if (i > 0 && !watcher_registered(sl, key, snap[i].fn, snap[i].ud))
      continue;
    snap[i].fn(subj, has, snap[i].ud);
  }
  g_free(subj);
  g_free(snap);
  g_free(key);
}

static int register_notification(Sublist *sl, const char *subject, const char *queue,
                                 SublistNotifyFn fn, void *ud) {
  g_return_val_if_fail(fn != NULL, SUBLIST_ERR_INVALID_SUBJECT);
  if (!subject)
    return SUBLIST_ERR_INVALID_SUBJECT;
  size_t len = strlen(subject);
  if (subject_has_wildcard(subject, len))
    return SUBLIST_ERR_INVALID_SUBJECT;
  if (!sl->notify)
    sl->notify = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, notify_entry_free);
  char *key = notify_key(subject, queue, NULL, 0);
  NotifyEntry *e = g_hash_table_lookup(sl->notify, key);
  if (!e) {
    e = g_new0(NotifyEntry, 1);
    e->watchers = g_array_new(FALSE, FALSE, sizeof(Watcher));
    g_hash_table_insert(sl->notify, key, e);
  } else {
    g_free(key);
    for (guint i = 0; i < e->watchers->len; i++) {
      Watcher *w = &g_array_index(e->watchers, Watcher, i);
      if (w->fn == fn && w->ud == ud)
        return SUBLIST_ERR_ALREADY_REGISTERED;
    }
  }
  Watcher w = {fn, ud, exact_interest(sl, subject, len, queue)};
  g_array_append_val(e->watchers, w);
  fn(subject, w.has_interest, ud);
  return SUBLIST_OK;
}

static int clear_notification(Sublist *sl, const char *subject, const char *queue,
                              SublistNotifyFn fn, void *ud) {
  if (!sl->notify || !subject)
    return SUBLIST_ERR_NOT_FOUND;
  char buf[256];
  char *key = notify_key(subject, queue, buf, sizeof buf);
  NotifyEntry *e = g_hash_table_lookup(sl->notify, key);
  int rc = SUBLIST_ERR_NOT_FOUND;
  if (e) {
    for (guint i = 0; i < e->watchers->len; i++) {
      Watcher *w = &g_array_index(e->watchers, Watcher, i);
      if (w->fn == fn && w->ud == ud) {
        g_array_remove_index_fast(e->watchers, i);
        rc = SUBLIST_OK;
        break;
      }
    }
    if (e->watchers->len == 0)
      g_hash_table_remove(sl->notify, key);
  }
  if (key != buf)
    g_free(key);
  return rc;
}

int sublist_register_notification(Sublist *sl, const char *subject, SublistNotifyFn fn, void *ud) {
  return register_notification(sl, subject, NULL, fn, ud);
}

int sublist_clear_notification(Sublist *sl, const char *subject, SublistNotifyFn fn, void *ud) {
  return clear_notification(sl, subject, NULL, fn, ud);
}

int sublist_register_queue_notification(Sublist *sl, const char *subject, const char *queue,
                                        SublistNotifyFn fn, void *ud) {
  if (!queue)
    return SUBLIST_ERR_INVALID_SUBJECT;
  return register_notification(sl, subject, queue, fn, ud);
}

int sublist_clear_queue_notification(Sublist *sl, const char *subject, const char *queue,
                                     SublistNotifyFn fn, void *ud) {
  if (!queue)
    return SUBLIST_ERR_NOT_FOUND;
  return clear_notification(sl, subject, queue, fn, ud);
}

/* --------------------------------------------------------- insert/remove */

/* Go's Insert check: no empty token, nothing after a ">" token. */
static bool insert_subject_ok(const char *s, size_t len) {
  if (len == 0)
    return false;
  size_t start = 0;
  bool after_fwc = false;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && s[i] != '.')
      continue;
    if (i == start || after_fwc)
      return false;
    after_fwc = (i - start == 1 && s[start] == '>');
    start = i + 1;
  }
  return true;
}

int sublist_insert(Sublist *sl, Subscription *sub) {
  const char *subj = sub->subject;
  size_t len = sub->subject_len;
  if (!insert_subject_ok(subj, len))
    return SUBLIST_ERR_INVALID_SUBJECT;
  size_t ntok;
  scratch_tokenize(&sl->s, subj, len, &ntok);

  Level *l = &sl->root;
  Node *n = NULL;
  bool haswc = false;
  for (size_t i = 0; i < ntok; i++) {
    const char *t = sl->s.tok[i];
    uint32_t tl = sl->s.toklen[i];
    if (tl == 1 && (t[0] == '*' || t[0] == '>')) {
      Node **slot = t[0] == '*' ? &l->pwc : &l->fwc;
      haswc = true;
      if (!*slot)
        *slot = node_new(t, 1, 0);
      n = *slot;
    } else {
      uint64_t h = hash_bytes(t, tl);
      n = level_find(l, t, tl, h);
      if (!n) {
        n = node_new(t, tl, h);
        level_add(l, n);
      }
    }
    l = &n->next;
  }

  bool isnew;
  if (!sub->queue) {
    if (subset_contains(&n->psubs, sub))
      return SUBLIST_OK;
    subset_add(&n->psubs, sub);
    isnew = n->psubs.n == 1;
  } else {
    QGroup *g = node_find_group(n, sub->queue, sub->queue_len);
    isnew = g == NULL;
    if (!g) {
      g = node_add_group(n, sub->queue, sub->queue_len);
    } else if (subset_contains(&g->subs, sub)) {
      return SUBLIST_OK;
    }
    subset_add(&g->subs, sub);
  }
  sl->count++;
  sl->inserts++;
  sl->genid++;
  cache_invalidate(sl, subj, len);
  if (isnew && !haswc)
    notify_check(sl, subj, len, sub->queue);
  return SUBLIST_OK;
}

static int remove_one(Sublist *sl, Subscription *sub, bool cache_updates) {
  const char *subj = sub->subject;
  size_t len = sub->subject_len;
  if (!insert_subject_ok(subj, len))
    return SUBLIST_ERR_INVALID_SUBJECT;
  size_t ntok;
  Scratch *s = &sl->s;
  scratch_tokenize(s, subj, len, &ntok);
  s->path = grow(s->path, &s->pathcap, ntok, sizeof(*s->path));

  Level *l = &sl->root;
  Node *n = NULL;
  bool haswc = false;
  for (size_t i = 0; i < ntok; i++) {
    const char *t = s->tok[i];
    uint32_t tl = s->toklen[i];
    if (tl == 1 && t[0] == '*') {
      n = l->pwc;
      haswc = true;
    } else if (tl == 1 && t[0] == '>') {
      n = l->fwc;
      haswc = true;
    } else {
      n = level_find(l, t, tl, hash_bytes(t, tl));
    }
    if (!n)
      return SUBLIST_ERR_NOT_FOUND;
    s->path[i] = n;
    l = &n->next;
  }

  bool last;
  if (!sub->queue) {
    if (!subset_take(&n->psubs, sub))
      return SUBLIST_ERR_NOT_FOUND;
    last = n->psubs.n == 0;
  } else {
    QGroup *g = node_find_group(n, sub->queue, sub->queue_len);
    if (!g || !subset_take(&g->subs, sub))
      return SUBLIST_ERR_NOT_FOUND;
    last = g->subs.n == 0;
    if (last)
      node_del_group(n, g);
  }
  /* the set's reference is now ours: keep the subject alive until done */

  for (size_t i = ntok; i-- > 0;) {
    Node *pn = s->path[i];
    if (node_has_subs(pn) || !level_is_empty(&pn->next))
      break;
    Level *parent = i == 0 ? &sl->root : &s->path[i - 1]->next;
    if (parent->pwc == pn)
      parent->pwc = NULL;
    else if (parent->fwc == pn)
      parent->fwc = NULL;
    else
      level_del(parent, pn);
    node_free_leaf(pn);
  }

  sl->count--;
  sl->removes++;
  sl->genid++;
  if (cache_updates)
    cache_invalidate(sl, subj, len);
  if (last && !haswc)
    notify_check(sl, subj, len, sub->queue);
  subscription_unref(sub);
  return SUBLIST_OK;
}

int sublist_remove(Sublist *sl, Subscription *sub) {
  return remove_one(sl, sub, true);
}

int sublist_remove_batch(Sublist *sl, Subscription **subs, size_t n) {
  if (n == 0)
    return SUBLIST_OK;
  int rc = SUBLIST_OK;
  for (size_t i = 0; i < n; i++) {
    int r = remove_one(sl, subs[i], false);
    if (r != SUBLIST_OK && rc == SUBLIST_OK)
      rc = r;
  }
  /* one flush instead of a cache scan per wildcard subscription */
  cache_flush(sl);
  sl->genid++;
  return rc;
}

void sublist_update_remote_qsub(Sublist *sl, Subscription *sub) {
  cache_invalidate(sl, sub->subject, sub->subject_len);
  sl->genid++;
}

/* ------------------------------------------------------------------ match */

/* Go's matchLevel without recursion: each "*" child met on the way is a
 * branch to walk later with the remaining tokens. */
static void match_walk(Scratch *s, const Level *root, size_t ntok) {
  s->nstack = 0;
  scratch_push(s, root, NULL, 0);
  while (s->nstack) {
    Frame f = s->stack[--s->nstack];
    const Level *l = f.l;
    for (size_t i = f.i; i < ntok; i++) {
      if (l->fwc)
        scratch_add_node(s, l->fwc);
      const Node *pwc = l->pwc;
      if (pwc && i + 1 < ntok)
        scratch_push(s, &pwc->next, NULL, i + 1);
      const Node *n = level_find(l, s->tok[i], s->toklen[i], s->tokhash[i]);
      if (i + 1 == ntok) {
        if (n)
          scratch_add_node(s, n);
        if (pwc)
          scratch_add_node(s, pwc);
        break;
      }
      if (!n)
        break;
      l = &n->next;
    }
  }
}

SublistResult *sublist_match(Sublist *sl, const char *subject, size_t len) {
  sl->matches++;
  uint64_t h = 0;
  if (sl->cache_enabled) {
    h = hash_bytes(subject, len);
    int64_t i = cache_lookup(sl, subject, len, h);
    if (i >= 0) {
      sl->cache_hits++;
      return sublist_result_ref(sl->cache[i].r);
    }
  }
  Scratch *s = &sl->s;
  size_t ntok;
  if (!scratch_tokenize(s, subject, len, &ntok))
    return &empty_result;
  scratch_hash_tokens(s, ntok);
  scratch_reset(s);
  match_walk(s, &sl->root, ntok);
  SublistResult *r = scratch_build(s);
  if (sl->cache_enabled) {
    cache_put(sl, subject, len, h, r);
    if (sl->cache_count > SUBLIST_CACHE_MAX)
      cache_sweep(sl);
  }
  return r;
}

static bool interest_walk(Scratch *s, const Level *root, size_t ntok) {
  s->nstack = 0;
  scratch_push(s, root, NULL, 0);
  while (s->nstack) {
    Frame f = s->stack[--s->nstack];
    const Level *l = f.l;
    for (size_t i = f.i; i < ntok; i++) {
      if (l->fwc && node_has_subs(l->fwc))
        return true;
      const Node *pwc = l->pwc;
      if (pwc && i + 1 < ntok)
        scratch_push(s, &pwc->next, NULL, i + 1);
      const Node *n = level_find(l, s->tok[i], s->toklen[i], s->tokhash[i]);
      if (i + 1 == ntok) {
        if ((n && node_has_subs(n)) || (pwc && node_has_subs(pwc)))
          return true;
        break;
      }
      if (!n)
        break;
      l = &n->next;
    }
  }
  return false;
}

bool sublist_has_interest(Sublist *sl, const char *subject, size_t len) {
  if (sl->cache_enabled) {
    int64_t i = cache_lookup(sl, subject, len, hash_bytes(subject, len));
    if (i >= 0)
      return !sublist_result_is_empty(sl->cache[i].r);
  }
  size_t ntok;
  if (!scratch_tokenize(&sl->s, subject, len, &ntok))
    return false;
  scratch_hash_tokens(&sl->s, ntok);
  return interest_walk(&sl->s, &sl->root, ntok);
}

/* ---------------------------------------------------------- reverse match */

/* Go getAllNodes: l's "*" and ">" nodes (not below them), and every
 * literal node under l. */
static void reverse_all(Scratch *s, const Level *l, GPtrArray *todo) {
  g_ptr_array_set_size(todo, 0);
  g_ptr_array_add(todo, (gpointer)l);
  while (todo->len) {
    l = g_ptr_array_steal_index_fast(todo, todo->len - 1);
    if (l->pwc)
      scratch_add_node(s, l->pwc);
    if (l->fwc)
      scratch_add_node(s, l->fwc);
    for (uint32_t k = 0; k < l->cap; k++) {
      const Node *c = l->slots[k];
      if (c) {
        scratch_add_node(s, c);
        g_ptr_array_add(todo, (gpointer)&c->next);
      }
    }
  }
}

/* Go reverseMatchLevel, with an explicit stack. */
static void reverse_walk(Scratch *s, const Level *root, size_t ntok) {
  GPtrArray *todo = g_ptr_array_new();
  s->nstack = 0;
  scratch_push(s, root, NULL, 0);
  while (s->nstack) {
    Frame f = s->stack[--s->nstack];
    const Level *l = f.l;
    const Node *n = f.n;
    bool done = false;
    for (size_t i = f.i; i < ntok && !done; i++) {
      const char *t = s->tok[i];
      uint32_t tl = s->toklen[i];
      if (tl == 1 && t[0] == '>') {
        reverse_all(s, l, todo);
        n = NULL;
        done = true;
      } else if (tl == 1 && t[0] == '*') {
        for (uint32_t k = 0; k < l->cap; k++)
          if (l->slots[k])
            scratch_push(s, &l->slots[k]->next, l->slots[k], i + 1);
        n = NULL;
        done = true;
      } else {
        n = level_find(l, t, tl, hash_bytes(t, tl));
        if (!n)
          done = true;
        else
          l = &n->next;
      }
    }
    if (n)
      scratch_add_node(s, n);
  }
  g_ptr_array_free(todo, TRUE);
}

SublistResult *sublist_reverse_match(Sublist *sl, const char *pattern, size_t len) {
  Scratch *s = &sl->s;
  /* Go splits without validating: an empty token just finds nothing */
  size_t ntok = 0;
  scratch_split(s, pattern, len, true, &ntok);
  scratch_reset(s);
  reverse_walk(s, &sl->root, ntok);
  return scratch_build(s);
}

/* ------------------------------------------------------------ enumeration */

void sublist_foreach(Sublist *sl, void (*fn)(Subscription *sub, void *ud), void *ud) {
  /* own stack, not the scratch one: fn may call sublist_match */
  GPtrArray *todo = g_ptr_array_new();
  g_ptr_array_add(todo, &sl->root);
  while (todo->len) {
    const Level *l = g_ptr_array_steal_index_fast(todo, todo->len - 1);
    const Node *kids[2] = {l->pwc, l->fwc};
    for (uint32_t k = 0; k < l->cap + 2; k++) {
      const Node *n = k < l->cap ? l->slots[k] : kids[k - l->cap];
      if (!n)
        continue;
      for (uint32_t i = 0; i < n->psubs.n; i++)
        fn(n->psubs.v[i], ud);
      for (uint32_t g = 0; g < n->nqgroups; g++)
        for (uint32_t i = 0; i < n->qgroups[g].subs.n; i++)
          fn(n->qgroups[g].subs.v[i], ud);
      g_ptr_array_add(todo, (gpointer)&n->next);
    }
  }
  g_ptr_array_free(todo, TRUE);
}

static void collect_local(Subscription *sub, void *ud) {
  if (!sub->is_remote)
    g_ptr_array_add(ud, sub);
}

size_t sublist_local_subs(Sublist *sl, Subscription ***out, bool include_leaf) {
  GPtrArray *a = g_ptr_array_sized_new(sl->count);
  sublist_foreach(sl, collect_local, a);
  size_t n = a->len;
  *out = (Subscription **)g_ptr_array_free(a, FALSE);
  return n;
}

/* ------------------------------------------------------------------ stats */

void sublist_stats(Sublist *sl, SublistStats *out) {
  memset(out, 0, sizeof *out);
  out->num_subs = sl->count;
  out->num_cache = sl->cache_count;
  out->num_inserts = sl->inserts;
  out->num_removes = sl->removes;
  out->num_matches = sl->matches;
  out->cache_hits = sl->cache_hits;
  if (sl->matches > 0)
    out->cache_hit_rate = (double)sl->cache_hits / (double)sl->matches;
  uint64_t tot = 0;
  uint32_t max = 0, cnt = 0;
  for (uint32_t i = 0; i < sl->cache_cap; i++) {
    const CacheEntry *e = &sl->cache[i];
    if (!cache_live(e))
      continue;
    uint32_t f = e->r->npsubs + e->r->nqgroups;
    tot += f;
    cnt++;
    if (f > max)
      max = f;
  }
  out->tot_fanout = tot;
  out->cache_cnt = cnt;
  out->max_fanout = max;
  if (tot > 0)
    out->avg_fanout = (double)tot / (double)cnt;
}

void sublist_num_interest(Sublist *sl, const char *subject, size_t len, uint32_t *plain, uint32_t *queue) {
  /* Served from the match cache like any publish, so it costs no more than one. */
  SublistResult *r = sublist_match(sl, subject, len);
  uint32_t nq = 0;
  for (uint32_t g = 0; g < r->nqgroups; g++) nq += r->nqsubs[g];
  if (plain) *plain = r->npsubs;
  if (queue) *queue = nq;
  sublist_result_unref(r);
}
