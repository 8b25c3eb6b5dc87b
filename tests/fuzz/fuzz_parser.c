/* fuzz_parser.c — libFuzzer target for parser.c.
 *
 * The first byte picks parser settings; the rest is a client byte stream.
 * It is parsed whole and again in pseudo-random chunks (seeded from the
 * input), each chunk in its own exact-size heap copy so ASan sees any read
 * outside it or any use of a chunk after it was handed back.  Checks:
 * borrowed pointers lie in the current chunk or the parser's own buffers,
 * lengths are consistent, and both runs produce the same callback sequence
 * and result (parsing must not depend on read boundaries). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "parser.h"

typedef struct Fz {
  const Parser *p;
  const char *chunk;
  size_t chunk_len;
  uint64_t hash;     /* of the callback sequence */
  uint64_t events;
} Fz;

static void fz_mix(Fz *f, const void *data, size_t n) {
  const unsigned char *d = data;
  for (size_t i = 0; i < n; i++)
    f->hash = (f->hash ^ d[i]) * 1099511628211ull;
}

static void fz_check(Fz *f, const char *s, size_t n) {
  if (n == 0)
    return;
  const Parser *p = f->p;
  bool in_chunk = s >= f->chunk && s + n <= f->chunk + f->chunk_len;
  bool in_arg = p->arg_buf && s >= p->arg_buf && s + n <= p->arg_buf + p->arg_len;
  bool in_msg = p->msg_buf && s >= p->msg_buf && s + n <= p->msg_buf + p->msg_len;
  if (!in_chunk && !in_arg && !in_msg)
    abort();
  fz_mix(f, s, n);  /* touches every byte */
  fz_mix(f, &n, sizeof n);
}

static void fz_tag(Fz *f, char tag) {
  f->events++;
  fz_mix(f, &tag, 1);
}

static NatsError fz_pub_args(void *ctx, const ParserPub *pub) {
  Fz *f = ctx;
  fz_tag(f, 'A');
  if (pub->subject_len == 0 || pub->total_len < 0 || pub->hdr_len < -1 || pub->hdr_len > pub->total_len)
    abort();
  if (f->p->max_payload >= 0 && pub->total_len > f->p->max_payload)
    abort();
  fz_check(f, pub->subject, pub->subject_len);
  fz_check(f, pub->reply, pub->reply_len);
  fz_mix(f, &pub->hdr_len, sizeof pub->hdr_len);
  fz_mix(f, &pub->total_len, sizeof pub->total_len);
  return NATS_OK;
}

static NatsError fz_msg(void *ctx, const ParserPub *pub, const char *payload) {
  Fz *f = ctx;
  fz_tag(f, 'M');
  if (pub->total_len < 0 || !payload)
    abort();
  fz_check(f, pub->subject, pub->subject_len);
  fz_check(f, pub->reply, pub->reply_len);
  fz_check(f, payload, (size_t)pub->total_len);
  return NATS_OK;
}

static NatsError fz_sub(void *ctx, const char *s, size_t sn, const char *q, size_t qn, const char *sid, size_t sidn) {
  Fz *f = ctx;
  fz_tag(f, 'S');
  if (sn == 0 || sidn == 0)
    abort();
  fz_check(f, s, sn);
  fz_check(f, q, qn);
  fz_check(f, sid, sidn);
  return NATS_OK;
}

static NatsError fz_unsub(void *ctx, const char *sid, size_t sidn, int64_t max) {
  Fz *f = ctx;
  fz_tag(f, 'U');
  if (sidn == 0 || max < 0)
    abort();
  fz_check(f, sid, sidn);
  fz_mix(f, &max, sizeof max);
  return NATS_OK;
}

static NatsError fz_text(Fz *f, char tag, const char *s, size_t n) {
  fz_tag(f, tag);
  if (n == 0 || (int64_t)n > f->p->max_control_line)
    abort();
  fz_check(f, s, n);
  return NATS_OK;
}

static NatsError fz_connect(void *ctx, const char *s, size_t n) {
  Fz *f = ctx;
  fz_text(f, 'C', s, n);
  /* pause now and then, as client.c does while credentials are checked */
  if (n % 5 == 1)
    ((Parser *)f->p)->pause = true;
  /* let some CONNECTs fail so the error path after a callback is exercised */
  return (n % 7 == 3) ? NATS_ERR_CONNECT_PARSE : NATS_OK;
}

