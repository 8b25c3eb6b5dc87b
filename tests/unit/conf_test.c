/* conf_test — unit tests for conf_lex.c / conf_parse.c.
 * Expected values and messages were checked against nats-server 2.9.10's
 * own conf package (tests/conf_oracle); see also conf_corpus_check.sh. */
#include "conf_parse.h"

#include <glib/gstdio.h>
#include <string.h>

/* ---- helpers ---- */

static ConfValue *ok(const char *text) {
  GError *err = NULL;
  ConfValue *v = conf_parse_string(text, "t.conf", &err);
  if (!v)
    g_error("unexpected parse failure for <<%s>>: %s", text, err->message);
  g_assert_cmpint(conf_value_kind(v), ==, CONF_MAP);
  return v;
}

static char *json_of(const char *text) {
  g_autoptr(ConfValue) v = ok(text);
  return conf_value_to_json(v);
}

#define assert_json(text, expect)                                                                  \
  do {                                                                                             \
    g_autofree char *j_ = json_of(text);                                                           \
    g_assert_cmpstr(j_, ==, expect);                                                               \
  } while (0)

static GError *fail(const char *text, ConfErrorCode code) {
  GError *err = NULL;
  ConfValue *v = conf_parse_string(text, "t.conf", &err);
  if (v) {
    g_autofree char *j = conf_value_to_json(v);
    g_error("<<%s>> parsed but should fail: %s", text, j);
  }
  g_assert_error(err, CONF_ERROR, (gint)code);
  return err;
}

/* ---- assignment, structure, positions ---- */

static void test_assignments(void) {
  assert_json("a = 1\nb : 2\nc 3\nd=4;e:5, f 6\n", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6}");
  assert_json("", "{}");
  assert_json("# only a comment\n", "{}");
  assert_json("{ a = 1 }", "{\"a\":1}"); /* optional braces around the top level */
  assert_json("\"quoted key\" = 1\n'sq key' : 2\n", "{\"quoted key\":1,\"sq key\":2}");
  /* a key with no value is dropped silently */
  assert_json("a", "{}");
}

static void test_positions(void) {
  /* nats-server reports line 1 columns 0-based and later lines 1-based. */
  g_autoptr(ConfValue) v = ok("port = 4222\n  debug: true\nm {\n  x = [1, 2 ]\n}\n");
  const ConfValue *port = conf_value_map_get(v, "port");
  g_assert_cmpstr(conf_value_file(port), ==, "t.conf");
  g_assert_cmpint(conf_value_line(port), ==, 1);
  g_assert_cmpint(conf_value_column(port), ==, 0);
  const ConfValue *debug = conf_value_map_get(v, "debug");
  g_assert_cmpint(conf_value_line(debug), ==, 2);
  g_assert_cmpint(conf_value_column(debug), ==, 3);
  const ConfValue *m = conf_value_map_get(v, "m");
  g_assert_cmpint(conf_value_line(m), ==, 3); /* a map entry is reported at its key */
  const ConfValue *x = conf_value_map_get(m, "x");
  g_assert_cmpint(conf_value_line(x), ==, 4);
  g_assert_cmpint(conf_value_column(x), ==, 3);
  const ConfValue *e1 = conf_value_array_get(x, 1); /* array elements at themselves */
  g_assert_cmpint(conf_value_line(e1), ==, 4);
  g_assert_cmpint(conf_value_column(e1), ==, 11);
}

static void test_maps(void) {
  g_autoptr(ConfValue) v = ok("z = 1\na = 2\nm { b = 1, c = \"x\"; d: [1 ] }\nn {\n  deep { er { x = y } }\n}\n");
  g_assert_cmpuint(conf_value_map_len(v), ==, 4);
  g_assert_cmpstr(conf_value_map_key(v, 0), ==, "z"); /* written order */
  g_assert_cmpstr(conf_value_map_key(v, 1), ==, "a");
  const ConfValue *m = conf_value_map_value(v, 2);
  g_assert_cmpint(conf_value_kind(m), ==, CONF_MAP);
  g_assert_cmpuint(conf_value_map_len(m), ==, 3);
  g_autofree char *j = conf_value_to_json(v);
  g_assert_cmpstr(j, ==,
                  "{\"z\":1,\"a\":2,\"m\":{\"b\":1,\"c\":\"x\",\"d\":[1]},"
                  "\"n\":{\"deep\":{\"er\":{\"x\":\"y\"}}}}");
  /* a repeated key keeps its place, takes the later value */
  assert_json("a = 1\nb = 2\na = 3\n", "{\"a\":3,\"b\":2}");
  /* empty map, map assigned without separator, comments inside */
  assert_json("a {}\nb {\n # c\n x = 1 // d\n}\n", "{\"a\":{},\"b\":{\"x\":1}}");
}

