/* parser.c — the NATS client-protocol state machine.
 *
 * Owns nothing but its two scratch buffers.  Runs on whichever thread owns
 * the connection (the protocol loop today); called by client.c once per read
 * with the bytes just read, and by the fuzz/unit tests.  No I/O, no logging.
 *
 * Design: the op name is matched one byte at a time (ops are short), but
 * arguments and payloads are found with memchr/length arithmetic and handed
 * to the callbacks as pointers into the caller's buffer.  Only what is still
 * incomplete when a buffer ends is copied: an unfinished control line into
 * arg_buf (bounded by max_control_line, checked before copying), an
 * unfinished payload into msg_buf (bounded by max_payload, checked before
 * the first payload byte).  A PUB whose payload is pending across calls has
 * its argument copied into arg_buf too, so the ParserPub pointers stay valid.
 * Checks and their order follow nats-server's parser.go and processPub /
 * processHeaderPub / parseSub / processUnsub; see parser.h for the contract. */
#include "parser.h"

#include <glib.h>
#include <string.h>

#include "const.h"

enum {
  PS_START,
  PS_OPNAME,     /* matching the op name, p->kw_pos bytes of it so far */
  PS_NEED_BLANK, /* op name done; a space or tab must follow */
  PS_BLANKS,     /* skipping blanks; the first other byte starts the argument */
  PS_ARG,        /* collecting the argument up to LF */
  PS_EOL,        /* PING/PONG/+OK: ignore everything up to LF */
  PS_PAYLOAD,
  PS_END_R,
  PS_END_N,
};

enum {
  OP_NONE, OP_PUB, OP_HPUB, OP_HMSG, OP_SUB, OP_UNSUB, OP_PING, OP_PONG,
  OP_CONNECT, OP_INFO, OP_OK, OP_ERR,
};

static const char *const op_names[] = {
  [OP_NONE] = "", [OP_PUB] = "PUB", [OP_HPUB] = "HPUB", [OP_HMSG] = "HMSG",
  [OP_SUB] = "SUB", [OP_UNSUB] = "UNSUB", [OP_PING] = "PING", [OP_PONG] = "PONG",
  [OP_CONNECT] = "CONNECT", [OP_INFO] = "INFO", [OP_OK] = "+OK", [OP_ERR] = "-ERR",
};

typedef struct Slice {
  const char *s;
  size_t n;
} Slice;

/* More than this many arguments is an error for every op; storing one extra
 * is enough to tell "too many". */
#define PARSER_MAX_SPLIT 5

void parser_init(Parser *p) {
  memset(p, 0, sizeof *p);
  p->max_control_line = MAX_CONTROL_LINE_SIZE;
  p->max_payload = MAX_PAYLOAD_SIZE;
  p->state = PS_START;
}

void parser_clear(Parser *p) {
  if (!p)
    return;
  g_clear_pointer(&p->arg_buf, g_free);
  g_clear_pointer(&p->msg_buf, g_free);
  p->arg_len = p->arg_cap = 0;
  p->msg_len = p->msg_cap = 0;
}

static inline unsigned char ascii_upper(unsigned char c) {
  return (c >= 'a' && c <= 'z') ? (unsigned char)(c - ('a' - 'A')) : c;
}

static inline bool is_blank(unsigned char c) {
  return c == ' ' || c == '\t';
}

static NatsError parser_fail(Parser *p, NatsError e, const char *what, const char *arg, size_t arg_len) {
  p->dead = e;
  p->err_what = what;
  p->err_arg = arg;
  p->err_arg_len = arg_len;
  return e;
}

static NatsError parser_unknown(Parser *p, const char *buf, size_t len, size_t i) {
  size_t n = len - i < PROTO_SNIPPET_SIZE ? len - i : PROTO_SNIPPET_SIZE;
  return parser_fail(p, NATS_ERR_UNKNOWN_PROTOCOL, "parser ERROR", buf + i, n);
}

