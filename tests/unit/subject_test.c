/* subject_test.c — subject validation and matching tables.  Expected values
 * are nats-server 2.9.10 behaviour (IsValidSubject, IsValidLiteralSubject,
 * IsValidPublishSubject, subjectHasWildcard, subjectIsSubsetMatch); the
 * tables were cross-checked against those Go functions on random inputs. */
#include <glib.h>
#include <string.h>

#include "subject.h"

typedef struct {
  const char *s;
  size_t len;  /* 0: strlen(s) (used to embed NUL bytes) */
  bool valid;  /* subject_is_valid */
  bool literal;/* subject_is_valid_literal */
  bool publish;/* subject_is_valid_publish */
  bool wild;   /* subject_has_wildcard */
} ValidCase;

static const ValidCase valid_cases[] = {
    {"", 0, false, false, false, false},
    {"a", 0, true, true, true, false},
    {"orders.new.eu", 0, true, true, true, false},
    {".", 0, false, false, false, false},
    {"..", 0, false, false, false, false},
    {".orders", 0, false, false, false, false},
    {"orders.", 0, false, false, false, false},
    {"orders..new", 0, false, false, false, false},
    {"*", 0, true, false, false, true},
    {">", 0, true, false, false, true},
    {"orders.*", 0, true, false, false, true},
    {"orders.*.eu", 0, true, false, false, true},
    {"orders.>", 0, true, false, false, true},
    {"*.*.>", 0, true, false, false, true},
    {">.eu", 0, false, false, false, true},
    {"orders.>.eu", 0, false, false, false, true},
    {">.>", 0, false, false, false, true},
    {"orders.*.", 0, false, false, false, true},
    /* wildcard characters inside longer tokens are ordinary characters */
    {"*a", 0, true, true, true, false},
    {"a*", 0, true, true, true, false},
    {"a*b.c", 0, true, true, true, false},
    {"**", 0, true, true, true, false},
    {">>", 0, true, true, true, false},
    {">a.b", 0, true, true, true, false},
    {"a.b>", 0, true, true, true, false},
    {"a.>x.y", 0, true, true, true, false},
    {"a.*>", 0, true, true, true, false},
    /* whitespace: Go rejects exactly space, \t, \n, \r, \f ... */
    {"a b", 0, false, true, false, false},
    {" ", 0, false, true, false, false},
    {"a.\t", 0, false, true, false, false},
    {"a\tb", 0, false, true, false, false},
    {"a\nb", 0, false, true, false, false},
    {"a\rb", 0, false, true, false, false},
    {"a\fb", 0, false, true, false, false},
    {"a.b ", 0, false, true, false, false},
    {"* .x", 0, false, true, false, false},
    /* ... but not \v, NUL or non-ASCII spaces (U+00A0, U+3000) */
    {"a\vb", 0, true, true, true, false},
    {"a\0b", 3, true, true, true, false},
    {"a\xc2\xa0" "b", 0, true, true, true, false},
    {"caf\xc3\xa9.\xe3\x80\x80", 0, true, true, true, false},
    {"\xe2\x82\xac.*", 0, true, false, false, true},
    /* invalid UTF-8 is just bytes */
    {"\xff\xfe.x", 0, true, true, true, false},
    /* whitespace with a wildcard: invalid, not literal */
    {"a .*", 0, false, false, false, true},
};

static void test_validity(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(valid_cases); i++) {
    const ValidCase *c = &valid_cases[i];
    size_t len = c->len ? c->len : strlen(c->s);
    g_autofree char *shown = g_strescape(c->s, NULL); /* TAP lines must be UTF-8 */
    g_test_message("case %zu: %s", i, shown);
    g_assert_cmpint(subject_is_valid(c->s, len), ==, c->valid);
    g_assert_cmpint(subject_is_valid_literal(c->s, len), ==, c->literal);
    g_assert_cmpint(subject_is_valid_publish(c->s, len), ==, c->publish);
    g_assert_cmpint(subject_has_wildcard(c->s, len), ==, c->wild);
  }
  /* length is honoured: a prefix of a longer buffer */
  g_assert_true(subject_is_valid("foo.bar", 3));
  g_assert_false(subject_is_valid("foo.bar", 4));
  g_assert_false(subject_is_valid(NULL, 0));
  g_assert_false(subject_is_valid_literal(NULL, 0));
}

