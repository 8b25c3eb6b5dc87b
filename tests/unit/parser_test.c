/* parser_test.c — unit tests for parser.c: every op and argument form, every
 * error, and split invariance (the same stream fed whole, split at every
 * byte boundary, and byte by byte yields the same callback sequence).
 * Expected behaviour was taken from /usr/sbin/nats-server 2.9.10. */
#include <glib.h>
#include <string.h>

#include "const.h"
#include "errors.h"
#include "parser.h"

/* ---- recorder: every callback appends one line to a log ---- */

typedef struct Rec {
  GString *log;
  const char *buf;      /* current input chunk, to check where pointers point */
  size_t buf_len;
  Parser *p;
  int msgs;
  int in_buf_payloads;  /* payloads delivered straight from the caller's buffer */
  NatsError fail_on_ping;  /* returned by on_ping */
  NatsError before_connect;
  bool clear_headers_on_connect;
  bool pause_on_connect;
} Rec;

static void rec_str(GString *s, const char *p, size_t n) {
  /* escape byte by byte so CR, LF and NUL show */
  g_string_append_c(s, '[');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '[' && c != ']')
      g_string_append_c(s, (char)c);
    else
      g_string_append_printf(s, "\\x%02x", c);
  }
  g_string_append_c(s, ']');
}

static guint32 fnv1a(const char *p, size_t n) {
  guint32 h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 16777619u;
  return h;
}

static NatsError rec_pub_args(void *ctx, const ParserPub *pub) {
  Rec *r = ctx;
  g_string_append(r->log, "PUBARGS ");
  rec_str(r->log, pub->subject, pub->subject_len);
  rec_str(r->log, pub->reply ? pub->reply : "", pub->reply_len);
  g_string_append_printf(r->log, " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", pub->hdr_len, pub->total_len);
  return NATS_OK;
}