static void test_lookup(void) {
  g_autoptr(ConfValue) v = ok("Port = 1\nport = 2\nMax_Payload = 3\n");
  g_assert_cmpint(conf_value_int(conf_value_map_get(v, "Port")), ==, 1);
  g_assert_null(conf_value_map_get(v, "PORT"));
  g_assert_cmpint(conf_value_int(conf_value_map_lookup(v, "PORT")), ==, 2); /* last spelling wins */
  g_assert_cmpint(conf_value_int(conf_value_map_lookup(v, "max_payload")), ==, 3);
  g_assert_null(conf_value_map_lookup(v, "nope"));
  g_assert_null(conf_value_map_key(v, 9));
  g_assert_null(conf_value_array_get(v, 0)); /* wrong kind */
}

static void test_arrays(void) {
  assert_json("a = [1, 2, 3 ]\n", "{\"a\":[1,2,3]}");
  assert_json("a = [\n  1\n  2\n  \"x\"\n]\n", "{\"a\":[1,2,\"x\"]}");
  assert_json("a = [ foo, bar ]\n", "{\"a\":[\"foo\",\"bar\"]}");
  assert_json("a = []\n", "{\"a\":[]}");
  assert_json("a = [ [1, 2 ], {b = 1}, \"s\" ]\n", "{\"a\":[[1,2],{\"b\":1},\"s\"]}");
  assert_json("a = [ // c\n 1 # d\n ]\n", "{\"a\":[1]}");
  assert_json("a = [\n  {x: 1}\n  {x: 2}\n]\n", "{\"a\":[{\"x\":1},{\"x\":2}]}");
  /* nats-server quirk: a bare number directly before ']' is an error */
  g_autoptr(GError) e = fail("a = [1]\n", CONF_ERROR_SYNTAX);
  g_assert_cmpstr(e->message, ==,
                  "Parse error on line 2: 'Expected an array value terminator \",\" or an array "
                  "terminator \"]\", but got '' instead.'");
}

static void test_comments(void) {
  assert_json("# c1\n// c2\na = 1 # t1\nb = 2 // t2\nc = 3#t3\n", "{\"a\":1,\"b\":2,\"c\":\"3#t3\"}"); /* no blank: part of the value */
  /* '#' inside quotes is text */
  assert_json("a = \"x # y\"\n", "{\"a\":\"x # y\"}");
}

/* ---- strings ---- */

static void test_strings(void) {
  assert_json("a = \"dq \\t\\n\\r\\\"\\\\ \\x41\"\n", "{\"a\":\"dq \\u0009\\u000a\\u000d\\\"\\\\ A\"}");
  assert_json("a = 'sq \\t raw'\n", "{\"a\":\"sq \\\\t raw\"}"); /* no escapes in '' */
  assert_json("a = raw\\tstr\n", "{\"a\":\"raw\\u0009str\"}");      /* escapes in bare strings */
  assert_json("a = \"\"\nb = ''\n", "{\"a\":\"\",\"b\":\"\"}");
  assert_json("a = \"é ünï\"\n", "{\"a\":\"é ünï\"}");
  /* where a bare string ends */
  assert_json("a = foo;b = x,c = y}\n", "{\"a\":\"foo\",\"b\":\"x\",\"c\":\"y\"}");
  assert_json("a = foo'\n", "{\"a\":\"foo\"}"); /* a quote ends a bare string */
  assert_json("a = nats://host:4222/x?y=z\n", "{\"a\":\"nats://host:4222/x?y=z\"}");
  /* numbers that turn out to be strings */
  assert_json("a = 127.0.0.1:4222\nb = 1.2.3\nc = 10abc\nd = 5kx\n",
              "{\"a\":\"127.0.0.1:4222\",\"b\":\"1.2.3\",\"c\":\"10abc\",\"d\":\"5kx\"}");
  /* \x00 yields a NUL inside the value */
  g_autoptr(ConfValue) v = ok("a = \"x\\x00y\"\n");
  const ConfValue *a = conf_value_map_get(v, "a");
  g_assert_cmpuint(conf_value_string_len(a), ==, 3);
  g_assert_cmpmem(conf_value_string(a), 3, "x\0y", 3);
}