typedef struct {
  const char *pattern, *subject;
  bool match;
} MatchCase;

static const MatchCase match_cases[] = {
    {"a", "a", true},
    {"a", "b", false},
    {"a", "a.b", false},
    {"a.b", "a", false},
    {"*", "a", true},
    {"*", "a.b", false},
    {">", "a", true},
    {">", "a.b.c", true},
    {"a.>", "a", false},
    {"a.>", "a.b", true},
    {"a.>", "a.b.c", true},
    {"a.*", "a.b", true},
    {"a.*", "a.b.c", false},
    {"a.*.c", "a.b.c", true},
    {"a.*.c", "a.b.d", false},
    {"*.*", "a.b", true},
    {"*.>", "a", false},
    {"*.>", "a.b", true},
    {"ab", "a", false},
    {"a", "ab", false},
    /* wildcards in the subject are literal tokens: only wildcards match them */
    {"a.*", "a.*", true},
    {"a.>", "a.>", true},
    {"a.b", "a.*", false},
    {"*", ">", true},
    /* '*'/'>' inside a token are plain characters */
    {"a*", "ab", false},
    {"a*", "a*", true},
    {"a.>b", "a.c", false},
    {"a.>b", "a.>b", true},
    /* '>' before the end of a pattern is not a wildcard */
    {"a.>.c", "a.b.c", false},
    /* empty tokens never match */
    {"a.*", "a.", false},
    {"a.*.c", "a..c", false},
    {">", "a..b", false},
    {"", "", false},
    {"a", "", false},
    {"", "a", false},
};

static void test_matches(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(match_cases); i++) {
    const MatchCase *c = &match_cases[i];
    g_test_message("case %zu: %s ~ %s", i, c->pattern, c->subject);
    g_assert_cmpint(subject_matches(c->pattern, strlen(c->pattern), c->subject, strlen(c->subject)), ==,
                    c->match);
  }
}

typedef struct {
  const char *sub, *of;
  bool subset;
} SubsetCase;

static const SubsetCase subset_cases[] = {
    {"a.b", "a.b", true},
    {"a.b", "a.*", true},
    {"a.b", "a.>", true},
    {"a.b", ">", true},
    {"a.b", "*.*", true},
    {"a.*", "a.*", true},
    {"a.*", "a.>", true},
    {"a.*", "*.*", true},
    {"a.*", "a.b", false},
    {"a.>", "a.>", true},
    {"a.>", "*.>", true},
    {"a.>", "a.*", false},
    {"a.>", "a.b", false},
    {">", "a", false},
    {">", ">", true},
    {"a", "a.b", false},
    {"a.b", "a", false},
    {"a.b.c", "a.*", false},
    {"a.*", "a.*.c", false},
    /* malformed subjects are never subsets */
    {"a..b", "a.*", false},
    {"a.*", "a..b", false},
    {"", "", false},
    /* ...except that Go answers ">" before looking at the other side */
    {"", ">", true},
    {"a..b", "a.>", true},
    /* Go quirk kept: a token of `of` starting with '*' acts like '*' */
    {"a.b", "a.*x", true},
    {"a.*", "a.*x", false},
};

static void test_subset(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(subset_cases); i++) {
    const SubsetCase *c = &subset_cases[i];
    g_test_message("case %zu: %s <= %s", i, c->sub, c->of);
    g_assert_cmpint(subject_is_subset(c->sub, strlen(c->sub), c->of, strlen(c->of)), ==, c->subset);
  }
}

static void test_tokenize(void) {
  const char *tok[4];
  size_t tl[4];
  g_assert_cmpint(subject_tokenize("a.bc.d", 6, tok, tl, 4), ==, 3);
  g_assert_cmpuint(tl[0], ==, 1);
  g_assert_cmpuint(tl[1], ==, 2);
  g_assert_true(strncmp(tok[1], "bc", 2) == 0);
  g_assert_cmpuint(tl[2], ==, 1);
  g_assert_cmpint(subject_tokenize("a.b.c.d", 7, tok, tl, 4), ==, 4);
  g_assert_cmpint(subject_tokenize("a.b.c.d.e", 9, tok, tl, 4), ==, -1);
  /* like strings.Split: empty tokens are kept */
  g_assert_cmpint(subject_tokenize("", 0, tok, tl, 4), ==, 1);
  g_assert_cmpuint(tl[0], ==, 0);
  g_assert_cmpint(subject_tokenize("a..", 3, tok, tl, 4), ==, 3);
  g_assert_cmpuint(tl[1], ==, 0);
  g_assert_cmpuint(tl[2], ==, 0);
  g_assert_cmpuint(subject_num_tokens("a.b.c", 5), ==, 3);
  g_assert_cmpuint(subject_num_tokens("", 0), ==, 1);
  g_assert_cmpuint(subject_num_tokens("..", 2), ==, 3);
}

