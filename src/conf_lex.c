/* conf_lex.c — tokenizer for the NATS configuration format.
 *
 * Owns: the lexer state (position, line accounting, a stack of return states)
 * and the tokens it hands out. Pure: no I/O, no logging, no globals; runs on
 * whatever thread calls it (config load happens before the loop starts and on
 * SIGHUP reload). Called only by conf_parse.c and the tests.
 *
 * Design: nats-server's format is defined by its hand-written state machine,
 * quirks included (a number directly before ']' is an error, a lone ')' line
 * ends a block string, NUL bytes read as end of input, line 1 columns are
 * 0-based and later ones 1-based). To accept and reject exactly the same
 * files, and to report the same line numbers and positions, this lexer keeps
 * the same observable model: it walks UTF-8 runes one at a time with the same
 * next/backup/peek accounting and moves through an equivalent set of states,
 * written here as one enum and a switch. Each step emits at most one token;
 * conf_lex_next() steps until one is available, so the parser pulls tokens
 * lazily and can stop the lexer (e.g. at the depth limit) before it runs
 * ahead. */

#include "conf_lex.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

typedef enum {
  ST_DONE,
  ST_TOP,
  ST_TOP_VALUE_END,
  ST_KEY_START,
  ST_DUB_QUOTED_KEY,
  ST_QUOTED_KEY,
  ST_INCLUDE_START,
  ST_INCLUDE_QUOTED,
  ST_INCLUDE_DUB_QUOTED,
  ST_INCLUDE_STRING,
  ST_INCLUDE,
  ST_KEY,
  ST_KEY_END,
  ST_VALUE,
  ST_ARRAY_VALUE,
  ST_ARRAY_VALUE_END,
  ST_ARRAY_END,
  ST_MAP_KEY_START,
  ST_MAP_QUOTED_KEY,
  ST_MAP_DUB_QUOTED_KEY,
  ST_MAP_KEY,
  ST_MAP_KEY_END,
  ST_MAP_VALUE,
  ST_MAP_VALUE_END,
  ST_MAP_END,
  ST_QUOTED_STRING,
  ST_DUB_QUOTED_STRING,
  ST_STRING,
  ST_BLOCK,
  ST_STRING_ESCAPE,
  ST_STRING_BINARY,
  ST_NUMBER_START,
  ST_NUMBER,
  ST_CONVENIENT_NUMBER,
  ST_DATE_AFTER_YEAR,
  ST_NEG_NUMBER_START,
  ST_NEG_NUMBER,
  ST_FLOAT_START,
  ST_FLOAT,
  ST_IP_ADDR,
  ST_COMMENT_START,
  ST_COMMENT,
} State;

#define LX_EOF 0 /* rune 0: both end of input and a NUL byte, as in nats-server */
#define RUNE_ERROR 0xFFFD
#define QUEUE_CAP 4

struct ConfLex {
  const char *input; /* borrowed */
  int64_t len;
  int64_t start, pos, width;
  int line;
  int64_t lstart;  /* offset of the '\n' that began the current line */
  int64_t ilstart; /* lstart as of the current token's start */
  State state;
  State string_state; /* where an escape returns to: ST_STRING or ST_DUB_QUOTED_STRING */
  State *stack;       /* owned */
  size_t stack_len, stack_cap;
  GString *parts; /* owned: decoded pieces of a string with escapes */
  size_t nparts;  /* pieces appended (an empty piece still counts) */
  ConfToken queue[QUEUE_CAP]; /* owned vals */
  size_t qhead, qlen;
  bool finished;
};

/* ---- character classes (Go's unicode package semantics) ---- */

static bool is_space(int32_t r) {
  if (r < 0x80)
    return r == ' ' || (r >= '\t' && r <= '\r');
  if (r == 0x85 || r == 0xA0)
    return true;
  if (r < 0x100)
    return false;
  GUnicodeType t = g_unichar_type((gunichar)r);
  return t == G_UNICODE_SPACE_SEPARATOR || t == G_UNICODE_LINE_SEPARATOR ||
         t == G_UNICODE_PARAGRAPH_SEPARATOR;
}

static bool is_digit(int32_t r) {
  if (r < 0x100)
    return r >= '0' && r <= '9';
  /* nats-server 2.9.10 is built with Unicode 13 tables; these decimal digit
   * blocks arrived in Unicode 14/15 and must stay non-digits here. */
  if ((r >= 0x16AC0 && r <= 0x16AC9) || (r >= 0x11F50 && r <= 0x11F59) ||
      (r >= 0x1E4F0 && r <= 0x1E4F9))
    return false;
  return g_unichar_type((gunichar)r) == G_UNICODE_DECIMAL_NUMBER;
}