static void test_blocks(void) {
  assert_json("a = (\nline one\n  line two\n)\nb = 1\n",
              "{\"a\":\"\\u000aline one\\u000a  line two\\u000a\",\"b\":1}");
  /* ')' not alone on its line does not end the block */
  assert_json("a = (\nf(x)\n )\n)\n", "{\"a\":\"\\u000af(x)\\u000a )\\u000a\"}");
  /* at end of input nats-server keeps the closing ')' */
  assert_json("a = (\nfoo\n)", "{\"a\":\"\\u000afoo\\u000a)\"}");
  g_autoptr(GError) e = fail("a = (\nfoo\n", CONF_ERROR_SYNTAX);
  g_assert_cmpstr(e->message, ==, "Parse error on line 3: 'Unexpected EOF processing block.'");
}

/* ---- scalars ---- */

static void test_integers(void) {
  static const struct {
    const char *text;
    int64_t want;
  } cases[] = {
      {"0", 0},
      {"42", 42},
      {"-7", -7},
      {"007", 7},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
      {"1k", 1000},
      {"1K", 1000},
      {"1kb", 1024},
      {"1KB", 1024},
      {"1ki", 1024},
      {"1KiB", 1024},
      {"2m", 2000000},
      {"2mb", 2 << 20},
      {"2Mi", 2 << 20},
      {"2MIB", 2 << 20},
      {"3g", 3000000000LL},
      {"3gb", 3LL << 30},
      {"1t", 1000000000000LL},
      {"1tb", 1LL << 40},
      {"1p", 1000000000000000LL},
      {"1pib", 1LL << 50},
      {"1e", 1000000000000000000LL},
      {"1eb", 1LL << 60},
      {"-1k", -1000},
      {"8eb", INT64_MIN}, /* wraps, like Go's int64 multiply */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf("v = %s\n", cases[i].text);
    g_autoptr(ConfValue) v = ok(text);
    const ConfValue *x = conf_value_map_get(v, "v");
    g_assert_nonnull(x);
    g_assert_cmpint(conf_value_kind(x), ==, CONF_INTEGER);
    g_assert_cmpint(conf_value_int(x), ==, cases[i].want);
  }
  /* unknown suffix spelling: nats-server stores nothing (and the key stays
   * pending, so a following map end takes it) */
  assert_json("a = 1kbb\nb = 2\n", "{\"b\":2}");
  assert_json("m { a = 1kbb }\n", "{\"a\":{}}");

  g_autoptr(GError) e1 = fail("a = 99999999999999999999\n", CONF_ERROR_VALUE);
  g_assert_cmpstr(e1->message, ==, "integer '99999999999999999999' is out of the range");
  g_autoptr(GError) e2 = fail("a = ٣\n", CONF_ERROR_VALUE); /* a Unicode digit */
  g_assert_cmpstr(e2->message, ==, "expected integer, but got '٣'");
}

static void test_floats(void) {
  g_autoptr(ConfValue) v = ok("a = 1.5\nb = -2.25\nc = 0.1\n");
  g_assert_cmpint(conf_value_kind(conf_value_map_get(v, "a")), ==, CONF_FLOAT);
  g_assert_cmpfloat(conf_value_float(conf_value_map_get(v, "a")), ==, 1.5);
  g_assert_cmpfloat(conf_value_float(conf_value_map_get(v, "b")), ==, -2.25);
  g_assert_cmpfloat(conf_value_float(conf_value_map_get(v, "c")), ==, 0.1);
  g_autofree char *big = g_strdup_printf("a = 1%0400d.0\n", 0);
  g_autoptr(GError) e = fail(big, CONF_ERROR_VALUE);
  g_assert_true(g_str_has_prefix(e->message, "float '1000"));
  g_assert_true(g_str_has_suffix(e->message, "' is out of the range"));
}

static void test_bools(void) {
  static const char *const t[] = {"true", "TRUE", "True", "yes", "YES", "on", "On"};
  static const char *const f[] = {"false", "FALSE", "no", "No", "off", "OFF"};
  for (size_t i = 0; i < G_N_ELEMENTS(t) + G_N_ELEMENTS(f); i++) {
    bool want = i < G_N_ELEMENTS(t);
    const char *word = want ? t[i] : f[i - G_N_ELEMENTS(t)];
    g_autofree char *text = g_strdup_printf("v = %s\n", word);
    g_autoptr(ConfValue) v = ok(text);
    const ConfValue *x = conf_value_map_get(v, "v");
    g_assert_cmpint(conf_value_kind(x), ==, CONF_BOOL);
    g_assert_cmpint(conf_value_bool(x), ==, want);
  }
  /* quoted: a string */
  assert_json("v = \"true\"\n", "{\"v\":\"true\"}");
}