static NatsError rec_msg(void *ctx, const ParserPub *pub, const char *payload) {
  Rec *r = ctx;
  r->msgs++;
  if (r->buf && payload >= r->buf && payload + pub->total_len <= r->buf + r->buf_len && pub->total_len > 0)
    r->in_buf_payloads++;
  g_string_append(r->log, "MSG ");
  rec_str(r->log, pub->subject, pub->subject_len);
  rec_str(r->log, pub->reply ? pub->reply : "", pub->reply_len);
  g_string_append_printf(r->log, " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " ", pub->hdr_len, pub->total_len);
  if (pub->total_len <= 256)
    rec_str(r->log, payload, (size_t)pub->total_len);
  else
    g_string_append_printf(r->log, "fnv:%08x", fnv1a(payload, (size_t)pub->total_len));
  g_string_append_c(r->log, '\n');
  return NATS_OK;
}

static NatsError rec_sub(void *ctx, const char *s, size_t sn, const char *q, size_t qn, const char *sid, size_t sidn) {
  Rec *r = ctx;
  g_string_append(r->log, "SUB ");
  rec_str(r->log, s, sn);
  rec_str(r->log, q ? q : "", qn);
  rec_str(r->log, sid, sidn);
  g_string_append_c(r->log, '\n');
  return NATS_OK;
}

static NatsError rec_unsub(void *ctx, const char *sid, size_t sidn, int64_t max) {
  Rec *r = ctx;
  g_string_append(r->log, "UNSUB ");
  rec_str(r->log, sid, sidn);
  g_string_append_printf(r->log, " %" G_GINT64_FORMAT "\n", max);
  return NATS_OK;
}

static NatsError rec_connect(void *ctx, const char *j, size_t n) {
  Rec *r = ctx;
  g_string_append(r->log, "CONNECT ");
  rec_str(r->log, j, n);
  g_string_append_c(r->log, '\n');
  if (r->clear_headers_on_connect)
    r->p->headers = true;
  if (r->pause_on_connect)
    r->p->pause = true;
  return NATS_OK;
}

static NatsError rec_info(void *ctx, const char *j, size_t n) {
  Rec *r = ctx;
  g_string_append(r->log, "INFO ");
  rec_str(r->log, j, n);
  g_string_append_c(r->log, '\n');
  return NATS_OK;
}

static NatsError rec_ping(void *ctx) {
  Rec *r = ctx;
  g_string_append(r->log, "PING\n");
  return r->fail_on_ping;
}

static NatsError rec_pong(void *ctx) {
  g_string_append(((Rec *)ctx)->log, "PONG\n");
  return NATS_OK;
}

static NatsError rec_ok(void *ctx) {
  g_string_append(((Rec *)ctx)->log, "OK\n");
  return NATS_OK;
}

static NatsError rec_err(void *ctx, const char *m, size_t n) {
  Rec *r = ctx;
  g_string_append(r->log, "ERR ");
  rec_str(r->log, m, n);
  g_string_append_c(r->log, '\n');
  return NATS_ERR_CLIENT_SENT_ERR;
}

static NatsError rec_before_connect(void *ctx) {
  Rec *r = ctx;
  g_string_append(r->log, "BEFORE_CONNECT\n");
  return r->before_connect;
}

static const ParserCallbacks rec_cb = {
  .on_pub_args = rec_pub_args, .on_msg = rec_msg, .on_sub = rec_sub, .on_unsub = rec_unsub,
  .on_connect = rec_connect, .on_info = rec_info, .on_ping = rec_ping, .on_pong = rec_pong,
  .on_ok = rec_ok, .on_err = rec_err,
};

/* Parser settings applied before each run. */
typedef struct Setup {
  int64_t mcl;        /* 0: default */
  int64_t max_payload; /* 0: default; use NO_LIMIT for -1 */
  bool headers;
  bool auth;
  bool before_cb;
  NatsError before_ret;
} Setup;
#define NO_LIMIT INT64_MIN

static void setup_parser(Parser *p, const Setup *s) {
  parser_init(p);
  p->headers = s ? s->headers : true;
  if (s && s->mcl)
    p->max_control_line = s->mcl;
  if (s && s->max_payload)
    p->max_payload = s->max_payload == NO_LIMIT ? -1 : s->max_payload;
  if (s)
    p->connect_required_first = s->auth;
}

/* Feeds `in` in chunks whose sizes come from `cuts` (ascending offsets,
 * terminated by len); returns the log ending with "=> RESULT". */
static char *run_cuts(const Setup *s, const char *in, size_t len, const size_t *cuts, size_t ncuts) {
  Parser p;
  setup_parser(&p, s);
  Rec r = {.log = g_string_new(NULL), .p = &p};
  ParserCallbacks cb = rec_cb;
  if (s && s->before_cb) {
    cb.on_op_before_connect = rec_before_connect;
    r.before_connect = s->before_ret;
  }
  NatsError e = NATS_OK;
  size_t off = 0;
  for (size_t k = 0; k <= ncuts && e == NATS_OK; k++) {
    size_t end = k < ncuts ? cuts[k] : len;
    /* copy each chunk so that stale pointers into an earlier chunk are caught by ASan */
    char *chunk = g_memdup2(in + off, end - off ? end - off : 1);
    r.buf = chunk;
    r.buf_len = end - off;
    e = parser_parse(&p, chunk, end - off, &cb, &r);
    g_free(chunk);
    off = end;
  }
  g_string_append_printf(r.log, "=> %s\n", errors_name(e));
  if (e != NATS_OK)  /* a dead parser keeps answering the same error */
    g_assert_cmpint(parser_parse(&p, "PING\r\n", 6, &cb, &r), ==, e);
  parser_clear(&p);
  return g_string_free(r.log, FALSE);
}

static char *run_whole(const Setup *s, const char *in) {
  return run_cuts(s, in, strlen(in), NULL, 0);
}

/* The same stream split at every boundary, and byte by byte, must give the same log. */
static char *check_splits(const Setup *s, const char *in, size_t len) {
  char *whole = run_cuts(s, in, len, NULL, 0);
  for (size_t k = 1; k < len; k++) {
    g_autofree char *got = run_cuts(s, in, len, &k, 1);
    if (g_strcmp0(got, whole) != 0)
      g_error("split at %zu of %s:\n%s\nvs whole:\n%s", k, g_strescape(in, NULL), got, whole);
  }
  if (len > 1) {
    g_autofree size_t *cuts = g_new(size_t, len - 1);
    for (size_t k = 1; k < len; k++)
      cuts[k - 1] = k;
    g_autofree char *got = run_cuts(s, in, len, cuts, len - 1);
    g_assert_cmpstr(got, ==, whole);
  }
  return whole;
}

static void expect(const Setup *s, const char *in, const char *want) {
  g_autofree char *got = check_splits(s, in, strlen(in));
  g_assert_cmpstr(got, ==, want);
}

/* ---- ops and argument forms ---- */

static void test_ops(void) {
  expect(NULL, "PING\r\n", "PING\n=> OK\n");
  expect(NULL, "PONG\r\n", "PONG\n=> OK\n");
  expect(NULL, "+OK\r\n", "OK\n=> OK\n");
  expect(NULL, "CONNECT {\"verbose\":false}\r\n", "CONNECT [{\"verbose\":false}]\n=> OK\n");
  expect(NULL, "INFO {}\r\n", "INFO [{}]\n=> OK\n");
  expect(NULL, "SUB foo 1\r\n", "SUB [foo][][1]\n=> OK\n");
  expect(NULL, "SUB foo bar 1\r\n", "SUB [foo][bar][1]\n=> OK\n");
  expect(NULL, "UNSUB 1\r\n", "UNSUB [1] 0\n=> OK\n");
  expect(NULL, "UNSUB 1 5\r\n", "UNSUB [1] 5\n=> OK\n");
  expect(NULL, "PUB foo 5\r\nhello\r\n", "PUBARGS [foo][] -1 5\nMSG [foo][] -1 5 [hello]\n=> OK\n");
  expect(NULL, "PUB foo r.1 5\r\nhello\r\n",
         "PUBARGS [foo][r.1] -1 5\nMSG [foo][r.1] -1 5 [hello]\n=> OK\n");
  expect(NULL, "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
         "PUBARGS [foo][] 12 14\nMSG [foo][] 12 14 [NATS/1.0\\x0d\\x0a\\x0d\\x0ahi]\n=> OK\n");
  expect(NULL, "HPUB foo r 12 12\r\nNATS/1.0\r\n\r\n\r\n",
         "PUBARGS [foo][r] 12 12\nMSG [foo][r] 12 12 [NATS/1.0\\x0d\\x0a\\x0d\\x0a]\n=> OK\n");
  /* -ERR from a client: on_err decides (our recorder closes like nats-server) */
  expect(NULL, "-ERR 'x'\r\nPING\r\n", "ERR ['x']\n=> CLIENT_SENT_ERR\n");
  expect(NULL, "-ERR\tfoo\r\n", "ERR [foo]\n=> CLIENT_SENT_ERR\n");
}

static void test_forms(void) {
  /* op names in any case */
  expect(NULL, "pInG\r\npong\r\n+ok\r\nconnect {}\r\ninfo {}\r\n",
         "PING\nPONG\nOK\nCONNECT [{}]\nINFO [{}]\n=> OK\n");
  expect(NULL, "pub foo 1\r\nx\r\nsub a 1\r\nunsub 1\r\n",
         "PUBARGS [foo][] -1 1\nMSG [foo][] -1 1 [x]\nSUB [a][][1]\nUNSUB [1] 0\n=> OK\n");
  expect(NULL, "hPuB foo 0 0\r\n\r\n", "PUBARGS [foo][] 0 0\nMSG [foo][] 0 0 []\n=> OK\n");
  /* tabs and runs of blanks; bare LF line ends */
  expect(NULL, "pub\tfoo\t\t2\nhi\r\nping\n", "PUBARGS [foo][] -1 2\nMSG [foo][] -1 2 [hi]\nPING\n=> OK\n");
  expect(NULL, "SUB  \t foo \t q  9  \r\n", "SUB [foo][q][9]\n=> OK\n");
  expect(NULL, "UNSUB\t\t7\t3\n", "UNSUB [7] 3\n=> OK\n");
  /* PING/PONG/+OK ignore anything up to LF */
  expect(NULL, "PINGxyz\nPONG junk\r\n+OKxx\r\n", "PING\nPONG\nOK\n=> OK\n");
  /* CONNECT and INFO need no blank after the op name */
  expect(NULL, "CONNECT{}\r\nINFO{\"a\":1}\n", "CONNECT [{}]\nINFO [{\"a\":1}]\n=> OK\n");
  expect(NULL, "CONNECT  \t {} \r\n", "CONNECT [{} ]\n=> OK\n");
  /* the argument's first byte is taken unexamined: "CONNECT\r\n" hands over a lone CR */
  expect(NULL, "CONNECT\r\n", "CONNECT [\\x0d]\n=> OK\n");
  /* ...and even an LF there starts the argument: nats-server accepts this PUB,
   * with the LF part of the subject (PUB splits on space and tab only) */
  expect(NULL, "PUB  \nfoo 0\r\n\r\nPING\r\n",
         "PUBARGS [\\x0afoo][] -1 0\nMSG [\\x0afoo][] -1 0 []\nPING\n=> OK\n");
  /* a CR anywhere makes the byte before LF drop: subject "foo\r" (as nats-server) */
  expect(NULL, "PUB foo\r 1\r\nx\r\n", "PUBARGS [foo\\x0d][] -1 1\nMSG [foo\\x0d][] -1 1 [x]\n=> OK\n");
  /* SUB/UNSUB treat CR and LF as blanks too */
  expect(NULL, "SUB foo\r 1\r\n", "SUB [foo][][1]\n=> OK\n");
  /* sizes: leading zeros fine, up to 9 digits */
  expect(NULL, "PUB foo 000000001\r\nx\r\n",
         "PUBARGS [foo][] -1 1\nMSG [foo][] -1 1 [x]\n=> OK\n");
  expect(NULL, "PUB foo 0\r\n\r\nPUB bar 0\n\r\n",
         "PUBARGS [foo][] -1 0\nMSG [foo][] -1 0 []\nPUBARGS [bar][] -1 0\nMSG [bar][] -1 0 []\n=> OK\n");
  /* UNSUB max: absent, 0, not a size, or > 9 digits all mean "now" (0) */
  expect(NULL, "UNSUB 1 0\r\nUNSUB 2 abc\r\nUNSUB 3 1234567890\r\nUNSUB 4 999999999\r\n",
         "UNSUB [1] 0\nUNSUB [2] 0\nUNSUB [3] 0\nUNSUB [4] 999999999\n=> OK\n");
  /* a client's HMSG: nats-server publishes 0 bytes to no subject */
  expect(NULL, "HMSG foo 1 2\r\n\r\nPING\r\n", "MSG [][] 0 0 []\nPING\n=> OK\n");
}

/* ---- errors ---- */

static void test_errors(void) {
  /* unknown ops (nats-server: -ERR 'Unknown Protocol Operation', closes) */
  expect(NULL, "FOO\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, " PING\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "PUB\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "PUBX foo 1\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "UNSUB\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "SUBfoo 1\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "-ERR\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "+OX\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "MSG foo 1 2\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "RS+ foo\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "PING\r\nPONG\r\nXPING\r\n", "PING\nPONG\n=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "HPX\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "CONNEXT {}\r\n", "=> UNKNOWN_PROTOCOL\n");
  /* payload not followed by exactly CRLF */
  expect(NULL, "PUB foo 3\r\nabcd\r\nPING\r\n", "PUBARGS [foo][] -1 3\n=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "PUB foo 3\r\nabc\nPING\r\n", "PUBARGS [foo][] -1 3\n=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "PUB foo 1\r\nab", "PUBARGS [foo][] -1 1\n=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "PUB foo 0\r\n\rX", "PUBARGS [foo][] -1 0\n=> UNKNOWN_PROTOCOL\n");
  /* PUB argument errors: closed without -ERR */
  expect(NULL, "PUB foo\r\n", "=> PARSE\n");
  expect(NULL, "PUB foo a\r\n", "=> PARSE\n");
  expect(NULL, "PUB foo -1\r\n", "=> PARSE\n");
  expect(NULL, "PUB foo 1x\r\n", "=> PARSE\n");
  expect(NULL, "PUB foo 1234567890\r\n", "=> PARSE\n");       /* 10 digits */
  expect(NULL, "PUB foo 99999999999999999999999\r\n", "=> PARSE\n");
  expect(NULL, "PUB foo bar baz 1\r\n", "=> PARSE\n");
  expect(NULL, "PUB \r\n", "=> PARSE\n");
  /* SUB/UNSUB argument counts */
  expect(NULL, "SUB foo\r\n", "=> PARSE\n");
  expect(NULL, "SUB foo a b c\r\n", "=> PARSE\n");
  expect(NULL, "UNSUB 1 2 3\r\n", "=> PARSE\n");
  expect(NULL, "UNSUB \r\n", "=> PARSE\n");
  /* HPUB */
  expect(NULL, "HPUB foo 3 2\r\nab\r\n", "=> PARSE\n");            /* header > total */
  expect(NULL, "HPUB foo x 2\r\n", "=> PARSE\n");
  expect(NULL, "HPUB foo 0 1234567890\r\n", "=> PARSE\n");
  expect(NULL, "HPUB foo 1 2 3 4\r\n", "=> PARSE\n");
  expect(NULL, "HPUB foo 1\r\n", "=> PARSE\n");
  Setup no_hdr = {.headers = false};
  expect(&no_hdr, "HPUB foo 1 2\r\nab\r\n", "=> HEADERS_NOT_SUPPORTED\n");
  /* header support is checked before the size limit, as in nats-server */
  expect(&no_hdr, "HPUB foo 1 2000000\r\n", "=> HEADERS_NOT_SUPPORTED\n");
  /* ...but it is not needed for an HMSG */
  expect(&no_hdr, "HMSG x\r\n\r\n", "MSG [][] 0 0 []\n=> OK\n");
}

static void test_error_detail(void) {
  Parser p;
  parser_init(&p);
  const char *in = "PUB foo bar baz 1\r\n";
  g_assert_cmpint(parser_parse(&p, in, strlen(in), &rec_cb, &(Rec){.log = NULL}), ==, NATS_ERR_PARSE);
  g_assert_cmpstr(p.err_what, ==, "processPub Parse Error");
  g_assert_cmpint(p.err_arg_len, ==, strlen("foo bar baz 1"));
  g_assert_true(memcmp(p.err_arg, "foo bar baz 1", p.err_arg_len) == 0);
  parser_clear(&p);

  parser_init(&p);
  in = "PING\r\nBAD STUFF";
  Rec r = {.log = g_string_new(NULL)};
  g_assert_cmpint(parser_parse(&p, in, strlen(in), &rec_cb, &r), ==, NATS_ERR_UNKNOWN_PROTOCOL);
  g_assert_cmpint(p.err_arg_len, ==, 9);
  g_assert_true(p.err_arg == in + 6);
  g_string_free(r.log, TRUE);
  parser_clear(&p);
}

/* ---- limits ---- */

static char *pub_with_arg_len(size_t n, const char *eol) {
  /* "PUB " + subject of n-2 bytes + " 0" + eol + CRLF: the argument is n bytes */
  GString *s = g_string_new("PUB ");
  for (size_t i = 0; i < n - 2; i++)
    g_string_append_c(s, 'a');
  g_string_append(s, " 0");
  g_string_append(s, eol);
  g_string_append(s, "\r\nPING\r\n");
  return g_string_free(s, FALSE);
}

static void test_max_control_line(void) {
  for (int crlf = 0; crlf < 2; crlf++) {
    const char *eol = crlf ? "\r\n" : "\n";
    g_autofree char *ok = pub_with_arg_len(MAX_CONTROL_LINE_SIZE, eol);
    g_autofree char *over = pub_with_arg_len(MAX_CONTROL_LINE_SIZE + 1, eol);
    g_autofree char *under = pub_with_arg_len(MAX_CONTROL_LINE_SIZE - 1, eol);
    g_autofree char *r1 = run_whole(NULL, ok);
    g_autofree char *r2 = run_whole(NULL, over);
    g_autofree char *r3 = run_whole(NULL, under);
    g_assert_true(g_str_has_suffix(r1, "PING\n=> OK\n"));
    g_assert_true(g_str_has_suffix(r3, "PING\n=> OK\n"));
    g_assert_cmpstr(r2, ==, "=> MAX_CONTROL_LINE\n");
    /* split anywhere: same outcome (the limit also applies while the line is
     * still arriving, and a CR at the end of a read does not count) */
    size_t len = strlen(ok);
    for (size_t k = 1; k < len; k += (k < 5 || k > len - 20) ? 1 : 97) {
      g_autofree char *a = run_cuts(NULL, ok, len, &k, 1);
      g_assert_cmpstr(a, ==, r1);
      size_t k2 = k < strlen(over) ? k : 1;
      g_autofree char *b = run_cuts(NULL, over, strlen(over), &k2, 1);
      g_assert_cmpstr(b, ==, r2);
    }
  }
  /* other ops are limited too; PING's trailing junk is not */
  Setup small = {.mcl = 8, .headers = true};
  expect(&small, "SUB 12345 7\r\n", "SUB [12345][][7]\n=> OK\n");       /* 7 bytes */
  expect(&small, "SUB 123456 7\r\n", "SUB [123456][][7]\n=> OK\n");     /* 8 */
  expect(&small, "SUB 1234567 7\r\n", "=> MAX_CONTROL_LINE\n");         /* 9 */
  expect(&small, "CONNECT {\"a\":12}\r\n", "CONNECT [{\"a\":12}]\n=> OK\n");  /* 8 */
  expect(&small, "CONNECT {\"a\":123}\r\n", "=> MAX_CONTROL_LINE\n");
  expect(&small, "INFO {\"a\":123}\r\n", "=> MAX_CONTROL_LINE\n");
  expect(&small, "-ERR 123456789\r\n", "=> MAX_CONTROL_LINE\n");
  expect(&small, "UNSUB 1234567 12\r\n", "=> MAX_CONTROL_LINE\n");
  expect(&small, "HMSG 1234567 12\r\n", "=> MAX_CONTROL_LINE\n");
  expect(&small, "PING 1234567890123456789\r\nPONG\r\n", "PING\nPONG\n=> OK\n");
  expect(&small, "PUB         a 1\r\nx\r\n", "PUBARGS [a][] -1 1\nMSG [a][] -1 1 [x]\n=> OK\n");
  /* an argument that never ends is cut off before it is buffered past the limit */
  Parser p;
  parser_init(&p);
  Rec r = {.log = g_string_new(NULL)};
  NatsError e = NATS_OK;
  e = parser_parse(&p, "SUB ", 4, &rec_cb, &r);
  for (int i = 0; i < 100000 && e == NATS_OK; i++)
    e = parser_parse(&p, "aaaaaaaaaa", 10, &rec_cb, &r);
  g_assert_cmpint(e, ==, NATS_ERR_MAX_CONTROL_LINE);
  g_assert_cmpuint(p.arg_len, <=, MAX_CONTROL_LINE_SIZE + 1);
  g_string_free(r.log, TRUE);
  parser_clear(&p);
}

static char *pub_of_size(size_t n) {
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "PUB big %zu\r\n", n);
  for (size_t i = 0; i < n; i++)
    g_string_append_c(s, (char)('a' + i % 26));
  g_string_append(s, "\r\nPING\r\n");
  return g_string_free(s, FALSE);
}

static void test_max_payload(void) {
  g_autofree char *at = pub_of_size(MAX_PAYLOAD_SIZE);
  g_autofree char *under = pub_of_size(MAX_PAYLOAD_SIZE - 1);
  g_autofree char *r = run_whole(NULL, at);
  g_assert_true(g_str_has_suffix(r, "PING\n=> OK\n"));
  g_autofree char *r2 = run_whole(NULL, under);
  g_assert_true(g_str_has_suffix(r2, "PING\n=> OK\n"));
  /* over the limit: refused at the control line, before any payload byte
   * and before on_pub_args */
  expect(NULL, "PUB foo 1048577\r\n", "=> MAX_PAYLOAD\n");
  expect(NULL, "HPUB foo 1 1048577\r\n", "=> MAX_PAYLOAD\n");
  expect(NULL, "HPUB foo 1048577 1048577\r\n", "=> MAX_PAYLOAD\n");
  /* argument errors come first */
  expect(NULL, "PUB foo bar 1048577 x\r\n", "=> PARSE\n");
  Setup lim = {.max_payload = 4, .headers = true};
  expect(&lim, "PUB a 4\r\nabcd\r\n", "PUBARGS [a][] -1 4\nMSG [a][] -1 4 [abcd]\n=> OK\n");
  expect(&lim, "PUB a 5\r\nabcde\r\n", "=> MAX_PAYLOAD\n");
  expect(&lim, "HPUB a 2 4\r\nabcd\r\n", "PUBARGS [a][] 2 4\nMSG [a][] 2 4 [abcd]\n=> OK\n");
  expect(&lim, "HPUB a 2 5\r\nabcde\r\n", "=> MAX_PAYLOAD\n");
  /* negative: no limit, up to the 9-digit size cap */
  Setup nolim = {.max_payload = NO_LIMIT, .headers = true};
  expect(&nolim, "PUB a 999999999\r\n", "PUBARGS [a][] -1 999999999\n=> OK\n");
}

/* ---- auth: CONNECT first ---- */

static void test_connect_first(void) {
  Setup auth = {.auth = true, .headers = true};
  expect(&auth, "PING\r\n", "=> AUTH_VIOLATION\n");
  expect(&auth, "\r\n", "=> AUTH_VIOLATION\n");
  /* only the first byte is looked at: "CXX" is an unknown op */
  expect(&auth, "CXX\r\n", "=> UNKNOWN_PROTOCOL\n");
  expect(&auth, "connect {}\r\nPING\r\n", "CONNECT [{}]\nPING\n=> OK\n");
  expect(&auth, "CONNECT {}\r\nSUB a 1\r\n", "CONNECT [{}]\nSUB [a][][1]\n=> OK\n");
  /* no_auth_user: the callback lets the client in */
  Setup noauth_user = {.auth = true, .before_cb = true, .before_ret = NATS_OK, .headers = true};
  expect(&noauth_user, "PING\r\nPING\r\n", "BEFORE_CONNECT\nPING\nPING\n=> OK\n");
  Setup refuse = {.auth = true, .before_cb = true, .before_ret = NATS_ERR_AUTH_VIOLATION};
  expect(&refuse, "SUB a 1\r\n", "BEFORE_CONNECT\n=> AUTH_VIOLATION\n");
}

/* ---- callbacks stop the parse ---- */

static void test_callback_error(void) {
  Parser p;
  parser_init(&p);
  Rec r = {.log = g_string_new(NULL), .fail_on_ping = NATS_ERR_STALE_CONNECTION};
  const char *in = "PING\r\nPONG\r\n";
  g_assert_cmpint(parser_parse(&p, in, strlen(in), &rec_cb, &r), ==, NATS_ERR_STALE_CONNECTION);
  g_assert_cmpstr(r.log->str, ==, "PING\n");  /* PONG never reached */
  g_assert_cmpint(parser_parse(&p, "PONG\r\n", 6, &rec_cb, &r), ==, NATS_ERR_STALE_CONNECTION);
  g_assert_cmpstr(r.log->str, ==, "PING\n");
  g_string_free(r.log, TRUE);
  parser_clear(&p);

  /* all callbacks NULL: parses fine */
  ParserCallbacks none = {0};
  parser_init(&p);
  p.headers = true;
  in = "CONNECT {}\r\nPUB a 1\r\nx\r\nHPUB a 0 0\r\n\r\nSUB a 1\r\nUNSUB 1\r\nPING\r\nPONG\r\n+OK\r\nINFO {}\r\n-ERR x\r\n";
  g_assert_cmpint(parser_parse(&p, in, strlen(in), &none, NULL), ==, NATS_OK);
  parser_clear(&p);
}

static void test_pause(void) {
  /* CONNECT pauses the parser (credentials checked elsewhere); the rest of
   * the read is handed back and parsed once the caller resumes */
  Parser p;
  parser_init(&p);
  p.connect_required_first = true;
  Rec r = {.log = g_string_new(NULL), .p = &p, .pause_on_connect = true, .clear_headers_on_connect = true};
  const char *in = "CONNECT {}\r\nHPUB a 0 1\r\nx\r\nPING\r\n";
  size_t len = strlen(in);
  g_assert_cmpint(parser_parse(&p, in, len, &rec_cb, &r), ==, NATS_OK);
  g_assert_cmpuint(p.consumed, ==, strlen("CONNECT {}\r\n"));
  g_assert_cmpstr(r.log->str, ==, "CONNECT [{}]\n");
  /* still paused: nothing more is consumed */
  g_assert_cmpint(parser_parse(&p, in + p.consumed, len - p.consumed, &rec_cb, &r), ==, NATS_OK);
  g_assert_cmpuint(p.consumed, ==, 0);
  p.pause = false;
  size_t off = strlen("CONNECT {}\r\n");
  g_assert_cmpint(parser_parse(&p, in + off, len - off, &rec_cb, &r), ==, NATS_OK);
  g_assert_cmpuint(p.consumed, ==, len - off);
  g_assert_cmpstr(r.log->str, ==, "CONNECT [{}]\nPUBARGS [a][] 0 1\nMSG [a][] 0 1 [x]\nPING\n");
  g_string_free(r.log, TRUE);
  parser_clear(&p);
}

static NatsError refuse_pub(void *ctx, const ParserPub *pub) {
  rec_pub_args(ctx, pub);
  return NATS_ERR_INVALID_PUBLISH_SUBJECT;
}

static NatsError refuse_msg(void *ctx, const ParserPub *pub, const char *payload) {
  rec_msg(ctx, pub, payload);
  return NATS_ERR_MAX_PAYLOAD;
}

static void test_callback_error_pub(void) {
  /* on_pub_args refusing: no payload is read, no MSG */
  ParserCallbacks cb = rec_cb;
  cb.on_pub_args = refuse_pub;
  Parser p;
  parser_init(&p);
  Rec r = {.log = g_string_new(NULL)};
  const char *in = "PUB a 1\r\nx\r\nPING\r\n";
  g_assert_cmpint(parser_parse(&p, in, strlen(in), &cb, &r), ==, NATS_ERR_INVALID_PUBLISH_SUBJECT);
  g_assert_cmpstr(r.log->str, ==, "PUBARGS [a][] -1 1\n");
  g_string_free(r.log, TRUE);
  parser_clear(&p);
  /* on_msg refusing stops before the PING */
  cb = rec_cb;
  cb.on_msg = refuse_msg;
  parser_init(&p);
  r.log = g_string_new(NULL);
  g_assert_cmpint(parser_parse(&p, in, strlen(in), &cb, &r), ==, NATS_ERR_MAX_PAYLOAD);
  g_assert_cmpstr(r.log->str, ==, "PUBARGS [a][] -1 1\nMSG [a][] -1 1 [x]\n");
  g_string_free(r.log, TRUE);
  parser_clear(&p);
}

static void test_odd_limits(void) {
  /* a negative max_control_line refuses every argument, wherever the read
   * ends (including right after an argument's first byte) */
  Setup neg = {.mcl = -1, .headers = true};
  expect(&neg, "PING\r\nSUB a 1\r\n", "PING\n=> MAX_CONTROL_LINE\n");
  /* a large limit: a long split line is buffered, and the buffer is let go
   * once the parser is idle */
  Parser p;
  parser_init(&p);
  p.max_control_line = 100000;
  Rec r = {.log = g_string_new(NULL)};
  g_autofree char *subj = g_strnfill(70000, 's');
  g_assert_cmpint(parser_parse(&p, "SUB ", 4, &rec_cb, &r), ==, NATS_OK);
  g_assert_cmpint(parser_parse(&p, subj, 70000, &rec_cb, &r), ==, NATS_OK);
  g_assert_cmpuint(p.arg_cap, >=, 70000);
  g_assert_cmpint(parser_parse(&p, " 1\r\n", 4, &rec_cb, &r), ==, NATS_OK);
  g_assert_true(g_str_has_prefix(r.log->str, "SUB [sss"));
  g_assert_null(p.arg_buf);
  g_string_free(r.log, TRUE);
  parser_clear(&p);
}

/* ---- volume, buffers, borrowing ---- */

static void test_many_messages(void) {
  GString *in = g_string_new(NULL);
  for (int i = 0; i < 1000; i++) {
    g_autofree char *pl = g_strnfill((gsize)(i % 10), 'x');
    g_string_append_printf(in, "PUB s.%d %d\r\n%s\r\n", i, i % 10, pl);
  }
  Parser p;
  parser_init(&p);
  Rec r = {.log = g_string_new(NULL), .buf = in->str, .buf_len = in->len};
  g_assert_cmpint(parser_parse(&p, in->str, in->len, &rec_cb, &r), ==, NATS_OK);
  g_assert_cmpint(r.msgs, ==, 1000);
  /* 900 have a payload; all came straight from our buffer, nothing was copied */
  g_assert_cmpint(r.in_buf_payloads, ==, 900);
  g_assert_null(p.arg_buf);
  g_assert_null(p.msg_buf);
  g_string_free(r.log, TRUE);
  parser_clear(&p);
  g_string_free(in, TRUE);
}

static void test_buffer_reuse(void) {
  /* split small messages: the scratch buffers are allocated once and reused */
  Parser p;
  parser_init(&p);
  Rec r = {.log = g_string_new(NULL)};
  const char *msg = "PUB subject.x reply.y 20\r\n01234567890123456789\r\n";
  size_t len = strlen(msg);
  char *arg0 = NULL, *msg0 = NULL;
  for (int i = 0; i < 200; i++) {
    size_t cut = 10 + (size_t)(i % 30);  /* sometimes in the line, sometimes in the payload */
    g_assert_cmpint(parser_parse(&p, msg, cut, &rec_cb, &r), ==, NATS_OK);
    g_assert_cmpint(parser_parse(&p, msg + cut, len - cut, &rec_cb, &r), ==, NATS_OK);
    if (i == 40) {
      arg0 = p.arg_buf;
      msg0 = p.msg_buf;
    } else if (i > 40) {
      g_assert_true(p.arg_buf == arg0);
      g_assert_true(p.msg_buf == msg0);
    }
  }
  g_assert_cmpint(r.msgs, ==, 200);
  g_string_free(r.log, TRUE);
  parser_clear(&p);
}

static void test_large_payload(void) {
  /* 1 MB payload fed in 1000-byte reads: delivered once, intact; the big
   * message buffer is released once the parser is idle again */
  g_autofree char *in = pub_of_size(MAX_PAYLOAD_SIZE);
  size_t len = strlen(in);
  Parser p;
  parser_init(&p);
  Rec r = {.log = g_string_new(NULL)};
  for (size_t off = 0; off < len; off += 1000) {
    size_t n = len - off < 1000 ? len - off : 1000;
    g_assert_cmpint(parser_parse(&p, in + off, n, &rec_cb, &r), ==, NATS_OK);
  }
  g_assert_cmpint(r.msgs, ==, 1);
  g_autofree char *whole = run_whole(NULL, in);
  g_string_append(r.log, "=> OK\n");
  g_assert_cmpstr(r.log->str, ==, whole);
  g_assert_null(p.msg_buf);
  g_assert_cmpuint(p.msg_cap, ==, 0);
  g_string_free(r.log, TRUE);
  parser_clear(&p);
  /* random cuts */
  GRand *rnd = g_rand_new_with_seed(42);
  for (int t = 0; t < 20; t++) {
    size_t cuts[8];
    size_t prev = 0;
    for (int k = 0; k < 8; k++) {
      prev += 1 + g_rand_int_range(rnd, 0, (gint32)((len - prev - 1) / (size_t)(9 - k)));
      cuts[k] = prev;
    }
    g_autofree char *got = run_cuts(NULL, in, len, cuts, 8);
    g_assert_cmpstr(got, ==, whole);
  }
  g_rand_free(rnd);
}

/* ---- split invariance over a corpus ---- */

static const char *const valid_streams[] = {
  "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\nPING\r\n",
  "SUB foo 1\r\nSUB bar q 2\r\nPUB foo 5\r\nhello\r\nPUB foo reply 0\r\n\r\nUNSUB 1 10\r\nUNSUB 2\r\n",
  "HPUB h 18 23\r\nNATS/1.0\r\nA: B\r\n\r\nhello\r\nPONG\r\n",
  "HPUB h r 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\n",
  "pub a 2\nhi\r\nping\npong\n+ok\n",
  "PUB a 6\r\n\r\n\r\n\r\n\r\nPUB b 4\r\nPING\r\n",   /* payload that looks like protocol */
  "PING  \t\r\nINFO {\"server_id\":\"x\"}\r\n-ERR 'Unknown'\r\n",
  "PUB  \t a \t b \t 3 \t\r\nabc\r\n",
  "HMSG x y\r\n\r\nPING\r\n",
  "PUB foo 0\r\n\r\nPUB foo 0\r\n\r\nPUB foo 0\r\n\r\n",
};

static const char *const invalid_streams[] = {
  "PING\r\nPUB foo 3\r\nabcd\r\n",
  "SUB foo\r\nPING\r\n",
  "PUB foo 2\r\nab\nPING\r\n",
  "CONNECT {}\r\nXYZ\r\n",
  "HPUB foo 5 4\r\nabcd\r\n",
  "PUB foo\r 1 2 3\r\n",
  "UNSUB 1 2 3\r\n",
  "PUB a 2000000\r\n",
};

static void test_split_invariance(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(valid_streams); i++) {
    g_autofree char *log = check_splits(NULL, valid_streams[i], strlen(valid_streams[i]));
    /* valid streams parse cleanly (-ERR from the client ends like nats-server) */
    if (!(g_str_has_suffix(log, "=> OK\n") || g_str_has_suffix(log, "=> CLIENT_SENT_ERR\n")))
      g_error("stream %zu: %s", i, log);
  }
  /* the whole corpus as one stream */
  GString *all = g_string_new(NULL);
  for (size_t i = 0; i < G_N_ELEMENTS(valid_streams) - 4; i++)
    g_string_append(all, valid_streams[i]);
  g_autofree char *log = check_splits(NULL, all->str, all->len);
  g_assert_true(g_str_has_suffix(log, "=> OK\n"));
  g_string_free(all, TRUE);
  /* invalid streams fail the same way wherever they are cut */
  for (size_t i = 0; i < G_N_ELEMENTS(invalid_streams); i++) {
    g_autofree char *l = check_splits(NULL, invalid_streams[i], strlen(invalid_streams[i]));
    g_assert_false(g_str_has_suffix(l, "=> OK\n"));
  }
  /* with auth required and a small control-line limit too */
  Setup s = {.auth = true, .mcl = 16, .headers = true};
  const char *in = "CONNECT {\"a\":\"b\"}\r\nPUB abcdefghijk 1\r\nx\r\n";
  g_autofree char *l2 = check_splits(&s, in, strlen(in));
  g_assert_cmpstr(l2, ==, "CONNECT [{\"a\":\"b\"}]\nPUBARGS [abcdefghijk][] -1 1\nMSG [abcdefghijk][] -1 1 [x]\n=> OK\n");
}