static bool is_whitespace(int32_t r) { return r == '\t' || r == ' '; }
static bool is_nl(int32_t r) { return r == '\n' || r == '\r'; }
static bool is_key_sep(int32_t r) { return r == '=' || r == ':'; }
static bool is_number_suffix(int32_t r) {
  return r > 0 && r < 0x80 && strchr("kKmMgGtTpPeE", (int)r) != NULL;
}

/* Strict UTF-8 decode: invalid, overlong, surrogate or truncated input
 * yields U+FFFD with width 1 (Go's utf8.DecodeRuneInString). */
static int32_t utf8_decode(const unsigned char *s, int64_t n, int64_t *width) {
  unsigned char c = s[0];
  *width = 1;
  if (c < 0x80)
    return c;
  int need;
  int32_t r, min;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1; r = c & 0x1F; min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2; r = c & 0x0F; min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3; r = c & 0x07; min = 0x10000;
  } else {
    return RUNE_ERROR;
  }
  if (n < need + 1)
    return RUNE_ERROR;
  for (int i = 1; i <= need; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return RUNE_ERROR;
    r = (r << 6) | (s[i] & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    return RUNE_ERROR;
  *width = need + 1;
  return r;
}

/* ---- primitives ---- */

static int32_t lx_next(ConfLex *lx) {
  if (lx->pos >= lx->len) {
    lx->width = 0;
    return LX_EOF;
  }
  if (lx->input[lx->pos] == '\n') {
    lx->line++;
    lx->lstart = lx->pos;
  }
  int64_t w;
  int32_t r = utf8_decode((const unsigned char *)lx->input + lx->pos, lx->len - lx->pos, &w);
  lx->width = w;
  lx->pos += w;
  return r;
}

static void lx_backup(ConfLex *lx) {
  lx->pos -= lx->width;
  if (lx->pos >= 0 && lx->pos < lx->len && lx->input[lx->pos] == '\n')
    lx->line--;
}

static int32_t lx_peek(ConfLex *lx) {
  int32_t r = lx_next(lx);
  lx_backup(lx);
  return r;
}

static void lx_ignore(ConfLex *lx) {
  lx->start = lx->pos;
  lx->ilstart = lx->lstart;
}

static void lx_push(ConfLex *lx, State s) {
  if (lx->stack_len == lx->stack_cap) {
    lx->stack_cap = lx->stack_cap ? lx->stack_cap * 2 : 16;
    lx->stack = g_renew(State, lx->stack, lx->stack_cap);
  }
  lx->stack[lx->stack_len++] = s;
}

static void queue_token(ConfLex *lx, ConfTokType type, char *val, size_t val_len, int line,
                        int64_t pos) {
  /* Every state emits at most one token per step and the queue is drained
   * before the next step, so this cannot overflow. */
  g_assert(lx->qlen < QUEUE_CAP);
  ConfToken *t = &lx->queue[(lx->qhead + lx->qlen) % QUEUE_CAP];
  t->type = type;
  t->val = val;
  t->val_len = val_len;
  t->line = line;
  t->pos = pos;
  lx->qlen++;
}

static const char *span(ConfLex *lx, int64_t *n) {
  int64_t a = lx->start, b = lx->pos;
  if (a > b || a < 0) {
    *n = 0;
    return "";
  }
  *n = b - a;
  return lx->input + a;
}

/* Token value = pending escape pieces + the raw span; pieces are kept (as in
 * the reference) unless clear_parts. */
static void emit_common(ConfLex *lx, ConfTokType type, bool clear_parts) {
  int64_t n;
  const char *s = span(lx, &n);
  GString *v = g_string_sized_new(lx->parts->len + (size_t)n);
  g_string_append_len(v, lx->parts->str, (gssize)lx->parts->len);
  g_string_append_len(v, s, (gssize)n);
  if (clear_parts) {
    g_string_truncate(lx->parts, 0);
    lx->nparts = 0;
  }
  int64_t pos = lx->pos - lx->ilstart - (int64_t)v->len;
  size_t vlen = v->len;
  queue_token(lx, type, g_string_free(v, FALSE), vlen, lx->line, pos);
  lx->start = lx->pos;
  lx->ilstart = lx->lstart;
}

static void lx_emit(ConfLex *lx, ConfTokType type) { emit_common(lx, type, false); }

static void lx_emit_string(ConfLex *lx) {
  emit_common(lx, CONF_TOK_STRING, lx->nparts > 0);
}

static void add_current_part(ConfLex *lx, int64_t offset) {
  int64_t a = lx->start, b = lx->pos - offset;
  if (b > a)
    g_string_append_len(lx->parts, lx->input + a, (gssize)(b - a));
  lx->nparts++;
  lx->start = lx->pos;
}

static State add_part(ConfLex *lx, const char *s, size_t n) {
  g_string_append_len(lx->parts, s, (gssize)n);
  lx->nparts++;
  lx->start = lx->pos;
  return lx->string_state;
}

/* A rune as nats-server prints it in messages ('\n' spelled out). Rune 0 is
 * printed by Go as a raw NUL byte, which a C string cannot carry: omitted. */
static void append_rune(GString *s, int32_t r) {
  if (r == '\n')
    g_string_append(s, "\\n");
  else if (r != 0)
    g_string_append_unichar(s, (gunichar)r);
}

static State lx_error_str(ConfLex *lx, char *msg) {
  queue_token(lx, CONF_TOK_ERROR, msg, strlen(msg), lx->line, lx->pos - lx->lstart);
  return ST_DONE;
}

/* Message "<pre><rune><post>". */
static State lx_error_rune(ConfLex *lx, const char *pre, int32_t r, const char *post) {
  GString *s = g_string_new(pre);
  append_rune(s, r);
  g_string_append(s, post);
  return lx_error_str(lx, g_string_free(s, FALSE));
}

static State lx_error(ConfLex *lx, const char *msg) { return lx_error_str(lx, g_strdup(msg)); }

static State lx_pop(ConfLex *lx) {
  if (lx->stack_len == 0)
    return lx_error(lx, "BUG in lexer: no states to pop.");
  return lx->stack[--lx->stack_len];
}

/* ---- helpers with nats-server semantics ---- */

/* Lower-cases the raw span the way Go's strings.ToLower would for the few
 * words we compare against; only ASCII letters and U+0130 (which Go maps to
 * 'i') can lower-case into ASCII. Returns false if the span is not pure ASCII
 * after that mapping or longer than cap-1. */
static bool span_lower(ConfLex *lx, char *out, size_t cap) {
  int64_t n;
  const unsigned char *s = (const unsigned char *)span(lx, &n);
  size_t o = 0;
  for (int64_t i = 0; i < n;) {
    int64_t w;
    int32_t r = utf8_decode(s + i, n - i, &w);
    i += w;
    if (r == 0x130)
      r = 'i';
    if (r >= 0x80 || o + 1 >= cap)
      return false;
    out[o++] = (char)g_ascii_tolower((gchar)r);
  }
  out[o] = '\0';
  return true;
}

static State key_check_keyword(ConfLex *lx, State fall_through, State push) {
  char low[16];
  if (span_lower(lx, low, sizeof low) && strcmp(low, "include") == 0) {
    lx_ignore(lx);
    if (push != ST_DONE)
      lx_push(lx, push);
    return ST_INCLUDE_START;
  }
  lx_emit(lx, CONF_TOK_KEY);
  return fall_through;
}

static bool span_is_bool(ConfLex *lx) {
  char low[8];
  if (!span_lower(lx, low, sizeof low))
    return false;
  return !strcmp(low, "true") || !strcmp(low, "false") || !strcmp(low, "on") ||
         !strcmp(low, "off") || !strcmp(low, "yes") || !strcmp(low, "no");
}

static bool span_is_variable(ConfLex *lx) {
  if (lx->start >= lx->len)
    return false;
  if (lx->input[lx->start] == '$') {
    lx->start++;
    return true;
  }
  return false;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Terminators of a bare number (note: ']' is not one, as in nats-server). */
static bool ends_number(int32_t r) {
  return is_nl(r) || r == LX_EOF || r == '}' || r == ';' || r == ',' || is_whitespace(r) ||
         is_digit(r);
}

/* ---- the states ---- */

/* Steps the states share (nats-server repeats them in each state function). */

/* A rune the state drops (a blank, a separator): the next token starts after it. */
static State lx_skip(ConfLex *lx, State next) {
  lx_ignore(lx);
  return next;
}

/* Consumes the peeked rune and drops it (an opening quote, a blank). */
static State lx_drop_next(ConfLex *lx, State next) {
  lx_next(lx);
  lx_ignore(lx);
  return next;
}

/* Having read *r: '#' or "//" starts a comment that returns to `back` (true,
 * *next set).  A lone '/' becomes `lone_slash`, the rune each state treats it
 * as (a separator, a blank, end of input). */
static bool comment_start(ConfLex *lx, int32_t *r, State back, int32_t lone_slash, State *next) {
  if (*r == '/') {
    if (lx_peek(lx) != '/') {
      *r = lone_slash;
      return false;
    }
    lx_next(lx);
  } else if (*r != '#') {
    return false;
  }
  lx_push(lx, back);
  *next = ST_COMMENT_START;
  return true;
}

/* The closing rune of a quoted value was just read: emit the text before it
 * and drop the rune. */
static State emit_closed(ConfLex *lx, ConfTokType type, bool clear_parts) {
  lx_backup(lx);
  emit_common(lx, type, clear_parts);
  lx_next(lx);
  lx_ignore(lx);
  return lx_pop(lx);
}

/* A rune that ends a bare value was just read: emit the value without it. */
static State emit_before(ConfLex *lx, ConfTokType type) {
  lx_backup(lx);
  lx_emit(lx, type);
  return lx_pop(lx);
}

/* End of input inside a quoted value: an error, unless none of it was read. */
static State eof_in_quotes(ConfLex *lx) {
  if (lx->pos > lx->start)
    return lx_error(lx, "Unexpected EOF.");
  lx_emit(lx, CONF_TOK_EOF);
  return ST_DONE;
}

static State step(ConfLex *lx, State st) {
  int32_t r;
  State s;

  switch (st) {
  case ST_DONE:
    return ST_DONE;

  case ST_TOP:
    r = lx_next(lx);
    if (is_space(r) || r == '{')
      return lx_skip(lx, ST_TOP);
    if (comment_start(lx, &r, ST_TOP, LX_EOF, &s)) /* a lone '/' reads as end of input */
      return s;
    if (r == LX_EOF)
      return eof_in_quotes(lx);
    lx_backup(lx);
    lx_push(lx, ST_TOP_VALUE_END);
    return ST_KEY_START;

  case ST_TOP_VALUE_END:
    r = lx_next(lx);
    if (comment_start(lx, &r, ST_TOP, ' ', &s)) /* a lone '/' is skipped like a blank */
      return s;
    if (is_whitespace(r))
      return ST_TOP_VALUE_END;
    if (is_nl(r) || r == LX_EOF || r == ';' || r == ',' || r == '}')
      return lx_skip(lx, ST_TOP);
    return lx_error_rune(lx,
                         "Expected a top-level value to end with a new line, comment or EOF, "
                         "but got '",
                         r, "' instead.");

  case ST_KEY_START:
    r = lx_peek(lx);
    if (is_key_sep(r))
      return lx_error_rune(lx, "Unexpected key separator '", r, "'");
    if (is_space(r))
      return lx_drop_next(lx, ST_KEY_START);
    if (r == '"')
      return lx_drop_next(lx, ST_DUB_QUOTED_KEY);
    if (r == '\'')
      return lx_drop_next(lx, ST_QUOTED_KEY);
    lx_ignore(lx);
    lx_next(lx);
    return ST_KEY;

  case ST_DUB_QUOTED_KEY:
  case ST_QUOTED_KEY:
    r = lx_peek(lx);
    if (r == (st == ST_DUB_QUOTED_KEY ? '"' : '\'')) {
      lx_emit(lx, CONF_TOK_KEY);
      return lx_drop_next(lx, ST_KEY_END);
    }
    if (r == LX_EOF)
      return eof_in_quotes(lx);
    lx_next(lx);
    return st;

  case ST_INCLUDE_START:
    r = lx_next(lx);
    if (is_whitespace(r))
      return lx_skip(lx, ST_INCLUDE_START);
    lx_backup(lx);
    return ST_INCLUDE;

  case ST_INCLUDE_QUOTED:
  case ST_INCLUDE_DUB_QUOTED:
    r = lx_next(lx);
    if (r == (st == ST_INCLUDE_QUOTED ? '\'' : '"'))
      return emit_closed(lx, CONF_TOK_INCLUDE, false);
    if (r == LX_EOF)
      return lx_error(lx, st == ST_INCLUDE_QUOTED ? "Unexpected EOF in quoted include"
                                                  : "Unexpected EOF in double quoted include");
    return st;

  case ST_INCLUDE_STRING:
    r = lx_next(lx);
    if (is_nl(r) || r == LX_EOF || r == ';' || r == '}' || is_whitespace(r))
      return emit_before(lx, CONF_TOK_INCLUDE);
    if (r == '\'')
      return emit_closed(lx, CONF_TOK_INCLUDE, false);
    return ST_INCLUDE_STRING;

  case ST_INCLUDE:
    r = lx_next(lx);
    if (r == '\'')
      return lx_skip(lx, ST_INCLUDE_QUOTED);
    if (r == '"')
      return lx_skip(lx, ST_INCLUDE_DUB_QUOTED);
    if (r == '[')
      return lx_error(lx, "Expected include value but found start of an array");
    if (r == '{')
      return lx_error(lx, "Expected include value but found start of a map");
    if (r == '(')
      return lx_error(lx, "Expected include value but found start of a block");
    if (is_digit(r) || r == '-')
      return lx_error(lx, "Expected include value but found start of a number");
    if (r == '\\')
      return lx_error(lx, "Expected include value but found escape sequence");
    if (is_nl(r))
      return lx_error(lx, "Expected include value but found new line");
    lx_backup(lx);
    return ST_INCLUDE_STRING;

  case ST_KEY:
    r = lx_peek(lx);
    if (is_space(r))
      return key_check_keyword(lx, ST_KEY_END, ST_DONE);
    if (is_key_sep(r) || r == LX_EOF) {
      lx_emit(lx, CONF_TOK_KEY);
      return ST_KEY_END;
    }
    lx_next(lx);
    return ST_KEY;

  case ST_KEY_END:
  case ST_MAP_KEY_END: {
    /* blanks, then an optional '=' or ':' before the value */
    State value = st == ST_KEY_END ? ST_VALUE : ST_MAP_VALUE;
    r = lx_next(lx);
    if (is_space(r))
      return lx_skip(lx, st);
    if (is_key_sep(r))
      return lx_skip(lx, value);
    if (r == LX_EOF && st == ST_KEY_END) {
      lx_emit(lx, CONF_TOK_EOF);
      return ST_DONE;
    }
    lx_backup(lx);
    return value;
  }

  case ST_VALUE:
    r = lx_next(lx);
    if (is_whitespace(r))
      return lx_skip(lx, ST_VALUE);
    switch (r) {
    case '[':
      lx_ignore(lx);
      lx_emit(lx, CONF_TOK_ARRAY_START);
      return ST_ARRAY_VALUE;
    case '{':
      lx_ignore(lx);
      lx_emit(lx, CONF_TOK_MAP_START);
      return ST_MAP_KEY_START;
    case '\'':
      return lx_skip(lx, ST_QUOTED_STRING);
    case '"':
      lx->string_state = ST_DUB_QUOTED_STRING;
      return lx_skip(lx, ST_DUB_QUOTED_STRING);
    case '-':
      return ST_NEG_NUMBER_START;
    case '(':
      return lx_skip(lx, ST_BLOCK);
    default:
      break;
    }
    if (is_digit(r)) {
      lx_backup(lx);
      return ST_NUMBER_START;
    }
    if (r == '.')
      return lx_error(lx, "Floats must start with a digit");
    if (is_nl(r))
      return lx_error(lx, "Expected value but found new line");
    lx_backup(lx);
    lx->string_state = ST_STRING;
    return ST_STRING;

  case ST_ARRAY_VALUE:
    r = lx_next(lx);
    if (is_space(r))
      return lx_skip(lx, ST_ARRAY_VALUE);
    if (comment_start(lx, &r, ST_ARRAY_VALUE, ',', &s)) /* a lone '/' reports like a stray ',' */
      return s;
    if (r == ',')
      return lx_error(lx, "Unexpected array value terminator ','.");
    if (r == ']')
      return ST_ARRAY_END;
    lx_backup(lx);
    lx_push(lx, ST_ARRAY_VALUE_END);
    return ST_VALUE;

  case ST_ARRAY_VALUE_END:
  case ST_MAP_VALUE_END: {
    /* after a value in [ ] or { }: blanks, comments, a separator (a map also
     * takes ';'; a lone '/' acts as ','), or the closing bracket */
    bool array = st == ST_ARRAY_VALUE_END;
    r = lx_next(lx);
    if (is_whitespace(r))
      return lx_skip(lx, st);
    if (comment_start(lx, &r, st, ',', &s))
      return s;
    if (r == ',' || is_nl(r) || (!array && r == ';'))
      return lx_skip(lx, array ? ST_ARRAY_VALUE : ST_MAP_KEY_START);
    if (r == (array ? ']' : '}'))
      return lx_skip(lx, array ? ST_ARRAY_END : ST_MAP_END);
    return lx_error_rune(lx,
                         array ? "Expected an array value terminator \",\" or an array terminator \"]\", "
                                 "but got '"
                               : "Expected a map value terminator \",\" or a map terminator \"}\", "
                                 "but got '",
                         r, "' instead.");
  }

  case ST_ARRAY_END:
  case ST_MAP_END:
    lx_ignore(lx);
    lx_emit(lx, st == ST_ARRAY_END ? CONF_TOK_ARRAY_END : CONF_TOK_MAP_END);
    return lx_pop(lx);

  case ST_MAP_KEY_START:
    r = lx_peek(lx);
    if (is_key_sep(r))
      return lx_error_rune(lx, "Unexpected key separator '", r, "'.");
    if (r == ']')
      return lx_error_rune(lx, "Unexpected array end '", r, "' processing map.");
    if (is_space(r))
      return lx_drop_next(lx, ST_MAP_KEY_START);
    if (r == '}')
      return lx_drop_next(lx, ST_MAP_END);
    if (r == '#' || r == '/') {
      lx_next(lx);
      if (comment_start(lx, &r, ST_MAP_KEY_START, '/', &s))
        return s;
      /* otherwise the '/' is dropped and the key starts after it */
    } else if (r == '\'') {
      return lx_drop_next(lx, ST_MAP_QUOTED_KEY);
    } else if (r == '"') {
      return lx_drop_next(lx, ST_MAP_DUB_QUOTED_KEY);
    } else if (r == LX_EOF) {
      return lx_error(lx, "Unexpected EOF processing map.");
    }
    lx_ignore(lx);
    lx_next(lx);
    return ST_MAP_KEY;

  case ST_MAP_QUOTED_KEY:
  case ST_MAP_DUB_QUOTED_KEY:
    r = lx_peek(lx);
    if (r == LX_EOF)
      return lx_error(lx, st == ST_MAP_QUOTED_KEY
                              ? "Unexpected EOF processing quoted map key."
                              : "Unexpected EOF processing double quoted map key.");
    if (r == (st == ST_MAP_QUOTED_KEY ? '\'' : '"')) {
      lx_emit(lx, CONF_TOK_KEY);
      return lx_drop_next(lx, ST_MAP_KEY_END);
    }
    lx_next(lx);
    return st;

  case ST_MAP_KEY:
    r = lx_peek(lx);
    if (r == LX_EOF)
      return lx_error(lx, "Unexpected EOF processing map key.");
    if (is_space(r))
      return key_check_keyword(lx, ST_MAP_KEY_END, ST_MAP_VALUE_END);
    if (is_key_sep(r)) {
      lx_emit(lx, CONF_TOK_KEY);
      return ST_MAP_KEY_END;
    }
    lx_next(lx);
    return ST_MAP_KEY;

  case ST_MAP_VALUE:
    r = lx_next(lx);
    if (is_space(r))
      return lx_skip(lx, ST_MAP_VALUE);
    if (r == ',')
      return lx_error(lx, "Unexpected map value terminator \",\".");
    if (r == '}')
      return lx_skip(lx, ST_MAP_END);
    lx_backup(lx);
    lx_push(lx, ST_MAP_VALUE_END);
    return ST_VALUE;

  case ST_QUOTED_STRING:
    r = lx_next(lx);
    if (r == '\'')
      return emit_closed(lx, CONF_TOK_STRING, false);
    if (r == LX_EOF)
      return eof_in_quotes(lx);
    return ST_QUOTED_STRING;

  case ST_DUB_QUOTED_STRING:
    r = lx_next(lx);
    if (r == '\\') {
      add_current_part(lx, 1);
      return ST_STRING_ESCAPE;
    }
    if (r == '"')
      return emit_closed(lx, CONF_TOK_STRING, true);
    if (r == LX_EOF)
      return eof_in_quotes(lx);
    return ST_DUB_QUOTED_STRING;

  case ST_STRING:
    r = lx_next(lx);
    if (r == '\\') {
      add_current_part(lx, 1);
      return ST_STRING_ESCAPE;
    }
    if (is_nl(r) || r == LX_EOF || r == ';' || r == ',' || r == ']' || r == '}' ||
        is_whitespace(r)) {
      lx_backup(lx);
      if (lx->nparts > 0)
        lx_emit_string(lx);
      else if (span_is_bool(lx))
        lx_emit(lx, CONF_TOK_BOOL);
      else if (span_is_variable(lx))
        lx_emit(lx, CONF_TOK_VARIABLE);
      else
        lx_emit_string(lx);
      return lx_pop(lx);
    }
    if (r == '\'')
      return emit_closed(lx, CONF_TOK_STRING, true);
    return ST_STRING;

  case ST_BLOCK:
    /* A block ends at a ')' alone on its line; the value keeps the final
     * newline (and, at end of input, the ')' too — as nats-server does). */
    r = lx_next(lx);
    if (r == ')') {
      lx_backup(lx);
      lx_backup(lx);
      if (lx_next(lx) != '\n') {
        lx_next(lx);
        return ST_BLOCK;
      }
      lx_next(lx);
      r = lx_next(lx);
      if (r == '\n' || r == LX_EOF) {
        lx_backup(lx);
        return emit_closed(lx, CONF_TOK_STRING, false);
      }
      lx_backup(lx);
      return ST_BLOCK;
    }
    if (r == LX_EOF)
      return lx_error(lx, "Unexpected EOF processing block.");
    return ST_BLOCK;

  case ST_STRING_ESCAPE:
    r = lx_next(lx);
    switch (r) {
    case 'x':
      return ST_STRING_BINARY;
    case 't':
      return add_part(lx, "\t", 1);
    case 'n':
      return add_part(lx, "\n", 1);
    case 'r':
      return add_part(lx, "\r", 1);
    case '"':
      return add_part(lx, "\"", 1);
    case '\\':
      return add_part(lx, "\\", 1);
    default:
      return lx_error_rune(lx, "Invalid escape character '", r,
                           "'. Only the following escape characters are allowed: "
                           "\\xXX, \\t, \\n, \\r, \\\", \\\\.");
    }

  case ST_STRING_BINARY: {
    r = lx_next(lx);
    if (is_nl(r))
      return lx_error(lx, "Expected two hexadecimal digits after '\\x', but hit end of line");
    r = lx_next(lx);
    if (is_nl(r))
      return lx_error(lx, "Expected two hexadecimal digits after '\\x', but hit end of line");
    /* The last two bytes read, whatever runes they belonged to. */
    int64_t off = lx->pos - 2;
    const char *h = lx->input + off;
    int hi = hexval(h[0]), lo = hexval(h[1]);
    if (hi < 0 || lo < 0) {
      GString *m = g_string_new("Expected two hexadecimal digits after '\\x', but got '");
      g_string_append_len(m, h, 2);
      g_string_append(m, "'");
      return lx_error_str(lx, g_string_free(m, FALSE));
    }
    char b = (char)(hi << 4 | lo);
    return add_part(lx, &b, 1);
  }

  case ST_NUMBER_START:
  case ST_NEG_NUMBER_START:
    r = lx_next(lx);
    if (!is_digit(r)) {
      if (r == '.')
        return lx_error(lx, "Floats must start with a digit, not '.'.");
      return lx_error_rune(lx, "Expected a digit but got '", r, "'.");
    }
    return st == ST_NUMBER_START ? ST_NUMBER : ST_NEG_NUMBER;

  case ST_NUMBER:
    r = lx_next(lx);
    if (r == '-') {
      if (lx->pos - lx->start != 5)
        return lx_error(lx, "All ISO8601 dates must be in full Zulu form.");
      return ST_DATE_AFTER_YEAR;
    }
    if (is_digit(r))
      return ST_NUMBER;
    if (r == '.')
      return ST_FLOAT_START;
    if (is_number_suffix(r))
      return ST_CONVENIENT_NUMBER;
    if (!ends_number(r)) {
      lx->string_state = ST_STRING;
      return ST_STRING;
    }
    return emit_before(lx, CONF_TOK_INTEGER);

  case ST_CONVENIENT_NUMBER:
    r = lx_next(lx);
    if (r == 'b' || r == 'B' || r == 'i' || r == 'I')
      return ST_CONVENIENT_NUMBER;
    lx_backup(lx);
    if (ends_number(r)) {
      lx_emit(lx, CONF_TOK_INTEGER);
      return lx_pop(lx);
    }
    lx->string_state = ST_STRING;
    return ST_STRING;

  case ST_DATE_AFTER_YEAR: {
    static const char fmt[] = "00-00T00:00:00Z";
    for (const char *f = fmt; *f; f++) {
      r = lx_next(lx);
      if (*f == '0') {
        if (!is_digit(r))
          return lx_error_rune(lx, "Expected digit in ISO8601 datetime, but found '", r,
                               "' instead.");
      } else if (r != *f) {
        GString *m = g_string_new("Expected '");
        g_string_append_c(m, *f);
        g_string_append(m, "' in ISO8601 datetime, but found '");
        append_rune(m, r);
        g_string_append(m, "' instead.");
        return lx_error_str(lx, g_string_free(m, FALSE));
      }
    }
    lx_emit(lx, CONF_TOK_DATETIME);
    return lx_pop(lx);
  }

  case ST_NEG_NUMBER:
    r = lx_next(lx);
    if (is_digit(r))
      return ST_NEG_NUMBER;
    if (r == '.')
      return ST_FLOAT_START;
    if (is_number_suffix(r))
      return ST_CONVENIENT_NUMBER;
    return emit_before(lx, CONF_TOK_INTEGER);

  case ST_FLOAT_START:
    r = lx_next(lx);
    if (!is_digit(r))
      return lx_error_rune(lx, "Floats must have a digit after the '.', but got '", r,
                           "' instead.");
    return ST_FLOAT;

  case ST_FLOAT:
    r = lx_next(lx);
    if (is_digit(r))
      return ST_FLOAT;
    if (r == '.')
      return ST_IP_ADDR; /* "1.2.3..." was an address after all */
    return emit_before(lx, CONF_TOK_FLOAT);

  case ST_IP_ADDR:
    r = lx_next(lx);
    if (is_digit(r) || r == '.' || r == ':' || r == '-')
      return ST_IP_ADDR;
    return emit_before(lx, CONF_TOK_STRING);

  case ST_COMMENT_START:
    lx_ignore(lx);
    lx_emit(lx, CONF_TOK_COMMENT_START);
    return ST_COMMENT;

  case ST_COMMENT:
    r = lx_peek(lx);
    if (is_nl(r) || r == LX_EOF) {
      lx_emit(lx, CONF_TOK_TEXT);
      return lx_pop(lx);
    }
    lx_next(lx);
    return ST_COMMENT;
  }
  return ST_DONE;
}

/* ---- public ---- */

int32_t conf_utf8_decode(const char *s, size_t n, size_t *width) {
  int64_t w = 0;
  int32_t r = n ? utf8_decode((const unsigned char *)s, (int64_t)n, &w) : 0;
  *width = (size_t)w;
  return r;
}

bool conf_is_digit(int32_t r) { return is_digit(r); }

ConfLex *conf_lex_new(const char *data, size_t len) {
  ConfLex *lx = g_new0(ConfLex, 1);
  lx->input = data ? data : "";
  lx->len = data ? (int64_t)len : 0;
  lx->line = 1;
  lx->state = ST_TOP;
  lx->parts = g_string_new(NULL);
  return lx;
}

void conf_lex_free(ConfLex *lx) {
  if (!lx)
    return;
  while (lx->qlen) {
    g_free(lx->queue[lx->qhead].val);
    lx->qhead = (lx->qhead + 1) % QUEUE_CAP;
    lx->qlen--;
  }
  g_free(lx->stack);
  g_string_free(lx->parts, TRUE);
  g_free(lx);
}

ConfToken conf_lex_next(ConfLex *lx) {
  while (lx->qlen == 0) {
    if (lx->finished || lx->state == ST_DONE) {
      ConfToken eof = {CONF_TOK_EOF, g_strdup(""), 0, lx->line, 0};
      lx->finished = true;
      return eof;
    }
    if (lx->stack_len > CONF_LEX_MAX_STACK) {
      /* Unreachable through conf_parse (its depth limit stops first); kept
       * so a direct user of the lexer cannot grow the stack without bound. */
      lx->state = lx_error(lx, "Maximum nesting depth exceeded.");
      continue;
    }
    lx->state = step(lx, lx->state);
  }
  ConfToken t = lx->queue[lx->qhead];
  lx->qhead = (lx->qhead + 1) % QUEUE_CAP;
  lx->qlen--;
  if (t.type == CONF_TOK_ERROR || t.type == CONF_TOK_EOF) {
    lx->finished = true;
    lx->state = ST_DONE;
  }
  return t;
}

void conf_token_clear(ConfToken *t) {
  if (!t)
    return;
  g_clear_pointer(&t->val, g_free);
  t->val_len = 0;
}

const char *conf_tok_type_name(ConfTokType t) {
  static const char *const names[] = {
      "Error",    "NIL",      "EOF",        "Key",      "Text",         "String",
      "Bool",     "Integer",  "Float",      "DateTime", "ArrayStart",   "ArrayEnd",
      "MapStart", "MapEnd",   "CommentStart", "Variable", "Include",
  };
  return (unsigned)t < G_N_ELEMENTS(names) ? names[t] : "?";
}