static void test_datetimes(void) {
  g_autoptr(ConfValue) v = ok("a = 2016-05-04T18:53:41Z\nb = 2024-02-29T00:00:00Z\nc = 1970-01-01T00:00:00Z\n");
  const ConfValue *a = conf_value_map_get(v, "a");
  g_assert_cmpint(conf_value_kind(a), ==, CONF_DATETIME);
  g_assert_cmpint(conf_value_datetime(a), ==, 1462388021);
  g_assert_cmpstr(conf_value_string(a), ==, "2016-05-04T18:53:41Z");
  g_assert_cmpint(conf_value_datetime(conf_value_map_get(v, "b")), ==, 1709164800);
  g_assert_cmpint(conf_value_datetime(conf_value_map_get(v, "c")), ==, 0);
  static const char *const bad[] = {"2016-13-04T18:53:41Z", "2023-02-29T00:00:00Z",
                                    "2016-05-04T24:00:00Z", "2016-05-04T18:60:00Z",
                                    "2016-05-04T18:53:60Z", "2016-04-31T00:00:00Z"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *text = g_strdup_printf("a = %s\n", bad[i]);
    g_autoptr(GError) e = fail(text, CONF_ERROR_VALUE);
    g_autofree char *want = g_strdup_printf("expected Zulu formatted DateTime, but got '%s'", bad[i]);
    g_assert_cmpstr(e->message, ==, want);
  }
}

/* ---- variables ---- */

static void test_variables(void) {
  g_autoptr(ConfValue) v = ok("x = 5\ny = $x\nm { z = $x, w = $y\n  inner { q = $z } }\n");
  g_autofree char *j = conf_value_to_json(v);
  g_assert_cmpstr(j, ==, "{\"x\":5,\"y\":5,\"m\":{\"z\":5,\"w\":5,\"inner\":{\"q\":5}}}");
  /* used definitions are flagged (opts then accepts them as unknown keys) */
  g_assert_true(conf_value_is_used_variable(conf_value_map_get(v, "x")));
  g_assert_true(conf_value_is_used_variable(conf_value_map_get(v, "y")));
  const ConfValue *m = conf_value_map_get(v, "m");
  g_assert_true(conf_value_is_used_variable(conf_value_map_get(m, "z")));
  g_assert_false(conf_value_is_used_variable(conf_value_map_get(m, "w")));
  /* the reference gets its own position (its key's) */
  g_assert_cmpint(conf_value_line(conf_value_map_get(v, "y")), ==, 2);

  /* containers are copied */
  assert_json("a { b = [1, 2 ] }\nc = $a\n", "{\"a\":{\"b\":[1,2]},\"c\":{\"b\":[1,2]}}");
  /* inner scope shadows outer; a variable must be defined before use */
  assert_json("v = 1\nm { v = 2, r = $v }\ns = $v\n", "{\"v\":1,\"m\":{\"v\":2,\"r\":2},\"s\":1}");
  g_autoptr(GError) e = fail("a = $b\nb = 1\n", CONF_ERROR_VARIABLE);
  g_assert_cmpstr(e->message, ==, "variable reference for 'b' on line 1 can not be found");
  const char *file;
  int line, col;
  g_assert_true(conf_error_get_location(e, &file, &line, &col));
  g_assert_cmpstr(file, ==, "t.conf");
  g_assert_cmpint(line, ==, 1);
  g_assert_cmpint(col, ==, 5);
  /* sibling maps' keys are not in scope once closed */
  g_autoptr(GError) e2 = fail("m { k = 1 }\nn { r = $k }\n", CONF_ERROR_VARIABLE);
  g_assert_cmpstr(e2->message, ==, "variable reference for 'k' on line 2 can not be found");
  /* an unquoted bcrypt hash is a string, not a reference */
  assert_json("p = $2a$11$abcdefghijk\n", "{\"p\":\"$2a$11$abcdefghijk\"}");
}