/* The single-pass PUB scan (parser_pub_fast) against the general path:
 * check_splits compares the whole-buffer parse (single pass) with parses cut
 * at every byte (general path), so any difference fails here.  Subjects
 * longer than 8 bytes exercise the word-at-a-time scan, with the special
 * byte in every position of a word and control bytes that are text. */
static void test_pub_single_pass(void) {
  expect(NULL, "PUB foo.bar.baz.quux.long.subject 3\r\nabc\r\n",
         "PUBARGS [foo.bar.baz.quux.long.subject][] -1 3\nMSG [foo.bar.baz.quux.long.subject][] -1 3 [abc]\n=> OK\n");
  expect(NULL, "PUB a.b\x01" "c.d\x1f\x7f" "e.fghij _INBOX.abcdefghijklmnop.q 1\r\nx\r\n",
         "PUBARGS [a.b\\x01c.d\\x1f\\x7fe.fghij][_INBOX.abcdefghijklmnop.q] -1 1\n"
         "MSG [a.b\\x01c.d\\x1f\\x7fe.fghij][_INBOX.abcdefghijklmnop.q] -1 1 [x]\n=> OK\n");
  for (size_t k = 1; k <= 17; k++) {
    /* a tab, a CR (drop rule) and a bare LF at every offset of a long subject */
    g_autofree char *subj = g_strnfill(20, 's');
    g_autofree char *tab = g_strdup_printf("PUB %.*s\t%s 1\r\nx\r\nPING\r\n", (int)k, subj, subj + k);
    g_autofree char *cr = g_strdup_printf("PUB %.*s\r%s 1\r\nx\r\nPING\r\n", (int)k, subj, subj + k);
    g_autofree char *lf = g_strdup_printf("PUB %.*s 1\n%s\r\nPING\r\n", (int)k, subj, "x");
    g_free(check_splits(NULL, tab, strlen(tab)));
    g_free(check_splits(NULL, cr, strlen(cr)));
    g_free(check_splits(NULL, lf, strlen(lf)));
  }
  /* trailing blanks, a CR not before the LF, too many or too few arguments, bad sizes */
  expect(NULL, "PUB foo r 2 \t \r\nhi\r\n", "PUBARGS [foo][r] -1 2\nMSG [foo][r] -1 2 [hi]\n=> OK\n");
  expect(NULL, "PUB foo 2\r \nhi\r\n", "=> PARSE\n");
  expect(NULL, "PUB a b c 1\r\nx\r\n", "=> PARSE\n");
  expect(NULL, "PUB a b c d e f 1\r\nx\r\n", "=> PARSE\n");
  expect(NULL, "PUB a\r\n", "=> PARSE\n");
  expect(NULL, "PUB a 1234567890\r\n", "=> PARSE\n");
  expect(NULL, "PUB a 1x\r\n", "=> PARSE\n");
  /* the control-line limit at limit-1, limit and limit+1 (argument bytes) */
  Setup s = {.mcl = 16};
  expect(&s, "PUB abcdefghijklm 1\r\nx\r\n",
         "PUBARGS [abcdefghijklm][] -1 1\nMSG [abcdefghijklm][] -1 1 [x]\n=> OK\n");
  expect(&s, "PUB abcdefghijklmn 1\r\nx\r\n",
         "PUBARGS [abcdefghijklmn][] -1 1\nMSG [abcdefghijklmn][] -1 1 [x]\n=> OK\n");
  expect(&s, "PUB abcdefghijklmno 1\r\nx\r\n", "=> MAX_CONTROL_LINE\n");
  /* payload CRLF checks after a single-pass line */
  expect(NULL, "PUB foo 2\r\nhix\n", "PUBARGS [foo][] -1 2\n=> UNKNOWN_PROTOCOL\n");
  expect(NULL, "PUB foo 2\r\nhi\rx", "PUBARGS [foo][] -1 2\n=> UNKNOWN_PROTOCOL\n");
}

