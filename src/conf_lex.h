/* conf_lex.h — tokenizer for the NATS configuration format (see conf_lex.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Token kinds, in nats-server's order (item types of conf/lex.go). */
typedef enum {
  CONF_TOK_ERROR,
  CONF_TOK_NIL,
  CONF_TOK_EOF,
  CONF_TOK_KEY,
  CONF_TOK_TEXT,
  CONF_TOK_STRING,
  CONF_TOK_BOOL,
  CONF_TOK_INTEGER,
  CONF_TOK_FLOAT,
  CONF_TOK_DATETIME,
  CONF_TOK_ARRAY_START,
  CONF_TOK_ARRAY_END,
  CONF_TOK_MAP_START,
  CONF_TOK_MAP_END,
  CONF_TOK_COMMENT_START,
  CONF_TOK_VARIABLE,
  CONF_TOK_INCLUDE,
} ConfTokType;

typedef struct {
  ConfTokType type;
  char *val;      /* owned by the caller of conf_lex_next: g_free; NUL-terminated, may hold NULs */
  size_t val_len; /* bytes in val, excluding the terminator */
  int line;       /* 1-based line, counted like nats-server */
  int64_t pos;    /* nats-server's "position" (column) for this token */
} ConfToken;

typedef struct ConfLex ConfLex;

/* Lexer state limit: states pushed for nesting (2 per level) plus headroom. */
#define CONF_LEX_MAX_STACK 4096

ConfLex *conf_lex_new(const char *data, size_t len); /* data borrowed: must outlive the lexer */
void conf_lex_free(ConfLex *lx);
/* Next token. After CONF_TOK_ERROR or CONF_TOK_EOF every further call returns CONF_TOK_EOF. */
ConfToken conf_lex_next(ConfLex *lx);
void conf_token_clear(ConfToken *t);
const char *conf_tok_type_name(ConfTokType t);

/* Go's rune rules, shared with conf_parse.c: strict UTF-8 decoding (invalid
 * input → U+FFFD, width 1) and unicode.IsDigit (Unicode 13 Nd). */
int32_t conf_utf8_decode(const char *s, size_t n, size_t *width);
bool conf_is_digit(int32_t r);