static void test_env_variables(void) {
  g_setenv("CONF_TEST_PORT", "4223", TRUE);
  g_setenv("CONF_TEST_LIST", "[a, b ]", TRUE);
  g_setenv("CONF_TEST_BAD", "[1", TRUE);
  g_setenv("CONF_TEST_LOOP", "$CONF_TEST_LOOP", TRUE);
  g_autoptr(ConfValue) v = ok("port = $CONF_TEST_PORT\nl = $CONF_TEST_LIST\n");
  const ConfValue *port = conf_value_map_get(v, "port");
  g_assert_cmpint(conf_value_kind(port), ==, CONF_INTEGER); /* env text is parsed */
  g_assert_cmpint(conf_value_int(port), ==, 4223);
  g_assert_cmpint(conf_value_line(port), ==, 1);
  const ConfValue *l = conf_value_map_get(v, "l");
  g_assert_cmpstr(conf_value_string(conf_value_array_get(l, 1)), ==, "b");
  g_assert_null(conf_value_file(conf_value_array_get(l, 1))); /* no position inside env text */
  /* a config key shadows the environment */
  assert_json("CONF_TEST_PORT = 1\np = $CONF_TEST_PORT\n", "{\"CONF_TEST_PORT\":1,\"p\":1}");

  g_autoptr(GError) e1 = fail("a = $CONF_TEST_BAD\n", CONF_ERROR_VARIABLE);
  g_assert_true(g_str_has_prefix(
      e1->message, "variable reference for 'CONF_TEST_BAD' on line 1 could not be parsed: Parse error"));
  /* a self-referencing environment variable stops at the limit */
  g_autoptr(GError) e2 = fail("a = $CONF_TEST_LOOP\n", CONF_ERROR_LIMIT);
  g_assert_true(strstr(e2->message, "nested deeper than") != NULL);

  GError *err = NULL;
  g_assert_null(conf_parse_data("a = $CONF_TEST_PORT\n", 20, "t.conf", CONF_PARSE_NO_ENV, &err));
  g_assert_error(err, CONF_ERROR, CONF_ERROR_VARIABLE);
  g_clear_error(&err);
  g_unsetenv("CONF_TEST_PORT");
  g_unsetenv("CONF_TEST_LIST");
  g_unsetenv("CONF_TEST_BAD");
  g_unsetenv("CONF_TEST_LOOP");
}

/* ---- includes ---- */

static char *write_file(const char *dir, const char *name, const char *text) {
  char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) err = NULL;
  g_assert_true(g_file_set_contents(path, text, -1, &err));
  return path;
}