static void test_embedded_nul(void) {
  /* bytes are bytes: NUL in a subject or payload is passed through */
  static const char in[] = "PUB a\0b 3\r\nx\0y\r\n";
  g_autofree char *log = check_splits(NULL, in, sizeof in - 1);
  g_assert_cmpstr(log, ==, "PUBARGS [a\\x00b][] -1 3\nMSG [a\\x00b][] -1 3 [x\\x00y]\n=> OK\n");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/parser/ops", test_ops);
  g_test_add_func("/parser/forms", test_forms);
  g_test_add_func("/parser/errors", test_errors);
  g_test_add_func("/parser/pub-single-pass", test_pub_single_pass);
  g_test_add_func("/parser/error-detail", test_error_detail);
  g_test_add_func("/parser/max-control-line", test_max_control_line);
  g_test_add_func("/parser/max-payload", test_max_payload);
  g_test_add_func("/parser/connect-first", test_connect_first);
  g_test_add_func("/parser/callback-error", test_callback_error);
  g_test_add_func("/parser/pause", test_pause);
  g_test_add_func("/parser/callback-error-pub", test_callback_error_pub);
  g_test_add_func("/parser/odd-limits", test_odd_limits);
  g_test_add_func("/parser/many-messages", test_many_messages);
  g_test_add_func("/parser/buffer-reuse", test_buffer_reuse);
  g_test_add_func("/parser/large-payload", test_large_payload);
  g_test_add_func("/parser/split-invariance", test_split_invariance);
  g_test_add_func("/parser/embedded-nul", test_embedded_nul);
  return g_test_run();
}
