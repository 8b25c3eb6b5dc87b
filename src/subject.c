/* subject.c — NATS subject validation and matching helpers.
 *
 * Owns nothing: pure functions over (pointer, length) byte strings, callable
 * from any thread.  Callers: the parser/client (PUB/SUB checks), sublist.c
 * (matching semantics, cache invalidation), permissions and accounts.
 *
 * Each function reproduces the observable behaviour of the nats-server 2.9.10
 * function named in subject.h, including the places where Go is lenient
 * (IsValidLiteralSubject accepts whitespace) or quirky (subset matching of
 * "*x" tokens), because clients can see the difference. */
#include "subject.h"

#include <string.h>

/* Go strings.Split(s, ".") as an iterator: "" yields one empty token and a
 * trailing '.' yields a final empty token. */
typedef struct {
  const char *s; /* borrowed */
  size_t len;
  size_t pos;
  bool done;
} TokIter;

static inline void tokiter_init(TokIter *it, const char *s, size_t len) {
  it->s = s;
  it->len = len;
  it->pos = 0;
  it->done = false;
}

static inline bool tokiter_next(TokIter *it, const char **tok, size_t *toklen) {
  if (it->done)
    return false;
  /* s may be NULL when len is 0: no arithmetic on it then (UBSan) */
  const char *start = it->s ? it->s + it->pos : it->s;
  size_t rest = it->len - it->pos;
  const char *dot = rest ? memchr(start, '.', rest) : NULL;
  *tok = start;
  if (dot) {
    *toklen = (size_t)(dot - start);
    it->pos += *toklen + 1;
  } else {
    *toklen = rest;
    it->pos = it->len;
    it->done = true;
  }
  return true;
}

static inline bool is_tok(const char *t, size_t tl, char c) {
  return tl == 1 && t[0] == c;
}

static inline bool is_go_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool subject_is_valid(const char *s, size_t len) {
  if (len == 0)
    return false;
  size_t start = 0;
  bool after_fwc = false;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || s[i] == '.') {
      size_t tl = i - start;
      if (tl == 0 || after_fwc)
        return false;
      if (tl == 1 && s[start] == '>')
        after_fwc = true;
      start = i + 1;
    } else if (is_go_space(s[i])) {
      return false;
    }
  }
  return true;
}

bool subject_is_valid_literal(const char *s, size_t len) {
  TokIter it;
  const char *t;
  size_t tl;
  tokiter_init(&it, s, len);
  while (tokiter_next(&it, &t, &tl)) {
    if (tl == 0 || is_tok(t, tl, '*') || is_tok(t, tl, '>'))
      return false;
  }
  return true;
}

bool subject_is_valid_publish(const char *s, size_t len) {
  return subject_is_valid(s, len) && !subject_has_wildcard(s, len);
}

bool subject_has_wildcard(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if ((s[i] == '*' || s[i] == '>') && (i == 0 || s[i - 1] == '.') &&
        (i + 1 == len || s[i + 1] == '.'))
      return true;
  }
  return false;
}

bool subject_matches(const char *pattern, size_t plen, const char *subject, size_t slen) {
  if (plen == 0 || slen == 0)
    return false;
  TokIter pi, si;
  const char *pt, *st;
  size_t ptl, stl;
  tokiter_init(&pi, pattern, plen);
  tokiter_init(&si, subject, slen);
  while (tokiter_next(&pi, &pt, &ptl)) {
    if (ptl == 0)
      return false;
    if (is_tok(pt, ptl, '>') && pi.done) {
      /* one or more remaining subject tokens, none empty */
      bool any = false;
      while (tokiter_next(&si, &st, &stl)) {
        if (stl == 0)
          return false;
        any = true;
      }
      return any;
    }
    if (!tokiter_next(&si, &st, &stl) || stl == 0)
      return false;
    if (is_tok(pt, ptl, '*'))
      continue;
    if (ptl != stl || memcmp(pt, st, ptl) != 0)
      return false;
  }
  return si.done;
}

bool subject_collide(const char *a, size_t alen, const char *b, size_t blen) {
  /* Walk both patterns token by token.  A '>' (always last) absorbs one or
   * more tokens, so it collides with whatever remains of the other side as
   * long as something remains; '*' takes any single token; literals must be
   * equal.  Running out on one side only means different lengths. */
  if (alen == 0 || blen == 0)
    return false;
  TokIter ai, bi;
  const char *at = NULL, *bt = NULL;
  size_t atl = 0, btl = 0;
  tokiter_init(&ai, a, alen);
  tokiter_init(&bi, b, blen);
  for (;;) {
    bool has_a = tokiter_next(&ai, &at, &atl), has_b = tokiter_next(&bi, &bt, &btl);
    if (!has_a || !has_b)
      return has_a == has_b;
    if (atl == 0 || btl == 0)
      return false;
    if (is_tok(at, atl, '>') || is_tok(bt, btl, '>'))
      return true;
    if (is_tok(at, atl, '*') || is_tok(bt, btl, '*'))
      continue;
    if (atl != btl || memcmp(at, bt, atl) != 0)
      return false;
  }
}

bool subject_is_subset(const char *sub, size_t sublen, const char *of, size_t oflen) {
  TokIter ti, oi;
  const char *t1, *t2;
  size_t l1, l2;
  tokiter_init(&ti, sub, sublen);
  tokiter_init(&oi, of, oflen);
  while (tokiter_next(&oi, &t2, &l2)) {
    if (!tokiter_next(&ti, &t1, &l1))
      return false; /* `sub` has fewer tokens */
    if (l2 == 0)
      return false;
    if (is_tok(t2, l2, '>'))
      return true;
    if (l1 == 0 || is_tok(t1, l1, '>'))
      return false;
    if (is_tok(t1, l1, '*')) {
      if (!is_tok(t2, l2, '*'))
        return false;
      continue;
    }
    /* Go compares only when t2 does not start with '*' (so "*x" acts like
     * "*"); kept for parity. */
    if (t2[0] != '*' && (l1 != l2 || memcmp(t1, t2, l1) != 0))
      return false;
  }
  /* equal token counts */
  return ti.done;
}

int subject_tokenize(const char *s, size_t len, const char **tok, size_t *toklen, int max) {
  TokIter it;
  const char *t;
  size_t tl;
  int n = 0;
  tokiter_init(&it, s, len);
  while (tokiter_next(&it, &t, &tl)) {
    if (n >= max)
      return -1;
    tok[n] = t;
    toklen[n] = tl;
    n++;
  }
  return n;
}

size_t subject_num_tokens(const char *s, size_t len) {
  size_t n = 1;
  for (size_t i = 0; i < len; i++)
    n += s[i] == '.';
  return n;
}

bool subject_is_valid_queue(const char *q, size_t len) {
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = q[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      return false;
  }
  return true;
}