/* Grows *bufp to hold at least `need` bytes, doubling, never past `limit`
 * (need <= limit always). */
static void parser_reserve(char **bufp, size_t *capp, size_t need, size_t limit) {
  if (*capp >= need)
    return;
  size_t cap = *capp ? *capp : 256;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  if (cap > limit)
    cap = limit;
  *bufp = g_realloc(*bufp, cap);
  *capp = cap;
}

static void parser_arg_append(Parser *p, const char *s, size_t n) {
  if (n == 0)
    return;
  parser_reserve(&p->arg_buf, &p->arg_cap, p->arg_len + n, SIZE_MAX);
  memcpy(p->arg_buf + p->arg_len, s, n);
  p->arg_len += n;
}

/* nats-server's parseSize: 1 to 9 decimal digits, else -1. */
static int64_t parser_parse_size(const char *s, size_t n) {
  if (n == 0 || n > MAX_PARSE_SIZE_LEN)
    return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* Byte classes for argument splitting: 1 = space/tab, 2 = CR/LF. */
static const unsigned char blank_class[256] = {
  [' '] = 1, ['\t'] = 1, ['\r'] = 2, ['\n'] = 2,
};

/* Splits on blanks (PUB/HPUB: space and tab; SUB/UNSUB also CR and LF, as
 * nats-server's splitArg does).  Returns the number of arguments, which may
 * exceed PARSER_MAX_SPLIT; only the first PARSER_MAX_SPLIT are stored. */
static int parser_split(const char *arg, size_t len, bool crlf_blank, Slice out[PARSER_MAX_SPLIT]) {
  const unsigned char *a = (const unsigned char *)arg;
  unsigned char mask = crlf_blank ? 3 : 1;
  int n = 0;
  size_t i = 0;
  for (;;) {
    while (i < len && (blank_class[a[i]] & mask))
      i++;
    if (i >= len)
      break;
    size_t start = i;
    while (i < len && !(blank_class[a[i]] & mask))
      i++;
    if (n < PARSER_MAX_SPLIT)
      out[n] = (Slice){arg + start, i - start};
    n++;
  }
  return n;
}

static NatsError parser_check_payload(Parser *p, const char *arg, size_t alen) {
  /* int64 compare: a 9-digit size cannot overflow, and a limit above int32 works */
  if (p->max_payload >= 0 && p->pa.total_len > p->max_payload)
    return parser_fail(p, NATS_ERR_MAX_PAYLOAD, "maximum payload exceeded", arg, alen);
  return NATS_OK;
}

/* PUB's checks on its n split arguments a[] (only the first
 * PARSER_MAX_SPLIT stored) of the control line arg/alen. */
static NatsError parser_pub_args(Parser *p, const char *arg, size_t alen, const Slice *a, int n) {
  ParserPub *pa = &p->pa;
  Slice size;
  if (n == 2) {
    *pa = (ParserPub){a[0].s, a[0].n, NULL, 0, -1, 0, NULL, 0, NULL, 0};
    size = a[1];
  } else if (n == 3) {
    *pa = (ParserPub){a[0].s, a[0].n, a[1].s, a[1].n, -1, 0, NULL, 0, NULL, 0};
    size = a[2];
  } else {
    return parser_fail(p, NATS_ERR_PARSE, "processPub Parse Error", arg, alen);
  }
  pa->total_len = parser_parse_size(size.s, size.n);
  pa->size_text = size.s;
  pa->size_text_len = size.n;
  if (pa->total_len < 0)
    return parser_fail(p, NATS_ERR_PARSE, "processPub Bad or Missing Size", arg, alen);
  return parser_check_payload(p, arg, alen);
}

static NatsError parser_hpub_args(Parser *p, const char *arg, size_t alen, const Slice *a, int n) {
  /* nats-server looks at header support before the arguments */
  if (!p->headers)
    return parser_fail(p, NATS_ERR_HEADERS_NOT_SUPPORTED, "message headers not supported", arg, alen);
  ParserPub *pa = &p->pa;
  Slice hdr, size;
  if (n == 3) {
    *pa = (ParserPub){a[0].s, a[0].n, NULL, 0, 0, 0, NULL, 0, NULL, 0};
    hdr = a[1];
    size = a[2];
  } else if (n == 4) {
    *pa = (ParserPub){a[0].s, a[0].n, a[1].s, a[1].n, 0, 0, NULL, 0, NULL, 0};
    hdr = a[2];
    size = a[3];
  } else {
    return parser_fail(p, NATS_ERR_PARSE, "processHeaderPub Parse Error", arg, alen);
  }
  pa->hdr_len = parser_parse_size(hdr.s, hdr.n);
  pa->total_len = parser_parse_size(size.s, size.n);
  pa->hdr_text = hdr.s;
  pa->hdr_text_len = hdr.n;
  pa->size_text = size.s;
  pa->size_text_len = size.n;
  if (pa->hdr_len < 0)
    return parser_fail(p, NATS_ERR_PARSE, "processHeaderPub Bad or Missing Header Size", arg, alen);
  if (pa->total_len < 0)
    return parser_fail(p, NATS_ERR_PARSE, "processHeaderPub Bad or Missing Total Size", arg, alen);
  if (pa->hdr_len > pa->total_len)
    return parser_fail(p, NATS_ERR_PARSE, "processHeaderPub Header Size larger then TotalSize", arg, alen);
  return parser_check_payload(p, arg, alen);
}

static NatsError parser_cb_fail(Parser *p, NatsError e) {
  return parser_fail(p, e, "callback", NULL, 0);
}

/* A complete PUB/HPUB control line, already split into a[0..n). */
static NatsError parser_pub_line(Parser *p, const char *arg, size_t alen, bool in_arg_buf, const Slice *a, int n,
                                 const ParserCallbacks *cb, void *ctx) {
  NatsError e = p->op == OP_PUB ? parser_pub_args(p, arg, alen, a, n) : parser_hpub_args(p, arg, alen, a, n);
  if (e)
    return e;
  p->pub_arg = arg;
  p->pub_arg_len = alen;
  p->pub_in_arg_buf = in_arg_buf;
  if (cb->on_pub_args && (e = cb->on_pub_args(ctx, &p->pa)))
    return parser_cb_fail(p, e);
  p->msg_split = false;
  p->msg_len = 0;
  p->state = PS_PAYLOAD;
  return NATS_OK;
}

/* Byte classes for the single-pass PUB/HPUB scan. */
enum { PC_TEXT, PC_BLANK, PC_CR, PC_LF };
static const unsigned char pub_class[256] = {
  [' '] = PC_BLANK, ['\t'] = PC_BLANK, ['\r'] = PC_CR, ['\n'] = PC_LF,
};

/* Index of the first byte at or after i that is a blank, CR or LF (len if
 * none).  Eight bytes at a time: any byte below 0x21 is a candidate (the
 * classic "has a byte less than n" word trick, exact for the lowest such
 * byte), checked against the table; other control bytes are argument text
 * and the scan goes on after them. */
static inline size_t parser_scan_text(const unsigned char *b, size_t i, size_t len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while (i + 8 <= len) {
    uint64_t v;
    memcpy(&v, b + i, sizeof v);
    uint64_t m = (v - ones * 0x21) & ~v & highs;
    if (!m) {
      i += 8;
      continue;
    }
    size_t j = i + ((size_t)__builtin_ctzll(m) >> 3);
    if (pub_class[b[j]] != PC_TEXT)
      return j;
    i = j + 1;
  }
#endif
  while (i < len && pub_class[b[i]] == PC_TEXT)
    i++;
  return i;
}

/* The hot path: one pass over a PUB/HPUB control line whose argument starts
 * at buf[as] (a non-blank byte), splitting the arguments while it looks for
 * the line end.  It takes only the common form: the whole line is in buf,
 * there is no CR except right before the LF, and the line is within
 * max_control_line.  For anything else it returns false having changed
 * nothing, and the general path (memchr, the CR drop rule, parser_split)
 * handles the line — so every result and error text is the same either way
 * (the arguments found here are exactly parser_split's on the same bytes).
 * On true, *next is the index after the LF and *err the line's outcome. */
static bool parser_pub_fast(Parser *p, const char *buf, size_t len, size_t as, size_t *next, NatsError *err,
                            const ParserCallbacks *cb, void *ctx) {
  const unsigned char *b = (const unsigned char *)buf;
  Slice a[PARSER_MAX_SPLIT];
  int n = 0;
  size_t i = as;
  if (pub_class[b[as]] != PC_TEXT)
    return false; /* a CR or LF first is argument text for nats-server */
  for (;;) {
    size_t start = i;
    i = parser_scan_text(b, i, len);
    if (n < PARSER_MAX_SPLIT)
      a[n] = (Slice){buf + start, i - start};
    n++;
    while (i < len && pub_class[b[i]] == PC_BLANK)
      i++;
    if (i >= len)
      return false;
    if (pub_class[b[i]] != PC_TEXT)
      break;
  }
  size_t alen = i - as; /* trailing blanks included, as in the general path */
  if (b[i] == '\r') {
    if (i + 1 >= len || b[i + 1] != '\n')
      return false;
    i++;
  }
  if ((int64_t)alen > p->max_control_line)
    return false;
  *next = i + 1;
  *err = parser_pub_line(p, buf + as, alen, false, a, n, cb, ctx);
  return true;
}

/* A complete control line: `arg` (alen bytes, CR already dropped) is in the
 * caller's buffer, or in arg_buf when in_arg_buf. */
static NatsError parser_dispatch(Parser *p, const char *arg, size_t alen, bool in_arg_buf,
                                 const ParserCallbacks *cb, void *ctx) {
  Slice a[PARSER_MAX_SPLIT];
  NatsError e = NATS_OK;
  int n;

  switch (p->op) {
  case OP_PUB:
  case OP_HPUB:
    n = parser_split(arg, alen, false, a);
    return parser_pub_line(p, arg, alen, in_arg_buf, a, n, cb, ctx);

  case OP_HMSG:
    /* nats-server parses a client's HMSG line with nobody to process it, then
     * reads a payload of its (reset) size 0 and publishes to no subject */
    p->pa = (ParserPub){.subject = "", .hdr_len = 0};
    p->pub_arg = NULL;
    p->pub_arg_len = 0;
    p->pub_in_arg_buf = true; /* nothing to rebase */
    p->msg_split = false;
    p->msg_len = 0;
    p->state = PS_PAYLOAD;
    return NATS_OK;

  case OP_SUB:
    n = parser_split(arg, alen, true, a);
    if (n == 2) {
      if (cb->on_sub)
        e = cb->on_sub(ctx, a[0].s, a[0].n, NULL, 0, a[1].s, a[1].n);
    } else if (n == 3) {
      if (cb->on_sub)
        e = cb->on_sub(ctx, a[0].s, a[0].n, a[1].s, a[1].n, a[2].s, a[2].n);
    } else {
      return parser_fail(p, NATS_ERR_PARSE, "processSub Parse Error", arg, alen);
    }
    break;

  case OP_UNSUB: {
    n = parser_split(arg, alen, true, a);
    if (n != 1 && n != 2)
      return parser_fail(p, NATS_ERR_PARSE, "processUnsub Parse Error", arg, alen);
    int64_t max = n == 2 ? parser_parse_size(a[1].s, a[1].n) : 0;
    if (cb->on_unsub)
      e = cb->on_unsub(ctx, a[0].s, a[0].n, max > 0 ? max : 0);
    break;
  }

  case OP_CONNECT:
    if (cb->on_connect)
      e = cb->on_connect(ctx, arg, alen);
    if (e == NATS_OK)
      p->connect_required_first = false;
    break;

  case OP_INFO:
    if (cb->on_info)
      e = cb->on_info(ctx, arg, alen);
    break;

  case OP_ERR:
    if (cb->on_err)
      e = cb->on_err(ctx, arg, alen);
    break;

  default:
    g_assert_not_reached();
  }
  if (e)
    return parser_cb_fail(p, e);
  p->state = PS_START;
  return NATS_OK;
}

/* The pending PUB's argument lives in the caller's buffer, which goes away
 * when parser_parse returns: move it into arg_buf and repoint pa. */
static void parser_rebase_pub(Parser *p) {
  if (p->pub_in_arg_buf)
    return;
  p->arg_len = 0;
  parser_arg_append(p, p->pub_arg, p->pub_arg_len);
  const char *old = p->pub_arg;
  p->pa.subject = p->arg_buf + (p->pa.subject - old);
  if (p->pa.reply)
    p->pa.reply = p->arg_buf + (p->pa.reply - old);
  if (p->pa.hdr_text)
    p->pa.hdr_text = p->arg_buf + (p->pa.hdr_text - old);
  if (p->pa.size_text)
    p->pa.size_text = p->arg_buf + (p->pa.size_text - old);
  p->pub_arg = p->arg_buf;
  p->pub_in_arg_buf = true;
}

static void parser_msg_append(Parser *p, const char *s, size_t n) {
  if (n == 0)
    return;
  parser_reserve(&p->msg_buf, &p->msg_cap, p->msg_len + n, (size_t)p->pa.total_len);
  memcpy(p->msg_buf + p->msg_len, s, n);
  p->msg_len += n;
}

NatsError parser_parse(Parser *p, const char *buf, size_t len, const ParserCallbacks *cb, void *ctx) {
  if (p->dead)
    return p->dead;

  size_t i = 0;
  size_t as = 0;                /* start of the argument in buf, when !arg_split */
  const char *payload = NULL;   /* complete payload inside buf, when !msg_split */
  NatsError e;

  while (i < len) {
    unsigned char b = (unsigned char)buf[i];
    switch (p->state) {
    case PS_START:
      if (p->pause)
        goto out;
      if (p->connect_required_first && b != 'C' && b != 'c') {
        /* nats-server looks only at the first byte here: "CX" is an unknown op, not an auth error */
        e = cb->on_op_before_connect ? cb->on_op_before_connect(ctx) : NATS_ERR_AUTH_VIOLATION;
        if (e)
          return parser_fail(p, e, "authentication error", NULL, 0);
        p->connect_required_first = false;
      }
      /* "PUB " at once; the same steps as matching it byte by byte */
      if (ascii_upper(b) == 'P' && len - i >= 4 && ascii_upper((unsigned char)buf[i + 1]) == 'U' &&
          ascii_upper((unsigned char)buf[i + 2]) == 'B' && is_blank((unsigned char)buf[i + 3])) {
        p->op = OP_PUB;
        p->state = PS_BLANKS;
        i += 4;
        break;
      }
      switch (ascii_upper(b)) {
      case 'P': p->op = OP_PUB; break;
      case 'H': p->op = OP_HPUB; break;
      case 'S': p->op = OP_SUB; break;
      case 'U': p->op = OP_UNSUB; break;
      case 'C': p->op = OP_CONNECT; break;
      case 'I': p->op = OP_INFO; break;
      case '+': p->op = OP_OK; break;
      case '-': p->op = OP_ERR; break;
      default: return parser_unknown(p, buf, len, i);
      }
      p->kw_pos = 1;
      p->state = PS_OPNAME;
      i++;
      break;

    case PS_OPNAME: {
      unsigned char c = ascii_upper(b);
      if (c == (unsigned char)op_names[p->op][p->kw_pos]) {
        p->kw_pos++;
      } else if (p->kw_pos == 1 && p->op == OP_PUB && (c == 'I' || c == 'O')) {
        p->op = c == 'I' ? OP_PING : OP_PONG;
        p->kw_pos = 2;
      } else if (p->kw_pos == 1 && p->op == OP_HPUB && c == 'M') {
        p->op = OP_HMSG;
        p->kw_pos = 2;
      } else {
        return parser_unknown(p, buf, len, i);
      }
      i++;
      if (op_names[p->op][p->kw_pos] == '\0') {
        switch (p->op) {
        case OP_CONNECT:
        case OP_INFO: p->state = PS_BLANKS; break;   /* "CONNECT{...}" is accepted */
        case OP_PING:
        case OP_PONG:
        case OP_OK: p->state = PS_EOL; break;
        default: p->state = PS_NEED_BLANK; break;
        }
      }
      break;
    }

    case PS_NEED_BLANK:
      if (!is_blank(b))
        return parser_unknown(p, buf, len, i);
      p->state = PS_BLANKS;
      i++;
      break;

    case PS_BLANKS:
      if (is_blank(b)) {
        i++;
        break;
      }
      /* This byte starts the argument unexamined, as in nats-server: even a
       * CR or LF here is argument text, not a line end. */
      as = i;
      p->arg_split = false;
      p->arg_len = 0;
      p->drop = false;
      if (p->op == OP_PUB || p->op == OP_HPUB) {
        size_t next;
        if (parser_pub_fast(p, buf, len, as, &next, &e, cb, ctx)) {
          if (e)
            return e;
          i = next;
          payload = NULL;
          break;
        }
      }
      p->state = PS_ARG;
      i++;
      break;

    case PS_ARG: {
      const char *nl = memchr(buf + i, '\n', len - i);
      size_t end = nl ? (size_t)(nl - buf) : len;
      /* usually the CR sits right before the LF; look there before scanning */
      if (!p->drop && end > i && (buf[end - 1] == '\r' || memchr(buf + i, '\r', end - i)))
        p->drop = true;
      size_t raw = p->arg_split ? p->arg_len + (end - i) : end - as;
      size_t alen = raw - (p->drop ? 1 : 0);
      if ((int64_t)alen > p->max_control_line) {
        const char *s = p->arg_split ? p->arg_buf : buf + as;
        size_t have = p->arg_split ? p->arg_len : end - as;
        return parser_fail(p, NATS_ERR_MAX_CONTROL_LINE, "maximum control line exceeded", s,
                           have < MAX_CONTROL_LINE_SNIPPET_SIZE ? have : MAX_CONTROL_LINE_SNIPPET_SIZE);
      }
      if (!nl) {
        if (!p->arg_split) {
          p->arg_len = 0;
          parser_arg_append(p, buf + as, end - as);
          p->arg_split = true;
        } else {
          parser_arg_append(p, buf + i, end - i);
        }
        i = len;
        break;
      }
      const char *arg;
      bool in_arg_buf = p->arg_split;
      if (in_arg_buf) {
        parser_arg_append(p, buf + i, end - i);
        arg = p->arg_buf;
      } else {
        arg = buf + as;
      }
      p->arg_split = false;
      i = end + 1;
      if ((e = parser_dispatch(p, arg, alen, in_arg_buf, cb, ctx)))
        return e;
      payload = NULL;
      break;
    }

    case PS_EOL: {
      const char *nl = memchr(buf + i, '\n', len - i);
      if (!nl) {
        i = len;
        break;
      }
      i = (size_t)(nl - buf) + 1;
      p->state = PS_START;
      e = NATS_OK;
      if (p->op == OP_PING && cb->on_ping)
        e = cb->on_ping(ctx);
      else if (p->op == OP_PONG && cb->on_pong)
        e = cb->on_pong(ctx);
      else if (p->op == OP_OK && cb->on_ok)
        e = cb->on_ok(ctx);
      if (e)
        return parser_cb_fail(p, e);
      break;
    }

    case PS_PAYLOAD: {
      size_t total = (size_t)p->pa.total_len;
      size_t avail = len - i;
      if (!p->msg_split) {
        if (avail >= total + 2 && buf[i + total] == '\r' && buf[i + total + 1] == '\n') {
          /* payload and its CRLF all here: what PS_END_R and PS_END_N do */
          const char *pl = total == 0 ? "" : buf + i;
          i += total + 2;
          e = cb->on_msg ? cb->on_msg(ctx, &p->pa, pl) : NATS_OK;
          p->state = PS_START;
          p->msg_len = 0;
          p->pub_in_arg_buf = false;
          payload = NULL;
          if (e)
            return parser_cb_fail(p, e);
        } else if (avail >= total) {
          payload = buf + i;
          i += total;
          p->state = PS_END_R;
        } else {
          parser_msg_append(p, buf + i, avail);
          p->msg_split = true;
          i = len;
        }
      } else {
        size_t take = total - p->msg_len < avail ? total - p->msg_len : avail;
        parser_msg_append(p, buf + i, take);
        i += take;
        if (p->msg_len == total)
          p->state = PS_END_R;
      }
      break;
    }

    case PS_END_R:
      if (b != '\r')
        return parser_unknown(p, buf, len, i);
      p->state = PS_END_N;
      i++;
      break;

    case PS_END_N: {
      if (b != '\n')
        return parser_unknown(p, buf, len, i);
      i++;
      const char *pl = p->pa.total_len == 0 ? "" : p->msg_split ? p->msg_buf : payload;
      e = cb->on_msg ? cb->on_msg(ctx, &p->pa, pl) : NATS_OK;
      p->state = PS_START;
      p->msg_split = false;
      p->msg_len = 0;
      p->pub_in_arg_buf = false;
      payload = NULL;
      if (e)
        return parser_cb_fail(p, e);
      break;
    }

    default:
      g_assert_not_reached();
    }
  }

out:
  p->consumed = i;
  /* Keep whatever is unfinished; the caller's buffer is about to go. */
  switch (p->state) {
  case PS_ARG:
    if (!p->arg_split) {
      /* only the argument's first byte arrived (PS_ARG never ran for it) */
      size_t alen = len - as;
      if ((int64_t)alen > p->max_control_line)
        return parser_fail(p, NATS_ERR_MAX_CONTROL_LINE, "maximum control line exceeded",
                           buf + as, alen);
      p->arg_len = 0;
      parser_arg_append(p, buf + as, len - as);
      p->arg_split = true;
    }
    break;
  case PS_PAYLOAD:
    /* the control line ended exactly at the end of buf: no payload byte yet */
    parser_rebase_pub(p);
    if (!p->msg_split) {
      p->msg_len = 0;
      p->msg_split = true;
    }
    break;
  case PS_END_R:
  case PS_END_N:
    parser_rebase_pub(p);
    if (!p->msg_split) {
      /* the payload was complete in buf but its CRLF was not */
      p->msg_len = 0;
      parser_msg_append(p, payload, (size_t)p->pa.total_len);
      p->msg_split = true;
    }
    break;
  case PS_START:
    /* idle between messages: let go of buffers one large message grew */
    if (p->msg_cap > PARSER_MSG_BUF_KEEP) {
      g_clear_pointer(&p->msg_buf, g_free);
      p->msg_cap = 0;
    }
    if (p->arg_cap > PARSER_MSG_BUF_KEEP) {
      g_clear_pointer(&p->arg_buf, g_free);
      p->arg_cap = 0;
    }
    p->arg_len = 0;
    break;
  default:
    break;
  }
  return NATS_OK;
}