static void test_queue(void) {
  g_assert_true(subject_is_valid_queue("workers", 7));
  g_assert_true(subject_is_valid_queue("*", 1));
  g_assert_true(subject_is_valid_queue(">", 1));
  g_assert_true(subject_is_valid_queue("v1.*", 4));
  g_assert_true(subject_is_valid_queue("a..b", 4));
  g_assert_true(subject_is_valid_queue("_sys_", 5));
  g_assert_true(subject_is_valid_queue("q\fx", 3));
  g_assert_false(subject_is_valid_queue("", 0));
  g_assert_false(subject_is_valid_queue("a b", 3));
  g_assert_false(subject_is_valid_queue("a\tb", 3));
  g_assert_false(subject_is_valid_queue("a\r", 2));
  g_assert_false(subject_is_valid_queue("\n", 1));
}

/* Oracle: enumerate every literal subject of 1-4 tokens over {a, b} and ask
 * whether one matches both patterns. */
static bool collide_by_enumeration(const char *p, const char *q) {
  static const char *const toks[] = {"a", "b"};
  for (int n = 1; n <= 4; n++) {
    for (int mask = 0; mask < (1 << n); mask++) {
      char subj[16] = "";
      for (int i = 0; i < n; i++) {
        if (i) strcat(subj, ".");
        strcat(subj, toks[(mask >> i) & 1]);
      }
      if (subject_matches(p, strlen(p), subj, strlen(subj)) && subject_matches(q, strlen(q), subj, strlen(subj)))
        return true;
    }
  }
  return false;
}

static void test_collide(void) {
  g_assert_true(subject_collide("foo.*", 5, "*.bar", 5));
  g_assert_false(subject_collide("foo.*", 5, "foo.*.baz", 9));
  g_assert_true(subject_collide("foo.>", 5, "foo.bar.baz", 11));
  g_assert_false(subject_collide("foo.>", 5, "foo", 3));
  g_assert_true(subject_collide(">", 1, "*.*", 3));
  g_assert_false(subject_collide("a.b", 3, "a.c", 3));
  /* every pattern of up to 3 tokens over {a, b, *, >} against every other */
  static const char *const toks[] = {"a", "b", "*", ">"};
  GPtrArray *pats = g_ptr_array_new_with_free_func(g_free);
  for (int n = 1; n <= 3; n++)
    for (int code = 0; code < (1 << (2 * n)); code++) {
      GString *p = g_string_new(NULL);
      bool ok = true;
      for (int i = 0; i < n; i++) {
        int t = (code >> (2 * i)) & 3;
        if (t == 3 && i != n - 1) ok = false;  /* '>' only last */
        if (i) g_string_append_c(p, '.');
        g_string_append(p, toks[t]);
      }
      if (ok) g_ptr_array_add(pats, g_string_free(p, FALSE));
      else g_string_free(p, TRUE);
    }
  for (guint i = 0; i < pats->len; i++)
    for (guint j = 0; j < pats->len; j++) {
      const char *p = pats->pdata[i], *q = pats->pdata[j];
      if (subject_collide(p, strlen(p), q, strlen(q)) != collide_by_enumeration(p, q))
        g_error("subject_collide(\"%s\", \"%s\") disagrees with enumeration", p, q);
    }
  g_ptr_array_free(pats, TRUE);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/subject/validity", test_validity);
  g_test_add_func("/subject/matches", test_matches);
  g_test_add_func("/subject/subset", test_subset);
  g_test_add_func("/subject/tokenize", test_tokenize);
  g_test_add_func("/subject/queue", test_queue);
  g_test_add_func("/subject/collide", test_collide);
  return g_test_run();
}