static void test_includes(void) {
  g_autoptr(GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp("conf_test_XXXXXX", &err);
  g_assert_no_error(err);
  g_autofree char *sub = g_build_filename(dir, "sub", NULL);
  g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
  g_autofree char *p1 = write_file(sub, "users.conf", "users = [ {user: a} ]\ninclude 'more.conf'\n");
  g_autofree char *p2 = write_file(sub, "more.conf", "extra: 1\n");
  g_autofree char *p3 = write_file(dir, "main.conf",
                                   "port = 1\nauthorization {\n  include sub/users.conf\n  timeout = 2\n}\n"
                                   "include \"sub/more.conf\"\n");
  g_autofree char *p4 = write_file(dir, "self.conf", "include self.conf\n");
  g_autofree char *p5 = write_file(dir, "missing.conf", "a = 1\ninclude nothere.conf\n");

  g_autoptr(ConfValue) v = conf_parse_file(p3, &err);
  g_assert_no_error(err);
  g_autofree char *j = conf_value_to_json(v);
  g_assert_cmpstr(j, ==,
                  "{\"port\":1,\"authorization\":{\"users\":[{\"user\":\"a\"}],\"extra\":1,\"timeout\":2},"
                  "\"extra\":1}");
  /* included values keep the position and file they were written at */
  const ConfValue *users = conf_value_map_get(conf_value_map_get(v, "authorization"), "users");
  g_autofree char *want_file = g_build_filename(dir, "sub", "users.conf", NULL);
  g_assert_cmpstr(conf_value_file(users), ==, want_file);
  g_assert_cmpint(conf_value_line(users), ==, 1);

  g_autoptr(ConfValue) self = conf_parse_file(p4, &err);
  g_assert_null(self);
  g_assert_error(err, CONF_ERROR, CONF_ERROR_LIMIT);
  g_assert_true(g_str_has_prefix(err->message, "error parsing include file 'self.conf', error parsing include file"));
  g_clear_error(&err);

  g_autoptr(ConfValue) miss = conf_parse_file(p5, &err);
  g_assert_null(miss);
  g_assert_error(err, CONF_ERROR, CONF_ERROR_INCLUDE);
  g_autofree char *want = g_strdup_printf(
      "error parsing include file 'nothere.conf', open %s/nothere.conf: no such file or directory", dir);
  g_assert_cmpstr(err->message, ==, want);
  int line, col;
  g_assert_true(conf_error_get_location(err, NULL, &line, &col));
  g_assert_cmpint(line, ==, 2);
  g_clear_error(&err);

  /* includes can be switched off */
  g_autofree char *text = g_strdup_printf("include %s\n", p2);
  g_assert_null(conf_parse_data(text, strlen(text), p3, CONF_PARSE_NO_INCLUDES, &err));
  g_assert_error(err, CONF_ERROR, CONF_ERROR_INCLUDE);
  g_clear_error(&err);

  /* the keyword is case-insensitive and needs a value */
  g_autofree char *t2 = g_strdup_printf("INCLUDE '%s'\n", "sub/more.conf");
  g_autoptr(ConfValue) v2 = conf_parse_string(t2, p3, &err);
  g_assert_no_error(err);
  g_assert_cmpint(conf_value_int(conf_value_map_get(v2, "extra")), ==, 1);

  const char *rm[] = {p1, p2, p3, p4, p5};
  for (size_t i = 0; i < G_N_ELEMENTS(rm); i++)
    g_unlink(rm[i]);
  g_rmdir(sub);
  g_rmdir(dir);
}

static void test_file_errors(void) {
  GError *err = NULL;
  g_assert_null(conf_parse_file("/nonexistent/dir/x.conf", &err));
  g_assert_error(err, CONF_ERROR, CONF_ERROR_IO);
  g_assert_cmpstr(err->message, ==, "open /nonexistent/dir/x.conf: no such file or directory");
  g_clear_error(&err);
  g_assert_null(conf_parse_file("/", &err));
  g_assert_cmpstr(err->message, ==, "read /: is a directory");
  g_clear_error(&err);
}

/* ---- syntax errors: message, line and column ---- */

static void test_syntax_errors(void) {
  static const struct {
    const char *text;
    const char *msg; /* inside "Parse error on line N: '...'" */
    int line, col;
  } cases[] = {
      {"a = \"x", "Unexpected EOF.", 1, 6},
      {"a { b = 1", "Expected a map value terminator \",\" or a map terminator \"}\", but got '' instead.", 1, 9},
      {"a = \\q\n", "Invalid escape character 'q'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.", 1, 6},
      {"a = [,]\n", "Unexpected array value terminator ','.", 1, 6},
      {"a = [1 ] ]\n", "Expected a top-level value to end with a new line, comment or EOF, but got ']' instead.", 1, 10},
      {"a = .5\n", "Floats must start with a digit", 1, 5},
      {"a = 1.x\n", "Floats must have a digit after the '.', but got 'x' instead.", 1, 7},
      {"a = -x\n", "Expected a digit but got 'x'.", 1, 6},
      {"a = 1-2\n", "All ISO8601 dates must be in full Zulu form.", 1, 6},
      {"a = 2016-05-04X\n", "Expected 'T' in ISO8601 datetime, but found 'X' instead.", 1, 15},
      {"a = 2016-0x\n", "Expected digit in ISO8601 datetime, but found 'x' instead.", 1, 11},
      {"a = 1 2\n", "Expected a top-level value to end with a new line, comment or EOF, but got '2' instead.", 1, 7},
      {"= 1\n", "Unexpected key separator '='", 1, 0},
      {"a { = 1 }\n", "Unexpected key separator '='.", 1, 4},
      {"a { ] }\n", "Unexpected array end ']' processing map.", 1, 4},
      {"a {\n  b = 1 ]\n}\n", "Expected a map value terminator \",\" or a map terminator \"}\", but got ']' instead.", 2, 10},
      {"a {\n", "Unexpected EOF processing map.", 2, 1},
      {"a { 'k\n", "Unexpected EOF processing quoted map key.", 2, 1},
      {"a { \"k", "Unexpected EOF processing double quoted map key.", 1, 6},
      {"a { k", "Unexpected EOF processing map key.", 1, 5},
      {"a = { b = , }\n", "Unexpected map value terminator \",\".", 1, 11},
      {"a =\n1\n", "Expected value but found new line", 2, 1},
      {"a = \"\\x4\"\n", "Expected two hexadecimal digits after '\\x', but got '4\"'", 1, 9},
      {"a = \"\\x4\nz\"\n", "Expected two hexadecimal digits after '\\x', but hit end of line", 2, 1},
      {"a = (\nfoo\n", "Unexpected EOF processing block.", 3, 1},
      {"include [x]\n", "Expected include value but found start of an array", 1, 9},
      {"include {x}\n", "Expected include value but found start of a map", 1, 9},
      {"include (x)\n", "Expected include value but found start of a block", 1, 9},
      {"include 5\n", "Expected include value but found start of a number", 1, 9},
      {"include \\x\n", "Expected include value but found escape sequence", 1, 9},
      {"include\n", "Expected include value but found new line", 2, 1},
      {"include 'x\n", "Unexpected EOF in quoted include", 2, 1},
      {"include \"x", "Unexpected EOF in double quoted include", 1, 10},
      {"/a = 1\n", "Unexpected EOF.", 1, 1},
      {"a = 1\n\n  b = [1 2 ]\n", "Expected an array value terminator \",\" or an array terminator \"]\", but got '2' instead.", 3, 11},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) e = fail(cases[i].text, CONF_ERROR_SYNTAX);
    g_autofree char *want = g_strdup_printf("Parse error on line %d: '%s'", cases[i].line, cases[i].msg);
    g_assert_cmpstr(e->message, ==, want);
    const char *file;
    int line, col;
    g_assert_true(conf_error_get_location(e, &file, &line, &col));
    if (line != cases[i].line || col != cases[i].col)
      g_error("<<%s>>: location %d:%d, expected %d:%d", cases[i].text, line, col, cases[i].line,
              cases[i].col);
    g_autofree char *fmt = conf_error_format(e);
    g_autofree char *want_fmt = g_strdup_printf("t.conf:%d:%d: %s", line, col, want);
    g_assert_cmpstr(fmt, ==, want_fmt);
  }
}

