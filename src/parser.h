/* parser.h — the NATS client-protocol state machine (nats-server parser.go).
 * No I/O, no logging, no allocation per message in steady state. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "errors.h"
#include "forward.h"

/* Arguments of one PUB/HPUB (or of a client's HMSG, see parser_parse).
 * All pointers borrowed: valid only during the callback. */
typedef struct ParserPub {
  const char *subject; size_t subject_len;
  const char *reply;   size_t reply_len;  /* reply_len == 0: no reply */
  int64_t hdr_len;                        /* -1 for PUB; header byte count for HPUB */
  int64_t total_len;                      /* payload bytes including headers */
  /* The size fields as the client wrote them: nats-server echoes them
   * verbatim in MSG/HMSG (so "PUB foo 05" is delivered as "MSG foo 1 05"). */
  const char *hdr_text;  size_t hdr_text_len;  /* HPUB only */
  const char *size_text; size_t size_text_len;
} ParserPub;

/* Every callback may be NULL (treated as returning NATS_OK).  A callback that
 * returns anything but NATS_OK stops the parse: parser_parse returns that
 * value and the parser is dead from then on (every later call returns it
 * again).  So an error after which nats-server keeps the connection open
 * (Invalid Subject, permissions, max subscriptions, Invalid Publish Subject)
 * must be sent by the callback itself, which then returns NATS_OK. */
typedef struct ParserCallbacks {
  /* A PUB/HPUB control line passed every check the parser makes (argument
   * count, sizes, header size <= total, max_payload); called before any
   * payload byte is consumed.  The client does pedantic subject checks here. */
  NatsError (*on_pub_args)(void *ctx, const ParserPub *pub);
  /* Payload complete and followed by CRLF: `payload` has pub->total_len bytes
   * (headers first for HPUB), contiguous, without the CRLF.  Borrowed: points
   * into the caller's buffer, or into the parser's message buffer when the
   * payload was split across parser_parse calls. */
  NatsError (*on_msg)(void *ctx, const ParserPub *pub, const char *payload);
  NatsError (*on_sub)(void *ctx, const char *subject, size_t subject_len,
                      const char *queue, size_t queue_len /* 0: none */,
                      const char *sid, size_t sid_len);
  /* max > 0: auto-unsubscribe after max messages in total.  max == 0:
   * unsubscribe now — nats-server does that for no max, 0, and a max that is
   * not a valid size ("UNSUB 1 abc" unsubscribes at once, no error). */
  NatsError (*on_unsub)(void *ctx, const char *sid, size_t sid_len, int64_t max);
  /* Raw text after "CONNECT" and blanks, without the line end; not validated. */
  NatsError (*on_connect)(void *ctx, const char *json, size_t len);
  NatsError (*on_info)(void *ctx, const char *json, size_t len);
  NatsError (*on_ping)(void *ctx);
  NatsError (*on_pong)(void *ctx);
  NatsError (*on_ok)(void *ctx);
  /* The client sent -ERR: nats-server closes (return NATS_ERR_CLIENT_SENT_ERR). */
  NatsError (*on_err)(void *ctx, const char *msg, size_t len);
  /* connect_required_first is set and an op other than CONNECT starts.
   * NULL or non-OK: the parse fails with that error (NULL: NATS_ERR_AUTH_VIOLATION).
   * NATS_OK (nats-server's no_auth_user path: the client registered the
   * default user): the parser clears connect_required_first and goes on. */
  NatsError (*on_op_before_connect)(void *ctx);
} ParserCallbacks;

struct Parser {
  /* Settings: the client sets these after parser_init and may change them between calls. */
  int64_t max_control_line;    /* default MAX_CONTROL_LINE_SIZE; counts argument bytes after the op name */
  int64_t max_payload;         /* default MAX_PAYLOAD_SIZE; < 0: no limit (Go's jwt.NoLimit) */
  bool connect_required_first; /* first op must be CONNECT (auth required); cleared
                                  by the parser once on_connect returns NATS_OK */
  bool headers;                /* HPUB allowed: set when CONNECT had "headers":true
                                  (Go's c.headers); default false as in nats-server */

  /* Pausing (e.g. while a CONNECT's credentials are checked off-thread): a
   * callback sets pause = true; parser_parse finishes the current op and
   * returns NATS_OK with consumed < len.  The caller keeps buf[consumed..len)
   * and feeds it again after clearing pause.  After any other NATS_OK return
   * consumed == len; after an error it is meaningless. */
  bool pause;
  size_t consumed;

  /* Last error detail for the caller's log line (nats-server logs these):
   * err_what is a static string such as "processPub Parse Error"; err_arg
   * (borrowed, valid until the next parser call) is the offending argument
   * or, for unknown ops, a snippet of up to PROTO_SNIPPET_SIZE bytes.
   * After NATS_ERR_MAX_PAYLOAD, pa.total_len holds the refused size (nats-server
   * logs "maximum payload exceeded: <size> vs <max>"). */
  const char *err_what;
  const char *err_arg;
  size_t err_arg_len;

  /* Private state below: touched only by parser.c. */
  int state;
  int op;
  int kw_pos;                  /* bytes of the op name matched so far */
  bool drop;                   /* a CR was seen in the current argument */
  bool arg_split;              /* current argument continues from an earlier call, in arg_buf */
  bool pub_in_arg_buf;         /* pa's pointers point into arg_buf */
  bool msg_split;              /* current payload is being collected in msg_buf */
  NatsError dead;              /* != NATS_OK: an error stopped the parser */
  ParserPub pa;                /* current PUB/HPUB while its payload is read */
  const char *pub_arg;         /* borrowed: the argument pa's pointers point into */
  size_t pub_arg_len;
  char *arg_buf;               /* owned: split control line, at most max_control_line + 1 bytes */
  size_t arg_len, arg_cap;
  char *msg_buf;               /* owned: split payload; dropped when idle if > PARSER_MSG_BUF_KEEP */
  size_t msg_len, msg_cap;
};

/* Buffers larger than this are freed when the parser is between messages
 * at the end of a parser_parse call, so one big message does not pin memory. */
#define PARSER_MSG_BUF_KEEP (64 * 1024)

void parser_init(Parser *p);
/* Frees owned buffers; the Parser itself is embedded in its owner. Accepts NULL. */
void parser_clear(Parser *p);

/* Parses all of buf, calling callbacks in protocol order.  Returns NATS_OK or
 * the first error (the parser's own or a callback's); after an error the
 * caller sends errors_text() if non-NULL and closes when errors_closes().
 *
 * Matches nats-server 2.9.10 for a client connection: op names in any case;
 * blanks are spaces and tabs; lines end in LF with an optional CR; PING, PONG
 * and +OK ignore anything up to the LF; CONNECT and INFO need no blank after
 * the op name; a payload must be followed by exactly CRLF; an HMSG from a
 * client is taken as a publish of 0 bytes to the empty subject with
 * hdr_len 0 (on_msg only, no on_pub_args), as nats-server does.
 *
 * One deliberate difference: nats-server drops the byte before the LF from an
 * argument if a CR appeared anywhere in it, but when the line was split
 * across reads it strips every CR instead, so its result depends on read
 * boundaries.  cnatsd always does the former (Go's one-read behaviour), so
 * results never depend on how input was split.  Valid input is unaffected. */
NatsError parser_parse(Parser *p, const char *buf, size_t len, const ParserCallbacks *cb, void *ctx);
