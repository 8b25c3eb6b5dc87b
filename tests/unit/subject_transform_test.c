/* subject_transform_test.c — transform parsing and application.  Cases are
 * nats-server 2.9.10's TestSubjectTransforms plus the error texts its
 * config parser prints (checked with `nats-server -t`). */
#include <glib.h>
#include <string.h>

#include "subject_transform.h"

static void test_errors(void) {
  static const struct { const char *src, *dest, *err; } cases[] = {
      {"foo.*.*", "bar.$2", "invalid mapping destination: not using all of the token wildcard(s) in bar.$2"},
      {"foo", "", "invalid subject"},
      {"foo..", "bar", "invalid subject"},
      {"foo.*", "bar.*", "invalid subject"},
      {"foo.*", "bar.$2", "invalid mapping destination: wildcard index out of range in $2: [2]"},
      {"foo.*", "bar.$1.>", "invalid subject"},
      {"foo.>", "bar.baz", "invalid subject"},
      {"foo.*", "foo.$foo", "invalid mapping destination: not using all of the token wildcard(s) in foo.$foo"},
      {"foo.*", "foo.{{wildcard(2)}}",
       "invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]"},
      {"foo.*", "foo.{{unimplemented(1)}}", "invalid mapping destination: unknown function in {{unimplemented(1)}}"},
      {"foo.*", "foo.{{partition(10)}}",
       "invalid mapping destination: not enough arguments passed to the function in {{partition(10)}}"},
      {"foo.*", "foo.{{wildcard(foo)}}",
       "invalid mapping destination: function argument is invalid or in the wrong format in {{wildcard(foo)}}"},
      {"foo.*", "foo.{{wildcard()}}",
       "invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}"},
      {"foo.*", "foo.{{wildcard(1,2)}}",
       "invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}"},
      {"foo.*", "foo.{{ wildcard5) }}", "invalid mapping destination: unknown function in {{ wildcard5) }}"},
      {"foo.*", "foo.{{splitLeft(2,2}}", "invalid mapping destination: unknown function in {{splitLeft(2,2}}"},
      {"foo.*", "foo.{{split(1,a b)}}",
       "invalid mapping destination: function argument is invalid or in the wrong format in {{split(1,a b)}}"},
      {"foo.*", "foo.{{sliceFromLeft(1)}}",
       "invalid mapping destination: not enough arguments passed to the function in {{sliceFromLeft(1)}}"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *err = NULL;
    SubjectTransform *tr = subject_transform_new(cases[i].src, cases[i].dest, &err);
    g_assert_null(tr);
    g_assert_cmpstr(err, ==, cases[i].err);
    g_free(err);
  }
}

static void test_apply(void) {
  static const struct { const char *src, *dest, *in, *out; } cases[] = {
      {"foo", "bar", "foo", "bar"},
      {"foo.*.bar.*.baz", "req.$2.$1", "foo.A.bar.B.baz", "req.B.A"},
      {"baz.>", "my.pre.>", "baz.1.2.3", "my.pre.1.2.3"},
      {"baz.>", "foo.bar.>", "baz.1.2.3", "foo.bar.1.2.3"},
      {"*", "foo.bar.$1", "foo", "foo.bar.foo"},
      {"*", "{{splitfromleft(1,3)}}", "12345", "123.45"},
      {"*", "{{SplitFromRight(1,3)}}", "12345", "12.345"},
      {"*", "{{SliceFromLeft(1,3)}}", "1234567890", "123.456.789.0"},
      {"*", "{{SliceFromRight(1,3)}}", "1234567890", "1.234.567.890"},
      {"*", "{{split(1,-)}}", "-abc-def--ghi-", "abc.def.ghi"},
      {"*", "{{split(1,-)}}", "abc-def--ghi-", "abc.def.ghi"},
      {"*.*", "{{split(2,-)}}.{{splitfromleft(1,2)}}", "foo.-abc-def--ghij-", "abc.def.ghij.fo.o"},
      {"a.*.*", "b.{{wildcard(2)}}.{{ Wildcard( 1 ) }}", "a.x.y", "b.y.x"},
      {"*", "{{splitFromLeft(1,9)}}", "abc", "abc"},  /* too short: unchanged */
      {"*", "{{sliceFromLeft(1,0)}}", "abc", "abc"},
      /* FNV-1a 32 of "foo" is 0xa9f37ed7 = 2851307223; mod 10 = 3 */
      {"p.*", "part.{{partition(10,1)}}.$1", "p.foo", "part.3.foo"},
      {"x.>", "y.>", "x.a", "y.a"},
      /* a source without wildcards takes the destination literally */
      {"lit", "{{wildcard(1)}}", "lit", "{{wildcard(1)}}"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *err = NULL;
    SubjectTransform *tr = subject_transform_new(cases[i].src, cases[i].dest, &err);
    g_assert_null(err);
    g_assert_nonnull(tr);
    g_autofree char *got = subject_transform_apply_dup(tr, cases[i].in, strlen(cases[i].in));
    g_assert_cmpstr(got, ==, cases[i].out);
    /* a too-small buffer reports the size needed and writes within bounds */
    char small[3] = {'#', '#', '#'};
    size_t need = subject_transform_apply(tr, cases[i].in, strlen(cases[i].in), small, 2);
    g_assert_cmpuint(need, ==, strlen(cases[i].out));
    g_assert_cmpint(small[2], ==, '#');
    subject_transform_free(tr);
  }
}

static void test_many_tokens(void) {
  SubjectTransform *tr = subject_transform_new("a.>", "b.>", NULL);
  GString *in = g_string_new("a");
  for (int i = 0; i < 200; i++) g_string_append(in, ".t");
  g_autofree char *got = subject_transform_apply_dup(tr, in->str, in->len);
  g_assert_cmpuint(strlen(got), ==, in->len);
  g_assert_true(g_str_has_prefix(got, "b.t.t"));
  g_string_free(in, TRUE);
  subject_transform_free(tr);
}

static void test_tokenize_reverse(void) {
  g_autofree char *t = subject_transform_tokenize("foo.*.bar.*");
  g_assert_cmpstr(t, ==, "foo.$1.bar.$2");
  g_autofree char *u = subject_transform_untokenize("foo.$1.bar.$2");
  g_assert_cmpstr(u, ==, "foo.*.bar.*");
  SubjectTransform *tr = subject_transform_new("a.*.*", "b.$2.$1", NULL);
  SubjectTransform *rev = subject_transform_reverse(tr);
  g_assert_nonnull(rev);
  g_autofree char *back = subject_transform_apply_dup(rev, "b.y.x", 5);
  g_assert_cmpstr(back, ==, "a.x.y");
  subject_transform_free(rev);
  subject_transform_free(tr);
}

static void test_validate_dest(void) {
  g_assert_null(subject_transform_validate_dest("a.b.>"));
  g_assert_null(subject_transform_validate_dest("a.{{wildcard(1)}}"));
  g_autofree char *e1 = subject_transform_validate_dest("a..b");
  g_assert_cmpstr(e1, ==, "invalid mapping destination: invalid subject in ");
  g_autofree char *e2 = subject_transform_validate_dest("a.{{nope(1)}}");
  g_assert_cmpstr(e2, ==, "invalid mapping destination: unknown function in {{nope(1)}}");
  g_autofree char *e3 = subject_transform_validate_dest("a b");
  g_assert_cmpstr(e3, ==, "invalid mapping destination: invalid subject");
  g_autofree char *e4 = subject_transform_validate_dest("a.>.b");
  g_assert_cmpstr(e4, ==, "invalid mapping destination: invalid subject in b");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/subject_transform/errors", test_errors);
  g_test_add_func("/subject_transform/apply", test_apply);
  g_test_add_func("/subject_transform/many-tokens", test_many_tokens);
  g_test_add_func("/subject_transform/tokenize-reverse", test_tokenize_reverse);
  g_test_add_func("/subject_transform/validate-dest", test_validate_dest);
  return g_test_run();
}