static NatsError fz_info(void *ctx, const char *s, size_t n) { return fz_text(ctx, 'I', s, n); }
static NatsError fz_err(void *ctx, const char *s, size_t n) {
  fz_text(ctx, 'E', s, n);
  return NATS_ERR_CLIENT_SENT_ERR;
}
static NatsError fz_ping(void *ctx) { fz_tag(ctx, 'P'); return NATS_OK; }
static NatsError fz_pong(void *ctx) { fz_tag(ctx, 'O'); return NATS_OK; }
static NatsError fz_ok(void *ctx) { fz_tag(ctx, 'K'); return NATS_OK; }
static NatsError fz_before(void *ctx) { fz_tag(ctx, 'B'); return NATS_OK; }

static const ParserCallbacks fz_cb = {
  .on_pub_args = fz_pub_args, .on_msg = fz_msg, .on_sub = fz_sub, .on_unsub = fz_unsub,
  .on_connect = fz_connect, .on_info = fz_info, .on_ping = fz_ping, .on_pong = fz_pong,
  .on_ok = fz_ok, .on_err = fz_err,
};

static void fz_setup(Parser *p, ParserCallbacks *cb, unsigned char cfg) {
  parser_init(p);
  *cb = fz_cb;
  static const int64_t mcls[4] = {4096, 16, 1, 200};
  static const int64_t mps[4] = {1024 * 1024, 8, -1, 0};
  p->max_control_line = mcls[cfg & 3];
  p->max_payload = mps[(cfg >> 2) & 3];
  p->headers = (cfg & 0x10) != 0;
  p->connect_required_first = (cfg & 0x20) != 0;
  if (cfg & 0x40)
    cb->on_op_before_connect = fz_before;
}

static uint64_t fz_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Feeds data in chunks; max_chunk 0 means all at once.  Returns the result
 * and fills *hash. */
static NatsError fz_run(unsigned char cfg, const char *data, size_t len, uint64_t seed, size_t max_chunk,
                        uint64_t *hash, uint64_t *events) {
  Parser p;
  ParserCallbacks cb;
  fz_setup(&p, &cb, cfg);
  Fz f = {.p = &p, .hash = 14695981039346656037ull};
  NatsError e = NATS_OK;
  size_t off = 0;
  uint64_t rs = seed | 1;
  do {
    size_t n = len - off;
    if (max_chunk && n > 0) {
      size_t c = 1 + (size_t)(fz_rand(&rs) % max_chunk);
      if (c < n)
        n = c;
    }
    char *chunk = malloc(n ? n : 1);
    memcpy(chunk, data + off, n);
    f.chunk = chunk;
    f.chunk_len = n;
    e = parser_parse(&p, chunk, n, &cb, &f);
    size_t done = 0;
    while (e == NATS_OK && p.pause) {
      /* resume with what the paused parser handed back */
      if (p.consumed > f.chunk_len)
        abort();
      done += p.consumed;
      p.pause = false;
      f.chunk = chunk + done;
      f.chunk_len = n - done;
      e = parser_parse(&p, chunk + done, n - done, &cb, &f);
    }
    if (e == NATS_OK && p.consumed != f.chunk_len)
      abort();
    if (e != NATS_OK && p.err_arg && p.err_arg_len) {
      /* the error detail must be readable right after the call; it may
       * differ between runs, so it stays out of the hash */
      uint64_t saved = f.hash;
      fz_check(&f, p.err_arg, p.err_arg_len);
      f.hash = saved;
    }
    free(chunk);
    off += n;
  } while (e == NATS_OK && off < len);
  if (e != NATS_OK && parser_parse(&p, "PING\r\n", 6, &cb, &f) != e)
    abort();  /* dead parsers stay dead */
  /* bounded buffers: a split line is never kept beyond the limit */
  if (p.arg_len > (size_t)p.max_control_line + 1)
    abort();
  *hash = f.hash;
  *events = f.events;
  parser_clear(&p);
  return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  unsigned char cfg = data[0];
  const char *in = (const char *)data + 1;
  size_t len = size - 1;
  uint64_t h1, h2, n1, n2;
  NatsError e1 = fz_run(cfg, in, len, 0, 0, &h1, &n1);
  uint64_t seed = 0x9e3779b97f4a7c15ull ^ size;
  for (size_t i = 0; i < len && i < 16; i++)
    seed = seed * 31 + (unsigned char)in[i];
  size_t max_chunk = (cfg & 0x80) ? 3 : 64;
  NatsError e2 = fz_run(cfg, in, len, seed, max_chunk, &h2, &n2);
  if (e1 != e2 || n1 != n2)
    abort();
  if (h1 != h2)
    abort();
  return 0;
}