static void test_nul_bytes(void) {
  /* A NUL byte reads as end of input, as in nats-server. */
  GError *err = NULL;
  ConfValue *v = conf_parse_data("a = 1\n\0b = 2\n", 13, "t.conf", 0, &err);
  g_assert_null(v);
  g_assert_cmpstr(err->message, ==, "Parse error on line 2: 'Unexpected EOF.'");
  g_clear_error(&err);
  v = conf_parse_data("a = 1\nb\0 = 2\n", 13, "t.conf", 0, &err);
  g_assert_no_error(err);
  g_autofree char *j = conf_value_to_json(v);
  g_assert_cmpstr(j, ==, "{\"a\":1}");
  conf_value_free(v);
}

/* ---- limits ---- */

static void test_limits(void) {
  /* depth: CONF_MAX_DEPTH containers including the root are fine, one more is not */
  GString *s = g_string_new("a = ");
  for (int i = 0; i < CONF_MAX_DEPTH - 1; i++)
    g_string_append(s, "[ ");
  for (int i = 0; i < CONF_MAX_DEPTH - 1; i++)
    g_string_append(s, "] ");
  g_string_append(s, "\n");
  g_autoptr(ConfValue) deep = ok(s->str);
  const ConfValue *cur = conf_value_map_get(deep, "a");
  int levels = 0;
  while (cur && conf_value_kind(cur) == CONF_ARRAY) {
    levels++;
    cur = conf_value_array_get(cur, 0);
  }
  g_assert_cmpint(levels, ==, CONF_MAX_DEPTH - 1);
  g_string_assign(s, "a = ");
  for (int i = 0; i < CONF_MAX_DEPTH; i++)
    g_string_append(s, "[ ");
  g_autoptr(GError) e1 = fail(s->str, CONF_ERROR_LIMIT);
  g_assert_true(g_str_has_prefix(e1->message, "nesting depth exceeds the limit of 128"));

  /* depth reached through variable copies is counted too */
  g_string_assign(s, "v0 = [ ]\n");
  for (int i = 1; i <= CONF_MAX_DEPTH; i++)
    g_string_append_printf(s, "v%d = [ $v%d ]\n", i, i - 1);
  g_autoptr(GError) e2 = fail(s->str, CONF_ERROR_LIMIT);
  g_assert_true(g_str_has_prefix(e2->message, "nesting depth exceeds the limit of 128"));

  /* exponential growth through copies hits the value budget */
  g_string_assign(s, "v0 = [ 1, 1, 1, 1, 1, 1, 1, 1 ]\n");
  for (int i = 1; i < 12; i++)
    g_string_append_printf(s, "v%d = [ $v%d, $v%d, $v%d, $v%d, $v%d, $v%d, $v%d, $v%d ]\n", i, i - 1,
                           i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  g_autoptr(GError) e3 = fail(s->str, CONF_ERROR_LIMIT);
  g_assert_true(g_str_has_prefix(e3->message, "configuration has too many values"));
  g_string_free(s, TRUE);

  /* size */
  gsize big = CONF_MAX_FILE_SIZE + 1;
  char *buf = g_malloc(big);
  memset(buf, '#', big);
  GError *err = NULL;
  g_assert_null(conf_parse_data(buf, big, "t.conf", 0, &err));
  g_assert_error(err, CONF_ERROR, CONF_ERROR_LIMIT);
  g_clear_error(&err);
  buf[0] = '\n'; /* a file just under the limit is fine */
  ConfValue *v = conf_parse_data(buf, big - 1, "t.conf", 0, &err);
  g_assert_no_error(err);
  conf_value_free(v);
  g_free(buf);
}

/* ---- durations ---- */

static void test_durations(void) {
  static const struct {
    const char *s;
    int64_t ns;
  } good[] = {
      {"0", 0},
      {"-0", 0},
      {"2s", 2000000000LL},
      {"1h2m3.5s", 3723500000000LL},
      {"-300ms", -300000000LL},
      {"+1us", 1000},
      {"1µs", 1000},
      {"1μs", 1000},
      {"10ns", 10},
      {".5m", 30000000000LL},
      {"5.s", 5000000000LL},
      {"1.000000001s", 1000000001LL},
      {"2562047h47m16.854775807s", INT64_MAX},
      {"-2562047h47m16.854775808s", INT64_MIN},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    int64_t ns = -1;
    GError *err = NULL;
    if (!conf_parse_duration(good[i].s, &ns, &err))
      g_error("duration %s: %s", good[i].s, err->message);
    g_assert_cmpint(ns, ==, good[i].ns);
  }
  static const struct {
    const char *s, *msg;
  } bad[] = {
      {"", "time: invalid duration \"\""},
      {"-", "time: invalid duration \"-\""},
      {"5", "time: missing unit in duration \"5\""},
      {"1d", "time: unknown unit \"d\" in duration \"1d\""},
      {".s", "time: invalid duration \".s\""},
      {"s", "time: invalid duration \"s\""},
      {"1.5.5s", "time: missing unit in duration \"1.5.5s\""},
      {"2562047h47m16.854775808s", "time: invalid duration \"2562047h47m16.854775808s\""},
      {"99999999999999999999s", "time: invalid duration \"99999999999999999999s\""},
      {"1é", "time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\""},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    int64_t ns = 7;
    g_autoptr(GError) err = NULL;
    g_assert_false(conf_parse_duration(bad[i].s, &ns, &err));
    g_assert_cmpstr(err->message, ==, bad[i].msg);
  }
  int64_t ns;
  g_assert_false(conf_parse_duration("x", &ns, NULL)); /* NULL error is allowed */
}

static void test_json(void) {
  g_autoptr(ConfValue) v = ok("s = \"q\\\"\\\\\\x01\"\nf = 2.0\nb = no\nd = 2016-05-04T18:53:41Z\n");
  g_autofree char *j = conf_value_to_json(v);
  g_assert_cmpstr(j, ==, "{\"s\":\"q\\\"\\\\\\u0001\",\"f\":2.0,\"b\":false,\"d\":\"2016-05-04T18:53:41Z\"}");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/conf/assignments", test_assignments);
  g_test_add_func("/conf/positions", test_positions);
  g_test_add_func("/conf/maps", test_maps);
  g_test_add_func("/conf/lookup", test_lookup);
  g_test_add_func("/conf/arrays", test_arrays);
  g_test_add_func("/conf/comments", test_comments);
  g_test_add_func("/conf/strings", test_strings);
  g_test_add_func("/conf/blocks", test_blocks);
  g_test_add_func("/conf/integers", test_integers);
  g_test_add_func("/conf/floats", test_floats);
  g_test_add_func("/conf/bools", test_bools);
  g_test_add_func("/conf/datetimes", test_datetimes);
  g_test_add_func("/conf/variables", test_variables);
  g_test_add_func("/conf/env-variables", test_env_variables);
  g_test_add_func("/conf/includes", test_includes);
  g_test_add_func("/conf/file-errors", test_file_errors);
  g_test_add_func("/conf/syntax-errors", test_syntax_errors);
  g_test_add_func("/conf/nul-bytes", test_nul_bytes);
  g_test_add_func("/conf/limits", test_limits);
  g_test_add_func("/conf/durations", test_durations);
  g_test_add_func("/conf/json", test_json);
  return g_test_run();
}
